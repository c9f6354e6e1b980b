"""granian: Rust HTTP core, workers of its own, HTTP/2 cleartext."""

from __future__ import annotations

import os
import sys

from django_asgi.runtime.handoff import GRACEFUL_TIMEOUT, HEAD_LIMIT, MAX_HEAD
from django_asgi.servers.command import Plan, refuse, supervised, wrapped_app

TYPE_CHECKING = False
if TYPE_CHECKING:
    from django_asgi.contract import Config

DISTRIBUTIONS = ("granian",)
# What the command and the patches are made and tested for (oldest, below): before 2.8 granian keeps
# the connection of a request with both Content-Length and Transfer-Encoding open and serves the bytes
# behind its body as a request (smuggling, tests/container/test_hostile.py); before 2.2.2 a worker takes
# set_loop_signals before it loads the app, so the stop hook (worker.py) would never apply.
SUPPORTED = {"granian": ("2.8.0", "2.9")}
# Patches of the server's internals, applied at the image build to check them (images/check_patches.py).
PATCHES = (
    "django_asgi.servers.granian.worker:install_main_patches",
    "django_asgi.servers.granian.worker:install_patches",
)

# The README's tag table and its column of the flavor table ("Which flavor?"), checked by the tests.
TAG = "[granian](https://github.com/emmett-framework/granian): Rust HTTP core, its own workers"
FLAVOR_TABLE = {
    "HTTP/1.1 and WebSocket": "yes",
    "HTTP/2 without TLS (prior knowledge)": "with `SERVER_ARGS='--http auto'` "
    "(then connections that send nothing stay open)",
    "Workers (`WORKERS`)": "granian's own",
    "Recycling (`MAX_REQUESTS`)": "no (by age or memory through `SERVER_ARGS`)",
    "Reload (`RELOAD=1`)": "yes",
    "Access log (`ACCESS_LOG`)": "yes",
    "Django Channels": "yes",
    "WebSocket message over `MAX_WEBSOCKET_MESSAGE`": "1009 after granian assembled it (frames over 16 MiB refused "
    "unread, without a code; messages up to 64 MiB buffered)",
    "Ping flood from a client that never reads": "not bounded (granian answers every ping)",
    "Open WebSockets on SIGTERM or SIGINT": "closed at once with 1001",
    "Control bytes, NUL or a bare CR in a chunk extension": "control bytes and NUL accepted (hyper skips extensions, "
    "which never reach Python); a bare CR: 400, connection closed",
    "Absolute-form request target (`GET http://host/path`)": "Host, not the target's host: granian drops the "
    "target's scheme and host before Python",
    "HTTP/2 rapid reset (streams opened and reset at once)": "a flood: connection closed (hyper's GOAWAY); "
    "20 at a time: served on, at most 200 at once reach the app (the rest get 503), about 5 s of CPU per 100,000 "
    "sent 20 at a time",
    "Memory per idle WebSocket": "about 160 KiB: each has tungstenite's 128 KiB read buffer, which granian "
    "leaves at its default (granian/src/asgi/http.rs)",
}
BACKPRESSURE = 4096  # connections per worker
BACKLOG = 2048  # pending connections (granian's default is 1024), as on the other flavors
# granian's workers load the app through this folder's asgi.py (its stop hook). granian takes a
# dotted target for a path under the working directory and climbs out of every package around it:
# with an /app/__init__.py (some projects have one) every worker would import app.django_asgi...
# and fail (granian/_internal.py, prepare_import). Given the module's file, it imports it by its own
# package's name.
WRAPPER_FILE = os.path.join(os.path.dirname(__file__), "asgi.py") + ":application"


def check_arguments(args: list[str]) -> None:
    from granian.cli import cli

    from django_asgi.arguments import click_check

    click_check(cli, [*args, WRAPPER_FILE])


def plan(config: Config, app: str, extra: tuple[str, ...] = ()) -> Plan:
    refuse(
        config,
        "MAX_REQUESTS",
        "granian cannot recycle workers by request count; unset it "
        "(SERVER_ARGS='--workers-lifetime 3600' or '--workers-max-rss 512' recycle by age or memory)",
    )
    if config.keep_alive > 60:
        refuse(config, "KEEP_ALIVE", "granian allows at most 60 seconds")
    _, env = wrapped_app(config, app)
    # hyper checks its buffer only while a head is incomplete: one that arrives whole may pass it.
    env[MAX_HEAD] = str(HEAD_LIMIT)
    # The workers count what is still running shortly before granian kills them.
    env[GRACEFUL_TIMEOUT] = str(config.graceful_timeout)
    # fmt: off
    argv = [
        # granian itself, then the exit status of its drain (5 when it had to cut requests).
        sys.executable, "-m", "django_asgi.servers.granian.runner",
        # asginl: ASGI without lifespan, which Django does not implement (the default is RSGI).
        "--interface", "asginl",
        "--host", config.host,
        "--port", str(config.port),
        "--workers", str(config.workers),
        "--log-level", config.log_level,
        "--access-log" if config.access_log else "--no-access-log",
        # granian's default waits for ever for workers that do not stop.
        "--workers-kill-timeout", str(config.graceful_timeout),
        # HTTP/1 only: in "auto" mode hyper waits for a first byte with no timeout (hyperium/hyper#3756),
        # so connections that send nothing are never closed and hold a slot each; here the header
        # timeout runs from the start of the connection.
        "--http", "1",
        # Bounds connections that send nothing, idle keep-alive ones and clients that trickle headers.
        "--http1-header-read-timeout", str(config.keep_alive * 1000),
        # Each open connection holds a slot until it closes; granian's default (backlog / workers,
        # 512 with 2 workers) lets a thousand idle connections stop all serving.
        "--backpressure", str(BACKPRESSURE),
        "--backlog", str(BACKLOG),
        # The request head must fit hyper's read buffer (431, or 414 for a request line alone):
        # granian's default, 408 KiB, let a 400 KiB header through.
        "--http1-buffer-size", str(HEAD_LIMIT),
        # By default a worker that dies takes the whole server down.
        "--respawn-failed-workers",
        *config.server_args,
        *extra,
        WRAPPER_FILE,
    ]
    # fmt: on
    if config.reload:
        argv = supervised(config, argv, workers=1, socket=False, reload_signal="HUP")
    return Plan(argv, env)
