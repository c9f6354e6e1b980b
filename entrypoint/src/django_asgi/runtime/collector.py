"""Python's cyclic garbage collector held off while a worker imports the server and the project.

An import creates objects faster than anything frees them, so the collector runs again and again
over a heap that only grows: about a tenth of a Django project's import time (16 ms of 160 for a
small one, 30 ms more for daphne's own imports). pause() stops it; resume() then freezes what was
imported (gc.freeze: the collector never walks those objects again, and a forked worker's pages
stay shared: the gc module's documentation advises this for processes that fork) and starts it again.
Without the freeze, the first request of every worker would pay a collection of the whole heap.
Only a process that goes on to import the app (django_asgi.runtime.asgi) pauses it: a manager (gunicorn's
arbiter, granian's main process, django_asgi.supervise) keeps its collector as it is.
"""

import gc

_paused = False


def pause() -> None:
    global _paused
    if gc.isenabled():  # a collector someone else turned off is theirs to turn on
        gc.disable()
        _paused = True


def resume() -> None:
    global _paused
    if _paused:
        gc.freeze()
        gc.enable()
        _paused = False
