"""A guarded app with production settings: ``flask prodguard check`` finds nothing.

The secret key comes from the environment, never from the code::

    export SECRET_KEY="$(python -c 'import secrets; print(secrets.token_hex())')"
    flask --app cli_safe:create_app prodguard check

The documentation (docs/cli.rst) runs the check on it.
"""

import os

from flask import Flask
from flask_prodguard import ProdGuard


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ["SECRET_KEY"],
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )

    @app.get("/")
    def index() -> str:
        return "<h1>Nothing to report</h1>"

    ProdGuard(app)
    return app
