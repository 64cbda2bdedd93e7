"""``flask prodguard serve`` and ``serve()`` on real gunicorn and waitress processes.

One app module, written to ``tmp_path`` with safe settings (a random 64-hex
``SECRET_KEY``, secure ``Lax`` session cookies, ``MAX_CONTENT_LENGTH``), is
served by ``flask --app app prodguard serve`` on 127.0.0.1 with a free port.
Each server gets its requests over a raw socket, then SIGTERM while a slow
request is in flight; the tests look at what the client received, how the
process ended and every line it wrote.

Both servers stop gracefully under ``serve``: waitress has no SIGTERM
handling of its own, so ``serve`` stops accepting and drains in-flight
requests itself. Proxy headers are trusted only by the guard's ProxyFix
(``PRODGUARD_TRUSTED_PROXIES``), on both servers; their own proxy trust stays
off.
"""

from __future__ import annotations

import dataclasses
import json
import logging.config
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.events.catalogue import LEVELS
from flask_prodguard.exceptions import UnsafeDeploymentError
from flask_prodguard.testing import event_validator
from flask_prodguard.tools.serving import default_workers
from flask_prodguard.tools.serving import gunicorn_options
from flask_prodguard.tools.serving import serve

from servers import READY_TIMEOUT
from servers import STOP_TIMEOUT
from servers import ParsedResponse
from servers import Server
from servers import connect
from servers import free_port
from servers import parse_head
from servers import receive_all
from servers import server_environ
from servers import start_server

pytestmark = pytest.mark.server

PYTHON = sys.executable
FLASK = str(Path(sys.executable).with_name("flask"))

REQUEST_TIMEOUT = 10.0

USER_AGENT = "prodguard-tests/1.0 (serve)"
FORWARDED = (("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https"))
# CR, LF and ESC, percent-encoded: the server decodes them into PATH_INFO.
CRLF_ESC = "%0D%0Ainjected%1B%5B31m"
# How every log line must show them: escaped, never raw.
CRLF_ESC_LOGGED = r"\x0d\x0ainjected\x1b[31m"
ERROR_ID = re.compile(r"[0-9a-f]{16}")
LEAKS = ("Traceback", "hunter2", "RuntimeError", ".py")

APP_SOURCE = '''\
"""A guarded app with safe settings (tests/test_serve.py)."""

import os
import time
from pathlib import Path

from flask import Flask
from flask import request

from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["APP_SECRET_KEY"],
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)
if "APP_TRUSTED_PROXIES" in os.environ:
    app.config["PRODGUARD_TRUSTED_PROXIES"] = int(os.environ["APP_TRUSTED_PROXIES"])


@app.get("/")
def index():
    return "hello"


@app.get("/boom")
def boom():
    raise RuntimeError("db password hunter2")


@app.get("/slow")
def slow():
    Path(os.environ["APP_SLOW_MARKER"]).touch()
    time.sleep(1.5)
    return "slow " + "x" * 4000


@app.get("/whoami")
def whoami():
    return f"{request.remote_addr} {request.scheme}"


ProdGuard(app)


class EscapingMiddleware:
    """Outside the guard on purpose: its exception reaches the server itself."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/escape":
            raise RuntimeError("outside the guard hunter2")
        return self.wsgi_app(environ, start_response)


app.wsgi_app = EscapingMiddleware(app.wsgi_app)
'''


def write_app(app_dir: Path) -> None:
    """Write the app module to ``app_dir``."""
    (app_dir / "app.py").write_text(APP_SOURCE)


def port_is_free(port: int) -> bool:
    """Whether nothing listens on ``port`` on any IPv4 address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def app_environ(app_dir: Path, **variables: str) -> dict[str, str]:
    """The server environment with the app's production settings, plus ``variables``."""
    settings = {
        "PRODGUARD_ENV": "production",
        "APP_SECRET_KEY": secrets.token_hex(32),
        "APP_SLOW_MARKER": str(app_dir / "slow.started"),
    }
    settings.update(variables)
    return server_environ(**settings)


# -- raw HTTP ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Answer(ParsedResponse):
    """A response as read from the socket until the server closed it."""

    raw: bytes
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def complete(self) -> bool:
        """One Content-Length, and exactly that many body bytes arrived."""
        lengths = self.header_values("Content-Length")
        return len(lengths) == 1 and int(lengths[0]) == len(self.body)

    def __repr__(self) -> str:
        return f"Answer({self.raw[:600]!r})"


def parse_answer(raw: bytes) -> Answer:
    """Split a raw HTTP/1.1 response; status 0 when not even the head arrived."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        return Answer(raw, 0, [], b"")
    status, headers = parse_head(head)
    return Answer(raw, status, headers, body)


def send_request(
    port: int, target: str, headers: tuple[tuple[str, str], ...] = ()
) -> socket.socket:
    """Open a connection and send ``GET target``; the caller reads the answer."""
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"User-Agent: {USER_AGENT}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    sock = connect(port, REQUEST_TIMEOUT)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    return sock


def read_answer(sock: socket.socket) -> Answer:
    """Read until the server closes the connection (or resets it)."""
    with sock:
        raw, ending = receive_all(sock)
    if ending == "timeout":
        raise TimeoutError(f"no end of the answer after {REQUEST_TIMEOUT} s: {raw[:600]!r}")
    return parse_answer(raw)


def get(port: int, target: str, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    """One ``GET`` over a new connection."""
    return read_answer(send_request(port, target, headers))


# -- a served app ------------------------------------------------------------------


def start_serve(app_dir: Path, args: list[str], port: int, **variables: str) -> Server:
    """Write the app and start ``flask --app app prodguard serve *args`` in its own session."""
    write_app(app_dir)
    argv = [FLASK, "--app", "app", "prodguard", "serve", *args]
    return start_server(argv, app_dir, port, app_environ(app_dir, **variables))


def answers_index(port: int) -> bool:
    """Whether the app answers ``/`` with 200."""
    return get(port, "/").status == 200


def parse_lines(server: Server) -> tuple[list[dict[str, Any]], list[str]]:
    """The stderr lines that are JSON objects with an event name, and all the others."""
    text = server.stderr_bytes().decode("utf-8", errors="replace")
    parsed, others = [], []
    for line in text.split("\n"):
        if not line:
            continue
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("event"), str):
            parsed.append(data)
        else:
            others.append(line)
    return parsed, others


def json_lines(server: Server) -> list[dict[str, Any]]:
    """Every stderr line parsed as JSON (a line that is not JSON fails the test)."""
    parsed, others = parse_lines(server)
    assert not others, f"stderr lines that are not JSON events: {others}\n{server.logs()}"
    return parsed


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a decoded JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


# -- the main runs: one per server ---------------------------------------------------

#: name -> (request target, extra headers)
REQUESTS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "index": ("/", ()),
    "boom": ("/boom", ()),
    "escape": ("/escape", ()),
    "probe_crlf": (f"/x{CRLF_ESC}?__debugger__=yes", ()),
    "missing_crlf": (f"/y{CRLF_ESC}", ()),
    "forwarded": ("/whoami", FORWARDED),
    "forwarded_probe": ("/whoami?__debugger__=yes", FORWARDED),
}


@dataclasses.dataclass
class Run:
    """What one served app answered and logged, and how it ended on SIGTERM."""

    server_name: str
    server: Server
    answers: dict[str, Answer]
    #: The /slow request that was in flight when SIGTERM arrived.
    in_flight: Answer
    exit_code: int | None
    exit_seconds: float
    lines: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: stderr lines that are not JSON objects with an event name (none, we hope).
    not_json: list[str] = dataclasses.field(default_factory=list)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["event"] == name]

    def log(self) -> str:
        return self.server.logs()


def serve_and_stop(server_name: str, app_dir: Path, **variables: str) -> Run:
    """Serve with ``--workers 2``, send REQUESTS, then SIGTERM during ``/slow``."""
    port = free_port()
    args = ["--server", server_name, "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    server = start_serve(app_dir, args, port, **variables)
    try:
        server.wait_ready(answers_index)
        answers = {name: get(port, target, hdrs) for name, (target, hdrs) in REQUESTS.items()}
        marker = app_dir / "slow.started"
        sock = send_request(port, "/slow")
        deadline = time.monotonic() + REQUEST_TIMEOUT
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), f"/slow never started\n{server.logs()}"
        # To the main process only, as an orchestrator (docker stop, systemd) does.
        signal_sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        in_flight = read_answer(sock)
        timeout = gunicorn_options("127.0.0.1", port, 1, 1)["graceful_timeout"]
        exit_code = server.wait_exit(timeout + STOP_TIMEOUT)
        exit_seconds = time.monotonic() - signal_sent
    finally:
        server.kill()
    run = Run(server_name, server, answers, in_flight, exit_code, exit_seconds)
    run.lines, run.not_json = parse_lines(server)
    return run


@pytest.fixture(scope="module")
def gunicorn_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The app served by ``flask prodguard serve --server gunicorn --workers 2``."""
    return serve_and_stop("gunicorn", tmp_path_factory.mktemp("gunicorn"))


@pytest.fixture(scope="module")
def waitress_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The app served by ``flask prodguard serve --server waitress``."""
    return serve_and_stop("waitress", tmp_path_factory.mktemp("waitress"))


@pytest.fixture(params=["gunicorn", "waitress"])
def run(request: pytest.FixtureRequest) -> Run:
    """Each server's run in turn."""
    result: Run = request.getfixturevalue(f"{request.param}_run")
    return result


# -- what both servers must do -------------------------------------------------------


def test_serves_the_app(run: Run) -> None:
    """``/`` answers 200 "hello", complete."""
    answer = run.answers["index"]
    assert answer.status == 200, f"{answer!r}\n{run.log()}"
    assert answer.complete and answer.body == b"hello", answer


def test_failing_route_gets_the_generic_500_with_an_error_id(run: Run) -> None:
    """A view that raises gets the guard's generic 500 with X-Error-ID, logged as JSON."""
    answer = run.answers["boom"]
    assert answer.status == 500, f"{answer!r}\n{run.log()}"
    assert answer.complete, answer
    ids = answer.header_values("X-Error-ID")
    assert len(ids) == 1 and ERROR_ID.fullmatch(ids[0]), answer
    assert ids[0] in answer.text, answer
    assert answer.header_values("Cache-Control") == ["no-store"], answer
    for leak in LEAKS:
        assert leak not in answer.text, f"{leak!r} in the page: {answer!r}"
    unhandled = [e for e in run.events("prodguard.error.unhandled") if e["error_id"] == ids[0]]
    assert len(unhandled) == 1, run.log()
    assert unhandled[0]["path"] == "/boom"
    assert unhandled[0]["exception_type"] == "RuntimeError"


def test_error_outside_the_guard_shows_no_traceback(run: Run) -> None:
    """An exception that reaches the server itself gets its plain 500, never a traceback."""
    answer = run.answers["escape"]
    assert answer.status == 500, f"{answer!r}\n{run.log()}"
    for leak in LEAKS:
        assert leak not in answer.text, f"{leak!r} in the server's page: {answer!r}"
    # The server logged it, as one JSON line with the traceback escaped in a field.
    logged = [
        line
        for line in run.events("server.log")
        if line["level"] == "error" and "/escape" in line["message"]
    ]
    assert len(logged) == 1, run.log()
    assert "Traceback" in logged[0]["exception"]


def test_every_stderr_line_is_a_json_object(run: Run) -> None:
    """stderr holds only JSON objects: server lines and prodguard.* events; stdout is empty."""
    assert run.not_json == [], f"plain text on stderr: {run.not_json}\n{run.log()}"
    assert run.lines, run.log()
    names = {line["event"] for line in run.lines}
    unknown = {n for n in names if n not in ("server.log", "server.access")}
    assert all(n.startswith("prodguard.") for n in unknown), names
    assert run.server.stdout_bytes() == b"", run.log()
    for line in run.lines:
        assert line["level"] in LEVELS, line
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["timestamp"]), line


def test_request_controlled_control_characters_never_appear_raw(run: Run) -> None:
    """CR, LF and ESC from the request path are escaped in every line, never raw."""
    raw = run.server.stderr_bytes()
    assert b"\r" not in raw and b"\x1b" not in raw, run.log()
    for line in run.lines:
        for text in strings_in(line):
            assert not set(text) & {"\r", "\n", "\x1b"}, f"raw control character in {line}"
    probes = [e for e in run.events("prodguard.debugger.probe") if e["path"].startswith("/x")]
    assert [e["path"] for e in probes] == [f"/x{CRLF_ESC_LOGGED}"], run.log()
    assert run.answers["probe_crlf"].status == 404
    missing = run.answers["missing_crlf"]
    assert missing.status == 404, missing
    http_errors = [
        e
        for e in run.events("prodguard.error.http")
        if e["error_id"] == missing.header_values("X-Error-ID")[0]
    ]
    assert [e["path"] for e in http_errors] == [f"/y{CRLF_ESC_LOGGED}"], run.log()


def test_security_events_are_valid_json_lines(run: Run) -> None:
    """The guard's events are prodguard.* JSON lines that match the shipped schema."""
    postures = run.events("prodguard.startup.posture")
    assert postures, run.log()
    for posture in postures:
        assert (posture["env"], posture["strictness"]) == ("production", "enforce")
        assert posture["findings"] == [], "the safe settings should give no finding"
    validator = event_validator()
    events = [line for line in run.lines if line["event"].startswith("prodguard.")]
    for event in events:
        errors = sorted(validator.iter_errors(event), key=str)
        assert not errors, f"{event['event']}: {errors[0].message}"
    assert {"prodguard.error.unhandled", "prodguard.debugger.probe"} <= {
        e["event"] for e in events
    }


def test_no_reloader(run: Run) -> None:
    """Nothing restarts or watches files: no reloader line at all."""
    for line in run.lines:
        message = str(line.get("message", "")).lower()
        for word in ("restarting", "reload", "detected change", "watching"):
            assert word not in message, line


def test_forwarded_headers_ignored_by_default(run: Run) -> None:
    """With PRODGUARD_TRUSTED_PROXIES unset (0), X-Forwarded-* change nothing."""
    answer = run.answers["forwarded"]
    assert answer.status == 200, f"{answer!r}\n{run.log()}"
    assert answer.body == b"127.0.0.1 http", answer
    probes = [e for e in run.events("prodguard.debugger.probe") if e["path"] == "/whoami"]
    assert [e["client_ip"] for e in probes] == ["127.0.0.1"], run.log()


# -- gunicorn -------------------------------------------------------------------------


def test_gunicorn_start_up_lines_are_json(gunicorn_run: Run) -> None:
    """gunicorn's own start-up lines are server.log JSON lines, two workers booted."""
    messages = [
        line["message"]
        for line in gunicorn_run.events("server.log")
        if line["logger"] == "gunicorn.error"
    ]
    port = gunicorn_run.server.port
    assert any(m.startswith("Starting gunicorn") for m in messages), gunicorn_run.log()
    assert any(m.startswith(f"Listening at: http://127.0.0.1:{port} ") for m in messages), (
        gunicorn_run.log()
    )
    assert "Using worker: sync" in messages, gunicorn_run.log()
    assert sum(m.startswith("Booting worker") for m in messages) == 2, gunicorn_run.log()


def test_gunicorn_access_lines_carry_fields(gunicorn_run: Run) -> None:
    """Each request has a server.access line with its fields; status and bytes are ints."""
    access = gunicorn_run.events("server.access")
    expected = {
        "index": "/",
        "boom": "/boom",
        "probe_crlf": f"/x{CRLF_ESC_LOGGED}",
        "missing_crlf": f"/y{CRLF_ESC_LOGGED}",
        "forwarded": "/whoami",
    }
    for name, path in expected.items():
        answer = gunicorn_run.answers[name]
        found = [
            line
            for line in access
            if line.get("path") == path and line.get("status") == answer.status
        ]
        assert found, f"no access line for {name} ({path})\n{gunicorn_run.log()}"
        line = found[-1]
        assert line["logger"] == "gunicorn.access"
        assert line["client_ip"] == "127.0.0.1"
        assert line["method"] == "GET"
        assert type(line["status"]) is int and type(line["bytes"]) is int, line
        assert line["bytes"] == len(answer.body), line
        assert line["user_agent"] == USER_AGENT, line
    assert all(type(line["status"]) is int for line in access), access
    probe = [line for line in access if line.get("path", "").startswith("/x")]
    assert [line.get("query") for line in probe] == ["__debugger__=yes"], probe


def test_gunicorn_sigterm_finishes_the_in_flight_request(gunicorn_run: Run) -> None:
    """SIGTERM during a request: the client gets the whole 200; gunicorn exits 0 in time."""
    answer = gunicorn_run.in_flight
    assert answer.status == 200, f"{answer!r}\n{gunicorn_run.log()}"
    assert answer.complete and answer.body == b"slow " + b"x" * 4000, answer
    assert gunicorn_run.exit_code == 0, gunicorn_run.log()
    graceful = gunicorn_options("127.0.0.1", 1, 1, 1)["graceful_timeout"]
    assert gunicorn_run.exit_seconds < graceful, gunicorn_run.exit_seconds
    messages = [line.get("message", "") for line in gunicorn_run.lines]
    assert "Handling signal: term" in messages
    assert "Shutting down: Master" in messages


# -- waitress ------------------------------------------------------------------------


def test_waitress_start_up_line_is_json(waitress_run: Run) -> None:
    """waitress's "Serving on" line is a server.log JSON line."""
    messages = [
        line["message"]
        for line in waitress_run.events("server.log")
        if line["logger"] == "waitress"
    ]
    assert f"Serving on http://127.0.0.1:{waitress_run.server.port}" in messages


def test_waitress_access_lines_carry_fields(waitress_run: Run) -> None:
    """serve() gives waitress, which logs no access, server.access lines like gunicorn's."""
    access = waitress_run.events("server.access")
    for name, path in {"index": "/", "boom": "/boom", "forwarded": "/whoami"}.items():
        answer = waitress_run.answers[name]
        found = [
            line
            for line in access
            if line.get("path") == path and line.get("status") == answer.status
        ]
        assert found, f"no access line for {name} ({path})\n{waitress_run.log()}"
        line = found[-1]
        assert line["logger"] == "waitress.access"
        assert line["client_ip"] == "127.0.0.1"
        assert line["method"] == "GET"
        assert line["bytes"] == len(answer.body), line
        assert line["user_agent"] == USER_AGENT, line
        assert type(line["duration_us"]) is int, line
    # Request strings are escaped there too: no raw control character.
    assert all("\x1b" not in json.dumps(line, ensure_ascii=False) for line in access)


def test_waitress_sigterm_finishes_the_in_flight_request(waitress_run: Run) -> None:
    """SIGTERM during a request: waitress stops accepting, finishes the 200, exits 0."""
    # waitress has no graceful stop of its own; serve() runs its loop until
    # the in-flight request is answered and flushed.
    answer = waitress_run.in_flight
    assert answer.status == 200, f"{answer!r}\n{waitress_run.log()}"
    assert answer.complete and answer.body == b"slow " + b"x" * 4000, answer
    assert waitress_run.exit_code == 0, waitress_run.log()
    assert waitress_run.exit_seconds < 30, waitress_run.exit_seconds


# -- proxies ---------------------------------------------------------------------------


def _serve_behind_proxy(server_name: str, app_dir: Path) -> tuple[dict[str, Answer], Server]:
    port = free_port()
    args = ["--server", server_name, "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    server = start_serve(app_dir, args, port, APP_TRUSTED_PROXIES="1")
    try:
        server.wait_ready(answers_index)
        answers = {
            "forwarded": get(port, "/whoami", FORWARDED),
            "forwarded_probe": get(port, "/whoami?__debugger__=yes", FORWARDED),
            "direct": get(port, "/whoami"),
        }
        server.proc.send_signal(signal.SIGTERM)
        server.wait_exit(STOP_TIMEOUT)
    finally:
        server.kill()
    return answers, server


def test_trusted_proxies_one_hop_under_gunicorn(tmp_path: Path) -> None:
    """PRODGUARD_TRUSTED_PROXIES=1: the app and its events see the forwarded client, scheme."""
    answers, server = _serve_behind_proxy("gunicorn", tmp_path)
    assert answers["forwarded"].status == 200, f"{answers['forwarded']!r}\n{server.logs()}"
    assert answers["forwarded"].body == b"203.0.113.9 https", server.logs()
    assert answers["direct"].body == b"127.0.0.1 http", server.logs()
    lines = json_lines(server)
    probes = [e for e in lines if e["event"] == "prodguard.debugger.probe"]
    assert [e["client_ip"] for e in probes] == ["203.0.113.9"], server.logs()
    postures = [e for e in lines if e["event"] == "prodguard.startup.posture"]
    assert postures and all(e["findings"] == [] for e in postures), server.logs()


def test_trusted_proxies_one_hop_under_waitress(tmp_path: Path) -> None:
    """PRODGUARD_TRUSTED_PROXIES=1 under waitress: the forwarded client and scheme."""
    # waitress passes the X-Forwarded-* headers through only when the guard
    # trusts proxies; the guard's ProxyFix is the one place they are applied.
    answers, server = _serve_behind_proxy("waitress", tmp_path)
    assert answers["forwarded"].status == 200, f"{answers['forwarded']!r}\n{server.logs()}"
    assert answers["forwarded"].body == b"203.0.113.9 https", server.logs()
    assert answers["direct"].body == b"127.0.0.1 http", server.logs()
    probes = [e for e in json_lines(server) if e["event"] == "prodguard.debugger.probe"]
    assert [e["client_ip"] for e in probes] == ["203.0.113.9"], server.logs()


# -- safe defaults -------------------------------------------------------------------


def test_gunicorn_options_are_safe() -> None:
    """gunicorn_options: no reload, no proxy trust, loopback as given, graceful timeout."""
    options = gunicorn_options("127.0.0.1", 8000, 3, 1)
    assert options["reload"] is False
    assert options["forwarded_allow_ips"] == ""
    assert options["proxy_allow_ips"] == ""
    assert options["bind"] == ["127.0.0.1:8000"]
    assert options["workers"] == 3
    assert options["preload_app"] is False
    assert options["graceful_timeout"] == 30
    assert gunicorn_options("::1", 8000, 1, 1)["bind"] == ["[::1]:8000"]


def test_cli_and_serve_default_to_loopback() -> None:
    """The serve command binds 127.0.0.1:8000 unless told otherwise, and so does serve()."""
    import inspect

    from flask_prodguard.tools.cli import serve_command

    bind = next(p for p in serve_command.params if p.name == "bind")
    assert bind.default == "127.0.0.1:8000"
    defaults = inspect.signature(serve).parameters
    assert defaults["host"].default == "127.0.0.1"
    assert defaults["port"].default == 8000
    assert defaults["server"].default == "auto"


@pytest.fixture
def captured_gunicorn(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """gunicorn's BaseApplication.run replaced: records the config serve() built."""
    from gunicorn.app.base import BaseApplication

    seen: dict[str, Any] = {}

    def fake_run(self: Any) -> None:
        seen["cfg"] = self.cfg
        seen["app"] = self.load()

    monkeypatch.setattr(BaseApplication, "run", fake_run)
    return seen


@pytest.fixture
def safe_guarded_app(build_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Return ``safe_guarded_app(**config)``: the test app guarded in production."""

    def factory(**config: Any) -> Any:
        app = build_app(**config)
        ProdGuard(app, env="production")
        return app

    return factory


def test_serve_gunicorn_defaults(
    safe_guarded_app: Callable[..., Flask], captured_gunicorn: dict[str, Any]
) -> None:
    """serve(app) hands gunicorn: 2 x CPUs + 1 workers, 127.0.0.1:8000, no reload."""
    app = safe_guarded_app()
    serve(app, server="gunicorn")
    cfg = captured_gunicorn["cfg"]
    assert captured_gunicorn["app"] is app
    assert default_workers() == 2 * (os.cpu_count() or 1) + 1
    assert cfg.workers == 2 * (os.cpu_count() or 1) + 1
    assert cfg.bind == ["127.0.0.1:8000"]
    assert cfg.reload is False
    assert cfg.forwarded_allow_ips == []
    assert cfg.graceful_timeout == 30
    assert cfg.accesslog == "-" and cfg.errorlog == "-"


def test_serve_waitress_never_exposes_tracebacks(
    safe_guarded_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve(app, server="waitress") builds waitress on loopback, expose_tracebacks=False."""
    import waitress.server

    seen: dict[str, Any] = {}

    class FakeServer:
        def print_listen(self, format_string: str) -> None:
            seen["listen"] = format_string

        def run(self) -> None:
            seen["ran"] = True

    def fake_create_server(app: Any, **kwargs: Any) -> FakeServer:
        seen.update(kwargs)
        return FakeServer()

    monkeypatch.setattr(waitress.server, "create_server", fake_create_server)
    import flask_prodguard.tools.serving

    monkeypatch.setattr(
        flask_prodguard.tools.serving, "_run_until_drained", lambda server: server.run()
    )
    # Keep this process's logging as it is: serve() configures the server loggers.
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)
    serve(safe_guarded_app(), server="waitress")
    assert seen["expose_tracebacks"] is False
    assert (seen["host"], seen["port"], seen["threads"]) == ("127.0.0.1", 8000, 4)
    assert seen["trusted_proxy"] is None
    assert seen["ran"] is True


def test_default_bind_listens_on_loopback_only(tmp_path: Path) -> None:
    """Without --bind, gunicorn listens on 127.0.0.1:8000 only, with 2 x CPUs + 1 workers."""
    if not port_is_free(8000):
        # Someone else has the port: the defaults are covered without a
        # process by test_cli_and_serve_default_to_loopback and
        # test_serve_gunicorn_defaults.
        assert gunicorn_options("127.0.0.1", 8000, 1, 1)["bind"] == ["127.0.0.1:8000"]
        return
    workers = default_workers()
    server = start_serve(tmp_path, ["--server", "gunicorn"], 8000)
    try:
        server.wait_ready(answers_index)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if server.stderr_bytes().count(b"Booting worker") >= workers:
                break
            time.sleep(0.1)
        listening = listening_addresses(8000)
        server.proc.send_signal(signal.SIGTERM)
        server.wait_exit(STOP_TIMEOUT)
    finally:
        server.kill()
    assert listening == {"127.0.0.1"}, listening
    lines = json_lines(server)
    messages = [str(line.get("message", "")) for line in lines]
    assert any(m.startswith("Listening at: http://127.0.0.1:8000 ") for m in messages)
    assert sum(m.startswith("Booting worker") for m in messages) == workers, server.logs()
    assert not [m for m in messages if "reload" in m.lower() or "restarting" in m.lower()]


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on ``port`` (from /proc/net)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            address, _, port_hex = fields[1].partition(":")
            if int(port_hex, 16) != port or fields[3] != "0A":  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            if len(raw) == 4:
                found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
            else:
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


# -- refusals ------------------------------------------------------------------------


def test_cli_refuses_an_app_with_a_placeholder_secret(tmp_path: Path) -> None:
    """SECRET_KEY="changeme": exit 2, stderr names PG304 and its fix, nothing listens."""
    port = free_port()
    args = ["--server", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    server = start_serve(tmp_path, args, port, APP_SECRET_KEY="changeme")
    try:
        code = server.wait_exit(READY_TIMEOUT)
    finally:
        server.kill()
    assert code == 2, server.logs()
    stderr = server.stderr_bytes().decode()
    assert "PG304" in stderr, stderr
    assert "Replace it with a random value kept out of the code" in stderr, stderr
    assert "refused to serve" in stderr, stderr
    # Alerting sees it too: one refusal event naming the check.
    refusals = [e for e in server.events() if e["event"] == "prodguard.startup.refused"]
    assert [(e["reason"], e["findings"]) for e in refusals] == [("serve", ["PG304"])]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert b"Listening at" not in server.stderr_bytes()


def test_serve_refuses_an_app_with_a_placeholder_secret(
    safe_guarded_app: Callable[..., Flask],
    captured_gunicorn: dict[str, Any],
) -> None:
    """serve() raises UnsafeDeploymentError naming PG304 and its fix; no server is built."""
    app = safe_guarded_app(SECRET_KEY="changeme")
    with pytest.raises(UnsafeDeploymentError) as caught:
        serve(app, server="gunicorn", port=free_port())
    message = str(caught.value)
    assert "PG304" in message
    assert "fix: Replace it with a random value kept out of the code" in message
    assert captured_gunicorn == {}


# -- what serve says in plain words, and when ---------------------------------------


def test_serve_says_what_the_guard_fixed(
    safe_guarded_app: Callable[..., Flask],
    captured_gunicorn: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """serve(app) prints what the guard fixed at start, in check's words, and serves."""
    app = safe_guarded_app(DEBUG=True)
    serve(app, server="gunicorn")
    err = capsys.readouterr().err
    assert "Flask-ProdGuard fixed these when app 'guarded' started" in err, err
    assert "  PG101  debug mode is on\n         source: app.config DEBUG\n" in err, err
    assert captured_gunicorn["app"] is app


def test_held_output_keeps_lines_until_released() -> None:
    """Lines written while held come out at release, in order, and later ones go through."""
    import io

    from flask_prodguard.tools.serving import HeldOutput

    real = io.StringIO()
    held = HeldOutput(real)
    held.write('{"event": "one"}\n')
    held.flush()
    assert real.getvalue() == ""
    with pytest.raises(TypeError):
        held.write(b"bytes")  # type: ignore[arg-type]
    real.write("Error: the message\n")
    held.release()
    held.write('{"event": "two"}\n')
    assert real.getvalue() == 'Error: the message\n{"event": "one"}\n{"event": "two"}\n'


def test_held_output_is_bounded_and_lends_the_real_streams_attributes() -> None:
    """Past its limit the hold ends (nothing lost, order kept); attributes it lacks are the
    real stream's; an instance not yet set up fails plainly, without endless lookups."""
    import io

    from flask_prodguard.tools.serving import HeldOutput

    real = io.StringIO()
    held = HeldOutput(real)
    assert held.getvalue == real.getvalue  # what TextIOBase lacks comes from the stream
    held.write("a" * HeldOutput.HOLD_LIMIT)
    assert real.getvalue() == ""
    held.write("b")  # over the limit: released, in order
    assert real.getvalue() == "a" * HeldOutput.HOLD_LIMIT + "b"
    held.write("c")
    assert real.getvalue().endswith("bc")
    bare = HeldOutput.__new__(HeldOutput)
    with pytest.raises(AttributeError):
        bare.buffer  # noqa: B018 - the lookup under test


def plain_then_json(stderr: str) -> tuple[list[str], list[str]]:
    """stderr's lines that are not JSON, and the JSON lines after them.

    Fails the test when a line in plain words comes after a JSON line: the
    message for the operator is the first thing on stderr.
    """
    lines = [line for line in stderr.splitlines() if line.strip()]
    first_json = next((i for i, line in enumerate(lines) if line.startswith("{")), len(lines))
    plain, events = lines[:first_json], lines[first_json:]
    assert all(line.startswith("{") for line in events), f"plain words after JSON:\n{stderr}"
    return plain, events


def check_report(app_dir: Path, **variables: str) -> str:
    """The findings section of ``flask --app app prodguard check`` on the app in ``app_dir``."""
    result = subprocess.run(
        [FLASK, "--app", "app", "prodguard", "check"],
        cwd=app_dir,
        env=app_environ(app_dir, **variables),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    # Between the heading line and the closing count, blank lines trimmed.
    lines = result.stdout.splitlines()[1:-1]
    return "\n".join(lines).strip("\n")


@pytest.mark.parametrize(
    ("case", "variables", "found"),
    [
        ("FLASK_DEBUG=1", {"FLASK_DEBUG": "1"}, ["PG101"]),
        ("in the code", {}, ["PG101", "PG201"]),
    ],
)
@pytest.mark.parametrize("server_name", ["gunicorn", "waitress"])
def test_cli_says_what_the_guard_fixed_before_serving(
    tmp_path: Path, server_name: str, case: str, variables: dict[str, str], found: list[str]
) -> None:
    """What the guard fixed at start is on stderr first, in check's words; then it serves."""
    write_app(tmp_path)
    if case == "in the code":
        source = APP_SOURCE.replace(
            "MAX_CONTENT_LENGTH=1024 * 1024,",
            "MAX_CONTENT_LENGTH=1024 * 1024,\n    DEBUG=True,\n    TESTING=True,",
        )
        (tmp_path / "app.py").write_text(source)
    report = check_report(tmp_path, **variables)
    assert [line.split()[0] for line in report.splitlines() if line.startswith("  PG")] == found
    port = free_port()
    argv = [FLASK, "--app", "app", "prodguard", "serve", "--server", server_name]
    argv += ["--bind", f"127.0.0.1:{port}", "--workers", "1"]
    server = start_server(argv, tmp_path, port, app_environ(tmp_path, **variables))
    try:
        server.wait_ready(answers_index)
        server.proc.send_signal(signal.SIGTERM)
        server.wait_exit(STOP_TIMEOUT)
    finally:
        server.kill()
    plain, events = plain_then_json(server.stderr())
    assert plain[0].startswith("Flask-ProdGuard fixed these when app 'app' started"), plain
    # The same words as check, line for line.
    assert report in server.stderr(), f"{report}\n---\n{server.stderr()}"
    # The events still go out, after the words; and the server started after both.
    names = [json.loads(line)["event"] for line in events]
    assert "prodguard.startup.posture" in names, server.logs()
    assert names.index("prodguard.startup.posture") < names.index("server.log"), names


def test_cli_says_nothing_when_nothing_was_fixed(tmp_path: Path) -> None:
    """An app with nothing to fix gets no words on stderr: only JSON lines."""
    port = free_port()
    args = ["--server", "waitress", "--bind", f"127.0.0.1:{port}"]
    server = start_serve(tmp_path, args, port)
    try:
        server.wait_ready(answers_index)
    finally:
        server.kill()
    plain, events = plain_then_json(server.stderr())
    assert plain == [] and events, server.logs()


@pytest.mark.parametrize(
    ("strictness", "says", "reason"),
    [
        ("enforce", "Error: Flask-ProdGuard refused to serve app 'app':", "serve"),
        ("strict", "Error: Flask-ProdGuard refused to start for app 'app'", "start"),
    ],
)
def test_refusal_message_comes_before_the_event_lines(
    tmp_path: Path, strictness: str, says: str, reason: str
) -> None:
    """A refusal puts its message first on stderr; the JSON event lines follow it."""
    port = free_port()
    args = ["--server", "gunicorn", "--bind", f"127.0.0.1:{port}"]
    server = start_serve(
        tmp_path, args, port, APP_SECRET_KEY="changeme", PRODGUARD_STRICTNESS=strictness
    )
    try:
        code = server.wait_exit(READY_TIMEOUT)
    finally:
        server.kill()
    assert code == 2, server.logs()
    plain, events = plain_then_json(server.stderr())
    assert plain[0].startswith(says), server.logs()
    assert any("PG304" in line for line in plain), server.logs()
    refusals = [json.loads(line) for line in events if '"prodguard.startup.refused"' in line]
    assert [(e["reason"], e["findings"]) for e in refusals] == [(reason, ["PG304"])]


def test_load_failure_message_comes_first(tmp_path: Path) -> None:
    """An app that fails while loading: the error first, then what the guard logged."""
    write_app(tmp_path)
    with (tmp_path / "app.py").open("a") as source:
        source.write("\nraise RuntimeError('the database is not there')\n")
    port = free_port()
    argv = [FLASK, "--app", "app", "prodguard", "serve", "--bind", f"127.0.0.1:{port}"]
    server = start_server(argv, tmp_path, port, app_environ(tmp_path))
    try:
        code = server.wait_exit(READY_TIMEOUT)
    finally:
        server.kill()
    assert code == 2, server.logs()
    plain, events = plain_then_json(server.stderr())
    assert plain[0].startswith("Error: could not load the app: RuntimeError:"), server.logs()
    assert "the database is not there" in plain[0]
    # ProdGuard(app) ran before the error: its posture event still goes out.
    assert any('"prodguard.startup.posture"' in line for line in events), server.logs()


# -- a missing server ----------------------------------------------------------------


def _python_without(
    modules: list[str], code: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter where ``modules`` cannot be imported."""
    prelude = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in modules)
    return subprocess.run(
        [PYTHON, "-c", prelude + code],
        cwd=cwd,
        env=app_environ(cwd),
        capture_output=True,
        text=True,
        timeout=30,
    )


CHOOSE = """\
import json
from flask_prodguard.exceptions import ConfigurationError
from flask_prodguard.tools.serving import choose_server
result = {}
for requested in ("gunicorn", "waitress", "auto"):
    try:
        result[requested] = choose_server(requested)
    except ConfigurationError as error:
        result[requested] = "error: " + str(error)
print(json.dumps(result))
"""


def test_missing_gunicorn_names_the_pip_command_and_auto_falls_back(tmp_path: Path) -> None:
    """No gunicorn: choose_server('gunicorn') gives the pip command; auto picks waitress."""
    result = _python_without(["gunicorn"], CHOOSE, tmp_path)
    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout)
    assert chosen["gunicorn"].startswith("error: "), chosen
    assert "pip install 'Flask-ProdGuard[gunicorn]'" in chosen["gunicorn"], chosen
    assert chosen["waitress"] == "waitress"
    assert chosen["auto"] == "waitress"


def test_no_server_at_all_names_both_pip_commands(tmp_path: Path) -> None:
    """Neither server importable: auto raises, naming both pip commands."""
    result = _python_without(["gunicorn", "waitress"], CHOOSE, tmp_path)
    assert result.returncode == 0, result.stderr
    auto = json.loads(result.stdout)["auto"]
    assert "pip install 'Flask-ProdGuard[gunicorn]'" in auto, auto
    assert "pip install 'Flask-ProdGuard[waitress]'" in auto, auto


def test_cli_with_gunicorn_missing_exits_2_with_the_pip_command(tmp_path: Path) -> None:
    """`flask prodguard serve --server gunicorn` without gunicorn: exit 2, the pip command."""
    write_app(tmp_path)
    port = free_port()
    code = (
        "from flask.cli import main\n"
        f"sys.argv = ['flask', '--app', 'app', 'prodguard', 'serve', '--server', 'gunicorn',"
        f" '--bind', '127.0.0.1:{port}']\n"
        "main()\n"
    )
    result = _python_without(["gunicorn"], code, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "pip install 'Flask-ProdGuard[gunicorn]'" in result.stderr, result.stderr


def test_server_access_lines_are_redacted_and_escaped() -> None:
    """gunicorn access fields go through the guard's redaction: no token, no raw ESC."""
    from flask_prodguard.tools.serving import ServerJSONFormatter

    atoms = {
        "h": "198.51.100.4",
        "m": "GET",
        "U": "/login",
        "q": "token=s3cr3t-value-123&next=/home",
        "s": "200",
        "a": "evil\x1b[31m",
    }
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%s", (), None)
    record.args = atoms  # gunicorn passes its atoms as the mapping args
    line = json.loads(ServerJSONFormatter().format(record))
    assert line["event"] == "server.access"
    assert "s3cr3t-value-123" not in json.dumps(line)
    assert "[REDACTED]" in json.dumps(line)
    assert "\x1b" not in json.dumps(line, ensure_ascii=False)
