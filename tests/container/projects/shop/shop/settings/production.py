import os

from shop.settings.base import *  # noqa: F403

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-test-only")
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
# State on the image's writable places: the database on /data, uploads in WRITABLE_DIRS.
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "/data/shop.sqlite3"}}
MEDIA_ROOT = "/app/media"
