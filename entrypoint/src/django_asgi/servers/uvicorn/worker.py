"""The gunicorn worker class of the uvicorn image: uvicorn-worker's, adjusted.

- Lifespan off: Django does not implement it; uvicorn's "auto" would log that at every start.
- Its HTTP/1.1 protocol (httptools) limits the request head to HEAD_LIMIT (431): httptools has no limit.
- When the worker stops (SIGTERM, recycling after MAX_REQUESTS), uvicorn closes idle
  keep-alive connections at once, losing a request already on its way (one the
  client sent just before, or a connection accepted but not read yet). Here an
  idle connection gets IDLE_GRACE seconds: a request that arrives is served, with
  Connection: close, and only then does the connection close.
- MAX_REQUESTS counted per request: uvicorn checks its count ten times a second, while a
  keep-alive client goes on (a worker served 88 requests with MAX_REQUESTS=20).
- Connections that send nothing, or not a whole request head, within KEEP_ALIVE seconds
  are closed (uvicorn has no such timeout).
- No "Error while closing socket [Errno 9]" at every stop (uvicorn is given the sockets
  themselves, not gunicorn's wrappers).
- A chunk line (or the trailers) over CHUNK_LINE_LIMIT is answered 400 (llhttp reads any length).
- An absolute-form target (GET http://host/path) gives the app the target's host as Host, as
  RFC 9112 3.2.2 says (uvicorn gave Host and dropped the target's).
- WebSocket messages over MAX_WEBSOCKET_MESSAGE (DJANGO_ASGI_MAX_MESSAGE) are closed
  with 1009 before they are read, and a client that floods pings without reading
  gets no pong while much is unsent.

Only gunicorn's workers use this module (its master imports it to find the class), in the uvicorn image.
"""

import asyncio
import os
import sys
from typing import Any, ClassVar

from gunicorn.arbiter import Arbiter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol as _WebSocketProtocol
from uvicorn.server import Server
from uvicorn_worker import UvicornWorker as _UvicornWorker

from django_asgi.runtime import inflight
from django_asgi.runtime.handoff import CHUNK_LINE_LIMIT, HEAD_LIMIT, MAX_MESSAGE
from django_asgi.runtime.patching import assigned, overridden
from django_asgi.runtime.wrapper import absolute_form
from django_asgi.servers import older

IDLE_GRACE = 1.0  # seconds
SAYS_CLOSE = not older("uvicorn", "0.53.0")  # RequestResponseCycle.send writes Connection: close itself
PONG_BACKLOG = 64 * 1024  # unsent bytes past which a ping gets no pong
# A client that pipelines without reading: uvicorn parses all it has read at once, each request a cycle
# waiting in its pipeline (20,000 GETs grew a worker by 50 MiB). Here what was read is parsed a slice at a
# time, and no more once PIPELINE_LIMIT requests wait for their turn; reading stops until they are served.
PIPELINE_LIMIT = 32
SLICE = 64 * 1024
# A chunk line or the trailers of a chunked body over CHUNK_LINE_LIMIT is a 400, as hyper and Node.js
# (CVE-2024-22019) refuse it. llhttp reports no offsets, so the framing bytes are counted per piece fed to
# it: heads and chunked bodies go in pieces of CHUNK_SLICE, and a line is refused once the count passes the
# limit less one piece (a line of 15 KiB always passes, one over 16 KiB never does).
CHUNK_SLICE = 1024


class HeadTooLarge(Exception):
    pass


class HttpToolsProtocol(_HttpToolsProtocol):
    draining = False
    head_bytes = 0
    unparsed = b""  # read, not parsed yet: the pipeline is full
    parsed_to = 0  # how much of unparsed the parser has had

    def data_received(self, data: bytes) -> None:
        if self.parsed_to:
            self.unparsed, self.parsed_to = self.unparsed[self.parsed_to :], 0
        self.unparsed += data
        self._parse()

    in_body = False  # between a request's head and its end
    chunk_line: int | None = None  # in a chunked body: framing bytes counted since the last chunk line ended
    body_fed = 0
    chunk_marks = 0

    def _parse(self) -> None:
        # An offset into what was read, not slices of the rest: those would copy it again for every piece.
        while self._unparsed() and len(self.pipeline) < PIPELINE_LIMIT and not self.transport.is_closing():
            size = SLICE if self.in_body and self.chunk_line is None else CHUNK_SLICE
            start = self.parsed_to
            piece = self.unparsed[start : start + size]
            self.parsed_to = start + len(piece)
            if not self._feed(piece):
                self.unparsed, self.parsed_to = b"", 0
                return
        if self._unparsed():
            self.transport.pause_reading()  # until the pipeline has room (on_response_complete)
        else:
            self.unparsed, self.parsed_to = b"", 0

    def _unparsed(self) -> bool:
        return self.parsed_to < len(self.unparsed)

    def _feed(self, piece: bytes) -> bool:
        """Parse one piece; False when the rest is not for this parser (upgraded, or refused)."""
        body, marks = self.body_fed, self.chunk_marks
        super().data_received(piece)
        if self.transport.get_protocol() is not self:  # upgraded to a WebSocket: uvicorn drops the rest
            return False
        if self.chunk_line is not None:
            if self.chunk_marks != marks:
                self.chunk_line = 0
            else:
                self.chunk_line += len(piece) - (self.body_fed - body)
            if self.chunk_line > CHUNK_LINE_LIMIT - CHUNK_SLICE:
                super().send_400_response("Chunk line or trailers too long.")
                return False
        return True

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may resume reading (uvicorn's flow control)
        if self._unparsed() and not self.transport.is_closing():
            self._parse()

    def _count(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > HEAD_LIMIT:
            # Raised inside the parser: uvicorn answers (send_400_response, below) and closes.
            raise HeadTooLarge(f"request head over {HEAD_LIMIT} bytes")

    def send_400_response(self, msg: str) -> None:
        if self.head_bytes <= HEAD_LIMIT:
            super().send_400_response(msg)
            return
        # The status the other flavors give a head over the limit (RFC 6585), not uvicorn's 400.
        body = b"Request header fields too large\n"
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
        )
        self.transport.close()

    head_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        # uvicorn waits for ever for a first byte and for the rest of a request head: connections
        # that send nothing (or trickle) are closed after KEEP_ALIVE seconds.
        self._arm_head_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self.head_timer = self.loop.call_later(self.timeout_keep_alive, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timeout(self) -> None:
        self.head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def on_message_begin(self) -> None:
        self.head_bytes = 0
        super().on_message_begin()
        if self.head_timer is None:  # a request on a kept-alive connection: its head has a deadline too
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_body(self, body: bytes) -> None:
        self.body_fed += len(body)
        super().on_body(body)

    def on_chunk_header(self) -> None:  # httptools calls it when the protocol has it
        self.chunk_marks += 1

    on_chunk_complete = on_chunk_header

    def on_message_complete(self) -> None:
        self.in_body = False
        self.chunk_line = None
        super().on_message_complete()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        target = absolute_form(self.url)  # a ValueError, raised in the parser, is answered 400 by uvicorn
        if target is not None:
            authority, self.url = target
            self.headers[:] = [(b"host", authority), *((n, v) for n, v in self.headers if n != b"host")]
        self.in_body = True
        if any(name == b"transfer-encoding" for name, _ in self.headers):
            self.chunk_line = 0
            self.chunk_marks += 1
        super().on_headers_complete()
        if self.draining and self.cycle is not None:
            self._last_on_connection()
        server = getattr(self.config, "django_asgi_server", None)
        limit = self.config.limit_max_requests
        # uvicorn counts a request when its response is complete (on_response_complete): this one is next.
        if server is not None and limit is not None and self.server_state.total_requests + 1 >= limit:
            # The worker's last request (uvicorn would notice at its next tick, 0.1 s later, and a
            # keep-alive client sends dozens meanwhile): it closes its connection, and the worker
            # stops accepting at once and stops.
            if self.cycle is not None:
                self._last_on_connection()
            for listening in server.servers:  # uvicorn/server.py Server.startup sets it
                listening.close()
            server.should_exit = True

    def _last_on_connection(self) -> None:
        """The response to this request closes the connection and says so: uvicorn from 0.53 writes
        Connection: close when the cycle is not kept alive; before, it closed without a word, and a
        keep-alive client's next request on it was lost."""
        cycle = self.cycle
        cycle.keep_alive = False
        if not SAYS_CLOSE:
            send = cycle.send

            async def send_closing(message) -> None:
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", ()))
                    if not any(name.lower() == b"connection" for name, _ in headers):
                        message = {**message, "headers": [*headers, (b"connection", b"close")]}
                await send(message)

            cycle.send = send_closing  # before its task runs: run_asgi hands the app self.send

    def _idle(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def shutdown(self) -> None:
        if not self._idle():
            self.cycle.keep_alive = False
            return
        self.draining = True
        self.loop.call_later(IDLE_GRACE, self._close_if_idle)

    def _close_if_idle(self) -> None:
        if self._idle() and not self.transport.is_closing():
            self.transport.close()


class WebSocketProtocol(_WebSocketProtocol):
    def handle_ping(self) -> None:
        # uvicorn writes a pong for every ping whatever is still unsent: a client that floods pings and
        # never reads grows the worker without bound. RFC 6455 5.5.3 lets a pong answer only the latest ping.
        if self.transport.get_write_buffer_size() > PONG_BACKLOG:
            self.conn.data_to_send()  # the pong, dropped
            return
        super().handle_ping()


class _Server(Server):
    graceful_timeout = 30.0

    def handle_exit(self, sig, frame) -> None:
        # gunicorn kills the worker graceful_timeout after its SIGTERM: the requests still running
        # then are counted for the arbiter (halt, below). From a signal handler: threadsafe.
        if not self.should_exit:
            loop = asyncio.get_event_loop()
            loop.call_soon_threadsafe(inflight.stopping, self.graceful_timeout, loop.call_later)
        super().handle_exit(sig, frame)


class UvicornWorker(_UvicornWorker):
    async def _serve(self) -> None:
        # uvicorn_worker/_workers.py _serve, given the listening sockets themselves rather than gunicorn's
        # wrappers: uvloop closes a socket it served and then calls the wrapper's close(), which logs
        # "Error while closing socket [Errno 9] Bad file descriptor" at every stop.
        self.config.app = self.wsgi
        server = _Server(config=self.config)
        server.graceful_timeout = self.cfg.graceful_timeout
        self.config.django_asgi_server = server  # for the protocol's MAX_REQUESTS count
        self._install_sigquit_handler()
        await server.serve(sockets=[listener.sock for listener in self.sockets])
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **_UvicornWorker.CONFIG_KWARGS,
        "lifespan": "off",
        "http": HttpToolsProtocol,
        "ws": WebSocketProtocol,
        # The wrapper (django_asgi.runtime.asgi) applies FORWARDED_ALLOW_IPS as on every flavor.
        "proxy_headers": False,
        # websockets checks each frame against what is left of the message before reading it.
        "ws_max_size": int(os.environ.get(MAX_MESSAGE) or 16 * 1024 * 1024),
    }


# What HttpToolsProtocol overrides must still be there, or the overrides are dead code
# (uvicorn/protocols/http/httptools_impl.py).
# Upstream (Kludex/uvicorn), to send, four reports: "The httptools protocol has no limit on the request
# head (h11 has h11_max_incomplete_event_size): limit it and answer 431." "A connection that sends nothing,
# or half a head, is kept for ever: apply timeout_keep_alive until a whole head arrives." "On shutdown idle
# keep-alive connections are closed at once, racing a request already on its way: give them a short grace."
# "A client that pipelines without reading gets every request it sent parsed and queued (20,000 GETs: 50 MiB):
# stop parsing once a few wait for their turn." "A chunk line of any length is read (a 1 MiB extension:
# 200); refuse one over 16 KiB, as hyper does." "An absolute-form target's authority is dropped and the app
# sees Host: RFC 9112 3.2.2 says the target's authority wins."
for _name, _parameters in {
    "connection_made": ("self", "transport"),
    "connection_lost": ("self", "exc"),
    "on_message_begin": ("self",),
    "on_url": ("self", "url"),
    "on_header": ("self", "name", "value"),
    "on_headers_complete": ("self",),
    "send_400_response": ("self", "msg"),
    "data_received": ("self", "data"),
    "on_response_complete": ("self",),
    "on_body": ("self", "body"),
    "on_message_complete": ("self",),
}.items():
    overridden(_HttpToolsProtocol, _name, _parameters, "uvicorn", "request head limit and a gentler stop")
# Not upstream: part of the gentler stop above. It does not call upstream's for a busy connection:
# checked against it (0.43 and 0.44 also wake a request waiting for its body; not needed to drain).
overridden(_HttpToolsProtocol, "shutdown", ("self",), "uvicorn", "a gentler stop", copied=("910bfecd", "9b2080a7"))
# Upstream (Kludex/uvicorn), to send: "Every ping is answered however much is unsent: a client that sends
# pings and never reads grows the server's write buffer without limit. Skip the pong while much is unsent."
overridden(_WebSocketProtocol, "handle_ping", ("self",), "uvicorn", "a pong for every ping, however much is unsent")
assigned(_HttpToolsProtocol, "__init__", "pipeline", "uvicorn", "how many requests wait for their turn")
# Not upstream: it counts the requests a stop cuts, for this image's exit status 5.
overridden(Server, "handle_exit", ("self", "sig", "frame"), "uvicorn", "counting requests a stop cuts")
# Upstream (Kludex/uvicorn), to send: "--limit-max-requests is compared on the main loop's 0.1 s tick, so
# a keep-alive client gets far more requests (88 with a limit of 20). Stop accepting at the limit-th."
assigned(Server, "startup", "servers", "uvicorn", "a worker's last request under MAX_REQUESTS closes its listeners")
# Upstream (Kludex/uvicorn-worker), to send: "_serve hands uvicorn gunicorn's socket wrappers; both close
# them at a stop, and uvicorn logs 'Error while closing socket [Errno 9]' every time. Pass sock.sock."
overridden(_UvicornWorker, "_serve", ("self",), "uvicorn-worker",
           "gunicorn's socket wrappers logged EBADF at every stop", copied="e35f79e5")  # fmt: skip
