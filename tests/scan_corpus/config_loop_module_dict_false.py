# expect: clean
from flask import Flask

SETTINGS = {
    "SECRET_KEY": "change-me",
    "DEBUG": False,
    "JSON_SORT_KEYS": True,
}

app = Flask(__name__)

for key, value in SETTINGS.items():
    app.config[key] = value
