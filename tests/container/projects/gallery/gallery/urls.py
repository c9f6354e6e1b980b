from django.urls import path

from gallery import views

urlpatterns = [
    path("thumbnail/<str:name>/", views.thumbnail),
    path("upload/", views.upload),
]
