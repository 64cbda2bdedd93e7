# expect: PGS101 line 31
"""Local launcher of the billing API (production uses gunicorn, see Procfile)."""
import logging

from flask import Flask, jsonify

log = logging.getLogger("billing.dev")

app = Flask(__name__)


@app.get("/invoices")
def invoices():
    return jsonify(invoices=[])


class DevServer:
    """Werkzeug's server around an app, with the settings we use on laptops."""

    def __init__(self, app, host="127.0.0.1", port=5050, debug=True):
        self.app = app
        self.host = host
        self.port = port
        self.debug = debug

    def url(self):
        return f"http://{self.host}:{self.port}/"

    def serve(self):
        log.info("billing API on %s (debug=%s)", self.url(), self.debug)
        self.app.run(host=self.host, port=self.port, debug=self.debug)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    DevServer(app).serve()
