from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "gallery-test-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "gallery.urls"
INSTALLED_APPS = []
DATABASES = {}
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "/media/"
# Uploads over 1 KB go to a temporary file, here inside the tree too.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
FILE_UPLOAD_TEMP_DIR = BASE_DIR / "tmp" / "uploads"
