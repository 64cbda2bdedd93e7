"""The event emitter: transport, default handler, safety."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_prodguard import ProdGuard
from flask_prodguard.events import emitter as events_module
from flask_prodguard.events.catalogue import CATALOGUE


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_default_handler_writes_json_lines_to_stderr(
    build_app: Callable[..., Flask],
    no_logging_configured: Callable[[], AbstractContextManager[None]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With no logging configured, each event is one JSON object per line on stderr."""
    with no_logging_configured():
        ProdGuard(build_app(PRODGUARD_ENV="production", DEBUG=True))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    parsed = _json_lines(err)
    assert len(parsed) == len(lines) == 2
    assert [e["event"] for e in parsed] == [
        "prodguard.debug.blocked",
        "prodguard.startup.posture",
    ]
    assert parsed[0]["level"] == "warning"


def test_default_handler_stands_aside_for_app_handler(
    build_app: Callable[..., Flask],
    no_logging_configured: Callable[[], AbstractContextManager[None]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """When the app has a handler that receives the events, nothing is duplicated."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    with no_logging_configured():
        logging.getLogger().addHandler(handler)
        ProdGuard(build_app(PRODGUARD_ENV="production", DEBUG=True))
    assert capsys.readouterr().err == ""
    assert [r.event for r in records] == [  # type: ignore[attr-defined]
        "prodguard.debug.blocked",
        "prodguard.startup.posture",
    ]
    assert records[0].sources == ["app.config DEBUG"]  # type: ignore[attr-defined]


def test_control_characters_never_reach_a_log_line(
    client: FlaskClient,
    no_logging_configured: Callable[[], AbstractContextManager[None]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A probe path with CR, LF and ESC produces one escaped line, not a forged one."""
    capsys.readouterr()
    with no_logging_configured():
        client.get(
            "/?__debugger__=yes",
            environ_base={"HTTP_USER_AGENT": 'x\r\n{"event": "forged"}\x1b[31m'},
        )
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\r" not in err
    (line,) = err.strip().splitlines()
    probe = json.loads(line)
    assert probe["event"] == "prodguard.debugger.probe"
    assert "\\x0d\\x0a" in probe["user_agent"] and "\\x1b" in probe["user_agent"]


def test_failing_handler_never_breaks_a_request(client: FlaskClient) -> None:
    """A log sink that raises does not turn a probe into a server error."""

    class Broken(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise OSError("disk full")

        def handleError(self, record: logging.LogRecord) -> None:
            raise OSError("still broken")

    logger = logging.getLogger("flask_prodguard.security")
    broken = Broken()
    logger.addHandler(broken)
    try:
        response = client.get("/?__debugger__=yes")
    finally:
        logger.removeHandler(broken)
    assert response.status_code == 404


def test_catalogue_entries_are_complete() -> None:
    """Every event has a dotted stable name, a level and a meaning."""
    assert len(CATALOGUE) >= 9
    for name, spec in CATALOGUE.items():
        assert name == spec.name and name.startswith("prodguard.") and name.count(".") == 2
        assert spec.level in ("debug", "info", "warning", "error", "critical")
        assert spec.meaning


def test_field_names_do_not_clash_with_log_records() -> None:
    """No event field collides with a LogRecord attribute (stdlib would raise)."""
    reserved = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}
    for spec in CATALOGUE.values():
        assert not set(spec.fields) & reserved, spec.name


def test_long_values_are_capped() -> None:
    """Strings longer than the cap are cut and marked."""
    from flask_prodguard.events.processors import sanitise_text

    text = sanitise_text("a" * 10_000)
    assert len(text) < 2100 and text.endswith("more characters]")
    assert events_module.SCHEMA_VERSION == 1


def test_each_failing_destination_reported_once(
    build_app: Callable[..., Flask],
    tmp_path: Any,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two failing destinations are both reported; a recovered one is reported again."""
    from flask_prodguard.events import output

    full = build_app(
        "fail-a", PRODGUARD_ENV="production", PRODGUARD_LOG_DESTINATION="/dev/full"
    )
    ProdGuard(full)
    target = tmp_path / "events.log"
    other = build_app(
        "fail-b", PRODGUARD_ENV="production", PRODGUARD_LOG_DESTINATION=str(target)
    )
    ProdGuard(other)
    stream = output._files[str(target)]
    stream.close()
    monkeypatch.setattr(
        output, "_open_destination", lambda d: stream if d == str(target) else open(d, "a")
    )
    other.test_client().get("/?__debugger__=yes")
    other.test_client().get("/?__debugger__=yes")
    err = capfd.readouterr().err
    assert err.count("cannot write security events to /dev/full") == 1
    assert err.count(f"cannot write security events to {target}") == 1


def test_logger_disabled_by_dictconfig_is_re_enabled(
    build_app: Callable[..., Flask], tmp_path: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    """dictConfig(disable_existing_loggers=True) does not silently drop security events."""
    import logging.config

    target = tmp_path / "events.log"
    app = build_app(
        "disabled", PRODGUARD_ENV="production", PRODGUARD_LOG_DESTINATION=str(target)
    )
    ProdGuard(app)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logging.config.dictConfig({"version": 1, "root": {"level": "INFO"}})
        assert logging.getLogger("flask_prodguard.security").disabled
        app.test_client().get("/?__debugger__=yes")
    finally:
        root.handlers[:], root.level = saved
    assert target.read_text().count("prodguard.debugger.probe") == 1
    assert "re-enabled it" in capfd.readouterr().err


def test_bare_basic_config_does_not_silence_json_lines(
    build_app: Callable[..., Flask],
    no_logging_configured: Callable[[], AbstractContextManager[None]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bare logging.basicConfig() (as waitress-serve calls) keeps the JSON lines coming."""
    app = build_app("basic-config", PRODGUARD_ENV="production")
    ProdGuard(app)
    with no_logging_configured():
        logging.basicConfig()
        try:
            capsys.readouterr()
            app.test_client().get("/?__debugger__=yes")
        finally:
            for handler in list(logging.getLogger().handlers):
                logging.getLogger().removeHandler(handler)
    lines = _json_lines(capsys.readouterr().err)
    assert [line["event"] for line in lines] == ["prodguard.debugger.probe"]
