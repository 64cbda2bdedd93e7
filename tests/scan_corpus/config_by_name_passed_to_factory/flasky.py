# expect: clean
"""The entry point: ``flask --app flasky run`` or ``gunicorn flasky:app``."""
import os

from portal import create_app

# FLASK_CONFIG picks the settings; unset, it is the default entry of the
# dict of config classes.
app = create_app(os.getenv("FLASK_CONFIG") or "default")
