# expect: clean
import os

from flask import Flask

app = Flask(__name__)

if os.environ.get("FLASK_ENV") == "development":
    app.run(debug=True)
