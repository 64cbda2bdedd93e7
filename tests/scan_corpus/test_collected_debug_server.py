# expect: clean
from flask import Flask

app = Flask(__name__)


def testbed_server():
    # pytest collects this (the "test" prefix in a test_*.py file): test code.
    app.debug = True
    app.run(debug=True)


class TestServer:
    def test_debug_server_starts(self):
        app.config["DEBUG"] = True
        app.run(debug=True)
