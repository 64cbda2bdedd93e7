# expect: PGS101 line 19
import unittest

from flask import Flask

app = Flask(__name__)


class DebugPagesTest(unittest.TestCase):
    # unittest collects this class's test methods wherever it is defined.
    def test_debug_page(self):
        app.debug = True
        app.run(debug=True)


def testbed_server():
    # Not a test: pytest collects nothing from a file not named test_*.py,
    # and this is no TestCase method. It serves with the debugger.
    app.run(debug=True)
