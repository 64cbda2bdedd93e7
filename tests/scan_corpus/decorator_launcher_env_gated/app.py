# expect: clean
from flask import Flask

from launching import launch

app = Flask(__name__)

if __name__ == "__main__":
    launch(app, "127.0.0.1")
