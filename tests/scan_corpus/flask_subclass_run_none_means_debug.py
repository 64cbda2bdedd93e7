# expect: PGS101 line 32
"""The ticket desk: a Flask subclass with the team's local-run defaults."""
import logging

from flask import Flask, jsonify

log = logging.getLogger(__name__)


class Desk(Flask):
    """Flask with the desk's defaults for running it by hand."""

    def run(self, host=None, port=None, debug=None, **options):
        # Nobody passes debug= when running the desk by hand: give them the
        # debugger and the reloader unless they say otherwise.
        if debug is None:
            debug = True
        options.setdefault("use_reloader", debug)
        log.info("starting the desk on port %s", port or 5000)
        super().run(host=host, port=port, debug=debug, **options)


app = Desk(__name__)


@app.get("/tickets")
def tickets():
    return jsonify(tickets=[], total=0)


if __name__ == "__main__":
    app.run()
