# expect: clean
import os

from flask import Flask

server = Flask(__name__)
debug = os.environ.get("APP_ENV") == "development"

if __name__ == "__main__":
    server.run(debug=debug)
