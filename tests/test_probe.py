"""``flask prodguard probe URL``: a deployment seen from outside, on real servers.

One shop app, written to ``tmp_path``, reads its order JSON by hand (a
malformed body raises) and sets ``PROPAGATE_EXCEPTIONS``. Unguarded, it runs
on the Werkzeug development server with the debugger (``run_simple(...,
use_debugger=True, use_evalex=True)``), on gunicorn and on waitress with
``expose_tracebacks=True``, and the probe must name what each one gives away.
Guarded (``ProdGuard(app)``, ``PRODGUARD_ENV=production``), on the same
servers and behind deploy-config's nginx and Apache files, it must find
nothing above ``info``; only the development server stays visible when
nothing hides its ``Server`` header.

gunicorn does not show a propagated exception to the client (its own 500
page is empty): what the probe sees there is the missing error id and the
500 for malformed input, and the tests say so.

The rest runs against small servers started here on 127.0.0.1 that misbehave
on purpose (redirects everywhere or to another host, endless or trickling
answers, control characters in headers and pages): the request budget, the
redirect rule, ``--header``, the size cap, the deadline and the escaping of
what is printed.
"""

from __future__ import annotations

import dataclasses
import getpass
import http.client
import inspect
import json
import os
import re
import shlex
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from click.testing import Result
from flask_prodguard.__main__ import cli
from flask_prodguard.checks import Severity
from flask_prodguard.tools.cli import prodguard
from flask_prodguard.tools.probe import DEFAULT_ERROR_ID_HEADERS
from flask_prodguard.tools.probe import MAX_BODY_BYTES
from flask_prodguard.tools.probe import RULES
from flask_prodguard.tools.probe import Exchange
from flask_prodguard.tools.probe import Target
from flask_prodguard.tools.probe import findings
from flask_prodguard.tools.probe import plan
from flask_prodguard.tools.probe import probe
from flask_prodguard.wsgi.pages import render_html
from flask_prodguard.wsgi.pages import render_problem
from flask_prodguard.wsgi.pages import standard_description
from flask_prodguard.wsgi.pages import standard_title
from werkzeug.exceptions import default_exceptions

from servers import WAITRESS_EXPOSE_TRACEBACKS_SOURCE
from servers import Process
from servers import Server
from servers import apache_argv
from servers import apache_conf
from servers import free_ports
from servers import gunicorn_extra_options
from servers import require_program
from servers import server_environ
from servers import start_on_free_port
from servers import start_process

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-2.1.0-rtm.5.json"
CHECKS_PAGE = ROOT / "docs" / "checks.rst"
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))

# -- the shop app ----------------------------------------------------------------------

APP_SOURCE = '''\
"""A shop whose order endpoint reads JSON by hand (tests/test_probe.py)."""

import json

from flask import Flask
from flask import request

app = Flask(__name__)
app.config.update(
    SECRET_KEY="6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
    PROPAGATE_EXCEPTIONS=True,
)


@app.route("/", methods=["GET", "POST"])
def index():
    if request.method == "POST":
        # A malformed body raises here: an unhandled exception.
        return {"order": json.loads(request.get_data())}
    return "hello"
'''

GUARD_SOURCE = """
from flask_prodguard import ProdGuard

ProdGuard(app)
"""

DEV_SERVER_SOURCE = """\
import os

from werkzeug.serving import run_simple

from app import app

run_simple("127.0.0.1", int(os.environ["APP_PORT"]), app, use_debugger=True, use_evalex=True)
"""


def dev_server_command(port: int) -> list[str]:
    return [PYTHON, "dev_server.py"]


def gunicorn_command(port: int) -> list[str]:
    return [GUNICORN, "--bind", f"127.0.0.1:{port}", "--workers", "1"] + [
        *gunicorn_extra_options(),
        "app:app",
    ]


def waitress_command(port: int) -> list[str]:
    return [PYTHON, "waitress_server.py"]


COMMANDS: dict[str, Callable[[int], list[str]]] = {
    "dev-server": dev_server_command,
    "gunicorn": gunicorn_command,
    "waitress": waitress_command,
}


def answers(port: int) -> bool:
    """Whether the app answers ``GET /`` with its page."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status == 200
    finally:
        connection.close()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Return ``shop(server, guarded, **env)``: the shop app served and answering.

    Every server started is stopped at teardown, its output printed.
    """
    started: list[Server] = []

    def start(server: str, guarded: bool, **variables: str) -> Server:
        directory = tmp_path / f"{server}-{'guarded' if guarded else 'bare'}"
        directory.mkdir()
        (directory / "app.py").write_text(APP_SOURCE + (GUARD_SOURCE if guarded else ""))
        (directory / "dev_server.py").write_text(DEV_SERVER_SOURCE)
        (directory / "waitress_server.py").write_text(WAITRESS_EXPOSE_TRACEBACKS_SOURCE)
        if guarded:
            variables.setdefault("PRODGUARD_ENV", "production")
        running = start_on_free_port(COMMANDS[server], directory, **variables)
        started.append(running)
        running.wait_ready(answers)
        return running

    yield start
    for running in started:
        running.stop()
        print(running.logs())


# -- running the probe -----------------------------------------------------------------


def run_probe(url: str, *args: str) -> Result:
    """``flask prodguard probe url args`` in-process, without the delay between requests."""
    return CliRunner().invoke(
        prodguard, ["probe", url, "--delay", "0", *args], catch_exceptions=False
    )


def probe_json(url: str, *args: str) -> dict[str, Any]:
    """The probe's JSON report (and its exit status under ``exit_code``)."""
    result = run_probe(url, "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["exit_code"] == result.exit_code
    return data


def ids(data: dict[str, Any], above: Severity | None = None) -> set[str]:
    """The finding ids of a JSON report, those more severe than ``above`` if given."""
    return {
        f["id"]
        for f in data["findings"]
        if above is None or Severity[f["severity"].upper()] > above
    }


def finding(data: dict[str, Any], rule: str) -> dict[str, Any]:
    """The first finding of ``rule`` in a JSON report."""
    return next(f for f in data["findings"] if f["id"] == rule)


# -- unguarded: the probe finds what leaks ---------------------------------------------


@pytest.mark.server
@pytest.mark.parametrize("pin", ["on", "off"])
def test_dev_server_with_the_debugger_is_found(shop: Callable[..., Server], pin: str) -> None:
    """The console, its files, its traceback page and the dev server are found."""
    env = {"WERKZEUG_DEBUG_PIN": "off"} if pin == "off" else {}
    server = shop("dev-server", guarded=False, **env)
    data = probe_json(f"http://127.0.0.1:{server.port}/")
    found = ids(data)
    assert {"PGP101", "PGP103", "PGP104", "PGP121", "PGP122", "PGP132"} <= found
    assert ("PGP102" in found) is (pin == "off")
    assert data["exit_code"] == 1
    console = finding(data, "PGP101")
    assert any("/console -> 200" in request for request in console["requests"])
    # Both the plain and the percent-encoded console path reach it.
    assert any("/%63onsole -> 200" in request for request in console["requests"])
    assert "Interactive Console" in console["evidence"]
    assert "Werkzeug/" in finding(data, "PGP121")["evidence"]


@pytest.mark.server
def test_waitress_showing_tracebacks_is_found(shop: Callable[..., Server]) -> None:
    """waitress with expose_tracebacks shows the malformed POST's traceback."""
    server = shop("waitress", guarded=False)
    data = probe_json(f"http://127.0.0.1:{server.port}/")
    assert {"PGP111", "PGP132", "PGP115"} <= ids(data)
    assert data["exit_code"] == 1
    (options,) = [r for r in data["requests"] if r["method"] == "OPTIONS"]
    assert set(options["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    traceback = finding(data, "PGP111")
    assert traceback["requests"] == [f"POST http://127.0.0.1:{server.port}/ -> 500"]
    assert "Traceback (most recent call last)" in traceback["evidence"]
    # No debugger there: what is found is what leaks.
    assert not {"PGP101", "PGP103", "PGP104", "PGP121"} & ids(data)


@pytest.mark.server
def test_gunicorn_propagating_exceptions_is_found(shop: Callable[..., Server]) -> None:
    """gunicorn hides the propagated traceback; the probe finds error pages without an id."""
    server = shop("gunicorn", guarded=False)
    data = probe_json(f"http://127.0.0.1:{server.port}/", "--fail-level", "warning")
    assert {"PGP132", "PGP115"} <= ids(data)
    missing = finding(data, "PGP132")["requests"]
    assert f"POST http://127.0.0.1:{server.port}/ -> 500" in missing
    assert any(" -> 404" in request for request in missing)
    # gunicorn's own 500 page is empty: nothing more leaks there.
    assert not {"PGP111", "PGP112", "PGP113"} & ids(data)
    assert data["exit_code"] == 1


# -- guarded: nothing above info -------------------------------------------------------


@pytest.mark.server
@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_guarded_app_shows_nothing_above_info(shop: Callable[..., Server], server: str) -> None:
    """The same app guarded: generic pages with error ids, exit 0 at --fail-level warning."""
    running = shop(server, guarded=True)
    data = probe_json(f"http://127.0.0.1:{running.port}/", "--fail-level", "warning")
    assert ids(data, above=Severity.INFO) == set(), data["findings"]
    assert data["exit_code"] == 0
    assert "PGP131" in ids(data)
    # The guard saw the debugger requests: six events, under the alert threshold.
    probes = [e for e in running.events() if e["event"] == "prodguard.debugger.probe"]
    assert len(probes) == 6
    assert {e["user_agent"].split("/")[0] for e in probes} == {"flask-prodguard-probe"}


@pytest.mark.server
def test_guarded_dev_server_shows_only_itself(shop: Callable[..., Server]) -> None:
    """With the guard the debugger is gone; the dev server's Server header still shows."""
    running = shop("dev-server", guarded=True)
    data = probe_json(f"http://127.0.0.1:{running.port}/")
    assert ids(data, above=Severity.INFO) == {"PGP121", "PGP122"}, data["findings"]
    assert "PGP131" in ids(data)


def deploy_config(*args: str) -> None:
    """Run ``flask prodguard deploy-config args``; it must succeed."""
    result = CliRunner().invoke(prodguard, ["deploy-config", *args])
    assert result.exit_code == 0, result.output


def nginx_in_front(tmp_path: Path, app_port: int, port: int) -> list[str]:
    """nginx's command line, serving deploy-config's server block for the app."""
    site = tmp_path / "site"
    deploy_config(
        "--target", "nginx", "--name", "shop", "--output", str(site),
        "--bind", f"127.0.0.1:{app_port}", "--listen", f"127.0.0.1:{port}",
    )  # fmt: skip
    prefix = tmp_path / "nginx"
    subs = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    for sub in subs:
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    # As root, nginx would switch its workers to "nobody", who cannot enter tmp_path.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    temp_paths = "".join(f"    {sub}_temp_path {prefix}/{sub};\n" for sub in subs)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log info;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n    access_log {prefix}/access.log;\n{temp_paths}"
        f"    include {site / 'shop.nginx.conf'};\n}}\n"
    )
    nginx = require_program("nginx")
    return [nginx, "-p", f"{prefix}/", "-c", str(conf), "-e", str(prefix / "error.log")]


def apache_in_front(tmp_path: Path, app_port: int, port: int) -> list[str]:
    """Apache's command line, serving deploy-config's virtual host for the app."""
    site = tmp_path / "site"
    deploy_config(
        "--target", "apache", "--name", "shop", "--output", str(site),
        "--bind", f"127.0.0.1:{app_port}", "--listen", f"127.0.0.1:{port}",
    )  # fmt: skip
    conf = apache_conf(tmp_path / "apache", site / "shop.apache.conf")
    return apache_argv(conf, "-DFOREGROUND")


PROXIES: dict[str, Callable[[Path, int, int], list[str]]] = {
    "nginx": nginx_in_front,
    "apache": apache_in_front,
}


@pytest.mark.server
@pytest.mark.parametrize(
    ("proxy", "server"),
    [
        ("nginx", "dev-server"),
        ("nginx", "gunicorn"),
        ("nginx", "waitress"),
        ("apache", "dev-server"),
        ("apache", "gunicorn"),
        ("apache", "waitress"),
    ],
)
def test_guarded_app_behind_a_proxy_shows_nothing_above_info(
    tmp_path: Path, proxy: str, server: str
) -> None:
    """Behind deploy-config's nginx or Apache file the guarded app shows nothing above info."""
    app_port, proxy_port = free_ports(2)
    directory = tmp_path / "app"
    directory.mkdir()
    (directory / "app.py").write_text(APP_SOURCE + GUARD_SOURCE)
    (directory / "dev_server.py").write_text(DEV_SERVER_SOURCE)
    (directory / "waitress_server.py").write_text(WAITRESS_EXPOSE_TRACEBACKS_SOURCE)
    started: list[Process] = []
    try:
        app = start_process(
            COMMANDS[server](app_port),
            directory,
            tmp_path / "app.log",
            server_environ(APP_PORT=str(app_port), PRODGUARD_ENV="production"),
        )
        started.append(app)
        app.wait_for(lambda: answers(app_port), "app ready")
        front = start_process(
            PROXIES[proxy](tmp_path, app_port, proxy_port),
            tmp_path,
            tmp_path / f"{proxy}.log",
            server_environ(),
        )
        started.append(front)
        front.wait_for(lambda: answers(proxy_port), f"{proxy} ready")
        data = probe_json(f"http://127.0.0.1:{proxy_port}/", "--fail-level", "warning")
    finally:
        for process in reversed(started):
            process.stop()
            print(process.output())
    assert ids(data, above=Severity.INFO) == set(), data["findings"]
    assert data["exit_code"] == 0
    assert "PGP131" in ids(data)
    if proxy == "nginx":
        # nginx replaces the app's Server header, the dev server's included.
        assert finding(data, "PGP123")["evidence"] == "Server: nginx"


# -- what the answers give away --------------------------------------------------------


def answered(
    status: int, body: str, *headers: tuple[str, str], name: str = "not-found"
) -> Exchange:
    """The answer to the probe request called ``name``."""
    request = next(p for p in plan("0") if p.name == name)
    return Exchange(
        request, "http://shop.test/x", status=status, headers=list(headers), body=body.encode()
    )


def rules_of(*exchanges: Exchange) -> set[str]:
    """The finding ids for these answers."""
    return {f.rule for f in findings(exchanges, DEFAULT_ERROR_ID_HEADERS)}


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ('Traceback (most recent call last):\n  File "/srv/app.py", line 3', "PGP111"),
        ("<p>File &quot;/srv/shop/views.py&quot;, line 12</p>", "PGP112"),
        ('{"detail": "File \\"/srv/shop/views.py\\", line 12"}', "PGP112"),
        ("failed in /srv/shop/lib/orders.py", "PGP112"),
        ("KeyError: 'user'", "PGP113"),
        ("<p>UndefinedError(&#39;user&#39; is undefined)</p>", "PGP113"),
        ("Failed to decode JSON object: Expecting value: line 1 column 1 (char 0)", "PGP113"),
        ("Internal Server Error\n\n(generated by waitress)", "PGP114"),
        ("<h1>werkzeug.exceptions.NotFound</h1>", "PGP114"),
        ("<hr><center>nginx/1.22.1</center>", "PGP122"),
        ("<address>Apache/2.4.62 (Debian) Server at shop.test Port 80</address>", "PGP122"),
    ],
)
def test_leaks_are_recognised_in_error_pages(body: str, rule: str) -> None:
    """Each kind of leak is found in an error page, plain, HTML- or JSON-escaped."""
    assert rule in rules_of(answered(500, body))
    # The same text in the URL's own page, no error, is none of the probe's business.
    assert rule not in rules_of(answered(200, body, name="page"))


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("not-found", 404),
        ("malformed-json", 405),
        ("malformed-json", 400),
        ("malformed-json", 500),
        ("long-header", 431),
        ("bad-host", 400),
    ],
)
def test_each_error_the_probe_provokes_is_read_for_leaks(name: str, status: int) -> None:
    """The 404, the 405 or 400 or 500 of the malformed JSON, the over-long header's
    and the bad Host's answers are each read for every leak."""
    for body, rule in [
        ('Traceback (most recent call last):\n  File "/srv/app.py", line 3', "PGP111"),
        ("failed in /srv/shop/lib/orders.py", "PGP112"),
        ("JSONDecodeError: Expecting value", "PGP113"),
        ("Bad Request (generated by waitress)", "PGP114"),
        ("<hr><center>nginx/1.22.1</center>", "PGP122"),
    ]:
        assert rule in rules_of(answered(status, body, name=name)), (name, rule)


#: What nothing but a traceback shows, and what a page that is no error may say.
ONLY_A_TRACEBACK = {
    'Traceback (most recent call last):\n  File "/srv/app.py", line 3': "PGP111",
    "<p>File &quot;/srv/shop/views.py&quot;, line 12</p>": "PGP112",
    '{"error": {"data": "File \\"/srv/shop/views.py\\", line 12"}}': "PGP112",
}
MAY_BE_SAID = [
    '{"ok": false, "error": "Parse error", "errors": ["Error: bad JSON"]}',
    "<script>throw new TypeError('x')</script> KeyError: see the docs",
    "failed in /srv/shop/lib/orders.py",
    "Powered by Flask and gunicorn/23.0.0, on nginx/1.22.1",
    "Failed to decode JSON object: Expecting value",
]


@pytest.mark.parametrize("name", ["not-found", "malformed-json", "long-header", "bad-host"])
@pytest.mark.parametrize("status", [200, 302])
def test_traceback_in_an_answer_below_400_to_a_request_made_to_fail(
    name: str, status: int
) -> None:
    """A request made to fail shows a traceback even when answered 200 (an API's
    JSON error); what a page that is no error may say is no finding there."""
    for body, rule in ONLY_A_TRACEBACK.items():
        assert rules_of(answered(status, body, name=name)) == {rule}, body
    for body in MAY_BE_SAID:
        assert rules_of(answered(status, body, name=name)) == set(), body


@pytest.mark.parametrize("name", ["console", "debugger-js", "options", "style-css"])
def test_traceback_in_a_200_to_an_ordinary_request_is_no_finding(name: str) -> None:
    """A page about tracebacks, answered 200 to a request that is not made to fail,
    shows nothing: the docs of a Python site may quote one."""
    for body in ONLY_A_TRACEBACK:
        assert rules_of(answered(200, body, name=name)) == set(), body


def test_catch_all_page_that_quotes_a_traceback_is_no_finding() -> None:
    """An answer 200 that repeats what the URL's own page shows (a catch-all) is no leak."""
    body = 'Python says Traceback (most recent call last):\n  File "x.py", line 1'
    page = answered(200, body, name="page")
    assert rules_of(page, answered(200, body, name="not-found")) == set()
    # A traceback the page does not show is still one.
    leak = answered(
        200, 'Traceback (most recent call last):\n  File "/srv/a.py"', name="bad-host"
    )
    assert rules_of(page, leak) == {"PGP111"}


@pytest.mark.parametrize("status", [400, 404, 405, 413, 500, 503])
def test_the_guards_pages_give_nothing_away(status: int) -> None:
    """The guard's HTML and problem+json pages show no leak, and their error id is seen."""
    title, text = standard_title(status), standard_description(status)
    for body in (
        render_html(status, title, text, "0123456789abcdef"),
        render_problem(status, title, text, "0123456789abcdef"),
    ):
        error_id = ("X-Error-ID", "0123456789abcdef")
        assert rules_of(answered(status, body, error_id)) == {"PGP131"}
        # With the header renamed and not named to the probe, the page still shows it.
        assert rules_of(answered(status, body)) == {"PGP131"}


@pytest.mark.parametrize("status", [400, 404, 405, 500])
def test_werkzeug_pages_only_lack_an_error_id(status: int) -> None:
    """Flask's default error pages leak nothing; they only carry no error id."""
    body = default_exceptions[status]().get_body()
    assert rules_of(answered(status, body)) == {"PGP132"}


def test_proxy_page_without_version_is_no_finding() -> None:
    """nginx's own error page with server_tokens off names no version: nothing to say."""
    body = "<html><center><h1>400 Bad Request</h1></center><hr><center>nginx</center></html>"
    assert rules_of(answered(400, body, name="long-header")) == set()


# -- small servers that misbehave ------------------------------------------------------


@dataclasses.dataclass
class Seen:
    """One request a small server received."""

    method: str
    target: str
    #: Header names in lower case.
    headers: dict[str, str]
    body: bytes
    at: float


Respond = Callable[[Seen, threading.Event], Iterable[bytes]]


def response(status: int = 200, body: bytes = b"ok", *headers: str) -> list[bytes]:
    """A complete HTTP/1.1 answer (``headers`` as raw ``Name: value`` lines)."""
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
    return [("\r\n".join([*head, *headers]) + "\r\n\r\n").encode("latin-1") + body]


class _Handler(socketserver.StreamRequestHandler):
    server: SmallServer

    def handle(self) -> None:
        line = self.rfile.readline(70_000).decode("latin-1")
        if not line.strip():
            return
        method, target, _ = line.split(" ", 2)
        headers = {}
        while (raw := self.rfile.readline(70_000)) not in (b"\r\n", b"\n", b""):
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.rfile.read(int(headers.get("content-length") or 0))
        seen = Seen(method, target, headers, body, time.monotonic())
        self.server.seen.append(seen)
        try:
            for chunk in self.server.respond(seen, self.server.stopping):
                if self.server.stopping.is_set():
                    return
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass


class SmallServer(socketserver.ThreadingTCPServer):
    """A server on 127.0.0.1 that answers with ``respond`` and records every request."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, respond: Respond) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.respond = respond
        self.seen: list[Seen] = []
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


@pytest.fixture
def small_server() -> Iterator[Callable[[Respond], SmallServer]]:
    """Return ``small_server(respond)``: a started :class:`SmallServer`, stopped at teardown."""
    servers: list[SmallServer] = []

    def start(respond: Respond) -> SmallServer:
        server = SmallServer(respond)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stopping.set()
        server.shutdown()
        server.server_close()


def redirect_everything(seen: Seen, stopping: threading.Event) -> list[bytes]:
    """Every answer a same-host redirect to another new path."""
    return response(302, b"", f"Location: /next-{len(seen.target)}{seen.target[:8]}")


@pytest.mark.parametrize("budget", [1, 2, 5, 12, 25])
def test_request_budget_is_never_exceeded(
    small_server: Callable[[Respond], SmallServer], budget: int
) -> None:
    """The server sees at most --max-requests requests, redirects followed included."""
    server = small_server(redirect_everything)
    data = probe_json(server.url, "--max-requests", str(budget))
    assert len(server.seen) == data["requests_sent"] == budget
    # Every GET would follow two redirects: the plan never fits, and that is said.
    assert "PGP144" in ids(data)
    assert data["not_sent"]


def test_whole_plan_fits_the_default_budget(
    small_server: Callable[[Respond], SmallServer],
) -> None:
    """Without redirects the whole plan is sent within the default budget, and no more."""
    server = small_server(lambda seen, stopping: response(200))
    data = probe_json(server.url)
    assert len(server.seen) == data["requests_sent"] == len(data["requests"]) <= 25
    assert data["not_sent"] == []
    # A catch-all 200 is no debugger and no leak: nothing to report.
    assert data["findings"] == []


def test_only_safe_requests_are_sent(small_server: Callable[[Respond], SmallServer]) -> None:
    """GET and OPTIONS, one malformed POST; no PIN, no console command, no credentials."""
    server = small_server(lambda seen, stopping: response(200))
    run_probe(server.url)
    methods = [seen.method for seen in server.seen]
    assert set(methods) == {"GET", "OPTIONS", "POST"} and methods.count("POST") == 1
    (post,) = [seen for seen in server.seen if seen.method == "POST"]
    with pytest.raises(ValueError):
        json.loads(post.body)
    for seen in server.seen:
        query = seen.target.partition("?")[2].lower()
        assert "pin" not in query and "frm=" not in query and "&s=" not in query
        commands = re.findall(r"cmd=([^&]*)", query)
        assert set(commands) <= {"resource"}, seen.target
        assert "cookie" not in seen.headers and "authorization" not in seen.headers


def test_redirects_are_followed_only_on_the_named_host(
    small_server: Callable[[Respond], SmallServer],
) -> None:
    """A same-host redirect is followed with the headers; another host never sees a request."""
    elsewhere = small_server(lambda seen, stopping: response(200))

    def respond(seen: Seen, stopping: threading.Event) -> list[bytes]:
        if seen.target == "/":
            return response(302, b"", "Location: /home")
        if seen.target == "/console":
            return response(302, b"", f"Location: {elsewhere.url}console")
        return response(200)

    server = small_server(respond)
    data = probe_json(server.url, "--header", "X-Staging-Token: s3cret")
    assert elsewhere.seen == []
    followed = [seen for seen in server.seen if seen.target == "/home"]
    assert followed and all(s.headers["x-staging-token"] == "s3cret" for s in followed)
    (page,) = [r for r in data["requests"] if r["probe"] == "page"]
    assert page["redirects"] == [server.url + "home"] and page["status"] == 200
    off_host = finding(data, "PGP141")
    assert off_host["evidence"] == elsewhere.url + "console"
    assert off_host["severity"] == "info"


@pytest.mark.parametrize(
    ("url", "other", "same"),
    [
        ("http://shop.test/", "http://SHOP.test/login", True),
        ("http://shop.test/", "https://shop.test/", True),
        ("http://shop.test/", "https://shop.test:8443/", False),
        ("https://shop.test/", "http://shop.test/", False),
        ("http://shop.test:8000/", "http://shop.test:8001/", False),
        ("http://shop.test/", "http://shop.test.evil.test/", False),
        ("http://shop.test/", "ftp://shop.test/", False),
    ],
)
def test_same_host_rule(url: str, other: str, same: bool) -> None:
    """Same name and port, or http upgraded to https on the same name; nothing else."""
    assert Target.parse(url).same_host(other) is same


def test_header_option_is_sent_with_every_request_and_never_shown(
    small_server: Callable[[Respond], SmallServer],
) -> None:
    """Each --header reaches every request; its value is in no output format."""
    server = small_server(lambda seen, stopping: response(404, b"missing"))
    outputs = [
        run_probe(
            server.url, "--header", "X-Staging-Token: s3cret", "--header", "X-B:two", *fmt
        )
        for fmt in ([], ["--format", "json"], ["--format", "sarif"])
    ]
    assert server.seen
    for seen in server.seen:
        assert seen.headers["x-staging-token"] == "s3cret" and seen.headers["x-b"] == "two"
    for result in outputs:
        assert "s3cret" not in result.output


@pytest.mark.parametrize(
    "header",
    [
        "X-Token s3cret",
        ": s3cret",
        "Bad Name: s3cret",
        "X-A: s3cret\x01",
        "X-A: s3cret\u00e9",
        "Host: s3cret",
        "Connection: s3cret",
    ],
)
def test_bad_header_option_is_a_usage_error(header: str) -> None:
    """A --header that is not 'Name: value', or one the probe sets itself, exits 2
    without repeating the value."""
    result = run_probe("http://127.0.0.1:9/", "--header", header)
    assert result.exit_code == 2
    assert "--header" in result.output
    assert "s3cret" not in result.output


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/",
        "http://user:pw@127.0.0.1/",
        "http:///path",
        "http://127.0.0.1:99999/",
    ],
)
def test_url_that_cannot_be_probed_is_a_usage_error(url: str) -> None:
    """Another scheme, credentials in the URL, no host or a bad port: exit 2."""
    result = run_probe(url)
    assert result.exit_code == 2
    assert "URL" in result.output


def test_url_that_does_not_answer_exits_2() -> None:
    """Nothing listening: exit 2 after one attempt, the reason on stderr."""
    (port,) = free_ports(1)
    result = run_probe(f"http://127.0.0.1:{port}/")
    assert result.exit_code == 2
    assert "did not answer" in result.stderr and "ConnectionRefusedError" in result.stderr
    assert result.stdout == ""
    report = probe(f"http://127.0.0.1:{port}/", delay=0)
    assert not report.reached and report.sent == 1


def endless(seen: Seen, stopping: threading.Event) -> Iterator[bytes]:
    """A 500 whose chunked body never ends."""
    yield b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    chunk = b"x" * 65536
    while not stopping.is_set():
        yield b"%x\r\n%s\r\n" % (len(chunk), chunk)


def test_endless_body_is_read_up_to_the_cap(
    small_server: Callable[[Respond], SmallServer],
) -> None:
    """Every answer is read to MAX_BODY_BYTES and no further; the cut is reported."""
    server = small_server(endless)
    report = probe(server.url, delay=0, timeout=20)
    assert report.reached
    assert all(e.error is None for e in report.exchanges), report.exchanges[0].error
    assert all(len(e.body) == MAX_BODY_BYTES and e.truncated for e in report.exchanges)
    assert "PGP143" in {f.rule for f in report.findings}


def trickle(seen: Seen, stopping: threading.Event) -> Iterator[bytes]:
    """``/`` answers at once; everything else sends a byte at a time, forever."""
    if seen.target == "/":
        yield from response(200)
        return
    yield b"HTTP/1.1 200 X\r\n"
    while not stopping.wait(0.05):
        yield b"X-Slow: a\r\n" if seen.target == "/console" else b"a"


@pytest.mark.timeout(60)
def test_slow_answers_are_cut_off_at_the_timeout(
    small_server: Callable[[Respond], SmallServer],
) -> None:
    """A server that trickles bytes forever holds each request for --timeout at most."""
    server = small_server(trickle)
    started = time.monotonic()
    data = probe_json(server.url, "--timeout", "0.5", "--max-requests", "3")
    elapsed = time.monotonic() - started
    # Two requests trickle; without the deadline the probe would never end.
    assert elapsed < 20
    slow = finding(data, "PGP142")
    assert len(slow["requests"]) == 2
    assert "no complete answer within 0.5 s" in slow["message"]
    assert data["exit_code"] == 0  # a warning, under the default fail level


HOSTILE_LINE = "\r\n\x1b[2J\x1b[31mCRITICAL\n  PGP101  forged finding\u202e\u200b"


def hostile(seen: Seen, stopping: threading.Event) -> list[bytes]:
    """Answers whose headers and pages carry escapes, line breaks and bidi controls."""
    server = "Server: nginx/1.2.3 \x1b]0;owned\x07\x1b[31m"
    body = (
        f"Traceback (most recent call last):{HOSTILE_LINE}\n"
        f'  File "/srv/app.py", line 3\nKeyError: password=hunter2 {HOSTILE_LINE}'
    ).encode()
    return response(500, body, server, "X-Powered-By: PHP/8.1\x1b[0m")


@pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
def test_hostile_text_is_escaped_in_every_output(
    small_server: Callable[[Respond], SmallServer], output_format: str
) -> None:
    """Escapes, line breaks and bidi controls from the server reach no output raw."""
    server = small_server(hostile)
    result = run_probe(server.url, "--format", output_format)
    assert result.exit_code == 1
    output = result.output
    for raw in ("\x1b", "\x07", "\u202e", "\u200b", "\r"):
        assert raw not in output
    assert "hunter2" not in output
    assert not any(line.strip().startswith("PGP101") for line in output.splitlines())
    if output_format == "text":
        # Every line is the report's own: a heading, a finding or one of its fields.
        shapes = re.compile(
            r"(|Flask-ProdGuard probe of .*|[A-Z]+|  PGP1\d\d  .*|"
            r" {9}(seen in|evidence|fix|docs): .*| {19}and \d+ more requests|"
            r"\d+ finding\(s\): .*)"
        )
        odd = [line for line in output.splitlines() if not shapes.fullmatch(line)]
        assert odd == []
        assert r"\x1b[31m" in output  # shown, escaped


def test_json_and_sarif_are_valid(small_server: Callable[[Respond], SmallServer]) -> None:
    """JSON lists requests and findings; SARIF validates against the 2.1.0 schema."""
    server = small_server(hostile)
    data = probe_json(server.url)
    assert {"PGP111", "PGP122", "PGP132"} <= ids(data)
    assert data["url"] == server.url and data["fail_level"] == "error"
    assert len(data["requests"]) == data["requests_sent"]
    for f in data["findings"]:
        assert f["docs"].endswith("#" + f["id"].lower())
        assert f["title"] == RULES[f["id"]].title and f["hint"] == RULES[f["id"]].hint
    result = run_probe(server.url, "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    (run,) = log["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == list(RULES)
    results = {r["ruleId"]: r for r in run["results"]}
    assert set(results) == ids(data)
    traceback = results["PGP111"]
    assert traceback["level"] == "error"
    uri = traceback["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith(server.url)


def test_fail_level_decides_the_exit_status(
    small_server: Callable[[Respond], SmallServer],
) -> None:
    """Error pages without an id are a warning: exit 0 at error, 1 at warning."""
    server = small_server(lambda seen, stopping: response(404, b"missing"))
    assert run_probe(server.url).exit_code == 0
    assert run_probe(server.url, "--fail-level", "warning").exit_code == 1
    data = probe_json(server.url)
    assert ids(data, above=Severity.INFO) == {"PGP132"}


def test_error_id_header_option_names_the_header(
    small_server: Callable[[Respond], SmallServer],
) -> None:
    """An id under another header is found once --error-id-header names it."""
    server = small_server(lambda seen, stopping: response(404, b"gone", "X-Incident: 7f3a"))
    assert "PGP132" in ids(probe_json(server.url))
    named = probe_json(server.url, "--error-id-header", "X-Incident")
    assert "PGP132" not in ids(named)
    assert finding(named, "PGP131")["message"] == "an error id in the X-Incident header"


def test_delay_spaces_the_requests(small_server: Callable[[Respond], SmallServer]) -> None:
    """--delay leaves at least that long between one answer and the next request."""
    server = small_server(lambda seen, stopping: response(200))
    run_probe(server.url, "--max-requests", "4")  # warm-up: the first run imports
    server.seen.clear()
    result = CliRunner().invoke(
        prodguard, ["probe", server.url, "--max-requests", "4", "--delay", "0.3"]
    )
    assert result.exit_code == 0, result.output
    times = [seen.at for seen in server.seen]
    assert len(times) == 4
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.29, gaps


def test_module_entry_point_probes(small_server: Callable[[Respond], SmallServer]) -> None:
    """``python -m flask_prodguard probe`` is the same command, with the same exit status."""
    server = small_server(hostile)
    result = subprocess.run(
        [PYTHON, "-m", "flask_prodguard", "probe", server.url, "--delay", "0"]
        + ["--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=server_environ(),
    )
    assert result.returncode == 1, result.stderr
    assert "PGP111" in ids(json.loads(result.stdout))


def test_list_names_every_finding() -> None:
    """--list prints each id with its severity and title, and needs no URL."""
    result = CliRunner().invoke(prodguard, ["probe", "--list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == list(RULES)
    for line, (rule_id, rule) in zip(lines, RULES.items(), strict=True):
        assert line == f"{rule_id}  {str(rule.severity):8}  {rule.title}"
    assert CliRunner().invoke(prodguard, ["probe"]).exit_code == 2


def test_checks_page_documents_every_probe_finding() -> None:
    """docs/checks.rst has each finding's anchor, title, severity, fix and
    in-process checks, as RULES says."""
    page = " ".join(CHECKS_PAGE.read_text(encoding="utf-8").split())
    for rule_id, rule in RULES.items():
        assert f".. _{rule_id.lower()}:" in page, rule_id
        assert f"{rule_id}: {rule.title}" in page, rule_id
        section = page.split(f".. _{rule_id.lower()}:", 1)[1].split(".. _pgp", 1)[0]
        assert f"Severity: **{rule.severity}**" in section, rule_id
        assert f"Fix: {rule.hint}" in section, rule_id
        inside = re.findall(r":ref:`(PG\d+) <pg\d+>`", section.split("Fix: ", 1)[1])
        assert tuple(inside) == rule.checks, rule_id


def test_cli_page_lists_every_request_of_the_plan() -> None:
    """docs/cli.rst's table of requests has a row for each request the probe sends."""
    page = " ".join((ROOT / "docs" / "cli.rst").read_text(encoding="utf-8").split())
    table = page.split(".. _cli-probe:", 1)[1].split("It reads the answers", 1)[0]
    sent = plan("0")
    assert table.count("* - ``") == len(sent)  # a row per request, after the header
    for request in sent:
        assert f"- {request.purpose} " in table, request.name


def test_ci_recipe_runs_a_probe_the_command_accepts() -> None:
    """The CI job of the docs calls probe with a URL and options the command takes."""
    lines = (ROOT / "docs" / "examples" / "probe-after-deploy.yml").read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if "flask_prodguard probe" in line)
    indent = len(lines[start]) - len(lines[start].lstrip())
    folded = []  # YAML's ">-" folds the block's lines into one, joined by spaces
    for line in lines[start:]:
        if len(line) - len(line.lstrip()) != indent:
            break
        folded.append(line.strip())
    assert lines[start - 1].endswith("run: >-")
    command = shlex.split(" ".join(folded).replace("${{ secrets.STAGING_TOKEN }}", "t0ken"))
    assert command[:4] == ["python", "-m", "flask_prodguard", "probe"]
    context = cli.commands["probe"].make_context("probe", command[4:])
    assert context.params["url"] == "https://staging.example.com/"
    assert context.params["fail_level"] == "warning"
    assert context.params["headers"] == ("X-Staging-Token: t0ken",)


def test_error_id_in_the_body_counts(small_server: Callable[[Respond], SmallServer]) -> None:
    """A problem+json body with the guard's error_id (its header renamed away) is an id."""
    body = b'{"status": 404, "instance": "urn:prodguard:error:5d1c", "error_id": "5d1c"}'
    server = small_server(lambda seen, stopping: response(404, body, "X-Renamed-Id: 5d1c"))
    data = probe_json(server.url, "--fail-level", "warning")
    assert finding(data, "PGP131")["message"] == "an error id in the body"
    assert "PGP132" not in ids(data) and data["exit_code"] == 0


def test_command_defaults_are_the_functions() -> None:
    """The command's defaults for the budget, delay and timeout are probe()'s own."""
    options = {param.name: param.default for param in cli.commands["probe"].params}
    defaults = inspect.signature(probe).parameters
    for name in ("max_requests", "delay", "timeout"):
        assert options[name] == defaults[name].default, name
