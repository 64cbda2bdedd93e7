# expect: PGS101 line 18
from flask import Flask

app = Flask(__name__)
app.config["DEBUG"] = True


@app.route("/")
def index():
    return "under test"


def test_index_in_debug_mode():
    assert app.test_client().get("/").status_code == 200


if __name__ == "__main__":
    app.run(debug=True)
