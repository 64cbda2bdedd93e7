"""Every way of starting a guarded app, as a real process on 127.0.0.1.

Each entry path is a small app file written to ``tmp_path`` and started the way
a developer or an operator would start it: ``python app.py`` with
``app.run(debug=True)``, ``flask run --debug``, ``flask run --debugger``,
``werkzeug.serving.run_simple(use_debugger=True)`` and gunicorn serving an app
whose ``wsgi_app`` is wrapped in a ``DebuggedApplication``. The mode is chosen
through the process environment only (``PRODGUARD_ENV``,
``PRODGUARD_STRICTNESS``), as an operator would.

Requests are sent with raw sockets, so that request lines such as
``GET //console`` reach the server byte for byte. Every process is started in
its own session and its whole process group is stopped at the end (the
reloader runs the server in a child process). Server output is captured to
files under ``tmp_path``, and printed at teardown, so a failing test shows it.

The development-mode tests prove that each entry path really starts a live
debugger without the guard's interference; that is what makes the 404s and
the refusals of the production-mode tests meaningful.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import ParsedResponse
from servers import Server
from servers import dechunk
from servers import gunicorn_extra_options
from servers import parse_head
from servers import send_and_receive
from servers import start_on_free_port

pytestmark = pytest.mark.server

PYTHON = sys.executable
FLASK = str(Path(sys.executable).with_name("flask"))

EXIT_TIMEOUT = 20.0

# -- the apps ----------------------------------------------------------------------

APP_HEAD = '''\
"""Guarded app for tests/test_entry_paths.py."""

import os

from flask import Flask

from flask_prodguard import ProdGuard

app = Flask(__name__)


@app.get("/")
def index():
    return "hello from the guarded app"


@app.get("/boom")
def boom():
    raise RuntimeError("planted hunter2")

'''

PORT_FROM_ENV = 'int(os.environ["APP_PORT"])'

TAIL_APP_RUN = f"""\
ProdGuard(app)

if __name__ == "__main__":
    app.run(host="127.0.0.1", port={PORT_FROM_ENV}, debug=True)
"""

TAIL_GUARD_ONLY = """\
ProdGuard(app)
"""

TAIL_RUN_SIMPLE = f"""\
ProdGuard(app)

if __name__ == "__main__":
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", {PORT_FROM_ENV}, app, use_debugger=True, use_evalex=True)
"""

# Under gunicorn the debugger sits inside the app (around app.wsgi_app), so it
# only sees a view's exception if Flask lets it propagate: debug mode must be on,
# as every "debugger under gunicorn" recipe does.
TAIL_GUNICORN_BEFORE = """\
from werkzeug.debug import DebuggedApplication

app.debug = True
app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)
ProdGuard(app)
"""

# Wrapped after the guard: the guard sees neither the debugger nor debug mode
# in init_app. It must catch the debugger when it is constructed, and debug
# mode on the first request.
TAIL_GUNICORN_AFTER = """\
from werkzeug.debug import DebuggedApplication

ProdGuard(app)
app.wsgi_app = DebuggedApplication(app.wsgi_app, evalex=True)
app.debug = True
"""

BLOCKED = "prodguard.debug.blocked"
NEUTRALIZED = "prodguard.debugger.neutralized"
PROBE = "prodguard.debugger.probe"
REFUSED = "prodguard.startup.refused"


@dataclasses.dataclass(frozen=True)
class EntryPath:
    """One way of starting the app."""

    name: str
    #: Source appended to APP_HEAD.
    tail: str
    #: The command line, given the port and the app directory.
    command: Callable[[int, Path], list[str]]
    #: Development: a view's exception reaches the debugger (traceback page).
    traceback_page: bool
    #: Development: the Werkzeug reloader runs (server in a child process).
    reloader: bool
    #: Production + enforce: what the guard reports having switched off.
    enforce_events: frozenset[str]

    def __str__(self) -> str:
        return self.name


def _flask_run(*options: str) -> Callable[[int, Path], list[str]]:
    def command(port: int, app_dir: Path) -> list[str]:
        return [FLASK, "--app", "app", "run", *options, "--port", str(port)]

    return command


def _python_app(port: int, app_dir: Path) -> list[str]:
    return [PYTHON, "app.py"]


def _gunicorn(port: int, app_dir: Path) -> list[str]:
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(app_dir),
        "--workers",
        "1",
        "--graceful-timeout",
        "2",
        *gunicorn_extra_options(),
        "app:app",
    ]


ENTRY_PATHS = [
    # app.run(debug=True) turns on debug mode, the debugger and the reloader.
    EntryPath(
        "app_run_debug",
        TAIL_APP_RUN,
        _python_app,
        traceback_page=True,
        reloader=True,
        enforce_events=frozenset({BLOCKED}),
    ),
    # flask run --debug: debug mode, debugger and reloader (the reloader case of
    # the flask command is kept on on purpose).
    EntryPath(
        "flask_run_debug",
        TAIL_GUARD_ONLY,
        _flask_run("--debug", "--host", "127.0.0.1"),
        traceback_page=True,
        reloader=True,
        enforce_events=frozenset({BLOCKED}),
    ),
    # flask run --debugger without debug mode: the debugger wraps the app, but
    # app.debug is False, so Flask turns a view's exception into its generic 500
    # and the debugger never sees it: no traceback page even in development.
    EntryPath(
        "flask_run_debugger",
        TAIL_GUARD_ONLY,
        _flask_run("--debugger", "--no-reload", "--host", "127.0.0.1"),
        traceback_page=False,
        reloader=False,
        enforce_events=frozenset({NEUTRALIZED}),
    ),
    # run_simple(use_debugger=True): same as above, app.debug stays False, so the
    # console and resources are live but views fail with Flask's generic 500.
    EntryPath(
        "run_simple_debugger",
        TAIL_RUN_SIMPLE,
        _python_app,
        traceback_page=False,
        reloader=False,
        enforce_events=frozenset({NEUTRALIZED}),
    ),
    EntryPath(
        "gunicorn_debugger_before_guard",
        TAIL_GUNICORN_BEFORE,
        _gunicorn,
        traceback_page=True,
        reloader=False,
        enforce_events=frozenset({NEUTRALIZED, BLOCKED}),
    ),
    EntryPath(
        "gunicorn_debugger_after_guard",
        TAIL_GUNICORN_AFTER,
        _gunicorn,
        traceback_page=True,
        reloader=False,
        enforce_events=frozenset({NEUTRALIZED, BLOCKED}),
    ),
]

# -- processes -----------------------------------------------------------------------


def answers(port: int) -> bool:
    """Whether anything answers an HTTP request on ``port``."""
    return try_request(port, "/", timeout=2.0) is not None


def wait_refused(server: Server) -> None:
    """Wait for the process to exit; nothing may answer HTTP on the port meanwhile."""
    deadline = time.monotonic() + EXIT_TIMEOUT
    while server.proc.poll() is None:
        if time.monotonic() > deadline:
            pytest.fail(f"process still running after {EXIT_TIMEOUT} s\n{server.logs()}")
        answer = try_request(server.port, "/", timeout=0.3)
        assert answer is None, f"something answered: {answer!r}\n{server.logs()}"
        time.sleep(0.1)
    assert try_request(server.port, "/", timeout=0.5) is None, server.logs()


def event_names(server: Server) -> set[str]:
    """The names of the JSON events on the server's stderr."""
    return {event["event"] for event in server.events()}


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Return ``launch(entry, **env)``: write the app, start it, stop it at teardown."""
    servers: list[Server] = []

    def start(entry: EntryPath, **variables: str) -> Server:
        app_dir = tmp_path / f"app{len(servers)}"
        app_dir.mkdir()
        (app_dir / "app.py").write_text(APP_HEAD + entry.tail)
        server = start_on_free_port(
            lambda port: entry.command(port, app_dir), app_dir, **variables
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        # Captured by pytest and shown only when the test failed.
        print(server.logs())


# -- raw HTTP ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Response(ParsedResponse):
    target: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes

    def __repr__(self) -> str:
        return f"<Response {self.target!r} {self.status}: {self.raw[:600]!r}>"


def request(port: int, target: str, method: str = "GET", timeout: float = 10.0) -> Response:
    """Send one request with the request line exactly as given; read to EOF."""
    head = (
        f"{method} {target} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "User-Agent: prodguard-entry-path-tests\r\n"
        "Accept: */*\r\n"
        "Connection: close\r\n"
    )
    if method == "POST":
        head += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n"
    raw, ending = send_and_receive(port, (head + "\r\n").encode("latin-1"), timeout)
    if ending != "eof":
        raise ConnectionError(f"{ending} while reading the response to {target!r}: {raw!r}")
    header_block, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        raise ConnectionError(f"incomplete response to {target!r}: {raw!r}")
    status, headers = parse_head(header_block)
    response = Response(target, status, headers, body, raw)
    if "chunked" in ",".join(response.header_values("Transfer-Encoding")).lower():
        response = dataclasses.replace(response, body=dechunk(body)[0])
    return response


def try_request(port: int, target: str, timeout: float) -> Response | None:
    """The response, or ``None`` if nothing answered (refused, reset, timed out)."""
    try:
        return request(port, target, timeout=timeout)
    except (OSError, ConnectionError, ValueError, IndexError):
        return None


# -- what must never leak ------------------------------------------------------------

# Markers of the debugger's pages and resources and of the planted secret.
LEAK_MARKERS = (
    "traceback",
    "hunter2",
    "SECRET =",
    "EVALEX",
    "CONSOLE_MODE",
    "Werkzeug Debugger",
    "console.png",
)

# (method, request target) of requests aimed at the debugger.
DEBUGGER_PROBES = [
    ("GET", "/console"),
    ("GET", "/%63onsole"),
    ("GET", "//console"),
    ("GET", "/?__debugger__=yes&cmd=resource&f=debugger.js"),
    ("GET", "/?__DEBUGGER__=yes&cmd=resource&f=style.css"),
    ("GET", "/?x=1&__debugger__=yes&cmd=printpin&s=x"),
    ("POST", "/?__debugger__=yes&cmd=pinauth&pin=123&s=x"),
]


def assert_no_leak(response: Response) -> None:
    text = response.raw.decode("latin-1")
    for marker in LEAK_MARKERS:
        assert marker.lower() not in text.lower(), f"{marker!r} leaked in {response!r}"
    for cookie in response.header_values("Set-Cookie"):
        assert "__wzd" not in cookie, f"debugger cookie set by {response!r}"


# -- the tests -----------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRY_PATHS, ids=str)
def test_development_keeps_the_debugger(
    launch: Callable[..., Server], entry: EntryPath
) -> None:
    """In development the guard leaves each entry path's live debugger exactly as it was."""
    server = launch(entry, PRODGUARD_ENV="development")
    server.wait_ready(answers)

    console = request(server.port, "/console")
    assert console.status == 200, server.logs()
    assert "Werkzeug Debugger" in console.text
    assert "CONSOLE_MODE = true" in console.text
    assert "EVALEX = true" in console.text
    assert "SECRET = " in console.text
    # The percent-encoded variant reaches the console too: the 404 in
    # production is the guard's doing, not the server's.
    assert request(server.port, "/%63onsole").status == 200

    resource = request(server.port, "/?__debugger__=yes&cmd=resource&f=debugger.js")
    assert resource.status == 200
    assert "EVALEX" in resource.text

    boom = request(server.port, "/boom")
    assert boom.status == 500
    if entry.traceback_page:
        # Debug mode on: the exception propagates to the debugger, which renders
        # its traceback page, planted secret included.
        assert "Traceback" in boom.text
        assert "hunter2" in boom.text
        assert "Werkzeug Debugger" in boom.text
    else:
        # Debug mode off (flask run --debugger, run_simple(use_debugger=True)):
        # Flask handles the exception itself and answers its generic 500; the
        # debugger wrapped around the app never sees it.
        assert "Traceback" not in boom.text
        assert "hunter2" not in boom.text
        assert "Internal Server Error" in boom.text

    restarting = "Restarting with" in server.output()
    assert restarting is entry.reloader, server.logs()
    # Strictness defaults to off in development: the guard stays silent, but
    # for one warning that a production server serves a development app.
    events = [(event["event"], event.get("check_id")) for event in server.events()]
    expected = [("prodguard.check.failed", "PG601")] if entry.command is _gunicorn else []
    assert events == expected, server.logs()


@pytest.mark.parametrize("entry", ENTRY_PATHS, ids=str)
def test_production_enforce_neutralises_the_debugger(
    without_error_id: Callable[[bytes], bytes], launch: Callable[..., Server], entry: EntryPath
) -> None:
    """In production+enforce the app serves, and debugger requests get the app's own 404."""
    server = launch(entry, PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="enforce")
    server.wait_ready(answers)

    index = request(server.port, "/")
    assert index.status == 200, server.logs()
    assert index.text == "hello from the guarded app"
    assert_no_leak(index)

    not_found = request(server.port, "/no-such-page")
    assert not_found.status == 404
    assert_no_leak(not_found)

    for method, target in DEBUGGER_PROBES:
        probe = request(server.port, target, method=method)
        assert probe.status == 404, f"{probe!r}\n{server.logs()}"
        assert without_error_id(probe.body) == without_error_id(not_found.body), (
            f"{probe!r} differs from {not_found!r}"
        )
        assert_no_leak(probe)

    boom = request(server.port, "/boom")
    assert boom.status == 500
    assert "Internal Server Error" in boom.text
    assert_no_leak(boom)

    events = server.events()
    names = {event["event"] for event in events}
    assert entry.enforce_events <= names, server.logs()
    probes = [event for event in events if event["event"] == PROBE]
    # One event per debugger request; none for /, /no-such-page or /boom.
    assert len(probes) == len(DEBUGGER_PROBES), server.logs()
    assert {event["probe"] for event in probes} == {"console", "debugger_query"}
    assert {event["action"] for event in probes} == {"blocked"}

    output = server.output()
    # No debug mode, no reloader, no live debugger, no PIN in the logs.
    assert "Debug mode: on" not in output
    assert "Restarting with" not in output
    assert "Debugger is active" not in output
    assert "Debugger PIN" not in output


@pytest.mark.parametrize("entry", ENTRY_PATHS, ids=str)
def test_production_strict_refuses_to_start(
    launch: Callable[..., Server], entry: EntryPath
) -> None:
    """In production+strict the process exits non-zero, says how to serve, never answers."""
    server = launch(entry, PRODGUARD_ENV="production", PRODGUARD_STRICTNESS="strict")
    wait_refused(server)

    assert server.proc.returncode != 0, server.logs()
    stderr = server.stderr()
    assert "Flask-ProdGuard refused" in stderr, server.logs()
    assert "gunicorn --bind" in stderr
    assert "waitress-serve" in stderr
    assert REFUSED in event_names(server), server.logs()
    # The development server never even bound the port. (gunicorn's arbiter
    # binds before its worker imports the app; polling showed no answer.)
    assert "Running on" not in server.output()


def test_flask_run_debug_without_env_tells_the_developer(
    launch: Callable[..., Server],
) -> None:
    """`flask run --debug` with no PRODGUARD_ENV runs as production and says how to opt out."""
    entry = next(e for e in ENTRY_PATHS if e.name == "flask_run_debug")
    server = launch(entry)
    server.wait_ready(answers)

    console = request(server.port, "/console")
    assert console.status == 404, server.logs()
    assert_no_leak(console)

    # In plain words, not only in the "hint" field of the JSON events.
    plain_lines = [line for line in server.stderr().splitlines() if not line.startswith("{")]
    assert any("PRODGUARD_ENV=development" in line for line in plain_lines), server.logs()
    assert any("treating this as production" in line for line in plain_lines)
    assert " * Debug mode: off" in server.output(), server.logs()
    assert "Restarting with" not in server.output()
    assert BLOCKED in event_names(server), server.logs()
