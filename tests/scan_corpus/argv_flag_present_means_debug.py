# expect: clean
"""Kiosk app: debug only when started with --debug."""
import sys

from flask import Flask

DEBUG = "--debug" in sys.argv

app = Flask(__name__)
app.config["DEBUG"] = DEBUG


@app.route("/")
def index():
    return "kiosk"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
