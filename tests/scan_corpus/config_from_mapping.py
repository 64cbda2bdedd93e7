# expect: PGS103 line 7
from flask import Flask


def create_app():
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY="dev",
        DEBUG=True,
    )
    return app
