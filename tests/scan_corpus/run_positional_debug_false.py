# expect: clean
from flask import Flask

server = Flask(__name__)

if __name__ == "__main__":
    server.run("0.0.0.0", 5000, False)
