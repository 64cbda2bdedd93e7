# expect: clean
from flask import Flask

server = Flask(__name__)
server.debug = False
