"""Hostile requests against a guarded app on four real servers, over raw sockets.

A guarded app (production, default strictness ``enforce``, safe settings, a
planted secret ``hunter2`` in its exception messages) runs on the Werkzeug
development server started by ``app.run(debug=True)``, on ``flask run
--debugger``, on gunicorn through ``flask prodguard serve`` and on waitress
with ``expose_tracebacks=True``. Each server gets every probe byte for byte on
a fresh connection: debugger fingerprinting and exploitation shapes, traceback
provocation, parser abuse and log injection, and the holes of issue 14:
requests that made the redactor backtrack for minutes, exceptions that cannot
be printed, streamed bodies of a declared length that break, error handlers
that show the traceback, secrets in quoted and percent-encoded forms, lone
surrogates, Unicode spaces and format characters, ``BaseException`` raised in
views. No answer may leak a traceback, the debugger, the secret or an
exception class, and no line the servers log may carry a raw control
character taken from a request.

Four variants are served (each server is started once per variant, and again
only if a probe leaves it unable to answer):

- ``enforce``: the app as most deployments have it, every probe, four servers;
- ``own_logging``: the app sends the guard's events to a file of its choosing,
  prints their plain-text summaries through its own handler, and has a
  ``POST /console`` route of its own; four servers, the log probes;
- ``strict``: ``PRODGUARD_STRICTNESS=strict`` and the error-page probes, on
  gunicorn and waitress (strict refuses the development server);
- ``shared_process``: the app at ``/`` beside a second guarded app (``off`` or
  ``report``) at ``/admin``, under one debugger on ``run_simple``; the
  debugger probes, through both mounts, code execution with the debugger's
  SECRET included.

A probe says what it must get beyond the common invariants (a status, the
generic page with an error id shared with an event, the app's own page kept
as built, events, a deadline, secrets absent from the log...), and the tests
below check each of those on every server that got it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from servers import WAITRESS_EXPOSE_TRACEBACKS_SOURCE
from servers import ParsedResponse
from servers import Server
from servers import check_framing
from servers import connect
from servers import json_events
from servers import parse_head
from servers import receive_all
from servers import start_on_free_port

pytestmark = pytest.mark.server

PYTHON = sys.executable
FLASK = str(Path(sys.executable).with_name("flask"))

REQUEST_TIMEOUT = 5.0
#: How fast a request that once froze a worker must be answered, and a normal
#: one right after it: an answer takes milliseconds, the freeze took minutes.
STALL_DEADLINE = 2.0
#: How long a server may take to serve again after a request that may end a
#: worker (gunicorn boots a new one).
RECOVERY_TIMEOUT = 10.0

SECRET = "hunter2"
#: A connection string with the planted secret as its password.
DSN = f"postgresql://app:{SECRET}@db/prod"
#: The message of the exception behind the leaky error handlers.
LEAK_MESSAGE = f"ledger 4412 unbalanced for {SECRET}"
#: A friendly custom 500 page, as an app builds it with a template.
FRIENDLY_PAGE = (
    "<!doctype html><title>Sorry</title><h1>Sorry!</h1>"
    "<p>Something went wrong on our side. Reference: {{ reference }}</p>"
)
FRIENDLY_REFERENCE = "ref-7781"

PROBE_EVENT = "prodguard.debugger.probe"
HTTP_ERROR = "prodguard.error.http"
UNHANDLED = "prodguard.error.unhandled"
STREAM_ABORTED = "prodguard.error.stream_aborted"
SCRUBBED = "prodguard.error.traceback_scrubbed"
#: Statuses a server may answer with itself when it rejects a request unparsed.
SERVER_REJECTS = frozenset({400, 414, 431, 501})
#: The file the ``own_logging`` variant sends the guard's events to.
EVENTS_FILE = "events.jsonl"

# -- the app -----------------------------------------------------------------------

_APP_HEAD = '''\
"""A guarded app with safe settings and failing routes (tests/test_hostile_probes.py).

Besides ordinary failures it fails the way hostile input and careless code
make apps fail: exceptions that cannot be printed, streamed bodies of a
declared length that break, error handlers that show the traceback,
BaseExceptions raised in views.
"""

import argparse
import html
import logging
import os
import sys
import traceback

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import abort
from flask import jsonify
from flask import render_template_string
from flask import request

from flask_prodguard import ProdGuard

'''

_APP_CONSTANTS = f"""\
DSN = {DSN!r}
LEAK_MESSAGE = {LEAK_MESSAGE!r}
FRIENDLY_PAGE = {FRIENDLY_PAGE!r}
FRIENDLY_REFERENCE = {FRIENDLY_REFERENCE!r}
EVENTS_FILE = {EVENTS_FILE!r}
"""

_APP_BODY = '''
app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["APP_SECRET_KEY"],
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
    # Every probe comes from one client: flood control must not drop its events.
    PRODGUARD_RATE_LIMIT_BURST=1000,
)


@app.get("/")
def index():
    return "fine"


@app.get("/boom")
def boom():
    raise RuntimeError("db password hunter2")


@app.get("/item/<name>")
def item(name):
    return {"name": name}


@app.post("/json")
def json_view():
    return {"parsed": request.get_json()}


@app.route("/form", methods=["GET", "POST"])
def form():
    return request.form["missing"]


@app.get("/stream")
def stream():
    def generate():
        yield b"part1"
        raise RuntimeError("stream hunter2")

    return Response(generate())


# -- exception messages made of request text -------------------------------------


@app.route("/echo-error", methods=["GET", "POST"])
def echo_error():
    # Validation errors often quote the input: the message is request text.
    raise ValueError(request.values.get("m", ""))


@app.post("/json-error")
def json_error():
    raise ValueError(f"unexpected value {request.get_json()}")


# -- exceptions that cannot be printed ---------------------------------------------


class Unprintable:
    """A row that cannot lazy-load any more: its repr() and str() raise."""

    def __repr__(self):
        raise RuntimeError("cannot load row from " + DSN)

    __str__ = __repr__


class UnprintableError(Exception):
    """An exception whose str() and repr() raise."""

    def __str__(self):
        raise RuntimeError("cannot describe the failure of " + DSN)

    __repr__ = __str__


class OddModuleError(Exception):
    """An exception class whose module name cannot be printed."""


OddModuleError.__module__ = Unprintable()


def _row_key():
    rows = {}
    return rows[Unprintable()]  # KeyError(row): its str() calls repr(row)


def _str_raises():
    raise UnprintableError(DSN)


def _argument_raises():
    raise RuntimeError(Unprintable())


def _cause_raises():
    raise RuntimeError("report failed") from UnprintableError(DSN)


def _context_raises():
    try:
        raise UnprintableError(DSN)
    except UnprintableError:
        # Raised while handling the first: that one is its __context__.
        raise RuntimeError("report failed")


def _module_name_raises():
    raise OddModuleError(DSN)


def _notes_raise():
    error = RuntimeError("report failed")
    error.__notes__ = [Unprintable()]
    raise error


def _cyclic_cause():
    first, second = RuntimeError("first " + DSN), RuntimeError("second")
    first.__cause__, second.__cause__ = second, first
    raise first


HOSTILE = {
    "row-key": _row_key,
    "str-raises": _str_raises,
    "argument-raises": _argument_raises,
    "cause-raises": _cause_raises,
    "context-raises": _context_raises,
    "module-name-raises": _module_name_raises,
    "notes-raise": _notes_raise,
    "cyclic-cause": _cyclic_cause,
}


@app.get("/hostile/<kind>")
def hostile(kind):
    HOSTILE[kind]()


# -- streamed bodies with a declared length ----------------------------------------


@app.get("/stream-length-early")
def stream_length_early():
    def generate():
        raise RuntimeError("stream " + DSN)
        yield b"never"

    return Response(generate(), headers={"Content-Length": "10"})


@app.get("/stream-length-late")
def stream_length_late():
    def generate():
        yield b"part1"
        raise RuntimeError("stream " + DSN)

    return Response(generate(), headers={"Content-Length": "10"})


# -- the app's own 500 handlers, leaky and benign ----------------------------------


def _trace(error):
    return "".join(traceback.format_exception(error.original_exception))


def leak_repr_handler(error):
    return f"Something failed: {error.original_exception!r}", 500


def leak_str_handler(error):
    return f"Something failed: {error.original_exception}", 500


def leak_format_exc_handler(error):
    return traceback.format_exc(), 500


def leak_html_escaped_handler(error):
    return f"<h1>Error</h1><pre>{html.escape(_trace(error))}</pre>", 500


def leak_jinja_escaped_handler(error):
    page = render_template_string("<h1>Error</h1><pre>{{ trace }}</pre>", trace=_trace(error))
    return page, 500


def leak_json_trace_handler(error):
    trace = traceback.format_tb(error.original_exception.__traceback__)
    return jsonify(error="internal", trace=trace), 500


def leak_json_frames_handler(error):
    frames = [
        {"file": frame.filename, "line": frame.lineno, "code": frame.line}
        for frame in traceback.extract_tb(error.original_exception.__traceback__)
    ]
    return jsonify(error="internal", frames=frames), 500


def leak_streamed_handler(error):
    lines = _trace(error).splitlines(keepends=True)
    return Response((line for line in lines), status=500, mimetype="text/plain")


def friendly_json_handler(error):
    return jsonify(error="internal"), 500


def friendly_page_handler(error):
    return render_template_string(FRIENDLY_PAGE, reference=FRIENDLY_REFERENCE), 500


def fail():
    raise RuntimeError(LEAK_MESSAGE)


# Each handler in a blueprint of its own, /handler/<name>/fail: one app, many 500 pages.
for handler in (
    leak_repr_handler,
    leak_str_handler,
    leak_format_exc_handler,
    leak_html_escaped_handler,
    leak_jinja_escaped_handler,
    leak_json_trace_handler,
    leak_json_frames_handler,
    leak_streamed_handler,
    friendly_json_handler,
    friendly_page_handler,
):
    name = handler.__name__.removesuffix("_handler")
    blueprint = Blueprint(name, __name__, url_prefix="/handler/" + name.replace("_", "-"))
    blueprint.add_url_rule("/fail", "fail", fail)
    blueprint.register_error_handler(500, handler)
    app.register_blueprint(blueprint)


@app.get("/abort-traceback")
def abort_traceback():
    try:
        raise RuntimeError(LEAK_MESSAGE)
    except RuntimeError:
        abort(Response(traceback.format_exc(), 500))


# -- BaseExceptions in views -------------------------------------------------------


@app.get("/exit")
def exit_view():
    # argparse inside a view: a bad value makes it print its usage and raise SystemExit.
    parser = argparse.ArgumentParser(prog="report")
    parser.add_argument("--limit", type=int)
    parser.parse_args(["--limit", "many"])
    return "unreachable"


@app.get("/keyboard-interrupt")
def keyboard_interrupt():
    raise KeyboardInterrupt


@app.get("/generator-exit")
def generator_exit():
    raise GeneratorExit


# -- an app that does its own logging and has its own /console ---------------------

if os.environ.get("APP_OWN_LOGGING"):
    # The guard's events go to a file (UTF-8, as any file), and the app prints
    # their readable summaries itself, as a plain-text logging setup does.
    app.config["PRODGUARD_LOG_DESTINATION"] = os.path.abspath(EVENTS_FILE)
    text = logging.StreamHandler(sys.stderr)
    text.setFormatter(logging.Formatter("TEXT %(levelname)s %(name)s %(message)s"))
    logging.getLogger("flask_prodguard.security").addHandler(text)

    @app.post("/console")
    def own_console():
        return "console"


if os.environ.get("APP_GUARD") != "off":
    ProdGuard(app)
'''

APP_SOURCE = _APP_HEAD + _APP_CONSTANTS + _APP_BODY

DEV_SERVER_SOURCE = """\
import os

from app import app

# The reloader would fork a second process: off, the debugger stays on.
app.run(host="127.0.0.1", port=int(os.environ["APP_PORT"]), debug=True, use_reloader=False)
"""


#: The SECRET of the debugger in ``serve_shared.py``: an attacker reads it from
#: any console or traceback page the debugger serves; the probes carry it.
DEBUGGER_SECRET = "known0debugger0secret"

SHARED_PROCESS_SOURCE = f"""\
\"\"\"The app at /, a second guarded app at /admin, one dev server with the debugger.

The second app's strictness is the first argument (off or report); the
debugger wraps both, as run_simple(use_debugger=True) does (issue 14, point 1).
\"\"\"

import os
import sys

import werkzeug.debug
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

from flask_prodguard import ProdGuard

from app import app

# The SECRET an attacker would read from a console or traceback page: known to
# the probes, so that their code-execution attempts carry the right one.
werkzeug.debug.gen_salt = lambda length: {DEBUGGER_SECRET!r}

admin = Flask("admin")
admin.config.update(
    SECRET_KEY=os.environ["APP_SECRET_KEY"],
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
    # Its exceptions escape it: only a live debugger would show their traceback.
    PROPAGATE_EXCEPTIONS=True,
)


@admin.get("/")
def admin_index():
    return "admin"


@admin.get("/boom")
def admin_boom():
    raise RuntimeError("admin password hunter2")


ProdGuard(admin, strictness=sys.argv[1])

run_simple(
    "127.0.0.1",
    int(os.environ["APP_PORT"]),
    DispatcherMiddleware(app, {{"/admin": admin}}),
    use_debugger=True,
    use_evalex=True,
    use_reloader=False,
    threaded=True,
)
"""


def write_app(app_dir: Path) -> None:
    """Write the app module and the server scripts to ``app_dir``."""
    (app_dir / "app.py").write_text(APP_SOURCE)
    (app_dir / "serve_dev.py").write_text(DEV_SERVER_SOURCE)
    (app_dir / "serve_shared.py").write_text(SHARED_PROCESS_SOURCE)
    (app_dir / "serve_waitress.py").write_text(WAITRESS_EXPOSE_TRACEBACKS_SOURCE)


# -- the servers -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ServerKind:
    """One way of serving the app."""

    name: str
    #: The command line, given the port.
    command: Callable[[int], list[str]]

    def __str__(self) -> str:
        return self.name


SERVERS = [
    ServerKind("app_run_debug", lambda port: [PYTHON, "serve_dev.py"]),
    ServerKind(
        "flask_run_debugger",
        lambda port: [
            FLASK,
            "--app",
            "app",
            "run",
            "--debugger",
            "--no-reload",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
    ),
    ServerKind(
        "gunicorn",
        lambda port: [
            FLASK,
            "--app",
            "app",
            "prodguard",
            "serve",
            "--server",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
    ),
    ServerKind("waitress_expose_tracebacks", lambda port: [PYTHON, "serve_waitress.py"]),
]
#: The app at / beside a second guarded app at /admin (strictness off or
#: report) under DispatcherMiddleware, on run_simple(use_debugger=True,
#: use_evalex=True): the debugger runs code in the whole process.
SHARED_PROCESS_SERVERS = [
    ServerKind(
        "run_simple_debugger_admin_off", lambda port: [PYTHON, "serve_shared.py", "off"]
    ),
    ServerKind(
        "run_simple_debugger_admin_report", lambda port: [PYTHON, "serve_shared.py", "report"]
    ),
]
SERVER = {kind.name: kind for kind in [*SERVERS, *SHARED_PROCESS_SERVERS]}


def start_app(kind: ServerKind, app_dir: Path, **variables: str) -> Server:
    """Start ``kind`` serving the app in ``app_dir``, in its own session."""
    return start_on_free_port(kind.command, app_dir, **variables)


def answers_ready(port: int) -> bool:
    """Whether the app answers ``/`` with 200."""
    return exchange(port, READY_PROBE, timeout=2.0).status == 200


# -- the probes ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Probe:
    """One hostile request, as the exact bytes sent, and what it must get."""

    name: str
    raw: bytes
    #: A debugger probe: if it reaches the app, the guard must report it.
    debugger: bool = False
    #: The app fails after the first chunk: a cut-off response is the right answer.
    aborted_stream: bool = False
    #: Every server passes the request to the app (a server may not turn it away).
    must_reach_app: bool = False
    #: The status the app must answer with.
    status: int | None = None
    #: The answer must be the guard's generic page, with an error id an event shares.
    generic: bool = False
    #: The exact body the app built (a benign custom page the guard must keep).
    body: bytes | None = None
    #: More text the answer must not hold (the handled exception's message...).
    leaks: tuple[str, ...] = ()
    #: Events that must be logged while the request is handled.
    events: tuple[str, ...] = ()
    #: Events that must not be.
    no_events: tuple[str, ...] = ()
    #: Part of the name of the error handler the traceback_scrubbed event must name.
    handler: str | None = None
    #: Text no line logged meanwhile may hold (a secret the request or app marks as one).
    log_secrets: tuple[str, ...] = ()
    #: The lines logged meanwhile are checked for format characters and forged fields.
    log_clean: bool = False
    #: Seconds within which the answer, and then a normal request's, must arrive.
    deadline: float | None = None
    #: The request raises a BaseException that may end the worker: a closed
    #: connection is an answer, and a normal request must be served again
    #: within RECOVERY_TIMEOUT.
    ends_worker: bool = False
    #: The class name an event must give as ``exception_type``.
    exception_type: str | None = None

    def __str__(self) -> str:
        return self.name


def request_bytes(
    line: bytes, *headers: bytes, body: bytes = b"", host: bytes = b"127.0.0.1"
) -> bytes:
    """A request: ``line``, Host, ``headers``, Connection: close and ``body``.

    Content-Length is added for a body unless ``headers`` frame it already.
    """
    head = [line, b"Host: " + host, *headers, b"Connection: close"]
    if body and not any(
        h.lower().startswith((b"content-length:", b"transfer-encoding:")) for h in headers
    ):
        head.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def get(target: bytes, *headers: bytes, host: bytes = b"127.0.0.1") -> bytes:
    """A GET of ``target`` (the raw request target)."""
    return request_bytes(b"GET " + target + b" HTTP/1.1", *headers, host=host)


def post(target: bytes, body: bytes, *headers: bytes) -> bytes:
    """A POST of ``body`` to ``target``."""
    return request_bytes(b"POST " + target + b" HTTP/1.1", *headers, body=body)


def debugger(name: str, raw: bytes) -> Probe:
    """A debugger fingerprinting or exploitation probe."""
    return Probe(name, raw, debugger=True)


def user_agent(value: bytes) -> bytes:
    """A User-Agent header with ``value`` (raw bytes)."""
    return b"User-Agent: " + value


JSON = b"Content-Type: application/json"
FORM = b"Content-Type: application/x-www-form-urlencoded"
FORGED_PIN_COOKIE = b"Cookie: __wzd0123456789abcdef0123=9999999999|abc"
ESC = b"\x1b"

READY_PROBE = Probe("ready", get(b"/"))

PROBES = [
    # Debugger fingerprinting and exploitation.
    debugger("dbg_resource_js", get(b"/?__debugger__=yes&cmd=resource&f=debugger.js")),
    debugger("dbg_resource_css", get(b"/?__debugger__=yes&cmd=resource&f=style.css")),
    debugger("dbg_resource_png", get(b"/?__debugger__=yes&cmd=resource&f=console.png")),
    debugger("dbg_pinauth", get(b"/?__debugger__=yes&cmd=pinauth&pin=123-456-789&s=x")),
    debugger("dbg_printpin", get(b"/?__debugger__=yes&cmd=printpin&s=x")),
    debugger(
        "dbg_exec_code",
        get(b"/?__debugger__=yes&cmd=__import__(%27os%27).getcwd()&frm=0&s=x"),
    ),
    debugger(
        "dbg_exec_raw_code", get(b"/?__debugger__=yes&cmd=open('app.py').read()&frm=0&s=x")
    ),
    debugger("dbg_exec_on_boom", get(b"/boom?__debugger__=yes&cmd=1%2B1&frm=0&s=x")),
    debugger("dbg_exec_on_item", get(b"/item/x?__debugger__=yes&cmd=dir()&frm=0&s=x")),
    debugger("dbg_key_upper", get(b"/?__DEBUGGER__=yes&cmd=resource&f=debugger.js")),
    debugger("dbg_key_encoded", get(b"/?%5f%5fdebugger%5f%5f=yes&cmd=printpin&s=x")),
    debugger("dbg_key_second", get(b"/?a=1&__debugger__=yes&cmd=printpin&s=x")),
    debugger(
        "dbg_forged_cookie", get(b"/?__debugger__=yes&cmd=1&frm=0&s=x", FORGED_PIN_COOKIE)
    ),
    debugger(
        "dbg_host_localhost",
        get(b"/?__debugger__=yes&cmd=resource&f=debugger.js", host=b"localhost"),
    ),
    debugger(
        "dbg_absolute_form",
        request_bytes(b"GET http://127.0.0.1/?__debugger__=yes&cmd=printpin&s=x HTTP/1.1"),
    ),
    debugger("console", get(b"/console")),
    debugger("console_pct_c", get(b"/%63onsole")),
    debugger("console_pct_upper_c", get(b"/%43onsole")),
    debugger("console_double_slash", get(b"//console")),
    debugger("console_capital", get(b"/Console")),
    debugger("console_trailing_slash", get(b"/console/")),
    debugger("console_dot_segment", get(b"/./console")),
    debugger("console_with_query", get(b"/console?cmd=1&frm=0&s=x")),
    debugger("console_forged_cookie", get(b"/console", FORGED_PIN_COOKIE)),
    debugger("console_host_localhost", get(b"/console", host=b"localhost")),
    debugger("console_host_localhost_port", get(b"/console", host=b"localhost:5000")),
    debugger("console_absolute_form", request_bytes(b"GET http://127.0.0.1/console HTTP/1.1")),
    debugger("console_post", post(b"/console", b"cmd=1", FORM)),
    # Traceback provocation.
    Probe("boom", get(b"/boom")),
    Probe("boom_accept_json", get(b"/boom", b"Accept: application/json")),
    Probe("form_get", get(b"/form")),
    Probe("form_post", post(b"/form", b"present=1", FORM)),
    Probe("json_malformed", post(b"/json", b'{"password": "hunter2", ', JSON)),
    Probe("json_invalid_utf8", post(b"/json", b'{"password": "hunter2\xff\xfe"}', JSON)),
    Probe("json_wrong_content_type", post(b"/json", b'{"a": 1}', b"Content-Type: text/plain")),
    Probe("json_deep_nesting", post(b"/json", b"[" * 100_000, JSON)),
    Probe("json_too_large", post(b"/json", b"[" + b"1," * 600_000 + b"1]", JSON)),
    Probe("stream", get(b"/stream"), aborted_stream=True, events=(STREAM_ABORTED,)),
    Probe("item_invalid_utf8_escape", get(b"/item/%ff%fe")),
    Probe("method_not_allowed", request_bytes(b"DELETE /boom HTTP/1.1")),
    # Parser abuse.
    Probe(
        "content_length_not_a_number",
        post(b"/json", b"{}", JSON, b"Content-Length: abc"),
    ),
    Probe("content_length_negative", post(b"/json", b"{}", JSON, b"Content-Length: -1")),
    Probe(
        "content_length_twice_differing",
        # Three bytes sent: whichever length a server picks, nobody waits.
        post(b"/json", b"{} ", JSON, b"Content-Length: 2", b"Content-Length: 3"),
    ),
    Probe(
        "content_length_and_chunked",
        post(
            b"/json",
            b"2\r\n{}\r\n0\r\n\r\n",
            JSON,
            b"Content-Length: 5",
            b"Transfer-Encoding: chunked",
        ),
    ),
    Probe(
        "chunked_bad_size",
        post(b"/json", b"zz\r\n{}\r\n0\r\n\r\n", JSON, b"Transfer-Encoding: chunked"),
    ),
    Probe(
        "headers_200",
        get(b"/", *(b"X-Flood-%d: %d" % (i, i) for i in range(200))),
    ),
    Probe("header_20kb", get(b"/", b"X-Big: " + b"a" * 20_000)),
    Probe("method_invalid", request_bytes(b"G@T / HTTP/1.1")),
    Probe("http_version_bogus", request_bytes(b"GET / HTTP/9.9")),
    Probe("path_raw_invalid_utf8", get(b"/item/\xff\xfe")),
    Probe("query_raw_invalid_utf8", get(b"/?q=\xff\xfe")),
    Probe("path_nul_escape", get(b"/item/a%00b")),
    Probe("query_nul_escape", get(b"/?q=a%00b")),
    Probe("path_raw_nul", get(b"/item/a\x00b")),
    # Log injection.
    Probe("path_crlf_escape", get(b"/item/a%0d%0a%7B%22event%22:%22forged%22%7D")),
    Probe("query_crlf_escape", get(b"/boom?q=a%0d%0aFORGED%20LINE")),
    Probe("path_esc_escape", get(b"/item/%1b[31mred%1b[0m")),
    Probe("query_esc_escape", get(b"/boom?q=%1b[31mred%1b[0m")),
    Probe(
        "user_agent_raw_esc", get(b"/boom", b"User-Agent: " + ESC + b"[31mred" + ESC + b"[0m")
    ),
    Probe("referer_raw_esc", get(b"/", b"Referer: http://x/" + ESC + b"]0;pwned\x07")),
    # Not the console path (it goes on): a 404 whose path is logged, not a probe.
    Probe("console_crlf_esc_escape", get(b"/console%0d%0a%1b[31mforged")),
    debugger(
        "dbg_query_crlf_esc_escape", get(b"/?__debugger__=yes%0d%0a%1b[31m&cmd=printpin&s=x")
    ),
    debugger("dbg_user_agent_raw_esc", get(b"/console", b"User-Agent: " + ESC + b"[2Jscan")),
]

# -- issue 14: exceptions that cannot be printed (point 3) -------------------------


def hostile(kind: str) -> Probe:
    """A view raising an exception the guard cannot print (``/hostile/<kind>``)."""
    return Probe(
        f"hostile_{kind.replace('-', '_')}",
        get(b"/hostile/" + kind.encode()),
        must_reach_app=True,
        status=500,
        generic=True,
        events=(UNHANDLED,),
        log_secrets=(SECRET,),
    )


HOSTILE_PROBES = [
    hostile(kind)
    for kind in (
        "row-key",
        "str-raises",
        "argument-raises",
        "cause-raises",
        "context-raises",
        "module-name-raises",
        "notes-raise",
        "cyclic-cause",
    )
]

# -- issue 14: generator bodies with a Content-Length (point 4) ----------------------

STREAM_LENGTH_PROBES = [
    Probe(
        "stream_length_fails_before_first_chunk",
        get(b"/stream-length-early"),
        must_reach_app=True,
        status=500,
        generic=True,
        events=(UNHANDLED,),
        log_secrets=(SECRET,),
    ),
    Probe(
        "stream_length_fails_midway",
        get(b"/stream-length-late"),
        aborted_stream=True,
        must_reach_app=True,
        events=(STREAM_ABORTED,),
        log_secrets=(SECRET,),
    ),
]

# -- issue 14: the app's own 5xx bodies (point 5) ------------------------------------

#: What the leaky handlers put in their bodies, in each encoding, besides BODY_LEAKS.
LEAK_MARKERS = ("ledger 4412", "File &quot;", "File &#34;", 'File \\"', '"file"', '"frames"')


def leaky(name: str, target: bytes, handler: str | None) -> Probe:
    """A request whose 5xx answer the app built with the exception or traceback in it."""
    return Probe(
        name,
        get(target),
        must_reach_app=True,
        status=500,
        generic=True,
        leaks=LEAK_MARKERS,
        events=(SCRUBBED,),
        handler=handler,
    )


def leaky_handler(name: str) -> Probe:
    """``/handler/<name>/fail``, answered by the app's ``<name>_handler`` for 500."""
    target = b"/handler/" + name.replace("_", "-").encode() + b"/fail"
    return leaky(name, target, f"{name}_handler")


LEAK_PROBES = [
    leaky_handler("leak_repr"),
    leaky_handler("leak_str"),
    leaky_handler("leak_format_exc"),
    leaky_handler("leak_html_escaped"),
    leaky_handler("leak_jinja_escaped"),
    leaky_handler("leak_json_trace"),
    leaky_handler("leak_json_frames"),
    leaky_handler("leak_streamed"),
    leaky("leak_abort_response", b"/abort-traceback", None),
]

#: The friendly page as the app renders it.
FRIENDLY_BODY = FRIENDLY_PAGE.replace("{{ reference }}", FRIENDLY_REFERENCE).encode()

BENIGN_PROBES = [
    Probe(
        "friendly_json",
        get(b"/handler/friendly-json/fail"),
        must_reach_app=True,
        status=500,
        # Flask's jsonify, compact outside debug mode.
        body=b'{"error":"internal"}\n',
        events=(UNHANDLED,),
        no_events=(SCRUBBED,),
    ),
    Probe(
        "friendly_page",
        get(b"/handler/friendly-page/fail"),
        must_reach_app=True,
        status=500,
        body=FRIENDLY_BODY,
        events=(UNHANDLED,),
        no_events=(SCRUBBED,),
    ),
]

# -- issue 14: secrets in quoted, spaced and encoded forms (point 6) -------------------


def secret_in(name: str, raw: bytes, status: int = 404) -> Probe:
    """A request carrying ``hunter2`` as a secret, on a path that logs an event."""
    return Probe(
        name,
        raw,
        must_reach_app=True,
        status=status,
        events=(HTTP_ERROR if status == 404 else UNHANDLED,),
        log_secrets=(SECRET,),
        log_clean=True,
    )


def error_message(text: bytes) -> bytes:
    """A GET of ``/echo-error``: its exception message is ``text`` (URL-encoded)."""
    return get(b"/echo-error?m=" + text)


def posted_error_message(text: bytes) -> bytes:
    """A POST to ``/echo-error``: its exception message is ``text`` (URL-encoded),
    which is in no other field of the event."""
    return post(b"/echo-error", b"m=" + text, FORM)


SECRET_PROBES = [
    secret_in("secret_path_spaced", get(b"/nope/password%20=%20%22hunter2%22")),
    secret_in("secret_query_spaced", get(b"/nope?password%20=%20%22hunter2%22")),
    # Flask decodes these names to password and api_key.
    secret_in("secret_query_encoded_password", get(b"/nope?pass%77ord=hunter2")),
    secret_in("secret_query_encoded_api_key", get(b"/nope?api%5Fkey=hunter2")),
    secret_in("secret_user_agent_spaced", get(b"/nope", user_agent(b'password = "hunter2"'))),
    secret_in("secret_user_agent_api_key", get(b"/nope", user_agent(b"api_key='hunter2'"))),
    secret_in(
        "secret_user_agent_secret_key", get(b"/nope", user_agent(b"secret_key='hunter2'"))
    ),
    secret_in("secret_user_agent_token_colon", get(b"/nope", user_agent(b'token: "hunter2"'))),
    secret_in(
        "secret_user_agent_passwd_dict", get(b"/nope", user_agent(b"{'passwd': 'hunter2'}"))
    ),
    secret_in(
        "secret_user_agent_config_call",
        get(b"/nope", user_agent(b"DBConfig(password='hunter2')")),
    ),
    # A separator and quotes encoded too: Flask decodes the value to password="hunter2".
    secret_in("secret_query_encoded_separator", get(b"/nope?q=password%3D%22hunter2%22")),
    secret_in(
        "secret_message_config_call",
        posted_error_message(b"DBConfig(password%3D%27hunter2%27)"),
        status=500,
    ),
    secret_in(
        "secret_message_connect_call",
        posted_error_message(b"connect(password%3D%22hunter2%22)"),
        status=500,
    ),
    secret_in(
        "secret_message_spaced",
        posted_error_message(b"password%20=%20%22hunter2%22"),
        status=500,
    ),
]

# -- issue 14: lone surrogates (point 7) ---------------------------------------------

SURROGATE_PROBES = [
    Probe(
        "surrogate_in_exception_message",
        post(b"/json-error", b'"\\ud800"', JSON),
        must_reach_app=True,
        status=500,
        generic=True,
        events=(UNHANDLED,),
        log_clean=True,
    ),
]

# -- issue 14: Unicode spaces and format characters (points 8 and 9) -----------------

#: Fields a request tries to add to the plain-text summary of its event.
FORGED_FIELDS = frozenset({"action=allowed", "error_id=forged", "status=200"})


def forged_after(space: bytes) -> bytes:
    """Forged fields, each after ``space``."""
    return b"".join(space + field.encode() for field in sorted(FORGED_FIELDS))


def in_log(name: str, raw: bytes, *, event: str = HTTP_ERROR) -> Probe:
    """A request whose text ends up in an event, checked in every line logged."""
    return Probe(name, raw, must_reach_app=True, events=(event,), log_clean=True)


NBSP, EM_SPACE, IDEOGRAPHIC_SPACE = b"%C2%A0", b"%E2%80%83", b"%E3%80%80"
RLO, LRI, PDI, ZWSP, BOM = b"%E2%80%AE", b"%E2%81%A6", b"%E2%81%A9", b"%E2%80%8B", b"%EF%BB%BF"
TAG_A, TAG_B = b"%F3%A0%81%81", b"%F3%A0%81%82"

FORMAT_PROBES = [
    in_log("forge_no_break_space_path", get(b"/nope/x" + forged_after(NBSP))),
    in_log("forge_em_space_path", get(b"/nope/x" + forged_after(EM_SPACE))),
    in_log("forge_ideographic_space_path", get(b"/nope/x" + forged_after(IDEOGRAPHIC_SPACE))),
    in_log(
        "forge_no_break_space_user_agent",
        get(b"/nope", user_agent(b"scanner" + forged_after(b"\xc2\xa0"))),
    ),
    in_log(
        "forge_em_space_message",
        error_message(b"x" + forged_after(EM_SPACE)),
        event=UNHANDLED,
    ),
    in_log(
        "forge_quote_and_space_user_agent",
        get(b"/nope", user_agent(b'x" action=allowed status="200')),
    ),
    in_log("format_rlo_path", get(b"/nope/" + RLO + b"txt.exe")),
    in_log("format_isolate_path", get(b"/nope/" + LRI + b"admin" + PDI)),
    in_log("format_zero_width_space_path", get(b"/nope/ad" + ZWSP + b"min")),
    in_log("format_bom_path", get(b"/nope/" + BOM + b"x")),
    in_log("format_tag_characters_path", get(b"/nope/x" + TAG_A + TAG_B)),
    in_log("format_rlo_user_agent", get(b"/nope", user_agent(b"a\xe2\x80\xaeb"))),
    in_log("format_tag_user_agent", get(b"/nope", user_agent(b"a\xf3\xa0\x81\x81b"))),
    in_log("format_rlo_message", error_message(RLO + b"gpj.exe"), event=UNHANDLED),
]

# -- issue 14: requests that froze a worker (point 2) ----------------------------------

#: ``'token': '`` and ``"password": "`` in a URL, each opening a quoted value
#: that never ends.
TOKEN_OPEN = b"'token':%20'"
PASSWORD_OPEN = b"%22password%22:%20%22"


def stall(name: str, raw: bytes, status: int, *events: str) -> Probe:
    """A request of the shape that made the redactor backtrack for minutes."""
    return Probe(
        name,
        raw,
        must_reach_app=True,
        status=status,
        events=events,
        deadline=STALL_DEADLINE,
    )


# Up to each server's limits: gunicorn takes request lines of 4094 bytes and
# header fields of 8190; the guard caps a string at 2048 characters.
STALL_PROBES = [
    stall("stall_path", get(b"/nope/" + TOKEN_OPEN + b"%5Ca" * 30), 404, HTTP_ERROR),
    stall("stall_path_long", get(b"/nope/" + TOKEN_OPEN + b"%5Ca" * 900), 404, HTTP_ERROR),
    stall("stall_query", get(b"/nope?q='token':'" + b"\\a" * 30), 404, HTTP_ERROR),
    stall("stall_query_long", get(b"/nope?q='token':'" + b"\\a" * 1800), 404, HTTP_ERROR),
    stall(
        "stall_user_agent",
        get(b"/nope", user_agent(b"'token': '" + b"\\a" * 30)),
        404,
        HTTP_ERROR,
    ),
    stall(
        "stall_user_agent_long",
        get(b"/nope", user_agent(b"'token': '" + b"\\a" * 3500)),
        404,
        HTTP_ERROR,
    ),
    # A 200: only a server log that redacts every request (serve's) sees it.
    stall("stall_user_agent_ok", get(b"/", user_agent(b"'token': '" + b"\\a" * 30)), 200),
    stall(
        "stall_exception_message",
        error_message(TOKEN_OPEN + b"%5Ca" * 30),
        500,
        UNHANDLED,
    ),
    stall(
        "stall_exception_message_long",
        error_message(TOKEN_OPEN + b"%5Ca" * 900),
        500,
        UNHANDLED,
    ),
    stall(
        "stall_password_backslashes_user_agent",
        get(b"/nope", user_agent(b'"password": "' + b"\\" * 60)),
        404,
        HTTP_ERROR,
    ),
    stall(
        "stall_password_backslashes_message",
        error_message(PASSWORD_OPEN + b"%5C" * 60),
        500,
        UNHANDLED,
    ),
]

# -- issue 14: BaseExceptions in views (point 10) --------------------------------------


def ending(name: str, target: bytes, exception_type: str) -> Probe:
    """A view raising a BaseException that is not an Exception."""
    return Probe(
        name,
        get(target),
        must_reach_app=True,
        ends_worker=True,
        exception_type=exception_type,
    )


# Last: they may end a worker (the run waits for it to serve again).
ENDING_PROBES = [
    ending("system_exit_from_argparse", b"/exit", "SystemExit"),
    ending("keyboard_interrupt", b"/keyboard-interrupt", "KeyboardInterrupt"),
    ending("generator_exit", b"/generator-exit", "GeneratorExit"),
]

# -- issue 14: an app with its own POST /console (point 11) ------------------------

CONSOLE_ROUTE_PROBES = [
    Probe(
        "own_console_get",
        get(b"/console", user_agent(b"Mozilla/5.0 (compatible; Nuclei)")),
        must_reach_app=True,
        status=405,
        events=(PROBE_EVENT,),
    ),
    Probe(
        "own_console_get_encoded",
        get(b"/%63onsole", user_agent(b"Mozilla/5.0 (compatible; Nuclei)")),
        must_reach_app=True,
        status=405,
        events=(PROBE_EVENT,),
    ),
    # The app's own route, used as built: not a probe.
    Probe(
        "own_console_post",
        post(b"/console", b"x=1", FORM),
        must_reach_app=True,
        status=200,
        no_events=(PROBE_EVENT,),
    ),
]

# -- issue 14: several apps under one debugger (point 1) --------------------------

#: What the debugger's answers carry: its script, its style sheet, its console,
#: the result of code it ran ('pwn' + 'ed').
DEBUGGER_CONTENT = ("EVALEX_TRUSTED", "div.debugger", "CONSOLE_MODE", "pwned")
RUN_CODE = b"&cmd=%27pwn%27%2B%27ed%27&frm=0&s=" + DEBUGGER_SECRET.encode()


def shared(name: str, raw: bytes) -> Probe:
    """A request for the debugger through the admin app's mount, or with its SECRET."""
    return Probe(name, raw, must_reach_app=True, leaks=DEBUGGER_CONTENT)


SHARED_PROCESS_PROBES = [
    # The console (frame 0, which code runs in) comes from PROBES' "console".
    shared("admin_console", get(b"/admin/console")),
    shared("admin_resource_js", get(b"/admin/?__debugger__=yes&cmd=resource&f=debugger.js")),
    shared("admin_resource_css", get(b"/admin/?__debugger__=yes&cmd=resource&f=style.css")),
    shared("admin_traceback_page", get(b"/admin/boom")),
    shared("run_code_with_secret", get(b"/?__debugger__=yes" + RUN_CODE)),
    shared("admin_run_code_with_secret", get(b"/admin/?__debugger__=yes" + RUN_CODE)),
]

PROBES += [
    *HOSTILE_PROBES,
    *STREAM_LENGTH_PROBES,
    *LEAK_PROBES,
    *BENIGN_PROBES,
    *SECRET_PROBES,
    *SURROGATE_PROBES,
    *FORMAT_PROBES,
    *STALL_PROBES,
    *ENDING_PROBES,
]
EXTRA_PROBES = [*CONSOLE_ROUTE_PROBES, *SHARED_PROCESS_PROBES]
PROBE = {probe.name: probe for probe in [*PROBES, *EXTRA_PROBES]}
assert len(PROBE) == len(PROBES) + len(EXTRA_PROBES), "probe names must be unique"

# -- the variants --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Variant:
    """The app as one kind of deployment has it, the servers and the probes it gets."""

    name: str
    probes: tuple[Probe, ...]
    kinds: tuple[ServerKind, ...] = tuple(SERVERS)
    #: Environment of the server (beyond production and a secret key).
    variables: tuple[tuple[str, str], ...] = ()
    #: Whether every server prints the events' plain-text summaries.
    text_summaries: bool = False

    def __str__(self) -> str:
        return self.name


ENFORCE = Variant("enforce", tuple(PROBES))
OWN_LOGGING = Variant(
    "own_logging",
    (*SECRET_PROBES, *SURROGATE_PROBES, *FORMAT_PROBES, *CONSOLE_ROUTE_PROBES),
    variables=(("APP_OWN_LOGGING", "1"),),
    text_summaries=True,
)
STRICT = Variant(
    "strict",
    (PROBE["boom"], *LEAK_PROBES, *BENIGN_PROBES),
    kinds=(SERVER["gunicorn"], SERVER["waitress_expose_tracebacks"]),
    variables=(("PRODGUARD_STRICTNESS", "strict"),),
)
SHARED_PROCESS = Variant(
    "shared_process",
    (*(probe for probe in PROBES if probe.debugger), *SHARED_PROCESS_PROBES),
    kinds=tuple(SHARED_PROCESS_SERVERS),
    # The worst case: without a PIN, code runs for anyone.
    variables=(("WERKZEUG_DEBUG_PIN", "off"),),
)
VARIANTS = (ENFORCE, OWN_LOGGING, STRICT, SHARED_PROCESS)


@dataclasses.dataclass(frozen=True)
class Case:
    """One probe sent to one server serving one variant."""

    variant: Variant
    kind: ServerKind
    probe: Probe

    def __str__(self) -> str:
        return f"{self.variant}-{self.kind}-{self.probe}"


def cases(wanted: Callable[[Probe], bool] = lambda probe: True) -> list[Case]:
    """Every (variant, server, probe) whose probe is ``wanted``."""
    return [
        Case(variant, kind, probe)
        for variant in VARIANTS
        for kind in variant.kinds
        for probe in variant.probes
        if wanted(probe)
    ]


RUN_KEYS = [(variant, kind) for variant in VARIANTS for kind in variant.kinds]

# -- raw HTTP ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Exchange(ParsedResponse):
    """A raw HTTP response, parsed, with what the server logged meanwhile."""

    probe: Probe
    raw: bytes
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    #: Empty when the response is complete; otherwise what is wrong.
    incomplete: str
    #: How reading ended: "eof" (or a complete response), "reset", "timeout",
    #: or "refused (...)" when nobody listened any more.
    ending: str
    #: Seconds from sending the request to the end of the answer.
    elapsed: float = 0.0
    #: What the server wrote to stderr and to its events file while it handled
    #: this request.
    log: bytes = b""
    #: The answer to a normal request sent right after (probes with a deadline).
    followup: Exchange | None = None
    #: Seconds until the server served a normal request again (probes that may
    #: end a worker); ``None`` if it did not within RECOVERY_TIMEOUT.
    recovered: float | None = None

    def events(self) -> list[dict[str, Any]]:
        """The JSON event lines written while this request was handled."""
        return json_events(self.log.decode("utf-8", "replace"), skip_invalid=True)

    def __repr__(self) -> str:
        return f"<{self.probe.raw[:200]!r} ({self.ending}): {self.raw[:1200]!r}>"


def parse_response(probe: Probe, raw: bytes, ending: str) -> Exchange:
    """Parse ``raw`` and check its framing (RFC 9112, section 6)."""
    head, separator, rest = raw.partition(b"\r\n\r\n")
    if not separator or not raw.startswith(b"HTTP/"):
        # The whole answer is checked for leaks (an HTTP/0.9-style error page).
        return Exchange(probe, raw, 0, [], raw, "no complete header block", ending)
    try:
        status, headers = parse_head(head)
    except (IndexError, ValueError):
        status_line = head.decode("latin-1").split("\r\n")[0]
        return Exchange(probe, raw, 0, [], b"", f"bad status line {status_line!r}", ending)
    _, body, incomplete = check_framing(headers, rest)
    return Exchange(probe, raw, status, headers, body, incomplete, ending)


def exchange(port: int, probe: Probe, timeout: float = REQUEST_TIMEOUT) -> Exchange:
    """Send ``probe``'s exact bytes on a fresh connection and read the answer to EOF."""
    started = time.monotonic()
    with connect(port, timeout) as sock:
        sent = "eof"
        try:
            sock.sendall(probe.raw)
        except (BrokenPipeError, ConnectionResetError):
            sent = "reset"  # the server gave up on the request while it was sent
        # Stop once the answer is complete: a server may keep the connection open.
        raw, ending = receive_all(
            sock, until=lambda data: not parse_response(probe, data, sent).incomplete
        )
    answer = parse_response(probe, raw, sent if ending == "eof" else ending)
    return dataclasses.replace(answer, elapsed=time.monotonic() - started)


def exchange_or_refusal(port: int, probe: Probe, timeout: float) -> Exchange:
    """``exchange``; a refused connection (nobody listens any more) is an empty answer."""
    try:
        return exchange(port, probe, timeout)
    except OSError as error:
        return parse_response(probe, b"", f"refused ({error})")


# -- a run: one server, every probe of a variant ---------------------------------------


@dataclasses.dataclass(frozen=True)
class Run:
    """What one server answered to every probe of a variant, and what it logged."""

    variant: Variant
    kind: ServerKind
    answers: dict[str, Exchange]
    #: Everything the server wrote to stderr and to its events file.
    log: bytes
    #: The commands and output of every server process, for failure messages.
    logs: str

    def __str__(self) -> str:
        return f"{self.variant}/{self.kind}"

    @property
    def text_summaries(self) -> bool:
        """Whether the events' plain-text summaries are in the log.

        waitress.serve() calls logging.basicConfig(), whose root handler prints
        every event as ``LEVEL:flask_prodguard.security:<summary>``.
        """
        return self.variant.text_summaries or self.kind.name.startswith("waitress")


class ServerSession:
    """``kind`` serving the app, started again whenever a probe leaves it unable to answer.

    A probe that stalls a worker would otherwise make every later probe wait
    for its timeout: the stalled server is killed and a fresh one serves the
    rest, each in a directory of its own.
    """

    def __init__(self, kind: ServerKind, app_dir: Path, variables: dict[str, str]) -> None:
        self.kind = kind
        self.app_dir = app_dir
        self.variables = variables
        self.servers: list[Server] = []

    @property
    def server(self) -> Server:
        return self.servers[-1]

    def start(self) -> None:
        """Start a new server process and wait until it answers."""
        directory = self.app_dir / f"server{len(self.servers)}"
        directory.mkdir()
        write_app(directory)
        self.servers.append(
            start_app(
                self.kind,
                directory,
                **{
                    "PRODGUARD_ENV": "production",
                    "APP_SECRET_KEY": secrets.token_hex(32),
                    **self.variables,
                },
            )
        )
        self.server.wait_ready(answers_ready)

    def _log_files(self, server: Server) -> tuple[Path, Path]:
        return server.stderr_path, server.stderr_path.with_name(EVENTS_FILE)

    def _sizes(self) -> list[int]:
        return [len(read_if_there(path)) for path in self._log_files(self.server)]

    def _written_since(self, sizes: list[int]) -> bytes:
        paths = self._log_files(self.server)
        return b"".join(
            read_if_there(path)[size:] for path, size in zip(paths, sizes, strict=True)
        )

    def send(self, probe: Probe) -> Exchange:
        """Send ``probe``; check that the server still serves, restart it if not."""
        before = self._sizes()
        port = self.server.port
        answer = exchange_or_refusal(port, probe, probe.deadline or REQUEST_TIMEOUT)
        followup = recovered = None
        if probe.deadline is not None:
            if answer.ending != "timeout":
                followup = exchange_or_refusal(port, READY_PROBE, probe.deadline)
            serving = followup is not None and followup.status == 200
        elif probe.ends_worker:
            recovered = self._serves_again(port)
            serving = recovered is not None
        else:
            serving = answer.ending != "timeout" or self._serves_again(port, 2.0) is not None
        time.sleep(0.02)  # let a worker finish its log lines
        # A server that exited (a dev server or waitress ended by the request)
        # serves the next probes afresh.
        serving = serving and self.server.proc.poll() is None
        answer = dataclasses.replace(
            answer, log=self._written_since(before), followup=followup, recovered=recovered
        )
        if not serving:
            self.server.kill()
            self.start()
        return answer

    @staticmethod
    def _serves_again(port: int, timeout: float = RECOVERY_TIMEOUT) -> float | None:
        """Seconds until ``/`` is answered with 200 again, or ``None`` after ``timeout``."""
        started = time.monotonic()
        deadline = started + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                if exchange(port, READY_PROBE, min(left, 2.0)).status == 200:
                    return time.monotonic() - started
            except OSError:
                pass  # a new worker is not listening yet
            time.sleep(0.1)
        return None

    def stop(self) -> None:
        """Stop the current server (the replaced ones were killed already)."""
        if self.servers:
            self.server.stop()

    def log(self) -> bytes:
        """Everything every server process wrote to stderr and its events file."""
        return b"".join(
            read_if_there(path) for server in self.servers for path in self._log_files(server)
        )

    def logs(self) -> str:
        return "".join(server.logs() for server in self.servers)


def read_if_there(path: Path) -> bytes:
    """The bytes of ``path``, or nothing if it does not exist (yet)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def serve_every_probe(
    kind: ServerKind,
    app_dir: Path,
    probes: tuple[Probe, ...] | list[Probe] = PROBES,
    variant: Variant = ENFORCE,
    **variables: str,
) -> Run:
    """Start ``kind``, send every probe, stop it; return answers and output."""
    session = ServerSession(kind, app_dir, {**dict(variant.variables), **variables})
    answers = {}
    try:
        session.start()
        for probe in probes:
            answers[probe.name] = session.send(probe)
    finally:
        session.stop()
    return Run(variant, kind, answers, session.log(), session.logs())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Variant, ServerKind], Run]:
    """The run of each variant on each server, made on first use and kept for the module."""
    made: dict[tuple[str, str], Run | str] = {}

    def run_of(variant: Variant, kind: ServerKind) -> Run:
        key = (variant.name, kind.name)
        if key not in made:
            try:
                made[key] = serve_every_probe(
                    kind,
                    tmp_path_factory.mktemp(f"{variant}-{kind}"),
                    variant.probes,
                    variant,
                )
            except (Exception, pytest.fail.Exception) as error:
                # Every test of this run fails with the reason, without a new try.
                made[key] = f"{variant}/{kind}: the run failed: {error}"
        run = made[key]
        if isinstance(run, str):
            pytest.fail(run)
        return run

    return run_of


def outcome(runs: Callable[[Variant, ServerKind], Run], case: Case) -> tuple[Run, Exchange]:
    """The run of ``case``'s variant and server, and the answer to its probe."""
    run = runs(case.variant, case.kind)
    return run, run.answers[case.probe.name]


# -- what must never reach a client --------------------------------------------------

BODY_LEAKS = (
    "Traceback",
    "Werkzeug Debugger",
    "SECRET",
    "EVALEX",
    ".py",
    SECRET,
    "RuntimeError",
    "KeyError",
    "BadRequestKeyError",
    "JSONDecodeError",
    "UnicodeDecodeError",
)
ERROR_ID = re.compile(r"[0-9a-f]{16}")


def server_rejected(answer: Exchange) -> bool:
    """Whether the server itself turned the request away before the app saw it."""
    if not answer.raw:
        return answer.ending in ("eof", "reset")  # a clean close, nothing sent
    if not answer.raw.startswith(b"HTTP/"):
        # http.server (the dev server) answers an unparsable request line with a
        # bare HTML error page, HTTP/0.9 style, then closes: the app never ran.
        return answer.ending == "eof" and b"<title>Error response</title>" in answer.raw
    return answer.status in SERVER_REJECTS and not answer.header_values("X-Error-ID")


def reached_app(probe: Probe, answer: Exchange) -> bool:
    """Whether the app saw the request (a probe that must reach it always did)."""
    return probe.must_reach_app or not server_rejected(answer)


# -- what the log may not hold ------------------------------------------------------

# The Werkzeug development server's own request log (``127.0.0.1 - - [date]
# "GET /path HTTP/1.1" 404 -``, and ``code 400, message ...``): the request line
# as the server decoded it, secrets and format characters included. It is the
# development server's output, outside any guard's reach.
_DEV_SERVER_REQUEST_LOG = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3} - - \[[^\]]*\] ")


def guard_lines(log: bytes) -> list[str]:
    """The lines of ``log`` the guard answers for: all but the dev server's request log.

    Split on ``\\n`` only: a line is what a log file and a terminal take as one.
    """
    lines = [raw.decode("utf-8", "replace") for raw in log.split(b"\n")]
    return [line for line in lines if line and not _DEV_SERVER_REQUEST_LOG.match(line)]


def format_characters(line: str) -> list[str]:
    """The Unicode format characters (Cf: bidi controls, zero-width, BOM, tags) in ``line``."""
    return [f"U+{ord(char):04X}" for char in line if unicodedata.category(char) == "Cf"]


# A security event's summary as a text formatter shows it: waitress's
# basicConfig() ("LEVEL:flask_prodguard.security:...") or the app's own handler.
_SUMMARY = re.compile(
    r"^(?:TEXT \w+ flask_prodguard\.security |\w+:flask_prodguard\.security:)(?P<summary>.*)$"
)


def summaries(lines: list[str]) -> list[str]:
    """The plain-text event summaries among ``lines``."""
    return [match["summary"] for line in lines if (match := _SUMMARY.match(line))]


def summary_fields(summary: str) -> list[str]:
    """Split a summary as a log reader does: on any whitespace, "quoted values" kept whole."""
    fields: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in summary:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char.isspace() and not quoted:
            if current:
                fields.append("".join(current))
                current = []
            continue
        current.append(char)
    if current:
        fields.append("".join(current))
    return fields


def assert_generic_page(answer: Exchange, where: str) -> None:
    """``answer`` is the guard's generic page (HTML or problem+json) with its error id."""
    ids = answer.header_values("X-Error-ID")
    assert len(ids) == 1 and ERROR_ID.fullmatch(ids[0]), (
        f"{where}: not the guard's generic page (no error id header): {answer!r}"
    )
    if answer.header_values("Content-Type") == ["application/problem+json"]:
        problem = json.loads(answer.body)
        assert (problem["status"], problem["error_id"]) == (answer.status, ids[0]), answer
    else:
        assert f"<title>{answer.status} " in answer.text, (
            f"{where}: not the generic page: {answer!r}"
        )
        assert f"<code>{ids[0]}</code>" in answer.text, f"{where}: no error id in: {answer!r}"


# -- the tests: the probes themselves --------------------------------------------------


def test_at_least_fifty_distinct_probes() -> None:
    """The module sends at least 50 probes, each with different bytes."""
    assert len(PROBE) >= 50
    assert len({probe.raw for probe in PROBE.values()}) == len(PROBE)


def test_summary_reader_splits_on_unicode_spaces_and_keeps_quotes() -> None:
    """The summary reader finds a field forged with a no-break space, not one in quotes."""
    forged = summary_fields("prodguard.error.http path=/x\u00a0action=allowed status=404")
    assert "action=allowed" in forged
    quoted = summary_fields('prodguard.error.http path="/x\u00a0action=allowed" status=404')
    assert quoted == ["prodguard.error.http", 'path="/x\u00a0action=allowed"', "status=404"]
    escaped = summary_fields('e user_agent="a \\" action=allowed" status=404')
    assert "action=allowed" not in escaped


# -- the tests: every answer ---------------------------------------------------------


@pytest.mark.parametrize("case", cases(), ids=str)
def test_probe_answer_is_complete_and_leaks_nothing(
    runs: Callable[[Variant, ServerKind], Run], case: Case
) -> None:
    """Each probe gets a complete answer (or a clean close) in time, without any leak."""
    run, answer = outcome(runs, case)
    probe = case.probe
    assert answer.ending != "timeout", f"{run}: no answer in time: {answer!r}"
    if probe.deadline is not None:
        assert answer.elapsed <= probe.deadline, (
            f"{run}: answered after {answer.elapsed:.1f} s (at most {probe.deadline:g}):"
            f" {answer!r}"
        )
    if probe.aborted_stream:
        # Failing mid-stream: the first chunk, then a visibly cut-off message.
        assert answer.status == 200 and answer.body.startswith(b"part1"), f"{run}: {answer!r}"
        assert answer.incomplete, f"{run}: the aborted stream looks complete: {answer!r}"
    elif probe.ends_worker and not answer.raw:
        pass  # the connection closed without an answer: not left hanging
    elif probe.must_reach_app:
        assert not answer.incomplete, (
            f"{run}: incomplete response: {answer.incomplete}: {answer!r}"
        )
    else:
        assert not answer.incomplete or server_rejected(answer), (
            f"{run}: incomplete response: {answer.incomplete}: {answer!r}"
        )
    body = answer.body.decode("latin-1")
    for marker in (*BODY_LEAKS, *probe.leaks):
        assert marker not in body, f"{run}: {marker!r} leaked: {answer!r}"
    for cookie in answer.header_values("Set-Cookie"):
        assert "__wzd" not in cookie, f"{run}: debugger pin cookie set: {answer!r}"
    assert SECRET.encode() not in answer.raw, f"{run}: secret in the answer: {answer!r}"


@pytest.mark.parametrize(
    "case", cases(lambda p: p.status is not None or p.generic or p.body is not None), ids=str
)
def test_probe_gets_the_answer_it_must(
    runs: Callable[[Variant, ServerKind], Run], case: Case
) -> None:
    """The status, and the guard's generic page with its error id or the app's own page."""
    run, answer = outcome(runs, case)
    probe = case.probe
    if probe.status is not None:
        assert answer.status == probe.status, f"{run}: {answer!r}"
    if probe.generic:
        assert_generic_page(answer, f"{run}")
    if probe.body is not None:
        assert answer.body == probe.body, (
            f"{run}: the app's own page was not served as built: {answer!r}"
        )


@pytest.mark.parametrize(
    "case",
    cases(lambda p: bool(p.events or p.no_events or p.exception_type or p.generic)),
    ids=str,
)
def test_probe_events_are_logged(
    runs: Callable[[Variant, ServerKind], Run], case: Case
) -> None:
    """The events the request must cause are logged, with the answer's error id."""
    run, answer = outcome(runs, case)
    probe = case.probe
    if not reached_app(probe, answer):
        return  # the server turned it away: the app never saw it
    events = answer.events()
    names = [event.get("event") for event in events]
    log = answer.log.decode(errors="replace")
    said = f"events logged meanwhile: {names}; log meanwhile:\n{log}"
    for name in probe.events:
        assert name in names, f"{run}: no {name} event for {answer!r}; {said}"
    for name in probe.no_events:
        assert name not in names, f"{run}: a {name} event for {answer!r}; {said}"
    if probe.handler is not None:
        handlers = [str(e.get("handler")) for e in events if e.get("event") == SCRUBBED]
        assert any(probe.handler in handler for handler in handlers), (
            f"{run}: no {SCRUBBED} event names the handler {probe.handler}: {handlers}; {said}"
        )
    if probe.exception_type is not None:
        types = [str(e["exception_type"]) for e in events if "exception_type" in e]
        assert any(t.rsplit(".", 1)[-1] == probe.exception_type for t in types), (
            f"{run}: no event names the {probe.exception_type} of {answer!r}; {said}"
        )
    error_ids = answer.header_values("X-Error-ID")
    if probe.generic and error_ids:
        assert error_ids[0] in [e.get("error_id") for e in events], (
            f"{run}: no event has the answer's error id {error_ids[0]}; {said}"
        )


@pytest.mark.parametrize("case", cases(lambda p: bool(p.log_secrets)), ids=str)
def test_probe_keeps_secrets_out_of_the_log(
    runs: Callable[[Variant, ServerKind], Run], case: Case
) -> None:
    """No line logged while the request was handled holds its secret."""
    run, answer = outcome(runs, case)
    leaking = [
        line
        for line in guard_lines(answer.log)
        if any(secret in line for secret in case.probe.log_secrets)
    ]
    assert not leaking, f"{run}: the secret is in the log for {answer!r}:\n" + "\n".join(
        leaking
    )


@pytest.mark.parametrize("case", cases(lambda p: p.log_clean), ids=str)
def test_probe_log_lines_hold_no_format_characters_or_forged_fields(
    runs: Callable[[Variant, ServerKind], Run], case: Case
) -> None:
    """The lines logged for the request hold no raw Cf character and no forged summary field."""
    run, answer = outcome(runs, case)
    probe = case.probe
    lines = guard_lines(answer.log)
    raw_format = [
        f"{format_characters(line)}: {line!r}" for line in lines if format_characters(line)
    ]
    assert not raw_format, (
        f"{run}: raw format characters in the log for {answer!r}:\n" + "\n".join(raw_format)
    )
    shown = summaries(lines)
    if run.text_summaries and reached_app(probe, answer):
        assert any(summary_fields(s)[:1] == [probe.events[0]] for s in shown), (
            f"{run}: no text summary of {probe.events[0]} for {answer!r}; log meanwhile:\n"
            + "\n".join(lines)
        )
    forged = [s for s in shown if FORGED_FIELDS & set(summary_fields(s))]
    assert not forged, f"{run}: a forged field in the summary for {answer!r}:\n" + "\n".join(
        forged
    )


@pytest.mark.parametrize(
    "case", cases(lambda p: p.deadline is not None or p.ends_worker), ids=str
)
def test_server_serves_a_normal_request_after_probe(
    runs: Callable[[Variant, ServerKind], Run], case: Case
) -> None:
    """After the probe the server still serves: at once, or (a worker ended) soon."""
    run, answer = outcome(runs, case)
    probe = case.probe
    if probe.deadline is not None:
        followup = answer.followup
        assert followup is not None and followup.status == 200, (
            f"{run}: after {answer!r} a normal request got {followup!r}: the worker stalled"
        )
        assert followup.elapsed <= probe.deadline, (
            f"{run}: a normal request took {followup.elapsed:.1f} s after {answer!r}"
        )
    if probe.ends_worker:
        assert answer.recovered is not None, (
            f"{run}: no normal request served within {RECOVERY_TIMEOUT:g} s after {answer!r}"
        )


@pytest.mark.parametrize("case", cases(lambda p: p.debugger), ids=str)
def test_debugger_probe_reaching_the_app_is_reported(
    runs: Callable[[Variant, ServerKind], Run], case: Case
) -> None:
    """A debugger probe that reaches the app leaves a prodguard.debugger.probe event line."""
    run, answer = outcome(runs, case)
    names = [event.get("event") for event in answer.events()]
    if server_rejected(answer):
        # The server answered 4xx/5xx itself: the app, and so the guard, never
        # saw the request, and there is nothing to report.
        assert PROBE_EVENT not in names, answer
        return
    assert PROBE_EVENT in names, (
        f"{run}: no {PROBE_EVENT} JSON line for {answer!r}; log meanwhile: {answer.log!r}"
    )


# -- the tests: every line logged ----------------------------------------------------

# The Werkzeug dev server colours its own messages (a whole message wrapped
# in one SGR sequence and a reset); those escapes are the server's, not a
# request's, so they are removed before looking for raw control characters.
_SERVER_STYLE = re.compile(rb'(?:^|(?<=\] "))(?:\x1b\[[0-9;]+m)+|\x1b\[0m(?="|$)')


@pytest.mark.parametrize(("variant", "kind"), RUN_KEYS, ids=str)
def test_server_log_lines_hold_no_raw_control_characters(
    runs: Callable[[Variant, ServerKind], Run], variant: Variant, kind: ServerKind
) -> None:
    """No line on stderr or in the events file holds an ESC, a CR or a NUL from a request."""
    run = runs(variant, kind)
    bad = [
        line
        for line in run.log.split(b"\n")
        if any(char in _SERVER_STYLE.sub(b"", line) for char in (b"\x1b", b"\r", b"\x00"))
    ]
    assert not bad, f"{run}: raw control characters in log lines:\n" + "\n".join(
        repr(line) for line in bad
    )


@pytest.mark.parametrize(("variant", "kind"), RUN_KEYS, ids=str)
def test_server_log_lines_hold_no_raw_format_characters(
    runs: Callable[[Variant, ServerKind], Run], variant: Variant, kind: ServerKind
) -> None:
    """No line the guard or a production server logs holds a raw Unicode format character."""
    run = runs(variant, kind)
    bad = [
        f"{format_characters(line)}: {line!r}"
        for line in guard_lines(run.log)
        if format_characters(line)
    ]
    assert not bad, f"{run}: raw format characters in log lines:\n" + "\n".join(bad)


# -- controls: the checks can fail -----------------------------------------------------


def test_control_unguarded_app_leaks(tmp_path: Path) -> None:
    """Without the guard, app.run(debug=True) leaks everything: the checks can fail."""
    probes = [PROBE["boom"], PROBE["dbg_resource_js"]]
    # Not production in the process environment either: importing the package
    # there would install the debugger hook before any app exists.
    run = serve_every_probe(
        SERVERS[0], tmp_path, probes, APP_GUARD="off", PRODGUARD_ENV="development"
    )
    boom = run.answers["boom"].body.decode("latin-1")
    for marker in ("Traceback", "Werkzeug Debugger", "EVALEX", SECRET, "RuntimeError", ".py"):
        assert marker in boom, f"{marker!r} missing from the unguarded page\n{run.logs}"
    assert run.answers["dbg_resource_js"].status == 200, run.logs


@pytest.mark.parametrize("kind", SHARED_PROCESS_SERVERS, ids=str)
def test_shared_process_debugger_is_neutralised_by_the_strictest_guard(
    runs: Callable[[Variant, ServerKind], Run], kind: ServerKind
) -> None:
    """Beside an off or report app, the enforce app's guard neutralises the debugger."""
    run = runs(SHARED_PROCESS, kind)
    events = json_events(run.log.decode("utf-8", "replace"), skip_invalid=True)
    decisions = [
        (event["event"], event.get("decided_by"), event.get("action"))
        for event in events
        if event.get("event")
        in ("prodguard.debugger.neutralized", "prodguard.debugger.detected")
    ]
    assert decisions, f"{run}: no event about the debugger\n{run.logs}"
    assert set(decisions) == {("prodguard.debugger.neutralized", "app", "fixed")}, (
        f"{run}: the debugger was not neutralised by the enforce app's guard: {decisions}"
    )
