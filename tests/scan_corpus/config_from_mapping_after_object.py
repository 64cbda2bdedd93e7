# expect: PGS103 line 17
import os

from flask import Flask


class ProductionConfig:
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    SECRET_KEY = os.environ.get("SECRET_KEY")


def create_app():
    app = Flask(__name__)
    # The production settings first, then development values over them.
    app.config.from_object(ProductionConfig)
    app.config.from_mapping({"DEBUG": True, "SECRET_KEY": "dev"})

    @app.route("/")
    def index():
        return "ok"

    return app
