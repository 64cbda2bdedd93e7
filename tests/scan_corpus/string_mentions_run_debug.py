# expect: clean
"""Launcher for the web app.

Do not start it with app.run(debug=True) outside your laptop.
"""

from flask import Flask

HELP = "app.run(debug=True) enables the Werkzeug debugger"
SNIPPET = 'app.config["DEBUG"] = True'

web = Flask(__name__)
web.run()
