import django
import psycopg2
from django.http import HttpResponse
from django.urls import path


def versions(request):
    return HttpResponse(f"django {django.get_version()} psycopg2 {psycopg2.__version__.split()[0]}\n")


urlpatterns = [path("", versions)]
