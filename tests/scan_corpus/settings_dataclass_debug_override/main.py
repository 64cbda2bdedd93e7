# expect: clean
from flask import Flask

from settings import settings

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url


@app.route("/notes")
def notes():
    return {"notes": []}


if __name__ == "__main__":
    app.run(host=settings.host, port=settings.port, debug=settings.debug)
