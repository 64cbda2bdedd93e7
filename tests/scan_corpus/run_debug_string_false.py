# expect: PGS101 line 14
from flask import Flask

web = Flask(__name__)


@web.route("/")
def home():
    return "home"


if __name__ == "__main__":
    # A non-empty string is truthy: this turns debug mode on.
    web.run(debug="False")
