from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("", lambda request: HttpResponse("flat project\n", content_type="text/plain"))]
