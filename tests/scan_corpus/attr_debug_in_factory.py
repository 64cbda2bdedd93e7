# expect: PGS102 line 7
from flask import Flask


def create_app():
    app = Flask(__name__)
    app.debug = True
    app.config["SECRET_KEY"] = "dev"
    return app
