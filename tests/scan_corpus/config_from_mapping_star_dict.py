# expect: PGS103 line 9
from flask import Flask

SETTINGS = dict(SECRET_KEY="change-me", DEBUG="on")


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(**SETTINGS)
    return app
