import asyncio
import logging

from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)


def index(request):
    return HttpResponse("Hello from Django\n", content_type="text/plain")


def visits(request):
    """Counts this browser's visits in its session: a write to the database on every request."""
    request.session["visits"] = request.session.get("visits", 0) + 1
    return HttpResponse(f"visits: {request.session['visits']}\n", content_type="text/plain")


def whoami(request):
    """The client's address and scheme as Django sees them (behind a proxy: as the proxy reports them)."""
    return JsonResponse({"remote_addr": request.META["REMOTE_ADDR"], "secure": request.is_secure()})


async def api(request):
    return JsonResponse({"message": "Hello from Django", "async": True})


async def slow(request):
    """Answers after ?seconds= (default 2, at most 30): shows a graceful shutdown letting it finish."""
    seconds = min(float(request.GET.get("seconds", "2")), 30.0)
    print(f"slow request started ({seconds} s)", flush=True)
    await asyncio.sleep(seconds)
    return HttpResponse(f"slept {seconds} s\n", content_type="text/plain")
