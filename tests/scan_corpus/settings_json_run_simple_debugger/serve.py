# expect: PGS105 line 12
"""Serve the gateway on Werkzeug's server with the options of settings.json."""
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import run_simple

from gateway import create_app
from settings import load_settings


def serve(conf):
    app = ProxyFix(create_app(conf), x_for=1, x_proto=1)
    run_simple(
        conf["server"]["host"],
        conf["server"]["port"],
        app,
        use_reloader=conf["server"].get("reloader", False),
        use_debugger=conf["server"].get("debugger", False),
        threaded=True,
    )


if __name__ == "__main__":
    serve(load_settings())
