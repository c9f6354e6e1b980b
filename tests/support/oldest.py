"""Each flavor with the oldest versions its folder supports (SUPPORTED), as a project pinning them
gets it: `pip install` of those versions in an image FROM the flavor. tests/run runs the core of the
container suite (marker `core`) on them with IMAGE=django-asgi-oldest; the flavors themselves carry
the newest.

    python -m tests.support.oldest      build django-asgi-oldest:<flavor> for every flavor
"""

import sys

from django_asgi import servers
from tests.support.builds import build_steps
from tests.support.containers import docker

FAMILY = "django-asgi"
OLDEST = "django-asgi-oldest"


def pins(flavor: str) -> list[str]:
    return [f"{distribution}=={oldest}" for distribution, (oldest, _) in servers.load(flavor).SUPPORTED.items()]


def build(flavor: str) -> str:
    tag = f"{OLDEST}:{flavor}"
    build_steps(f"{FAMILY}:{flavor}", f"RUN pip install {' '.join(pins(flavor))}\n", tag)
    return tag


def main() -> int:
    for flavor in servers.names():
        print(f"{build(flavor)}: {' '.join(pins(flavor))}", flush=True)
    # Projects that compile build with the family's builder, whatever the flavor.
    docker("tag", f"{FAMILY}:build", f"{OLDEST}:build")
    return 0


if __name__ == "__main__":
    sys.exit(main())
