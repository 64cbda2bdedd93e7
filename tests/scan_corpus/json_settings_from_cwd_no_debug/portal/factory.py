# expect: clean
from flask import Flask

from .settings import load_settings


def create_app(settings=None):
    settings = settings or load_settings()
    app = Flask("portal")
    app.config.from_mapping(settings["flask"])
    return app
