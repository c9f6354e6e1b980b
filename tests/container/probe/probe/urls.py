from django.urls import path

from probe import views

urlpatterns = [
    path("", views.index),
    path("slow/", views.slow),
    path("body/", views.body),
    path("whoami/", views.whoami),
    path("collector/", views.collector),
]
