# expect: clean
from flask import Flask

app = Flask(__name__)
app.config["DEBUG"] = True


def test_debug_flag():
    assert app.debug
