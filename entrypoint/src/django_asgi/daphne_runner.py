"""daphne with a graceful stop: `python -m django_asgi.daphne_runner [ours] [daphne's]`.

daphne stops at once on SIGTERM, cancelling requests in flight. This runs
daphne's own command line, but on SIGTERM or SIGINT it stops listening, lets
running requests finish (up to --graceful-timeout seconds) and then stops.
While it drains, every response closes its connection, so keep-alive clients
move on instead of keeping the worker busy.
It also takes --log-level, which daphne's verbosity cannot express.
Only the daphne image runs it.
"""

import argparse
import logging
import os
import signal
import sys
import time

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--graceful-timeout", type=float, default=20.0)
    parser.add_argument("--log-level", choices=LEVELS, default="info")
    ours, daphne_args = parser.parse_known_args()
    if "LISTEN_FDS" in os.environ:
        # The socket comes from django_asgi.supervise; Twisted checks it is meant for us.
        os.environ["LISTEN_PID"] = str(os.getpid())
    # Before daphne's own basicConfig, which then leaves this one in place.
    logging.basicConfig(level=LEVELS[ours.log_level], format="%(asctime)-15s %(levelname)-8s %(message)s")
    _install_drain(ours.graceful_timeout)
    from daphne.cli import CommandLineInterface

    sys.argv = ["daphne", *daphne_args]
    CommandLineInterface.entrypoint()


def _last_on_connection(request) -> None:
    """The response to this request closes its connection."""
    request.channel.persistent = False
    if not request.startedWriting:
        request.responseHeaders.setRawHeaders(b"Connection", [b"close"])


def _install_drain(timeout: float) -> None:
    from daphne.http_protocol import WebRequest
    from daphne.server import Server
    from twisted.internet import reactor

    original_run, original_listen_success = Server.run, Server.listen_success
    original_process = WebRequest.process

    def process(self):
        # A request that arrives on an open connection while draining is served, and is its last.
        if getattr(self.server, "draining", False):
            _last_on_connection(self)
        return original_process(self)

    def listen_success(self, port):
        self.__dict__.setdefault("ports", []).append(port)
        return original_listen_success(self, port)

    def run(self):
        self.signal_handlers = False

        def on_signal(signum, frame):
            reactor.callFromThread(drain, self, time.monotonic() + timeout)

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, on_signal)
        return original_run(self)

    Server.run, Server.listen_success = run, listen_success
    WebRequest.process = process


def drain(server, deadline: float) -> None:
    from twisted.internet import reactor

    if not getattr(server, "draining", False):
        server.draining = True
        logging.getLogger("daphne").info("Stopping: no new connections, finishing requests in flight")
        for port in getattr(server, "ports", []):
            port.stopListening()
        for protocol in server.connections:
            if hasattr(protocol, "channel"):  # HTTP; a WebSocket ends with its application
                _last_on_connection(protocol)
    busy = [
        details
        for details in server.connections.values()
        if details.get("application_instance") is not None and not details["application_instance"].done()
    ]
    if busy and time.monotonic() < deadline:
        reactor.callLater(0.05, drain, server, deadline)
    else:
        # One more turn so the last responses are written out.
        reactor.callLater(0.1, reactor.stop)


if __name__ == "__main__":
    main()
