"""The debugger hook attacked as an adversary would (issue 14, point 1).

Every test here tries to get a live Werkzeug debugger (console page, its
resources, a traceback page with ``SECRET =``, the PIN prompt, or code run
with ``WERKZEUG_DEBUG_PIN=off``) out of a process whose app is guarded in
production with strictness ``enforce`` or ``strict``.

The tests under "holes, fixed" got the debugger before their hole was fixed
at its cause (a reloader child whose app failed to import, apps created on
demand, a reloaded ``werkzeug.debug``, ``restore_debugger()`` called by app
code); each fails again if its fix is removed. The others are attacks the hook
withstands that ``test_debugger.py``, ``test_debugger_process.py`` and
``test_hostile_probes.py`` do not cover; the server test among them has a
control (a development app, strictness ``off``) that gets the debugger's
answers to the very same requests, so that the production case proves
something.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import sys
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask_prodguard import UnsafeDeploymentError
from flask_prodguard import restore_debugger
from flask_prodguard.testing import capture_events
from flask_prodguard.wsgi.debugger import neutralises
from werkzeug.debug import DebuggedApplication
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import Client

from servers import Server
from servers import dechunk
from servers import header_values
from servers import parse_head
from servers import send_and_receive
from servers import start_on_free_port
from servers import wait_for

FLASK = str(Path(sys.executable).with_name("flask"))

#: What the debugger's answers carry: the script, the style sheet, the console
#: page, a code result, a traceback page, the planted secret.
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

#: The SECRET the server scripts make the debugger use, so that a code
#: execution attempt carries the right one whether or not a page showed it.
KNOWN_SECRET = "known0secret0for0redteam"

Build = Callable[..., Flask]


@pytest.fixture
def pin_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """``WERKZEUG_DEBUG_PIN=off``: a live debugger runs code for anyone."""
    monkeypatch.setenv("WERKZEUG_DEBUG_PIN", "off")


@pytest.fixture
def witness(tmp_path: Path) -> Path:
    """A file that only code run through a debugger writes."""
    return tmp_path / "code-ran"


def attack_urls(
    secret: str, witness: Path, console: str = "/console", mount: str = ""
) -> list[str]:
    """Every way into a debugger mounted at ``mount``, the console first (it
    creates frame 0, which code runs in); the last one writes ``witness`` if
    code runs."""
    touch = quote(f"__import__('pathlib').Path({str(witness)!r}).write_text('ran')")
    return [
        mount + console,
        f"{mount}/?__debugger__=yes&cmd=resource&f=debugger.js",
        f"{mount}/?__debugger__=yes&cmd=printpin&s={secret}",
        f"{mount}/?__debugger__=yes&cmd=pinauth&pin=000-000-000&s={secret}",
        f"{mount}/?__debugger__=yes&frm=0&cmd=6*7&s={secret}",
        f"{mount}/?__debugger__=yes&frm=0&cmd={touch}&s={secret}",
    ]


def assert_no_debugger_in(url: str, status: int, body: bytes, extra: str = "") -> None:
    """Nothing of the debugger's in one answer (printpin's own answer is an empty 200)."""
    for marker in DEBUGGER_MARKERS:
        assert marker not in body, f"{marker!r} in the answer to {url}: {body[:300]!r}{extra}"
    if "cmd=printpin" in url or "cmd=pinauth" in url:
        assert (status, body) != (200, b""), f"the debugger answered {url}{extra}"
        assert b'"auth"' not in body, f"the PIN prompt answered {url}{extra}"


def assert_inert(
    outer: Any, witness: Path, console: str = "/console", debugger: Any = None, mount: str = ""
) -> None:
    """No request to ``debugger`` (``outer`` itself unless given), mounted at
    ``mount`` in ``outer``, gets anything of the debugger's, and no code runs."""
    client = Client(outer)
    secret = (debugger or outer).secret
    for url in attack_urls(secret, witness, console, mount):
        response = client.get(url)
        assert_no_debugger_in(url, response.status_code, response.get_data())
        assert "__wzd" not in response.headers.get("Set-Cookie", ""), url
    assert not witness.exists(), "code ran through the debugger"


# -- real processes ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Answer:
    """A response read off a raw socket."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def http(port: int, target: str) -> Answer:
    """``GET target`` on 127.0.0.1:``port``, with the request line exactly as given."""
    head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    raw, ending = send_and_receive(port, head.encode("latin-1"), timeout=10.0)
    header_block, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        raise ConnectionError(f"{ending}: incomplete response to {target!r}: {raw!r}")
    status, headers = parse_head(header_block)
    if "chunked" in ",".join(header_values(headers, "Transfer-Encoding")).lower():
        body = dechunk(body)[0]
    return Answer(status, headers, body)


def answers_hello(port: int) -> bool:
    """Whether the app answers its index page."""
    answer = http(port, "/")
    return answer.status == 200 and b"hello" in answer.body


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Return ``launch(source, command, **env)``: write ``app.py``, start
    ``command(port)`` in its directory, stop the whole process group at teardown."""
    servers: list[Server] = []

    def start(source: str, command: Callable[[int], list[str]], **variables: str) -> Server:
        app_dir = tmp_path / f"server{len(servers)}"
        app_dir.mkdir()
        (app_dir / "app.py").write_text(source)
        server = start_on_free_port(command, app_dir, KNOWN_SECRET=KNOWN_SECRET, **variables)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        print(server.logs())  # shown by pytest when the test failed


def python_app(port: int) -> list[str]:
    """``python app.py``."""
    return [sys.executable, "app.py"]


APP_FACTORY = """\
import os

import werkzeug.debug
from flask import Flask
from flask import Response
from flask import request

from flask_prodguard import ProdGuard


def known_secret(length):
    return os.environ["KNOWN_SECRET"]


werkzeug.debug.gen_salt = known_secret


def make(name):
    app = Flask(name)
    app.config.update(
        SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=1024 * 1024,
    )

    @app.get("/")
    def index():
        return f"hello from {name}"

    @app.get("/boom")
    def boom():
        raise RuntimeError("planted hunter2")

    @app.get("/stream")
    def stream():
        def body():
            yield "first chunk\\n"
            raise RuntimeError("midway hunter2")

        return Response(body())

    @app.get("/teardown")
    def teardown_fails():
        return "fine"

    @app.teardown_request
    def fail_in_teardown(error):
        if request.path == "/teardown":
            raise RuntimeError("teardown hunter2")

    ProdGuard(app)
    return app

"""


# -- holes, fixed --------------------------------------------------------------------

FLASK_RUN_APP = """\
from flask import Flask

from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)


@app.get("/")
def index():
    return "hello"


ProdGuard(app)
"""

# The same app after a deploy that fails at import, before the guard exists
# (a database that cannot be reached, a missing variable, a syntax error).
FLASK_RUN_APP_BROKEN = (
    """\
raise RuntimeError("database unreachable: postgresql://app:hunter2@db/prod")
"""
    + FLASK_RUN_APP
)


@pytest.mark.server
@pytest.mark.parametrize(
    "production",
    [
        # Fixed by the process environment's decision at import (flask imports
        # the package through its flask.commands entry point before the app).
        "PRODGUARD_ENV=production in the environment",
        # Fixed by the decision the parent's guard exports to the child.
        "default environment of the app",
    ],
)
@pytest.mark.parametrize(
    "options", [("--reload", "--debugger"), ("--debug", "--reload")], ids=" ".join
)
def test_reloader_child_whose_app_fails_to_import_serves_no_debugger(
    launch: Callable[..., Server], witness: Path, options: tuple[str, ...], production: str
) -> None:
    """flask run with the reloader, production: a deploy failing at import gets no debugger."""
    variables = {"PRODGUARD_ENV": "production"} if "PRODGUARD_ENV" in production else {}
    server = launch(
        FLASK_RUN_APP,
        lambda port: [FLASK, "--app", "app", "run", *options, "--port", str(port)],
        WERKZEUG_DEBUG_PIN="off",
        **variables,
    )
    server.wait_ready(answers_hello)
    # Control: the guard in the reloader child neutralises the debugger.
    console = http(server.port, "/console")
    assert console.status == 404 and b"SECRET" not in console.body, server.logs()

    app_file = server.stdout_path.parent / "app.py"
    app_file.write_text(FLASK_RUN_APP_BROKEN)
    stat = app_file.stat()
    os.utime(app_file, (stat.st_atime + 5, stat.st_mtime + 5))  # seen as changed
    # The reloader restarts the child, which prints the import error and serves
    # (or, were the debugger refused there, exits and takes the parent along).
    wait_for(
        lambda: (
            server.proc.poll() is not None
            or ("database unreachable" in server.output() and http(server.port, "/").status)
        ),
        "the reloader child serving the broken deploy, or exiting",
        details=server.logs,
    )
    if server.proc.poll() is not None:
        with pytest.raises(OSError):
            http(server.port, "/")
        return

    first = http(server.port, "/")
    assert_no_debugger_in("/", first.status, first.body, server.logs())
    secret = KNOWN_SECRET
    for url in attack_urls(secret, witness):
        if url == "/console":
            page = http(server.port, url)
            # The real SECRET, if the console shows it, for the code requests.
            if b'SECRET = "' in page.body:
                secret = page.body.split(b'SECRET = "')[1].split(b'"')[0].decode()
        answer = http(server.port, url.replace(KNOWN_SECRET, secret))
        assert_no_debugger_in(url, answer.status, answer.body, server.logs())
    assert not witness.exists(), f"code ran through the debugger\n{server.logs()}"
    # The broken child's debugger was decided by the process environment.
    label = (
        "process environment (PRODGUARD_ENV=production)"
        if variables
        else "process environment (PRODGUARD_PARENT_STRICTNESS=enforce)"
    )
    decided = {(e["event"], e["decided_by"]) for e in server.events() if e.get("app") == label}
    assert ("prodguard.debugger.neutralized", label) in decided, server.logs()


LAZY_DISPATCH_APP = (
    APP_FACTORY
    + '''\
import threading

from werkzeug.exceptions import NotFound
from werkzeug.serving import run_simple


class PathDispatcher:
    """The "Application Dispatching" pattern of the Flask docs: each app is
    created, and so guarded, by the first request under its prefix."""

    def __init__(self, default_app, create_app):
        self.default_app = default_app
        self.create_app = create_app
        self.lock = threading.Lock()
        self.instances = {}

    def get_application(self, prefix):
        with self.lock:
            app = self.instances.get(prefix)
            if app is None:
                app = self.create_app(prefix)
                if app is not None:
                    self.instances[prefix] = app
            return app

    def __call__(self, environ, start_response):
        prefix, _, rest = environ.get("PATH_INFO", "").lstrip("/").partition("/")
        app = self.get_application(prefix)
        if app is None:
            app = self.default_app
        else:
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + "/" + prefix
            environ["PATH_INFO"] = "/" + rest
        return app(environ, start_response)


def create_app(prefix):
    return make(prefix) if prefix in ("shop", "blog") else None


run_simple(
    "127.0.0.1",
    int(os.environ["APP_PORT"]),
    PathDispatcher(NotFound(), create_app),
    use_debugger=True,
    use_evalex=True,
)
'''
)


@pytest.mark.server
def test_debugger_before_the_first_lazily_created_app(
    launch: Callable[..., Server], witness: Path
) -> None:
    """Lazily created production apps: the debugger is inert from the first request on."""
    server = launch(
        LAZY_DISPATCH_APP, python_app, PRODGUARD_ENV="production", WERKZEUG_DEBUG_PIN="off"
    )
    server.wait_ready(lambda port: http(port, "/nothing").status == 404)
    for url in attack_urls(KNOWN_SECRET, witness):
        answer = http(server.port, url)
        assert_no_debugger_in(url, answer.status, answer.body, server.logs())
    assert not witness.exists(), f"code ran through the debugger\n{server.logs()}"
    # Before any app existed, the process environment decided and reported
    # the probes (each event is written before its response is sent).
    label = "process environment (PRODGUARD_ENV=production)"
    events = server.events()
    assert [(e["event"], e["decided_by"]) for e in events if "decided_by" in e] == [
        ("prodguard.debugger.neutralized", label)
    ], server.logs()
    assert {e["app"] for e in events if e["event"] == "prodguard.debugger.probe"} == {label}
    # Once an app exists, its guard neutralises the debugger too.
    assert http(server.port, "/shop/").body == b"hello from shop"
    assert http(server.port, "/console").status == 404


RELOADED_CLASS_APP = (
    APP_FACTORY
    + """\
import importlib

from werkzeug.serving import run_simple

app = make("main")
# What a hot-reload tool, a plugin manager or a test harness does to modules:
# werkzeug.debug.DebuggedApplication is now a new class the hook never patched,
# and run_simple imports it when it is called.
importlib.reload(werkzeug.debug)
werkzeug.debug.gen_salt = known_secret
run_simple("127.0.0.1", int(os.environ["APP_PORT"]), app, use_debugger=True, use_evalex=True)
"""
)


@pytest.mark.server
def test_reloaded_werkzeug_debug_module_serves_no_debugger(
    launch: Callable[..., Server], witness: Path
) -> None:
    """run_simple(use_debugger=True) after reloading werkzeug.debug: still no debugger."""
    server = launch(
        RELOADED_CLASS_APP, python_app, PRODGUARD_ENV="production", WERKZEUG_DEBUG_PIN="off"
    )
    # The first request reaches the app through the unpatched class; the
    # guard's first-request check patches it and reports the live debugger.
    server.wait_ready(answers_hello)
    for url in attack_urls(KNOWN_SECRET, witness):
        answer = http(server.port, url)
        assert_no_debugger_in(url, answer.status, answer.body, server.logs())
    assert not witness.exists(), f"code ran through the debugger\n{server.logs()}"
    (detected,) = [e for e in server.events() if e["event"] == "prodguard.debugger.detected"]
    assert detected["level"] == "critical" and detected["decided_by"] == "main"
    assert "had not patched" in detected["where"], server.logs()


def _restore_debugger_as_app_code_would() -> None:
    """Call the public ``restore_debugger()`` as app code would: it refuses, with an event."""
    with capture_events() as events, pytest.raises(UnsafeDeploymentError) as refused:
        restore_debugger()
    assert "restore_debugger(force=True)" in str(refused.value)
    assert [(e["event"], e["app"], e["findings"]) for e in events] == [
        ("prodguard.startup.refused", "main", ["PG102"])
    ]


def test_restore_debugger_leaves_no_live_debugger_while_an_enforce_app_lives(
    debugger_patched: Callable[[], bool], make_app: Build, pin_off: None, witness: Path
) -> None:
    """App code calling restore_debugger() beside an enforce app gets no live debugger."""
    main = make_app(name="main")
    _restore_debugger_as_app_code_would()
    assert debugger_patched()
    assert_inert(DebuggedApplication(main, evalex=True), witness)


def test_hook_reinstalled_after_restore_still_counts_the_earlier_enforce_app(
    debugger_patched: Callable[[], bool], make_app: Build, pin_off: None, witness: Path
) -> None:
    """After restore_debugger(), a later report guard's hook still obeys the enforce app."""
    main = make_app(name="main")
    _restore_debugger_as_app_code_would()
    admin = make_app(strictness="report", name="admin")
    assert debugger_patched()
    bare = DispatcherMiddleware(main, {"/admin": admin})
    assert_inert(DebuggedApplication(bare, evalex=True), witness)


# -- what held -----------------------------------------------------------------------


def _copied(live: DebuggedApplication, app: Flask) -> Any:
    return copy.copy(live)


def _new_and_dict(live: DebuggedApplication, app: Flask) -> Any:
    debugger = DebuggedApplication.__new__(DebuggedApplication)
    debugger.__dict__.update(live.__dict__)
    return debugger


class InitSkippingDebugger(DebuggedApplication):
    """A subclass whose ``__init__`` never calls the (hooked) base ``__init__``."""

    def __init__(self, app: Any, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.app = app


def _init_skipping(live: DebuggedApplication, app: Flask) -> Any:
    return InitSkippingDebugger(app, dict(live.__dict__))


@pytest.mark.parametrize(
    "build",
    [_copied, _new_and_dict, _init_skipping],
    ids=["copy.copy", "__new__+__dict__", "subclass __init__ without super"],
)
def test_strict_debugger_that_skips_construction_is_still_inert(
    make_app: Build,
    monkeypatch: pytest.MonkeyPatch,
    witness: Path,
    tmp_path: Path,
    build: Callable[[DebuggedApplication, Flask], Any],
) -> None:
    """strict: a debugger made without its __init__ cannot be refused, but runs nothing."""
    monkeypatch.setenv("WERKZEUG_DEBUG_PIN", "off")
    main = make_app(guard=False, name="main")
    live = DebuggedApplication(main, evalex=True)
    # The state it copies is live: console opened, code run, PIN off.
    client = Client(live)
    assert b"SECRET =" in client.get("/console").get_data()
    assert b">42<" in client.get(f"/?__debugger__=yes&frm=0&cmd=6*7&s={live.secret}").data
    monkeypatch.delenv("WERKZEUG_DEBUG_PIN")  # strict refuses to start with it
    strict = make_app(strictness="strict", name="strict")
    monkeypatch.setenv("WERKZEUG_DEBUG_PIN", "off")
    debugger = build(live, main)
    assert debugger.evalex is True and 0 in debugger.frames
    assert_inert(debugger, witness)
    assert neutralises(strict.extensions["prodguard"])  # alive until here: it decides


@pytest.mark.parametrize("console_path", ["/_debug", "/admin/shell", None])
def test_moved_console_path_gets_the_app_answer_and_is_reported(
    make_app: Build, pin_off: None, witness: Path, console_path: str | None
) -> None:
    """enforce: a console moved to another path (or switched off) serves nothing there."""
    main = make_app(name="main")
    # None is what Werkzeug checks for (no console), though its annotation says str.
    options: dict[str, Any] = {"console_path": console_path}
    debugger = DebuggedApplication(main, evalex=True, **options)
    console = console_path or "/console"
    with capture_events() as events:
        assert_inert(debugger, witness, console=console)
        answer = Client(debugger).get(console)
    assert answer.status_code == 404
    # The moved path is reported as a console probe: only the debugger knows it.
    probes = [e for e in events if e["event"] == "prodguard.debugger.probe"]
    assert ("console", "main") in {(e["probe"], e["app"]) for e in probes}
    assert all(e["action"] == "blocked" for e in probes)


def _plain(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"plain answer"]


@pytest.mark.parametrize(
    "place",
    ["nested", "ProxyFix outside", "a dispatcher mount", "around the guard's middleware"],
)
def test_debugger_in_odd_places_is_inert(
    make_app: Build, pin_off: None, witness: Path, place: str
) -> None:
    """enforce: nested debuggers, one under ProxyFix or mounted in a dispatcher: all inert."""
    main = make_app(name="main")
    if place == "nested":
        inner = DebuggedApplication(main, evalex=True)
        assert_inert(DebuggedApplication(inner, evalex=True), witness, debugger=inner)
    elif place == "ProxyFix outside":
        debugger = DebuggedApplication(main, evalex=True)
        assert_inert(ProxyFix(debugger, x_for=1), witness, debugger=debugger)
    elif place == "a dispatcher mount":
        debugger = DebuggedApplication(_plain, evalex=True)
        outer = DispatcherMiddleware(main, {"/tools": debugger})
        assert_inert(outer, witness, debugger=debugger, mount="/tools")
    else:
        assert_inert(DebuggedApplication(main.wsgi_app, evalex=True), witness)


TEARDOWN_AND_STREAM_APP = (
    APP_FACTORY
    + """\
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple


def raw(environ, start_response):
    raise RuntimeError("plain mount hunter2")


application = DispatcherMiddleware(make("main"), {"/raw": raw})
run_simple(
    "127.0.0.1", int(os.environ["APP_PORT"]), application, use_debugger=True, use_evalex=True
)
"""
)


@pytest.mark.server
@pytest.mark.parametrize("env", ["development", "production"])
def test_dev_server_failures_around_the_response_show_no_debugger(
    launch: Callable[..., Server], env: str
) -> None:
    """run_simple(use_debugger=True): failing teardown, stream or plain mount: no debugger."""
    server = launch(TEARDOWN_AND_STREAM_APP, python_app, PRODGUARD_ENV=env)
    server.wait_ready(answers_hello)
    raw = http(server.port, "/raw/")
    teardown = http(server.port, "/teardown")
    stream = http(server.port, "/stream")
    logs = server.logs()
    if env == "development":
        # Control: the debugger renders the plain mount's traceback, answers a
        # teardown failure with an empty 200 and hides a stream's failure.
        assert b'SECRET = "' + KNOWN_SECRET.encode() + b'"' in raw.body, logs
        assert (teardown.status, teardown.body) == (200, b""), logs
        assert "Debugging middleware caught exception in streamed response" in logs
        return
    assert raw.status == 500 and teardown.status == 500, logs
    assert stream.body.startswith(b"first chunk"), logs
    for target, answer in {"/raw/": raw, "/teardown": teardown, "/stream": stream}.items():
        assert_no_debugger_in(target, answer.status, answer.body, logs)
    assert "Debugging middleware" not in logs
