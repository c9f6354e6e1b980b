"""The bake file: what `docker buildx bake` and `docker buildx bake release` would build."""

import json

from conftest import FLAVORS, ROOT, docker


def bake_print(*args: str, env: dict | None = None) -> dict:
    import os

    result = docker("buildx", "bake", "--print", *args, cwd=ROOT, env={**os.environ, **(env or {})})
    return json.loads(result.stdout)


def test_default_group_builds_every_flavor_locally():
    plan = bake_print(env={"BASE_IMAGE": "", "VERSION": "1.2.3"})
    assert sorted(plan["group"]["default"]["targets"]) == sorted(FLAVORS)
    for flavor in FLAVORS:
        target = plan["target"][flavor]
        assert target["output"] == ["type=docker"]
        assert target["args"]["SERVER"] == flavor
        assert target["args"]["BASE_IMAGE"] == "python:3.13-slim-trixie"
        assert f"django-asgi:{flavor}" in target["tags"]
        assert f"django-asgi:{flavor}-py3.13" in target["tags"]
        assert f"django-asgi:{flavor}-1.2.3" in target["tags"]


def test_release_group_is_multi_arch_with_attestations():
    env = {"IMAGE": "ghcr.io/example/django-asgi", "PYTHON_VERSION": "3.12", "BASE_IMAGE": ""}
    plan = bake_print("release", env=env)
    assert sorted(plan["group"]["release"]["targets"]) == sorted(f"release-{f}" for f in FLAVORS)
    for flavor in FLAVORS:
        target = plan["target"][f"release-{flavor}"]
        assert target["platforms"] == ["linux/amd64", "linux/arm64"]
        assert {a.split(",")[0] for a in target["attest"]} == {"type=sbom", "type=provenance"}
        assert target["args"]["BASE_IMAGE"] == "python:3.12-slim-trixie"
        assert f"ghcr.io/example/django-asgi:{flavor}-py3.12" in target["tags"]

