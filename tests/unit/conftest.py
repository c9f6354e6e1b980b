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


@pytest.fixture
def fake_servers(tmp_path):
    """A PATH entry where granian, hypercorn and gunicorn print how they were started, and exit 0."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    for name in ("granian", "hypercorn", "gunicorn"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -c {shlex.quote(REPORT)} "$@"\n')
        script.chmod(0o755)
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
        return run_entrypoint(*args, env={"PATH": path, **(env or {})}, cwd=cwd or workdir, **kwargs)

    return run
