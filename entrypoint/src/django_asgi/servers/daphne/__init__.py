"""daphne: Twisted-based, the Channels reference server.

daphne has no workers, no drain on SIGTERM and no keep-alive or recycling
settings. django_asgi.servers.daphne.runner adds the drain and the keep-alive timeout; several workers run as
separate daphnes under django_asgi.supervise, sharing one listening socket
passed the systemd way (Twisted never sets SO_REUSEPORT).
"""

from __future__ import annotations

import sys

from django_asgi.runtime.handoff import WRAPPER_APP
from django_asgi.servers import older
from django_asgi.servers.command import Plan, refuse, supervised, wrapped_app

TYPE_CHECKING = False
if TYPE_CHECKING:
    from django_asgi.contract import Config

DISTRIBUTIONS = ("daphne",)
# What the command and the patches are made and tested for (oldest, below). Twisted before 24.10 gives
# _maybeChooseTransferDecoder lower-case header names, which the smuggling fix (runner.py) would never
# see (and carries 2024's HTTP request CVEs). daphne before 4.2.2 has no WebSocket size flags: the
# runner sets autobahn's limits itself.
SUPPORTED = {"daphne": ("4.1.0", "4.3"), "twisted": ("24.10.0", "27")}
# Patches of the server's internals, applied at the image build to check them (images/check_patches.py).
PATCHES = ("django_asgi.servers.daphne.runner:install_patches",)

# The README's tag table and its column of the flavor table ("Which flavor?"), checked by the tests.
TAG = "[daphne](https://github.com/django/daphne), the Channels reference server"
FLAVOR_TABLE = {
    "HTTP/1.1 and WebSocket": "yes",
    "HTTP/2 without TLS (prior knowledge)": "no (the image has no HTTP/2 support for Twisted)",
    "Workers (`WORKERS`)": "one daphne each, under `django_asgi.supervise`",
    "Recycling (`MAX_REQUESTS`)": "no",
    "Reload (`RELOAD=1`)": "yes",
    "Access log (`ACCESS_LOG`)": "yes",
    "Django Channels": "yes (its reference server)",
    "WebSocket message over `MAX_WEBSOCKET_MESSAGE`": "1009 before it is read",
    "Ping flood from a client that never reads": "bounded",
    "Open WebSockets on SIGTERM or SIGINT": "closed at once with 1001",
    "Control bytes, NUL or a bare CR in a chunk extension": "400, connection closed",
    "Absolute-form request target (`GET http://host/path`)": "the target's host",
    "HTTP/2 rapid reset (streams opened and reset at once)": "no HTTP/2",
    "Memory per idle WebSocket": "under 64 KiB",
}
BACKLOG = 2048  # pending connections, as django_asgi.supervise listens with


def check_arguments(args: list[str]) -> None:
    from daphne.cli import CommandLineInterface

    from django_asgi.arguments import argparse_check

    argparse_check(lambda: CommandLineInterface().run([*args, WRAPPER_APP]))


def plan(config: Config, app: str, extra: tuple[str, ...] = ()) -> Plan:
    refuse(config, "MAX_REQUESTS", "daphne cannot recycle workers; unset it")
    # daphne never sends lifespan; its --proxy-headers would trust every peer.
    target, env = wrapped_app(config, app)
    runner = [
        sys.executable,
        "-m",
        "django_asgi.servers.daphne.runner",
        "--graceful-timeout",
        str(config.graceful_timeout),
        "--log-level",
        config.log_level,
        "--keep-alive",
        str(config.keep_alive),
    ]
    # fmt: off
    options = [
        "--access-log", "-" if config.access_log else "/dev/null",
        # autobahn checks both before it buffers a frame's payload (before 4.2.2 the runner sets them).
        *([] if older("daphne", "4.2.2") else [
            "--websocket-max-message-size", str(config.max_websocket_message),
            "--websocket-max-frame-size", str(config.max_websocket_message)]),
        *config.server_args,
        *extra,
        target,
    ]
    # fmt: on
    if config.workers == 1 and not config.reload:
        # daphne's --bind/--port listen with Twisted's backlog of 50; the endpoint says 2048, as
        # django_asgi.supervise does for several workers (daphne/endpoints.py escapes the same way).
        interface = config.host.strip("[]").replace(":", r"\:")
        endpoint = f"tcp:port={config.port}:interface={interface}:backlog={BACKLOG}"
        return Plan([*runner, "--endpoint", endpoint, *options], env)
    domain = "INET6" if ":" in config.host else "INET"
    child = [*runner, "--endpoint", f"systemd:domain={domain}:index=0", *options]
    return Plan(supervised(config, child, workers=config.workers, socket=True), env)
