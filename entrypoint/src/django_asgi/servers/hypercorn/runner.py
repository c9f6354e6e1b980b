"""hypercorn, patched: `python -m django_asgi.servers.hypercorn.runner [hypercorn's arguments]`.

- A gentler stop. When hypercorn stops (SIGTERM, or --max-requests reached) it
  closes idle keep-alive connections at once and closes busy ones after their
  response without saying so: a request the client sends on them meanwhile is
  lost. Here a response sent while stopping carries Connection: close, so
  clients move on, and an idle connection gets IDLE_GRACE seconds, so a request
  already on its way (or on a connection accepted but not read yet) is served
  before it closes.
- No request smuggling. h11 frames a request that carries both Content-Length
  and Transfer-Encoding by the latter and keeps the connection open, so bytes
  a Content-Length proxy took for body become a second request (RFC 9112 6.1
  allows rejecting such a message): here it is answered 400 and closed.
- WebSocket messages limited before they are buffered (MAX_WEBSOCKET_MESSAGE,
  passed as DJANGO_ASGI_MAX_MESSAGE). hypercorn writes each frame into its
  buffer before it compares the size, and after sending 1009 goes on buffering
  the rest of the message while it waits for the client's close; wsproto
  inflates permessage-deflate data without a limit. Here the size is checked
  first, a 1009 also closes the connection, and permessage-deflate is not
  offered.
- WebSockets closed at once with 1001 when the server stops (hypercorn kept them
  until the graceful timeout, then cut them with 1011).
- The access log at any --log-level (hypercorn set its logger to that level too).
- A chunk line is what RFC 9112 7.1 allows: a size, then extensions of tokens and quoted strings. h11
  takes anything but LF after a ";" (NUL, control bytes, a bare CR), the parser differential of the
  chunk-extension smuggling research of 2024-25: here such a line is a 400 and the connection closes.
- A request head over HEAD_LIMIT (64 KiB) gets 431 however it arrives (h11 counted only
  incomplete heads, from 16 KiB).
- HTTP/2 rapid reset (CVE-2023-44487): a stream the client resets in the same read that opened it never
  reaches the app (hypercorn started the app for each: 41,129 of 190,000 reset streams ran), and a connection
  that resets more than RESET_LIMIT unanswered streams within RESET_WINDOW seconds is closed with GOAWAY
  (ENHANCE_YOUR_CALM) before h2 parses the rest of what it sent, as hyper does.
- Exit status 5 when --graceful-timeout cut requests in flight (django_asgi.runtime.inflight; hypercorn
  cuts them, the clients get 500, and it exits 0).
Only the hypercorn image runs it.
"""

import asyncio
import dataclasses
import io
import sys

from django_asgi.runtime import early_stop, inflight
from django_asgi.runtime.handoff import CHUNK_LINE_LIMIT, HEAD_LIMIT, MAX_MESSAGE, limit
from django_asgi.runtime.patching import assigned, replace, require

IDLE_GRACE = 1.0  # seconds
# HTTP/2 streams a client may reset before their answer, in a window: a browser cancels a few on a
# navigation; an attacker thousands a second. Past it the connection is closed (hyper allows 20 pending).
RESET_LIMIT = 100
RESET_WINDOW = 10.0  # seconds
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
HEADERS, RST_STREAM = 0x1, 0x3  # RFC 9113 6.2, 6.4


class FrameScanner:
    """The type and stream of each HTTP/2 frame the client sends, read from the frame headers alone across reads
    (RFC 9113 4.1: nine bytes, the payload skipped): counting resets costs a fraction of h2's parse of them."""

    def __init__(self) -> None:
        self.preface = len(HTTP2_PREFACE)  # bytes of the client's preface still to skip
        self.head = b""  # a frame header cut by the end of a read
        self.skip = 0  # payload bytes of the current frame still to come

    def frames(self, data: bytes) -> list[tuple[int, int]]:
        found, at = [], 0
        if self.preface:
            piece = data[: self.preface]
            if HTTP2_PREFACE[len(HTTP2_PREFACE) - self.preface :].startswith(piece):
                self.preface -= len(piece)
                at = len(piece)
            else:
                self.preface = 0  # the frames from the start
        while at < len(data):
            if self.skip:
                taken = min(self.skip, len(data) - at)
                self.skip -= taken
                at += taken
                continue
            need = 9 - len(self.head)
            self.head += data[at : at + need]
            at += need
            if len(self.head) < 9:
                break
            length = int.from_bytes(self.head[:3], "big")
            found.append((self.head[3], int.from_bytes(self.head[5:9], "big") & 0x7FFFFFFF))
            self.head, self.skip = b"", length
        return found


def install_patches() -> None:
    import h11
    import h11._events
    from hypercorn.asyncio import run as hypercorn_run
    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.protocol.events import Response
    from hypercorn.protocol.h11 import H11Protocol

    def stream_send(original):
        async def stream_send(self, event):
            if isinstance(event, Response) and event.status_code >= 200 and self.context.terminated.is_set():
                event = dataclasses.replace(event, headers=[*event.headers, (b"connection", b"close")])
            await original(self, event)

        return stream_send

    def idle_timeout(original):
        async def idle_timeout(self):
            try:
                await asyncio.wait_for(self.context.terminated.wait(), self.config.keep_alive_timeout)
            except TimeoutError:
                pass
            else:
                # Cancelled (with this task) when a request arrives on the connection.
                await asyncio.sleep(IDLE_GRACE)
            await asyncio.shield(self._initiate_server_close())

        return idle_timeout

    def normalize_and_validate(original):
        def normalize_and_validate(headers, _parsed=False):
            headers = original(headers, _parsed=_parsed)
            # _parsed: headers read off the wire (a request), not ones hypercorn builds.
            if _parsed and {b"transfer-encoding", b"content-length"} <= {name for name, _ in headers}:
                raise h11.LocalProtocolError("both Transfer-Encoding and Content-Length", error_status_hint=400)
            return headers

        return normalize_and_validate

    graceful_timeout = []

    def worker_serve(original):
        async def worker_serve(app, config, *, sockets=None, shutdown_trigger=None):
            graceful_timeout.append(config.graceful_timeout)
            await original(app, config, sockets=sockets, shutdown_trigger=shutdown_trigger)

        return worker_serve

    def raise_shutdown(original):
        async def raise_shutdown(shutdown_event):
            await shutdown_event()
            # What still runs at the graceful timeout hypercorn cancels or disconnects, and exits 0.
            inflight.stopping(graceful_timeout[-1], asyncio.get_running_loop().call_later)
            await original(_at_once)

        return raise_shutdown

    # fmt: off
    _bounded_http2_resets()
    _limit_websocket_messages()
    _close_websockets_on_stop()
    _access_log_at_any_level()
    _limit_request_heads()
    _strict_chunk_lines()
    # Upstream (pgjones/hypercorn), to send: "Responses sent during a graceful shutdown carry no
    # Connection: close, and the connection is closed after them: a request the client sends on it
    # meanwhile is lost. Add Connection: close while terminated is set, as hyper does (hyperium/hyper#3725)."
    replace(H11Protocol, "stream_send", ("self", "event"), stream_send, "hypercorn",
            "hypercorn/protocol/h11.py sends no Connection: close while stopping")
    # Upstream (pgjones/hypercorn), to send: "On shutdown _idle_timeout closes idle keep-alive connections
    # at once, racing a request already on its way or a connection accepted but not yet read. Wait a
    # short grace for a first byte before closing."
    replace(TCPServer, "_idle_timeout", ("self",), idle_timeout, "hypercorn",
            "hypercorn/asyncio/tcp_server.py closes idle connections at once when stopping", copied="034d968a")
    # hypercorn/asyncio/run.py worker_serve stops at the first of these (a signal, --max-requests),
    # and cancels what still runs after --graceful-timeout.
    # Not upstream: exit status 5 for cut requests is this image's contract; hypercorn exits 0 by design.
    replace(hypercorn_run, "raise_shutdown", ("shutdown_event",), raise_shutdown, "hypercorn",
            "hypercorn/asyncio/run.py cuts requests at the graceful timeout without saying so")
    # Not upstream: it only reads the graceful timeout for the count above.
    replace(hypercorn_run, "worker_serve", ("app", "config", "sockets", "shutdown_trigger"), worker_serve,
            "hypercorn", "the graceful timeout, for counting what it cuts")
    # h11/_events.py Request.__init__ calls this name; h11/_connection.py _body_framing prefers TE over CL.
    # Upstream (python-hyper/h11), to send: "A request with both Content-Length and Transfer-Encoding is
    # framed by Transfer-Encoding and the connection stays open. RFC 9112 6.1: the server MUST close the
    # connection after responding to such a request (or reject it). Raise RemoteProtocolError (400) for it,
    # as Go, nginx and Node do."
    replace(h11._events, "normalize_and_validate", ("headers", "_parsed"), normalize_and_validate, "h11",
            "h11 serves a request with both Content-Length and Transfer-Encoding and keeps the connection")
    # fmt: on


async def _at_once() -> None:
    pass


def _limit_request_heads() -> None:
    """A request head over HEAD_LIMIT gets 431 however it arrives. h11 limits only what it buffers
    while a head is incomplete (hypercorn's h11_max_incomplete_size, 16 KiB): a head read in pieces
    got 431 past 16 KiB, one read whole passed at 61 KiB. Here the buffer may hold HEAD_LIMIT, and a
    complete head is measured when h11 makes its Request (h11/_readers.py maybe_read_from_IDLE_client)."""
    import h11
    from hypercorn.config import Config

    def init(original):
        def __init__(self, *, method, headers, target, http_version=b"1.1", _parsed=False):
            if _parsed:
                size = len(method) + len(target) + len(http_version) + 12  # "SP SP HTTP/ CRLF" and the end CRLF
                size += sum(len(name) + len(value) + 4 for name, value in headers)
                if size > HEAD_LIMIT:
                    raise h11.RemoteProtocolError("request head too large", error_status_hint=431)
            original(self, method=method, headers=headers, target=target, http_version=http_version, _parsed=_parsed)

        return __init__

    require(Config, "h11_max_incomplete_size", "hypercorn", "hypercorn/config.py: h11's buffer limit")
    Config.h11_max_incomplete_size = HEAD_LIMIT
    # Upstream (python-hyper/h11), to send: "max_incomplete_event_size limits a request head only while it
    # is incomplete: a head that arrives in one read is accepted whatever its size, one read in pieces is
    # refused past the limit. Measure a complete head against the same limit."
    replace(h11.Request, "__init__", ("self", "method", "headers", "target", "http_version", "_parsed"), init, "h11",
            "h11 limits a request head only while it is incomplete")  # fmt: skip


def _bounded_http2_resets() -> None:
    import time

    import h2.errors
    import h2.events
    from hypercorn.events import Closed, RawData
    from hypercorn.protocol.h2 import H2Protocol

    def handle(original):
        async def handle(self, event):
            if isinstance(event, RawData) and not self.closed:
                state = self.__dict__.setdefault("django_asgi_resets", {"scanner": FrameScanner(), "times": []})
                opened, reset = set(), set()
                for kind, stream_id in state["scanner"].frames(event.data):
                    if kind == HEADERS:
                        opened.add(stream_id)
                    elif kind == RST_STREAM and (stream_id in opened or stream_id in self.streams):
                        reset.add(stream_id)
                now = time.monotonic()
                state["times"] = [t for t in state["times"] if now - t < RESET_WINDOW] + [now] * len(reset)
                if len(state["times"]) > RESET_LIMIT:
                    self.connection.close_connection(error_code=h2.errors.ErrorCodes.ENHANCE_YOUR_CALM)
                    await self._flush()
                    await self.send(Closed())
                    return
                self.django_asgi_reset_now = reset & opened  # opened and reset in this read: no app for them
            await original(self, event)

        return handle

    def handle_events(original):
        async def _handle_events(self, events):
            dropped = self.__dict__.pop("django_asgi_reset_now", None)
            if dropped:
                kept = []
                for event in events:
                    if getattr(event, "stream_id", None) not in dropped or self.streams.get(event.stream_id):
                        kept.append(event)
                    elif isinstance(event, h2.events.DataReceived):  # the connection's window still counts it
                        self.connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                events = kept
            await original(self, events)

        return _handle_events

    # Upstream (pgjones/hypercorn), to send: "HTTP/2 rapid reset (CVE-2023-44487): every stream a client opens
    # and resets in one read starts the application (41,129 of 190,000 reset streams ran, 15 s of CPU), and
    # only keep_alive_max_requests ends the connection. Skip streams reset before they are handled, and close
    # a connection that resets many with ENHANCE_YOUR_CALM, as hyper's max_pending_accept_reset_streams does."
    replace(H2Protocol, "handle", ("self", "event"), handle, "hypercorn", "hypercorn/protocol/h2.py: rapid reset")
    # Upstream: part of the rapid-reset bound above (hypercorn/protocol/h2.py _handle_events starts the app).
    replace(H2Protocol, "_handle_events", ("self", "events"), handle_events, "hypercorn", "rapid reset")
    for name in ("streams", "connection", "closed"):
        assigned(H2Protocol, "__init__", name, "hypercorn", "rapid reset")


# RFC 9112 7.1: chunk-size [ chunk-ext ] CRLF; chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ),
# name a token, value a token or a quoted-string (RFC 9110 5.6.2, 5.6.4). The group names are h11's.
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = rb'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"'
# A whole line (read at once, so the reader's check below never saw it waiting) is at most CHUNK_LINE_LIMIT.
_WITHIN_LIMIT = rb"(?=[\s\S]{1,%d}\Z)" % CHUNK_LINE_LIMIT
STRICT_CHUNK_HEADER = (
    _WITHIN_LIMIT + rb"(?P<chunk_size>[0-9A-Fa-f]{1,20})"
    rb"(?P<chunk_ext>(?:[ \t]*;[ \t]*" + _TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + _TOKEN + rb"|" + _QUOTED + rb"))?)*)"
    rb"[ \t]*\r\n"
)


def _strict_chunk_lines() -> None:
    import re

    import h11._readers

    # h11/_abnf.py: chunk_ext = r";.*" ("we aren't parsing the things so we don't really care");
    # h11/_readers.py ChunkedReader.__call__ looks the pattern up at each chunk line.
    # Upstream (python-hyper/h11), to send: "chunk_ext accepts any byte but LF: NUL, control bytes and a bare
    # CR pass, where RFC 9112 7.1 allows tokens and quoted strings, and nginx and Apache answer 400 (the
    # chunk-extension parser differential of the 2024-25 smuggling research). Parse the extensions strictly."
    require(h11._readers, "chunk_header_re", "h11", "h11 takes NUL, control bytes and a bare CR in chunk extensions")
    h11._readers.chunk_header_re = re.compile(STRICT_CHUNK_HEADER)

    def bounded(original):
        def __call__(self, buf):
            event = original(self, buf)
            # Still waiting for the end of a chunk line: h11 would buffer up to h11_max_incomplete_size.
            if (
                event is None
                and not self._bytes_in_chunk
                and not self._bytes_to_discard
                and len(buf) > CHUNK_LINE_LIMIT
            ):
                raise h11.RemoteProtocolError("chunk line too long", error_status_hint=400)
            return event

        return __call__

    # Upstream (python-hyper/h11), to send: "A chunk line is buffered up to max_incomplete_event_size (the
    # request head's limit): refuse one past a few KiB, as hyper (16 KiB) and Twisted (1 KiB) do."
    # h11/_readers.py ChunkedReader.__call__; the state it reads is set in its __init__.
    replace(h11._readers.ChunkedReader, "__call__", ("self", "buf"), bounded, "h11", "h11 buffers long chunk lines")
    assigned(h11._readers.ChunkedReader, "__init__", "_bytes_in_chunk", "h11", "chunk line limit")
    assigned(h11._readers.ChunkedReader, "__init__", "_bytes_to_discard", "h11", "chunk line limit")


def _access_log_at_any_level() -> None:
    """hypercorn gives its access logger --log-level too (hypercorn/logging.py, Logger.__init__), so
    LOG_LEVEL=warning dropped every access line (INFO); ACCESS_LOG alone decides here, as elsewhere."""
    import logging

    from hypercorn.logging import Logger

    def init(original):
        def __init__(self, config):
            original(self, config)
            if isinstance(self.access_logger, logging.Logger) and not config.logconfig and not config.logconfig_dict:
                self.access_logger.setLevel(logging.INFO)

        return __init__

    # Upstream (pgjones/hypercorn), to send: "--log-level also sets the access logger's level, so
    # --log-level warning silences --access-logfile. Leave the access logger at INFO: --access-logfile
    # alone should decide whether requests are logged."
    replace(Logger, "__init__", ("self", "config"), init, "hypercorn",
            "hypercorn/logging.py sets the access logger to the error log's level")  # fmt: skip


def _limit_websocket_messages() -> None:
    from hypercorn.config import Config
    from hypercorn.protocol import ws_stream
    from hypercorn.protocol.ws_stream import (
        CloseConnection,
        CloseReason,
        ConnectionState,
        FrameTooLargeError,
        Message,
        Ping,
        StreamClosed,
        TextMessage,
        WebsocketBuffer,
        WSStream,
    )

    max_message = limit(MAX_MESSAGE)
    require(Config, "websocket_max_message_size", "hypercorn", "hypercorn has no flag for it")
    if max_message is not None:
        Config.websocket_max_message_size = max_message

    def extend(original):
        # WebsocketBuffer.extend, counting bytes (not characters) and checking before it writes.
        def extend(self, event):
            data = event.data
            size = len(data.encode()) if isinstance(data, str) else len(data)
            if self.length + size > self.max_length:
                self.clear()  # nothing more of it is kept
                raise FrameTooLargeError()
            if self.value is None:
                self.value = io.StringIO() if isinstance(event, TextMessage) else io.BytesIO()
            self.value.write(data)
            self.length += size

        return extend

    def handle_events(original):
        # hypercorn/protocol/ws_stream.py WSStream._handle_events, with the connection closed after a 1009.
        async def _handle_events(self):
            for event in self.connection.events():
                if isinstance(event, Message):
                    try:
                        self.buffer.extend(event)
                    except FrameTooLargeError:
                        await self._send_wsproto_event(CloseConnection(code=CloseReason.MESSAGE_TOO_BIG))
                        await self.send(StreamClosed(stream_id=self.stream_id))
                        break
                    if event.message_finished:
                        await self.app_put(self.buffer.to_message())
                        self.buffer.clear()
                elif isinstance(event, Ping):
                    await self._send_wsproto_event(event.response())
                elif isinstance(event, CloseConnection):
                    if self.connection.state == ConnectionState.REMOTE_CLOSING:
                        await self._send_wsproto_event(event.response())
                    await self.send(StreamClosed(stream_id=self.stream_id))

        return _handle_events

    def no_extensions(original):
        def server_extensions_handshake(requested, supported):
            return None  # permessage-deflate is not offered

        return server_extensions_handshake

    # fmt: off
    # Upstream (pgjones/hypercorn), to send: "WebsocketBuffer.extend writes a frame into the buffer before
    # it compares the size with websocket_max_message_size, and counts a text message in characters, not
    # bytes. Check the frame's size in bytes before writing it."
    replace(WebsocketBuffer, "extend", ("self", "event"), extend, "hypercorn",
            "hypercorn/protocol/ws_stream.py buffers a frame before checking websocket_max_message_size",
            copied="05d3e3fc")
    # Upstream (pgjones/hypercorn), to send: "After closing a too large message with 1009, WSStream goes on
    # buffering the rest of that message while it waits for the client's close. End the stream once the
    # 1009 is sent."
    replace(WSStream, "_handle_events", ("self",), handle_events, "hypercorn",
            "hypercorn/protocol/ws_stream.py keeps reading a message it refused with 1009", copied="2dd9823f")
    # Upstream (python-hyper/wsproto), to send: "PerMessageDeflate inflates a message without a limit: a
    # small compressed frame becomes gigabytes before the receiver can compare the size. Accept a maximum
    # message size and decompress with max_length, closing with 1009 past it."
    replace(ws_stream, "server_extensions_handshake", ("requested", "supported"), no_extensions, "hypercorn",
            "wsproto inflates permessage-deflate data without a limit", copied="dc623437")
    # fmt: on


def _close_websockets_on_stop() -> None:
    """On SIGTERM hypercorn leaves open WebSockets to run until GRACEFUL_TIMEOUT, then cuts them (1011).
    Here each is closed at once with 1001 (going away), and its app hears of it."""
    from hypercorn.protocol.ws_stream import ASGIWebsocketState, CloseConnection, StreamClosed, WSStream

    async def close_on_stop(stream) -> None:
        await stream.context.terminated.wait()
        if not stream.closed and stream.state == ASGIWebsocketState.CONNECTED:
            stream.state = ASGIWebsocketState.CLOSED
            await stream._send_wsproto_event(CloseConnection(code=1001))
            await stream.app_put({"type": "websocket.disconnect", "code": 1001})

    def accept(original):
        async def _accept(self, message):
            await original(self, message)
            self.close_on_stop = asyncio.get_running_loop().create_task(close_on_stop(self))

        return _accept

    def handle(original):
        async def handle(self, event):
            await original(self, event)
            watcher = self.__dict__.get("close_on_stop")
            if isinstance(event, StreamClosed) and watcher is not None:
                watcher.cancel()  # a connection that ended does not wait for the stop

        return handle

    # fmt: off
    # Upstream (pgjones/hypercorn), to send: "On graceful shutdown open WebSockets are left running until
    # graceful_timeout and then cut with 1011. Close them with 1001 (going away) when the shutdown starts
    # and send the application websocket.disconnect."
    replace(WSStream, "_accept", ("self", "message"), accept, "hypercorn",
            "hypercorn/protocol/ws_stream.py keeps WebSockets open until the graceful timeout cuts them")
    # Not upstream: it ends the watcher the patch above adds.
    replace(WSStream, "handle", ("self", "event"), handle, "hypercorn", "the stop watcher ends with its connection")
    require(WSStream, "_send_wsproto_event", "hypercorn", "sending the close frame")
    # fmt: on


def main() -> int:
    early_stop.until_serving()
    install_patches()
    from hypercorn.__main__ import main as hypercorn_main

    status = hypercorn_main(sys.argv[1:]) or 0
    return inflight.exit_status(inflight.finish(), status)


if __name__ == "__main__":
    sys.exit(main())
