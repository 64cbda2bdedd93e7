# expect: clean
from flask import Flask


def create_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "wiki-dev"

    @app.route("/")
    def front_page():
        return "Welcome to the wiki"

    return app
