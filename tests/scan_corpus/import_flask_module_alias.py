# expect: PGS101 line 13
import flask as fk

server = fk.Flask(__name__)


@server.route("/")
def index():
    return "module alias"


if __name__ == "__main__":
    server.run(debug=True)
