"""Each flavor with the oldest versions its folder supports (SUPPORTED), as a project pinning them
gets it: `pip install` of those versions in an image FROM the flavor. tests/run runs the core of the
container suite (marker `core`) on them with IMAGE=django-asgi-oldest; the flavors themselves carry
the newest.

    python -m tests.support.oldest      build django-asgi-oldest:<flavor> for every flavor
"""

import os
import sys
import tempfile
from pathlib import Path

from django_asgi import servers
from tests.support.build_ca import to_build_from
from tests.support.containers import docker

FAMILY = "django-asgi"
OLDEST = "django-asgi-oldest"


def pins(flavor: str) -> list[str]:
    return [f"{distribution}=={oldest}" for distribution, (oldest, _) in servers.load(flavor).SUPPORTED.items()]


def build(flavor: str) -> str:
    tag = f"{OLDEST}:{flavor}"
    with tempfile.TemporaryDirectory(prefix="django-asgi-oldest-") as scratch:
        (Path(scratch) / "Dockerfile").write_text(
            f"FROM {to_build_from(f'{FAMILY}:{flavor}')}\nRUN pip install {' '.join(pins(flavor))}\n"
        )
        docker("build", "-q", "-t", tag, scratch, timeout=900, env={**os.environ, "DOCKER_BUILDKIT": "1"})
    return tag


def main() -> int:
    for flavor in servers.names():
        print(f"{build(flavor)}: {' '.join(pins(flavor))}", flush=True)
    # Projects that compile build with the family's builder, whatever the flavor.
    docker("tag", f"{FAMILY}:build", f"{OLDEST}:build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
