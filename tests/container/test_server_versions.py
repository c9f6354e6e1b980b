"""A project's own pin of the server: within the flavor's supported range (its folder's SUPPORTED) it
serves (tests/run runs the core of the suite on the oldest, tests/support/oldest.py); outside it the
derived image's `pip install` or `uv pip install` fails at build naming the range, and a start with
such a version installed another way is one line and exit 2."""

import subprocess

import pytest

from django_asgi import servers
from tests.support.builds import build_steps
from tests.support.containers import IMAGE, docker

# A release of each server just outside its range, below it (as projects pin them).
TOO_OLD = {"daphne": "daphne==4.0.0", "granian": "granian==2.7.0", "hypercorn": "hypercorn==0.16.0",
           "uvicorn": "gunicorn==21.2.0"}  # fmt: skip


def build(flavor: str, steps: str) -> subprocess.CompletedProcess:
    return build_steps(f"{IMAGE}:{flavor}", steps, f"django-asgi-pin:{flavor}", check=False)


def supported(flavor: str) -> tuple[str, str, str]:
    distribution = TOO_OLD[flavor].split("==")[0]
    oldest, below = servers.load(flavor).SUPPORTED[distribution]
    return distribution, oldest, below


def test_pip_install_of_a_server_outside_the_range_fails_naming_it(flavor):
    result = build(flavor, f"RUN pip install {TOO_OLD[flavor]}\n")
    distribution, oldest, below = supported(flavor)
    assert result.returncode != 0
    assert "ResolutionImpossible" in result.stdout + result.stderr
    assert f"The user requested (constraint) {distribution}<{below},>={oldest}" in result.stdout + result.stderr


def test_uv_pip_install_of_a_server_outside_the_range_fails_naming_it(flavor):
    steps = f"RUN pip install uv && uv pip install {TOO_OLD[flavor]}\n"
    result = build(flavor, steps)
    distribution, oldest, below = supported(flavor)
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())
    assert f"{distribution}>={oldest},<{below}" in output and "unsatisfiable" in output, output[-2000:]


@pytest.mark.parametrize("command", [[], ["--dry-run"]])
def test_a_start_with_a_server_outside_the_range_is_one_line(flavor, command):
    # Installed past the image's constraints (PIP_CONSTRAINT emptied): as some other tool could.
    result = build(flavor, f"RUN PIP_CONSTRAINT= pip install {TOO_OLD[flavor]}\n")
    assert result.returncode == 0, result.stderr[-2000:]
    run = docker("run", "--rm", f"django-asgi-pin:{flavor}", *command, check=False)
    distribution, oldest, below = supported(flavor)
    version = TOO_OLD[flavor].split("==")[1]
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.splitlines() == [
        f"django-asgi: {distribution} {version} is installed, and the {flavor} image supports "
        f"{distribution}>={oldest},<{below} (a requirement of the project replaced the image's): pin a version "
        "in that range, or drop the pin"
    ]
