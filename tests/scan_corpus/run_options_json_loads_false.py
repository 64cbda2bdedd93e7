# expect: clean
import json

from flask import Flask

OPTIONS = json.loads('{"host": "0.0.0.0", "debug": false}')
app = Flask(__name__)

if __name__ == "__main__":
    app.run(**OPTIONS)
