# expect: PGS104 line 6
from os import environ

from flask import Flask

environ["FLASK_DEBUG"] = "true"

application = Flask(__name__)
