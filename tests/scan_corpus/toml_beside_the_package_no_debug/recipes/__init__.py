# expect: clean
import os
import tomllib

from flask import Flask


def create_app(config_file=None):
    app = Flask(__name__)
    app.config.from_file(config_file or os.path.join(os.path.dirname(app.root_path), "app.toml"), load=tomllib.load, text=False)
    return app
