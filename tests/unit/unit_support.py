"""Helpers and expected values shared by the unit tests (conftest.py turns some into fixtures)."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import django_asgi
from django_asgi import servers, steps

from polling import wait_for  # noqa: F401  (re-exported for the unit tests)

PY = sys.executable
# The directory of the interpreter under test, so that "python" resolves to it in children.
BIN_DIR = str(Path(sys.executable).parent)

SERVERS = tuple(servers.SERVERS)
DEFAULT_APP = "django_asgi.default_app.asgi:application"
WRAPPER = "django_asgi.asgi:application"
# granian is given the wrapper's file (servers/granian.py says why).
GRANIAN_WRAPPER = str(Path(django_asgi.__file__).parent / "asgi.py") + ":application"

# granian runs in-process under this (servers/granian.py says why).
GRANIAN_RUNNER = [PY, "-m", "django_asgi.granian_runner"]

# The flags gunicorn and hypercorn spell alike, with the defaults.
GUNICORN_STYLE = ["--log-level", "info", "--error-logfile", "-", "--access-logfile", "-",
                  "--graceful-timeout", "20", "--keep-alive", "5"]  # fmt: skip

# daphne's WebSocket limits, from MAX_WEBSOCKET_MESSAGE (1 MiB).
DAPHNE_WEBSOCKET = ["--websocket-max-message-size", "1048576", "--websocket-max-frame-size", "1048576"]

# The commands with no variable set but DJANGO_ASGI_SERVER, on a machine with one CPU.
# fmt: off
DEFAULT_ARGV = {
    "daphne": [PY, "-m", "django_asgi.daphne_runner", "--graceful-timeout", "20", "--log-level", "info",
               "--keep-alive", "5", "--endpoint", "tcp:port=8000:interface=0.0.0.0:backlog=2048", "--access-log", "-",
               *DAPHNE_WEBSOCKET, WRAPPER],
    "hypercorn": [PY, "-m", "django_asgi.hypercorn_runner", "--bind", "0.0.0.0:8000",
                  "--worker-class", "uvloop", "--workers", "0", "--backlog", "2048", *GUNICORN_STYLE, WRAPPER],
    "uvicorn": [PY, "-m", "gunicorn", "--worker-class", "django_asgi.uvicorn_worker.UvicornWorker",
                "--bind", "0.0.0.0:8000", "--workers", "1", *GUNICORN_STYLE,
                "--worker-tmp-dir", "/dev/shm", "--no-control-socket", WRAPPER],
    "granian": [*GRANIAN_RUNNER, "--interface", "asginl", "--host", "0.0.0.0", "--port", "8000", "--workers", "1",
                "--log-level", "info", "--access-log", "--workers-kill-timeout", "20",
                "--http", "1", "--http1-header-read-timeout", "5000", "--backpressure", "4096", "--backlog", "2048",
                "--http1-buffer-size", "65536",
                "--respawn-failed-workers", GRANIAN_WRAPPER],
}
# fmt: on
# Every server loads the app through the wrapper (django_asgi.asgi), which reads DJANGO_ASGI_APP.
# ... with the default limits it applies (MAX_REQUEST_BODY 100 MiB, MAX_WEBSOCKET_MESSAGE 1 MiB).
LIMITS = {"DJANGO_ASGI_MAX_BODY": str(100 * 1024**2), "DJANGO_ASGI_MAX_MESSAGE": str(1024**2)}
DEFAULT_ENV = {server: {"DJANGO_ASGI_APP": DEFAULT_APP, **LIMITS} for server in SERVERS}
# granian's head limit depends on how the head arrives: the wrapper applies it too.
DEFAULT_ENV["granian"]["DJANGO_ASGI_MAX_HEAD"] = "65536"
# granian's workers count the requests still running shortly before it kills them.
DEFAULT_ENV["granian"]["DJANGO_ASGI_GRACEFUL_TIMEOUT"] = "20"


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
    return {"PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}", **variables}


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
