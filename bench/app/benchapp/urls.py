from django.urls import path

from benchapp import views

urlpatterns = [path("plain", views.plain), path("json", views.json), path("slow", views.slow), path("pid", views.pid)]
