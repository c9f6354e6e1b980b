from django.urls import path

from django_asgi.default_app import views

urlpatterns = [path("", views.index), path("health", views.health)]
