# expect: PGS101 line 13
from flask import Flask

app = Flask(__name__)


@app.route("/")
def index():
    return "debugger without debug mode"


if __name__ == "__main__":
    app.run(use_debugger=True, use_reloader=False)
