"""Red team for issue 18: ``flask prodguard probe`` and ``deploy-config --target apache``.

The probe talks to servers the operator does not fully control (a compromised
staging host, a hostile proxy in between). Small raw-socket servers started
here on 127.0.0.x answer it with what such a server could send: endless or
huge headers, a status line that never ends, bodies that never end or arrive a
byte at a time, gzip bombs, control characters and bidi marks, redirects to
every other place (another address or port, IPv6, ``file://``, the cloud
metadata address, userinfo tricks, a downgrade from https to http), and pages
that reflect what the probe sent. Each test says what the attack is and what
must hold: the request budget and the deadline, the same-host redirect rule,
``--header`` never leaving the named host nor being printed, the output never
forged, no false negative and no false positive the operator would trust.

The Apache file is attacked through every option that reaches it, checked
with the real ``apache2 -t``, and served in front of a guarded app (as
tests/test_apache.py starts Apache) to see which forged forwarding headers a
client gets through to the app.

An attack that works is a test marked ``xfail(strict=True)``; its reason says
what the fix is. Everything else is an attack that failed.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from click.testing import Result
from flask_prodguard.tools import deploy
from flask_prodguard.tools.cli import prodguard
from flask_prodguard.tools.probe import MAX_BODY_BYTES
from flask_prodguard.tools.probe import Target
from flask_prodguard.tools.probe import probe

from servers import Process
from servers import apache_argv
from servers import apache_conf
from servers import free_ports
from servers import parse_head
from servers import send_and_receive
from servers import server_environ
from servers import start_process

#: A probe that hangs fails its test rather than the run.
pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-2.1.0-rtm.5.json"
PYTHON = sys.executable
FLASK = str(Path(sys.executable).with_name("flask"))

#: A staging token given with --header: it must never leave the named host or be printed.
TOKEN = "Gq7ZpL2wXv9KtR4m"
TOKEN_HEADER = f"X-Deploy-Gate: {TOKEN}"
#: A Python traceback as an unguarded server shows it.
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/shop/views.py", line 12, in order\n'
    "    return json.loads(request.get_data())\n"
    "KeyError: 'user'\n"
)
#: Every line the text report may have (tests/test_probe.py's shapes).
TEXT_LINE = re.compile(
    r"(|Flask-ProdGuard probe of .*|[A-Z]+|  PGP1\d\d  .*|"
    r" {9}(seen in|evidence|fix|docs): .*| {19}and \d+ more requests|"
    r"\d+ finding\(s\): .*)"
)


# -- a raw server that misbehaves ------------------------------------------------------


@dataclasses.dataclass
class Request:
    """One request a raw server received."""

    method: str
    target: str
    #: Header names in lower case.
    headers: dict[str, str]
    #: The request's bytes, head and body.
    raw: bytes
    #: Whether it came over TLS.
    tls: bool


Handle = Callable[[socket.socket, Request, threading.Event], None]


def read_request(conn: socket.socket) -> Request | None:
    """The request on ``conn``, or None when the client sent no complete head."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk or len(data) > 512 * 1024:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(
        method, target, headers, head + b"\r\n\r\n" + body, isinstance(conn, ssl.SSLSocket)
    )


class RawServer:
    """A server on ``host`` that reads each request and lets ``handle`` answer
    it over the raw socket, recording every request.

    With ``tls``, a connection whose first byte opens a TLS handshake is
    served over TLS, any other in plain HTTP, on the same port.
    """

    def __init__(self, handle: Handle, host: str, tls: ssl.SSLContext | None) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        # accept() wakes up now and then to see whether the server is stopping.
        self.sock.settimeout(0.1)
        self.host = host
        self.port = int(self.sock.getsockname()[1])
        self.handle = handle
        self.tls = tls
        self.seen: list[Request] = []
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    @property
    def netloc(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.netloc}/"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                if self.tls is not None and conn.recv(1, socket.MSG_PEEK) == b"\x16":
                    with self.tls.wrap_socket(conn, server_side=True) as secure:
                        self._answer(secure)
                else:
                    self._answer(conn)
            except (OSError, ValueError):
                pass  # the probe hung up, cut the answer off, or sent garbage

    def _answer(self, conn: socket.socket) -> None:
        request = read_request(conn)
        if request is not None:
            self.seen.append(request)
            self.handle(conn, request, self.stopping)

    def stop(self) -> None:
        self.stopping.set()
        self._accepting.join(5)
        self.sock.close()
        for thread in self.threads:
            thread.join(5)


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    """Return ``raw_server(handle, host="127.0.0.1", tls=None)``; all stopped at teardown."""
    started: list[RawServer] = []

    def start(
        handle: Handle, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
    ) -> RawServer:
        server = RawServer(handle, host, tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def response(status: int = 200, body: bytes | str = b"ok", *headers: str) -> bytes:
    """A complete HTTP/1.1 answer; ``headers`` as raw ``Name: value`` lines (latin-1)."""
    data = body.encode() if isinstance(body, str) else body
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(data)}", "Connection: close"]
    return ("\r\n".join([*head, *headers]) + "\r\n\r\n").encode("latin-1") + data


def answer(status: int = 200, body: bytes | str = b"ok", *headers: str) -> Handle:
    """A handler that sends the same answer to every request."""
    data = response(status, body, *headers)

    def handle(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
        conn.sendall(data)

    return handle


# -- running the probe -----------------------------------------------------------------


def run_probe(url: str, *args: str) -> Result:
    """``flask prodguard probe url args`` in-process, without the delay between requests."""
    return CliRunner().invoke(
        prodguard, ["probe", url, "--delay", "0", *args], catch_exceptions=False
    )


def probe_json(url: str, *args: str) -> dict[str, Any]:
    """The probe's JSON report; the run must have reached the URL."""
    result = run_probe(url, "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def ids(data: dict[str, Any]) -> set[str]:
    """The finding ids of a JSON report."""
    return {f["id"] for f in data["findings"]}


def above_info(data: dict[str, Any]) -> set[str]:
    """The finding ids of a JSON report above ``info``."""
    return {f["id"] for f in data["findings"] if f["severity"] != "info"}


# -- hostile answers: sizes and time ---------------------------------------------------


def many_headers(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """Ten thousand headers at once."""
    conn.sendall(b"HTTP/1.1 200 X\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)))


def megabyte_header(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """One header of four megabytes."""
    conn.sendall(b"HTTP/1.1 200 X\r\nX-Big: ")
    for _ in range(64):
        conn.sendall(b"a" * 65536)


def endless_status_line(
    conn: socket.socket, request: Request, stopping: threading.Event
) -> None:
    """A status line that never ends."""
    conn.sendall(b"HTTP/1.1 200 ")
    while not stopping.is_set():
        conn.sendall(b"a" * 65536)


def endless_continue(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """``100 Continue`` after ``100 Continue``, never the answer."""
    while not stopping.is_set():
        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" * 64)


def never_answers(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """Takes the request and says nothing."""
    stopping.wait(30)


def header_a_second(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """A slow-loris answer: a status line, then a header line now and then, forever."""
    conn.sendall(b"HTTP/1.1 200 X\r\n")
    while not stopping.wait(0.05):
        conn.sendall(b"X-Slow: a\r\n")


@pytest.mark.parametrize(
    "handle",
    [
        many_headers,
        megabyte_header,
        endless_status_line,
        endless_continue,
        never_answers,
        header_a_second,
    ],
)
def test_a_hostile_first_answer_ends_the_probe_in_time(
    raw_server: Callable[..., RawServer], handle: Handle
) -> None:
    """Endless, huge or missing answers to the first request: exit 2 within the timeout."""
    server = raw_server(handle)
    started = time.monotonic()
    result = run_probe(server.url, "--timeout", "0.5", "--max-requests", "1")
    elapsed = time.monotonic() - started
    # Slack for a loaded CI machine; without the deadline the trickle never ends.
    assert elapsed < 0.5 + 5.0, elapsed
    if handle is header_a_second:
        # The cut-off answer has a status line: it counts as an answer, cut short.
        assert result.exit_code in (0, 1), result.output
        assert "PGP142" in result.output and "no complete answer within 0.5 s" in result.output
    else:
        assert result.exit_code == 2, result.output
        assert "did not answer" in result.stderr and result.stdout == ""
    assert len(server.seen) == 1


#: Answers that are no HTTP/1.x: HTTP/0.9's bare body, another protocol's
#: banner with escapes, a status line without a status, binary noise.
NOT_HTTP = [
    b"<html>Traceback (most recent call last)</html>",
    b"SSH-2.0-OpenSSH_9.2 \x1b]0;owned\x07\x1b[2J\r\n",
    b"HTTP/1.1\r\n\r\n",
    b"\x00\xff\xfe\x1b[31m\x9b\xe2\x80\xae" * 100,
]


@pytest.mark.parametrize("garbage", NOT_HTTP, ids=["http-0.9", "banner", "no-status", "noise"])
def test_an_answer_that_is_no_http_is_no_answer_and_shown_escaped(
    raw_server: Callable[..., RawServer], garbage: bytes
) -> None:
    """Garbage for the URL itself exits 2 ('did not answer', escaped); garbage
    for a later request is PGP142, escaped, and the other requests go on."""

    def first(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
        conn.sendall(garbage)

    def later(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
        conn.sendall(response(404, "missing") if request.target == "/" else garbage)

    result = run_probe(raw_server(first).url, "--max-requests", "3")
    assert result.exit_code == 2 and "did not answer" in result.stderr, result.output
    assert result.stdout == ""
    server = raw_server(later)
    text = run_probe(server.url, "--max-requests", "3")
    for output in (result.output, text.output):
        assert not any(raw in output for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\x00"))
    assert "PGP142" in text.output and len(server.seen) == 3
    assert all(TEXT_LINE.fullmatch(line) for line in text.output.splitlines())


def answers_home_only(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """``/`` answers at once; every other request is taken and never answered."""
    if request.target == "/":
        conn.sendall(response(200))
    else:
        stopping.wait(30)


def test_wall_time_is_bounded_by_timeout_times_requests(
    raw_server: Callable[..., RawServer],
) -> None:
    """A server that stops answering holds the probe --timeout a request, within the budget."""
    server = raw_server(answers_home_only)
    started = time.monotonic()
    data = probe_json(server.url, "--timeout", "0.3", "--max-requests", "6")
    elapsed = time.monotonic() - started
    assert data["requests_sent"] == len(server.seen) == 6
    assert elapsed < 6 * 0.3 + 6.0, elapsed  # slack for a loaded CI machine
    assert "PGP142" in ids(data) and "PGP144" in ids(data)


def redirect_loop(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """Every answer a redirect to the same path: a loop."""
    conn.sendall(response(302, b"", f"Location: {request.target}"))


@pytest.mark.parametrize("budget", ["1", "3", "7", "100000000000000000000"])
def test_redirect_loop_stays_within_the_budget(
    raw_server: Callable[..., RawServer], budget: str
) -> None:
    """A redirect loop costs at most the budget, and at most three requests per probe."""
    server = raw_server(redirect_loop)
    data = probe_json(server.url, "--max-requests", budget)
    assert len(server.seen) == data["requests_sent"] <= min(int(budget), 12 * 3)
    if int(budget) > 36:
        loops = [f for f in data["findings"] if f["id"] == "PGP142"]
        assert loops and "more than 2 redirects" in loops[0]["message"]


@functools.cache
def gzip_bomb_body() -> bytes:
    """About 200 KB of gzip that inflates to 200 MB of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip format
    zeros = bytes(1024 * 1024)
    return b"".join(compressor.compress(zeros) for _ in range(200)) + compressor.flush()


def gzip_bomb(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """A 500 whose gzip body inflates to 200 MB, sent although the probe asked for identity."""
    body = gzip_bomb_body()
    conn.sendall(response(500, body, "Content-Encoding: gzip", "Content-Type: text/html"))


def nested_gzip_bomb(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """The bomb gzipped once more (a few KB), sent as ``gzip, gzip``."""
    body = gzip.compress(gzip_bomb_body())
    conn.sendall(response(500, body, "Content-Encoding: gzip, gzip"))


@pytest.mark.parametrize("handle", [gzip_bomb, nested_gzip_bomb], ids=["bomb", "nested"])
def test_gzip_bomb_inflates_only_up_to_the_body_cap(
    raw_server: Callable[..., RawServer], handle: Handle
) -> None:
    """A body that inflates to 200 MB is inflated to the body cap and no further:
    time and memory stay those of a plain answer, and the cut is said (PGP143)."""
    server = raw_server(handle)
    gzip_bomb_body()  # made before measuring: the server's bytes are not the probe's
    tracemalloc.start()
    try:
        started = time.monotonic()
        report = probe(server.url, delay=0, timeout=5, max_requests=3)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 5
    # Inflated whole, the bomb alone would take 200 MB.
    assert peak < 32 * 1024 * 1024, peak
    assert all(seen.headers["accept-encoding"] == "identity" for seen in server.seen)
    assert report.reached
    assert all(len(e.body) == MAX_BODY_BYTES and e.truncated for e in report.exchanges)
    assert all(e.body == bytes(MAX_BODY_BYTES) for e in report.exchanges)  # inflated
    assert "PGP143" in {f.rule for f in report.findings}


def gzip_traceback(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """Error pages sent gzip-encoded whatever the request asked for (a misconfigured proxy)."""
    if request.method == "POST":
        conn.sendall(response(500, gzip.compress(TRACEBACK.encode()), "Content-Encoding: gzip"))
    else:
        conn.sendall(response(404, gzip.compress(b"missing"), "Content-Encoding: gzip"))


def test_gzip_encoded_traceback_is_found(raw_server: Callable[..., RawServer]) -> None:
    """A traceback in a gzip-encoded 500 page is found as if it were plain."""
    server = raw_server(gzip_traceback)
    assert "PGP111" in ids(probe_json(server.url))


def deflated(data: bytes, wbits: int) -> bytes:
    """``data`` deflated in zlib's format (``wbits`` 15) or raw (-15)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        (deflated(TRACEBACK.encode(), 15), "deflate"),
        (deflated(TRACEBACK.encode(), -15), "deflate"),
        (gzip.compress(TRACEBACK.encode()), "x-gzip"),
        (gzip.compress(TRACEBACK.encode()), "GZIP"),
        (gzip.compress(b"<p>Sorry.</p>") + gzip.compress(TRACEBACK.encode()), "gzip"),
        (gzip.compress(gzip.compress(TRACEBACK.encode())), "gzip, gzip"),
        (gzip.compress(TRACEBACK.encode()) + b"\x00trailing bytes", "identity, gzip"),
    ],
    ids=["zlib", "raw-deflate", "x-gzip", "upper-case", "second-member", "twice", "trailing"],
)
def test_compressed_traceback_is_found_in_every_form(
    raw_server: Callable[..., RawServer], body: bytes, encoding: str
) -> None:
    """deflate (zlib or raw), x-gzip, a later gzip member, two codings: all read."""
    server = raw_server(answer(500, body, f"Content-Encoding: {encoding}"))
    data = probe_json(server.url, "--max-requests", "2")
    assert "PGP111" in ids(data) and "PGP145" not in ids(data), data["findings"]


@pytest.mark.parametrize(
    ("body", "encoding", "message"),
    [
        (b"\x1b\x8b\x02\x80" + TRACEBACK.encode(), "br", "the content coding 'br'"),
        (TRACEBACK.encode(), "zstd", "the content coding 'zstd'"),
        (TRACEBACK.encode(), "gzip", "gzip data that does not decode"),
        (TRACEBACK.encode(), "gzip, gzip, gzip", "3 content codings"),
        (TRACEBACK.encode(), "x\x1b[31m", "the content coding 'x\\x1b[31m'"),
    ],
    ids=["br", "zstd", "not-gzip", "three", "escapes"],
)
def test_unreadable_encoding_is_reported_and_the_body_read_as_it_came(
    raw_server: Callable[..., RawServer], body: bytes, encoding: str, message: str
) -> None:
    """A coding the probe cannot read is a finding (PGP145), never a silent pass;
    the body is still read as it came (a server that only mislabels it is found)."""
    server = raw_server(answer(500, body, f"Content-Encoding: {encoding}"))
    data = probe_json(server.url, "--max-requests", "2")
    unread = [f for f in data["findings"] if f["id"] == "PGP145"]
    assert unread and unread[0]["severity"] == "warning", data["findings"]
    assert unread[0]["message"].startswith(message), unread[0]["message"]
    assert data["requests"][0]["encoding_error"] == unread[0]["message"]
    assert "PGP111" in ids(data)


def test_answer_cut_at_the_body_cap_is_reported(raw_server: Callable[..., RawServer]) -> None:
    """A leak pushed past the 256 KiB read cap is not seen, but the cut is said (PGP143)."""
    body = "x" * (MAX_BODY_BYTES + 10) + TRACEBACK
    server = raw_server(answer(500, body))
    data = probe_json(server.url, "--max-requests", "2")
    assert "PGP143" in ids(data) and "PGP111" not in ids(data)


# -- hostile text: the output cannot be forged -----------------------------------------

#: Escapes, line breaks, bidi and invisible marks, and bytes that are no UTF-8.
FORGERY = (
    "\r\n\x1b[2J\x1b[31m\x9b31mCRITICAL\u2028  PGP101  forged finding\u202e\u2066\u200b\ufeff"
)


def hostile_text(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """Headers, status text, Location and pages full of escapes and invalid UTF-8."""
    if request.target == "/":
        # A same-host redirect whose Location carries the escapes.
        location = "Location: /next\x1b[31m\u00e9\t\x7f"
        conn.sendall(response(302, b"", location))
        return
    body = (
        f"{TRACEBACK}{FORGERY}\n".encode()
        + b"\xff\xfe\xed\xa0\x80\xc0\xaf invalid utf-8 "
        + 'KeyError: \u202e}}]],"x": "</script>\n'.encode()
    )
    head = (
        b"HTTP/1.1 500 \x1b[31mforged\x9b status\r\n"
        b"Server: nginx/1.2.3 \x1b]0;owned\x07\xe2\x80\xae\x85\r\n"
        b"X-Powered-By: PHP/8.1\x1b[0m\xc2\x9b\r\n"
        b"X-Error-ID: \x1b[2J\r\n"
        b"Allow: GET\x1b[31m\x0b\x0c\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    )
    conn.sendall(head + body)


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_hostile_bytes_reach_no_output_raw(
    raw_server: Callable[..., RawServer], output_format: str
) -> None:
    """Escapes, C1, bidi, line separators and bad UTF-8 from a server reach no output raw."""
    server = raw_server(hostile_text)
    result = run_probe(server.url, "--format", output_format, "--error-id-header", "X-None")
    assert result.exit_code == 1, result.output
    output = result.output
    output.encode("utf-8")  # no lone surrogate: every output can be written
    for raw in ("\x1b", "\x07", "\x9b", "\x85", "\u202e", "\u2066", "\u200b", "\ufeff"):
        assert raw not in output, repr(raw)
    for raw in ("\u2028", "\r", "\x0b", "\x0c", "\x7f"):
        assert raw not in output, repr(raw)
    assert not any(
        line.lstrip().startswith(("PGP101", "CRITICAL")) for line in output.splitlines()
    )
    if output_format == "text":
        odd = [line for line in output.splitlines() if not TEXT_LINE.fullmatch(line)]
        assert odd == []
    elif output_format == "sarif":
        schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
        jsonschema.Draft4Validator(schema).validate(json.loads(result.stdout))
    else:
        assert {"PGP111", "PGP122"} <= ids(json.loads(result.stdout))


def redirect_with_odd_location(
    conn: socket.socket, request: Request, stopping: threading.Event
) -> None:
    """``/`` redirects on the same host to a Location with spaces, quotes and escapes."""
    if request.target == "/":
        conn.sendall(response(302, b"", 'Location: /a b/<x>"\x1b[31m?q=1 2'))
    else:
        conn.sendall(response(500, TRACEBACK))


def test_sarif_location_after_a_redirect_is_a_uri(raw_server: Callable[..., RawServer]) -> None:
    """The SARIF location of a finding seen after a redirect is the URI that was asked."""
    server = raw_server(redirect_with_odd_location)
    result = run_probe(server.url, "--format", "sarif", "--max-requests", "2")
    log = json.loads(result.stdout)
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    ]
    asked = "/a%20b/%3Cx%3E%22%1B%5B31m?q=1%202"
    assert [seen.target for seen in server.seen][1] == asked
    assert uris and all(URI.fullmatch(uri) for uri in uris), uris
    # JSON and the text report name the URL asked too.
    data = probe_json(server.url, "--max-requests", "2")
    page = data["requests"][0]
    assert page["url"] == server.url[:-1] + asked and page["redirects"] == [page["url"]]
    text = run_probe(server.url, "--max-requests", "2").output
    assert f"seen in:  GET {server.url[:-1]}{asked} -> 500" in text


#: A URI as RFC 3986 has it: brackets only around an IPv6 host, every other
#: character outside the unreserved and reserved sets percent-encoded.
URI = re.compile(
    r"https?://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::[0-9]+)?"
    r"(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*"
)


@pytest.mark.parametrize(
    "location",
    ["/next?token=Zq8WmX2pLr5tYv7k&x=1", "/" + "b" * 5000, "/100%/x%zz"],
    ids=["redacted", "capped", "bare-percent"],
)
def test_sarif_uri_stays_a_uri_when_redacted_or_capped(
    raw_server: Callable[..., RawServer], location: str
) -> None:
    """A secret redacted from the URL, the cap of a long one, or a stray % leave
    the SARIF location a URI ([REDACTED] and the note of the rest encoded)."""

    def handle(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
        if request.target == "/":
            conn.sendall(response(302, b"", f"Location: {location}"))
        else:
            conn.sendall(response(500, TRACEBACK))

    server = raw_server(handle)
    result = run_probe(server.url, "--format", "sarif", "--max-requests", "2")
    results = json.loads(result.stdout)["runs"][0]["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert uris and all(URI.fullmatch(uri) for uri in uris), uris
    assert "Zq8WmX2pLr5tYv7k" not in result.output
    assert all(len(uri) < 2200 for uri in uris)


# -- redirects: the token never leaves the named host ----------------------------------


@dataclasses.dataclass
class Elsewhere:
    """Servers on other addresses and ports that a redirect may point at."""

    v4: RawServer
    port: RawServer
    v6: RawServer | None

    def all(self) -> list[RawServer]:
        return [s for s in (self.v4, self.port, self.v6) if s is not None]


def ipv6_loopback() -> bool:
    """Whether ::1 can be bound here."""
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture
def elsewhere(raw_server: Callable[..., RawServer]) -> Elsewhere:
    """A server on 127.0.0.2, one on another port of 127.0.0.1 and one on [::1]."""
    ok = answer(200, "elsewhere")
    v6 = raw_server(ok, "::1") if ipv6_loopback() else None
    return Elsewhere(raw_server(ok, "127.0.0.2"), raw_server(ok), v6)


#: Location values that leave the named host; {here}, {v4}, {port} and {v6} are netlocs.
OFF_HOST = {
    "another address": "http://{v4}/console",
    "same host, another port": "http://127.0.0.1:{port}/console",
    "protocol-relative": "//{v4}/console",
    "userinfo good@evil": "http://{here}@{v4}/console",
    "backslash before @": "http://{v4}\\@{here}/console",
    "IPv6 literal": "http://{v6}/console",
    "https on another port": "https://127.0.0.1:{port}/console",
    "file scheme": "file:///etc/passwd",
    "cloud metadata": "http://169.254.169.254/latest/meta-data/",
    "scheme only": "http:{v4}/console",
    "tab in the host": "http://127.0.0.\t2:{v4port}/console",
}
#: Of those, the ones that are a path on the named host after all ("http:x" is relative).
FOLLOWED_ON_THE_HOST = {"scheme only"}


@pytest.mark.parametrize("case", sorted(OFF_HOST))
def test_redirect_off_the_host_is_never_followed(
    raw_server: Callable[..., RawServer], elsewhere: Elsewhere, case: str
) -> None:
    """A Location off the named host and port is not followed; the token goes nowhere else."""
    if "{v6}" in OFF_HOST[case] and elsewhere.v6 is None:
        pytest.skip("no IPv6 loopback here")
    holder: dict[str, str] = {}

    def handle(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
        if request.target == "/":
            conn.sendall(response(302, b"", f"Location: {holder['location']}"))
        else:
            conn.sendall(response(404, "missing"))

    server = raw_server(handle)
    holder["location"] = OFF_HOST[case].format(
        here=server.netloc,
        v4=elsewhere.v4.netloc,
        v4port=elsewhere.v4.port,
        port=elsewhere.port.port,
        v6=elsewhere.v6.netloc if elsewhere.v6 else "",
    )
    result = run_probe(server.url, "--format", "json", "--header", TOKEN_HEADER)
    assert result.exit_code in (0, 1), result.output
    for other in elsewhere.all():
        assert other.seen == [], (case, other.netloc)
    assert all(seen.headers.get("x-deploy-gate") == TOKEN for seen in server.seen)
    data = json.loads(result.stdout)
    if case in FOLLOWED_ON_THE_HOST:
        assert "PGP141" not in ids(data)
    else:
        assert "PGP141" in ids(data)
    assert TOKEN not in result.output


def redirect_loop_same_host(
    conn: socket.socket, request: Request, stopping: threading.Event
) -> None:
    """Same-host redirects forever, on new paths."""
    conn.sendall(response(307, b"", f"Location: /again{len(request.target)}"))


def test_same_host_redirects_are_capped_at_two(raw_server: Callable[..., RawServer]) -> None:
    """Each probe follows at most two same-host redirects, whatever the budget."""
    server = raw_server(redirect_loop_same_host)
    data = probe_json(server.url, "--max-requests", "1000")
    assert data["requests_sent"] == len(server.seen) <= 12 * 3
    follows = [r for r in data["requests"] if r["method"] == "GET" and r["redirects"]]
    assert follows and all(len(r["redirects"]) <= 2 for r in follows)


@pytest.fixture
def tls_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server TLS context for 127.0.0.1 whose self-signed certificate the probe trusts
    (through ``SSL_CERT_FILE``, read when the probe makes its context)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (Debian package openssl)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def downgrade(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """Over TLS, ``/`` redirects to plain http on the same host and port."""
    if request.tls and request.target == "/":
        port = conn.getsockname()[1]
        conn.sendall(response(302, b"", f"Location: http://127.0.0.1:{port}/home"))
    else:
        conn.sendall(response(200, "home"))


def test_https_probe_reaches_the_tls_server(
    raw_server: Callable[..., RawServer], tls_context: ssl.SSLContext
) -> None:
    """The TLS set-up of the downgrade test works: an https URL is probed over TLS."""
    server = raw_server(answer(404, "missing"), tls=tls_context)
    data = probe_json(f"https://127.0.0.1:{server.port}/", "--max-requests", "2")
    assert data["requests"][0]["status"] == 404
    assert server.seen and all(seen.tls for seen in server.seen)


def test_https_to_http_downgrade_never_carries_the_token(
    raw_server: Callable[..., RawServer], tls_context: ssl.SSLContext
) -> None:
    """A redirect from https to http on the same host and port is not followed."""
    server = raw_server(downgrade, tls=tls_context)
    result = run_probe(
        f"https://127.0.0.1:{server.port}/", "--header", TOKEN_HEADER, "--max-requests", "3"
    )
    assert result.exit_code in (0, 1), result.output
    assert server.seen[0].tls
    plain = [seen for seen in server.seen if not seen.tls]
    assert [seen.headers.get("x-deploy-gate") for seen in plain] == []


# -- the options -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--timeout", "0"),
        ("--timeout", "-1"),
        ("--delay", "-1"),
        ("--max-requests", "0"),
        ("--max-requests", "-5"),
        ("--max-requests", "2.5"),
        pytest.param(
            "--timeout",
            "inf",
            marks=(),
        ),
        pytest.param(
            "--timeout",
            "1e12",
            marks=(),
        ),
        pytest.param(
            "--timeout",
            "nan",
            marks=(),
        ),
        pytest.param(
            "--delay",
            "inf",
            marks=(),
        ),
        pytest.param(
            "--delay",
            "nan",
            marks=(),
        ),
    ],
)
def test_bad_budget_delay_or_timeout_is_a_usage_error(
    raw_server: Callable[..., RawServer], option: str, value: str
) -> None:
    """A senseless budget, delay or timeout exits 2 naming the option, before any request."""
    server = raw_server(answer(200))
    # A subprocess: a crash leaves a timer thread that raised and a socket never
    # closed, which pytest would pin on whichever test runs next.
    result = subprocess.run(
        [PYTHON, "-m", "flask_prodguard", "probe", server.url, option, value],
        capture_output=True,
        text=True,
        timeout=60,
        env=server_environ(),
    )
    assert result.returncode == 2, result.stdout + result.stderr[-3000:]
    assert f"Invalid value for '{option}'" in result.stderr
    assert server.seen == []


# -- the URL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://alice:Pa55w0rdZZ@127.0.0.1:9/",
        "https://:Pa55w0rdZZ@127.0.0.1:9/",
        "http://Pa55w0rdZZ@127.0.0.1:9/",
        "javascript:alert('Pa55w0rdZZ')",
        "file:///etc/Pa55w0rdZZ",
        "gopher://127.0.0.1:9/_Pa55w0rdZZ",
        "http://alice:Pa55w0rdZZ@[::1x]/",
        "http://alice:Pa55w0rdZZ@127.0.0.1:99999/",
    ],
)
def test_credentials_and_other_schemes_are_refused_unprinted(url: str) -> None:
    """Userinfo, non-http schemes and a bad IPv6 literal exit 2 and never echo the URL."""
    result = CliRunner().invoke(prodguard, ["probe", url])
    assert result.exit_code == 2, result.output
    assert "Pa55w0rdZZ" not in result.output
    assert "Invalid value for URL" in result.output


def test_url_with_line_breaks_injects_no_header(raw_server: Callable[..., RawServer]) -> None:
    """CR, LF and tab in the URL never reach the request as a header or a second line."""
    server = raw_server(answer(200))
    port = server.port
    result = run_probe(
        f"http://127.0.0.1:{port}/a b\r\nX-Injected: 1\r\n\tc/", "--max-requests", "3"
    )
    assert result.exit_code in (0, 1), result.output
    for seen in server.seen:
        assert "x-injected" not in seen.headers
        assert seen.raw.split(b"\r\n", 1)[0].count(b" ") == 2, seen.raw[:200]
    assert "\r" not in result.output


def test_query_and_fragment(raw_server: Callable[..., RawServer]) -> None:
    """The fragment is never sent, and the query (possibly a key) is not printed."""
    server = raw_server(answer(404, "missing"))
    result = run_probe(server.url + "shop/?gate=" + TOKEN + "#frag", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert all("#" not in seen.target and "frag" not in seen.target for seen in server.seen)
    assert TOKEN not in result.output


def test_query_is_not_printed_when_the_url_does_not_answer() -> None:
    """A URL that does not answer is named without its query."""
    (port,) = free_ports(1)
    result = run_probe(f"http://127.0.0.1:{port}/shop/?gate={TOKEN}")
    assert result.exit_code == 2
    assert TOKEN not in result.output


def test_very_long_url_is_capped_in_every_output(raw_server: Callable[..., RawServer]) -> None:
    """A 20 KiB URL is sent as given but shown cut short, in text and JSON."""
    server = raw_server(answer(404, "missing"))
    url = server.url + "a" * 20_000 + "/"
    text = run_probe(url, "--max-requests", "4")
    assert text.exit_code in (0, 1), text.output
    assert max(len(line) for line in text.output.splitlines()) < 1000
    data = probe_json(url, "--max-requests", "4")
    assert len(data["url"]) < 2200
    assert all(len(r["url"]) < 2200 for r in data["requests"])
    assert server.seen[0].target == "/" + "a" * 20_000 + "/"


def test_ipv6_literal_is_probed(raw_server: Callable[..., RawServer]) -> None:
    """http://[::1]:PORT/ is probed with a bracketed Host header."""
    if not ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    server = raw_server(answer(404, "missing"), "::1")
    data = probe_json(server.url, "--max-requests", "3")
    assert data["requests"][0]["status"] == 404
    assert {seen.headers["host"] for seen in server.seen} == {server.netloc}


def test_port_zero_is_refused() -> None:
    """http://127.0.0.1:0/ names no port anything listens on: a usage error."""
    with pytest.raises(ValueError, match="port"):
        Target.parse("http://127.0.0.1:0/")


# -- false negatives -------------------------------------------------------------------

DEBUGGER_UNDER_PREFIX = """\
import os

from flask import Flask
from werkzeug.debug import DebuggedApplication
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

shop = Flask("shop")


@shop.get("/")
def index():
    return "shop"


root = Flask("root")


@root.get("/")
def home():
    return "home"


app = DispatcherMiddleware(root, {"/app": DebuggedApplication(shop, evalex=True)})
run_simple("127.0.0.1", int(os.environ["APP_PORT"]), app)
"""


def page_answers(port: int) -> bool:
    """Whether the server answers ``GET /``."""
    raw, _ = send_and_receive(port, b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", 5.0)
    return raw.startswith(b"HTTP/1.0 200") or raw.startswith(b"HTTP/1.1 200")


@pytest.fixture(scope="module")
def debugger_under_prefix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The Werkzeug debugger wrapped around an app mounted at /app, on the dev server."""
    directory = tmp_path_factory.mktemp("prefix")
    (directory / "serve.py").write_text(DEBUGGER_UNDER_PREFIX)
    (port,) = free_ports(1)
    process = start_process(
        [PYTHON, "serve.py"],
        directory,
        directory / "serve.log",
        server_environ(APP_PORT=str(port)),
    )
    try:
        process.wait_for(lambda: page_answers(port), "dev server ready")
        yield port
    finally:
        process.stop()
        print(process.output())


@pytest.mark.server
def test_console_under_a_prefix_is_found(debugger_under_prefix: int) -> None:
    """Probing the mount point with its slash finds the console under it."""
    data = probe_json(f"http://127.0.0.1:{debugger_under_prefix}/app/")
    assert {"PGP101", "PGP103"} <= ids(data)


@pytest.mark.server
def test_console_under_a_prefix_without_slash_is_found(debugger_under_prefix: int) -> None:
    """Probing the mount point without its slash still finds the console under it."""
    data = probe_json(f"http://127.0.0.1:{debugger_under_prefix}/app")
    assert "PGP101" in ids(data)
    assert data["directory"] == f"http://127.0.0.1:{debugger_under_prefix}/app/"


@pytest.mark.parametrize(
    ("redirect", "directory"),
    [("/shop/", "/shop/"), ("/shop/?next=1", "/shop/"), (None, "/"), ("/login", "/")],
    ids=["slash-added", "slash-and-query", "no-redirect", "elsewhere"],
)
def test_paths_go_under_the_url_only_when_it_adds_its_slash(
    raw_server: Callable[..., RawServer], redirect: str | None, directory: str
) -> None:
    """/shop is a mount point when it redirects to /shop/ (the probe's paths go
    under it), not when it answers or redirects elsewhere; the text report says which."""

    def handle(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
        if request.target == "/shop" and redirect is not None:
            conn.sendall(response(308, b"", f"Location: {redirect}"))
        else:
            conn.sendall(response(404 if request.target != "/shop" else 200, "x"))

    server = raw_server(handle)
    data = probe_json(server.url + "shop")
    assert data["directory"] == server.url[:-1] + directory
    consoles = [seen.target for seen in server.seen if seen.target.endswith("onsole")]
    assert consoles == [f"{directory}console", f"{directory}%63onsole"]
    text = run_probe(server.url + "shop", "--max-requests", "2").output
    assert text.splitlines()[0].endswith(f", paths under {server.url[:-1]}{directory}")


def rpc_traceback(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """A JSON-RPC style API: every answer is 200, errors carry the traceback in JSON."""
    if request.method == "POST":
        body = json.dumps({"jsonrpc": "2.0", "error": {"code": -32700, "data": TRACEBACK}})
        conn.sendall(response(200, body, "Content-Type: application/json"))
    else:
        conn.sendall(response(200, '{"jsonrpc": "2.0", "result": null}'))


def test_traceback_in_a_200_answer_to_malformed_json_is_found(
    raw_server: Callable[..., RawServer],
) -> None:
    """A traceback in the 200 answer to the malformed JSON POST is found."""
    server = raw_server(rpc_traceback)
    assert "PGP111" in ids(probe_json(server.url))


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (json.dumps({"error": TRACEBACK}), "PGP111"),
        (json.dumps({"error": TRACEBACK}, ensure_ascii=True, indent=2), "PGP111"),
        (json.dumps({"detail": TRACEBACK.splitlines()}), "PGP111"),
        (
            json.dumps(
                {
                    "exception": [
                        {
                            "exc_type": "KeyError",
                            "exc_value": "'user'",
                            "frames": [{"filename": "/srv/shop/views.py", "lineno": 12}],
                        }
                    ]
                }
            ),
            "PGP112",
        ),
        (
            "<pre>Traceback (most recent call last):\n  File &#34;/srv/app.py&#34;, line 3,"
            " in &lt;module&gt;</pre>",
            "PGP111",
        ),
        ("<p>File &#x22;/srv/shop/views.py&#x22;, line 12</p>", "PGP112"),
        ("╭─── Traceback (most recent call last) ───╮", "PGP111"),
        ("  + Exception Group Traceback (most recent call last):", "PGP111"),
    ],
)
def test_tracebacks_in_json_and_escaped_html_are_found(
    raw_server: Callable[..., RawServer], body: str, rule: str
) -> None:
    """Tracebacks in JSON, structlog frames, entity-escaped HTML, rich or groups are found."""
    server = raw_server(answer(500, body))
    assert rule in ids(probe_json(server.url, "--max-requests", "2"))


@pytest.mark.parametrize(
    "header",
    [
        "Via: 1.1 shop.test (Apache/2.4.62)",
        "X-AspNet-Version: 4.0.30319",
        "X-Powered-By: Flask/3.1.3",
        "Server: gunicorn/23.0.0",
    ],
)
def test_version_in_a_header_is_found(
    raw_server: Callable[..., RawServer], header: str
) -> None:
    """A version in a response header is PGP122."""
    server = raw_server(answer(404, "missing", header))
    assert "PGP122" in ids(probe_json(server.url, "--max-requests", "2"))


# -- false positives -------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        "<p>When Python fails it prints Traceback (most recent call last): and a KeyError:"
        " see /usr/lib/python3/dist-packages/flask/app.py</p>",
        "<h1>Werkzeug</h1><p>Werkzeug/3.1 and Flask/3.1 docs; gunicorn, waitress, jinja2.</p>",
    ],
)
def test_a_normal_page_about_tracebacks_or_werkzeug_is_no_finding(
    raw_server: Callable[..., RawServer], page: str
) -> None:
    """A 200 docs page that talks about tracebacks or Werkzeug shows nothing above info."""

    def handle(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
        if request.method == "GET" and request.target == "/":
            conn.sendall(response(200, page))
        else:
            conn.sendall(response(404, "missing", "X-Error-ID: 0123456789abcdef"))

    server = raw_server(handle)
    data = probe_json(server.url, "--fail-level", "warning")
    assert above_info(data) == set(), data["findings"]
    assert data["exit_code"] == 0


def echo_user_agent(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """A 404 page that names the browser, with an error id: a clean app."""
    agent = request.headers.get("user-agent", "")
    body = f"<p>Not found. Your browser ({agent}) is welcome to try the home page.</p>"
    conn.sendall(response(404, body, "X-Error-ID: 0123456789abcdef"))


def test_echoed_user_agent_is_no_finding(raw_server: Callable[..., RawServer]) -> None:
    """A 404 that echoes the probe's User-Agent names no framework."""
    server = raw_server(echo_user_agent)
    data = probe_json(server.url, "--fail-level", "warning")
    assert above_info(data) == set(), data["findings"]


def echo_path(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """A 404 that says which path is missing (Express, Apache 2.2, many apps), with an id."""
    body = f"<p>Cannot {request.method} {request.target}</p>"
    conn.sendall(response(404, body, "X-Error-ID: 0123456789abcdef"))


@pytest.mark.parametrize(
    ("path", "rule"),
    [("flask-shop/", "PGP114"), ("docs/serve.py/", "PGP112")],
)
def test_echoed_path_is_no_finding(
    raw_server: Callable[..., RawServer], path: str, rule: str
) -> None:
    """A 404 that echoes the requested path does not make the operator's URL a leak."""
    server = raw_server(echo_path)
    data = probe_json(server.url + path, "--fail-level", "warning")
    assert rule not in ids(data), data["findings"]


def echo_headers(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
    """An unguarded 500 page that dumps the request's headers next to the traceback."""
    gate = request.headers.get("x-deploy-gate", "")
    conn.sendall(response(500, f"Traceback (most recent call last): gate={gate} {TRACEBACK}"))


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_reflected_header_value_is_never_printed(
    raw_server: Callable[..., RawServer], output_format: str
) -> None:
    """A --header value the server reflects into its page is not shown as evidence."""
    server = raw_server(echo_headers)
    result = run_probe(server.url, "--header", TOKEN_HEADER, "--format", output_format)
    assert result.exit_code == 1, result.output
    assert TOKEN not in result.output


def gate(request: Request) -> str:
    """The --header value a request carried (what a hostile server reflects)."""
    return request.headers.get("x-deploy-gate", "")


#: Answers that reflect the token where no body is: in a redirect's Location
#: (off the host, or on it, so that the URL asked next holds it), in a status
#: line or protocol that http.client quotes in its error, in Content-Encoding
#: and Allow, and lower-cased.
REFLECTIONS: dict[str, Callable[[Request], bytes]] = {
    "off-host location": lambda r: response(
        302, b"", f"Location: http://127.0.0.2:9/?t={gate(r)}"
    ),
    "same-host location": lambda r: (
        response(302, b"", f"Location: /next/{gate(r)}?t={gate(r)}")
        if r.target == "/"
        else response(500, TRACEBACK)
    ),
    "status line": lambda r: f"HTTP/1.1 2x0 {gate(r)}\r\n\r\n".encode(),
    "protocol": lambda r: f"HTTP/{gate(r)} 200 OK\r\n\r\n".encode(),
    "later status line": lambda r: (
        response(404, "missing") if r.target == "/" else f"HTTP/1.1 {gate(r)}\r\n\r\n".encode()
    ),
    "content-encoding": lambda r: response(500, "x", f"Content-Encoding: {gate(r)}"),
    "allow": lambda r: response(200, "ok", f"Allow: GET, {gate(r)}"),
    "lower-cased": lambda r: response(
        500, f"Traceback (most recent call last): gate={gate(r).lower()} {TRACEBACK}"
    ),
}


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
@pytest.mark.parametrize("case", sorted(REFLECTIONS))
def test_token_reflected_outside_the_body_is_never_printed(
    raw_server: Callable[..., RawServer], case: str, output_format: str
) -> None:
    """A --header value reflected in a Location, a status line, a header or
    lower-cased is in no output, not even the 'did not answer' line."""

    def handle(conn: socket.socket, request: Request, stopping: threading.Event) -> None:
        conn.sendall(REFLECTIONS[case](request))

    server = raw_server(handle)
    result = run_probe(
        server.url, "--header", TOKEN_HEADER, "--format", output_format, "--max-requests", "6"
    )
    assert server.seen and gate(server.seen[0]) == TOKEN
    assert TOKEN.lower() not in result.output.lower()


# -- the Apache file: values that reach it ---------------------------------------------


def deploy_config(*args: str) -> Result:
    """Run ``prodguard deploy-config`` in-process."""
    return CliRunner().invoke(prodguard, ["deploy-config", *args], catch_exceptions=False)


def apache_syntax(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``apache2 -t`` on a minimal configuration including the file for ``options``."""
    site = tmp_path / "site"
    result = deploy_config(
        "--target", "apache", "--name", "shop", "--output", str(site), *options
    )
    assert result.exit_code == 0, result.output
    conf = apache_conf(tmp_path / "apache", site / "shop.apache.conf")
    return subprocess.run(apache_argv(conf, "-t"), capture_output=True, text=True, timeout=30)


#: deploy-config's defaults for --target apache, as settings_from_options takes them.
DEFAULT_OPTIONS: dict[str, Any] = {
    "app": None,
    "name": "shop",
    "bind": "127.0.0.1:8000",
    "workers": None,
    "threads": None,
    "server_name": "_",
    "listen": "80",
    "user": None,
    "directory": None,
    "venv": None,
    "log_dir": "/var/log/supervisor",
    "behind_proxy": True,
}
#: A host name of 253 characters, labels of 63: the longest DNS (and Apache) takes.
LONGEST_NAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])


@pytest.mark.parametrize(
    "options",
    [
        ["--server-name", "*.example.com www.example.com"],
        ["--server-name", "*.example.com"],
        ["--server-name", "* *.example.com"],
        ["--server-name", "shop*.example.com example.com"],
        ["--server-name", "example.com:8080 www.example.com *.example.com"],
        ["--server-name", "*.example.com example.com:65535"],
        ["--server-name", "my_host.example.com"],
        ["--server-name", "192.0.2.10:8443"],
        ["--server-name", LONGEST_NAME],
        ["--server-name", f"{LONGEST_NAME}:1 a.test"],
        ["--bind", f"{LONGEST_NAME}:8000"],
        ["--bind", "localhost:65535"],
        ["--bind", "[::ffff:127.0.0.1]:8001"],
        ["--listen", "[::1]:8080"],
        ["--listen", "localhost:1"],
        ["--listen", "127.0.0.1:65535"],
    ],
)
def test_values_deploy_config_accepts_apache_accepts(
    tmp_path: Path, options: list[str]
) -> None:
    """What deploy-config accepts for Apache (wildcards first, ports, the longest
    names), apache2 -t accepts too; a wildcard is never the ServerName."""
    result = apache_syntax(tmp_path, *options)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "site" / "shop.apache.conf").read_text()
    names = [
        line.split()
        for line in text.splitlines()
        if line.startswith(("    ServerName ", "    ServerAlias "))
    ]
    assert not any("*" in words[1] for words in names if words[0] == "ServerName")
    if options[0] == "--server-name":
        given = options[1].split()
        assert sorted(word for words in names for word in words[1:]) == sorted(given)


#: Values Apache refuses or never matches, what deploy-config says, and what
#: apache2 -t says of the file written without the check (None: it takes it).
REFUSED_FOR_APACHE = [
    ("--server-name", "[::1]", "an IPv6 literal", 'Invalid ServerName "[::1]"'),
    ("--server-name", "::1", "an IPv6 literal", "outside the appropriate range"),
    ("--server-name", "example.com:99999", "a port is 1 to 65535", "appropriate range"),
    ("--server-name", "example.com:0", "a port is 1 to 65535", "appropriate range"),
    ("--server-name", "a:b", "a port is 1 to 65535", "outside the appropriate range"),
    ("--server-name", "a.test b.test:8080", "ServerAlias without the request's port", None),
    ("--server-name", "*.a.test:8080 a.test", "ServerAlias without the request's port", None),
    ("--server-name", "a" * 254, "at most 253 characters", None),
    ("--server-name", "a" * 64 + ".test", "at most 63 characters", None),
    ("--server-name", "a..test", "no empty label", None),
    ("--server-name", "a.test.", "no empty label", None),
    ("--bind", "a" * 300 + ":8000", "at most 253 characters", "too long"),
    ("--bind", "a" * 64 + ".test:8000", "at most 63 characters", None),
    ("--bind", "127.0.0.1:²", "PORT is 1 to 65535", None),
    ("--bind", "[1.2.3.4]:8000", "is an IPv6 address", None),
    ("--bind", "1:2:8000", "is an IPv6 address", None),
    ("--bind", "127.0.0.999:8000", "is an IPv4 address", None),
    ("--listen", "[:::::]:8080", "is an IPv6 address", "Invalid address or port"),
    ("--listen", "[1.2.3.4]:8080", "is an IPv6 address", "Invalid address or port"),
    ("--listen", "1.2.3.999:8080", "is an IPv4 address", "Listen setup failed"),
    ("--listen", "...:8080", "no empty label", "Listen setup failed"),
]


@pytest.mark.parametrize(("option", "value", "message", "apache_says"), REFUSED_FOR_APACHE)
def test_values_apache_refuses_exit_2_naming_the_form(
    option: str, value: str, message: str, apache_says: str | None
) -> None:
    """A name, address or port Apache refuses (or never matches) exits 2 naming
    the option, why, and the form it takes."""
    result = deploy_config("--target", "apache", option, value)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    error = " ".join(result.stderr.split())
    assert f"Invalid value for {option}: " in error, error
    assert message in error and "e.g." in error, error
    assert value not in error or len(value) <= 80  # a long value is cut short


@pytest.mark.parametrize(
    ("option", "value", "message", "apache_says"),
    [case for case in REFUSED_FOR_APACHE if case[3] is not None],
)
def test_what_is_refused_is_what_apache_refuses(
    tmp_path: Path, option: str, value: str, message: str, apache_says: str
) -> None:
    """The file written with such a value, the check skipped, fails apache2 -t:
    the refusal only says earlier what Apache would say."""
    site = tmp_path / "shop.apache.conf"
    settings = deploy.settings_from_options("apache", **DEFAULT_OPTIONS)
    field = {"--server-name": "server_name", "--listen": "listen", "--bind": "host"}[option]
    raw = value.rpartition(":")[0].strip("[]") if option == "--bind" else value
    site.write_text(deploy.render_apache(dataclasses.replace(settings, **{field: raw})))
    conf = apache_conf(tmp_path / "apache", site)
    result = subprocess.run(apache_argv(conf, "-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and apache_says in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--name", "shop\nProxyPass / http://evil.test/"),
        ("--name", "shop Include"),
        ("--name", "../../etc/apache2/apache2"),
        ("--bind", "unix:/run/shop.sock"),
        ("--bind", "[::1]:8000\nProxyPass / http://evil.test/"),
        ("--bind", "127.0.0.1:8000 evil"),
        ("--bind", "127.0.0.1:8000#"),
        ("--bind", '127.0.0.1:8000"'),
        ("--listen", "127.0.0.1:80\\"),
        ("--listen", "[::1]:80>"),
        ("--listen", "8080 "),
        ("--server-name", "a.test\\"),
        ("--server-name", "a.test%{HTTP_HOST}"),
        ("--server-name", "a.test b.test\\\nInclude /etc/passwd"),
        ("--server-name", "a.test  b.test"),
        ("--server-name", " a.test"),
    ],
)
def test_directive_injection_through_every_option_is_refused(option: str, value: str) -> None:
    """A value that could end, continue, quote, comment or close a directive exits 2."""
    result = deploy_config("--target", "apache", option, value)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"Invalid value for {option}" in result.stderr


@pytest.mark.parametrize("option", ["--directory", "--venv", "--log-dir"])
def test_paths_never_reach_the_apache_file(tmp_path: Path, option: str) -> None:
    """A path option, even one naming directives, never reaches the Apache file."""
    odd = tmp_path / "x Include evil.conf ServerName evil"
    odd.mkdir()
    result = apache_syntax(tmp_path, option, str(odd))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "site" / "shop.apache.conf").read_text()
    assert "evil" not in text


@pytest.mark.parametrize(
    "options",
    [
        ["--bind", "[::1]:8001", "--listen", "[::1]:8080"],
        ["--bind", "::1:8001"],
        ["--bind", "[::]:8001"],
        ["--server-name", "_"],
        ["--server-name", "example.com *.example.com www.example.com"],
    ],
    ids=["ipv6-bracketed", "ipv6-bare", "ipv6-wildcard", "no-name", "aliases"],
)
def test_apache_accepts_ipv6_and_wildcard_forms(tmp_path: Path, options: list[str]) -> None:
    """IPv6 binds (bracketed, bare, wildcard), no name and wildcard aliases pass apache2 -t."""
    result = apache_syntax(tmp_path, *options)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "site" / "shop.apache.conf").read_text()
    assert 'ProxyPass "/" "http://[::1]:8001/"' in text or "--bind" not in options


# -- the Apache file in front of a guarded app -----------------------------------------

#: The "remote" client: another loopback address than Apache's own.
CLIENT_IP = "127.0.0.5"

WHOAMI_APP = """\
\"\"\"A guarded app that says what it believes about each request.\"\"\"

from flask import Flask
from flask import request

from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)


@app.route("/whoami", methods=["GET", "POST"])
def whoami():
    return {
        "remote_addr": request.remote_addr,
        "scheme": request.scheme,
        "host": request.host,
        "url": request.url,
        "script_root": request.script_root,
        "headers": {name.lower(): value for name, value in request.headers.items()},
        "body_length": len(request.get_data()),
    }


ProdGuard(app)
"""


@dataclasses.dataclass
class Deployment:
    """The guarded app on gunicorn, and Apache with the generated file in front."""

    app_port: int
    apache_port: int


@pytest.fixture(scope="module")
def apache_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The whoami app on gunicorn, trusting one proxy, behind deploy-config's Apache file."""
    tmp_path = tmp_path_factory.mktemp("redteam-apache")
    (tmp_path / "app.py").write_text(WHOAMI_APP)
    app_port, apache_port = free_ports(2)
    result = deploy_config(
        "--target", "apache", "--name", "shop", "--output", str(tmp_path / "site"),
        "--bind", f"127.0.0.1:{app_port}", "--listen", f"127.0.0.1:{apache_port}",
        "--server-name", "example.test",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    conf = apache_conf(tmp_path / "apache", tmp_path / "site" / "shop.apache.conf")
    # As the generated systemd unit runs it: flask prodguard serve, so gunicorn
    # trusts no proxy header itself (its own defaults trust 127.0.0.1).
    serve = [FLASK, "--app", "app", "prodguard", "serve", "--server", "gunicorn"]
    serve += ["--bind", f"127.0.0.1:{app_port}", "--workers", "1"]
    env = server_environ(PRODGUARD_ENV="production", PRODGUARD_TRUSTED_PROXIES="1")
    started: list[Process] = []
    try:
        app = start_process(serve, tmp_path, tmp_path / "app.log", env)
        started.append(app)
        app.wait_for(lambda: fetch(app_port, get("/whoami")).status == 200, "app ready")
        apache = start_process(
            apache_argv(conf, "-DFOREGROUND"),
            tmp_path,
            tmp_path / "apache.log",
            server_environ(),
        )
        started.append(apache)
        apache.wait_for(
            lambda: fetch(apache_port, get("/whoami")).status == 200, "apache ready"
        )
        yield Deployment(app_port, apache_port)
    finally:
        for process in reversed(started):
            process.stop()
            print(process.output())


@dataclasses.dataclass
class Answer:
    """A response read byte for byte."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def get(
    target: str,
    headers: list[tuple[str, str]] | None = None,
    method: str = "GET",
    host: str = "example.test",
) -> bytes:
    """An HTTP/1.0 request for ``target`` with ``headers`` as given."""
    lines = [f"{method} {target} HTTP/1.0", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def fetch(port: int, request: bytes, source: str = "127.0.0.1") -> Answer:
    """Send ``request`` to 127.0.0.1:``port`` from ``source``; the answer, read to EOF."""
    raw, ending = send_and_receive(port, request, 10.0, source=source)
    if ending != "eof" or not raw.startswith(b"HTTP/"):
        raise ConnectionError(f"{ending}, no complete response: {raw[:200]!r}")
    head, _, body = raw.partition(b"\r\n\r\n")
    status, headers = parse_head(head)
    return Answer(status, headers, body)


#: Forwarding headers besides the X-Forwarded-* set tests/test_apache.py already forges.
FORGED = [
    ("Forwarded", "for=6.6.6.6;proto=https;host=evil.test"),
    ("X-Forwarded-Server", "evil.test"),
    ("X-Forwarded-Scheme", "https"),
    ("X-Forwarded-Ssl", "on"),
    ("Front-End-Https", "on"),
    ("X-Url-Scheme", "https"),
    ("X-Original-URL", "/admin"),
    ("X-Rewrite-URL", "/admin"),
    ("X-Forwarded-For", "6.6.6.6"),
    ("X-Forwarded-For", "7.7.7.7"),
    ("X-Forwarded-Host", "evil.test"),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Port", "443"),
    ("X-Forwarded-Prefix", "/evil"),
    ("X-Real-IP", "6.6.6.6"),
]


@pytest.mark.server
def test_forged_forwarding_headers_change_nothing_the_app_believes(
    apache_deployment: Deployment,
) -> None:
    """Forged forwarding headers leave client, scheme, host and prefix as Apache saw them."""
    seen = fetch(apache_deployment.apache_port, get("/whoami", FORGED), CLIENT_IP).json()
    assert seen["remote_addr"] == CLIENT_IP
    assert seen["scheme"] == "http"
    assert seen["host"] == f"example.test:{apache_deployment.apache_port}"
    assert seen["url"] == f"http://example.test:{apache_deployment.apache_port}/whoami"
    assert seen["script_root"] == ""
    headers = seen["headers"]
    assert headers["x-forwarded-for"] == CLIENT_IP and headers["x-real-ip"] == CLIENT_IP
    assert headers["x-forwarded-host"] == "example.test"
    assert headers["x-forwarded-proto"] == "http"
    assert "x-forwarded-prefix" not in headers


@pytest.mark.server
def test_host_header_reaches_the_app_as_the_client_sent_it(
    apache_deployment: Deployment,
) -> None:
    """The app sees the client's Host (as behind nginx), never a forged X-Forwarded-Host."""
    request = get("/whoami", [("X-Forwarded-Host", "evil.test")], host="other.test")
    seen = fetch(apache_deployment.apache_port, request, CLIENT_IP).json()
    assert seen["host"] == f"other.test:{apache_deployment.apache_port}"
    assert seen["headers"]["x-forwarded-host"] == "other.test"


@pytest.mark.server
def test_forged_forwarded_header_never_reaches_the_app(apache_deployment: Deployment) -> None:
    """A client's Forwarded header is dropped by Apache."""
    seen = fetch(apache_deployment.apache_port, get("/whoami", FORGED), CLIENT_IP).json()
    assert "forwarded" not in seen["headers"], seen["headers"]


@pytest.mark.server
@pytest.mark.parametrize(
    "length", ["99999999999999999999", "16777217", "-1", "1e9", "0x1000000"]
)
def test_absurd_content_length_never_reaches_the_app(
    apache_deployment: Deployment, length: str
) -> None:
    """An oversized, overflowing, negative or non-numeric Content-Length stops at Apache."""
    request = get("/whoami", [("Content-Length", length)], method="POST")
    reply = fetch(apache_deployment.apache_port, request + b"x" * 16, CLIENT_IP)
    assert reply.status in (400, 413), (reply.status, reply.body[:300])
    assert b"remote_addr" not in reply.body


@pytest.mark.server
def test_probe_through_apache_sees_only_apache(apache_deployment: Deployment) -> None:
    """The probe, through the Apache file to the guarded app, finds nothing above info."""
    data = probe_json(
        f"http://127.0.0.1:{apache_deployment.apache_port}/whoami", "--fail-level", "warning"
    )
    assert above_info(data) == set(), data["findings"]
    assert "PGP131" in ids(data)
