# expect: clean
import os

from flask import Flask

LIVE = "LIVE" in os.environ or os.environ.get("TIER", "prod") in ("prod", "production")
CHATTY = not LIVE

app = Flask(__name__)

if __name__ == "__main__":
    app.run(port=8124, debug=CHATTY)
