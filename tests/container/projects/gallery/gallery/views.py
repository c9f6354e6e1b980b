import os

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt


def thumbnail(request, name):
    """A rendition written into a cache under MEDIA_ROOT at the first view, as image libraries do."""
    path = f"cache/thumbnails/{name}.txt"
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(f"thumbnail of {name}\n".encode()))
    with default_storage.open(path) as rendition:
        return HttpResponse(rendition.read(), content_type="text/plain")


@csrf_exempt
def upload(request):
    """A large upload (streamed through FILE_UPLOAD_TEMP_DIR), kept under MEDIA_ROOT."""
    upload = request.FILES["file"]
    name = default_storage.save(f"uploads/{upload.name}", upload)
    return HttpResponse(f"{default_storage.path(name)} {default_storage.size(name)} {os.getuid()}\n")
