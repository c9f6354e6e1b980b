"""Each response names the worker process that served it (X-Worker-Pid)."""

import asyncio
import gc
import os
import weakref

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt


def _response(text: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/plain")
    response["X-Worker-Pid"] = str(os.getpid())
    return response


def index(request):
    return _response("ok\n")


async def slow(request):
    """Sleeps ?seconds=; logs ?id= when the application starts on it."""
    request_id = request.GET.get("id", "-")
    print(f"probe: started {request_id}", flush=True)
    await asyncio.sleep(min(float(request.GET.get("seconds", "1")), 30.0))
    return _response(f"done {request_id}\n")


@csrf_exempt
def body(request):
    # Reading it applies DATA_UPLOAD_MAX_MEMORY_SIZE (400 when larger).
    return _response(f"{len(request.body)} bytes\n")


def whoami(request):
    """What Django makes of the client: its address, whether the request came over https, and the host."""
    return JsonResponse(
        {"remote_addr": request.META["REMOTE_ADDR"], "secure": request.is_secure(), "host": request.get_host()}
    )


class _Node:
    pass


def collector(request):
    """Whether this worker's garbage collector frees a reference cycle on its own (no gc.collect()),
    and how many objects its start froze out of the collector's reach."""
    cycle = _Node()
    cycle.self = cycle
    freed = []
    weakref.finalize(cycle, freed.append, True)
    del cycle
    kept = []
    # New containers until an automatic collection has run, far past any generation's threshold.
    while not freed and len(kept) < 1_000_000:
        kept.append([])
    return JsonResponse({"cycle_freed": bool(freed), "frozen": gc.get_freeze_count()})
