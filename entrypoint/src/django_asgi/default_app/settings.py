"""Settings of the built-in default app: no database, no secrets worth keeping."""

import secrets

SECRET_KEY = secrets.token_urlsafe(50)  # nothing is signed that must outlive the process
DEBUG = False
# A demo page reached under whatever name the container has.
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "django_asgi.default_app.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
DATABASES: dict = {}
USE_TZ = True
# Django's default (America/Chicago) would become the process time zone, and the servers' log times with it.
TIME_ZONE = "UTC"
TEMPLATES: list = []
