"""A one-file project's settings.

EXTRA_APPS adds apps, as a project following Channels' guide adds "daphne"; LOGGING_SHAPE picks
one of the logging configurations real projects keep.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]  # required at import, as django-environ projects do
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
INSTALLED_APPS = ["django.contrib.staticfiles", *[app for app in os.environ.get("EXTRA_APPS", "").split(",") if app]]
MIDDLEWARE = ["servestatic.middleware.ServeStaticMiddleware"]
ROOT_URLCONF = "urls"
DATABASES: dict = {}
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "collected"
STATICFILES_DIRS = [BASE_DIR / "assets"]

_CONSOLE = {"console": {"class": "logging.StreamHandler"}}
LOGGING = {
    # As Django's documentation shows it: every logger that exists when this is applied goes quiet.
    "disable": {
        "version": 1,
        "disable_existing_loggers": True,
        "handlers": _CONSOLE,
        "root": {"handlers": ["console"]},
    },
    # Only warnings and worse, from anything.
    "root-warning": {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": _CONSOLE,
        "root": {"handlers": ["console"], "level": "WARNING"},
    },
}.get(os.environ.get("LOGGING_SHAPE", ""), {"version": 1, "disable_existing_loggers": False})
