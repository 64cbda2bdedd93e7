"""``python -m flask_prodguard``: the ``flask prodguard`` commands without ``flask``.

``python -m flask_prodguard check --app module:app`` works where the ``flask``
command is not on the PATH (CI images, pre-commit hooks). Like the ``flask``
command, it loads ``.env`` and ``.flaskenv`` first (when python-dotenv is
installed and ``FLASK_SKIP_DOTENV`` is not set) and takes the app from
``--app`` or ``FLASK_APP``; it loads no app until a command asks for one.
"""

from __future__ import annotations

import os

import click
from flask.cli import ScriptInfo
from flask.cli import load_dotenv
from flask.helpers import get_load_dotenv

from .tools.cli import alert_rules_command
from .tools.cli import check_command
from .tools.cli import deploy_config_command
from .tools.cli import events_command
from .tools.cli import probe_command
from .tools.cli import scan_command
from .tools.cli import serve_command


@click.group(name="python -m flask_prodguard")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Flask-ProdGuard: production safety checks and tools."""
    # FLASK_SKIP_DOTENV=1 turns the files off for the flask command: the same
    # settings must not load a stray .env here (PRODGUARD_ENV=development).
    if get_load_dotenv():
        load_dotenv()
    # What the flask command's --app option would hold: FLASK_APP, perhaps
    # from .flaskenv. A command's own --app still wins.
    ctx.obj = ScriptInfo(app_import_path=os.environ.get("FLASK_APP") or None)


cli.add_command(check_command)
cli.add_command(events_command)
cli.add_command(serve_command)
cli.add_command(alert_rules_command)
cli.add_command(scan_command)
cli.add_command(deploy_config_command)
cli.add_command(probe_command)

if __name__ == "__main__":
    cli(prog_name="python -m flask_prodguard")
