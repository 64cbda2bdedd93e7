"""Fault injection: broken handlers, sinks, templates, structlog, clocks and contextvars."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.testing import capture_events

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


def test_raising_log_handler_leaves_requests_correct(build_app: Callable[..., Flask]) -> None:
    """A handler on the security logger that raises never breaks a request."""
    logger = logging.getLogger("flask_prodguard.security")
    logger.addHandler(_ExplodingHandler())
    app = build_app(name="faults_handler", PRODGUARD_ENV="production")
    ProdGuard(app)
    _assert_normal_responses(app)


def test_full_destination_leaves_requests_correct(
    build_app: Callable[..., Flask],
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Events written to /dev/full fail; responses are correct and stderr says so once."""
    app = build_app(
        name="faults_dev_full",
        PRODGUARD_ENV="production",
        PRODGUARD_LOG_DESTINATION="/dev/full",
    )
    ProdGuard(app)
    _assert_normal_responses(app)
    err = capfd.readouterr().err
    assert err.count("flask_prodguard: cannot write security events to /dev/full") == 1, err


def test_broken_error_template_serves_builtin_page(
    build_app: Callable[..., Flask], tmp_path: Path
) -> None:
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


def test_structlog_misconfigured_by_app(
    build_app: Callable[..., Flask], structlog_restored: None
) -> None:
    """An app's broken structlog configuration affects neither events nor requests."""
    structlog.configure(processors=[lambda *a: 1 / 0])
    app = build_app(name="faults_structlog", PRODGUARD_ENV="production")
    with capture_events() as captured:
        ProdGuard(app)
        _assert_normal_responses(app)
    names = [e["event"] for e in captured if e.get("app") == app.name]
    assert names.count(PROBE) == 3 and names.count(ERROR) == 3, names


def test_clock_jumps_keep_flood_control_working(
    build_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
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


def test_contextvars_cleared_mid_request(build_app: Callable[..., Flask]) -> None:
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
    build_app: Callable[..., Flask],
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A sink failing on every event is reported exactly once on stderr."""
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


class _Row:
    """An ORM row that cannot lazy-load: its repr fails with the connection string."""

    def __repr__(self) -> str:
        raise RuntimeError("not bound to a session: postgresql://app:hunter2@db/prod")


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("postgresql://app:hunter2@db/prod")


def test_template_failing_with_hostile_exception_serves_builtin_page(
    build_app: Callable[..., Flask], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error template failing with an exception whose str() fails: built-in page, event."""
    (tmp_path / "error.html").write_text("{{ error_id }}", encoding="utf-8")
    app = build_app(
        name="faults_hostile_template",
        PRODGUARD_ENV="production",
        PRODGUARD_ERROR_TEMPLATE="error.html",
    )
    app.template_folder = str(tmp_path)
    ProdGuard(app)
    template_env = app.wsgi_app.net.pages._template_env  # type: ignore[attr-defined]

    def get_template(name: str) -> None:
        {}[_Row()]

    monkeypatch.setattr(template_env, "get_template", get_template)
    with capture_events() as captured:
        response = app.test_client().get("/boom")
    assert response.status_code == 500 and b"<title>500 Internal Server Error" in response.data
    assert response.headers["X-Error-ID"].encode() in response.data
    (failed,) = [e for e in captured if e["event"] == "prodguard.error.template_failed"]
    assert failed["exception_type"] == "KeyError"
    assert failed["exception_message"].startswith("<unprintable ")
    assert "hunter2" not in str(captured)


def test_passthrough_description_that_cannot_be_printed(
    build_app: Callable[..., Flask],
) -> None:
    """abort(400, description=obj) whose str() fails, in passthrough: the standard text."""
    from flask import abort

    app = build_app(
        name="faults_hostile_description",
        PRODGUARD_ENV="production",
        PRODGUARD_HTTP_DESCRIPTIONS="passthrough",
    )

    @app.get("/bad")
    def bad() -> str:
        abort(400, description=_Unprintable())

    ProdGuard(app)
    with capture_events() as captured:
        response = app.test_client().get("/bad")
    assert response.status_code == 400
    assert b"The browser (or proxy) sent a request that this server could not" in response.data
    assert [e["status"] for e in captured if e["event"] == "prodguard.error.http"] == [400]
    assert not [e for e in captured if e["event"] == "prodguard.error.unhandled"]


def test_log_filter_raising_a_hostile_exception_leaves_the_net_whole(
    build_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A filter on the security logger raising an unprintable error: still the generic 500."""
    from flask import Response
    from flask_prodguard.events import emitter as events

    class Hostile(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if str(getattr(record, "event", "")).startswith("prodguard.error"):
                {}[_Row()]
            return True

    app = build_app(name="faults_hostile_filter", PRODGUARD_ENV="production")

    @app.get("/stream")
    def stream() -> Response:
        def generate() -> Iterator[bytes]:
            raise RuntimeError("stream hunter2")
            yield b""  # pragma: no cover

        return Response(generate())

    ProdGuard(app)
    security = logging.getLogger("flask_prodguard.security")
    hostile = Hostile()
    security.addFilter(hostile)
    try:
        for path in ("/stream", "/boom"):
            monkeypatch.setattr(events, "_failure_reported", False)
            response = app.test_client().get(path)
            assert response.status_code == 500 and response.headers.get("X-Error-ID")
            assert b"hunter2" not in response.data
    finally:
        security.removeFilter(hostile)
    # The notice names the failure's class only: its message is neither
    # printable nor safe to print unredacted.
    err = capfd.readouterr().err
    assert "could not emit prodguard.error" in err and ": KeyError" in err, err
    assert "hunter2" not in err
