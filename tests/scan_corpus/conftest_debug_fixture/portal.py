# expect: clean
from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(SECRET_KEY="dev")
    if test_config is not None:
        app.config.update(test_config)

    @app.route("/ping")
    def ping():
        return "pong"

    return app
