# expect: clean
from flask import Flask

VERBOSE = ""

app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=bool(VERBOSE))
