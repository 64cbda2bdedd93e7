# expect: clean
import os

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "postgresql:///library")
SQLALCHEMY_TRACK_MODIFICATIONS = False
BOOKS_PER_PAGE = 20
