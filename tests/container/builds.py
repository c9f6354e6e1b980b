"""Projects built FROM the images, as a user's Dockerfile would (once per run)."""

import os
import shutil
import tempfile
from pathlib import Path

from containers import IMAGE, docker

_built: dict[tuple[str, str], str] = {}
# Set by images/provision.sh where pip trusts an extra CA bundle (this machine's proxy).
BUILD_CA = os.environ.get("BUILD_CA", "")
_with_ca: dict[str, str] = {}


def to_build_from(image: str) -> str:
    """The image a project's Dockerfile builds FROM here. Where pip needs this machine's CA
    (BUILD_CA), a layer for the tests adds it: the images themselves never trust it."""
    if not BUILD_CA:
        return image
    if image not in _with_ca:
        context = Path(tempfile.mkdtemp(prefix="django-asgi-build-ca-"))
        shutil.copyfile(BUILD_CA, context / "build-ca.crt")
        (context / "Dockerfile").write_text(
            f"FROM {image}\nCOPY build-ca.crt /usr/local/share/build-ca.crt\n"
            "ENV PIP_CERT=/usr/local/share/build-ca.crt\n"
        )
        tag = f"django-asgi-build-ca:{image.rsplit(':', 1)[-1]}"
        docker("build", "-q", "-t", tag, str(context), timeout=300)
        shutil.rmtree(context)
        _with_ca[image] = tag
    return _with_ca[image]


def build_on(flavor: str, context: Path, name: str) -> str:
    """The project in `context` built FROM the flavor, as a user would (once per run)."""
    if (name, flavor) not in _built:
        tag = f"{name}:{flavor}"
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
        _built[name, flavor] = tag
    return _built[name, flavor]
