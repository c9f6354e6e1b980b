BASE_DIR = __import__("pathlib").Path(__file__).resolve().parent.parent
SECRET_KEY = "uvsite-test-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "uvsite.urls"
INSTALLED_APPS = []
DATABASES = {}
