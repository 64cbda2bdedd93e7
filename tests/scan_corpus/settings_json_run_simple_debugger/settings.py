# expect: clean
"""The gateway's settings: settings.json beside this file."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def load_settings():
    with open(os.path.join(HERE, "settings.json")) as fh:
        return json.load(fh)
