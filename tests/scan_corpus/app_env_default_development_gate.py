# expect: PGS103 line 17
"""Application factory of the support portal."""
import os

from flask import Flask


def create_app():
    app = Flask(__name__)
    app.config["APP_ENV"] = os.environ.get("APP_ENV", "development")
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "dev")
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "DATABASE_URL", "sqlite:///support.db"
    )

    if app.config["APP_ENV"] == "development":
        app.config["DEBUG"] = True
        app.config["TEMPLATES_AUTO_RELOAD"] = True
        app.config["EXPLAIN_TEMPLATE_LOADING"] = False

    from support.views import bp

    app.register_blueprint(bp)
    return app
