# expect: PGS101 line 13
import flask

application = flask.Flask(__name__)


@application.route("/")
def index():
    return flask.jsonify(status="ok")


if __name__ == "__main__":
    application.run(debug=True)
