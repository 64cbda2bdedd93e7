# expect: clean
"""Settings from the python-dotenv docs' pattern: shared values, then secrets, then the environment."""
import os

from dotenv import dotenv_values
from flask import Flask

app = Flask(__name__)
app.config.from_mapping({**dotenv_values(".env.shared"), **dotenv_values(".env.secret"), **os.environ})


@app.route("/")
def index():
    return "reports"
