# expect: clean
from flask import Flask


class PortalApp(Flask):
    """Our Flask, with the built-in server's defaults."""

    def run(self, host=None, port=None, debug=None, **options):
        if debug is None:
            debug = self.config.get("PORTAL_LOCAL_DEBUG", True)
        super().run(host=host, port=port, debug=debug, **options)
