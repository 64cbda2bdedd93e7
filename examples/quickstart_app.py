"""The app factory of the quickstart (docs/quickstart.rst), guarded.

Check it, then serve it on gunicorn::

    flask --app quickstart_app prodguard check
    gunicorn --bind 127.0.0.1:8000 'quickstart_app:create_app()'

``/report`` raises: the client gets a generic 500 with an error id, and the
``prodguard.error.unhandled`` event on stderr has the details.
"""

from flask import Flask
from flask_prodguard import ProdGuard


def create_app(test_config=None):
    app = Flask(__name__)
    # SECRET_KEY and other settings from FLASK_* environment variables.
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)

    @app.get("/")
    def index():
        return "Hello"

    @app.get("/report")
    def report():
        raise ConnectionError("cannot reach postgres://app:s3cret@db/reports")

    ProdGuard(app)
    return app
