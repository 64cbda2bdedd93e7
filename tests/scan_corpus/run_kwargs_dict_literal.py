# expect: PGS101 line 9
from flask import Flask

app = Flask(__name__)

opts = {"host": "127.0.0.1", "port": 5000, "debug": True}

if __name__ == "__main__":
    app.run(**opts)
