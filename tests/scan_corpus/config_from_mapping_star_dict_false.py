# expect: clean
from flask import Flask

SETTINGS = dict(SECRET_KEY="change-me", DEBUG="")


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(**SETTINGS)
    return app
