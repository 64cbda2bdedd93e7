# expect: clean
"""The ticket desk: a Flask subclass that never runs with the debugger."""
import logging

from flask import Flask, jsonify

log = logging.getLogger(__name__)


class Desk(Flask):
    """Flask with the desk's defaults for running it by hand."""

    def run(self, host=None, port=None, debug=None, **options):
        # The desk runs on a shared demo box: whatever the caller asks, no
        # debugger (it would let anyone who can reach the port run code).
        if debug:
            log.warning("debug=%r ignored: the desk never runs the debugger", debug)
        options["use_reloader"] = False
        log.info("starting the desk on port %s", port or 5000)
        super().run(host=host, port=port, debug=False, **options)


app = Desk(__name__)


@app.get("/tickets")
def tickets():
    return jsonify(tickets=[], total=0)


if __name__ == "__main__":
    app.run(debug=True)
