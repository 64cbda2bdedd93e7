# expect: clean
import os

from flask import Flask


class ProductionConfig:
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    SECRET_KEY = os.environ.get("SECRET_KEY")


def create_app():
    app = Flask(__name__)
    # Development defaults first, then the production settings over them.
    app.config.from_mapping({"DEBUG": True, "SECRET_KEY": "dev"})
    app.config.from_object(ProductionConfig)

    @app.route("/")
    def index():
        return "ok"

    return app
