"""``flask prodguard serve`` fails closed: where it listens, and how it stops.

Every case runs the real command line, ``flask --app app prodguard serve``,
on real gunicorn and waitress processes on 127.0.0.1 (or a Unix socket), with
the app module written to a temporary directory:

- A guard that trusts proxy hops (``PRODGUARD_TRUSTED_PROXIES``) on an
  address beyond loopback lets any client forge ``X-Forwarded-For``: ``serve``
  warns in ``deploy-config``'s words, and refuses with strictness ``strict``.
- ``--bind`` takes what gunicorn takes (``HOST:PORT``, ``[IPV6]:PORT``,
  ``unix:PATH``) with a port from 1 to 65535 on both servers; an address in
  use, not of this machine, or not allowed is one plain line and status 2.
- SIGTERM and SIGINT stop both servers gracefully (the request in flight
  finishes, exit status 0) within ``GRACEFUL_TIMEOUT``; SIGHUP leaves both
  serving.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask_prodguard.testing import event_validator
from flask_prodguard.tools.proxies import forgeable_forwarding_warning
from flask_prodguard.tools.serving import GRACEFUL_TIMEOUT

from servers import READY_TIMEOUT
from servers import STOP_TIMEOUT
from servers import Server
from servers import connect
from servers import free_port
from servers import json_events
from servers import parse_head
from servers import receive_all
from servers import running_in_ci
from servers import server_environ
from servers import start_server
from servers import wait_for

pytestmark = pytest.mark.server

FLASK = str(Path(sys.executable).with_name("flask"))
SERVERS = ["gunicorn", "waitress"]
REQUEST_TIMEOUT = 10.0
SLOW_BODY = b"slow " + b"x" * 4000
FORGED = "203.0.113.9"

APP_SOURCE = '''\
"""A guarded app with safe settings (tests/test_serve_fails_closed.py)."""

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
HERE = Path(__file__).parent


@app.get("/")
def index():
    return "hello"


@app.get("/slow")
def slow():
    # In flight until the test says so: no timing decides what the test sees.
    (HERE / "slow.started").touch()
    deadline = time.monotonic() + 90
    while not (HERE / "slow.release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return "slow " + "x" * 4000


@app.get("/whoami")
def whoami():
    return request.remote_addr


ProdGuard(app)
'''


@pytest.fixture
def app_dir() -> Iterator[Path]:
    """A short directory (a Unix socket path has at most 107 bytes) with the app."""
    path = Path(tempfile.mkdtemp(prefix="pg19-", dir="/tmp"))
    (path / "app.py").write_text(APP_SOURCE)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def environ(app_dir: Path, **variables: str) -> dict[str, str]:
    """A clean environment: production, a random secret key, plus ``variables``."""
    settings = {"PRODGUARD_ENV": "production", "APP_SECRET_KEY": secrets.token_hex(32)}
    settings.update(variables)
    return server_environ(**settings)


def serve_argv(*args: str) -> list[str]:
    """``flask --app app prodguard serve *args``."""
    return [FLASK, "--app", "app", "prodguard", "serve", *args]


def run_serve(
    app_dir: Path, args: list[str], prefix: tuple[str, ...] = (), **variables: str
) -> subprocess.CompletedProcess[str]:
    """Run ``serve`` that is expected to exit by itself; its status and output."""
    return subprocess.run(
        [*prefix, *serve_argv(*args)],
        cwd=app_dir,
        env=environ(app_dir, **variables),
        capture_output=True,
        text=True,
        timeout=READY_TIMEOUT,
        check=False,
    )


def start(app_dir: Path, args: list[str], port: int, **variables: str) -> Server:
    """Start ``serve`` in its own session, its output to files in ``app_dir``."""
    return start_server(serve_argv(*args), app_dir, port, environ(app_dir, **variables))


def plain_lines(stderr: str) -> list[str]:
    """The lines of standard error that are not JSON log lines."""
    return [line for line in stderr.splitlines() if line and not line.startswith("{")]


# -- HTTP over TCP and Unix sockets ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Answer:
    """A response read until the server closed the connection."""

    status: int
    body: bytes
    length: int | None

    @property
    def complete(self) -> bool:
        """A Content-Length, and exactly that many body bytes arrived."""
        return self.length == len(self.body)


def request_bytes(target: str, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """``GET target`` that closes the connection after the answer."""
    lines = [f"GET {target} HTTP/1.1", "Host: app.test", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_answer(sock: socket.socket) -> Answer:
    """Read until the server closes ``sock``; status 0 when no head arrived."""
    with sock:
        raw, _ = receive_all(sock)
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        return Answer(0, raw, None)
    status, headers = parse_head(head)
    lengths = [int(v) for k, v in headers if k.lower() == "content-length"]
    return Answer(status, body, lengths[0] if len(lengths) == 1 else None)


def send(port: int, target: str, headers: tuple[tuple[str, str], ...] = ()) -> socket.socket:
    """Open a connection to 127.0.0.1 and send ``GET target``."""
    sock = connect(port, REQUEST_TIMEOUT)
    sock.sendall(request_bytes(target, headers))
    return sock


def get(port: int, target: str, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    """One ``GET`` to 127.0.0.1:``port``."""
    return read_answer(send(port, target, headers))


def get_unix(path: Path, target: str) -> Answer:
    """One ``GET`` over the Unix socket at ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(REQUEST_TIMEOUT)
        sock.connect(str(path))
        sock.sendall(request_bytes(target))
        return read_answer(sock)


def answers_index(port: int) -> bool:
    """Whether 127.0.0.1:``port`` answers ``/`` with 200."""
    return get(port, "/").status == 200


def refuses_connections(port: int) -> bool:
    """Whether nothing accepts connections on 127.0.0.1:``port`` any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def ipv6_loopback() -> bool:
    """Whether this machine has ``::1`` to listen on."""
    if not socket.has_ipv6:
        return False
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("::1", 0))
        except OSError:
            return False
    return True


def stop(server: Server) -> int | None:
    """SIGTERM the serve process; its exit status (None if it did not exit)."""
    server.proc.send_signal(signal.SIGTERM)
    return server.wait_exit(GRACEFUL_TIMEOUT + STOP_TIMEOUT)


# -- a proxy hop trusted on an open address ------------------------------------------

WARNING_START = (
    "Warning: the app listens on 0.0.0.0:{port} and trusts one proxy hop: a client that"
    " reaches it directly can forge X-Forwarded-For. Bind it to 127.0.0.1 (or firewall"
    " the port), or set PRODGUARD_TRUSTED_PROXIES=0 if no proxy is in front."
)


@pytest.mark.parametrize(
    ("server_name", "strictness"),
    [("gunicorn", "enforce"), ("waitress", "enforce"), ("waitress", "report")],
)
def test_trusted_proxy_on_an_open_address_warns_then_serves(
    app_dir: Path, server_name: str, strictness: str
) -> None:
    """PRODGUARD_TRUSTED_PROXIES=1 on 0.0.0.0: a plain warning first, then it serves;
    a client that connects directly does choose the address the app sees."""
    port = free_port()
    args = ["--server", server_name, "--bind", f"0.0.0.0:{port}", "--workers", "1"]
    server = start(
        app_dir, args, port, PRODGUARD_TRUSTED_PROXIES="1", PRODGUARD_STRICTNESS=strictness
    )
    try:
        server.wait_ready(answers_index)
        forged = get(port, "/whoami", (("X-Forwarded-For", FORGED),))
        code = stop(server)
    finally:
        server.kill()
    plain = plain_lines(server.stderr())
    assert plain == [
        WARNING_START.format(port=port) + " Strictness strict refuses to serve it."
    ]
    assert server.stderr().startswith("Warning: "), server.logs()
    assert forged.body == FORGED.encode(), forged
    assert code == 0, server.logs()


@pytest.mark.parametrize(
    ("server_name", "bind"),
    [
        ("gunicorn", "0.0.0.0:{port}"),
        ("waitress", "0.0.0.0:{port}"),
        ("waitress", "[::]:{port}"),
    ],
)
def test_trusted_proxy_on_an_open_address_is_refused_when_strict(
    app_dir: Path, server_name: str, bind: str
) -> None:
    """Strictness strict: exit 2, the risk and its fix in plain words, one
    prodguard.startup.refused event, and nothing listens."""
    port = free_port()
    where = bind.format(port=port)
    result = run_serve(
        app_dir,
        ["--server", server_name, "--bind", where],
        PRODGUARD_TRUSTED_PROXIES="2",
        PRODGUARD_STRICTNESS="strict",
    )
    assert result.returncode == 2, result.stderr
    plain = plain_lines(result.stderr)
    assert plain[0] == (
        "Error: Flask-ProdGuard refused to serve app 'app' (PRODGUARD_STRICTNESS=strict):"
    )
    assert plain[1] == (
        f"  - the app listens on {where} and trusts 2 proxy hops: a client that reaches it"
        " directly can forge X-Forwarded-For."
    )
    assert plain[2].startswith("    fix: Bind it to 127.0.0.1 or a Unix socket"), plain
    assert "PRODGUARD_TRUSTED_PROXIES=0" in plain[2]
    events = json_events(result.stderr)
    refusals = [e for e in events if e["event"] == "prodguard.startup.refused"]
    assert [(e["reason"], e["findings"]) for e in refusals] == [("serve", [])]
    validator = event_validator()
    for event in events:
        assert not list(validator.iter_errors(event)), event
    assert refuses_connections(port)
    assert "Listening at" not in result.stderr and "Serving on" not in result.stderr


@pytest.mark.parametrize(
    ("bind", "variables", "seen"),
    [
        # Loopback: only a proxy on this machine connects, so the hop is right.
        ("127.0.0.1:{port}", {"PRODGUARD_TRUSTED_PROXIES": "1"}, FORGED),
        ("0.0.0.0:{port}", {}, "127.0.0.1"),
        # No guard acts with strictness off: no ProxyFix, no header believed.
        (
            "0.0.0.0:{port}",
            {"PRODGUARD_TRUSTED_PROXIES": "1", "PRODGUARD_STRICTNESS": "off"},
            "127.0.0.1",
        ),
    ],
    ids=["loopback-trusting", "open-trusting-none", "open-strictness-off"],
)
def test_no_forgeable_header_no_warning(
    app_dir: Path, bind: str, variables: dict[str, str], seen: str
) -> None:
    """Loopback, no trusted hop, or no acting guard: serve says nothing and
    serves, even in strict."""
    port = free_port()
    args = ["--server", "waitress", "--bind", bind.format(port=port)]
    server = start(app_dir, args, port, **{"PRODGUARD_STRICTNESS": "strict", **variables})
    try:
        server.wait_ready(answers_index)
        forged = get(port, "/whoami", (("X-Forwarded-For", FORGED),))
        code = stop(server)
    finally:
        server.kill()
    assert plain_lines(server.stderr()) == [], server.logs()
    assert forged.body == seen.encode(), forged
    assert code == 0, server.logs()


def test_serve_warns_in_deploy_configs_words(app_dir: Path) -> None:
    """deploy-config's warning for the same risk is the shared one, word for word;
    serve's differs only in the remedy it offers."""
    result = subprocess.run(
        [FLASK, "prodguard", "deploy-config", "--target", "systemd", "--app", "app:app"]
        + ["--bind", "0.0.0.0:8000", "--directory", str(app_dir)],
        cwd=app_dir,
        env=environ(app_dir),
        capture_output=True,
        text=True,
        timeout=READY_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    shared = forgeable_forwarding_warning("0.0.0.0:8000", 1, "pass --no-behind-proxy")
    assert [line for line in result.stderr.splitlines() if "forge" in line] == [shared]
    serve_says = WARNING_START.format(port=8000)
    assert serve_says.split(" or set ")[0] == shared.split(" or pass ")[0]


# -- --bind: the forms, and the port ---------------------------------------------------


@pytest.mark.parametrize("server_name", SERVERS)
@pytest.mark.parametrize(
    ("bind", "why"),
    [
        ("127.0.0.1:99999", "the port is a whole number from 1 to 65535"),
        ("127.0.0.1:65536", "the port is a whole number from 1 to 65535"),
        ("127.0.0.1:0", "the port is a whole number from 1 to 65535"),
        ("127.0.0.1:-1", "the port is a whole number from 1 to 65535"),
        ("127.0.0.1:\uff18\uff10", "the port is a whole number from 1 to 65535"),
        ("[::1]:99999", "the port is a whole number from 1 to 65535"),
        ("[::1]:0", "the port is a whole number from 1 to 65535"),
        ("tcp://127.0.0.1:70000", "the port is a whole number from 1 to 65535"),
        ("::1:8000", "an IPv6 address goes in brackets, as in [::1]:8000"),
        ("[::1]", "the port follows the brackets after a colon"),
        ("[not-v6]:8000", "an address in brackets is an IPv6 address"),
        ("127.0.0.1", "give the host and the port"),
        ("unix:", "a Unix socket needs a path"),
    ],
)
def test_bad_bind_is_a_usage_error(
    app_dir: Path, server_name: str, bind: str, why: str
) -> None:
    """A port outside 1-65535 or a form gunicorn does not take: status 2 and why,
    before anything loads or listens (waitress took 99999 as port 34463)."""
    result = run_serve(app_dir, ["--server", server_name, "--bind", bind])
    assert result.returncode == 2, result.stderr
    assert "Error: Invalid value for --bind: " in result.stderr, result.stderr
    assert why in result.stderr
    assert "expected HOST:PORT, [IPV6]:PORT or unix:PATH" in result.stderr
    assert "Traceback" not in result.stderr
    # Refused before the app loaded: no event, no server line.
    assert json_events(result.stderr) == [], result.stderr


@pytest.mark.parametrize("server_name", SERVERS)
def test_the_highest_port_serves(app_dir: Path, server_name: str) -> None:
    """65535, the last port, is served as given on both servers."""
    port = 65535
    if not refuses_connections(port):
        pytest.fail("port 65535 is in use on this machine; the test needs it free")
    server = start(app_dir, ["--server", server_name, "--bind", f"127.0.0.1:{port}"], port)
    try:
        server.wait_ready(answers_index)
        code = stop(server)
    finally:
        server.kill()
    assert code == 0, server.logs()


@pytest.mark.parametrize("server_name", SERVERS)
def test_ipv6_in_brackets_serves(app_dir: Path, server_name: str) -> None:
    """``[::1]:PORT`` listens on IPv6 loopback on both servers (or, on a machine
    without ``::1``, says so in one line with status 2)."""
    port = free_port()
    args = ["--server", server_name, "--bind", f"[::1]:{port}", "--workers", "1"]
    if not ipv6_loopback():
        result = run_serve(app_dir, args)
        assert result.returncode == 2, result.stderr
        assert plain_lines(result.stderr) == [
            f"Error: cannot listen on [::1]:{port}: the address is not one of this"
            " machine's; choose another address or port with --bind."
        ]
        return

    def answers(port: int) -> bool:
        with socket.create_connection(("::1", port), timeout=REQUEST_TIMEOUT) as sock:
            sock.sendall(request_bytes("/"))
            return read_answer(sock).status == 200

    server = start(app_dir, args, port)
    try:
        server.wait_ready(answers)
        code = stop(server)
    finally:
        server.kill()
    assert code == 0, server.logs()
    assert plain_lines(server.stderr()) == [], server.logs()


@pytest.mark.parametrize("server_name", SERVERS)
@pytest.mark.parametrize("scheme", ["unix:", "unix://"])
def test_unix_socket_serves_and_is_removed_on_stop(
    app_dir: Path, server_name: str, scheme: str
) -> None:
    """``unix:PATH`` and ``unix://PATH`` (gunicorn's forms) serve on both servers;
    a Unix socket is loopback (no proxy warning, even strict); SIGTERM removes it."""
    path = app_dir / "app.sock"
    args = ["--server", server_name, "--bind", f"{scheme}{path}", "--workers", "1"]
    server = start(
        app_dir, args, 0, PRODGUARD_TRUSTED_PROXIES="1", PRODGUARD_STRICTNESS="strict"
    )
    try:
        server.wait_ready(lambda _: get_unix(path, "/").status == 200)
        answer = get_unix(path, "/")
        code = stop(server)
    finally:
        server.kill()
    assert answer.body == b"hello"
    assert code == 0, server.logs()
    assert plain_lines(server.stderr()) == [], server.logs()
    assert not path.exists()


# -- where a server cannot listen: one line, status 2 ----------------------------------


@dataclasses.dataclass
class Holder:
    """A socket that listens where serve will try to, and the --bind that says where."""

    sock: socket.socket
    bind: str
    shown: str

    def still_answers(self) -> bool:
        """Whether the holder still accepts connections (serve took nothing)."""
        family = self.sock.family
        address = self.sock.getsockname()
        with socket.socket(family, socket.SOCK_STREAM) as client:
            client.settimeout(REQUEST_TIMEOUT)
            client.connect(address)
        return True


@pytest.fixture(params=["ipv4", "ipv6", "unix"])
def holder(request: pytest.FixtureRequest, app_dir: Path) -> Iterator[Holder]:
    """A listening socket on 127.0.0.1, [::1] (when the machine has it) or a Unix path."""
    if request.param == "unix":
        path = app_dir / "taken.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        bind = shown = f"unix:{path}"
    elif request.param == "ipv6" and ipv6_loopback():
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        sock.bind(("::1", 0))
        bind = shown = f"[::1]:{sock.getsockname()[1]}"
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        bind = shown = f"127.0.0.1:{sock.getsockname()[1]}"
    sock.listen()
    with sock:
        yield Holder(sock, bind, shown)


@pytest.mark.parametrize("server_name", SERVERS)
def test_an_address_in_use_is_one_plain_line(
    app_dir: Path, server_name: str, holder: Holder
) -> None:
    """Port or Unix socket in use: one line saying so, status 2, no traceback, no
    retries; the other server keeps its address (gunicorn and waitress would
    delete a live Unix socket and take it over)."""
    started = time.monotonic()
    result = run_serve(app_dir, ["--server", server_name, "--bind", holder.bind])
    assert result.returncode == 2, result.stderr
    assert plain_lines(result.stderr) == [
        f"Error: cannot listen on {holder.shown}: the address is already in use: another"
        " process listens there; stop it, or choose another address or port with --bind."
    ], result.stderr
    assert "Traceback" not in result.stderr
    assert "Retrying" not in result.stderr and time.monotonic() - started < READY_TIMEOUT
    assert holder.still_answers()


@pytest.mark.parametrize("server_name", SERVERS)
def test_an_address_of_another_machine_is_one_plain_line(
    app_dir: Path, server_name: str
) -> None:
    """192.0.2.1 (TEST-NET-1, on no machine): one line saying so, status 2."""
    port = free_port()
    result = run_serve(app_dir, ["--server", server_name, "--bind", f"192.0.2.1:{port}"])
    assert result.returncode == 2, result.stderr
    assert plain_lines(result.stderr) == [
        f"Error: cannot listen on 192.0.2.1:{port}: the address is not one of this"
        " machine's; choose another address or port with --bind."
    ], result.stderr


@pytest.mark.parametrize("server_name", SERVERS)
@pytest.mark.parametrize(
    ("host", "shown"),
    [("a..b", "a..b"), ("a\x1b..b", "'a\\x1b..b'"), ("\udcff", "'\\udcff'")],
    ids=["empty-label", "escape", "undecodable-byte"],
)
def test_a_host_that_is_no_host_name_is_one_plain_line(
    app_dir: Path, server_name: str, host: str, shown: str
) -> None:
    """A host no resolver takes (an empty label, a control character, a byte that
    is not UTF-8): one line, status 2, control characters escaped."""
    port = free_port()
    result = subprocess.run(
        serve_argv("--server", server_name, "--bind", f"{host}:{port}"),
        cwd=app_dir,
        env=environ(app_dir),
        capture_output=True,
        timeout=READY_TIMEOUT,
        check=False,
    )
    stderr = result.stderr.decode("utf-8", errors="replace")
    assert result.returncode == 2, stderr
    (line,) = plain_lines(stderr)
    assert line.startswith("Error: cannot listen on "), line
    assert f": the host {shown} is not a valid host name; choose another" in line
    assert "\x1b" not in stderr and "Traceback" not in stderr


def without_write_permission() -> tuple[str, ...]:
    """A command prefix under which this user may not write into a directory of
    mode 0555: nothing for an ordinary user; for root, ``setpriv`` dropping the
    capabilities that let root write anywhere."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        line = "setpriv is not installed (Debian package util-linux)"
        if running_in_ci():
            pytest.fail(line, pytrace=False)
        pytest.skip(line)
    return (setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner")


@pytest.mark.parametrize("server_name", SERVERS)
def test_a_socket_in_a_read_only_directory_is_one_plain_line(
    app_dir: Path, server_name: str
) -> None:
    """Permission denied for the Unix socket: one line saying so, status 2."""
    closed = app_dir / "closed"
    closed.mkdir(mode=0o555)
    closed.chmod(0o555)
    bind = f"unix:{closed / 'app.sock'}"
    result = run_serve(
        app_dir, ["--server", server_name, "--bind", bind], prefix=without_write_permission()
    )
    assert result.returncode == 2, result.stderr
    assert plain_lines(result.stderr) == [
        f"Error: cannot listen on {bind}: permission denied: this user cannot create the"
        " socket there."
    ], result.stderr


@pytest.mark.parametrize("server_name", SERVERS)
def test_a_path_that_is_no_socket_is_one_plain_line(app_dir: Path, server_name: str) -> None:
    """``unix:PATH`` naming a regular file: one line, status 2, the file untouched."""
    path = app_dir / "notes.txt"
    path.write_text("keep me")
    result = run_serve(app_dir, ["--server", server_name, "--bind", f"unix:{path}"])
    assert result.returncode == 2, result.stderr
    assert plain_lines(result.stderr) == [
        f"Error: cannot listen on unix:{path}: the path exists and is not a socket."
    ], result.stderr
    assert path.read_text() == "keep me"


# -- how it stops ------------------------------------------------------------------------


@dataclasses.dataclass
class InFlight:
    """A served app with ``/slow`` in flight, held until :meth:`release`."""

    server: Server
    app_dir: Path
    sock: socket.socket

    def release(self) -> Answer:
        """Let ``/slow`` return; what its client received."""
        (self.app_dir / "slow.release").touch()
        return read_answer(self.sock)

    def logged(self, text: str) -> Callable[[], bool]:
        """A condition: the server wrote ``text`` on standard error."""
        return lambda: text in self.server.stderr()


@pytest.fixture
def in_flight(request: pytest.FixtureRequest, app_dir: Path) -> Iterator[InFlight]:
    """The app on the server named by the test's ``server_name``, ``/slow`` in flight."""
    server_name = request.getfixturevalue("server_name")
    port = free_port()
    args = ["--server", server_name, "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    server = start(app_dir, args, port)
    try:
        server.wait_ready(answers_index)
        sock = send(port, "/slow")
        try:
            wait_for(
                (app_dir / "slow.started").exists,
                "/slow started",
                details=server.logs,
                process=server.proc,
            )
            yield InFlight(server, app_dir, sock)
        finally:
            sock.close()
    finally:
        server.kill()


@pytest.mark.parametrize("server_name", SERVERS)
@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGINT, True), (signal.SIGINT, False), (signal.SIGTERM, False)],
    ids=["ctrl-c-to-the-group", "sigint", "sigterm"],
)
def test_stop_signal_finishes_the_request_in_flight(
    in_flight: InFlight, server_name: str, signum: int, group: bool
) -> None:
    """SIGINT (Ctrl+C, which reaches every process of the group) and SIGTERM stop
    both servers gracefully: the request in flight gets its whole 200, exit 0."""
    server = in_flight.server
    if group:
        os.killpg(server.proc.pid, signum)
    else:
        server.proc.send_signal(signum)
    name = signal.Signals(signum).name.removeprefix("SIG").lower()
    wait_for(
        in_flight.logged(f"Handling signal: {name}"),
        "signal handled",
        details=server.logs,
        process=server.proc,
    )
    if server_name == "waitress":
        # waitress closes its listening socket: new clients are refused at once.
        wait_for(lambda: refuses_connections(server.port), "listener closed")
    assert server.proc.poll() is None, "exited with the request in flight\n" + server.logs()
    answer = in_flight.release()
    code = server.wait_exit(GRACEFUL_TIMEOUT + STOP_TIMEOUT)
    assert answer.status == 200 and answer.complete, f"{answer}\n{server.logs()}"
    assert answer.body == SLOW_BODY
    assert code == 0, server.logs()


@pytest.mark.parametrize("server_name", SERVERS)
def test_sighup_keeps_serving(in_flight: InFlight, server_name: str) -> None:
    """SIGHUP: gunicorn replaces its workers, waitress says it cannot reload; both
    finish the request in flight and keep serving until SIGTERM."""
    server = in_flight.server
    server.proc.send_signal(signal.SIGHUP)
    said = "Hang up: Master" if server_name == "gunicorn" else "waitress cannot reload"
    wait_for(in_flight.logged(said), "SIGHUP handled", details=server.logs, process=server.proc)
    answer = in_flight.release()
    assert answer.status == 200 and answer.body == SLOW_BODY, f"{answer}\n{server.logs()}"
    server.wait_ready(answers_index)
    assert server.proc.poll() is None, server.logs()
    assert stop(server) == 0, server.logs()


@pytest.mark.parametrize("server_name", ["waitress"])
def test_waitress_gives_up_on_the_request_after_the_graceful_timeout(
    in_flight: InFlight, server_name: str
) -> None:
    """A request that never ends holds waitress for GRACEFUL_TIMEOUT (30 s) after
    SIGTERM, no longer: then the process exits 0 and the connection closes."""
    server = in_flight.server
    sent = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.wait_exit(GRACEFUL_TIMEOUT + STOP_TIMEOUT)
    waited = time.monotonic() - sent
    assert code == 0, server.logs()
    assert GRACEFUL_TIMEOUT <= waited < GRACEFUL_TIMEOUT + STOP_TIMEOUT, waited
    assert "Graceful timeout (30 s)" in server.stderr(), server.logs()
    in_flight.sock.settimeout(REQUEST_TIMEOUT)
    answer = read_answer(in_flight.sock)
    assert not answer.complete, answer
