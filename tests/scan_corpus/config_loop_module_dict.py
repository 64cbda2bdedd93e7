# expect: PGS103 line 13
from flask import Flask

SETTINGS = {
    "SECRET_KEY": "change-me",
    "DEBUG": True,
    "JSON_SORT_KEYS": False,
}

app = Flask(__name__)

for key, value in SETTINGS.items():
    app.config[key] = value
