# expect: clean
"""Local server for the inventory API."""
import os

from flask import Flask

app = Flask(__name__)

options = dict(host=os.environ.get("HOST", "127.0.0.1"), port=5000)
options.update(debug=False, use_reloader=False)

if __name__ == "__main__":
    app.run(**options)
