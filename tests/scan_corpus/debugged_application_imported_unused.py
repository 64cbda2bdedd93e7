# expect: clean
from flask import Flask
from werkzeug.debug import DebuggedApplication  # noqa: F401

app = Flask(__name__)
