"""``python -m flask_prodguard``: the ``flask prodguard`` commands without ``flask``.

``python -m flask_prodguard check --app module:app`` works where the ``flask``
command is not on the PATH (CI images, pre-commit hooks).
"""

from __future__ import annotations

from flask.cli import FlaskGroup

from .cli import check_command
from .cli import events_command

cli = FlaskGroup(
    name="python -m flask_prodguard",
    help="Flask-ProdGuard: production safety checks and tools.",
    add_default_commands=False,
    add_version_option=False,
)
cli.add_command(check_command)
cli.add_command(events_command)

if __name__ == "__main__":
    cli(prog_name="python -m flask_prodguard")
