import os

import django
import psycopg2
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse


def index(request):
    return HttpResponse(
        f"shop on Django {django.get_version()}, psycopg2 {psycopg2.__version__.split()[0]} "
        f"(libpq {psycopg2.__libpq_version__})\n",
        content_type="text/plain",
    )


def visits(request):
    """A write to the database (the session) on every request."""
    request.session["visits"] = request.session.get("visits", 0) + 1
    return HttpResponse(f"visits: {request.session['visits']}\n", content_type="text/plain")


def upload(request):
    """A write to MEDIA_ROOT."""
    name = default_storage.save("notes/note.txt", ContentFile(b"written by the app\n"))
    return HttpResponse(f"{default_storage.path(name)} {os.getuid()}\n", content_type="text/plain")
