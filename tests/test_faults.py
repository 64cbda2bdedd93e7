"""Fault injection: broken handlers, sinks, templates, structlog, clocks and contextvars."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from flask_prodguard import ProdGuard
from flask_prodguard import output
from flask_prodguard.testing import capture_events

from conftest import build_app

PROBE = "prodguard.debugger.probe"
ERROR = "prodguard.error.unhandled"


class _ExplodingHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        raise RuntimeError("handler exploded")

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802
        raise RuntimeError("handleError exploded too")


@pytest.fixture
def structlog_restored() -> Iterator[None]:
    """Give structlog its defaults back whatever the test configured."""
    yield
    structlog.reset_defaults()


def _assert_normal_responses(app: object) -> None:
    client = app.test_client()  # type: ignore[attr-defined]
    for _ in range(3):
        ok = client.get("/")
        assert ok.status_code == 200 and ok.data == b"hello"
        assert client.get("/?__debugger__=yes").status_code == 404
        boom = client.get("/boom")
        assert boom.status_code == 500
        assert re.fullmatch(r"[0-9a-f]{16}", boom.headers.get("X-Error-ID", ""))
        assert b"hunter2" not in boom.data and b"Traceback" not in boom.data


def test_raising_log_handler_leaves_requests_correct() -> None:
    """A handler on the security logger that raises never breaks a request."""
    logger = logging.getLogger("flask_prodguard.security")
    logger.addHandler(_ExplodingHandler())
    app = build_app(name="faults_handler", PRODGUARD_ENV="production")
    ProdGuard(app)
    _assert_normal_responses(app)


def test_full_destination_leaves_requests_correct(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events written to /dev/full fail; responses are correct and stderr says so once."""
    monkeypatch.setattr(output.default_handler, "_failing", set())
    app = build_app(
        name="faults_dev_full",
        PRODGUARD_ENV="production",
        PRODGUARD_LOG_DESTINATION="/dev/full",
    )
    ProdGuard(app)
    _assert_normal_responses(app)
    err = capfd.readouterr().err
    assert err.count("flask_prodguard: cannot write security events to /dev/full") == 1, err


def test_broken_error_template_serves_builtin_page(tmp_path: Path) -> None:
    """An error template with a syntax error falls back to the built-in page."""
    (tmp_path / "broken.html").write_text("{% if %}oops {{ status", encoding="utf-8")
    app = build_app(
        name="faults_template",
        PRODGUARD_ENV="production",
        PRODGUARD_ERROR_TEMPLATE="broken.html",
    )
    app.template_folder = str(tmp_path)
    with capture_events() as captured:
        ProdGuard(app)
        response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert b"oops" not in response.data and b"Traceback" not in response.data
    assert b"500" in response.data and response.headers.get("X-Error-ID")
    assert "prodguard.error.template_failed" in [e["event"] for e in captured]


def test_structlog_misconfigured_by_app(structlog_restored: None) -> None:
    """An app's broken structlog configuration affects neither events nor requests."""
    structlog.configure(processors=[lambda *a: 1 / 0])
    app = build_app(name="faults_structlog", PRODGUARD_ENV="production")
    with capture_events() as captured:
        ProdGuard(app)
        _assert_normal_responses(app)
    names = [e["event"] for e in captured if e.get("app") == app.name]
    assert names.count(PROBE) == 3 and names.count(ERROR) == 3, names


def test_clock_jumps_keep_flood_control_working(monkeypatch: pytest.MonkeyPatch) -> None:
    """Monotonic time jumping back and forth by hours never breaks flood control."""
    now = [time.monotonic()]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    app = build_app(
        name="faults_clock",
        PRODGUARD_ENV="production",
        PRODGUARD_RATE_LIMIT_BURST=2,
        PRODGUARD_RATE_LIMIT_WINDOW=60,
    )
    with capture_events() as captured:
        ProdGuard(app)
        flood = app.extensions["prodguard"].emitter.flood
        flood._clock = lambda: now[0]
        client = app.test_client()
        for jump in (0, -7200, 3600 * 5, -3600 * 3, 0, 86400):
            now[0] += jump
            for _ in range(4):
                assert client.get("/?__debugger__=yes").status_code == 404
    probes = [e for e in captured if e["event"] == PROBE and e.get("app") == app.name]
    # Every jump starts a new window: two probes get through in each of the six.
    assert 6 <= len(probes) <= 12, len(probes)
    assert len(probes) < 24


def test_contextvars_cleared_mid_request() -> None:
    """A view clearing structlog's contextvars after the request id exists breaks nothing."""
    app = build_app(
        name="faults_contextvars",
        PRODGUARD_ENV="production",
        PRODGUARD_REQUEST_ID_RESPONSE_HEADER="X-Request-ID",
    )

    @app.get("/clear")
    def clear() -> str:
        app.extensions["prodguard"].emitter.request_id(__import__("flask").request.environ)
        structlog.contextvars.clear_contextvars()
        return "cleared"

    ProdGuard(app)
    client = app.test_client()
    for _ in range(3):
        response = client.get("/clear")
        assert response.status_code == 200 and response.data == b"cleared"
        assert client.get("/").data == b"hello"
    assert structlog.contextvars.get_contextvars() == {}


def test_failing_sink_reported_once_on_stderr(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sink failing on every event is reported exactly once on stderr."""
    monkeypatch.setattr(output.default_handler, "_failing", set())
    app = build_app(
        name="faults_sink_once",
        PRODGUARD_ENV="production",
        PRODGUARD_LOG_DESTINATION="/dev/full",
    )
    ProdGuard(app)
    client = app.test_client()
    for _ in range(10):
        client.get("/boom")
        client.get("/?__debugger__=1")
    err = capfd.readouterr().err
    assert err.count("flask_prodguard:") == 1, err
    assert "reported once" in err
