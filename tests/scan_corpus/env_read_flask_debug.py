# expect: clean
import os

from flask import Flask

app = Flask(__name__)
if os.environ.get("FLASK_DEBUG") == "1":
    app.logger.warning("FLASK_DEBUG is set; refusing to start")
    raise SystemExit(1)
