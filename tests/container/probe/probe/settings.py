import os

SECRET_KEY = "reliability-probe"
DEBUG = False
ALLOWED_HOSTS = os.environ.get("PROBE_ALLOWED_HOSTS", "*").split(",")
ROOT_URLCONF = "probe.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
