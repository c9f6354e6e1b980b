"""daphne, patched: `python -m django_asgi.servers.daphne.runner [ours] [daphne's]`.

- A graceful stop. daphne stops at once on SIGTERM, cancelling requests in
  flight. This runs daphne's own command line, but on SIGTERM or SIGINT it stops
  listening, lets running requests finish (up to --graceful-timeout seconds) and
  then stops: with status 5 when it had to cut some (django_asgi.runtime.inflight).
  While it drains, every response closes its connection, so keep-alive
  clients move on instead of keeping the worker busy.
- No request smuggling. Twisted takes `Transfer-Encoding: identity` without a
  Content-Length for a request without a body, and reads the body as the next
  request (RFC 9112 6.3: a request's only transfer coding may be chunked):
  every other Transfer-Encoding is answered 400.
- WebSocket limits: a message over --websocket-max-message-size is closed with
  1009 (autobahn would drop the connection), and a client that floods pings
  without reading gets no pong while much is unsent.
- A body limit (MAX_REQUEST_BODY, passed as DJANGO_ASGI_MAX_BODY). Twisted
  reads a whole body before daphne sees the request, and daphne then queues
  all of it for the app: a Content-Length over the limit is answered 413
  before any of the body is read, a chunked body is cut with 413 at the limit.
- Connections silent for --keep-alive seconds (KEEP_ALIVE) are closed: those that
  never send a request, and idle keep-alive ones.
- A chunk size past 64 bits is a 400 (Twisted waited for that much data).
- A request body whose next bytes take over BODY_TIMEOUT seconds (DJANGO_ASGI_BODY_TIMEOUT) is
  answered 408 and its connection closed (Twisted read it on KEEP_ALIVE's clock, as if idle).
- A request head over HEAD_LIMIT (64 KiB) gets 431 (Twisted: 400 past 16 KiB, or the
  connection dropped for a line over 16 KiB).
It also takes --log-level, which daphne's verbosity cannot express.
Only the daphne image runs it.
"""

import argparse
import logging
import os
import signal
import sys
import time

from django_asgi.runtime import collector, early_stop, inflight
from django_asgi.runtime.handoff import BODY_TIMEOUT, HEAD_LIMIT, MAX_BODY, MAX_MESSAGE, limit
from django_asgi.runtime.patching import assigned, replace, require

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def main() -> int:
    collector.pause()  # through daphne's imports and the app's (django_asgi.runtime.asgi resumes it)
    early_stop.until_serving()
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--graceful-timeout", type=float, default=20.0)
    parser.add_argument("--log-level", choices=LEVELS, default="info")
    parser.add_argument("--keep-alive", type=float, default=5.0)
    ours, daphne_args = parser.parse_known_args()
    if "LISTEN_FDS" in os.environ:
        # The socket comes from django_asgi.supervise; Twisted checks it is meant for us.
        os.environ["LISTEN_PID"] = str(os.getpid())
    # Before daphne's own basicConfig, which then leaves this one in place.
    logging.basicConfig(level=LEVELS[ours.log_level], format="%(asctime)-15s %(levelname)-8s %(message)s")
    install_patches(ours.graceful_timeout, limit(MAX_BODY), ours.keep_alive, limit(BODY_TIMEOUT))
    from daphne.cli import CommandLineInterface

    sys.argv = ["daphne", *daphne_args]
    CommandLineInterface.entrypoint()
    return inflight.exit_status(inflight.finish())


def _last_on_connection(request) -> None:
    """The response to this request closes its connection."""
    request.channel.persistent = False
    if not request.startedWriting:
        request.responseHeaders.setRawHeaders(b"Connection", [b"close"])


PONG_BACKLOG = 64 * 1024  # unsent bytes past which a ping gets no pong
TOO_LARGE = (
    b"HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n"
    b"Connection: close\r\n\r\nRequest body too large\n"
)


TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 23\r\n"
    b"Connection: close\r\n\r\nRequest body timed out\n"
)


def _too_large(channel) -> None:
    channel.transport.write(TOO_LARGE)
    channel.loseConnection()


def install_patches(
    timeout: float = 20.0, max_body: int | None = None, keep_alive: float = 5.0, body_timeout: float | None = None
) -> None:
    from daphne.http_protocol import HTTPFactory, WebRequest
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
    from twisted.internet import reactor
    from twisted.internet.abstract import FileDescriptor
    from twisted.web import http as twisted_http
    from twisted.web.http import HTTPChannel

    def process(original):
        def process(self):
            if self.__dict__.get("too_large"):
                return None  # answered 413 already
            # A request that arrives on an open connection while draining is served, and is its last.
            if getattr(self.server, "draining", False):
                _last_on_connection(self)
            return original(self)

        return process

    def listen_success(original):
        def listen_success(self, port):
            self.__dict__.setdefault("ports", []).append(port)
            return original(self, port)

        return listen_success

    def run(original):
        def run(self):
            self.signal_handlers = False

            def on_signal(signum, frame):
                reactor.callFromThread(drain, self, time.monotonic() + timeout)

            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, on_signal)
            return original(self)

        return run

    def choose_transfer_decoder(original):
        def choose_transfer_decoder(self, header, data):
            if header == b"Transfer-Encoding" and data.strip().lower() != b"chunked":
                return self._failChooseTransferDecoder()  # 400 and close
            if header == b"Content-Length" and max_body is not None and data.strip().isdigit():
                if int(data) > max_body:
                    _too_large(self)
                    self.length = None
                    return False
            return original(self, header, data)

        return choose_transfer_decoder

    def idle_timeout(original):
        def build_protocol(self, addr):
            protocol = original(self, addr)
            if protocol is not None:
                # Twisted's HTTPChannel closes a connection silent this long (60 s by default),
                # and pauses the clock while a request is handled.
                protocol.timeOut = keep_alive
            return protocol

        return build_protocol

    def body_clock(original):
        def all_headers_received(self):
            original(self)
            if body_timeout and self.length != 0 and self.timeOut:  # a body follows (None: chunked)
                self.awaiting_body = True
                self.setTimeout(body_timeout)

        return all_headers_received

    def idle_clock(original):
        def all_content_received(self):
            if self.__dict__.pop("awaiting_body", False):
                # Saved by Twisted while the request is handled, and restored for the idle connection after.
                self.setTimeout(keep_alive)
            return original(self)

        return all_content_received

    def answer_stalled_bodies(original):
        def timeout_connection(self):
            if self.__dict__.pop("awaiting_body", False) and not self.transport.disconnecting:
                self.transport.write(TIMED_OUT)
            return original(self)

        return timeout_connection

    max_message = limit(MAX_MESSAGE)

    def bounded_chunk_sizes(original):
        def _hexint(b):
            if len(bytes(b).lstrip(b"0")) > 16:  # past 64 bits
                raise ValueError(b)  # twisted/web/http.py: "Chunk-size must be an integer." (400)
            return original(b)

        return _hexint

    def close_with_1009(original):
        def reset_protocol_options(self):
            original(self)
            self.failByDrop = False
            if max_message is not None:
                # daphne before 4.2.2 has no flags for them (autobahn's default, 0, is no limit); later
                # ones set the same values from --websocket-max-message-size and --websocket-max-frame-size.
                self.maxMessagePayloadSize = self.maxFramePayloadSize = max_message

        return reset_protocol_options

    def bounded_pongs(original):
        def on_ping(self, payload):
            # RFC 6455 5.5.3 lets a pong answer only the latest ping: none while much is unsent.
            transport = self.transport  # twisted/internet/abstract.py FileDescriptor: what is not written yet
            unsent = len(transport.dataBuffer) - transport.offset + transport._tempDataLen
            if unsent > PONG_BACKLOG:
                return None
            return original(self, payload)

        return on_ping

    def handle_content_chunk(original):
        def handle_content_chunk(self, data):
            if max_body is not None:
                self.received = self.__dict__.get("received", 0) + len(data)
                if self.received > max_body:
                    if not self.__dict__.get("too_large"):
                        self.too_large = True
                        _too_large(self.channel)
                    return None
            return original(self, data)

        return handle_content_chunk

    # fmt: off
    # Upstream (django/daphne), to send: "SIGTERM stops the reactor at once and cancels requests in flight:
    # every deploy cuts them. Stop listening on SIGTERM, let running requests finish up to a
    # --graceful-timeout, close keep-alive connections after their response, then stop."
    replace(Server, "run", ("self",), run, "daphne", "daphne/server.py stops at once on SIGTERM")
    # Upstream: part of the graceful stop above (it needs the listening ports).
    replace(Server, "listen_success", ("self", "port"), listen_success, "daphne",
            "daphne/server.py keeps no handle on its listening ports")
    # Upstream: part of the graceful stop above.
    replace(WebRequest, "process", ("self",), process, "daphne", "keep-alive requests while draining")
    # Upstream (twisted/twisted), to send: "HTTPChannel accepts a request with Transfer-Encoding: identity
    # and no Content-Length as one without a body, and parses its body as the next request. RFC 9112 6.1
    # and 6.3: a request's final transfer coding must be chunked; answer 400 (or 501) to any other."
    # twisted/web/http.py HTTPChannel._maybeChooseTransferDecoder returns True for identity: no body.
    replace(HTTPChannel, "_maybeChooseTransferDecoder", ("self", "header", "data"), choose_transfer_decoder,
            "twisted", "Transfer-Encoding: identity read as no body, the body parsed as the next request")
    # Upstream (django/daphne), to send: "A connection that sends nothing, or stays idle between keep-alive
    # requests, is kept for Twisted's default 60 s whatever --http-timeout says. Pass a configurable
    # timeout to HTTPFactory."
    replace(HTTPFactory, "buildProtocol", ("self", "addr"), idle_timeout, "daphne",
            "twisted/web/http.py keeps a silent connection open for 60 s")
    # Upstream (twisted/twisted), to send: "A request body that stalls is read on the idle timeout's clock
    # and then dropped without an answer. Give a body its own timeout, and answer 408 (RFC 9110 15.5.9)."
    replace(HTTPChannel, "allHeadersReceived", ("self",), body_clock, "twisted",
            "twisted/web/http.py waits for a stalled body on the idle connection's clock")
    # Upstream: part of the body timeout above.
    replace(HTTPChannel, "allContentReceived", ("self",), idle_clock, "twisted", "the idle clock after a body")
    # Upstream: part of the body timeout above.
    replace(HTTPChannel, "timeoutConnection", ("self",), answer_stalled_bodies, "twisted",
            "twisted/web/http.py drops a stalled body's connection without an answer")
    # Upstream (crossbario/autobahn-python), to send: "A message over maxMessagePayloadSize drops the TCP
    # connection without a close frame. RFC 6455 7.4.1: close with 1009 (message too big)."
    replace(WebSocketFactory, "resetProtocolOptions", ("self",), close_with_1009, "daphne",
            "autobahn drops the TCP connection of a message over the limit instead of closing with 1009")
    # Upstream (crossbario/autobahn-python), to send: "Every ping is answered into the transport's
    # unbounded write buffer: a client that sends pings and never reads grows the server's memory without
    # limit. Skip the pong while much is unsent."
    replace(WebSocketProtocol, "onPing", ("self", "payload"), bounded_pongs, "daphne",
            "autobahn answers every ping into Twisted's unbounded write buffer")
    # Upstream (django/daphne), to send: "A request body has no size limit: Twisted buffers all of it, then
    # daphne queues all of it for the application. Add a maximum body size, answered 413 before the body
    # is read when Content-Length says so."
    replace(WebRequest, "handleContentChunk", ("self", "data"), handle_content_chunk, "twisted",
            "twisted/web/http.py buffers a whole chunked body, however large")
    # Upstream (twisted/twisted), to send: "_ChunkedTransferDecoder takes a chunk size of any number of hex
    # digits: a size past 64 bits (no body anyone sends; h11, hyper and llhttp refuse it) leaves the
    # connection waiting for that much data, with no answer. Refuse it as a malformed chunk (400)."
    replace(twisted_http, "_hexint", ("b",), bounded_chunk_sizes, "twisted",
            "twisted/web/http.py waits for a chunk whose size is past 64 bits")
    require(HTTPChannel, "_failChooseTransferDecoder", "twisted", "answering 400 to a Transfer-Encoding")
    _limit_request_heads(HTTPChannel)
    require(WebSocketProtocol, "sendCloseFrame", "daphne", "closing WebSockets with 1001 when stopping")
    require(WebSocketProtocol, "STATE_OPEN", "daphne", "which WebSockets are open when stopping")
    # What a ping's pong would wait behind (twisted/internet/abstract.py FileDescriptor.write).
    require(FileDescriptor, "dataBuffer", "twisted", "bounded pongs")
    require(FileDescriptor, "offset", "twisted", "bounded pongs")
    assigned(FileDescriptor, "__init__", "_tempDataLen", "twisted", "bounded pongs")
    # fmt: on


HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain\r\nContent-Length: 32\r\n"
    b"Connection: close\r\n\r\nRequest header fields too large\n"
)


def _limit_request_heads(channel_class) -> None:
    """A request head over HEAD_LIMIT gets 431, as on the other flavors. Twisted allowed 16 KiB of
    request line and headers (twisted/web/http.py HTTPChannel.totalHeadersSize, 400) and 16 KiB a
    line (LineReceiver.MAX_LENGTH: lineLengthExceeded dropped the connection without a word)."""

    def line_received(original):
        def lineReceived(self, line):
            if self._receivedHeaderSize + len(line) > HEAD_LIMIT:
                return _head_too_large(self)
            return original(self, line)

        return lineReceived

    def line_length_exceeded(original):
        def lineLengthExceeded(self, line):
            return _head_too_large(self)

        return lineLengthExceeded

    # fmt: off
    require(channel_class, "totalHeadersSize", "twisted", "twisted/web/http.py: the head limit")
    require(channel_class, "_receivedHeaderSize", "twisted", "twisted/web/http.py: the head's size so far")
    require(channel_class, "MAX_LENGTH", "twisted", "twisted/protocols/basic.py: the line limit")
    channel_class.totalHeadersSize = HEAD_LIMIT + 1  # ours answers first, with 431
    channel_class.MAX_LENGTH = HEAD_LIMIT
    # Not upstream: 64 KiB and 431 are this image's limit on every flavor; Twisted's 400 past 16 KiB is valid.
    replace(channel_class, "lineReceived", ("self", "line"), line_received, "twisted",
            "twisted/web/http.py answers 400 past 16 KiB of head")
    # Upstream (twisted/twisted), to send: "A request line or header line over MAX_LENGTH drops the
    # connection without a response. Answer 431 (RFC 6585), or 414 for the request line, then close."
    replace(channel_class, "lineLengthExceeded", ("self", "line"), line_length_exceeded, "twisted",
            "twisted/protocols/basic.py drops the connection of a line over 16 KiB without a response",
            copied="41a024c3")
    # fmt: on


def _head_too_large(channel) -> None:
    channel.dataReceived = channel.lineReceived = lambda *args: None  # nothing more is read
    channel.transport.write(HEAD_TOO_LARGE)
    channel.loseConnection()


def drain(server, deadline: float) -> None:
    from daphne.ws_protocol import WebSocketProtocol
    from twisted.internet import reactor

    if not getattr(server, "draining", False):
        server.draining = True
        # daphne cancels what still runs when its loop stops (kill_all_applications).
        inflight.stopping(deadline - time.monotonic(), reactor.callLater)
        logging.getLogger("daphne").info("Stopping: no new connections, finishing requests in flight")
        for port in getattr(server, "ports", []):
            port.stopListening()
        for protocol in server.connections:
            if hasattr(protocol, "channel"):  # HTTP
                _last_on_connection(protocol)
            elif isinstance(protocol, WebSocketProtocol) and protocol.state == protocol.STATE_OPEN:
                # An open WebSocket: closed now with 1001 (going away); its application then ends.
                # sendCloseFrame, not sendClose, which allows only 1000 and 3000-4999 (autobahn).
                protocol.sendCloseFrame(code=1001, reasonUtf8=b"server stopping", isReply=False)
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
    sys.exit(main())
