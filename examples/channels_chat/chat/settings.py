"""A chat room over WebSockets: Channels with its in-memory channel layer (one process).

With several workers or machines, use channels_redis instead: the in-memory
layer only reaches consumers in the same process.
"""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-only-for-local-runs")
DEBUG = False
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
INSTALLED_APPS = ["channels", "chat"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "chat.urls"
DATABASES: dict = {}
USE_TZ = True
ASGI_APPLICATION = "chat.asgi.application"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
