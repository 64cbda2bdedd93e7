# expect: clean
import logging
import os

from .base import Config, basedir


class ProductionConfig(Config):
    DEBUG = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + os.path.join(basedir, "data.sqlite")
    )

    @classmethod
    def init_app(cls, app):
        Config.init_app(app)
        handler = logging.StreamHandler()
        handler.setLevel(logging.WARNING)
        app.logger.addHandler(handler)
