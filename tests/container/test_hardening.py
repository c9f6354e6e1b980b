"""What the images carry: no privilege-escalating files, their base named, no build machine's trust."""

import json
import os

import pytest

from django_asgi import servers
from tests.support.containers import FLAVORS, IMAGE, ROOT, SERVER_DATA, VERSIONS, docker

IMAGES = [*FLAVORS, "build"]
DEFAULT_PYTHON = VERSIONS["default_python"]


def run_as_root(image: str, script: str) -> str:
    return docker("run", "--rm", "--entrypoint", "sh", image, "-c", script).stdout


@pytest.mark.parametrize("name", IMAGES)
def test_no_setuid_or_setgid_files(name):
    assert run_as_root(f"{IMAGE}:{name}", "find / -xdev -perm /6000 -type f") == ""


@pytest.mark.parametrize("name", IMAGES)
def test_base_image_is_named(name):
    labels = json.loads(docker("image", "inspect", "-f", "{{json .Config.Labels}}", f"{IMAGE}:{name}").stdout)
    expected = os.environ.get("BASE_IMAGE") or f"python:{DEFAULT_PYTHON}-slim-trixie"
    assert labels["org.opencontainers.image.base.name"] == expected


@pytest.mark.parametrize("name", IMAGES)
def test_only_debians_certificate_authorities_are_trusted(name):
    image = f"{IMAGE}:{name}"
    env = json.loads(docker("image", "inspect", "-f", "{{json .Config.Env}}", image).stdout)
    assert not [item for item in env if item.startswith(("SSL_CERT_FILE=", "PIP_CERT=", "REQUESTS_CA_BUNDLE="))]
    # The trusted bundle is exactly what Debian's ca-certificates makes of its own certificates.
    script = (
        "ls -A /usr/local/share/ca-certificates; cp /etc/ssl/certs/ca-certificates.crt /tmp/shipped"
        " && update-ca-certificates --fresh >/dev/null 2>&1"
        " && cmp /tmp/shipped /etc/ssl/certs/ca-certificates.crt && echo same"
    )
    assert run_as_root(image, script) == "same\n"


def test_stand_in_base_has_debians_security_updates():
    base = os.environ.get("BASE_IMAGE", "")
    if not base.startswith("django-asgi-offline-base"):
        pytest.skip("the images were built on the official base, which brings its own updates")
    sources = docker("run", "--rm", "--entrypoint", "cat", base, "/etc/apt/sources.list").stdout
    assert [line.split()[2:] for line in sources.splitlines()] == [["trixie", "main"], ["trixie-security", "main"]]


# The image build's check of the patches (images/check_patches.py), run in an image as the build runs it.
CHECK = ["-v", f"{ROOT / 'images' / 'check_patches.py'}:/tmp/check_patches.py:ro", "--entrypoint", "python"]
RUN_CHECK = (
    "import runpy, sys\nsys.argv = ['check_patches.py', {flavor!r}]\n"
    "runpy.run_path('/tmp/check_patches.py', run_name='__main__')"
)
# What each server's testing.toml names for the patch guard: a name a patch replaces, a function one copies.
GUARDED = sorted(flavor for flavor in FLAVORS if "patch_guard" in SERVER_DATA[flavor])

# The first line of a function's body gets one more statement, as an upstream fix would add one.
EDIT = """
import importlib, inspect
owner = importlib.import_module({module!r})
for part in {function!r}.split("."):
    owner = getattr(owner, part)
code = owner.__code__
first = min(line for _, _, line in code.co_lines() if line is not None and line > code.co_firstlineno)
with open(code.co_filename) as f:
    lines = f.read().splitlines(keepends=True)
body = lines[first - 1]
lines.insert(first - 1, body[: len(body) - len(body.lstrip())] + "assert True\\n")
with open(code.co_filename, "w") as f:
    f.write("".join(lines))
"""


@pytest.mark.parametrize("flavor", GUARDED)
def test_a_patch_whose_target_moved_stops_the_build(image, flavor):
    # What the image build runs after installing the server, with one patched name gone, as an upgrade
    # that renamed it would leave it.
    gone = SERVER_DATA[flavor]["patch_guard"]["gone"]
    script = f"{gone['setup']}\ndel owner.{gone['name']}\n{RUN_CHECK.format(flavor=flavor)}"
    result = docker("run", "--rm", *CHECK, image, "-c", script, check=False)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"django-asgi: cannot patch {gone['distribution']} ")
    assert f".{gone['name']} is gone (patch for: " in line
    # Untouched, the same check passes.
    assert docker("run", "--rm", *CHECK, image, "/tmp/check_patches.py", flavor).returncode == 0


@pytest.mark.parametrize("flavor", GUARDED)
def test_a_copied_function_changed_upstream_stops_the_build(image, flavor):
    # A patch that rewrites an upstream function whole carries the fingerprint of the source it copied:
    # a release that changed that function (here: one more line in its body) stops the build with one
    # line naming the distribution, its version and the function, instead of losing the change.
    copied = SERVER_DATA[flavor]["patch_guard"]["copied"]
    script = EDIT.format(module=copied["module"], function=copied["function"]) + RUN_CHECK.format(flavor=flavor)
    result = docker("run", "--rm", *CHECK, image, "-c", script, check=False)
    assert result.returncode == 1, result
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"django-asgi: cannot patch {copied['distribution']} "), line
    assert f"{copied['function']} changed upstream (fingerprint " in line, line


def test_patched_distributions_are_pinned_to_the_tested_range(image, flavor):
    # A lock refresh, or a project's pin, may not bring a release the patches were never tested on: every
    # distribution whose internals a patch touches has a supported range in the flavor's folder, which
    # the lock and the image's constraints follow.
    result = docker("run", "--rm", *CHECK, image, "/tmp/check_patches.py", flavor, "--distributions")
    patched = result.stdout.split()
    assert patched or flavor not in GUARDED, result
    supported = servers.load(flavor).SUPPORTED
    assert sorted(patched) == sorted(supported), (patched, supported)
    constraints = docker("run", "--rm", "--entrypoint", "cat", image, "/etc/django-asgi/constraints.txt").stdout
    assert constraints == servers.constraints(flavor)
