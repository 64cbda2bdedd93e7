# expect: clean
"""Application factory of the inventory service."""
import os

from flask import Flask

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def env_bool(name, default=False):
    """A yes/no setting from the environment; ``default`` where it is unset."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not a yes/no value")


def create_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "change-me")
    app.config["DEBUG"] = env_bool("APP_DEBUG", default=False)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "DATABASE_URL", "sqlite:///inventory.db"
    )
    app.config["JSON_SORT_KEYS"] = env_bool("APP_SORT_JSON")

    from inventory.views import bp

    app.register_blueprint(bp)
    return app
