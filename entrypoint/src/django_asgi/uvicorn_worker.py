"""The gunicorn worker class of the uvicorn image: uvicorn-worker's, adjusted.

- Lifespan off: Django does not implement it; uvicorn's "auto" would log that at every start.
- Its HTTP/1.1 protocol (httptools) limits the request head: httptools has no limit.
- When the worker stops (SIGTERM, recycling after MAX_REQUESTS), uvicorn closes idle
  keep-alive connections at once, losing a request already on its way (one the
  client sent just before, or a connection accepted but not read yet). Here an
  idle connection gets IDLE_GRACE seconds: a request that arrives is served, with
  Connection: close, and only then does the connection close.

Only gunicorn imports this module, inside the uvicorn image.
"""

from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _HttpToolsProtocol
from uvicorn_worker import UvicornWorker as _UvicornWorker

from django_asgi.patching import overridden

MAX_HEAD_BYTES = 64 * 1024  # request line and headers; more is answered with 400
IDLE_GRACE = 1.0  # seconds


class HeadTooLarge(Exception):
    pass


class HttpToolsProtocol(_HttpToolsProtocol):
    draining = False
    head_bytes = 0

    def _count(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:
            # Raised inside the parser: uvicorn answers 400 and closes.
            raise HeadTooLarge(f"request head over {MAX_HEAD_BYTES} bytes")

    def on_message_begin(self) -> None:
        self.head_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.draining and self.cycle is not None:
            self.cycle.keep_alive = False

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


class UvicornWorker(_UvicornWorker):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **_UvicornWorker.CONFIG_KWARGS,
        "lifespan": "off",
        "http": HttpToolsProtocol,
    }


# What HttpToolsProtocol overrides must still be there, or the overrides are dead code
# (uvicorn/protocols/http/httptools_impl.py).
for _name, _parameters in {
    "on_message_begin": ("self",),
    "on_url": ("self", "url"),
    "on_header": ("self", "name", "value"),
    "on_headers_complete": ("self",),
    "shutdown": ("self",),
}.items():
    overridden(_HttpToolsProtocol, _name, _parameters, "uvicorn", "request head limit and a gentler stop")
