"""A one-file project's settings. EXTRA_APPS adds apps, as a project following Channels' guide adds "daphne"."""

import os

SECRET_KEY = "insecure-test-only"
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
INSTALLED_APPS = [app for app in os.environ.get("EXTRA_APPS", "").split(",") if app]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "urls"
DATABASES: dict = {}
USE_TZ = True
