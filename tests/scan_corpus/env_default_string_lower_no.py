# expect: clean
from os import environ

from flask import Flask

server = Flask(__name__)
VERBOSE = environ.get("SERVER_VERBOSE", "no").lower() == "yes"

server.run(port=8000, debug=VERBOSE)
