# expect: PGS101 line 14
from flask import Flask

server = Flask(__name__)
opts = dict(debug=True, threaded=True)


@server.get("/ping")
def ping():
    return "pong"


if __name__ == "__main__":
    server.run(port=8080, **opts)
