"""Hostile requests against a guarded app on four real servers, over raw sockets.

A guarded app (production, default strictness ``enforce``, safe settings, a
planted secret ``hunter2`` in its exception messages) runs on the Werkzeug
development server started by ``app.run(debug=True)``, on ``flask run
--debugger``, on gunicorn through ``flask prodguard serve`` and on waitress
with ``expose_tracebacks=True``. Each server is started once per module and
gets every probe byte for byte on a fresh connection: debugger fingerprinting
and exploitation shapes, traceback provocation, parser abuse and log
injection. No answer may leak a traceback, the debugger, the secret or an
exception class, and no line the servers log may carry a raw control
character taken from a request.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import sys
import time
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

SECRET = "hunter2"
PROBE_EVENT = "prodguard.debugger.probe"
#: Statuses a server may answer with itself when it rejects a request unparsed.
SERVER_REJECTS = frozenset({400, 414, 431, 501})

# -- the app -----------------------------------------------------------------------

APP_SOURCE = '''\
"""A guarded app with safe settings and failing routes (tests/test_hostile_probes.py)."""

import os

from flask import Flask
from flask import Response
from flask import request

from flask_prodguard import ProdGuard

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


if os.environ.get("APP_GUARD") != "off":
    ProdGuard(app)
'''

DEV_SERVER_SOURCE = """\
import os

from app import app

# The reloader would fork a second process: off, the debugger stays on.
app.run(host="127.0.0.1", port=int(os.environ["APP_PORT"]), debug=True, use_reloader=False)
"""


def write_app(app_dir: Path) -> None:
    """Write the app module and the server scripts to ``app_dir``."""
    (app_dir / "app.py").write_text(APP_SOURCE)
    (app_dir / "serve_dev.py").write_text(DEV_SERVER_SOURCE)
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


def start_app(kind: ServerKind, app_dir: Path, **variables: str) -> Server:
    """Start ``kind`` serving the app in ``app_dir``, in its own session."""
    return start_on_free_port(kind.command, app_dir, **variables)


def answers_ready(port: int) -> bool:
    """Whether the app answers ``/`` with 200."""
    return exchange(port, READY_PROBE, timeout=2.0).status == 200


# -- the probes ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Probe:
    """One hostile request, as the exact bytes sent."""

    name: str
    raw: bytes
    #: A debugger probe: if it reaches the app, the guard must report it.
    debugger: bool = False
    #: The app fails after the first chunk: a cut-off response is the right answer.
    aborted_stream: bool = False

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
    Probe("stream", get(b"/stream"), aborted_stream=True),
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
PROBE = {probe.name: probe for probe in PROBES}
assert len(PROBE) == len(PROBES), "probe names must be unique"

# -- raw HTTP ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Exchange(ParsedResponse):
    """A raw HTTP response, parsed, with the server's stderr written meanwhile."""

    probe: Probe
    raw: bytes
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    #: Empty when the response is complete; otherwise what is wrong.
    incomplete: str
    #: How reading ended: "eof" (or a complete response), "reset" or "timeout".
    ending: str
    #: What the server wrote to stderr while it handled this request.
    stderr: bytes = b""

    def events(self) -> list[dict[str, Any]]:
        """The JSON event lines written while this request was handled."""
        return json_events(self.stderr.decode("utf-8", "replace"), skip_invalid=True)

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
    return parse_response(probe, raw, sent if ending == "eof" else ending)


# -- a run: one server, every probe --------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Run:
    """What one server answered to every probe, and what it logged."""

    kind: ServerKind
    answers: dict[str, Exchange]
    stderr: bytes
    logs: str


def serve_every_probe(
    kind: ServerKind, app_dir: Path, probes: list[Probe] = PROBES, **variables: str
) -> Run:
    """Start ``kind``, send every probe, stop it; return answers and output."""
    write_app(app_dir)
    server = start_app(
        kind,
        app_dir,
        PRODGUARD_ENV="production",
        APP_SECRET_KEY=secrets.token_hex(32),
        **variables,
    )
    answers = {}
    try:
        server.wait_ready(answers_ready)
        for probe in probes:
            before = len(server.stderr_bytes())
            answer = exchange(server.port, probe)
            time.sleep(0.02)  # let a worker finish its log lines
            written = server.stderr_bytes()[before:]
            answers[probe.name] = dataclasses.replace(answer, stderr=written)
    finally:
        server.stop()
    return Run(kind, answers, server.stderr_bytes(), server.logs())


@pytest.fixture(scope="module", params=SERVERS, ids=str)
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Serve the guarded app on one server and send it every probe."""
    kind: ServerKind = request.param
    return serve_every_probe(kind, tmp_path_factory.mktemp(kind.name))


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


def server_rejected(answer: Exchange) -> bool:
    """Whether the server itself turned the request away before the app saw it."""
    if not answer.raw:
        return answer.ending in ("eof", "reset")  # a clean close, nothing sent
    if not answer.raw.startswith(b"HTTP/"):
        # http.server (the dev server) answers an unparsable request line with a
        # bare HTML error page, HTTP/0.9 style, then closes: the app never ran.
        return answer.ending == "eof" and b"<title>Error response</title>" in answer.raw
    return answer.status in SERVER_REJECTS and not answer.header_values("X-Error-ID")


def test_at_least_fifty_distinct_probes() -> None:
    """The module sends at least 50 probes, each with different bytes."""
    assert len(PROBES) >= 50
    assert len({probe.raw for probe in PROBES}) == len(PROBES)


@pytest.mark.parametrize("probe", PROBES, ids=str)
def test_probe_answer_is_complete_and_leaks_nothing(run: Run, probe: Probe) -> None:
    """Each probe gets a complete answer (or a clean close) without any leak."""
    answer = run.answers[probe.name]
    assert answer.ending != "timeout", f"{run.kind}: no answer in time: {answer!r}"
    if probe.aborted_stream:
        # Failing mid-stream: the first chunk, then a visibly cut-off message.
        assert answer.status == 200 and answer.body.startswith(b"part1"), answer
        assert answer.incomplete, f"{run.kind}: the aborted stream looks complete: {answer!r}"
    else:
        assert not answer.incomplete or server_rejected(answer), (
            f"{run.kind}: incomplete response: {answer.incomplete}: {answer!r}"
        )
    body = answer.body.decode("latin-1")
    for marker in BODY_LEAKS:
        assert marker not in body, f"{run.kind}: {marker!r} leaked: {answer!r}"
    for cookie in answer.header_values("Set-Cookie"):
        assert "__wzd" not in cookie, f"{run.kind}: debugger pin cookie set: {answer!r}"
    assert SECRET.encode() not in answer.raw, f"{run.kind}: secret in the answer: {answer!r}"


@pytest.mark.parametrize("probe", [p for p in PROBES if p.debugger], ids=str)
def test_debugger_probe_reaching_the_app_is_reported(run: Run, probe: Probe) -> None:
    """A debugger probe that reaches the app leaves a prodguard.debugger.probe event line."""
    answer = run.answers[probe.name]
    names = [event.get("event") for event in answer.events()]
    if server_rejected(answer):
        # The server answered 4xx/5xx itself: the app, and so the guard, never
        # saw the request, and there is nothing to report.
        assert PROBE_EVENT not in names, answer
        return
    assert PROBE_EVENT in names, (
        f"{run.kind}: no {PROBE_EVENT} JSON line for {answer!r}; stderr meanwhile:"
        f" {answer.stderr!r}"
    )


# The Werkzeug dev server colours its own messages (a whole message wrapped
# in one SGR sequence and a reset); those escapes are the server's, not a
# request's, so they are removed before looking for raw control characters.
_SERVER_STYLE = re.compile(rb'(?:^|(?<=\] "))(?:\x1b\[[0-9;]+m)+|\x1b\[0m(?="|$)')


def test_server_log_lines_hold_no_raw_control_characters(run: Run) -> None:
    """No line on the server's stderr holds an ESC, a CR or a NUL from a request."""
    bad = [
        line
        for line in run.stderr.split(b"\n")
        if any(char in _SERVER_STYLE.sub(b"", line) for char in (b"\x1b", b"\r", b"\x00"))
    ]
    assert not bad, f"{run.kind}: raw control characters in log lines:\n" + "\n".join(
        repr(line) for line in bad
    )


def test_control_unguarded_app_leaks(tmp_path: Path) -> None:
    """Without the guard, app.run(debug=True) leaks everything: the checks can fail."""
    probes = [PROBE["boom"], PROBE["dbg_resource_js"]]
    run = serve_every_probe(SERVERS[0], tmp_path, probes, APP_GUARD="off")
    boom = run.answers["boom"].body.decode("latin-1")
    for marker in ("Traceback", "Werkzeug Debugger", "EVALEX", SECRET, "RuntimeError", ".py"):
        assert marker in boom, f"{marker!r} missing from the unguarded page\n{run.logs}"
    assert run.answers["dbg_resource_js"].status == 200, run.logs
