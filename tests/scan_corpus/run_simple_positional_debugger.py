# expect: PGS105 line 8
from flask import Flask
from werkzeug.serving import run_simple

server = Flask(__name__)

if __name__ == "__main__":
    run_simple("127.0.0.1", 8000, server, True, True)
