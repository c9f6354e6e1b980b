"""hypercorn: HTTP/1, HTTP/2 (h2c), WebSocket, on uvloop.

hypercorn's own multi-worker mode stops the whole server when one worker
exits, and on SIGTERM it cuts the other workers' in-flight requests. Several
workers (and recycling) therefore run as single-process hypercorns under
django_asgi.supervise, sharing one listening socket. Each runs through
django_asgi.servers.hypercorn.runner, which keeps keep-alive clients from losing
requests when it stops.
"""

from __future__ import annotations

import sys

from django_asgi.runtime.handoff import WRAPPER_APP
from django_asgi.servers.command import Plan, gunicorn_style, host_port, supervised, wrapped_app

TYPE_CHECKING = False
if TYPE_CHECKING:
    from django_asgi.contract import Config

DISTRIBUTIONS = ("hypercorn",)
# What the command and the patches are made and tested for (oldest, below); h11 before 0.16 lets a
# chunked body's trailer smuggle a request (CVE-2025-43859).
SUPPORTED = {"hypercorn": ("0.17.3", "0.19"), "h11": ("0.16.0", "0.17")}
# Patches of the server's internals, applied at the image build to check them (images/check_patches.py).
PATCHES = ("django_asgi.servers.hypercorn.runner:install_patches",)

# The README's tag table and its column of the flavor table ("Which flavor?"), checked by the tests.
TAG = "[hypercorn](https://github.com/pgjones/hypercorn) on uvloop, HTTP/2 cleartext"
FLAVOR_TABLE = {
    "HTTP/1.1 and WebSocket": "yes",
    "HTTP/2 without TLS (prior knowledge)": "yes (and `Upgrade: h2c`)",
    "Workers (`WORKERS`)": "one hypercorn each, under `django_asgi.supervise`",
    "Recycling (`MAX_REQUESTS`)": "yes",
    "Reload (`RELOAD=1`)": "yes",
    "Access log (`ACCESS_LOG`)": "yes",
    "Django Channels": "yes",
    "WebSocket message over `MAX_WEBSOCKET_MESSAGE`": "1009 before it is read",
    "Ping flood from a client that never reads": "bounded",
    "Open WebSockets on SIGTERM or SIGINT": "closed at once with 1001",
    "Control bytes, NUL or a bare CR in a chunk extension": "400, connection closed",
    "Absolute-form request target (`GET http://host/path`)": "the target's host",
    "HTTP/2 rapid reset (streams opened and reset at once)": "closed past 100 resets in 10 s (GOAWAY); "
    "one opened and reset in one read never reaches the app; h2 parses each: about 4 s of CPU per 100,000 sent "
    "20 at a time",
    "Memory per idle WebSocket": "under 64 KiB",
}


def check_arguments(args: list[str]) -> None:
    from hypercorn.__main__ import main

    from django_asgi.arguments import argparse_check

    argparse_check(lambda: main([*args, WRAPPER_APP]))


def plan(config: Config, app: str, extra: tuple[str, ...] = ()) -> Plan:
    # hypercorn has no switch to turn lifespan off: the wrapper answers it.
    target, env = wrapped_app(config, app)
    # fmt: off
    options = [
        "--worker-class", "uvloop",
        "--workers", "0",  # serve in this process
        # hypercorn listens (again, on an inherited socket) with a backlog of 100: under a burst of
        # connections the rest are dropped and retried by the clients seconds later.
        "--backlog", "2048",
        *gunicorn_style(config),
        *(["--max-requests", str(config.max_requests)] if config.max_requests else []),
        *config.server_args,
        *extra,
        target,
    ]
    # fmt: on
    hypercorn = [sys.executable, "-m", "django_asgi.servers.hypercorn.runner"]
    if config.workers == 1 and not config.max_requests and not config.reload:
        return Plan([*hypercorn, "--bind", host_port(config), *options], env)
    child = [*hypercorn, "--bind", "fd://3", *options]
    return Plan(supervised(config, child, workers=config.workers, socket=True), env)
