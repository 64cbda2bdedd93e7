# expect: clean
"""Management commands: ``python manage.py runserver``, ``python manage.py initdb``."""
import sqlite3

import click
from flask import Flask, g

app = Flask(__name__)
app.config.from_mapping(DATABASE="shop.sqlite3", SECRET_KEY="dev")


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(app.config["DATABASE"])
    return g.db


@click.group()
def cli():
    """Shop management commands."""


@cli.command()
def initdb():
    """Create the tables."""
    with app.app_context():
        get_db().executescript(
            "CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT)"
        )
    click.echo("Initialized the database.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option("--debug/--no-debug", help="Run with the debugger and reloader.")
def runserver(host, port, debug):
    """Run the development server."""
    app.run(host=host, port=port, debug=debug)


if __name__ == "__main__":
    cli()
