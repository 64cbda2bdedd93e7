# expect: PGS101 line 18
from decouple import config
from flask import Flask, jsonify

DEBUG = config("DEBUG", default=True, cast=bool)
PORT = config("PORT", default=8000, cast=int)

app = Flask(__name__)
app.config["SECRET_KEY"] = config("SECRET_KEY", default="dev")


@app.get("/api/ping")
def ping():
    return jsonify(pong=True)


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=PORT, debug=DEBUG)
