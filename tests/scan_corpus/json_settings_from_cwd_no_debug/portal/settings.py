# expect: clean
"""settings.json in the directory the service is started from."""
import json
import os

DEFAULT_PATH = os.path.join(os.getcwd(), "settings.json")


def load_settings(path=DEFAULT_PATH):
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)
