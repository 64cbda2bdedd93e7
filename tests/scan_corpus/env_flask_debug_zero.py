# expect: clean
import os

from flask import Flask

os.environ["FLASK_DEBUG"] = "0"

app = Flask(__name__)
