"""Fixtures of the unit tests; the helpers themselves are in unit_support.py."""

from pathlib import Path

import pytest
from hypothesis import settings

from unit_support import Result, run_entrypoint

# Subprocess examples are slow and their time varies; a deadline would only make them flaky.
settings.register_profile("unit", deadline=None)
settings.load_profile("unit")


@pytest.fixture
def entrypoint(tmp_path):
    """run_entrypoint, by default in an empty working directory (so the built-in default app is found)."""
    workdir = tmp_path / "workdir"
    workdir.mkdir()

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, **kwargs) -> Result:
        return run_entrypoint(*args, env=env, cwd=cwd or workdir, **kwargs)

    return run
