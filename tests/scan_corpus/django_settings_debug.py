# expect: clean
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

DEBUG = True
ALLOWED_HOSTS = ["localhost"]
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth"]
