"""uvicorn: gunicorn managing uvicorn workers (uvloop, httptools, websockets)."""

from __future__ import annotations

import sys

from django_asgi.runtime.handoff import WRAPPER_APP
from django_asgi.servers import older
from django_asgi.servers.command import Plan, gunicorn_style, host_port, supervised, wrapped_app

TYPE_CHECKING = False
if TYPE_CHECKING:
    from django_asgi.contract import Config

DISTRIBUTIONS = ("uvicorn", "gunicorn")
# What the command and the patches are made and tested for (oldest, below): uvicorn before 0.36 needs
# an uvicorn-worker before 0.4, and before 0.35 has no websockets-sansio protocol, whose ping handling
# bounds the pongs (worker.py). gunicorn before 25.1 has no control socket (the flag is left out).
SUPPORTED = {"gunicorn": ("22.0.0", "28"), "uvicorn": ("0.36.0", "0.56"), "uvicorn-worker": ("0.4.0", "0.5")}
# Patches of the server's internals, applied at the image build to check them (images/check_patches.py).
PATCHES = ("django_asgi.servers.uvicorn.master:install_patches", "django_asgi.servers.uvicorn.worker")

# The README's tag table and its column of the flavor table ("Which flavor?"), checked by the tests.
TAG = "gunicorn managing [uvicorn](https://www.uvicorn.org/) workers (uvicorn-worker, uvloop, httptools, websockets)"
FLAVOR_TABLE = {
    "HTTP/1.1 and WebSocket": "yes",
    "HTTP/2 without TLS (prior knowledge)": "no",
    "Workers (`WORKERS`)": "gunicorn's",
    "Recycling (`MAX_REQUESTS`)": "yes",
    "Reload (`RELOAD=1`)": "yes",
    "Access log (`ACCESS_LOG`)": "yes",
    "Django Channels": "yes",
    "WebSocket message over `MAX_WEBSOCKET_MESSAGE`": "1009 before it is read",
    "Ping flood from a client that never reads": "bounded",
    "Open WebSockets on SIGTERM or SIGINT": "closed at once with 1012",
    "Control bytes, NUL or a bare CR in a chunk extension": "400, connection closed",
    "Absolute-form request target (`GET http://host/path`)": "the target's host",
    "HTTP/2 rapid reset (streams opened and reset at once)": "no HTTP/2",
    "Memory per idle WebSocket": "under 64 KiB",
}


def check_arguments(args: list[str]) -> None:
    # gunicorn/app/base.py Application.load_config: parse, then set each value (which validates it).
    from gunicorn.config import Config

    from django_asgi.arguments import Refused, argparse_check, one_line

    def parse() -> None:
        config = Config()
        parsed = config.parser().parse_args([*args, WRAPPER_APP])
        if parsed.args != [WRAPPER_APP]:  # gunicorn would serve the first and ignore the rest
            raise Refused(f"unexpected arguments: {' '.join(parsed.args[:-1])}")
        for key, value in vars(parsed).items():
            if value is not None and key != "args":
                try:
                    config.set(key.lower(), value)
                except (TypeError, ValueError) as error:
                    raise Refused(f"{key}: {one_line(str(error))}") from None

    argparse_check(parse, stop=False)


def plan(config: Config, app: str, extra: tuple[str, ...] = ()) -> Plan:
    target, env = wrapped_app(config, app)
    # fmt: off
    argv = [
        # gunicorn, then the exit status of its drain (5 when it had to cut requests).
        sys.executable, "-m", "django_asgi.servers.uvicorn.master",
        # uvicorn-worker's UvicornWorker with lifespan off.
        "--worker-class", "django_asgi.servers.uvicorn.worker.UvicornWorker",
        "--bind", host_port(config),
        "--workers", str(config.workers),
        *gunicorn_style(config),
        *(["--max-requests", str(config.max_requests),
           # Spread the restarts so workers are not all replaced at once.
           "--max-requests-jitter", str(max(1, config.max_requests // 10))] if config.max_requests else []),
        # Heartbeat files on tmpfs: works with a read-only root and any uid.
        "--worker-tmp-dir", "/dev/shm",
        # gunicorn from 25.1 otherwise creates a control socket (under $HOME, or in the working directory).
        *([] if older("gunicorn", "25.1.0") else ["--no-control-socket"]),
        *config.server_args,
        *extra,
        target,
    ]
    # fmt: on
    if config.reload:
        # gunicorn's --reload does not work with uvicorn workers; HUP starts fresh ones.
        argv = supervised(config, argv, workers=1, socket=False, reload_signal="HUP")
    return Plan(argv, env)
