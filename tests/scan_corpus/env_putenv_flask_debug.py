# expect: PGS104 line 6
import os

from flask import Flask

os.putenv("FLASK_DEBUG", "1")

server = Flask(__name__)
