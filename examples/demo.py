"""A small app guarded by Flask-ProdGuard, for trying the guard out.

Serve it in production mode on a real WSGI server::

    gunicorn --bind 127.0.0.1:8000 --chdir examples 'demo:create_app()'

then open:

- http://127.0.0.1:8000/          a normal page
- http://127.0.0.1:8000/boom      a view that raises: a generic 500, no traceback
- http://127.0.0.1:8000/console   the Werkzeug debugger console path: a plain 404
- http://127.0.0.1:8000/?__debugger__=yes&cmd=resource&f=debugger.js   also a 404

and watch the security events (JSON lines) on the server's stderr.

Even ``python examples/demo.py``, which asks for ``app.run(debug=True)``, gets
no debugger: the guard switches debug mode off and says so.
"""

from flask import Flask
from flask_prodguard import ProdGuard


def create_app() -> Flask:
    app = Flask(__name__)
    # Deliberately unsafe, as many real apps are: the guard fixes it.
    app.config["DEBUG"] = True

    @app.get("/")
    def index() -> str:
        return (
            "<h1>Guarded by Flask-ProdGuard</h1>"
            '<ul><li><a href="/boom">/boom</a> raises an exception</li>'
            '<li><a href="/console">/console</a> is the debugger console path</li></ul>'
        )

    @app.get("/boom")
    def boom() -> str:
        secret = "hunter2"
        raise RuntimeError(f"database password {secret} rejected")

    ProdGuard(app)
    return app


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=8000, debug=True)
