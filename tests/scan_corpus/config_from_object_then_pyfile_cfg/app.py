# expect: clean
"""The club site: built-in defaults, then the deployment's settings.cfg over them."""
import os

from flask import Flask, render_template


class DefaultSettings:
    """What a fresh checkout runs with; settings.cfg beside this file overrides it."""

    SITE_NAME = "Riverside Rowing Club"
    CONTACT_EMAIL = "secretary@example.org"
    SECRET_KEY = "dev"
    DEBUG = True


app = Flask(__name__)
app.config.from_object(DefaultSettings)
app.config.from_pyfile(os.path.join(os.path.dirname(__file__), "settings.cfg"))


@app.route("/")
def home():
    return render_template("home.html", site=app.config["SITE_NAME"])
