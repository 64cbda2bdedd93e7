# expect: PGS101 line 13
from flask import Flask

server = Flask(__name__)


@server.route("/health")
def health():
    return {"ok": True}


if __name__ == "__main__":
    server.run(host="127.0.0.1", port=5000, debug=1)
