from django.http import HttpResponse, JsonResponse


def plain(request):
    """A sync view: Django runs it in a thread."""
    return HttpResponse("Hello, world\n", content_type="text/plain")


async def json(request):
    """An async view: runs on the server's event loop."""
    return JsonResponse({"message": "Hello, world", "items": list(range(10))})
