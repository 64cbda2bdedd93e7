# expect: PGS101 line 21
"""One way to run any of our Flask services locally."""
import logging

log = logging.getLogger(__name__)

DEFAULTS = {
    "host": "127.0.0.1",
    "port": 5000,
    "debug": True,
    "use_reloader": True,
    "threaded": True,
}


def run(app, **overrides):
    """Run ``app`` on Werkzeug's server: the DEFAULTS, then the caller's overrides."""
    options = dict(DEFAULTS)
    options.update(overrides)
    log.info("running %s on http://%s:%s", app.name, options["host"], options["port"])
    app.run(**options)
