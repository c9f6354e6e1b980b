BASE_DIR = __import__("pathlib").Path(__file__).resolve().parent.parent
SECRET_KEY = "poetrysite-test-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "poetrysite.urls"
INSTALLED_APPS = []
DATABASES = {}
