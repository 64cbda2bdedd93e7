# expect: clean
"""Run the app on Werkzeug's development server, for local work only."""
import logging

log = logging.getLogger(__name__)


def serve(app, host="127.0.0.1", port=5000, debug=True):
    """Serve ``app`` locally with the reloader.

    Production runs the app under gunicorn (``gunicorn app:app``), never
    through this helper.
    """
    log.info("serving %s on http://%s:%s", app.name, host, port)
    app.run(host=host, port=port, debug=debug)
