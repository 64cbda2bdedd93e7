# expect: clean
import os

from flask import Flask

os.environ.pop("FLASK_DEBUG")

web = Flask(__name__)
