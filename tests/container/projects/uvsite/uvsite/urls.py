import importlib.metadata
import importlib.util

from django.http import HttpResponse
from django.urls import path


def versions(request):
    """What the lock installed (and that its dev group was left out), beside the image's server."""
    found = {name: importlib.metadata.version(name) for name in ("django", "servestatic")}
    found["pytest"] = "installed" if importlib.util.find_spec("pytest") else "absent"
    return HttpResponse(" ".join(f"{name} {version}" for name, version in found.items()) + "\n")


urlpatterns = [path("", versions)]
