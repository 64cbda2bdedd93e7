# expect: PGS101 line 13
from flask import Flask

application = Flask(__name__)


@application.route("/")
def index():
    return "positional"


if __name__ == "__main__":
    application.run("0.0.0.0", 5000, True)
