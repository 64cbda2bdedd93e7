# expect: clean
import os

from .base import Config, basedir


class DevelopmentConfig(Config):
    DEBUG = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("DEV_DATABASE_URL") or (
        "sqlite:///" + os.path.join(basedir, "data-dev.sqlite")
    )
