# expect: PGS104 line 6
import os

from flask import Flask

os.environ.update(FLASK_DEBUG="1", FLASK_APP="web")

web = Flask(__name__)
