# expect: clean
import os

from flask import Flask

from .config import config


def create_app():
    # FLASK_CONFIG picks the settings; unset, it is the default entry of the
    # dict of config classes.
    config_name = os.getenv("FLASK_CONFIG") or "default"

    app = Flask(__name__)
    app.config.from_object(config[config_name])
    config[config_name].init_app(app)

    from .main import main as main_blueprint

    app.register_blueprint(main_blueprint)
    return app
