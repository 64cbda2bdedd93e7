# expect: clean
import os

from flask import Flask

# Flask reads "0", "false" and "no" as off.
os.environ.setdefault("FLASK_DEBUG", "false")

server = Flask(__name__)
