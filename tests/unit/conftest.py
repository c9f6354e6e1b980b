"""Fixtures of the unit tests; the helpers themselves are in unit_support.py."""

import shlex
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from unit_support import Result, child_env, run_entrypoint

# Subprocess examples are slow and their time varies; a deadline would only make them flaky.
settings.register_profile("unit", deadline=None)
settings.load_profile("unit")

# What the fake servers print: the arguments and environment they were started with.
REPORT = "import json, os, sys; print(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}))"


# granian's cli module as django_asgi uses it: a click command that takes any flags, and the entry point.
FAKE_GRANIAN_CLI = f"""import click


@click.command(context_settings={{"ignore_unknown_options": True}})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def cli(args):
    pass


def entrypoint():
    {REPORT}
"""


@pytest.fixture
def fake_servers(tmp_path):
    """A PATH entry where hypercorn and gunicorn print how they were started, and exit 0; and a
    PYTHONPATH entry with a granian package whose cli.entrypoint (django_asgi.granian_runner's) does."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    for name in ("hypercorn", "gunicorn"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -c {shlex.quote(REPORT)} "$@"\n')
        script.chmod(0o755)
    package = tmp_path / "fake-lib" / "granian"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "cli.py").write_text(FAKE_GRANIAN_CLI)
    return bin_dir


@pytest.fixture
def entrypoint(tmp_path, fake_servers):
    """run_entrypoint in an empty working directory (so the built-in default app is found).

    The fake servers come first on PATH: a test that serves by mistake never starts a real one.
    """
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    path = f"{fake_servers}:{child_env()['PATH']}"

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, **kwargs) -> Result:
        fake_lib = str(fake_servers.parent / "fake-lib")
        env = {"PATH": path, "PYTHONPATH": fake_lib, **(env or {})}
        return run_entrypoint(*args, env=env, cwd=cwd or workdir, **kwargs)

    return run
