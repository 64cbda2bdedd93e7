# expect: clean
from flask import Flask

server = Flask(__name__)

if 0:
    server.debug = True
    server.run(debug=True)
