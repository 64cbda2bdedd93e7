# expect: PGS104 line 6
import os

from flask import Flask

os.environ.setdefault("FLASK_DEBUG", "1")


def create_app():
    return Flask(__name__)
