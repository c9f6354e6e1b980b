"""Fixtures of the unit tests; the helpers themselves are in tests/support/entrypoint_runs.py."""

from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.entrypoint_runs import Result, run_entrypoint

# Subprocess examples are slow and their time varies; a deadline would only make them flaky.
settings.register_profile("unit", deadline=None)
settings.load_profile("unit")

# What the fake servers print: the arguments and environment they were started with.
REPORT = (
    "import json, os, sys; "
    "print(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ), 'path0': sys.path[0], "
    "'in_process': 'django_asgi.cli' in sys.modules}))"
)


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
    """A PYTHONPATH entry with a granian package whose cli.entrypoint (django_asgi.servers.granian.runner's)
    prints how it was started, and returns (with the class the runner patches first). The other
    servers are not installed here: their `python -m` commands fail at their first import."""
    package = tmp_path / "fake-lib" / "granian"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "cli.py").write_text(FAKE_GRANIAN_CLI)
    # What the runner patches in granian's main process (django_asgi.servers.granian.worker).
    (package / "server").mkdir()
    (package / "server" / "__init__.py").write_text("")
    (package / "server" / "common.py").write_text(
        "class AbstractServer:\n    def signal_handler_interrupt(self, *args, **kwargs):\n        pass\n"
    )
    return package.parent


@pytest.fixture
def entrypoint(tmp_path, fake_servers):
    """run_entrypoint in an empty working directory (so the built-in default app is found), with the
    fake granian first on the path: a test that serves by mistake never starts a real server."""
    workdir = tmp_path / "workdir"
    workdir.mkdir()

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, **kwargs) -> Result:
        env = {"PYTHONPATH": str(fake_servers), **(env or {})}
        return run_entrypoint(*args, env=env, cwd=cwd or workdir, **kwargs)

    return run
