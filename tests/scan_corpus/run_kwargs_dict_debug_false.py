# expect: clean
from flask import Flask

app = Flask(__name__)
opts = {"host": "0.0.0.0", "port": 8000, "debug": False}

if __name__ == "__main__":
    app.run(**opts)
