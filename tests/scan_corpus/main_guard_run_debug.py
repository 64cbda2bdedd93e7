# expect: PGS101 line 13
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "run directly"


if __name__ == "__main__":
    app.run(debug=True)
