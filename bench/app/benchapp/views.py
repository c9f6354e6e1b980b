import asyncio
import os

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse


def plain(request):
    """A sync view: Django runs it in a thread."""
    return HttpResponse("Hello, world\n", content_type="text/plain")


async def json(request):
    """An async view: runs on the server's event loop."""
    return JsonResponse({"message": "Hello, world", "items": list(range(10))})


async def slow(request):
    """Streams "started", then "done" after ?seconds= (default 3): a request in flight when the
    server is told to stop, seen started by the client before the signal."""
    seconds = float(request.GET.get("seconds", "3"))

    async def body():
        yield b"started\n"
        await asyncio.sleep(seconds)
        yield b"done\n"

    return StreamingHttpResponse(body(), content_type="text/plain")


async def pid(request):
    """The answering process's id, as the container sees it: which worker served."""
    return HttpResponse(str(os.getpid()), content_type="text/plain")
