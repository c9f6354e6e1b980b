"""What runs before the server: migrate, collectstatic, /docker-entrypoint.d/."""

import os
import sys

from django_asgi.errors import ConfigError, StepFailed

HOOKS_DIR = "/docker-entrypoint.d"


def startup_commands(
    migrate: bool,
    collectstatic: bool,
    app_dir: str | os.PathLike,
    hooks_dir: str | os.PathLike,
    settings_module: str = "",
) -> list[list[str]]:
    # os.path, not pathlib, and subprocess only when a step runs: this is on every start's path.
    app_dir, hooks_dir = os.fspath(app_dir), os.fspath(hooks_dir)
    commands = []
    for wanted, name, command in (
        (migrate, "DJANGO_MIGRATE", "migrate"),
        (collectstatic, "DJANGO_COLLECTSTATIC", "collectstatic"),
    ):
        if not wanted:
            continue
        if os.path.isfile(os.path.join(app_dir, "manage.py")):
            commands.append([sys.executable, "manage.py", command, "--noinput"])
        elif settings_module:
            # What manage.py does, given the settings; -m puts the working directory on the path.
            commands.append([sys.executable, "-m", "django", command, "--noinput"])
        else:
            raise ConfigError(name, None, f"is on but there is no manage.py in {app_dir} and no DJANGO_SETTINGS_MODULE")
    if os.path.isdir(hooks_dir):
        for path in sorted(os.path.join(hooks_dir, name) for name in os.listdir(hooks_dir)):
            if os.path.isfile(path) and os.access(path, os.X_OK):
                commands.append([path])
            else:
                _log(f"skipping {path}: not an executable file")
    return commands


def run(commands: list[list[str]], app_dir: str | os.PathLike) -> None:
    for command in commands:
        step = " ".join(os.path.basename(command[0]) if index == 0 else part for index, part in enumerate(command))
        _log(f"running {step}")
        try:
            status = _call(command, app_dir)
        except OSError as error:
            raise StepFailed(step, 126) from error
        if status < 0:  # killed by a signal: report it the way a shell does
            raise StepFailed(step, 128 - status)
        if status != 0:
            raise StepFailed(step, status)


def _call(command: list[str], app_dir: str | os.PathLike) -> int:
    """Run one step; SIGTERM and SIGINT go on to it as SIGTERM.

    dumb-init passes SIGTERM to the entrypoint only (or, started as PID 1 itself, the
    kernel would drop signals it has no handler for): without this, a `docker stop`
    during a long migration would kill the entrypoint and leave the step running, or
    wait for the kill.
    """
    import signal
    import subprocess

    process = subprocess.Popen(command, cwd=app_dir)

    def forward(signum, frame):
        process.send_signal(signal.SIGTERM)

    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        return process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _log(message: str) -> None:
    print(f"django-asgi: {message}", file=sys.stderr, flush=True)
