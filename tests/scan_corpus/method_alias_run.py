# expect: PGS101 line 14
from flask import Flask

app = Flask(__name__)
serve = app.run


@app.route("/")
def index():
    return "served through an alias"


if __name__ == "__main__":
    serve(debug=True)
