"""One process, several apps, one Werkzeug debugger: the strictest acting guard decides.

The debugger runs code in the whole process, whatever app it wraps. Most tests
here mount two apps with a ``DispatcherMiddleware`` (``main`` at ``/``,
``admin`` at ``/admin``), each guarded at some strictness or not at all, wrap
the whole in ``DebuggedApplication(evalex=True)`` as
``run_simple(use_debugger=True)`` does, and try every way in: the console on
both mounts, the resources, ``printpin`` and code execution with
the debugger's real SECRET and ``WERKZEUG_DEBUG_PIN=off``. The control cases
(no acting guard, or only ``report``) send the same requests to a debugger
that answers them, so the neutralised cases prove something. The last tests
run the same setup on the real Werkzeug development server.
"""

from __future__ import annotations

import http.client
import re
import sys
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard import UnsafeDeploymentError
from flask_prodguard.testing import capture_events
from flask_prodguard.testing import event_validator
from flask_prodguard.wsgi.debugger import neutralises
from werkzeug.debug import DebuggedApplication
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client
from werkzeug.wrappers import Request

from servers import Server
from servers import start_on_free_port

NEUTRALIZED = "prodguard.debugger.neutralized"
DETECTED = "prodguard.debugger.detected"
PROBE = "prodguard.debugger.probe"
REFUSED = "prodguard.startup.refused"

#: What the debugger's answers carry: the script, the style sheet, the console
#: page, a code result, a traceback page. None may reach a client.
DEBUGGER_MARKERS = (
    b"EVALEX_TRUSTED",
    b"div.debugger",
    b"SECRET =",
    b"CONSOLE_MODE",
    b"Werkzeug Debugger",
    b">>> ",
    b'<span class="number">',
    b"Traceback",
    b"hunter2",
)

Build = Callable[..., Flask]
Mount = Callable[[str | None, str | None], DispatcherMiddleware]


def debugger_requests(secret: str, witness: Path) -> list[str]:
    """Every way into the debugger on both mounts, the console first (it creates
    the frame that code runs in); the last one writes ``witness`` if code runs."""
    touch = quote(f"__import__('pathlib').Path({str(witness)!r}).write_text('ran')")
    return [
        "/console",
        "/admin/console",
        "/?__debugger__=yes&cmd=resource&f=debugger.js",
        "/admin/?__debugger__=yes&cmd=resource&f=style.css",
        f"/?__debugger__=yes&cmd=printpin&s={secret}",
        f"/admin/?__debugger__=yes&cmd=printpin&s={secret}",
        f"/?__debugger__=yes&frm=0&cmd=1%2B1&s={secret}",
        f"/admin/?__debugger__=yes&frm=0&cmd={touch}&s={secret}",
    ]


@pytest.fixture
def assert_neutralised(
    without_error_id: Callable[[bytes], bytes],
) -> Callable[[DebuggedApplication, Any, Path], list[dict[str, Any]]]:
    """Return ``assert_neutralised(debugger, bare, witness)``: assert that each
    debugger request gets exactly what the mounted apps answer without the
    debugger, nothing of the debugger's, and that no code runs. It returns the
    events the requests through the debugger emitted."""

    def check(debugger: DebuggedApplication, bare: Any, witness: Path) -> list[dict[str, Any]]:
        client, without = Client(debugger), Client(bare)
        events: list[dict[str, Any]] = []
        for url in debugger_requests(debugger.secret, witness):
            with capture_events() as emitted:
                response = client.get(url)
            events += emitted
            body = response.get_data()
            for marker in DEBUGGER_MARKERS:
                assert marker not in body, f"{marker!r} in the answer to {url}: {body[:300]!r}"
            assert "__wzd" not in response.headers.get("Set-Cookie", ""), url
            expected = without.get(url)
            assert (response.status_code, without_error_id(body)) == (
                expected.status_code,
                without_error_id(expected.get_data()),
            ), url
        assert not witness.exists(), "code ran through the debugger"
        return events

    return check


def probes(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(probe, action) of the probe events, sorted."""
    return sorted((e["probe"], e["action"]) for e in events if e["event"] == PROBE)


def assert_live(debugger: DebuggedApplication, witness: Path) -> None:
    """Control: the same requests reach a debugger that answers and runs code."""
    client = Client(debugger)
    urls = debugger_requests(debugger.secret, witness)
    answers = {url: client.get(url) for url in urls}
    console = answers["/console"]
    assert console.status_code == 200
    assert f'SECRET = "{debugger.secret}"'.encode() in console.get_data()
    assert b"EVALEX_TRUSTED" in answers[urls[2]].get_data()
    assert b"div.debugger" in answers[urls[3]].get_data()
    for printpin in (urls[4], urls[5]):
        assert (answers[printpin].status_code, answers[printpin].get_data()) == (200, b"")
    assert b'<span class="number">2</span>' in answers[urls[6]].get_data()
    assert witness.read_text() == "ran"


def debugger_events(events: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(event, app, decided_by, action) of the debugger events."""
    return [
        (e["event"], e["app"], e["decided_by"], e["action"])
        for e in events
        if e["event"] in (NEUTRALIZED, DETECTED)
    ]


@pytest.fixture
def pin_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """``WERKZEUG_DEBUG_PIN=off``: a live debugger runs code for anyone."""
    monkeypatch.setenv("WERKZEUG_DEBUG_PIN", "off")


@pytest.fixture
def witness(tmp_path: Path) -> Path:
    """A file that only code run through a debugger writes."""
    return tmp_path / "code-ran"


@pytest.fixture
def mount(make_app: Build) -> Mount:
    """Return ``mount(main, admin)``: ``main`` at ``/`` and ``admin`` at
    ``/admin``, each guarded at that strictness, or not guarded if ``None``."""

    def build(main: str | None, admin: str | None) -> DispatcherMiddleware:
        front = make_app(strictness=main, guard=main is not None, name="main")
        back = make_app(strictness=admin, guard=admin is not None, name="admin")
        return DispatcherMiddleware(front, {"/admin": back})

    return build


# -- in process ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("main", "admin"), [(None, None), ("off", "off"), (None, "off")], ids=str
)
def test_without_acting_guard_the_debugger_works_as_shipped(
    mount: Mount, pin_off: None, witness: Path, main: str | None, admin: str | None
) -> None:
    """Control: without an acting guard every request below reaches a live debugger."""
    with capture_events() as events:
        assert_live(DebuggedApplication(mount(main, admin), evalex=True), witness)
    assert events == []


@pytest.mark.parametrize(
    ("main", "admin"), [("report", "off"), ("off", "report"), ("report", None)]
)
def test_report_as_strictest_leaves_the_debugger_live_and_reports_it(
    mount: Mount, pin_off: None, witness: Path, main: str, admin: str | None
) -> None:
    """report is the strictest guard: the debugger works, reported as live by that guard."""
    decider = "main" if main == "report" else "admin"
    with capture_events() as events:
        assert_live(DebuggedApplication(mount(main, admin), evalex=True), witness)
    assert debugger_events(events) == [(DETECTED, decider, decider, "reported")]
    assert any(e["event"] == PROBE and e["action"] == "reported" for e in events)


@pytest.mark.parametrize(
    ("main", "admin"),
    [
        ("enforce", "off"),
        ("off", "enforce"),
        ("enforce", "report"),
        ("report", "enforce"),
        ("enforce", None),
        (None, "enforce"),
    ],
)
def test_enforce_anywhere_neutralises_the_debugger_on_every_path(
    assert_neutralised: Callable[..., list[dict[str, Any]]],
    mount: Mount,
    pin_off: None,
    witness: Path,
    main: str | None,
    admin: str | None,
) -> None:
    """An enforce app in the process: no console, resource, PIN or code on any mount."""
    decider = "main" if main == "enforce" else "admin"
    with capture_events() as events:
        bare = mount(main, admin)
        debugger = DebuggedApplication(bare, evalex=True)
        through_debugger = assert_neutralised(debugger, bare, witness)
    assert debugger_events(events) == [(NEUTRALIZED, decider, decider, "fixed")]
    (neutralized,) = [e for e in events if e["event"] == NEUTRALIZED]
    assert neutralized["where"].startswith(
        "around werkzeug.middleware.dispatcher.DispatcherMiddleware"
    )
    assert "'main'" in neutralized["where"] and "'admin'" in neutralized["where"]
    # Each debugger request is reported once: by the guard of the app it
    # reaches, or by the deciding guard when that app's guard does not act.
    # /admin/console is the admin app's /console: a probe if its guard acts.
    consoles = 2 if admin in ("enforce", "report") else 1
    found = [probe for probe, _ in probes(through_debugger)]
    assert found == ["console"] * consoles + ["debugger_query"] * 6


@pytest.mark.parametrize(
    ("main", "admin"),
    [
        ("strict", "off"),
        ("off", "strict"),
        ("strict", "report"),
        ("enforce", "strict"),
        ("strict", None),
    ],
)
def test_strict_anywhere_refuses_to_construct_the_debugger(
    mount: Mount, main: str | None, admin: str | None
) -> None:
    """A strict app in the process: constructing a debugger around any app raises."""
    decider = "main" if main == "strict" else "admin"
    bare = mount(main, admin)
    with capture_events() as events, pytest.raises(UnsafeDeploymentError) as refused:
        DebuggedApplication(bare, evalex=True)
    message = str(refused.value)
    assert f"refused to start the Werkzeug debugger for app {decider!r}" in message
    assert "DispatcherMiddleware" in message and "gunicorn --bind" in message
    assert [(e["event"], e["app"]) for e in events] == [(REFUSED, decider)]


def test_debugger_around_a_plain_wsgi_callable_is_neutralised(
    assert_neutralised: Callable[..., list[dict[str, Any]]],
    make_app: Build,
    pin_off: None,
    witness: Path,
) -> None:
    """A debugger around an unrelated WSGI callable, in a process with an enforce app."""

    def plain(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"plain answer"]

    with capture_events() as events:
        main = make_app(name="main")
        debugger = DebuggedApplication(plain, evalex=True)
        through_debugger = assert_neutralised(debugger, plain, witness)
    assert debugger_events(events) == [(NEUTRALIZED, "main", "main", "fixed")]
    (neutralized,) = [e for e in events if e["event"] == NEUTRALIZED]
    assert "plain" in neutralized["where"] and "holds no Flask app" in neutralized["where"]
    # Only the deciding guard can see these: it reports them.
    assert (
        probes(through_debugger)
        == [("console", "blocked")] + [("debugger_query", "blocked")] * 6
    )
    assert {e["app"] for e in through_debugger} == {"main"}
    assert neutralises(main.extensions["prodguard"])  # alive until here: it decides


@pytest.mark.parametrize("strictness", ["enforce", "strict"])
def test_debugger_built_before_the_guard_is_neutralised_once_it_exists(
    assert_neutralised: Callable[..., list[dict[str, Any]]],
    make_app: Build,
    monkeypatch: pytest.MonkeyPatch,
    witness: Path,
    tmp_path: Path,
    strictness: str,
) -> None:
    """A live debugger (console open, code run) goes inert when an acting guard appears."""
    monkeypatch.setenv("WERKZEUG_DEBUG_PIN", "off")
    main = make_app(strictness=strictness, guard=False, name="main")
    bare = DispatcherMiddleware(main, {"/admin": make_app(strictness="off", name="admin")})
    debugger = DebuggedApplication(bare, evalex=True)
    assert_live(debugger, tmp_path / "before-the-guard")
    # strict refuses to start with the PIN off; the debugger has read it already.
    monkeypatch.delenv("WERKZEUG_DEBUG_PIN")
    with capture_events() as events:
        ProdGuard(main)
        assert_neutralised(debugger, bare, witness)
    assert debugger_events(events) == [(NEUTRALIZED, "main", "main", "fixed")]
    assert [e["evalex"] for e in events if e["event"] == NEUTRALIZED] == [True]


class HandRolledDebugger(DebuggedApplication):
    """A subclass that dispatches by itself, calling the dangerous methods directly."""

    def __call__(self, environ: Any, start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        args = request.args
        response: Any
        if request.path == "/console":
            response = self.display_console(request)
        elif args.get("__debugger__") == "yes" and args.get("cmd") == "resource":
            response = self.get_resource(request, args["f"])
        elif args.get("__debugger__") == "yes" and args.get("cmd") == "printpin":
            response = self.log_pin_request(request)
        elif args.get("__debugger__") == "yes" and args.get("cmd") == "pinauth":
            response = self.pin_auth(request)
        elif args.get("__debugger__") == "yes" and args.get("frm", type=int) in self.frames:
            frame = self.frames[args.get("frm", type=int)]  # type: ignore[index]
            response = self.execute_command(request, args["cmd"], frame)
        else:
            return self.debug_application(environ, start_response)
        return response(environ, start_response)  # type: ignore[no-any-return]


def test_subclass_with_its_own_call_is_neutralised(
    assert_neutralised: Callable[..., list[dict[str, Any]]],
    make_app: Build,
    pin_off: None,
    witness: Path,
    tmp_path: Path,
) -> None:
    """A DebuggedApplication subclass that overrides __call__ cannot go around the hook."""
    main = make_app(guard=False, name="main")
    bare = DispatcherMiddleware(main, {"/admin": make_app(strictness="off", name="admin")})
    debugger = HandRolledDebugger(bare, evalex=True)
    assert_live(debugger, tmp_path / "before-the-guard")
    with capture_events() as events:
        ProdGuard(main)
        assert_neutralised(debugger, bare, witness)
    assert debugger_events(events) == [(NEUTRALIZED, "main", "main", "fixed")]


def test_subclass_constructed_after_the_guard_serves_no_console(
    assert_neutralised: Callable[..., list[dict[str, Any]]],
    mount: Mount,
    pin_off: None,
    witness: Path,
) -> None:
    """evalex=False is not enough: the subclass calls display_console itself, neutralised."""
    bare = mount("enforce", "off")
    debugger = HandRolledDebugger(bare, evalex=True)
    assert debugger.evalex is False
    assert_neutralised(debugger, bare, witness)


def raising_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A WSGI app that fails with a secret in its message."""
    raise RuntimeError("planted secret hunter2")


@pytest.mark.parametrize("debugger_class", [DebuggedApplication, HandRolledDebugger])
def test_no_traceback_page_nor_frame_code_for_an_unguarded_mount(
    make_app: Build, pin_off: None, debugger_class: type[DebuggedApplication]
) -> None:
    """A mount the guard does not cover gets no traceback page, and its frames run no code."""
    main = make_app(guard=False, name="main")
    debugger = debugger_class(DispatcherMiddleware(main, {"/raw": raising_app}), evalex=True)
    client = Client(debugger)
    page = client.get("/raw/")
    # Control: the debugger renders the traceback and keeps the frames.
    assert page.status_code == 500 and b"hunter2" in page.get_data()
    frame = re.search(rb'id="frame-(\d+)"', page.get_data())
    assert frame is not None
    run = f"/?__debugger__=yes&frm={frame[1].decode()}&cmd=6*7&s={debugger.secret}"
    assert b'<span class="number">42</span>' in client.get(run).get_data()
    ProdGuard(main)
    # Neutralised: the exception reaches the server, which answers its own 500.
    with pytest.raises(RuntimeError, match="hunter2"):
        client.get("/raw/")
    response = client.get(run)
    assert response.status_code == 404
    assert b'<span class="number">' not in response.get_data()


@pytest.mark.parametrize("built", ["before the guards", "after the enforce guard"])
def test_debugger_inside_a_report_app_is_neutralised_by_an_enforce_app(
    make_app: Build, built: str
) -> None:
    """A debugger in a report app's chain is neutralised by the enforce app, reported once."""
    main = make_app(guard=False, name="main")
    admin = make_app(strictness="report", guard=False, name="admin")
    with capture_events() as events:
        if built == "after the enforce guard":
            ProdGuard(main)
        admin.wsgi_app = DebuggedApplication(admin.wsgi_app, evalex=True)  # type: ignore[method-assign]
        if built == "before the guards":
            ProdGuard(main)
        ProdGuard(admin)
        client = admin.test_client()
        console = client.get("/console")
        resource = client.get("/?__debugger__=yes&cmd=resource&f=debugger.js")
    (neutralized,) = [e for e in events if e["event"] in (NEUTRALIZED, DETECTED)]
    if built == "before the guards":
        # Found by admin's start-up checks, decided by main's guard.
        assert debugger_events(events) == [(NEUTRALIZED, "admin", "main", "fixed")]
        assert neutralized["where"] == "inside the WSGI chain of the app 'admin'"
    else:
        # Reported by the hook when it was built; admin's checks say no more.
        assert debugger_events(events) == [(NEUTRALIZED, "main", "main", "fixed")]
        assert neutralized["where"] == (
            "around flask.app.Flask.wsgi_app, which holds the app(s) 'admin'"
        )
    assert console.status_code == 404 and b"SECRET" not in console.data
    assert resource.data == b"hello"
    assert neutralises(main.extensions["prodguard"])  # alive until here: it decides


def test_debugger_is_live_again_when_the_enforce_app_is_gone(
    mount: Mount, make_app: Build, pin_off: None, witness: Path, tmp_path: Path
) -> None:
    """The decision follows the apps alive: report decides once the enforce app is collected."""
    import gc

    gone = make_app(name="gone")
    bare = mount("report", "off")
    with capture_events() as events:
        debugger = DebuggedApplication(bare, evalex=True)
    assert debugger_events(events) == [(NEUTRALIZED, "gone", "gone", "fixed")]
    del gone
    gc.collect()
    with capture_events() as events:
        later = DebuggedApplication(bare, evalex=True)
        assert_live(later, witness)
    assert debugger_events(events) == [(DETECTED, "main", "main", "reported")]
    assert debugger.evalex is False  # built while the enforce app lived


def test_app_own_console_route_under_the_debugger_is_no_probe(make_app: Build) -> None:
    """An app's own POST /console under a neutralised debugger: served, not a probe;
    GET /console (405) is one probe, reported once."""
    app = make_app(guard=False, name="main")

    @app.post("/console")
    def own_console() -> str:
        return "own console"

    ProdGuard(app)
    client = Client(DebuggedApplication(app, evalex=True))
    with capture_events() as events:
        served = client.post("/console")
    assert (served.status_code, served.get_data()) == (200, b"own console")
    assert [e for e in events if e["event"] == PROBE] == []
    with capture_events() as events:
        assert client.get("/console").status_code == 405
    assert probes(events) == [("console", "blocked")]


# -- the development server ---------------------------------------------------------

KNOWN_SECRET = "known0secret0for0test"

SERVER_SOURCE = '''\
"""Two apps behind DispatcherMiddleware on run_simple with the debugger."""

import os

import werkzeug.debug
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

from flask_prodguard import ProdGuard

# The SECRET an attacker would read from a console or traceback page: known to
# the test, so that its code-execution attempts carry the right one.
werkzeug.debug.gen_salt = lambda length: os.environ["KNOWN_SECRET"]


def make(name, strictness):
    app = Flask(name)
    app.config.update(
        PRODGUARD_ENV="production",
        SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=1024 * 1024,
    )

    @app.get("/")
    def index():
        return f"hello from {name}"

    if strictness != "none":
        app.config["PRODGUARD_STRICTNESS"] = strictness
        ProdGuard(app)
    return app


application = DispatcherMiddleware(
    make("main", os.environ["MAIN_STRICTNESS"]),
    {"/admin": make("admin", os.environ["ADMIN_STRICTNESS"])},
)
run_simple(
    "127.0.0.1", int(os.environ["APP_PORT"]), application, use_debugger=True, use_evalex=True
)
'''


def http_get(port: int, target: str) -> tuple[int, bytes]:
    """The status and body of ``GET target`` on 127.0.0.1:``port``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterable[Callable[..., Server]]:
    """Return ``start(main, admin, **env)``: the two apps on run_simple with the debugger."""
    servers: list[Server] = []

    def start(main: str, admin: str, **variables: str) -> Server:
        app_dir = tmp_path / f"server{len(servers)}"
        app_dir.mkdir()
        (app_dir / "app.py").write_text(SERVER_SOURCE)
        server = start_on_free_port(
            lambda port: [sys.executable, "app.py"],
            app_dir,
            MAIN_STRICTNESS=main,
            ADMIN_STRICTNESS=admin,
            KNOWN_SECRET=KNOWN_SECRET,
            **variables,
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        print(server.logs())  # shown by pytest when the test failed


@pytest.mark.server
@pytest.mark.parametrize(
    ("main", "admin", "decider"),
    [("enforce", "off", "main"), ("report", "enforce", "admin"), ("off", "off", None)],
)
def test_dev_server_debugger_beside_an_enforce_app(
    dev_server: Callable[..., Server], witness: Path, main: str, admin: str, decider: str | None
) -> None:
    """run_simple(use_debugger=True): an enforce app anywhere leaves no debugger on any path."""
    server = dev_server(main, admin, WERKZEUG_DEBUG_PIN="off")
    server.wait_ready(lambda port: http_get(port, "/")[0] == 200)
    answers = {
        url: http_get(server.port, url) for url in debugger_requests(KNOWN_SECRET, witness)
    }
    urls = list(answers)
    if decider is None:
        # Control: the real server really serves a live debugger on these paths.
        assert f'SECRET = "{KNOWN_SECRET}"'.encode() in answers["/console"][1]
        assert b"EVALEX_TRUSTED" in answers[urls[2]][1]
        assert b"div.debugger" in answers[urls[3]][1]
        assert answers[urls[4]] == (200, b"")
        assert b'<span class="number">2</span>' in answers[urls[6]][1]
        assert witness.read_text() == "ran"
        assert server.events() == []
        return
    for url, (status, body) in answers.items():
        for marker in DEBUGGER_MARKERS:
            assert marker not in body, f"{marker!r} in the answer to {url}\n{server.logs()}"
        if "printpin" in url:
            assert (status, body) != (200, b""), url  # the debugger's own answer
    assert not witness.exists(), server.logs()
    events = server.events()
    assert debugger_events(events) == [(NEUTRALIZED, decider, decider, "fixed")], server.logs()


@pytest.mark.server
def test_dev_server_refuses_the_debugger_beside_a_strict_app(
    dev_server: Callable[..., Server],
) -> None:
    """run_simple(use_debugger=True) with a strict app mounted anywhere exits, never serving."""
    server = dev_server("off", "strict")
    assert server.wait_exit(20.0) not in (None, 0), server.logs()
    assert "refused to start the Werkzeug debugger for app 'admin'" in server.stderr()
    refused = [e for e in server.events() if e["event"] == REFUSED]
    assert [(e["app"], e["reason"]) for e in refused] == [
        ("admin", "start the Werkzeug debugger")
    ]


# -- before any app exists: the process environment decides ------------------------

PROCESS_LABEL = "process environment (PRODGUARD_ENV=production)"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"PRODGUARD_ENV": ""}, None),
        ({"PRODGUARD_ENV": "development"}, None),
        ({"PRODGUARD_ENV": "testing"}, None),
        ({"PRODGUARD_ENV": "production"}, ("enforce", "PRODGUARD_ENV=production")),
        ({"PRODGUARD_ENV": " Staging "}, ("enforce", "PRODGUARD_ENV=staging")),
        # A value the apps' guards refuse: fail closed.
        ({"PRODGUARD_ENV": "prod"}, ("enforce", "PRODGUARD_ENV='prod'")),
        ({"PRODGUARD_ENV": "production", "PRODGUARD_STRICTNESS": "report"}, None),
        ({"PRODGUARD_ENV": "production", "PRODGUARD_STRICTNESS": "off"}, None),
        (
            {"PRODGUARD_ENV": "production", "PRODGUARD_STRICTNESS": "strict"},
            ("strict", "PRODGUARD_ENV=production, PRODGUARD_STRICTNESS=strict"),
        ),
        # The strictness variable sets every guard of the process, whatever the env.
        ({"PRODGUARD_STRICTNESS": "enforce"}, ("enforce", "PRODGUARD_STRICTNESS=enforce")),
        (
            {"PRODGUARD_ENV": "development", "PRODGUARD_STRICTNESS": "strict"},
            ("strict", "PRODGUARD_ENV=development, PRODGUARD_STRICTNESS=strict"),
        ),
        (
            {"PRODGUARD_PARENT_STRICTNESS": "enforce"},
            ("enforce", "PRODGUARD_PARENT_STRICTNESS=enforce"),
        ),
        (
            {"PRODGUARD_ENV": "production", "PRODGUARD_PARENT_STRICTNESS": "strict"},
            ("strict", "PRODGUARD_PARENT_STRICTNESS=strict"),
        ),
        (
            {"PRODGUARD_ENV": "production", "PRODGUARD_PARENT_STRICTNESS": "enforce"},
            ("enforce", "PRODGUARD_ENV=production"),
        ),
        ({"PRODGUARD_STRICTNESS": "report", "PRODGUARD_PARENT_STRICTNESS": "enforce"}, None),
    ],
)
def test_decision_from_environment(
    environ: dict[str, str], expected: tuple[str, str] | None
) -> None:
    """The environment decides only when it says every guard of the process acts."""
    from flask_prodguard.wsgi.debugger import decision_from_environment

    decision = decision_from_environment(environ)
    if expected is None:
        assert decision is None
    else:
        assert decision is not None
        assert (decision.strictness, decision.label) == (
            expected[0],
            f"process environment ({expected[1]})",
        )


IMPORT_SCRIPT = """\
import gc
import json
import sys

import flask_prodguard

result = {
    "werkzeug_debug_imported": "werkzeug.debug" in sys.modules,
    # The guard's replacement __call__, on the class werkzeug.debug holds.
    "patched_at_import": getattr(
        getattr(sys.modules.get("werkzeug.debug"), "DebuggedApplication", None), "__call__", len
    ).__module__
    == "flask_prodguard.wsgi.debugger",
}
from flask import Flask
from werkzeug.debug import DebuggedApplication
from werkzeug.test import Client
from flask_prodguard.testing import capture_events
from flask_prodguard.testing import event_validator

if "--with-a-dropped-app" in sys.argv:
    # An app guarded with the defaults (enforce), then gone: apps created on
    # demand and dropped by their dispatcher's cache.
    app = Flask("dropped")
    app.config.update(SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b",
                      SESSION_COOKIE_SECURE=True, MAX_CONTENT_LENGTH=1024)
    flask_prodguard.ProdGuard(app)
    del app
    gc.collect()


def plain(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"plain answer"]


with capture_events() as events:
    try:
        debugger = DebuggedApplication(plain, evalex=True)
    except flask_prodguard.UnsafeDeploymentError as error:
        result["refused"] = str(error)
    else:
        console = Client(debugger).get("/console")
        result["console"] = [console.status_code, console.get_data(as_text=True)]
result["events"] = [
    {k: v for k, v in e.items() if isinstance(v, (str, int, bool, list, type(None)))}
    for e in events
]
print(json.dumps(result))
"""


def import_and_build_a_debugger(tmp_path: Path, *args: str, **variables: str) -> dict[str, Any]:
    """In a fresh interpreter with ``variables``: import the package, build a debugger
    around a plain WSGI callable, GET /console; what happened, as a dictionary."""
    import json
    import subprocess

    from servers import server_environ

    script = tmp_path / "import_script.py"
    script.write_text(IMPORT_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        env=server_environ(**variables),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"PRODGUARD_ENV": "development"},
        {"PRODGUARD_ENV": "production", "PRODGUARD_STRICTNESS": "report"},
    ],
    ids=str,
)
def test_import_leaves_werkzeug_alone_unless_the_environment_says_so(
    tmp_path: Path, variables: dict[str, str]
) -> None:
    """Control: without an explicit production environment, importing changes nothing."""
    result = import_and_build_a_debugger(tmp_path, **variables)
    # Nothing patched, nothing imported for it: the import stays cheap.
    assert result["werkzeug_debug_imported"] is False
    assert result["patched_at_import"] is False
    status, page = result["console"]
    assert status == 200 and "SECRET =" in page
    assert result["events"] == []


@pytest.mark.parametrize(
    ("variables", "label"),
    [
        ({"PRODGUARD_ENV": "production"}, PROCESS_LABEL),
        ({"PRODGUARD_ENV": "staging"}, "process environment (PRODGUARD_ENV=staging)"),
        (
            {"PRODGUARD_PARENT_STRICTNESS": "enforce"},
            "process environment (PRODGUARD_PARENT_STRICTNESS=enforce)",
        ),
    ],
    ids=str,
)
@pytest.mark.parametrize("apps", ["no app ever", "an app dropped"])
def test_production_environment_neutralises_a_debugger_before_any_app(
    tmp_path: Path, variables: dict[str, str], label: str, apps: str
) -> None:
    """PRODGUARD_ENV=production (or a parent's guard): no debugger while no app exists."""
    args = ["--with-a-dropped-app"] if apps == "an app dropped" else []
    result = import_and_build_a_debugger(tmp_path, *args, **variables)
    assert result["patched_at_import"] is True
    status, page = result["console"]
    # The wrapped callable's own answer, nothing of the debugger's.
    assert (status, page) == (200, "plain answer")
    validator = event_validator()
    for event in result["events"]:
        validator.validate(event)
    assert [
        (e["event"], e["app"], e["decided_by"], e["action"], e["evalex"])
        for e in result["events"]
        if e["event"] == NEUTRALIZED
    ] == [(NEUTRALIZED, label, label, "fixed", False)]
    (probe,) = [e for e in result["events"] if e["event"] == PROBE]
    assert (probe["app"], probe["probe"], probe["action"]) == (label, "console", "blocked")


def test_strict_environment_refuses_a_debugger_before_any_app(tmp_path: Path) -> None:
    """PRODGUARD_STRICTNESS=strict in the environment: constructing a debugger raises."""
    result = import_and_build_a_debugger(
        tmp_path, PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="strict"
    )
    label = "process environment (PRODGUARD_ENV=production, PRODGUARD_STRICTNESS=strict)"
    assert "console" not in result
    assert f"refused to start the Werkzeug debugger for app {label!r}" in result["refused"]
    assert "gunicorn --bind 127.0.0.1:8000 'yourapp:app'" in result["refused"]
    assert [(e["event"], e["app"]) for e in result["events"]] == [(REFUSED, label)]


@pytest.mark.parametrize(
    ("strictness", "exported"),
    [("enforce", "enforce"), ("strict", "strict"), ("report", None), ("off", None)],
)
def test_guard_exports_its_decision_to_child_processes(
    make_app: Build, strictness: str, exported: str | None
) -> None:
    """A guard that neutralises the debugger sets PRODGUARD_PARENT_STRICTNESS; no other does."""
    import os

    from flask_prodguard.config import PARENT_STRICTNESS_VARIABLE

    assert PARENT_STRICTNESS_VARIABLE == "PRODGUARD_PARENT_STRICTNESS"
    assert PARENT_STRICTNESS_VARIABLE not in os.environ
    make_app(strictness=strictness)
    assert os.environ.get(PARENT_STRICTNESS_VARIABLE) == exported


def test_exported_decision_is_never_weakened_and_breaks_no_config(make_app: Build) -> None:
    """strict stays strict; the variable is no unknown key, in the environment or in
    app.config through from_prefixed_env()."""
    import os

    make_app(strictness="strict", name="first")
    make_app(strictness="enforce", name="second")
    assert os.environ["PRODGUARD_PARENT_STRICTNESS"] == "strict"
    app = Flask("third")
    app.config.from_prefixed_env()  # reads FLASK_*: the variable is not one
    assert not [key for key in app.config if "PRODGUARD" in key]
    ProdGuard(app)  # no ConfigurationError for the variable
