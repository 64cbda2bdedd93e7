# expect: clean
from config import DEBUG
from flask import Flask

server = Flask(__name__)

if __name__ == "__main__":
    server.run(debug=DEBUG)
