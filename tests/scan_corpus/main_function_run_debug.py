# expect: PGS101 line 8
from flask import Flask

application = Flask(__name__)


def main():
    application.run(host="0.0.0.0", port=8000, debug=True)


if __name__ == "__main__":
    main()
