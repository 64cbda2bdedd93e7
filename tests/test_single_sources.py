"""One source for each fact: the catalogue's fields, one timestamp function.

Which fields the guard trusts and how the output presets group fields are
read from the event catalogue; the security events and the server lines of
``serve`` write their timestamps through one function.
"""

from __future__ import annotations

import datetime
import json
import logging
import types
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask_prodguard.events import catalogue
from flask_prodguard.events import emitter
from flask_prodguard.events import output
from flask_prodguard.events.processors import REDACTED
from flask_prodguard.testing import capture_events
from flask_prodguard.tools.serving import ServerJSONFormatter

EVERY_FIELD = (*catalogue.COMMON_FIELDS, *catalogue.REQUEST_FIELDS, *catalogue.FIELDS.values())
BY_NAME = {field.name: field for field in EVERY_FIELD}

#: A value every redaction pattern recognises as a secret.
SECRET = "password=hunter2"

#: A fixed instant, with microseconds that must be cut, not rounded.
INSTANT = datetime.datetime(2026, 12, 5, 9, 30, 0, 123_999, tzinfo=datetime.UTC)


def _server_line(created: float) -> dict[str, Any]:
    """``serve``'s JSON line for a gunicorn error-log record made at ``created``."""
    record = logging.LogRecord("gunicorn.error", logging.INFO, "", 0, "Booting", (), None)
    record.created = created
    line: dict[str, Any] = json.loads(ServerJSONFormatter().format(record))
    return line


# -- trusted fields ---------------------------------------------------------------


def test_trusted_fields_are_the_ones_the_catalogue_marks(
    make_app: Callable[..., Flask],
) -> None:
    """The redactor of an app trusts exactly the fields the catalogue marks trusted."""
    marked = {field.name for field in EVERY_FIELD if field.trusted}
    parts = {part for field in EVERY_FIELD for part in field.trusted_parts}
    assert emitter.TRUSTED_FIELDS is catalogue.TRUSTED_FIELDS  # no second list
    assert catalogue.TRUSTED_FIELDS == marked
    assert catalogue.FIELDS["traceback"].trusted_parts == ("frames",)
    redactor = make_app().extensions["prodguard"].emitter.redactor
    assert redactor.allowed == marked
    assert redactor.trusted == marked | parts


@pytest.mark.parametrize(
    "spec",
    [catalogue.DEBUGGER_PROBE, catalogue.CHECK_FAILED, catalogue.ERROR_TEMPLATE_FAILED],
    ids=lambda spec: spec.name,
)
def test_emitted_fields_are_searched_unless_the_catalogue_trusts_them(
    make_app: Callable[..., Flask], spec: catalogue.EventSpec
) -> None:
    """A field the catalogue leaves untrusted has its secret redacted; a trusted one is kept."""
    app = make_app(PRODGUARD_REQUEST_ID_HEADER="X-Request-ID")
    environ = {
        "REMOTE_ADDR": SECRET,
        "REQUEST_METHOD": SECRET,
        "PATH_INFO": "/" + SECRET,
        "QUERY_STRING": SECRET,
        "HTTP_USER_AGENT": SECRET,
        "HTTP_X_REQUEST_ID": SECRET,
    }
    supplied = {name: SECRET for name in spec.fields}
    with capture_events() as captured:
        app.extensions["prodguard"].emitter.emit(spec, environ, **supplied)
    (event,) = captured
    names = [*spec.fields, *(field.name for field in catalogue.REQUEST_FIELDS if spec.request)]
    kept = [name for name in names if BY_NAME[name].trusted]
    searched = [name for name in names if not BY_NAME[name].trusted]
    assert kept and searched, "the event must exercise both kinds of field"
    for name in kept:
        assert event[name] == SECRET, name
    for name in searched:
        assert "hunter2" not in event[name] and REDACTED in event[name], name


# -- preset field groups ----------------------------------------------------------


def _event_with_every_http_field() -> dict[str, Any]:
    event: dict[str, Any] = {name: f"common-{name}" for name in catalogue.COMMON_NAMES}
    event.update({name: f"http-{name}" for name in catalogue.HTTP_NAMES})
    event["status"] = 599
    event["level"] = "error"
    event["action"] = "reported"  # a field of the event's own
    return event


def test_field_groups_are_derived_from_the_catalogue() -> None:
    """The groups the presets use are the catalogue's field lists, in order."""
    assert catalogue.COMMON_NAMES == tuple(field.name for field in catalogue.COMMON_FIELDS)
    request_names = tuple(field.name for field in catalogue.REQUEST_FIELDS)
    assert catalogue.HTTP_NAMES == (*request_names, "status")


def test_presets_group_fields_as_the_catalogue_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """Moving a field out of a catalogue group moves it in the preset output."""
    event = _event_with_every_http_field()
    ecs = output.PRESETS["ecs"](event, "message")
    otel = output.PRESETS["otel"](event, "message")
    assert ecs["user_agent"] == {"original": "http-user_agent"}
    assert ecs["prodguard"] == {"action": "reported"}
    assert otel["Resource"]["host.name"] == "common-host"
    assert "prodguard.host" not in otel["Attributes"]

    http = tuple(name for name in catalogue.HTTP_NAMES if name != "user_agent")
    common = tuple(name for name in catalogue.COMMON_NAMES if name != "host")
    monkeypatch.setattr(catalogue, "HTTP_NAMES", http)
    monkeypatch.setattr(catalogue, "COMMON_NAMES", common)
    ecs = output.PRESETS["ecs"](event, "message")
    otel = output.PRESETS["otel"](event, "message")
    assert "user_agent" not in ecs
    assert ecs["prodguard"]["user_agent"] == "http-user_agent"
    assert otel["Resource"]["host.name"] is None
    assert otel["Attributes"]["prodguard.host"] == "common-host"


@pytest.mark.parametrize("preset", sorted(set(output.PRESETS) - {"json"}))
def test_every_catalogue_http_field_reaches_every_preset(preset: str) -> None:
    """No preset drops a field of the catalogue's HTTP group: each value is written."""
    event = _event_with_every_http_field()
    rendered = json.dumps(output.PRESETS[preset](event, "message"))
    for name in catalogue.HTTP_NAMES:
        assert str(event[name]) in rendered, name


# -- one timestamp function ------------------------------------------------------


def test_events_and_server_lines_use_one_timestamp_function(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replacing ``output.format_timestamp`` changes both the events and serve's lines."""
    monkeypatch.setattr(output, "format_timestamp", lambda seconds: f"stamp-{seconds}")
    with capture_events() as captured:
        make_app()
    assert captured and all(e["timestamp"].startswith("stamp-") for e in captured)
    assert _server_line(1234.5)["timestamp"] == "stamp-1234.5"


def test_events_and_server_lines_write_the_same_instant_alike(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At one instant, an event and a server line carry the same millisecond UTC timestamp."""
    seconds = INSTANT.timestamp()
    monkeypatch.setattr(emitter, "time", types.SimpleNamespace(time=lambda: seconds))
    with capture_events() as captured:
        make_app()
    expected = "2026-12-05T09:30:00.123Z"
    assert captured and {e["timestamp"] for e in captured} == {expected}
    assert _server_line(seconds)["timestamp"] == expected
