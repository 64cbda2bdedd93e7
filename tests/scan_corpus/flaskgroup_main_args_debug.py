# expect: PGS107 line 22
"""manage.py: the project's command line, with the app factory built in."""
import os

from flask import Flask
from flask.cli import FlaskGroup


def create_app():
    app = Flask("portal")
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]

    @app.route("/")
    def index():
        return "portal"

    return app


if __name__ == "__main__":
    # ``python manage.py`` serves the app.
    FlaskGroup(create_app=create_app).main(args=["run", "--debug"])
