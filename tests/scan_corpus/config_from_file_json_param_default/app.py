# expect: PGS103 line 12
"""Application factory of the bookings service."""
import json
import os

from flask import Flask


def create_app(config_path=os.environ.get("BOOKINGS_CONFIG", "config/defaults.json")):
    """Build the app from a JSON settings file (relative to this folder)."""
    app = Flask(__name__)
    app.config.from_file(config_path, load=json.load)

    from bookings.api import api

    app.register_blueprint(api, url_prefix="/api")
    return app
