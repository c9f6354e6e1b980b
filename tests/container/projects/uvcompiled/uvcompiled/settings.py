SECRET_KEY = "uvcompiled-test-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "uvcompiled.urls"
INSTALLED_APPS = []
DATABASES = {}
