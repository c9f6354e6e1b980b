"""hypercorn with a gentler stop: `python -m django_asgi.hypercorn_runner [hypercorn's arguments]`.

When hypercorn stops (SIGTERM, or --max-requests reached) it closes idle
keep-alive connections at once and closes busy ones after their response
without saying so: a request the client sends on them meanwhile is lost. Here
- a response sent while stopping carries Connection: close, so clients move on;
- an idle connection gets IDLE_GRACE seconds, so a request already on its way
  (or on a connection accepted but not read yet) is served before it closes.
Only the hypercorn image runs it.
"""

import asyncio
import dataclasses
import sys

IDLE_GRACE = 1.0  # seconds


def _install() -> None:
    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.protocol.events import Response
    from hypercorn.protocol.h11 import H11Protocol

    original_stream_send = H11Protocol.stream_send

    async def stream_send(self, event):
        if isinstance(event, Response) and event.status_code >= 200 and self.context.terminated.is_set():
            event = dataclasses.replace(event, headers=[*event.headers, (b"connection", b"close")])
        await original_stream_send(self, event)

    async def idle_timeout(self):
        try:
            await asyncio.wait_for(self.context.terminated.wait(), self.config.keep_alive_timeout)
        except TimeoutError:
            pass
        else:
            # Cancelled (with this task) when a request arrives on the connection.
            await asyncio.sleep(IDLE_GRACE)
        await asyncio.shield(self._initiate_server_close())

    H11Protocol.stream_send = stream_send
    TCPServer._idle_timeout = idle_timeout


def main() -> int:
    _install()
    from hypercorn.__main__ import main as hypercorn_main

    return hypercorn_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
