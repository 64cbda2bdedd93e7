# expect: PGS101 line 9
from flask import Flask

VERBOSE = "yes"

app = Flask(__name__)

if __name__ == "__main__":
    app.run(debug=bool(VERBOSE))
