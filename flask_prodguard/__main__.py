"""``python -m flask_prodguard``: the ``flask prodguard`` commands without ``flask``.

``python -m flask_prodguard check --app module:app`` works where the ``flask``
command is not on the PATH (CI images, pre-commit hooks). Like the ``flask``
command, it loads ``.env`` and ``.flaskenv`` first (when python-dotenv is
installed); it loads no app until a command asks for one.
"""

from __future__ import annotations

import click
from flask.cli import load_dotenv

from .cli import alert_rules_command
from .cli import check_command
from .cli import events_command
from .cli import serve_command


@click.group(name="python -m flask_prodguard")
def cli() -> None:
    """Flask-ProdGuard: production safety checks and tools."""
    load_dotenv()


cli.add_command(check_command)
cli.add_command(events_command)
cli.add_command(serve_command)
cli.add_command(alert_rules_command)

if __name__ == "__main__":
    cli(prog_name="python -m flask_prodguard")
