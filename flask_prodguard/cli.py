"""The ``flask prodguard`` command group.

Registered through the ``flask.commands`` entry point, so it is available in
every app's ``flask`` command, even when the app fails to load. Commands that
need no app (``events``) never load it.
"""

from __future__ import annotations

import json

import click

from .catalogue import CATALOGUE
from .catalogue import COMMON_FIELDS
from .catalogue import FIELDS
from .catalogue import REQUEST_FIELDS
from .catalogue import SCHEMA_VERSION
from .catalogue import event_schema


@click.group("prodguard")
def prodguard() -> None:
    """Flask-ProdGuard: production safety checks and tools."""


def catalogue_as_data() -> dict[str, object]:
    """The catalogue as plain data (what ``events --format json`` prints)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "common_fields": {f.name: f.doc for f in COMMON_FIELDS},
        "request_fields": {f.name: f.doc for f in REQUEST_FIELDS},
        "events": [
            {
                "name": spec.name,
                "level": spec.level,
                "owasp": spec.owasp,
                "meaning": spec.meaning,
                "fields": {name: FIELDS[name].doc for name in spec.fields},
                "request": spec.request,
                "rate_limited": spec.rate_limited,
                "alert": spec.alert,
            }
            for spec in CATALOGUE.values()
        ],
    }


@prodguard.command("events")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "schema"]),
    default="text",
    show_default=True,
    help="text for people, json for machines, schema for the JSON Schema of events.",
)
def events_command(output_format: str) -> None:
    """Print the security event catalogue."""
    if output_format == "json":
        click.echo(json.dumps(catalogue_as_data(), indent=2))
        return
    if output_format == "schema":
        click.echo(json.dumps(event_schema(), indent=2))
        return
    click.echo(f"Flask-ProdGuard security events (schema version {SCHEMA_VERSION})")
    click.echo(
        "Logger: flask_prodguard.security. Every event has: "
        + ", ".join(f.name for f in COMMON_FIELDS)
        + "."
    )
    click.echo("Request events also have: " + ", ".join(f.name for f in REQUEST_FIELDS) + ".")
    for spec in CATALOGUE.values():
        click.echo("")
        flags = [spec.level]
        if spec.owasp:
            flags.append(f"OWASP {spec.owasp}")
        if spec.request:
            flags.append("request")
        if spec.rate_limited:
            flags.append("rate limited")
        if spec.alert:
            flags.append("alert")
        click.echo(click.style(spec.name, bold=True) + f"  [{', '.join(flags)}]")
        click.echo(f"  {spec.meaning}")
        for name in spec.fields:
            click.echo(f"    {name}: {FIELDS[name].doc}")
