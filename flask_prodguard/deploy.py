"""Generated deployment files: gunicorn, supervisor, systemd, nginx (being written)."""

from __future__ import annotations

import click


@click.command("deploy-config")
def deploy_config_command() -> None:
    """Write deployment configuration files for the app."""
    raise click.ClickException("not implemented yet")
