# expect: PGS103 line 13
"""The settings module is named by APP_SETTINGS, as in Django projects."""
import importlib
import os

from flask import Flask

SETTINGS = os.environ.get("APP_SETTINGS", "settings.local")


def create_app():
    app = Flask(__name__)
    app.config.from_object(importlib.import_module(SETTINGS))
    return app


app = create_app()
