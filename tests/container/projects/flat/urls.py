from django.http import HttpResponse
from django.urls import path


def ping(request, tag):
    return HttpResponse(f"pong {tag}\n", content_type="text/plain")


urlpatterns = [
    path("", lambda request: HttpResponse("flat project\n", content_type="text/plain")),
    path("ping/<str:tag>/", ping),
]
