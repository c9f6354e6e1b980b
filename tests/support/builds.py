"""Projects built FROM the images, as a user's Dockerfile would (once per run)."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.build_ca import to_build_from
from tests.support.containers import IMAGE, docker

_built: dict[tuple[str, str], str] = {}


def build_on(flavor: str, context: Path, name: str) -> str:
    """The project in `context` built FROM the flavor, as a user would (once per run)."""
    if (name, flavor) not in _built:
        _build(flavor, context, f"{name}:{flavor}")
        _built[name, flavor] = f"{name}:{flavor}"
    return _built[name, flavor]


def _build(flavor: str, context: Path | str, tag: str) -> None:
    docker(
        "build",
        "-q",
        "--build-arg",
        f"IMAGE={to_build_from(f'{IMAGE}:{flavor}')}",
        # The builder of the family, for projects whose requirements compile.
        "--build-arg",
        f"BUILDER={to_build_from(f'{IMAGE}:build')}",
        "-t",
        tag,
        str(context),
        timeout=600,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )


def build_recipe(flavor: str, context: Path, dockerfile: str, name: str) -> str:
    """The project in `context` built by another Dockerfile: one the README writes FROM
    django-asgi:granian (each such FROM turned to the flavor's), or one FROM ${IMAGE} (once per run)."""
    if (name, flavor) not in _built:
        text = dockerfile.replace("FROM django-asgi:granian", f"FROM {to_build_from(f'{IMAGE}:{flavor}')}")
        text = text.replace("FROM django-asgi:build", f"FROM {to_build_from(f'{IMAGE}:build')}")
        with tempfile.TemporaryDirectory(prefix="django-asgi-recipe-") as scratch:
            shutil.copytree(context, scratch, dirs_exist_ok=True)
            (Path(scratch) / "Dockerfile").write_text(text)
            _build(flavor, scratch, f"{name}:{flavor}")
        _built[name, flavor] = f"{name}:{flavor}"
    return _built[name, flavor]


def build_steps(base: str, steps: str, tag: str, check: bool = True) -> subprocess.CompletedProcess:
    """Dockerfile steps FROM an image of the family (`base`, trusting the build CA where pip needs it), built
    as `tag`, the build's whole output kept (a failing step's message is what some tests look at)."""
    with tempfile.TemporaryDirectory(prefix="django-asgi-steps-") as scratch:
        (Path(scratch) / "Dockerfile").write_text(f"FROM {to_build_from(base)}\n{steps}")
        return docker(
            "build", "--progress", "plain", "-t", tag, scratch,
            check=check, timeout=900, env={**os.environ, "DOCKER_BUILDKIT": "1"},
        )  # fmt: skip
