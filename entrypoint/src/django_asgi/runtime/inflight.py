"""HTTP requests in flight in a worker, and those a stop had to cut.

When a server stops it gives the requests in flight GRACEFUL_TIMEOUT seconds, then cuts what is
left: its worker cancels them (daphne) or cuts their connections (hypercorn: a 500), or its
manager kills the worker (gunicorn, granian). Each then exits 0, as after a whole drain, though
clients got no response.

- The wrapper (django_asgi.runtime.wrapper) notes each HTTP request from start to end.
- A worker told to stop calls stopping(): shortly before the deadline it notes what still runs,
  drops what ends before the deadline, and keeps the count in a file in MARKER_DIR (a killed
  worker cannot speak for itself).
- The process whose status the container ends with calls finish() (a worker that is its own
  server: its own count) or collect() (a manager: its workers' markers), then exit_status(),
  which says in one line how many were cut and gives CUT.
"""

import os
import sys

from django_asgi.runtime.boot import BOOT_ID, MARKER_DIR

CUT = 5  # the exit status: stopped, but GRACEFUL_TIMEOUT cut requests in flight
MARGIN = 1.0  # seconds before the deadline when the count is written (at most half the timeout)
PREFIX = "django-asgi-cut-"

running: set[object] = set()  # a token per HTTP request being served
_cut: set[object] | None = None  # from shortly before the deadline: those running then, not ended since
_past_deadline = False  # from the deadline on, what ends was cut all the same
_stopping = False  # stopping() was called


def started() -> object:
    token = object()
    running.add(token)
    return token


def ended(token: object) -> None:
    running.discard(token)
    if _cut is not None and not _past_deadline and token in _cut:
        _cut.discard(token)
        _write_marker()


def stopping(graceful_timeout: float, call_later) -> None:
    """The worker was told to stop, and what still runs graceful_timeout seconds from now will be cut
    (by its manager killing it, or by the server itself): call_later(delay, callback) is the loop's.
    A second call (a second signal) changes nothing: the first one set the deadline."""
    global _stopping
    if _stopping:
        return
    _stopping = True
    call_later(max(0.0, graceful_timeout - min(MARGIN, graceful_timeout / 2)), _near_deadline)
    call_later(graceful_timeout, _at_deadline)


def _near_deadline() -> None:
    global _cut
    _cut = set(running)
    _write_marker()


def _at_deadline() -> None:
    # A request the server cuts may end normally after this (hypercorn tells the app the client left).
    global _past_deadline
    _past_deadline = True


def _write_marker() -> None:
    boot_id = os.environ.get(BOOT_ID, "")
    if not boot_id:
        return
    path = os.path.join(MARKER_DIR, f"{PREFIX}{boot_id}-{os.getpid()}")
    try:
        if _cut:
            with open(path, "w") as marker:
                marker.write(str(len(_cut)))
        elif os.path.exists(path):
            os.unlink(path)
    except OSError:
        pass  # the count is lost; the stop goes on


def finish() -> int:
    """For a worker that is its own server (daphne, hypercorn), after it stopped: the requests its
    graceful timeout cut."""
    if not _cut:
        return 0
    cut = len(_cut)
    _cut.clear()
    _write_marker()  # removed: this process says it itself
    return cut


def collect() -> int:
    """For a manager, after its workers ended: the requests they were still serving when killed
    (the workers of this start: they have its BOOT_ID)."""
    boot_id = os.environ.get(BOOT_ID, "")
    if not boot_id:
        return 0
    total = 0
    try:
        names = [name for name in os.listdir(MARKER_DIR) if name.startswith(f"{PREFIX}{boot_id}-")]
    except OSError:
        return 0
    for name in names:
        path = os.path.join(MARKER_DIR, name)
        try:
            with open(path) as marker:
                text = marker.read().strip()
            os.unlink(path)
        except OSError:
            continue
        total += int(text) if text.isdigit() else 0
    return total


def exit_status(cut: int, status: int = 0) -> int:
    """status, or CUT (said in one line) when requests were cut and nothing worse happened."""
    if cut and status == 0:
        plural = "request" if cut == 1 else "requests"
        print(
            f"django-asgi: stopped, but GRACEFUL_TIMEOUT cut {cut} {plural} still in flight; exit status {CUT}",
            file=sys.stderr,
            flush=True,
        )
        return CUT
    return status
