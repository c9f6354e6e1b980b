from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("", lambda request: HttpResponse("chat: connect to /ws/<room>/\n", content_type="text/plain"))]
