# expect: clean
import os

from flask import Flask

DEFAULTS = {"DEBUG": "0", "TESTING": "0"}

app = Flask(__name__)
app.config.update({key: os.environ.get(key, value) == "1" for key, value in DEFAULTS.items()})
