"""The Werkzeug debugger: neutralised, refused or left alone, in process."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard import UnsafeDeploymentError
from flask_prodguard import restore_debugger
from flask_prodguard.config import PARENT_STRICTNESS_VARIABLE
from flask_prodguard.testing import capture_events
from flask_prodguard.wsgi.debugger import neutralises
from werkzeug.debug import DebuggedApplication
from werkzeug.test import Client

# What the debugger puts in its pages; none may reach a client of a guarded app.
DEBUGGER_MARKERS = (
    b"SECRET",
    b"EVALEX",
    b"debugger.js",
    b"Traceback",
    b"__debugger__",
    b"console.png",
    b"Werkzeug Debugger",
    b"hunter2",
)

QUERY_PROBES = [
    "__debugger__=yes&cmd=resource&f=debugger.js",
    "__debugger__=yes&cmd=resource&f=style.css",
    "__DEBUGGER__=yes&cmd=resource&f=debugger.js",
    "x=1&__debugger__=yes&cmd=printpin&s=abc",
    "__debugger__=no&__debugger__=yes&cmd=resource&f=debugger.js",
    "%5F%5Fdebugger%5F%5F=yes&cmd=resource&f=debugger.js",
    "%255F%255Fdebugger%255F%255F=yes",
    "__debugger__=yes&cmd=pinauth&pin=123-456-789&s=abc",
    "__debugger__=yes&cmd=1%2B1&frm=0&s=abc",
    "__debugger__",
]
PATH_PROBES = [
    "/console",
    "/Console",
    "/console/",
    "/%2563onsole",
    "/./console",
    "/static/../console",
    "/console;x=1",
]


@pytest.fixture
def unknown_url_response(
    without_error_id: Callable[[bytes], bytes],
) -> Callable[[Client], tuple[int, bytes]]:
    """Return ``unknown_url_response(client)``: status and body (error id blanked) of
    the app's answer to a URL it has no route for."""

    def answer(client: Client) -> tuple[int, bytes]:
        response = client.get("/no-such-page")
        return response.status_code, without_error_id(response.get_data())

    return answer


def debugged(app: Flask, **options: Any) -> Client:
    options.setdefault("evalex", True)
    return Client(DebuggedApplication(app, **options))


def test_development_debugger_works_as_usual(
    debugger_patched: Callable[[], bool], build_app: Callable[..., Flask], events: list[Any]
) -> None:
    """Control: without enforcement the debugger serves its console and resources."""
    app = build_app(PRODGUARD_ENV="development", DEBUG=True)
    ProdGuard(app)
    client = debugged(app)
    assert client.get("/console").status_code == 200
    assert b"SECRET" in client.get("/console").data
    resource = client.get("/?__debugger__=yes&cmd=resource&f=debugger.js")
    assert resource.status_code == 200 and b"function" in resource.data
    assert b"Traceback" in client.get("/boom").data
    assert not debugger_patched()
    assert events == []


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
@pytest.mark.parametrize("query", QUERY_PROBES)
def test_enforce_debugger_queries_get_the_unknown_url_404(
    unknown_url_response: Callable[[Client], tuple[int, bytes]],
    build_app: Callable[..., Flask],
    without_error_id: Callable[[bytes], bytes],
    query: str,
    method: str,
    events: list[Any],
) -> None:
    """enforce: every __debugger__ request, any method, gets the app's 404 and an event."""
    app = build_app(PRODGUARD_ENV="production", DEBUG=True)
    ProdGuard(app)
    client = debugged(app)
    expected = unknown_url_response(client)
    response = client.open(f"/?{query}", method=method)
    assert (response.status_code, without_error_id(response.get_data())) == expected
    assert "__wzd" not in response.headers.get("Set-Cookie", "")
    for marker in DEBUGGER_MARKERS:
        assert marker not in response.get_data()
    probes = [e for e in events if e["event"] == "prodguard.debugger.probe"]
    assert len(probes) == 1
    assert probes[0]["probe"] == "debugger_query" and probes[0]["action"] == "blocked"
    assert probes[0]["method"] == method


@pytest.mark.parametrize("path", PATH_PROBES)
def test_enforce_console_paths_get_the_unknown_url_404(
    unknown_url_response: Callable[[Client], tuple[int, bytes]],
    app: Flask,
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    path: str,
    events: list[Any],
) -> None:
    """enforce: the console path and its variants get the app's 404 and an event."""
    client = debugged(app)
    expected_status, expected_body = unknown_url_response(client)
    response = client.get(path)
    assert response.status_code == expected_status == 404
    assert b"SECRET" not in response.data and b"console" not in response.data.lower()
    assert "prodguard.debugger.probe" in event_names(events)


def test_forged_pin_cookie_executes_nothing(build_app: Callable[..., Flask]) -> None:
    """enforce: a forged __wzd cookie with a far-future expiry gets the 404 too."""
    app = build_app(PRODGUARD_ENV="production", DEBUG=True)
    ProdGuard(app)
    dbg = DebuggedApplication(app, evalex=True)
    client = Client(dbg)
    client.set_cookie(
        "__wzd0123456789abcdef0123", "9999999999|0123456789ab", domain="localhost"
    )
    response = client.get("/?__debugger__=yes&cmd=__import__('os').getpid()&frm=0&s=x")
    assert response.status_code == 404
    assert str(__import__("os").getpid()).encode() not in response.data


def test_enforce_traceback_page_never_rendered(
    build_app: Callable[..., Flask], events: list[Any]
) -> None:
    """enforce: an exception under the debugger is a generic 500, not a traceback page."""
    app = build_app(PRODGUARD_ENV="production", DEBUG=True)
    ProdGuard(app)
    response = debugged(app).get("/boom")
    assert response.status_code == 500
    for marker in DEBUGGER_MARKERS:
        assert marker not in response.data
    neutralized = [e for e in events if e["event"] == "prodguard.debugger.neutralized"]
    assert len(neutralized) == 1 and neutralized[0]["action"] == "fixed"
    assert neutralized[0]["evalex"] is False
    assert neutralized[0]["decided_by"] == "guarded"
    assert neutralized[0]["where"].startswith("around the app 'guarded'")


def test_enforce_custom_404_handler_answers_probes(build_app: Callable[..., Flask]) -> None:
    """A probe cannot be told from a miss: the app's own 404 handler answers both."""
    app = build_app(PRODGUARD_ENV="production")

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return "nothing here, sorry", 404

    ProdGuard(app)
    client = debugged(app)
    for url in ("/no-such-page", "/console", "/?__debugger__=yes&cmd=resource&f=style.css"):
        response = client.get(url)
        assert (response.status_code, response.data) == (404, b"nothing here, sorry")


def test_app_console_route_keeps_working(build_app: Callable[..., Flask]) -> None:
    """An app's own /console route is served; only misses count as probes."""
    app = build_app(PRODGUARD_ENV="production")

    @app.get("/console")
    def admin_console() -> str:
        return "admin console"

    ProdGuard(app)
    assert app.test_client().get("/console").data == b"admin console"


def test_debugger_inside_wsgi_app_before_init(
    build_app: Callable[..., Flask],
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    events: list[Any],
) -> None:
    """enforce: a DebuggedApplication placed in app.wsgi_app is found and neutralised."""
    app = build_app(PRODGUARD_ENV="production")
    app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)  # type: ignore[method-assign]
    ProdGuard(app)
    client = app.test_client()
    assert client.get("/console").status_code == 404
    assert client.get("/?__debugger__=yes&cmd=resource&f=debugger.js").status_code == 404
    assert b"Traceback" not in client.get("/boom").data
    assert "prodguard.debugger.neutralized" in event_names(events)


def test_debugger_inside_wsgi_app_after_init(
    build_app: Callable[..., Flask],
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    events: list[Any],
) -> None:
    """enforce: a DebuggedApplication added after init_app is neutralised too."""
    app = build_app(PRODGUARD_ENV="production")
    ProdGuard(app)
    app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)  # type: ignore[method-assign]
    client = app.test_client()
    assert client.get("/console").status_code == 404
    assert b"Traceback" not in client.get("/boom").data
    assert "prodguard.debugger.neutralized" in event_names(events)


def test_report_leaves_debugger_live_and_reports(
    build_app: Callable[..., Flask], events: list[Any]
) -> None:
    """report: the debugger works, and its presence and the probes are reported."""
    app = build_app(PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="report", DEBUG=True)
    ProdGuard(app)
    client = debugged(app)
    assert client.get("/console").status_code == 200
    detected = [e for e in events if e["event"] == "prodguard.debugger.detected"]
    assert detected and detected[0]["level"] == "critical"
    assert {e["decided_by"] for e in detected} == {"guarded"}
    probes = [e for e in events if e["event"] == "prodguard.debugger.probe"]
    assert probes and probes[0]["action"] == "reported" and probes[0]["probe"] == "console"


def test_strict_refuses_to_construct_debugger(
    build_app: Callable[..., Flask],
    event_names: Callable[[list[dict[str, Any]]], list[str]],
    events: list[Any],
) -> None:
    """strict: wrapping a guarded app in DebuggedApplication raises with the fix."""
    app = build_app(PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="strict")
    ProdGuard(app)
    with pytest.raises(
        UnsafeDeploymentError, match="refused to start the Werkzeug debugger"
    ) as info:
        DebuggedApplication(app, evalex=True)
    assert "gunicorn --bind" in str(info.value)
    with pytest.raises(UnsafeDeploymentError):
        DebuggedApplication(app.wsgi_app, evalex=True)
    assert "prodguard.startup.refused" in event_names(events)


def test_strict_refuses_debugger_already_in_chain(build_app: Callable[..., Flask]) -> None:
    """strict: init_app refuses an app whose wsgi_app already holds the debugger."""
    app = build_app(PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="strict")
    app.wsgi_app = DebuggedApplication(app.wsgi_app)  # type: ignore[method-assign]
    with pytest.raises(UnsafeDeploymentError, match="DebuggedApplication"):
        ProdGuard(app)


def test_debugger_around_off_app_is_neutralised_by_production_app(
    debugger_patched: Callable[[], bool], build_app: Callable[..., Flask], events: list[Any]
) -> None:
    """The debugger runs code in the whole process: one around an off app is inert too."""
    prod = build_app("prod", PRODGUARD_ENV="production")
    dev = build_app("dev", PRODGUARD_ENV="development", PRODGUARD_STRICTNESS="off")
    ProdGuard(prod)
    ProdGuard(dev)
    assert debugger_patched()
    response = debugged(dev).get("/console")
    assert response.status_code == 404 and b"SECRET" not in response.data
    assert debugged(prod).get("/console").status_code == 404
    neutralized = [e for e in events if e["event"] == "prodguard.debugger.neutralized"]
    assert {e["decided_by"] for e in neutralized} == {"prod"}


def test_hook_replaces_only_debugged_application_methods(
    build_app: Callable[..., Flask],
) -> None:
    """The hook is narrow: only DebuggedApplication's own methods change, none elsewhere."""
    import werkzeug.debug

    shipped = dict(vars(DebuggedApplication))
    module = dict(vars(werkzeug.debug))
    ProdGuard(build_app(PRODGUARD_ENV="production"))
    changed = {
        name
        for name, value in vars(DebuggedApplication).items()
        if shipped.get(name) is not value
    }
    assert changed == {
        "__init__",
        "__call__",
        "debug_application",
        "display_console",
        "execute_command",
        "get_resource",
        "pin_auth",
        "log_pin_request",
    }
    assert dict(vars(werkzeug.debug)) == module


def test_hook_inactive_without_production_app(
    debugger_patched: Callable[[], bool], build_app: Callable[..., Flask]
) -> None:
    """No guarded app acting: DebuggedApplication is untouched."""
    original = DebuggedApplication.__call__
    ProdGuard(build_app(PRODGUARD_ENV="testing"))
    assert not debugger_patched()
    assert DebuggedApplication.__call__ is original


def test_restore_debugger_is_reversible(
    debugger_patched: Callable[[], bool], build_app: Callable[..., Flask]
) -> None:
    """restore_debugger(force=True) puts every shipped method back; the debugger works again."""
    shipped = dict(vars(DebuggedApplication))
    app = build_app(PRODGUARD_ENV="production")
    ProdGuard(app)
    assert DebuggedApplication.__call__ is not shipped["__call__"]
    assert DebuggedApplication.display_console is not shipped["display_console"]
    assert os.environ[PARENT_STRICTNESS_VARIABLE] == "enforce"
    restore_debugger(force=True)
    assert dict(vars(DebuggedApplication)) == shipped
    assert not debugger_patched()
    # Forced, it also forgets the decision exported to child processes.
    assert PARENT_STRICTNESS_VARIABLE not in os.environ
    plain = build_app("plain")
    assert debugged(plain).get("/console").status_code == 200
    # Alive until here, and neutralising: force did not ask it.
    assert neutralises(app.extensions["prodguard"])


@pytest.mark.parametrize("strictness", ["enforce", "strict"])
def test_restore_debugger_refuses_while_a_neutralising_guard_lives(
    build_app: Callable[..., Flask], strictness: str, events: list[Any]
) -> None:
    """restore_debugger() beside an enforce or strict app raises, says why, emits an event."""
    app = build_app("main", PRODGUARD_ENV="production", PRODGUARD_STRICTNESS=strictness)
    ProdGuard(app)
    patched = dict(vars(DebuggedApplication))
    with pytest.raises(UnsafeDeploymentError) as refused:
        restore_debugger()
    message = str(refused.value)
    assert "refused to remove its Werkzeug debugger hook" in message
    assert f"the guard of 'main' (PRODGUARD_STRICTNESS={strictness})" in message
    assert "restore_debugger(force=True)" in message
    assert refused.value.findings == ("PG102",)
    refusals = [e for e in events if e["event"] == "prodguard.startup.refused"]
    assert [(e["app"], e["reason"], e["level"]) for e in refusals] == [
        ("main", "remove the Werkzeug debugger hook (restore_debugger())", "critical")
    ]
    # Nothing changed: the hook stays, the app stays registered.
    assert dict(vars(DebuggedApplication)) == patched
    if strictness == "strict":
        with pytest.raises(UnsafeDeploymentError):
            debugged(build_app("other"))
    else:
        assert debugged(build_app("other")).get("/console").status_code == 404


def test_restore_debugger_beside_report_apps_removes_the_hook_and_remembers_them(
    debugger_patched: Callable[[], bool],
    build_app: Callable[..., Flask],
    events: list[Any],
) -> None:
    """No enforce app alive: restore_debugger() works, and a later hook still counts the
    report app registered before it."""
    first = build_app("first", PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="report")
    ProdGuard(first)
    restore_debugger()
    assert not debugger_patched()
    assert debugged(build_app("plain")).get("/console").status_code == 200
    assert [e for e in events if "decided_by" in e] == []  # as shipped: unseen
    later = build_app("later", PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="report")
    ProdGuard(later)
    assert debugged(build_app("plain")).get("/console").status_code == 200
    detected = [e for e in events if e["event"] == "prodguard.debugger.detected"]
    # Equally strict guards: the one guarded first decides, so it was remembered.
    assert [(e["app"], e["decided_by"]) for e in detected] == [("first", "first")]
    # Alive until here; a report guard leaves the debugger in service (the 200 above).
    assert not neutralises(later.extensions["prodguard"])


@pytest.fixture
def import_werkzeug_debug_again(monkeypatch: pytest.MonkeyPatch) -> Callable[[], type[Any]]:
    """Return ``import_again()``: it puts a second copy of ``werkzeug.debug`` in
    ``sys.modules`` (as a purge and a new import, or a reload, would) and returns
    its ``DebuggedApplication``; the original module is back after the test."""
    import importlib.util

    def import_again() -> type[Any]:
        spec = importlib.util.find_spec("werkzeug.debug")
        assert spec is not None and spec.loader is not None
        fresh = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fresh)
        monkeypatch.setitem(sys.modules, "werkzeug.debug", fresh)
        cls: type[Any] = fresh.DebuggedApplication
        assert cls is not DebuggedApplication
        return cls

    return import_again


def test_a_later_guard_patches_werkzeug_debug_imported_again(
    debugger_patched: Callable[[], bool],
    build_app: Callable[..., Flask],
    import_werkzeug_debug_again: Callable[[], type[Any]],
) -> None:
    """A DebuggedApplication class from a re-imported module is patched by the next guard."""
    first = build_app("first", PRODGUARD_ENV="production")
    ProdGuard(first)
    fresh_class = import_werkzeug_debug_again()
    assert not debugger_patched()  # the class the module holds now is not patched
    shipped = dict(vars(fresh_class))
    ProdGuard(build_app("second", PRODGUARD_ENV="production"))
    assert debugger_patched()
    assert vars(fresh_class)["__call__"] is not shipped["__call__"]
    client = Client(fresh_class(build_app("plain"), evalex=True))
    assert client.get("/console").status_code == 404
    # The class patched first keeps its hook.
    assert debugged(build_app("plain")).get("/console").status_code == 404
    restore_debugger(force=True)
    assert dict(vars(fresh_class)) == shipped  # each class gets its own methods back


def test_first_request_patches_werkzeug_debug_imported_again(
    debugger_patched: Callable[[], bool],
    build_app: Callable[..., Flask],
    import_werkzeug_debug_again: Callable[[], type[Any]],
    events: list[Any],
) -> None:
    """A live debugger of a class the hook missed is seen by the first request: reported
    as detected (critical), its class patched, and no later request reaches it."""
    app = build_app("main", PRODGUARD_ENV="production")
    ProdGuard(app)
    debugger = import_werkzeug_debug_again()(app, evalex=True)
    assert b"SECRET" in Client(debugger).get("/console").data  # live: the hole
    client = Client(debugger)
    assert client.get("/").data == b"hello"
    detected = [e for e in events if e["event"] == "prodguard.debugger.detected"]
    assert [(e["level"], e["decided_by"], e["action"]) for e in detected] == [
        ("critical", "main", "reported")
    ]
    assert "had not patched" in detected[0]["where"]
    assert debugger_patched()
    console = client.get("/console")
    assert console.status_code == 404 and b"SECRET" not in console.data
    assert b"Traceback" not in client.get("/boom").data


def test_hook_switches_off_when_guarded_app_is_gone(build_app: Callable[..., Flask]) -> None:
    """Once the last guarded app is garbage collected, debuggers work as shipped."""
    ProdGuard(build_app(PRODGUARD_ENV="production"))
    gc.collect()
    plain = build_app("plain")
    assert debugged(plain).get("/console").status_code == 200


def test_unguarded_app_debugger_neutralised_while_production_app_alive(
    build_app: Callable[..., Flask],
) -> None:
    """Fail closed: a debugger around an unknown app in a guarded process is inert."""
    guarded = build_app("guarded", PRODGUARD_ENV="production")
    ProdGuard(guarded)
    other = build_app("other")
    with capture_events() as events:
        response = debugged(other).get("/console")
    assert response.status_code == 404
    # The production app's guard decided for the debugger around the other app.
    neutralized = [e for e in events if e["event"] == "prodguard.debugger.neutralized"]
    assert [e["decided_by"] for e in neutralized] == [guarded.name]


def test_console_probe_is_one_event(build_app: Callable[..., Flask], events: list[Any]) -> None:
    """A /console probe answered 404 is reported once, as a probe, not also as an error."""
    app = build_app(PRODGUARD_ENV="production")
    ProdGuard(app)
    app.test_client().get("/console")
    assert [e["event"] for e in events if e["event"] != "prodguard.startup.posture"] == [
        "prodguard.debugger.probe"
    ]
