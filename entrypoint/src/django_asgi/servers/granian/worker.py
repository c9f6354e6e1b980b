"""In granian's workers: open WebSockets closed with 1001 when the worker stops, and the
requests still running near the kill timeout counted (django_asgi.runtime.inflight).

granian drops open WebSockets on SIGTERM and SIGINT without a close frame, and
their applications never hear of it. Its workers set their loop's signal
handlers with granian._signals.set_loop_signals (imported by the worker after it
has loaded the application, granian/server/mp.py): here that function's handler
first closes every WebSocket the wrapper saw accepted (up to CLOSE_WAIT
seconds), then lets granian stop as before.
django_asgi.servers.granian.asgi, the module granian's workers load, installs it.

granian forks its workers with the main process's SIGTERM and SIGINT handler in
place, and a worker replaces it only once it has loaded the application: a
signal before that only set a flag in the worker's copy of the main's state, so
the worker never stopped and the main waited for it until --workers-kill-timeout
(a `docker stop` just after the first answer took GRACEFUL_TIMEOUT; the plain
granian command, which has no kill timeout, waits for ever).
install_main_patches(), called by django_asgi.servers.granian.runner before granian
starts, makes such a worker exit at once, as the default action would: it has
served nothing yet.
"""

import os
import signal

from django_asgi.runtime import inflight
from django_asgi.runtime.handoff import GRACEFUL_TIMEOUT
from django_asgi.runtime.patching import replace
from django_asgi.runtime.wrapper import OpenWebSockets

CLOSE_WAIT = 1.0  # seconds the close frames may take before granian stops anyway
FLUSH = 0.1  # seconds for granian to write the last close frames before it stops its connections


def install_main_patches() -> None:
    """In granian's main process, before it forks: a worker signalled before it set its own
    handlers exits."""
    from granian.server.common import AbstractServer

    if getattr(AbstractServer.signal_handler_interrupt, "django_asgi", False):
        return  # a forked worker inherits the patched class
    main = os.getpid()

    def signal_handler_interrupt(original):
        # granian/server/common.py AbstractServer.signal_handler_interrupt, set by startup() with
        # set_main_signals before the workers are forked (granian/server/mp.py).
        def signal_handler_interrupt(self, *args, **kwargs):
            if os.getpid() != main:
                os._exit(0)  # a worker still loading the application: it has served nothing
            return original(self, *args, **kwargs)

        signal_handler_interrupt.django_asgi = True
        return signal_handler_interrupt

    # Upstream (emmett-framework/granian), to send: "A worker signalled before it has loaded the application
    # ignores SIGTERM: it runs the main process's handler, which sets a flag in the worker's copy of the
    # main's state, and the main waits for it until --workers-kill-timeout (for ever without one). Reset
    # SIGTERM and SIGINT to their default in the worker right after the fork."
    replace(AbstractServer, "signal_handler_interrupt", ("self", "args", "kwargs"), signal_handler_interrupt,
            "granian", "a forked worker ignores a stop until it has loaded the app")  # fmt: skip


def install_patches(websockets: OpenWebSockets | None = None) -> None:
    import granian._signals
    from granian._granian import WorkerSignal

    websockets = websockets or OpenWebSockets()
    # granian's main kills the worker this long after its SIGTERM (--workers-kill-timeout).
    graceful_timeout = float(os.environ.get(GRACEFUL_TIMEOUT) or 30)

    def set_loop_signals(original):
        # granian/_signals.py set_loop_signals, with the WebSockets closed before the worker stops.
        def set_loop_signals(loop):
            import asyncio

            stop = WorkerSignal()

            def stop_now(closing) -> None:
                if not closing.cancelled():
                    closing.exception()  # retrieved: a close that took too long is no error here
                stop.set()

            async def close_then_flush() -> None:
                await asyncio.wait_for(websockets.close_all(1001), CLOSE_WAIT)
                await asyncio.sleep(FLUSH if websockets.closed_some else 0)

            def on_signal(signum, frame):
                inflight.stopping(graceful_timeout, loop.call_later)
                closing = loop.create_task(close_then_flush())
                closing.add_done_callback(stop_now)

            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, on_signal, signum, None)
            return stop

        return set_loop_signals

    # Upstream (emmett-framework/granian#796, WebSockets on a graceful stop), to add: "On SIGTERM a worker
    # drops its open WebSockets without a close frame and the application gets no websocket.disconnect.
    # Close each with 1001 (going away) and send websocket.disconnect before the worker stops."
    replace(granian._signals, "set_loop_signals", ("loop",), set_loop_signals, "granian",
            "granian drops open WebSockets on stop without a close frame", copied="c019b6dc")  # fmt: skip
