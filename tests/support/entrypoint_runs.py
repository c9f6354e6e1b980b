"""Helpers and expected values shared by the unit tests (conftest.py turns some into fixtures)."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from django_asgi import servers, steps
from tests.support.server_facts import server_data

PY = sys.executable
# The directory of the interpreter under test, so that "python" resolves to it in children.
BIN_DIR = str(Path(sys.executable).parent)

SERVERS = tuple(servers.SERVERS)
DEFAULT_APP = "django_asgi.default_app.asgi:application"
WRAPPER = "django_asgi.runtime.asgi:application"


DATA = {name: server_data(name) for name in SERVERS}
# granian is given its folder's app module (servers/granian/__init__.py says why).
GRANIAN_WRAPPER = DATA["granian"]["default_argv"][-1]
# granian runs in-process under this (servers/granian/__init__.py says why).
GRANIAN_RUNNER = [PY, "-m", "django_asgi.servers.granian.runner"]

# The flags gunicorn and hypercorn spell alike, with the defaults.
GUNICORN_STYLE = ["--log-level", "info", "--error-logfile", "-", "--access-logfile", "-",
                  "--graceful-timeout", "20", "--keep-alive", "5"]  # fmt: skip

# daphne's WebSocket limits, from MAX_WEBSOCKET_MESSAGE (1 MiB).
DAPHNE_WEBSOCKET = ["--websocket-max-message-size", "1048576", "--websocket-max-frame-size", "1048576"]

# The commands with no variable set but DJANGO_ASGI_SERVER, on a machine with one CPU.
DEFAULT_ARGV = {name: data["default_argv"] for name, data in DATA.items()}
# Every server loads the app through the wrapper (django_asgi.runtime.asgi), which reads DJANGO_ASGI_APP,
# with the default limits it applies (MAX_REQUEST_BODY 100 MiB, MAX_WEBSOCKET_MESSAGE 1 MiB, BODY_TIMEOUT 60 s).
LIMITS = {
    "DJANGO_ASGI_MAX_BODY": str(100 * 1024**2),
    "DJANGO_ASGI_MAX_MESSAGE": str(1024**2),
    "DJANGO_ASGI_BODY_TIMEOUT": "60",
}
DEFAULT_ENV = {name: {"DJANGO_ASGI_APP": DEFAULT_APP, **LIMITS, **data["default_env"]} for name, data in DATA.items()}


# Serving for real runs the hooks in /docker-entrypoint.d: not on a machine that has one.
needs_no_hooks = pytest.mark.skipif(
    os.path.exists(steps.HOOKS_DIR), reason=f"{steps.HOOKS_DIR} exists: serving would run it"
)


def swap(argv: list[str], old: list[str], new: list[str]) -> list[str]:
    """argv with the one occurrence of the token run `old` replaced by `new`."""
    starts = [i for i in range(len(argv) - len(old) + 1) if argv[i : i + len(old)] == old]
    assert len(starts) == 1, f"{old} occurs {len(starts)} times in {argv}"
    i = starts[0]
    return argv[:i] + new + argv[i + len(old) :]


def child_env(**variables: str) -> dict[str, str]:
    """A clean environment: nothing from the developer's shell leaks into the contract."""
    # PYTHONPATH, where set, says which entrypoint is under test (tests/unit/test_fifth_server.py).
    paths = [variables.pop("PYTHONPATH", ""), os.environ.get("PYTHONPATH", "")]
    where = {"PYTHONPATH": os.pathsep.join(path for path in paths if path)} if any(paths) else {}
    return {"PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}", **where, **variables}


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.splitlines()


def run_entrypoint(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 30,
    command: list[str] | None = None,
) -> Result:
    """`python -m django_asgi ARGS` with exactly the given variables (plus PATH unless given)."""
    completed = subprocess.run(
        [*(command or [PY, "-m", "django_asgi"]), *args],
        env=child_env(**(env or {})),
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    # backslashreplace: a failing test should show odd bytes, not raise UnicodeDecodeError.
    return Result(
        completed.returncode,
        completed.stdout.decode("utf-8", "backslashreplace"),
        completed.stderr.decode("utf-8", "backslashreplace"),
    )


def config_line(result: Result, *fragments: str) -> str:
    """Exit status 2, no traceback, exactly one line on stderr starting "django-asgi: ", holding every fragment."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 2, result
    assert len(result.stderr_lines) == 1, result.stderr
    line = result.stderr_lines[0]
    assert line.startswith("django-asgi: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line
