"""The extension object, environments and strictness levels, in process."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_prodguard import AlreadyRegisteredError
from flask_prodguard import ProdGuard
from flask_prodguard import UnsafeDeploymentError
from flask_prodguard.checks import REGISTRY
from flask_prodguard.policy import Strictness
from flask_prodguard.testing import capture_events
from flask_prodguard.wsgi.middleware import GuardMiddleware

UNSAFE = {
    "TESTING": True,
    "PROPAGATE_EXCEPTIONS": True,
    "TRAP_HTTP_EXCEPTIONS": True,
    "TRAP_BAD_REQUEST_ERRORS": True,
    "EXPLAIN_TEMPLATE_LOADING": True,
    "TEMPLATES_AUTO_RELOAD": True,
}


def test_state_lives_in_app_extensions(build_app: Callable[..., Flask], make_app: Any) -> None:
    """init_app stores per-app state under app.extensions['prodguard']."""
    guard = ProdGuard()
    assert not hasattr(guard, "app")
    app = build_app(PRODGUARD_ENV="staging")
    guard.init_app(app)
    state = app.extensions["prodguard"]
    assert state.settings.env == "staging"
    assert state.settings.strictness is Strictness.ENFORCE


def test_second_init_app_raises_clear_error(build_app: Callable[..., Flask]) -> None:
    """Registering the guard twice on one app is an error that says what to do."""
    app = build_app(PRODGUARD_ENV="production")
    guard = ProdGuard(app)
    with pytest.raises(AlreadyRegisteredError, match="already registered") as info:
        guard.init_app(app)
    assert isinstance(info.value, RuntimeError)
    with pytest.raises(AlreadyRegisteredError):
        ProdGuard(app)


def test_several_apps_keep_their_own_settings(build_app: Callable[..., Flask]) -> None:
    """One extension object, several apps, each with its own settings."""
    guard = ProdGuard()
    prod = build_app("prod", PRODGUARD_ENV="production", DEBUG=True)
    dev = build_app("dev", PRODGUARD_ENV="development", DEBUG=True)
    report = build_app(
        "rep", PRODGUARD_ENV="staging", PRODGUARD_STRICTNESS="report", DEBUG=True
    )
    for app in (prod, dev, report):
        guard.init_app(app)
    assert prod.extensions["prodguard"].settings.strictness is Strictness.ENFORCE
    assert dev.extensions["prodguard"].settings.strictness is Strictness.OFF
    assert report.extensions["prodguard"].settings.strictness is Strictness.REPORT
    assert (prod.debug, dev.debug, report.debug) == (False, True, True)


@pytest.mark.parametrize("env", ["development", "testing"])
def test_non_production_default_changes_nothing(
    build_app: Callable[..., Flask],
    env: str,
    events: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Development and testing with default strictness: nothing changes, no events."""
    # Other tests import gunicorn and waitress into this process, which would
    # look like a production server serving it (PG601).
    for module in ("gunicorn.arbiter", "waitress.server"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    app = build_app(PRODGUARD_ENV=env, DEBUG=True, **UNSAFE)
    original_wsgi_app = app.wsgi_app
    ProdGuard(app)
    assert app.debug is True
    assert all(app.config[key] is True for key in UNSAFE)
    assert app.wsgi_app == original_wsgi_app
    assert "FLASK_DEBUG" not in os.environ
    assert events == []


@pytest.mark.parametrize("env", ["production", "staging"])
def test_report_detects_and_changes_nothing(
    build_app: Callable[..., Flask],
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    env: str,
    events: list[Any],
) -> None:
    """report: debug mode and unsafe flags are reported and left as they are."""
    app = build_app(PRODGUARD_ENV=env, PRODGUARD_STRICTNESS="report", DEBUG=True, **UNSAFE)
    ProdGuard(app)
    assert app.debug is True
    assert all(app.config[key] is True for key in UNSAFE)
    assert event_names(events) == [
        "prodguard.debug.detected",
        *["prodguard.config.unsafe"] * len(UNSAFE),
        "prodguard.check.failed",  # PG208: report only, in production
        "prodguard.startup.posture",
    ]
    debug, *unsafe, weak, posture = events
    assert weak["check_id"] == "PG208" and weak["severity"] == "warning"
    assert debug["action"] == "reported" and debug["sources"] == ["app.config DEBUG"]
    assert {e["action"] for e in unsafe} == {"reported"}
    assert {key for e in unsafe for key in e["flags"]} == set(UNSAFE)
    assert posture["env"] == env and posture["strictness"] == "report"
    assert posture["findings"] == [
        "PG101",
        "PG201",
        "PG202",
        "PG203",
        "PG204",
        "PG205",
        "PG206",
        "PG208",
    ]


@pytest.mark.parametrize("env", ["production", "staging"])
def test_enforce_forces_safe_values(
    build_app: Callable[..., Flask],
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    env: str,
    events: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """enforce: debug off (also FLASK_DEBUG in os.environ), unsafe flags off, events."""
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = build_app(PRODGUARD_ENV=env, **UNSAFE)
    assert app.debug is True  # Flask read FLASK_DEBUG when the app was created.
    ProdGuard(app)
    assert app.debug is False
    assert os.environ["FLASK_DEBUG"] == "0"
    assert all(not app.config[key] for key in UNSAFE)
    assert event_names(events) == [
        "prodguard.debug.blocked",
        *["prodguard.config.unsafe"] * len(UNSAFE),
        "prodguard.startup.posture",
    ]
    assert events[0]["action"] == "fixed"
    # Flask seeded DEBUG from FLASK_DEBUG: the environment is named, not the code.
    assert events[0]["sources"] == ["environment variable FLASK_DEBUG"]
    assert {e["action"] for e in events[1:-1]} == {"fixed"}


@pytest.mark.parametrize(
    ("config", "environ", "condition"),
    [
        ({"DEBUG": True}, {}, "PG101"),
        ({}, {"FLASK_DEBUG": "true"}, "PG101"),
        ({"PROPAGATE_EXCEPTIONS": True}, {}, "PG202"),
        ({"TESTING": True}, {}, "PG201"),
        ({}, {"WERKZEUG_DEBUG_PIN": "off"}, "PG103"),
        ({}, {"WERKZEUG_DEBUG_PIN": "123-456-789"}, "PG103"),
        ({}, {"WERKZEUG_RUN_MAIN": "true"}, "PG105"),
        ({"SECRET_KEY": "changeme"}, {}, "PG304"),
        ({"SECRET_KEY": "short-key"}, {}, "PG302"),
    ],
)
def test_strict_refuses_to_start(
    build_app: Callable[..., Flask],
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    config: dict[str, Any],
    environ: dict[str, str],
    condition: str,
    events: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """strict: each unsafe condition makes init_app raise with the fix spelled out."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    app = build_app(PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="strict", **config)
    with pytest.raises(UnsafeDeploymentError) as info:
        ProdGuard(app)
    message = str(info.value)
    assert "refused to start" in message
    assert f"fix: {REGISTRY[condition].hint}" in message
    # The server commands are advice for debug and development-server findings
    # only; for a weak secret they would be noise.
    about_debugging = condition in ("PG101", "PG103", "PG105")
    assert ("gunicorn --bind 127.0.0.1:8000" in message) is about_debugging
    assert ("waitress-serve --listen=127.0.0.1:8000" in message) is about_debugging
    assert condition in info.value.findings
    assert isinstance(info.value, RuntimeError)
    assert "prodguard" not in app.extensions
    assert event_names(events) == ["prodguard.startup.refused"]
    assert events[0]["findings"] == [condition] and events[0]["level"] == "critical"


def test_strict_starts_when_safe(
    build_app: Callable[..., Flask],
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    events: list[Any],
) -> None:
    """strict lets a safe app start and reports its posture."""
    app = build_app(PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="strict")
    ProdGuard(app)
    assert event_names(events) == ["prodguard.startup.posture"]
    assert app.test_client().get("/").data == b"hello"


def test_report_and_enforce_report_debug_pin(
    build_app: Callable[..., Flask], events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """WERKZEUG_DEBUG_PIN=off is reported (not refused) below strict."""
    monkeypatch.setenv("WERKZEUG_DEBUG_PIN", "off")
    ProdGuard(build_app(PRODGUARD_ENV="production"))
    pin = [e for e in events if e["event"] == "prodguard.debugger.pin_configured"]
    assert pin and pin[0]["setting"] == "off"


def test_production_without_explicit_env_hints_at_development(
    build_app: Callable[..., Flask], events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When nobody said where the app runs, events say how to declare development."""
    from flask_prodguard import config

    monkeypatch.setattr(config, "_under_pytest", False)
    ProdGuard(build_app(DEBUG=True))
    blocked = events[0]
    assert blocked["event"] == "prodguard.debug.blocked"
    assert "PRODGUARD_ENV=development" in blocked["hint"]
    assert events[-1]["env_source"] == "default"


def test_explicit_production_gives_no_development_hint(
    build_app: Callable[..., Flask], events: list[Any]
) -> None:
    """An explicit production setting is not second-guessed."""
    ProdGuard(build_app(PRODGUARD_ENV="production", DEBUG=True))
    assert events[0]["hint"] is None


def test_environment_variable_overrides_shipped_development_config(
    build_app: Callable[..., Flask], events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PRODGUARD_ENV=production in the process wins over development in code."""
    monkeypatch.setenv("PRODGUARD_ENV", "production")
    app = build_app(PRODGUARD_ENV="development", DEBUG=True)
    ProdGuard(app, env="development")
    assert app.debug is False
    assert events[-1]["env_source"] == "environment variable PRODGUARD_ENV"


def test_middleware_installed_only_when_acting(build_app: Callable[..., Flask]) -> None:
    """The WSGI middleware is there for report/enforce/strict, not for off."""
    on = build_app(PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="report")
    off = build_app(PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="off")
    ProdGuard(on)
    ProdGuard(off)
    assert isinstance(on.wsgi_app, GuardMiddleware)
    assert not isinstance(off.wsgi_app, GuardMiddleware)


def test_debug_switched_on_after_init_is_caught_on_first_request(
    app: Flask, client: FlaskClient, events: list[Any]
) -> None:
    """enforce re-checks on the first request: late debug mode is switched off."""
    app.debug = True
    app.config["PROPAGATE_EXCEPTIONS"] = True
    response = client.get("/boom")
    assert response.status_code == 500
    assert b"hunter2" not in response.data and b"Traceback" not in response.data
    assert app.debug is False and app.config["PROPAGATE_EXCEPTIONS"] is False
    blocked = [e for e in events if e["event"] == "prodguard.debug.blocked"]
    assert blocked and "after init_app" in blocked[0]["sources"][0]


def test_dev_server_detected_once_per_process(client: FlaskClient, events: list[Any]) -> None:
    """A request from the Werkzeug dev server is reported once, not per request."""
    for _ in range(3):
        client.get("/", environ_base={"SERVER_SOFTWARE": "Werkzeug/3.1.9"})
    detected = [e for e in events if e["event"] == "prodguard.devserver.detected"]
    assert len(detected) == 1
    assert detected[0]["signals"] == ["SERVER_SOFTWARE Werkzeug/3.1.9"]
    assert detected[0]["action"] == "reported"


def test_strict_answers_dev_server_requests_with_503(
    build_app: Callable[..., Flask],
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    events: list[Any],
) -> None:
    """strict: a request arriving through the dev server gets a generic 503."""
    app = build_app(PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="strict")
    ProdGuard(app)
    client = app.test_client()
    response = client.get("/", environ_base={"SERVER_SOFTWARE": "Werkzeug/3.1.9"})
    assert response.status_code == 503
    assert b"hello" not in response.data
    assert client.get("/", environ_base={"SERVER_SOFTWARE": "gunicorn/27.0.1"}).data == b"hello"
    assert "prodguard.devserver.detected" in event_names(events)


def test_enforce_app_run_starts_no_debugger(
    build_app: Callable[..., Flask],
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    monkeypatch: pytest.MonkeyPatch,
    events: list[Any],
) -> None:
    """enforce: app.run(debug=True) reaches run_simple with debugger and debug off."""
    import werkzeug.serving

    calls: list[dict[str, Any]] = []

    def record(host: str, port: int, application: Flask, **options: Any) -> None:
        calls.append({"debug": application.debug, **options})

    monkeypatch.setattr(werkzeug.serving, "run_simple", record)
    app = build_app(PRODGUARD_ENV="production")
    ProdGuard(app)
    app.run(debug=True, port=5999)
    assert calls == [
        {"debug": False, "use_debugger": False, "use_reloader": False, "threaded": True}
    ]
    assert "prodguard.debug.blocked" in event_names(events)
    assert "prodguard.devserver.detected" in event_names(events)


def test_report_app_run_leaves_debug_on(
    build_app: Callable[..., Flask],
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    monkeypatch: pytest.MonkeyPatch,
    events: list[Any],
) -> None:
    """report: app.run(debug=True) is reported and left alone."""
    import werkzeug.serving

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda h, p, a, **o: calls.append(o))
    app = build_app(PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="report")
    ProdGuard(app)
    app.run(debug=True, port=5999)
    assert calls[0]["use_debugger"] is True
    assert {"prodguard.debug.detected", "prodguard.devserver.detected"} <= set(
        event_names(events)
    )


@pytest.mark.parametrize("debug", [True, False, None])
def test_strict_app_run_refuses(
    build_app: Callable[..., Flask], debug: bool | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """strict: app.run() raises with the gunicorn and waitress commands."""
    import werkzeug.serving

    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **k: pytest.fail("ran"))
    app = build_app(PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="strict")
    ProdGuard(app)
    with pytest.raises(UnsafeDeploymentError, match="development server") as info:
        app.run(debug=debug)
    assert "gunicorn --bind" in str(info.value) and "waitress-serve" in str(info.value)


def test_capture_events_sees_structured_fields(build_app: Callable[..., Flask]) -> None:
    """Events carry the common fields as structured data."""
    with capture_events() as captured:
        ProdGuard(build_app(PRODGUARD_ENV="production"))
    (posture,) = captured
    for field in (
        "timestamp",
        "level",
        "logger",
        "schema_version",
        "env",
        "strictness",
        "app",
        "host",
        "pid",
    ):
        assert field in posture
    assert posture["timestamp"].endswith("Z")
    assert posture["logger"] == "flask_prodguard.security"


def _development_app(**settings: Any) -> Flask:
    app = Flask("shipped")

    @app.get("/")
    def index() -> str:
        return "hello"

    ProdGuard(app, env="development", **settings)
    return app


def _pg601(events: list[Any]) -> list[tuple[str, str]]:
    return [
        (e["check_id"], e["action"]) for e in events if e["event"] == "prodguard.check.failed"
    ]


def test_development_app_under_gunicorn_is_reported_at_start(
    events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn's arbiter marks the process: a development app says PG601 once, at start."""
    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")
    app = _development_app()
    assert _pg601(events) == [("PG601", "reported")]
    assert events[0]["finding"] == "PRODGUARD_ENV is development but gunicorn serves the app"
    app.test_client().get("/")
    assert len(_pg601(events)) == 1


def test_development_app_under_waitress_is_reported_at_first_request(
    events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """waitress names itself in the request: PG601 once, at the first request, nothing more."""
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    import waitress.server  # noqa: F401 - imported is not serving: no event yet

    app = _development_app()
    assert events == []
    client = app.test_client()
    for _ in range(3):
        response = client.get("/", environ_base={"SERVER_SOFTWARE": "waitress"})
        assert response.data == b"hello"
    assert _pg601(events) == [("PG601", "reported")]
    assert "waitress serves the app" in events[0]["finding"]


def test_development_app_on_the_dev_server_or_off_by_choice_is_silent(
    events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No PG601 for the development server, nor when strictness off was chosen explicitly."""
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    quiet = _development_app().test_client()
    quiet.get("/", environ_base={"SERVER_SOFTWARE": "Werkzeug/3.1.9"})
    explicit = Flask("explicit")
    explicit.get("/")(lambda: "hello")
    ProdGuard(explicit, env="development", strictness="off")
    explicit.test_client().get("/", environ_base={"SERVER_SOFTWARE": "waitress"})
    assert events == []


def test_development_app_with_explicit_strictness_reports_waitress_at_first_request(
    events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With report or enforce chosen, waitress in the first request is PG601 too."""
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    app = _development_app(strictness="enforce")
    assert "PG601" not in [check for check, _ in _pg601(events)]
    events.clear()
    client = app.test_client()
    client.get("/", environ_base={"SERVER_SOFTWARE": "waitress"})
    client.get("/", environ_base={"SERVER_SOFTWARE": "waitress"})
    assert _pg601(events) == [("PG601", "reported")]


def test_strict_development_app_on_waitress_answers_503(
    events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """strict: a development app that waitress serves refuses every request with a 503."""
    monkeypatch.delenv("SERVER_SOFTWARE", raising=False)
    app = _development_app(strictness="strict")
    events.clear()
    client = app.test_client()
    on_waitress = {"SERVER_SOFTWARE": "waitress"}
    statuses = [client.get("/", environ_base=on_waitress).status_code for _ in range(3)]
    assert statuses == [503, 503, 503]
    refused = [e for e in events if e["event"] == "prodguard.startup.refused"]
    assert [(e["reason"], e["findings"]) for e in refused] == [("serve", ["PG601"])]
    assert _pg601(events) == [("PG601", "reported")]
