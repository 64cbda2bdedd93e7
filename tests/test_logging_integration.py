"""Security events reach the app's logging as structured fields, whatever it uses.

The guard never configures logging for the app: no ``structlog.configure()``, no
``logging.basicConfig()``, no change to the root logger. These tests set logging
up the way apps do (nothing at all, ``dictConfig`` with python-json-logger,
structlog's ``ProcessorFormatter``, a plain text formatter) and send real
requests through the test client.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import logging.config
import re
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
import structlog
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.testing import capture_events
from werkzeug.test import TestResponse

PROBE = "/?__debugger__=yes&cmd=resource&f=debugger.js"
PROBE_EVENT = "prodguard.debugger.probe"
ERROR_EVENT = "prodguard.error.unhandled"
POSTURE_EVENT = "prodguard.startup.posture"


@contextlib.contextmanager
def root_level_restored() -> Iterator[None]:
    """Give the root logger its level back after the app's own configuration."""
    root = logging.getLogger()
    level = root.level
    try:
        yield
    finally:
        root.setLevel(level)


def guard_and_request(app: Flask, *paths: str, **kwargs: Any) -> list[TestResponse]:
    """``ProdGuard(app)`` and one GET per path, proving no global logging set-up.

    Fails if the guard calls ``structlog.configure``, ``logging.basicConfig`` or
    ``logging.config``, or changes the root logger's handlers or level or
    structlog's configuration.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    was_configured = structlog.is_configured()
    structlog_config = structlog.get_config()
    calls: list[str] = []

    def forbidden(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> None:
            calls.append(name)

        return call

    with pytest.MonkeyPatch.context() as patch:
        for owner, name in (
            (structlog, "configure"),
            (structlog, "configure_once"),
            (logging, "basicConfig"),
            (logging.config, "dictConfig"),
            (logging.config, "fileConfig"),
        ):
            patch.setattr(owner, name, forbidden(f"{owner.__name__}.{name}"))
        ProdGuard(app)
        client = app.test_client()
        responses = [client.get(path, **kwargs) for path in paths]

    assert calls == []
    assert root.handlers == handlers
    assert root.level == level
    assert structlog.is_configured() is was_configured
    assert structlog.get_config() == structlog_config
    return responses


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _only(records: list[dict[str, Any]], event: str, app: Flask) -> dict[str, Any]:
    (found,) = [r for r in records if r.get("event") == event and r.get("app") == app.name]
    return found


def _assert_probe_fields(probe: dict[str, Any]) -> None:
    assert probe["probe"] == "debugger_query"
    assert probe["path"] == "/"
    assert probe["client_ip"] == "127.0.0.1"
    assert re.fullmatch(r"[0-9a-f]{32}", probe["request_id"])


def _assert_error_fields(error: dict[str, Any]) -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", error["error_id"])
    assert error["exception_type"] == "RuntimeError"
    assert error["path"] == "/boom"
    (chained,) = error["traceback"]
    assert set(chained) == {"exception_type", "exception_message", "frames"}
    assert chained["exception_type"] == "RuntimeError"
    # The message is kept, with the word after "secret" redacted as free text.
    assert chained["exception_message"] == "planted secret [REDACTED]"
    assert chained["frames"]
    for frame in chained["frames"]:
        assert set(frame) == {"file", "line", "function"}
        assert isinstance(frame["file"], str) and isinstance(frame["line"], int)
    assert chained["frames"][-1]["function"] == "boom"
    assert chained["frames"][-1]["file"].endswith("conftest.py")


# -- no logging configured ---------------------------------------------------------


def test_no_logging_configured_writes_json_lines_to_stderr(
    build_app: Callable[..., Flask],
    no_logging_configured: Callable[[], AbstractContextManager[None]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With no logging set up, the guard's own handler writes one JSON object per line."""
    app = build_app(name="li_stderr", PRODGUARD_ENV="production")
    capsys.readouterr()
    assert not structlog.is_configured()
    with no_logging_configured():
        probe_response, boom_response = guard_and_request(app, PROBE, "/boom")
    assert not structlog.is_configured()
    assert probe_response.status_code == 404
    assert boom_response.status_code == 500

    err = capsys.readouterr().err
    assert err.endswith("\n")
    lines = err.splitlines()
    records = _json_lines(err)
    assert len(records) == len(lines)
    assert [r["event"] for r in records if r["app"] == app.name] == [
        POSTURE_EVENT,
        PROBE_EVENT,
        ERROR_EVENT,
    ]
    _assert_probe_fields(_only(records, PROBE_EVENT, app))
    _assert_error_fields(_only(records, ERROR_EVENT, app))
    # Flask's own "Exception on /boom" text never reaches stderr.
    assert "Exception on" not in err


# -- unhandled exceptions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("replace", "flask_records"),
    [(None, 0), (False, 1)],
    ids=["replaced-by-default", "kept-when-disabled"],
)
def test_unhandled_exception_event_and_flask_record(
    build_app: Callable[..., Flask], replace: bool | None, flask_records: int
) -> None:
    """/boom emits the structured error event; Flask's record is dropped unless opted out."""
    config: dict[str, Any] = {"PRODGUARD_ENV": "production"}
    if replace is not None:
        config["PRODGUARD_REPLACE_EXCEPTION_LOG"] = replace
    app = build_app(name=f"li_exc_{replace}", **config)
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    collect = Collect()
    app.logger.addHandler(collect)
    try:
        with capture_events() as events:
            (response,) = guard_and_request(app, "/boom")
    finally:
        app.logger.removeHandler(collect)

    assert response.status_code == 500
    assert b"hunter2" not in response.data
    error = _only(events, ERROR_EVENT, app)
    _assert_error_fields(error)
    flask_record = [r for r in seen if r.getMessage().startswith("Exception on /boom")]
    assert len(flask_record) == flask_records
    if flask_record:
        exc_info = flask_record[0].exc_info
        assert exc_info is not None and exc_info[0] is RuntimeError


# -- dictConfig with python-json-logger ----------------------------------------------


def test_dictconfig_python_json_logger_gets_top_level_fields(
    build_app: Callable[..., Flask],
    no_logging_configured: Callable[[], AbstractContextManager[None]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """dictConfig + JsonFormatter: the event's fields are top-level JSON keys, no duplicate."""
    stream = io.StringIO()
    app = build_app(name="li_dictconfig", PRODGUARD_ENV="production")
    capsys.readouterr()
    with no_logging_configured(), root_level_restored():
        logging.config.dictConfig(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {
                    "json": {
                        "()": "pythonjsonlogger.json.JsonFormatter",
                        "fmt": "%(levelname)s %(name)s %(message)s",
                    }
                },
                "handlers": {
                    "memory": {
                        "class": "logging.StreamHandler",
                        "stream": stream,
                        "formatter": "json",
                    }
                },
                "root": {"level": "INFO", "handlers": ["memory"]},
            }
        )
        handler = logging.getLogger().handlers[0]
        try:
            guard_and_request(app, PROBE, "/boom")
        finally:
            handler.close()
    assert not structlog.is_configured()

    records = _json_lines(stream.getvalue())
    probe = _only(records, PROBE_EVENT, app)
    _assert_probe_fields(probe)
    assert probe["levelname"] == "WARNING"
    assert probe["name"] == "flask_prodguard.security"
    assert probe["message"].startswith(f"{PROBE_EVENT} ")
    _assert_error_fields(_only(records, ERROR_EVENT, app))
    # The app's handler got the events: the guard's stderr handler stayed silent.
    assert capsys.readouterr().err == ""


# -- structlog configured by the app ------------------------------------------------


def test_structlog_processor_formatter_renders_event_and_fields(
    build_app: Callable[..., Flask],
    no_logging_configured: Callable[[], AbstractContextManager[None]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The app's structlog ProcessorFormatter renders the guard's events with their fields."""
    stream = io.StringIO()
    app = build_app(name="li_structlog", PRODGUARD_ENV="production")
    capsys.readouterr()
    timestamper = structlog.processors.TimeStamper(fmt="iso")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), timestamper],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    try:
        structlog.configure(
            processors=[
                structlog.stdlib.add_log_level,
                timestamper,
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=False,
        )
        with no_logging_configured(), root_level_restored():
            root = logging.getLogger()
            root.addHandler(handler)
            root.setLevel(logging.INFO)
            try:
                guard_and_request(app, PROBE, "/boom")
                structlog.get_logger("li_structlog.app").info("app.ready", workers=2)
            finally:
                root.removeHandler(handler)
                handler.close()
    finally:
        structlog.reset_defaults()
    assert not structlog.is_configured()

    records = _json_lines(stream.getvalue())
    probe = _only(records, PROBE_EVENT, app)
    _assert_probe_fields(probe)
    # ISO-8601 UTC, whoever stamped it last (here the app's TimeStamper).
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", probe["timestamp"])
    assert "_record" not in probe and "_from_structlog" not in probe
    _assert_error_fields(_only(records, ERROR_EVENT, app))
    # The app's own structlog events share the handler with the guard's.
    (own,) = [r for r in records if r["event"] == "app.ready"]
    assert own["workers"] == 2
    assert capsys.readouterr().err == ""


# -- plain text formatter ---------------------------------------------------------------


def test_plain_text_formatter_gets_one_readable_line(
    build_app: Callable[..., Flask],
    no_logging_configured: Callable[[], AbstractContextManager[None]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A plain %(message)s formatter shows a one-line summary, even for a CRLF header."""
    stream = io.StringIO()
    app = build_app(name="li_text", PRODGUARD_ENV="production")
    capsys.readouterr()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    with no_logging_configured():
        root = logging.getLogger()
        root.addHandler(handler)
        try:
            guard_and_request(
                app, PROBE, environ_base={"HTTP_USER_AGENT": "x\r\nWARNING forged\x1b[2J"}
            )
        finally:
            root.removeHandler(handler)
            handler.close()

    lines = stream.getvalue().splitlines()
    # The posture (INFO, let through by the security logger's own level) and the probe.
    assert len(lines) == 2
    assert lines[0].startswith(f"INFO flask_prodguard.security: {POSTURE_EVENT}")
    probe = lines[1]
    assert probe.startswith(f"WARNING flask_prodguard.security: {PROBE_EVENT} ")
    assert "probe=debugger_query" in probe and "path=/" in probe
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()
    assert capsys.readouterr().err == ""


# -- the guard leaves global logging alone ------------------------------------------------


def test_guard_leaves_root_logger_and_structlog_alone(build_app: Callable[..., Flask]) -> None:
    """ProdGuard(app) and requests change neither the root logger nor structlog's config."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    assert not structlog.is_configured()
    app = build_app(name="li_global", PRODGUARD_ENV="production", DEBUG=True)
    with root_level_restored():
        # A level nobody would pick as a default, so any change shows.
        root.setLevel(logging.ERROR)
        guard_and_request(app, PROBE, "/boom", "/")
        assert root.level == logging.ERROR
    assert not structlog.is_configured()
    assert root.handlers == handlers
    security = logging.getLogger("flask_prodguard.security")
    assert security.propagate is True
