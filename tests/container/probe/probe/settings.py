SECRET_KEY = "reliability-probe"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "probe.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
