# expect: clean
import os

from flask import Flask, jsonify, request

app = Flask(__name__)
app.config["SECRET_KEY"] = os.getenv("SECRET_KEY", "dev")


def str2bool(v):
    return str(v).lower() in ("1", "true", "yes")


@app.route("/")
def index():
    return jsonify(message="hello")


@app.route("/echo", methods=["POST"])
def echo():
    return jsonify(request.get_json(silent=True) or {})


@app.errorhandler(404)
def not_found(error):
    return jsonify(error="not found"), 404


if __name__ == "__main__":
    app.run(
        host=os.getenv("HOST", "0.0.0.0"),
        port=int(os.getenv("PORT", "5000")),
        debug=str2bool(os.getenv("DEBUG", "no")),
    )
