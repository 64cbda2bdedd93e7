"""The event catalogue, its JSON Schema and ``flask prodguard events``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.events.catalogue import CATALOGUE
from flask_prodguard.events.catalogue import FIELDS
from flask_prodguard.events.catalogue import event_schema
from flask_prodguard.testing import capture_events
from flask_prodguard.testing import event_schema as shipped_schema
from flask_prodguard.testing import event_validator
from flask_prodguard.tools.cli import prodguard


def test_shipped_schema_is_generated_from_the_catalogue() -> None:
    """The schema file in the package is exactly what the catalogue generates."""
    assert shipped_schema() == event_schema()


def test_every_event_field_is_documented() -> None:
    """Each event lists only fields that have a type and a description."""
    for spec in CATALOGUE.values():
        for name in spec.fields:
            assert name in FIELDS and FIELDS[name].doc, (spec.name, name)


def test_validator_rejects_malformed_events(build_app: Callable[..., Flask]) -> None:
    """The schema is strict: unknown events, missing and extra fields fail."""
    with capture_events() as captured:
        ProdGuard(build_app("schema", PRODGUARD_ENV="production"))
    event = json.loads(json.dumps(captured[-1], default=str))
    validator = event_validator()
    validator.validate(event)
    for broken in (
        {**event, "event": "prodguard.made.up"},
        {**event, "unexpected": 1},
        {k: v for k, v in event.items() if k != "findings"},
        {**event, "level": "error"},
        {**event, "pid": "12"},
    ):
        assert list(validator.iter_errors(broken)), broken


def test_request_events_require_request_fields(build_app: Callable[..., Flask]) -> None:
    """A probe event without its request fields does not validate."""
    app = build_app("schema-req", PRODGUARD_ENV="production")
    ProdGuard(app)
    with capture_events() as captured:
        app.test_client().get("/?__debugger__=yes")
    probe = json.loads(json.dumps(captured[0], default=str))
    validator = event_validator()
    validator.validate(probe)
    del probe["client_ip"]
    assert list(validator.iter_errors(probe))


def test_cli_events_text_lists_every_event() -> None:
    """``flask prodguard events`` prints every event with level and meaning."""
    result = CliRunner().invoke(prodguard, ["events"])
    assert result.exit_code == 0, result.output
    for spec in CATALOGUE.values():
        assert spec.name in result.output
        assert spec.meaning in result.output


def test_cli_events_json_is_machine_readable() -> None:
    """``--format json`` gives the whole catalogue as JSON."""
    result = CliRunner().invoke(prodguard, ["events", "--format", "json"])
    data = json.loads(result.output)
    assert [e["name"] for e in data["events"]] == list(CATALOGUE)
    probe = next(e for e in data["events"] if e["name"] == "prodguard.debugger.probe")
    assert probe["owasp"] == "malicious_attempt" and probe["rate_limited"] is True


def test_cli_events_schema() -> None:
    """``--format schema`` prints the shipped JSON Schema."""
    result = CliRunner().invoke(prodguard, ["events", "--format", "schema"])
    assert json.loads(result.output) == shipped_schema()


def test_flask_command_has_the_group_without_an_app(tmp_path: Any) -> None:
    """The entry point makes ``flask prodguard events`` work with no app at all."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "prodguard", "events", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["schema_version"] == 1


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_names_are_dotted_and_stable(name: str) -> None:
    """Names are lower-case, dotted, three parts, prefixed prodguard."""
    parts = name.split(".")
    assert len(parts) == 3 and parts[0] == "prodguard"
    assert all(p.replace("_", "").isalpha() and p.islower() for p in parts)
