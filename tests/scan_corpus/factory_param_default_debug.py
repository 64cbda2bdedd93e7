# expect: PGS103 line 9
import os

from flask import Flask


def create_app(debug=True):
    app = Flask(__name__, instance_relative_config=True)
    app.config["DEBUG"] = debug
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "dev")
    os.makedirs(app.instance_path, exist_ok=True)

    @app.route("/hello")
    def hello():
        return "Hello, World!"

    return app
