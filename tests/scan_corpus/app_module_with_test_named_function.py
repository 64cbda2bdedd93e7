# expect: PGS102 line 13
# expect: PGS101 line 14
from flask import Flask

app = Flask(__name__)


def build_app():
    return app


def test_debug_server_starts():
    app.debug = True
    app.run(debug=True)
