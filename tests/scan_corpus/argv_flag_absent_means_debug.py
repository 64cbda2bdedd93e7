# expect: PGS103 line 10
"""Kiosk app: production only when started with --prod (the .bat file forgets it)."""
import sys

from flask import Flask

PRODUCTION = "--prod" in sys.argv

app = Flask(__name__)
app.config["DEBUG"] = not PRODUCTION


@app.route("/")
def index():
    return "kiosk"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000)
