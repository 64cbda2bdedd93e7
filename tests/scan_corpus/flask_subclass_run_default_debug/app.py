# expect: PGS101 line 20
from flask import jsonify

from portal import Portal

app = Portal(__name__)


@app.get("/")
def index():
    return jsonify(service="portal", version="1.4.2")


@app.get("/users/<int:user_id>")
def user(user_id):
    return jsonify(id=user_id)


if __name__ == "__main__":
    app.run()
