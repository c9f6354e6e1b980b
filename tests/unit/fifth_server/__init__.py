"""echo: a fifth server as a newcomer would add it (tests/unit/test_fifth_server.py places this
folder in a copy of the tree). Its command is never run."""

from __future__ import annotations

import sys

from django_asgi.runtime.handoff import WRAPPER_APP
from django_asgi.servers.command import Plan, host_port, refuse, supervised, wrapped_app

TYPE_CHECKING = False
if TYPE_CHECKING:
    from django_asgi.contract import Config

DISTRIBUTIONS = ("echo",)
SUPPORTED = {"echo": ("1.0.0", "1.1")}
PATCHES = ("django_asgi.servers.echo.runner:install_patches",)
TAG = "echo: the fifth server of the tests"
FLAVOR_TABLE = {
    "HTTP/1.1 and WebSocket": "yes",
    "HTTP/2 without TLS (prior knowledge)": "no",
    "Workers (`WORKERS`)": "its own",
    "Recycling (`MAX_REQUESTS`)": "no",
    "Reload (`RELOAD=1`)": "yes",
    "Access log (`ACCESS_LOG`)": "yes",
    "Django Channels": "yes",
    "WebSocket message over `MAX_WEBSOCKET_MESSAGE`": "1009 before it is read",
    "Ping flood from a client that never reads": "bounded",
    "Open WebSockets on SIGTERM or SIGINT": "closed at once with 1001",
    "Control bytes, NUL or a bare CR in a chunk extension": "400, connection closed",
    "Absolute-form request target (`GET http://host/path`)": "the target's host",
    "HTTP/2 rapid reset (streams opened and reset at once)": "no HTTP/2",
    "Memory per idle WebSocket": "under 64 KiB",
}


def check_arguments(args: list[str]) -> None:
    # The server's own parser (the echo distribution, not installed here: then nothing is asked).
    from echo.cli import parser

    from django_asgi.arguments import argparse_check

    argparse_check(lambda: parser().parse_args([*args, WRAPPER_APP]))


def plan(config: Config, app: str, extra: tuple[str, ...] = ()) -> Plan:
    refuse(config, "MAX_REQUESTS", "echo cannot recycle workers; unset it")
    target, env = wrapped_app(config, app)
    argv = [sys.executable, "-m", "django_asgi.servers.echo.runner", "--bind", host_port(config),
            "--workers", str(config.workers), *config.server_args, *extra, target]  # fmt: skip
    if config.reload:
        argv = supervised(config, argv, workers=1, socket=False)
    return Plan(argv, env)
