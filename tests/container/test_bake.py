"""The bake file: what `docker buildx bake` and `docker buildx bake release` would build."""

import json

from tests.support.containers import FLAVORS, ROOT, VERSIONS, docker

DEFAULT_PYTHON = VERSIONS["default_python"]


def bake_print(*args: str, env: dict | None = None) -> dict:
    import os

    result = docker("buildx", "bake", "--print", *args, cwd=ROOT, env={**os.environ, **(env or {})})
    return json.loads(result.stdout)


def test_default_group_builds_every_flavor_locally():
    plan = bake_print(env={"BASE_IMAGE": "", "VERSION": "1.2.3", "PYTHON_VERSION": ""})
    assert sorted(plan["group"]["default"]["targets"]) == sorted([*FLAVORS, "build"])
    builder = plan["target"]["build"]
    assert builder["target"] == "build" and builder["output"] == ["type=docker"]
    py = f"py{DEFAULT_PYTHON}"
    assert set(builder["tags"]) == {"django-asgi:build", f"django-asgi:build-{py}", f"django-asgi:build-1.2.3-{py}"}
    for flavor in FLAVORS:
        target = plan["target"][flavor]
        assert target["output"] == ["type=docker"]
        assert target["args"]["SERVER"] == flavor
        assert target["args"]["BASE_IMAGE"] == f"python:{DEFAULT_PYTHON}-slim-trixie"
        assert {
            f"django-asgi:{flavor}",
            f"django-asgi:{flavor}-{py}",
            f"django-asgi:{flavor}-1.2.3",
            f"django-asgi:{flavor}-1.2.3-{py}",
        } <= set(target["tags"])
    assert "django-asgi:latest" in plan["target"][VERSIONS["latest"]]["tags"]


def test_release_group_is_every_flavor_on_every_python_multi_arch_with_attestations():
    env = {
        "IMAGE": "ghcr.io/example/django-asgi,docker.io/example/django-asgi",
        "BASE_IMAGE": "",
        "DATE": "20261129",
        "VERSION": "",
    }
    plan = bake_print("release", env=env)
    versions = VERSIONS
    expected = {f"release-{f}-py{p.replace('.', '')}": (f, p) for f in FLAVORS for p in versions["python"]}
    builders = {f"release-build-py{p.replace('.', '')}": p for p in versions["python"]}
    assert sorted(plan["group"]["release"]["targets"]) == sorted([*expected, *builders])
    for name, python in builders.items():
        target = plan["target"][name]
        assert target["target"] == "build" and target["platforms"] == ["linux/amd64", "linux/arm64"]
        assert target["args"]["BASE_IMAGE"] == f"python:{python}-slim-trixie"
        short = {"build"} if python == versions["default_python"] else set()
        for repository in ("ghcr.io/example/django-asgi", "docker.io/example/django-asgi"):
            tags = {tag.removeprefix(f"{repository}:") for tag in target["tags"] if tag.startswith(repository + ":")}
            assert tags == short | {f"build-py{python}", f"build-py{python}-20261129"}
    for name, (flavor, python) in expected.items():
        target = plan["target"][name]
        assert target["platforms"] == ["linux/amd64", "linux/arm64"]
        assert {a.split(",")[0] for a in target["attest"]} == {"type=sbom", "type=provenance"}
        assert target["args"]["BASE_IMAGE"] == f"python:{python}-slim-trixie"
        server_version = target["args"]["SERVER_VERSION"]
        for repository in ("ghcr.io/example/django-asgi", "docker.io/example/django-asgi"):
            tags = {tag.removeprefix(f"{repository}:") for tag in target["tags"] if tag.startswith(repository + ":")}
            short = {flavor} if python == versions["default_python"] else set()
            latest = {"latest"} if short and flavor == versions["latest"] else set()
            assert tags == short | latest | {
                f"{flavor}-py{python}",
                f"{flavor}-{server_version}-py{python}",
                f"{flavor}-{server_version}-py{python}-20261129",
            }
