"""Shared helpers of the unit tests: run the entrypoint in a child process, poll with a deadline."""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

# Subprocess examples are slow and their time varies; a deadline would only make them flaky.
settings.register_profile("unit", deadline=None)
settings.load_profile("unit")

# The directory of the interpreter under test, so that "python" resolves to it in children.
BIN_DIR = str(Path(sys.executable).parent)


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


def run_entrypoint(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                   timeout: float = 30) -> Result:
    """`python -m django_asgi ARGS` with exactly the given variables (plus PATH)."""
    completed = subprocess.run([sys.executable, "-m", "django_asgi", *args], env=child_env(**(env or {})),
                               cwd=cwd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    # backslashreplace: a failing test should show odd bytes, not raise UnicodeDecodeError.
    return Result(completed.returncode, completed.stdout.decode("utf-8", "backslashreplace"),
                  completed.stderr.decode("utf-8", "backslashreplace"))


@pytest.fixture
def entrypoint(tmp_path):
    """run_entrypoint with an empty working directory (so the built-in default app is found)."""
    workdir = tmp_path / "app"
    workdir.mkdir(exist_ok=True)

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 30) -> Result:
        return run_entrypoint(*args, env=env, cwd=cwd or workdir, timeout=timeout)

    return run


def wait_for(condition, timeout: float = 10.0, interval: float = 0.02, message: str = "condition"):
    """Poll until condition() is truthy; return its value, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@pytest.fixture
def poll():
    return wait_for


def assert_one_config_line(result: Result, *fragments: str) -> str:
    """Exit status 2, exactly one line on stderr starting "django-asgi: ", holding every fragment."""
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 2, result
    assert len(result.stderr_lines) == 1, result.stderr
    line = result.stderr_lines[0]
    assert line.startswith("django-asgi: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


@pytest.fixture
def config_line():
    return assert_one_config_line
