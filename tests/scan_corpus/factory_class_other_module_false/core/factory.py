# expect: clean
from flask import Flask, jsonify


class AppFactory:
    """Builds the portal app: its settings, error handlers and blueprints."""

    def __init__(self, name="portal"):
        self.name = name

    def build(self):
        app = Flask(self.name)
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
        self._register_error_handlers(app)
        return app

    def _register_error_handlers(self, app):
        @app.errorhandler(404)
        def not_found(error):
            return jsonify(error="not found"), 404
