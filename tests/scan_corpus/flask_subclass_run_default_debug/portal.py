# expect: clean
"""The project's Flask class: JSON settings and the local run() defaults."""
from flask import Flask


class Portal(Flask):
    """Flask with the team's defaults."""

    def __init__(self, import_name, **kwargs):
        kwargs.setdefault("static_url_path", "/assets")
        super().__init__(import_name, **kwargs)
        self.json.sort_keys = False
        self.url_map.strict_slashes = False

    def run(self, host="127.0.0.1", port=8000, debug=True, load_dotenv=True, **options):
        """Run locally on port 8000 with the reloader and the debugger."""
        options.setdefault("threaded", True)
        super().run(host=host, port=port, debug=debug, load_dotenv=load_dotenv, **options)
