"""What tests/publish pushed, read back from the registry as users get it.

Not part of tests/run (its name is not test_*): tests/publish runs it after images/publish, with
PUBLISHED_METADATA (what push wrote), IMAGE (the repository), COSIGN_PUBLIC_KEY (the key that
signed) and OTHER_PUBLIC_KEY (one that did not).
"""

import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.support.builds import build_on
from tests.support.containers import FLAVORS, IMAGE, ROOT, docker

METADATA = json.loads(Path(os.environ["PUBLISHED_METADATA"]).read_text())["django-asgi"]
REGISTRY, _, REPOSITORY = IMAGE.partition("/")
INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join([INDEX, "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.oci.image.manifest.v1+json"])  # fmt: skip


def registry(path: str, accept: str = ACCEPT) -> tuple[dict, bytes]:
    request = urllib.request.Request(f"http://{REGISTRY}/v2/{path}", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(response.headers), response.read()


def manifest(reference: str) -> tuple[str, dict]:
    headers, body = registry(f"{REPOSITORY}/manifests/{reference}")
    return headers["Docker-Content-Digest"], json.loads(body)


def bake_value(name: str) -> str:
    """A value of the generated versions block of docker-bake.hcl."""
    for line in (ROOT / "docker-bake.hcl").read_text().splitlines():
        if line.startswith(f'variable "{name}"'):
            return line.split("default = ", 1)[1].rstrip(" }")
    raise KeyError(name)


def test_every_tag_of_the_scheme_points_at_its_digest():
    # The README's tag scheme ("Tags"), spelled out for the default Python, against the registry.
    versions = dict(re.findall(r'(\w+) = "([^"]+)"', bake_value("SERVER_VERSIONS")))
    python, date, release = json.loads(bake_value("DEFAULT_PYTHON")), os.environ["DATE"], os.environ["VERSION"]
    expected = {"latest", "build", f"build-py{python}", f"build-py{python}-{date}", f"build-{release}-py{python}"}
    for flavor in FLAVORS:
        version = versions[flavor]
        dated = f"{flavor}-{version}-py{python}-{date}"
        expected |= {flavor, f"{flavor}-py{python}", f"{flavor}-{version}-py{python}", dated}
        expected |= {f"{flavor}-{release}-py{python}", f"{flavor}-{release}"}
    listed = set(json.loads(registry(f"{REPOSITORY}/tags/list", "application/json")[1])["tags"])
    assert expected <= listed, expected - listed
    pushed = {tag.rpartition(":")[2]: image["digest"] for image in METADATA.values() for tag in image["tags"]}
    # And the candidate tag each image was pushed under before the gates, on the same digest.
    candidates = {tag.rpartition(":")[2]: image["digest"] for image in METADATA.values() for tag in image["candidates"]}
    # Nothing else a user would pull: besides these, only cosign's signature tags and the candidates of
    # earlier runs (a registry kept between runs).
    others = {tag for tag in listed - set(pushed) - set(candidates) if not tag.startswith("candidate-")}
    assert {tag for tag in others if not tag.endswith(".sig")} == set()
    assert {f"{image['digest'].replace(':', '-')}.sig" for image in METADATA.values()} <= others
    pushed |= candidates
    for tag, digest in pushed.items():
        assert manifest(tag)[0] == digest, tag
    assert manifest("latest")[0] == manifest("granian")[0]


@pytest.mark.parametrize("target", sorted(METADATA))
def test_each_index_has_both_platforms_with_provenance(target):
    _, index = manifest(METADATA[target]["digest"])
    assert index["mediaType"] == INDEX
    platforms, attestations = {}, {}
    for entry in index["manifests"]:
        platform = f"{entry['platform']['os']}/{entry['platform']['architecture']}"
        annotations = entry.get("annotations", {})
        if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
            attestations[annotations["vnd.docker.reference.digest"]] = entry["digest"]
        else:
            platforms[platform] = entry["digest"]
    assert sorted(platforms) == ["linux/amd64", "linux/arm64"], index
    for platform, image_digest in platforms.items():
        _, attestation = manifest(attestations[image_digest])
        predicates = {layer["annotations"]["in-toto.io/predicate-type"] for layer in attestation["layers"]}
        assert any("slsa.dev/provenance" in predicate for predicate in predicates), (platform, predicates)


def cosign_verify(reference: str, key: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["cosign", "verify", "--key", key, "--insecure-ignore-tlog=true", "--allow-insecure-registry", reference],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("target", sorted(METADATA))
def test_each_digest_is_signed_with_the_release_key_only(target):
    reference = f"{IMAGE}@{METADATA[target]['digest']}"
    assert cosign_verify(reference, os.environ["COSIGN_PUBLIC_KEY"]).returncode == 0
    refused = cosign_verify(reference, os.environ["OTHER_PUBLIC_KEY"])
    assert refused.returncode != 0 and "signature" in refused.stderr.lower(), refused.stderr


def test_a_users_project_builds_from_the_registry_and_serves(run_container):
    # The mission's usage: FROM the published tag, on the machine's own engine, nothing local.
    for line in docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").stdout.splitlines():
        name, image_id = line.split()
        if name.startswith(("django-asgi-candidate:", f"{IMAGE}:", "django-asgi-build-ca:")):
            docker("rmi", "-f", image_id if name.endswith(":<none>") else name)
    image = build_on("granian", ROOT / "examples" / "hello_django", "django-asgi-user")
    container = run_container(image).wait_ready(timeout=60)
    assert container.get("/") == (200, "Hello from Django\n")
