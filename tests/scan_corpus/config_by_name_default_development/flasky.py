# expect: clean
"""The entry point: ``flask --app flasky run`` or ``gunicorn flasky:app``."""
from portal import create_app

app = create_app()
