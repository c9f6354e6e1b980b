"""The image a project's Dockerfile builds FROM where pip needs an extra CA bundle (the container
tests and bench/run both build projects that run pip; stdlib only, for the bench's environment)."""

import os
import subprocess
import tempfile
from pathlib import Path

_with_ca: dict[str, str] = {}


def to_build_from(image: str) -> str:
    """The image, or where pip needs this machine's CA (BUILD_CA, set by images/provision.sh) the image
    with a layer that trusts it for the build: the images themselves never trust it."""
    ca = os.environ.get("BUILD_CA", "")
    if not ca:
        return image
    if image not in _with_ca:
        tag = f"django-asgi-build-ca:{image.rsplit(':', 1)[-1]}"
        with tempfile.TemporaryDirectory(prefix="django-asgi-build-ca-") as scratch:
            context = Path(scratch)
            (context / "build-ca.crt").write_bytes(Path(ca).read_bytes())
            (context / "Dockerfile").write_text(
                f"FROM {image}\nCOPY build-ca.crt /usr/local/share/build-ca.crt\n"
                # pip reads PIP_CERT, uv (a project's recipe may use it) SSL_CERT_FILE.
                "ENV PIP_CERT=/usr/local/share/build-ca.crt SSL_CERT_FILE=/usr/local/share/build-ca.crt\n"
            )
            subprocess.run(["docker", "build", "-q", "-t", tag, scratch], check=True, capture_output=True, timeout=300)
        _with_ca[image] = tag
    return _with_ca[image]
