"""hypercorn, patched: `python -m django_asgi.hypercorn_runner [hypercorn's arguments]`.

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
Only the hypercorn image runs it.
"""

import asyncio
import dataclasses
import sys

from django_asgi.patching import replace

IDLE_GRACE = 1.0  # seconds


def install_patches() -> None:
    import h11
    import h11._events
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

    # fmt: off
    replace(H11Protocol, "stream_send", ("self", "event"), stream_send, "hypercorn",
            "hypercorn/protocol/h11.py sends no Connection: close while stopping")
    replace(TCPServer, "_idle_timeout", ("self",), idle_timeout, "hypercorn",
            "hypercorn/asyncio/tcp_server.py closes idle connections at once when stopping")
    # h11/_events.py Request.__init__ calls this name; h11/_connection.py _body_framing prefers TE over CL.
    replace(h11._events, "normalize_and_validate", ("headers", "_parsed"), normalize_and_validate, "h11",
            "h11 serves a request with both Content-Length and Transfer-Encoding and keeps the connection")
    # fmt: on


def main() -> int:
    install_patches()
    from hypercorn.__main__ import main as hypercorn_main

    return hypercorn_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
