# expect: clean
"""Settings read from the environment, with defaults for local work."""
import os
from distutils.util import strtobool

SECRET_KEY = os.getenv("SECRET_KEY", "change-me")
DEBUG = bool(strtobool(os.getenv("FLASK_DEBUG", "0")))
SQLALCHEMY_DATABASE_URI = os.getenv("DATABASE_URL", "sqlite:///notes.db")
SQLALCHEMY_TRACK_MODIFICATIONS = False
ITEMS_PER_PAGE = int(os.getenv("ITEMS_PER_PAGE", "25"))
