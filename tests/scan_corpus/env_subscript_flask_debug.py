# expect: PGS104 line 6
import os

from flask import Flask

os.environ["FLASK_DEBUG"] = "1"

app = Flask(__name__)
