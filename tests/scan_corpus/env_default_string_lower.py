# expect: PGS101 line 9
from os import environ

from flask import Flask

server = Flask(__name__)
VERBOSE = environ.get("SERVER_VERBOSE", "yes").lower() == "yes"

server.run(port=8000, debug=VERBOSE)
