# expect: PGS101 line 10
import json

from flask import Flask

OPTIONS = json.loads('{"host": "0.0.0.0", "debug": true}')
app = Flask(__name__)

if __name__ == "__main__":
    app.run(**OPTIONS)
