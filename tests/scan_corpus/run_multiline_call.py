# expect: PGS101 line 7
from flask import Flask

web = Flask(__name__)

if __name__ == "__main__":
    web.run(
        host="0.0.0.0",
        port=8000,
        debug=True,
    )
