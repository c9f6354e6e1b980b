"""What the images carry: no privilege-escalating files, their base named, no build machine's trust."""

import json
import os
import re

import pytest
from containers import FLAVORS, IMAGE, ROOT, VERSIONS, docker

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


# One name each patched server's patches replace, and the line the image build then stops with.
MOVED = {
    "daphne": ("from twisted.web.http import HTTPChannel as owner", "_maybeChooseTransferDecoder", "twisted"),
    "granian": ("import granian._signals as owner", "set_loop_signals", "granian"),
    "hypercorn": ("import h11._events as owner", "normalize_and_validate", "h11"),
    "uvicorn": ("from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as owner", "shutdown", "uvicorn"),
}


@pytest.mark.parametrize("flavor", sorted(MOVED))
def test_a_patch_whose_target_moved_stops_the_build(image, flavor):
    # What the image build runs after installing the server (python -m django_asgi.patching SERVER),
    # with one patched name gone, as an upgrade that renamed it would leave it.
    setup, name, distribution = MOVED[flavor]
    script = (
        f"{setup}\ndel owner.{name}\nimport sys\nfrom django_asgi.patching import main\nsys.exit(main([{flavor!r}]))"
    )
    result = docker("run", "--rm", "--entrypoint", "python", image, "-c", script, check=False)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"django-asgi: cannot patch {distribution} ") and f".{name} is gone (patch for: " in line
    # Untouched, the same check passes.
    assert docker("run", "--rm", "--entrypoint", "python", image, "-m", "django_asgi.patching", flavor).returncode == 0


def test_patched_distributions_are_pinned_to_the_tested_range(image, flavor):
    # A lock refresh may not bring a release the patches were never tested on: every distribution
    # whose internals a patch touches has a lower and an upper bound in the flavor's requirements.
    result = docker("run", "--rm", "--entrypoint", "python", image, "-m", "django_asgi.patching", flavor,
                    "--distributions")  # fmt: skip
    patched = result.stdout.split()
    assert patched or flavor not in MOVED, result
    requirements = (ROOT / "images" / "requirements" / f"{flavor}.in").read_text()
    for distribution in patched:
        pin = re.search(rf"^{re.escape(distribution)}(\[[^\]]*\])?(?P<range>\S*)$", requirements, re.MULTILINE)
        assert pin and ">=" in pin["range"] and "<" in pin["range"].replace("<=", ""), (distribution, requirements)
