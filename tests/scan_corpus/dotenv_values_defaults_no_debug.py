# expect: clean
"""The reporting dashboard: settings from .env over the built-in defaults."""
from dotenv import dotenv_values
from flask import Flask, render_template

from reports import latest_reports

DEFAULTS = {
    "APP_DEBUG": "0",
    "APP_SECRET": "dev-secret",
    "REPORTS_DIR": "reports",
    "PAGE_SIZE": "25",
}

# A missing .env (or a variable missing from it) keeps the default.
cfg = {**DEFAULTS, **dotenv_values(".env")}

app = Flask(__name__)
app.secret_key = cfg["APP_SECRET"]
app.debug = cfg["APP_DEBUG"] == "1"


@app.route("/")
def index():
    reports = latest_reports(cfg["REPORTS_DIR"], limit=int(cfg["PAGE_SIZE"]))
    return render_template("index.html", reports=reports)
