"""Error responses of a guarded app that fails in every way, on real servers.

One app module, written to ``tmp_path``, fails in every way an app can: in a
view, through ``abort``, on bad JSON and a missing form key, with a wrong
method, in its own error handler, in ``after_request`` and teardown, in a 500
handler that renders a missing template (a ``TemplateNotFound``, an
``OSError`` that escapes Flask), in middleware inside the guard, and in
streamed bodies: before anything, after an empty first chunk (nothing sent
yet either) and after a real one. A planted secret, ``hunter2``, is in every
exception message.

The app runs in production (``PRODGUARD_ENV``, strictness left at its default,
``enforce``) on gunicorn (sync and gthread workers), ``waitress-serve``, waitress with
``expose_tracebacks=True``, the Werkzeug development server, and the
development server with the debugger wrapped around the app. Each server is
started once per module, gets every request over a raw socket (so a response
is read byte for byte and its framing can be checked), and is stopped before
the tests look at what it answered and logged.

Issue 14: a second run per server sends what must leave no trace in the
server's log (a ``__repr__`` that fails with a DSN, a generator with a
``Content-Length`` failing before its first chunk, ``SystemExit``,
``KeyboardInterrupt`` and ``GeneratorExit`` in views, ``GET /console`` on an
app with only ``POST /console``); the development server without threads
and gunicorn's SIGQUIT show that a server's own stop still stops it.

A control test runs the same app without the guard under waitress with
``expose_tracebacks=True`` and sees the traceback and the secret in the page:
the checks here can fail.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask_prodguard.testing import event_validator
from werkzeug.http import HTTP_STATUS_CODES

from servers import WAITRESS_EXPOSE_TRACEBACKS_SOURCE
from servers import ParsedResponse
from servers import Server
from servers import check_framing
from servers import connect
from servers import gunicorn_extra_options
from servers import json_events
from servers import parse_head
from servers import receive_all
from servers import send_and_receive
from servers import start_on_free_port
from servers import wait_for

pytestmark = pytest.mark.server

PYTHON = sys.executable
WAITRESS_SERVE = str(Path(sys.executable).with_name("waitress-serve"))

REQUEST_TIMEOUT = 10.0

SECRET = "hunter2"
UNHANDLED = "prodguard.error.unhandled"
HTTP_ERROR = "prodguard.error.http"
STREAM_ABORTED = "prodguard.error.stream_aborted"

# -- the app -----------------------------------------------------------------------

APP_SOURCE = '''\
"""An app that fails in every way (tests/test_error_servers.py)."""

import os
import sys
import time

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import abort
from flask import render_template
from flask import request
from flask import stream_with_context

from flask_prodguard import ProdGuard


class Boom(Exception):
    pass


class FailingMiddleware:
    """Middleware inside the guard that fails for one path."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/inner-mw":
            raise RuntimeError("mw hunter2")
        return self.wsgi_app(environ, start_response)


app = Flask(__name__)
app.config["PRODGUARD_JSON_PATH_PREFIXES"] = ["/api/"]


@app.get("/ok")
def ok():
    return "fine"


@app.get("/view")
def view():
    raise RuntimeError("db password hunter2")


@app.get("/abort")
def do_abort():
    abort(403, description="internal detail hunter2")


@app.post("/badjson")
def badjson():
    return {"parsed": request.get_json()}


@app.route("/form", methods=["GET", "POST"])
def form():
    return request.form["missing_hunter2"]


@app.get("/method")
def method():
    return "GET only"


@app.get("/handler-fails")
def handler_fails():
    raise Boom("boom hunter2")


@app.errorhandler(Boom)
def on_boom(error):
    raise ValueError("handler hunter2")


@app.get("/after")
def after():
    return "after"


@app.after_request
def failing_after(response):
    if request.path == "/after":
        raise RuntimeError("after hunter2")
    return response


@app.get("/teardown")
def teardown():
    return "teardown", 200, {"X-Failed-Response": "teardown"}


@app.teardown_request
def failing_teardown(error):
    if request.path == "/teardown":
        raise KeyError("teardown hunter2")


# A 500 handler that renders a missing template: jinja2.TemplateNotFound (an
# OSError) escapes Flask. Registered on a blueprint so that it handles only
# /template and the other routes keep the guard's generic 500.
pages = Blueprint("pages", __name__)


@pages.get("/template")
def template():
    raise RuntimeError("template view hunter2")


@pages.errorhandler(500)
def render_missing_template(error):
    return render_template("missing-hunter2.html"), 500


app.register_blueprint(pages)


@app.get("/stream-early")
def stream_early():
    def generate():
        raise RuntimeError("early stream hunter2")
        yield b"never"

    return Response(generate(), headers={"X-Failed-Response": "stream-early"})


# Nothing sent yet either: a server sends the headers with the first non-empty
# chunk (PEP 3333), so an empty first chunk must not count as "sent".
@app.get("/stream-empty-first")
def stream_empty_first():
    def generate():
        yield b""
        raise RuntimeError("empty first chunk hunter2")

    return Response(generate(), headers={"X-Failed-Response": "stream-empty-first"})


@app.get("/stream-late")
def stream_late():
    def generate():
        yield b"part1"
        raise RuntimeError("stream hunter2")

    return Response(stream_with_context(generate()))


@app.get("/api/thing")
def api_thing():
    raise RuntimeError("api hunter2")


# -- issue 14: hostile exceptions, bodies with a Content-Length, stops ----------

DSN = "postgresql://app:hunter2@db/prod"


class Row:
    """An ORM row that cannot lazy-load: its repr fails, naming the database."""

    def __repr__(self):
        raise RuntimeError("instance is not bound to a session: " + DSN)


@app.get("/hostile-repr")
def hostile_repr():
    return {}[Row()]


@app.get("/length-early")
def length_early():
    def generate():
        raise RuntimeError("early " + DSN)
        yield b"never"

    return Response(generate(), headers={"Content-Length": "10", "X-Failed-Response": "l"})


@app.get("/length-late")
def length_late():
    def generate():
        yield b"part1"
        raise RuntimeError("late " + DSN)

    return Response(generate(), headers={"Content-Length": "10"})


@app.get("/exit")
def system_exit():
    try:
        raise ConnectionError("cannot reach " + DSN)
    except ConnectionError:
        sys.exit("giving up on " + DSN)


@app.get("/interrupt")
def keyboard_interrupt():
    raise KeyboardInterrupt


@app.get("/generator-exit")
def generator_exit():
    raise GeneratorExit


@app.get("/exit-code")
def exit_code():
    raise SystemExit(3)


@app.post("/console")
def own_console():
    return "the app's own console"


@app.get("/wait")
def wait():
    # Says which process serves it, then waits for the test to release it.
    with open("wait.pid", "w") as out:
        out.write(str(os.getpid()))
    for _ in range(600):
        if os.path.exists("release"):
            return "released"
        time.sleep(0.05)
    return "not released"


# Wrapped before ProdGuard(app): the guard stays outermost.
app.wsgi_app = FailingMiddleware(app.wsgi_app)

if os.environ.get("APP_GUARD") != "off":
    ProdGuard(app)
'''

DEV_SERVER_SOURCE = """\
import os

from werkzeug.serving import run_simple

from app import app

debugger = os.environ["APP_DEBUGGER"] == "1"
run_simple(
    "127.0.0.1",
    int(os.environ["APP_PORT"]),
    app,
    threaded=True,
    use_reloader=False,
    use_debugger=debugger,
    use_evalex=debugger,
)
"""


#: The development server without threads: requests run in the main thread,
#: where Ctrl-C lands.
DEV_SERVER_SINGLE_SOURCE = DEV_SERVER_SOURCE.replace("threaded=True", "threaded=False")


def write_app(app_dir: Path) -> None:
    """Write the app module and the server scripts to ``app_dir``."""
    (app_dir / "app.py").write_text(APP_SOURCE)
    (app_dir / "serve_waitress.py").write_text(WAITRESS_EXPOSE_TRACEBACKS_SOURCE)
    (app_dir / "serve_dev.py").write_text(DEV_SERVER_SOURCE)
    (app_dir / "serve_dev_single.py").write_text(DEV_SERVER_SINGLE_SOURCE)


# -- the servers -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ServerKind:
    """One way of serving the app."""

    name: str
    #: The command line, given the port.
    command: Callable[[int], list[str]]
    #: Extra variables for the process environment.
    env: tuple[tuple[str, str], ...] = ()
    #: Events the guard must report at start-up besides the posture.
    startup_events: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return self.name


SERVERS = [
    ServerKind(
        "gunicorn",
        lambda port: [
            PYTHON,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "sync",
            "--workers",
            "1",
            "--graceful-timeout",
            "2",
            *gunicorn_extra_options(),
            "app:app",
        ],
    ),
    ServerKind(
        "gunicorn_gthread",
        lambda port: [
            PYTHON,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--workers",
            "1",
            "--graceful-timeout",
            "2",
            *gunicorn_extra_options(),
            "app:app",
        ],
    ),
    ServerKind(
        "waitress", lambda port: [WAITRESS_SERVE, "--listen", f"127.0.0.1:{port}", "app:app"]
    ),
    ServerKind("waitress_expose_tracebacks", lambda port: [PYTHON, "serve_waitress.py"]),
    ServerKind(
        "dev_server",
        lambda port: [PYTHON, "serve_dev.py"],
        env=(("APP_DEBUGGER", "0"),),
        startup_events=frozenset({"prodguard.devserver.detected"}),
    ),
    ServerKind(
        "dev_server_debugger",
        lambda port: [PYTHON, "serve_dev.py"],
        env=(("APP_DEBUGGER", "1"),),
        startup_events=frozenset(
            {"prodguard.devserver.detected", "prodguard.debugger.neutralized"}
        ),
    ),
]
WAITRESS_TRACEBACKS = SERVERS[3]
assert WAITRESS_TRACEBACKS.name == "waitress_expose_tracebacks"
GUNICORN = {kind.name: kind for kind in SERVERS if kind.name.startswith("gunicorn")}


def start_app(kind: ServerKind, app_dir: Path, **variables: str) -> Server:
    """Start ``kind`` serving the app in ``app_dir``, in its own session."""
    return start_on_free_port(kind.command, app_dir, **dict(kind.env), **variables)


def answers_ok(port: int) -> bool:
    """Whether the app answers ``/ok`` with 200."""
    return exchange(port, PROBES[0], timeout=2.0).status == 200


# -- raw HTTP ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Probe:
    """One request and what must come back."""

    name: str
    method: str
    target: str
    status: int
    #: The event whose error id must equal the response's (None: no error).
    event: str | None
    headers: tuple[str, ...] = ()
    body: bytes = b""
    #: Whether the answer must be application/problem+json.
    problem_json: bool = False

    def __str__(self) -> str:
        return self.name


JSON_BODY = "Content-Type: application/json"
FORM_BODY = "Content-Type: application/x-www-form-urlencoded"

PROBES = [
    Probe("ok", "GET", "/ok", 200, None),
    Probe("view", "GET", "/view", 500, UNHANDLED),
    Probe("abort", "GET", "/abort", 403, HTTP_ERROR),
    Probe(
        "badjson_malformed",
        "POST",
        "/badjson",
        400,
        HTTP_ERROR,
        headers=(JSON_BODY,),
        body=b'{"password": "hunter2", ',
        problem_json=True,
    ),
    Probe(
        "badjson_invalid_utf8",
        "POST",
        "/badjson",
        400,
        HTTP_ERROR,
        headers=(JSON_BODY,),
        body=b'{"password": "hunter2\xff\xfe"}',
        problem_json=True,
    ),
    Probe("form", "POST", "/form", 400, HTTP_ERROR, headers=(FORM_BODY,), body=b"present=1"),
    Probe("method", "POST", "/method", 405, HTTP_ERROR, headers=(FORM_BODY,)),
    Probe("handler_fails", "GET", "/handler-fails", 500, UNHANDLED),
    Probe("after_request", "GET", "/after", 500, UNHANDLED),
    Probe("teardown", "GET", "/teardown", 500, UNHANDLED),
    Probe("template_not_found", "GET", "/template", 500, UNHANDLED),
    Probe("inner_middleware", "GET", "/inner-mw", 500, UNHANDLED),
    Probe("stream_early", "GET", "/stream-early", 500, UNHANDLED),
    Probe("stream_empty_first_chunk", "GET", "/stream-empty-first", 500, UNHANDLED),
    Probe("stream_late", "GET", "/stream-late", 200, STREAM_ABORTED),
    Probe("length_early", "GET", "/length-early", 500, UNHANDLED),
    Probe("length_late", "GET", "/length-late", 200, STREAM_ABORTED),
    Probe("api_prefix", "GET", "/api/thing", 500, UNHANDLED, problem_json=True),
    Probe(
        "view_accept_json",
        "GET",
        "/view",
        500,
        UNHANDLED,
        headers=("Accept: application/json",),
        problem_json=True,
    ),
]
PROBE = {probe.name: probe for probe in PROBES}
ABORTED_PROBES = [p for p in PROBES if p.event == STREAM_ABORTED]
ERROR_PROBES = [p for p in PROBES if p.name != "ok" and p not in ABORTED_PROBES]


@dataclasses.dataclass(frozen=True)
class Exchange(ParsedResponse):
    """A raw HTTP response, parsed, and whether its framing was complete."""

    probe: Probe
    raw: bytes
    status: int
    headers: list[tuple[str, str]]
    #: The body as far as it was received (de-chunked).
    body: bytes
    #: "content-length", "chunked", "close" (delimited by closing) or "none".
    framing: str
    #: Empty when the response is complete; otherwise what is wrong.
    incomplete: str
    #: How reading ended: "eof", "reset" or "timeout".
    ending: str

    def __repr__(self) -> str:
        return f"<{self.probe.method} {self.probe.target} ({self.ending}): {self.raw[:1200]!r}>"


def parse_response(probe: Probe, raw: bytes, ending: str) -> Exchange:
    """Parse ``raw`` and check its framing (RFC 9112, section 6)."""
    head, separator, rest = raw.partition(b"\r\n\r\n")
    if not separator:
        # A dropped connection fails this probe's tests, not the whole run.
        return Exchange(probe, raw, 0, [], b"", "none", "no complete header block", ending)
    status, headers = parse_head(head)
    framing, body, incomplete = check_framing(headers, rest)
    return Exchange(probe, raw, status, headers, body, framing, incomplete, ending)


def exchange(port: int, probe: Probe, timeout: float = REQUEST_TIMEOUT) -> Exchange:
    """Send ``probe`` on a fresh connection and read the answer to EOF."""
    head = (
        f"{probe.method} {probe.target} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "User-Agent: prodguard-error-server-tests\r\n"
        "Connection: close\r\n"
    )
    for header in probe.headers:
        head += header + "\r\n"
    if probe.body or probe.method == "POST":
        head += f"Content-Length: {len(probe.body)}\r\n"
    data = (head + "\r\n").encode("latin-1") + probe.body
    raw, ending = send_and_receive(port, data, timeout)
    return parse_response(probe, raw, ending)


# -- a run: one server, every request ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Run:
    """What one server answered to every probe, and what it logged."""

    kind: ServerKind
    answers: dict[str, Exchange]
    stdout: str
    stderr: str
    logs: str

    def events(self) -> list[dict[str, Any]]:
        """The JSON event lines on stderr."""
        return json_events(self.stderr)

    def text_lines(self) -> list[str]:
        """Every line of output that is not a JSON event line."""
        lines = self.stdout.splitlines() + self.stderr.splitlines()
        return [line for line in lines if not line.startswith("{")]


def serve_every_probe(kind: ServerKind, app_dir: Path, **variables: str) -> Run:
    """Start ``kind``, send every probe, stop it; return answers and output."""
    write_app(app_dir)
    server = start_app(kind, app_dir, **variables)
    try:
        server.wait_ready(answers_ok)
        answers = {probe.name: exchange(server.port, probe) for probe in PROBES}
    finally:
        server.stop()
    return Run(
        kind,
        answers,
        server.stdout(),
        server.stderr(),
        server.logs(),
    )


@pytest.fixture(scope="module", params=SERVERS, ids=str)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Serve the guarded app on one server (production, default strictness)."""
    kind: ServerKind = request.param
    return serve_every_probe(
        kind, tmp_path_factory.mktemp(kind.name), PRODGUARD_ENV="production"
    )


# -- what must never reach a client --------------------------------------------------

BODY_LEAKS = (
    "Traceback",
    ".py",
    SECRET,
    "RuntimeError",
    "ValueError",
    "KeyError",
    "TemplateNotFound",
    "werkzeug",
    "Werkzeug Debugger",
    "SECRET",
    "internal detail",
    "Boom",
    "missing_hunter2",
)
ERROR_ID = re.compile(r"[0-9a-f]{16}")


def assert_no_leak(answer: Exchange, why: str = "") -> None:
    """Nothing of the failure is in the body (``why``: a hint for the message)."""
    body = answer.body.decode("latin-1")
    for marker in BODY_LEAKS:
        assert marker.lower() not in body.lower(), f"{marker!r} leaked. {why} {answer!r}"
    # Not in a header either (the Server header may name Werkzeug: only these).
    for marker in (SECRET, "Traceback"):
        assert marker.encode() not in answer.raw, f"{marker!r} leaked. {why} {answer!r}"


def error_id_of(answer: Exchange, why: str = "") -> str:
    """The one ``X-Error-ID`` of ``answer``; it is 16 hex digits and in the body."""
    ids = answer.header_values("X-Error-ID")
    assert len(ids) == 1, f"expected one X-Error-ID header. {why} {answer!r}"
    error_id = ids[0]
    assert ERROR_ID.fullmatch(error_id), f"not an error id: {error_id!r}"
    assert error_id in ERROR_ID.findall(answer.text), f"id {error_id} not in body: {answer!r}"
    return error_id


def diagnosis(answer: Exchange) -> str:
    """What a failed check of ``answer`` most likely means, for the message."""
    if answer.probe.name == "stream_empty_first_chunk":
        return (
            "BUG: the body's first chunk was b'' and the safety net counted it as sent"
            " (safety.guarded_body sets sent=True for any chunk), so it raised"
            " StreamAborted instead of answering with the generic 500. Per PEP 3333 a"
            " server sends the headers only with the first non-empty chunk: waitress"
            " answers with its own 500 without an error id (with expose_tracebacks, a"
            " traceback of StreamAborted); gunicorn and the dev server, which send the"
            " headers on an empty write, cut off a 200 with an empty body. Holding back"
            " empty chunks until the first non-empty one would give the generic 500."
        )
    if answer.header_values("X-Failed-Response"):
        return (
            "BUG: the failed response's headers went out with the generic 500. The app"
            " had called start_response before failing; the safety net called it again"
            " with exc_info, and this server appends the new headers to the first"
            " call's instead of replacing them (gunicorn's Response.start_response"
            " -> process_headers), so the guard must not rely on that restart."
        )
    return ""


def events_as_text(run: Run, needle: str) -> str:
    """Text lines holding ``needle`` and why a JSON event may be missing."""
    lines = [line for line in run.text_lines() if needle in line]
    if not lines:
        return "no line at all holds it"
    return (
        "BUG: the event went out only as a text line of another handler; the guard's"
        " default JSON handler steps aside once a root handler exists, and"
        " waitress.serve() (so waitress-serve too) calls logging.basicConfig() after"
        " the app was imported, so after start-up no event is a JSON line:\n  "
        + "\n  ".join(lines)
    )


# -- the tests -----------------------------------------------------------------------

CHUNKED = b"Transfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    ("raw", "framing", "complete"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine", "content-length", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfine", "content-length", False),
        (
            b"HTTP/1.1 500 X\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nfine",
            "content-length",
            False,
        ),
        (b"HTTP/1.1 200 OK\r\n" + CHUNKED + b"4\r\nfine\r\n0\r\n\r\n", "chunked", True),
        (b"HTTP/1.1 200 OK\r\n" + CHUNKED + b"5\r\npart1\r\n", "chunked", False),
        (b"HTTP/1.1 200 OK\r\n" + CHUNKED + b"5\r\npar", "chunked", False),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart1", "close", False),
    ],
    ids=[
        "length",
        "length_short",
        "length_twice",
        "chunked",
        "chunked_no_last_chunk",
        "chunk_cut",
        "close_delimited",
    ],
)
def test_framing_check_tells_complete_from_cut_off(
    raw: bytes, framing: str, complete: bool
) -> None:
    """The framing check itself accepts whole messages and catches cut-off ones."""
    answer = parse_response(PROBE["ok"], raw, "eof")
    assert (answer.incomplete == "") is complete, answer.incomplete
    if framing:
        assert answer.framing == framing


def test_ok_is_served_whole(run: Run) -> None:
    """A route that works answers 200 "fine", complete, without an error id."""
    answer = run.answers["ok"]
    assert answer.status == 200, f"{answer!r}\n{run.logs}"
    assert not answer.incomplete, f"{answer.incomplete}: {answer!r}"
    assert answer.body == b"fine"
    assert answer.header_values("X-Error-ID") == []


@pytest.mark.parametrize("probe", ERROR_PROBES, ids=str)
def test_error_response_is_complete_and_generic(
    without_error_id: Callable[[bytes], bytes], run: Run, probe: Probe
) -> None:
    """Every failure gets a complete generic response carrying its error id."""
    answer = run.answers[probe.name]
    why = diagnosis(answer)
    assert not answer.incomplete, (
        f"{run.kind}: the response to {probe.method} {probe.target} is not a complete"
        f" HTTP message: {answer.incomplete}. {why} {answer!r}"
    )
    assert answer.status == probe.status, f"{run.kind}: {why} {answer!r}\n{run.logs}"
    error_id = error_id_of(answer, f"{run.kind}: {why}")
    assert_no_leak(answer, f"{run.kind}: {why}")
    # Headers of a response that failed after start_response must not survive.
    assert answer.header_values("X-Failed-Response") == [], (
        f"{run.kind}: headers of the discarded response were sent with the generic"
        f" {answer.status}. {why} {answer!r}"
    )
    for name in ("Content-Type", "Content-Length"):
        assert len(answer.header_values(name)) <= 1, (
            f"{run.kind}: duplicated {name}. {why} {answer!r}"
        )
    assert answer.header_values("Cache-Control") == ["no-store"]

    content_type = answer.header_values("Content-Type")[0]
    if probe.problem_json:
        assert content_type == "application/problem+json", answer
        problem = json.loads(answer.body)
        assert problem["status"] == probe.status
        assert problem["title"] == HTTP_STATUS_CODES[probe.status]
        assert problem["error_id"] == error_id
    else:
        assert content_type.startswith("text/html"), answer
        assert f"<title>{probe.status} " in answer.text

    if probe.name == "abort":
        # The standard text of 403, not the description given to abort().
        assert "permission to access the requested resource" in answer.text
        assert "internal detail" not in answer.text
    if probe.name == "method":
        allow = answer.header_values("Allow")
        assert len(allow) == 1 and "GET" in allow[0], answer
    if probe.status == 500:
        # Nothing distinguishes one failure from another but the id.
        same_kind = run.answers["api_prefix" if probe.problem_json else "view"]
        assert without_error_id(answer.body) == without_error_id(same_kind.body)


@pytest.mark.parametrize("probe", ABORTED_PROBES, ids=str)
def test_late_stream_failure_is_visibly_aborted(run: Run, probe: Probe) -> None:
    """A stream that fails after its first chunk is cut off, and the abort is logged.

    With or without a Content-Length of its own (issue 14, point 4).
    """
    answer = run.answers[probe.name]
    assert answer.status == 200, answer
    assert answer.body.startswith(b"part1"), answer
    assert answer.framing in ("chunked", "content-length"), (
        f"{run.kind}: the aborted stream was close-delimited; the client cannot tell it"
        f" from a complete response: {answer!r}"
    )
    assert answer.incomplete, (
        f"{run.kind}: the stream that failed after b'part1' looks complete to the client:"
        f" {answer!r}"
    )
    assert_no_leak(answer)
    aborted = [
        e for e in run.events() if e["event"] == STREAM_ABORTED and e["path"] == probe.target
    ]
    assert len(aborted) == 1, (
        f"{run.kind}: expected one {STREAM_ABORTED} JSON event line for {probe.target};"
        f" found {aborted}. {events_as_text(run, STREAM_ABORTED)}"
    )
    assert ERROR_ID.fullmatch(aborted[0]["error_id"]), aborted


def test_error_ids_are_in_json_events(run: Run) -> None:
    """Each error id in a response is the error_id of a JSON event line on stderr."""
    events = run.events()
    missing = []
    for probe in ERROR_PROBES:
        error_id = run.answers[probe.name].header_values("X-Error-ID")
        if not error_id:
            continue  # no id to look up: test_error_response_is_complete_and_generic fails
        found = [
            e for e in events if e["event"] == probe.event and e["error_id"] == error_id[0]
        ]
        if not found or any(
            e["path"] != probe.target or e.get("status", probe.status) != probe.status
            for e in found
        ):
            missing.append(probe)
    assert not missing, (
        f"{run.kind}: no JSON event line on stderr has the error id of "
        + ", ".join(f"{p.name} ({p.event})" for p in missing)
        + f". {events_as_text(run, 'error_id=')}"
    )


def test_runs_in_production_enforce_with_valid_events(run: Run) -> None:
    """The server ran the app in production+enforce; every JSON line matches the schema."""
    events = run.events()
    postures = [e for e in events if e["event"] == "prodguard.startup.posture"]
    assert postures, run.logs
    assert {(e["env"], e["strictness"]) for e in postures} == {("production", "enforce")}
    names = {e["event"] for e in events}
    assert run.kind.startup_events <= names, run.logs
    validator = event_validator()
    for event in events:
        errors = sorted(validator.iter_errors(event), key=str)
        assert not errors, f"{event['event']}: {errors[0].message}"


def test_server_log_keeps_the_secret_out(run: Run) -> None:
    """What the server and Flask log as text never holds the planted secret."""
    # The guard's own events carry the (redacted) exception message on purpose;
    # they are JSON lines, or text lines of the flask_prodguard.security logger
    # where a handler of the root logger renders them (waitress.serve() calls
    # logging.basicConfig()); test_error_ids_are_in_json_events covers those.
    leaking = [
        line
        for line in run.text_lines()
        if SECRET in line and "flask_prodguard.security:prodguard." not in line
    ]
    assert not leaking, (
        f"{run.kind}: the secret is in the server's own log output:\n"
        + "\n".join(leaking)
        + f"\n{run.logs}"
    )
    # No raw "Exception on ..." record: the guard's event replaced it.
    assert not [line for line in run.text_lines() if "Exception on /" in line], run.logs


def test_control_unguarded_app_leaks_under_waitress_tracebacks(tmp_path: Path) -> None:
    """Without the guard, waitress with expose_tracebacks shows the traceback and secret."""
    write_app(tmp_path)
    server = start_app(
        WAITRESS_TRACEBACKS, tmp_path, PRODGUARD_ENV="production", APP_GUARD="off"
    )
    try:
        server.wait_ready(answers_ok)
        answers = [
            exchange(server.port, PROBE[name])
            for name in ("inner_middleware", "template_not_found", "teardown")
        ]
    finally:
        server.stop()
    for answer in answers:
        assert answer.status == 500, f"{answer!r}\n{server.logs()}"
        assert "Traceback" in answer.text, answer
        assert SECRET in answer.text, answer
        assert answer.header_values("X-Error-ID") == []


# -- issue 14: hostile exceptions and stops, on every server -------------------------
#
# A run of its own, so that whatever the server logs can be laid at these
# requests' door: none of them may leave a traceback or the planted DSN in
# the server's log (the main run's aborted streams log StreamAborted by design).

HOSTILE_PROBES = [
    Probe("hostile_repr", "GET", "/hostile-repr", 500, UNHANDLED),
    Probe("length_early", "GET", "/length-early", 500, UNHANDLED),
    Probe("system_exit", "GET", "/exit", 500, UNHANDLED),
    Probe("keyboard_interrupt", "GET", "/interrupt", 500, UNHANDLED),
    Probe("generator_exit", "GET", "/generator-exit", 500, UNHANDLED),
]
CONSOLE_GET = Probe("console_get", "GET", "/console", 405, None)
#: The exception type each stop's event names.
STOP_TYPES = {
    "system_exit": "SystemExit",
    "keyboard_interrupt": "KeyboardInterrupt",
    "generator_exit": "GeneratorExit",
}
#: What servers print when an exception escapes the app (gunicorn, waitress, Werkzeug).
SERVER_ERROR_LINES = (
    "Traceback",
    "Error handling request",
    "Exception when servicing",
    "Exception while serving",
    "Error on request",
    "Exception in thread",
)


@dataclasses.dataclass(frozen=True)
class HostileRun:
    """What one server answered to the hostile requests, what it logged."""

    kind: ServerKind
    answers: dict[str, Exchange]
    output: str
    logs: str

    def events(self) -> list[dict[str, Any]]:
        """The JSON event lines of the server's output."""
        return json_events(self.output)


@pytest.fixture(scope="module", params=SERVERS, ids=str)
def hostile_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> HostileRun:
    """Serve the guarded app on one server and send it every hostile request."""
    kind: ServerKind = request.param
    app_dir = tmp_path_factory.mktemp(f"hostile_{kind.name}")
    write_app(app_dir)
    server = start_app(kind, app_dir, PRODGUARD_ENV="production")
    try:
        server.wait_ready(answers_ok)
        answers = {p.name: exchange(server.port, p) for p in [*HOSTILE_PROBES, CONSOLE_GET]}
    finally:
        server.stop()
    return HostileRun(kind, answers, server.output(), server.logs())


@pytest.mark.parametrize("probe", HOSTILE_PROBES, ids=str)
def test_hostile_failure_gets_complete_generic_500_with_its_event(
    hostile_run: HostileRun, probe: Probe
) -> None:
    """A hostile repr, a failing Content-Length body, a stop: the whole generic 500.

    The server answers no page of its own, and the event has the page's error id.
    """
    answer = hostile_run.answers[probe.name]
    kind = hostile_run.kind
    assert not answer.incomplete, f"{kind}: {answer.incomplete}: {answer!r}\n{hostile_run.logs}"
    assert answer.status == 500, f"{kind}: {answer!r}\n{hostile_run.logs}"
    error_id = error_id_of(answer, str(kind))
    assert_no_leak(answer, str(kind))
    assert answer.header_values("X-Failed-Response") == [], answer
    events = [
        e for e in hostile_run.events() if e["event"] == UNHANDLED and e["error_id"] == error_id
    ]
    assert len(events) == 1 and events[0]["path"] == probe.target, (
        f"{kind}: no single {UNHANDLED} event with the error id {error_id}\n{hostile_run.logs}"
    )
    if probe.name in STOP_TYPES:
        assert events[0]["exception_type"] == STOP_TYPES[probe.name]


def test_hostile_requests_leave_no_traceback_or_secret_in_the_log(
    hostile_run: HostileRun,
) -> None:
    """The server logs no traceback, no error of its own, no DSN for any of them."""
    text_lines = [line for line in hostile_run.output.splitlines() if not line.startswith("{")]
    bad = [
        line
        for line in text_lines
        if SECRET in line or any(marker in line for marker in SERVER_ERROR_LINES)
    ]
    assert not bad, f"{hostile_run.kind}:\n" + "\n".join(bad) + f"\n{hostile_run.logs}"
    for event in hostile_run.events():
        assert SECRET not in json.dumps(event), event


def test_console_with_a_method_the_app_lacks_is_a_probe(hostile_run: HostileRun) -> None:
    """GET /console on an app with only POST /console: its 405, and a probe event."""
    answer = hostile_run.answers["console_get"]
    assert answer.status == 405 and not answer.incomplete, f"{answer!r}\n{hostile_run.logs}"
    assert "POST" in answer.header_values("Allow")[0]
    events = [e for e in hostile_run.events() if e.get("path") == "/console"]
    assert [e["event"] for e in events] == ["prodguard.debugger.probe"], events
    assert events[0]["probe"] == "console" and events[0]["method"] == "GET"


# -- stops that are the server's own -------------------------------------------------


def single_threaded_dev_server(
    app_dir: Path, probe: Probe
) -> tuple[Server, Exchange, int | None]:
    """Serve the app on the development server without threads, send ``probe``.

    The server, its answer, and its exit status once the answer is in (None:
    it kept running, and was stopped).
    """
    write_app(app_dir)
    server = start_on_free_port(
        lambda port: [PYTHON, "serve_dev_single.py"],
        app_dir,
        APP_DEBUGGER="0",
        PRODGUARD_ENV="production",
    )
    try:
        server.wait_ready(answers_ok)
        answer = exchange(server.port, probe)
        exit_status = server.wait_exit(REQUEST_TIMEOUT)
    finally:
        server.stop()
    return server, answer, exit_status


def test_dev_server_without_threads_stops_after_answering(tmp_path: Path) -> None:
    """Ctrl-C lands in the main thread: the whole 500 first, then the server stops.

    The development server without threads runs requests in the main thread;
    a KeyboardInterrupt there may be the operator's. The guard answers and
    lets it go on, and the server stops as it does on Ctrl-C, quietly.
    """
    server, answer, exit_status = single_threaded_dev_server(
        tmp_path, PROBE_BY_NAME["keyboard_interrupt"]
    )
    assert exit_status is not None, f"the server kept running\n{server.logs()}"
    assert answer.status == 500 and not answer.incomplete, f"{answer!r}\n{server.logs()}"
    error_id = error_id_of(answer)
    assert [e["exception_type"] for e in server.events() if e.get("error_id") == error_id] == [
        "KeyboardInterrupt"
    ], server.logs()
    assert "Traceback" not in server.output() and SECRET not in server.output(), server.logs()


def test_dev_server_without_threads_exits_with_the_apps_code(tmp_path: Path) -> None:
    """A SystemExit(3) in the main thread: the 500, then the process exits with 3."""
    server, answer, exit_status = single_threaded_dev_server(
        tmp_path, Probe("exit_code", "GET", "/exit-code", 500, UNHANDLED)
    )
    assert exit_status == 3, server.logs()
    assert answer.status == 500 and not answer.incomplete, f"{answer!r}\n{server.logs()}"
    error_id_of(answer)


@pytest.mark.parametrize("worker", ["gunicorn", "gunicorn_gthread"])
def test_gunicorn_worker_still_stops_on_sigquit_mid_request(
    tmp_path: Path, worker: str
) -> None:
    """SIGQUIT to a worker serving a request: the worker stops all the same.

    gunicorn's SIGQUIT handler raises SystemExit where the worker's main
    thread is: in the view for the sync worker (the guard answers the generic
    500, the worker stops on the flag the handler set), in the poll loop for
    gthread (the request thread finishes). Either way the worker ends. This
    is what lets the guard end a SystemExit with its answer under gunicorn and
    in a server's thread: were a worker to stop only by a SystemExit raised in
    a request thread, the gthread worker here would keep running.
    """
    write_app(tmp_path)
    server = start_app(GUNICORN[worker], tmp_path, PRODGUARD_ENV="production")
    try:
        server.wait_ready(answers_ok)
        with connect(server.port, REQUEST_TIMEOUT) as sock:
            sock.sendall(b"GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            pid_file = tmp_path / "wait.pid"
            pid = int(
                wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the view runs")
            )
            os.kill(pid, signal.SIGQUIT)
            if worker == "gunicorn_gthread":
                (tmp_path / "release").touch()  # the request thread is not interrupted
            raw, ending = receive_all(sock)
        wait_for(lambda: not process_exists(pid), "the worker stopped", details=server.logs)
        server.wait_ready(answers_ok)  # the arbiter started another one
    finally:
        server.stop()
    answer = parse_response(PROBE_BY_NAME["ok"], raw, ending)
    if worker == "gunicorn":
        assert answer.status == 500 and not answer.incomplete, f"{answer!r}\n{server.logs()}"
        error_id = error_id_of(answer)
        assert [
            e["exception_type"] for e in server.events() if e.get("error_id") == error_id
        ] == ["SystemExit"], server.logs()
    assert "Traceback" not in server.output(), server.logs()


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists (and is not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False


PROBE_BY_NAME = {probe.name: probe for probe in [*PROBES, *HOSTILE_PROBES, CONSOLE_GET]}
