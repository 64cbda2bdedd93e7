"""``flask prodguard deploy-config --target apache``: the virtual host, run by the real Apache.

The generated file is given to Debian's ``apache2``: ``apache2 -t`` on a
minimal configuration that includes it, the install hint's own commands
(``a2enmod``, ``a2ensite``, ``apachectl configtest``) on a copy of Debian's
``/etc/apache2``, and Apache serving in front of a guarded app on gunicorn.
Every Apache runs in the foreground in its own session, on 127.0.0.1 and a
free port, with its configuration, pid file, logs and runtime files under the
test's temporary directory; no system service is involved.

The configurations say ``ServerTokens OS`` and ``ServerSignature On`` before
they include the file, as Debian's ``conf-enabled/security.conf`` does, so
that only the generated file can hide Apache's version.

The app is started as the generated systemd unit starts it (its
``ExecStart``, ``WorkingDirectory`` and ``Environment=`` lines, so
``PRODGUARD_TRUSTED_PROXIES=1`` comes from the file). The client connects
from 127.0.0.5, Apache from 127.0.0.1: an event that shows 127.0.0.5 carries
the client's address, not the proxy's.
"""

from __future__ import annotations

import dataclasses
import getpass
import grp
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_prodguard
import pytest
from click.testing import CliRunner
from click.testing import Result
from flask_prodguard.tools.cli import prodguard

from servers import APACHE_PROXY_MODULES
from servers import ParsedResponse
from servers import Process
from servers import apache_argv
from servers import apache_conf
from servers import free_ports
from servers import parse_head
from servers import require_apache_module
from servers import require_program
from servers import running_in_ci
from servers import send_and_receive
from servers import server_environ
from servers import start_process
from servers import wait_for

VENV = Path(sys.executable).parent.parent

#: The "remote" client: another loopback address than Apache's own.
CLIENT_IP = "127.0.0.5"
SPOOFED_IP = "6.6.6.6"
SECRET = "hunter2"
#: The error id the guard sends in the X-Error-ID header, on its page and in its events.
ERROR_ID = re.compile(r"[0-9a-f]{16}")
#: The event the guard writes for each status of the test.
EVENTS = {500: "prodguard.error.unhandled", 404: "prodguard.error.http"}

APP = f'''\
"""Guarded app for tests/test_apache.py."""

import os

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


@app.get("/")
def index():
    return "hello"


@app.get("/whoami")
def whoami():
    return {{
        "scheme": request.scheme,
        "remote_addr": request.remote_addr,
        "host": request.host,
        "script_root": request.script_root,
        "x_forwarded_for": request.headers.get("X-Forwarded-For"),
        "x_real_ip": request.headers.get("X-Real-IP"),
        "trusted_proxies": os.environ.get("PRODGUARD_TRUSTED_PROXIES"),
    }}


@app.get("/boom")
def boom():
    raise RuntimeError("{SECRET} in the message")


ProdGuard(app)
'''


# -- the command ---------------------------------------------------------------------


def deploy_config(*args: str) -> Result:
    """Run ``prodguard deploy-config`` in-process."""
    return CliRunner().invoke(prodguard, ["deploy-config", *args], catch_exceptions=False)


def generate(*args: str) -> str:
    """The generated file, printed; the command must succeed."""
    result = deploy_config(*args)
    assert result.exit_code == 0, result.output + result.stderr
    return result.stdout


def directives(text: str) -> list[str]:
    """The lines of an Apache file that are not comments or blank, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()[:1] not in ("", "#")]


def apache_test(conf: Path) -> subprocess.CompletedProcess[str]:
    """``apache2 -t`` on ``conf``."""
    return subprocess.run(apache_argv(conf, "-t"), capture_output=True, text=True, timeout=30)


def test_output_writes_the_usual_file_name(tmp_path: Path) -> None:
    """--output DIR writes NAME.apache.conf and names the Debian commands that load it."""
    result = deploy_config("--target", "apache", "--name", "shop", "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    path = tmp_path / "shop.apache.conf"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert "/etc/apache2/sites-available/shop.conf" in result.stdout
    assert "a2ensite shop && apachectl configtest" in result.stdout
    assert path.read_text() == generate("--target", "apache", "--name", "shop")


def test_virtual_host_sets_the_forwarded_headers() -> None:
    """The headers the app trusts are set, never appended, mod_proxy adds none, and
    the client and the app have 60 seconds."""
    text = generate(
        "--target", "apache", "--bind", "0.0.0.0:8001", "--listen", "127.0.0.1:8080",
        "--server-name", "a.test www.a.test",
    )  # fmt: skip
    lines = directives(text)
    assert {
        "ServerTokens Prod",
        "ServerSignature Off",
        "Listen 127.0.0.1:8080",
        "<VirtualHost 127.0.0.1:8080>",
        "ServerName a.test",
        "ServerAlias www.a.test",
        "ProxyAddHeaders Off",
        'RequestHeader set X-Forwarded-For "expr=%{REMOTE_ADDR}"',
        'RequestHeader set X-Forwarded-Proto "expr=%{REQUEST_SCHEME}"',
        'RequestHeader set X-Forwarded-Host "expr=%{SERVER_NAME}"',
        'RequestHeader set X-Forwarded-Port "8080"',
        "RequestHeader unset X-Forwarded-Prefix",
        # The client's and the app's time are bounded: 60 s, as in the nginx file.
        "Timeout 60",
        "ProxyTimeout 60",
        # A wildcard bind is proxied to over loopback.
        'ProxyPass "/" "http://127.0.0.1:8001/"',
        'ProxyPassReverse "/" "http://127.0.0.1:8001/"',
    } <= set(lines)
    assert not any("append" in line.lower() or "}s" in line for line in lines)
    assert not any(line.startswith("ProxyErrorOverride") for line in lines)
    # ServerTokens is server-config only: before (outside) the <VirtualHost>.
    assert lines.index("ServerTokens Prod") < lines.index("<VirtualHost 127.0.0.1:8080>")


def test_service_files_trust_the_apache_hop() -> None:
    """The supervisor and systemd files of an app behind Apache trust one proxy hop."""
    systemd = generate("--target", "systemd", "--app", "shop:app")
    supervisor = generate("--target", "supervisor", "--app", "shop:app")
    assert "Environment=PRODGUARD_TRUSTED_PROXIES=1\n" in systemd
    assert 'PRODGUARD_TRUSTED_PROXIES="1"' in supervisor
    assert "--target nginx or apache" in systemd
    # The Apache file needs no app, and points to them.
    assert "PRODGUARD_TRUSTED_PROXIES=1" in generate("--target", "apache")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--server-name", "a.test\nProxyPass / http://evil.test/"),
        ("--server-name", "a.test\r\nInclude /etc/passwd"),
        ("--server-name", "<VirtualHost *:80>"),
        ("--server-name", "a.test>"),
        ("--server-name", "a.test </VirtualHost>"),
        ("--server-name", 'a.test"'),
        ("--server-name", "a.test\tb.test"),
        ("--server-name", "${APACHE_LOG_DIR}"),
        # nginx's forms, which Apache would take literally and never match.
        ("--server-name", "~^www.*$"),
        ("--server-name", ".example.com"),
        ("--listen", "80\nListen 81"),
        ("--listen", "127.0.0.1:80>"),
        ("--listen", "<VirtualHost"),
        ("--listen", "99999"),
        ("--listen", "0"),
        ("--listen", "127.0.0.1:65536"),
        ("--bind", "127.0.0.1:8000/ evil"),
        ("--bind", "127.0.0.1:8000\nProxyPass"),
    ],
)
def test_values_that_could_inject_a_directive_exit_2(option: str, value: str) -> None:
    """A value that could break out of its directive is a usage error naming the option."""
    assert deploy_config("--target", "apache").exit_code == 0  # the target exists
    result = deploy_config("--target", "apache", option, value)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"Invalid value for {option}: " in result.stderr, result.stderr
    assert "e.g." in result.stderr  # and says what would do


# -- apache2 -t ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--server-name", "example.com www.example.com *.example.com", "--listen", "8080"],
        ["--server-name", "example.com", "--listen", "127.0.0.1:8080"],
        ["--listen", "[::1]:8080", "--bind", "[::1]:8001"],
    ],
    ids=["defaults", "names", "address", "ipv6"],
)
def test_apache_accepts_the_virtual_host(tmp_path: Path, options: list[str]) -> None:
    """apache2 -t accepts a minimal configuration that includes the generated file."""
    site = tmp_path / "site"
    generate("--target", "apache", "--name", "shop", "--output", str(site), *options)
    result = apache_test(apache_conf(tmp_path / "apache", site / "shop.apache.conf"))
    assert result.returncode == 0, result.stderr
    assert "Syntax OK" in result.stderr


def test_missing_modules_are_named_by_apache(tmp_path: Path) -> None:
    """Without mod_proxy_http, apache2 -t fails with the a2enmod line to run."""
    site = tmp_path / "site"
    generate("--target", "apache", "--name", "shop", "--output", str(site))
    modules = tuple(m for m in APACHE_PROXY_MODULES if m != "proxy_http")
    conf = apache_conf(tmp_path / "apache", site / "shop.apache.conf", modules)
    result = apache_test(conf)
    assert result.returncode != 0
    assert "mod_proxy_http is not loaded: a2enmod proxy proxy_http" in result.stderr


# -- processes -----------------------------------------------------------------------


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Return ``start(name, argv, cwd, env=None, **variables)``; all stopped at teardown."""
    started: list[Process] = []

    def run(
        name: str,
        argv: list[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        **variables: str,
    ) -> Process:
        log = tmp_path / f"{name}.log"
        process = start_process(argv, cwd, log, env or server_environ(**variables))
        started.append(process)
        return process

    yield run
    for process in reversed(started):
        process.stop()
        print(f"--- {process.proc.args!r}, exit code {process.proc.poll()}")
        print(process.output())


@dataclasses.dataclass
class Answer(ParsedResponse):
    """A response read byte for byte: its status, headers, body and raw bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def get(
    target: str, headers: list[tuple[str, str]] | None = None, method: str = "GET"
) -> bytes:
    """An HTTP/1.0 request for ``target``, Host example.test, with ``headers`` as given."""
    lines = [f"{method} {target} HTTP/1.0", "Host: example.test"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def exchange(port: int, request: bytes, source: str = "127.0.0.1") -> Answer:
    """Send ``request`` to 127.0.0.1:``port`` from ``source``; the answer, read to EOF."""
    raw, ending = send_and_receive(port, request, 10.0, source=source)
    if ending != "eof" or not raw.startswith(b"HTTP/"):
        raise ConnectionError(f"{ending}, no complete response: {raw[:200]!r}")
    head, _, body = raw.partition(b"\r\n\r\n")
    status, headers = parse_head(head)
    return Answer(status, headers, body, raw)


def assert_no_version(answer: Answer) -> None:
    """Apache answered itself, and its headers and page name no version."""
    assert answer.header_values("Server") == ["Apache"], answer.headers
    assert answer.header_values("X-Error-ID") == [], "the app answered, not Apache"
    for marker in (b"Apache/", b"Debian", b"Unix)", b"<address>", b"Server at "):
        assert marker not in answer.raw, (marker, answer.raw)


@dataclasses.dataclass
class Deployment:
    """The app on gunicorn, as the systemd unit runs it, and Apache in front of it."""

    app_port: int
    apache_port: int
    events_log: Path

    def events(self) -> list[dict[str, Any]]:
        """The security events the guard wrote to its log file."""
        if not self.events_log.exists():
            return []
        return [json.loads(line) for line in self.events_log.read_text().splitlines() if line]


def unit_settings(unit: str) -> tuple[list[str], Path, dict[str, str]]:
    """ExecStart, WorkingDirectory and the Environment= variables of a systemd unit."""
    values: dict[str, list[str]] = {}
    for line in unit.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values.setdefault(key, []).append(value)
    environment = dict(item.split("=", 1) for item in values["Environment"])
    [exec_start] = values["ExecStart"]
    [directory] = values["WorkingDirectory"]
    return shlex.split(exec_start), Path(directory), environment


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The app started as the generated systemd unit says, Apache with the generated file."""
    tmp_path = tmp_path_factory.mktemp("apache-deployment")
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(APP)
    events_log = tmp_path / "events.log"
    app_port, apache_port = free_ports(2)
    common = ["--app", "app", "--name", "shop", "--bind", f"127.0.0.1:{app_port}"]
    unit = generate(
        "--target", "systemd", *common, "--directory", str(app_dir), "--venv", str(VENV),
        "--workers", "1",
    )  # fmt: skip
    argv, directory, environment = unit_settings(unit)
    assert environment["PRODGUARD_TRUSTED_PROXIES"] == "1"
    generate(
        "--target", "apache", *common, "--output", str(tmp_path),
        "--listen", f"127.0.0.1:{apache_port}", "--server-name", "example.test",
    )  # fmt: skip
    conf = apache_conf(tmp_path / "apache", tmp_path / "shop.apache.conf")

    started: list[Process] = []
    try:
        app_env = server_environ(PRODGUARD_LOG_DESTINATION=str(events_log), **environment)
        app = start_process(argv, directory, tmp_path / "app.log", app_env)
        started.append(app)
        app.wait_for(lambda: exchange(app_port, get("/")).status == 200, "app ready")
        apache = start_process(
            apache_argv(conf, "-DFOREGROUND"),
            tmp_path,
            tmp_path / "apache.log",
            server_environ(),
        )
        started.append(apache)
        apache.wait_for(lambda: exchange(apache_port, get("/")).status == 200, "apache ready")
        yield Deployment(app_port, apache_port, events_log)
    finally:
        for process in reversed(started):
            process.stop()
            print(f"--- {process.proc.args!r}, exit code {process.proc.poll()}")
            print(process.output())
        error_log = tmp_path / "apache" / "error.log"
        if error_log.exists():
            print(f"--- {error_log}:\n{error_log.read_text()}")


# -- Debian's layout -----------------------------------------------------------------


def debian_copy(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of Debian's /etc/apache2 with no site and no port of its own, and its environment.

    ``envvars`` puts the pid file, logs and runtime files under ``tmp_path``;
    ``APACHE_CONFDIR`` and ``APACHE_STATE_DIRECTORY`` point ``apachectl``,
    ``a2enmod`` and ``a2ensite`` at the copy.
    """
    if not Path("/etc/apache2/apache2.conf").is_file():
        line = "no /etc/apache2/apache2.conf: this apache2 is not Debian's package"
        if running_in_ci():
            pytest.fail(line, pytrace=False)
        pytest.skip(line)
    confdir = tmp_path / "etc-apache2"
    shutil.copytree("/etc/apache2", confdir, symlinks=True)
    for site in (confdir / "sites-enabled").iterdir():
        site.unlink()
    (confdir / "ports.conf").write_text("")  # the site's Listen is the only one
    # As root, Apache's children run as www-data, as on a server; otherwise as
    # the user running the tests (apachectl chowns its directories to it).
    user = "www-data" if os.geteuid() == 0 else getpass.getuser()
    group = "www-data" if os.geteuid() == 0 else grp.getgrgid(os.getegid()).gr_name
    variables = {
        "APACHE_RUN_USER": user,
        "APACHE_RUN_GROUP": group,
        "APACHE_PID_FILE": str(tmp_path / "run" / "apache2.pid"),
        "APACHE_RUN_DIR": str(tmp_path / "run"),
        "APACHE_LOCK_DIR": str(tmp_path / "lock"),
        "APACHE_LOG_DIR": str(tmp_path / "log"),
        "LANG": "C",
    }
    for key in ("APACHE_LOCK_DIR", "APACHE_LOG_DIR"):
        Path(variables[key]).mkdir(parents=True, exist_ok=True)
    # apachectl would create this one with the owner APACHE_RUN_USER.
    (tmp_path / "run" / "socks").mkdir(parents=True)
    (confdir / "envvars").write_text(
        "".join(f"export {key}={shlex.quote(value)}\n" for key, value in variables.items())
    )
    env = server_environ(
        APACHE_CONFDIR=str(confdir),
        APACHE_STATE_DIRECTORY=str(tmp_path / "state"),
        **variables,
    )
    return confdir, env


@pytest.mark.server
def test_debian_install_hint_works_and_hides_the_version(
    tmp_path: Path, start: Callable[..., Process]
) -> None:
    """The install hint's commands take the file in Debian's layout, which hides the version."""
    apachectl = require_program("apachectl")
    confdir, env = debian_copy(tmp_path)
    port, dead = free_ports(2)
    result = deploy_config(
        "--target", "apache", "--name", "shop", "--output", str(tmp_path),
        "--listen", f"127.0.0.1:{port}", "--bind", f"127.0.0.1:{dead}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    hint = result.stdout.rstrip("\n").split("; run: ", 1)[1]
    where = result.stdout.split("copy it to ", 1)[1].split(";", 1)[0]
    assert where == "/etc/apache2/sites-available/shop.conf"
    shutil.copy(tmp_path / "shop.apache.conf", confdir / "sites-available" / "shop.conf")
    # The commands as the hint gives them, but for the reload of a service.
    commands = hint.removesuffix(" && systemctl reload apache2")
    assert commands.endswith("apachectl configtest"), hint
    bin_dir = str(Path(apachectl).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    ran = subprocess.run(
        ["sh", "-c", commands], env=env, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "Syntax OK" in ran.stderr
    assert (confdir / "mods-enabled" / "proxy_http.load").exists()
    # a2ensite kept its note of what the admin enabled in tmp_path too.
    assert (tmp_path / "state" / "site" / "enabled_by_admin" / "shop").exists()

    apache = start(
        "apache",
        [require_program("apache2"), "-d", str(confdir), "-DFOREGROUND"],
        tmp_path,
        env=env,
    )
    apache.wait_for(lambda: exchange(port, get("/")).status == 503, "apache ready")
    # Apache's own pages: the app is not running, and a request line too long.
    for request, status in [(get("/"), 503), (get("/" + "a" * 9000), 414)]:
        answer = exchange(port, request)
        assert answer.status == status, answer.raw[:300]
        assert_no_version(answer)


# -- through Apache ------------------------------------------------------------------

#: Every way a client could try to choose what the app believes about it.
FORGED = [
    ("X-Forwarded-For", SPOOFED_IP),
    ("x-forwarded-for", "7.7.7.7"),
    ("X_Forwarded_For", SPOOFED_IP),
    ("X-Forwarded-Proto", "https"),
    ("X-Forwarded-Host", "evil.test"),
    ("X-Forwarded-Port", "1"),
    ("X-Forwarded-Prefix", "/evil"),
    ("X-Real-IP", SPOOFED_IP),
]


@pytest.mark.server
def test_apache_passes_the_real_client_not_a_spoofed_one(deployment: Deployment) -> None:
    """Through Apache the app and its events see the client's address, never a forged one."""
    seen = exchange(deployment.apache_port, get("/whoami", FORGED), CLIENT_IP).json()
    assert seen["remote_addr"] == CLIENT_IP
    assert seen["x_forwarded_for"] == CLIENT_IP  # set, not appended to
    assert seen["x_real_ip"] == CLIENT_IP
    assert seen["scheme"] == "http"
    assert seen["host"] == f"example.test:{deployment.apache_port}"
    assert seen["script_root"] == ""
    assert seen["trusted_proxies"] == "1"  # from the systemd unit

    probe = exchange(deployment.apache_port, get("/console?via-apache", FORGED), CLIENT_IP)
    assert probe.status == 404

    def probe_events() -> list[dict[str, Any]]:
        return [
            event
            for event in deployment.events()
            if event["event"] == "prodguard.debugger.probe"
            and event.get("query") == "via-apache"
        ]

    [event] = wait_for(probe_events, "probe event")
    assert event["client_ip"] == CLIENT_IP
    assert event["path"] == "/console"


@pytest.mark.server
@pytest.mark.parametrize("accept", ["text/html", "application/json"])
@pytest.mark.parametrize(("path", "status"), [("/boom", 500), ("/nope", 404)])
def test_guard_error_pages_pass_through_unchanged(
    deployment: Deployment, path: str, status: int, accept: str
) -> None:
    """The guard's generic page, its headers and its error id reach the client as sent."""
    request = get(path, [("Accept", accept)])
    direct = exchange(deployment.app_port, request)
    proxied = exchange(deployment.apache_port, request, CLIENT_IP)
    assert direct.status == proxied.status == status

    [error_id] = proxied.header_values("X-Error-ID")
    assert ERROR_ID.fullmatch(error_id), error_id
    assert error_id.encode() in proxied.body
    [direct_id] = direct.header_values("X-Error-ID")
    # The same page, but for the request's own error id.
    assert proxied.body.replace(error_id.encode(), b"ID") == direct.body.replace(
        direct_id.encode(), b"ID"
    )
    for name in ("Content-Type", "Content-Length", "Cache-Control"):
        assert proxied.header_values(name) == direct.header_values(name), name
    # The app server's own Server header is not passed on: Apache's, without a version.
    assert direct.header_values("Server") == ["gunicorn"]
    assert proxied.header_values("Server") == ["Apache"]
    assert SECRET not in proxied.text and "RuntimeError" not in proxied.text

    def logged() -> list[dict[str, Any]]:
        return [event for event in deployment.events() if event.get("error_id") == error_id]

    # Support can find the event from the id the user saw.
    [event] = wait_for(logged, "the error's event")
    assert event["client_ip"] == CLIENT_IP
    assert event["path"] == path
    assert event["event"] == EVENTS[status]


#: Requests Apache refuses itself, before the app sees them.
REFUSED = {
    "request line over LimitRequestLine": (get("/" + "a" * 9000), 414),
    "header over LimitRequestFieldSize": (get("/", [("X-Big", "a" * 9000)]), 400),
    "more header fields than LimitRequestFields": (
        get("/", [(f"X-Field-{n}", "x") for n in range(101)]),
        400,
    ),
    "body announced over 16 MiB": (
        get("/", [("Content-Length", str(16 * 1024 * 1024 + 1))], method="POST"),
        413,
    ),
    "TRACE": (get("/", method="TRACE"), 405),
    "encoded slash": (get("/a%2Fb"), 404),
}


@pytest.mark.server
@pytest.mark.parametrize("case", sorted(REFUSED))
def test_apache_own_error_pages_disclose_no_version(deployment: Deployment, case: str) -> None:
    """A request Apache rejects itself gets a page and a Server header without a version."""
    request, status = REFUSED[case]
    answer = exchange(deployment.apache_port, request, CLIENT_IP)
    assert answer.status == status, answer.raw[:300]
    assert_no_version(answer)


@pytest.mark.server
def test_app_down_gets_a_503_without_version(
    tmp_path: Path, start: Callable[..., Process]
) -> None:
    """While nothing listens at the app's address, Apache's 503 names no version."""
    port, app_port = free_ports(2)
    generate(
        "--target", "apache", "--name", "shop", "--output", str(tmp_path),
        "--listen", f"127.0.0.1:{port}", "--bind", f"127.0.0.1:{app_port}",
    )  # fmt: skip
    conf = apache_conf(tmp_path / "apache", tmp_path / "shop.apache.conf")
    apache = start("apache", apache_argv(conf, "-DFOREGROUND"), tmp_path)
    answer = apache.wait_for(lambda: exchange(port, get("/")), "apache ready")
    assert answer.status == 503
    assert_no_version(answer)


# -- mod_wsgi --------------------------------------------------------------------------

#: The app's WSGI file for mod_wsgi, as docs/deployment.rst shows it.
WSGI_FILE = "from app import app as application\n"


def mod_wsgi_site(app_dir: Path, port: int, python_path: str) -> str:
    """The virtual host docs/deployment.rst shows for mod_wsgi, with the test's paths."""
    lines = [
        "ServerTokens Prod",
        "ServerSignature Off",
        f"Listen 127.0.0.1:{port}",
        f"<VirtualHost 127.0.0.1:{port}>",
        f"    WSGIDaemonProcess demo python-path={python_path} processes=2 threads=15",
        "    WSGIProcessGroup demo",
        "    WSGIApplicationGroup %{GLOBAL}",
        f"    WSGIScriptAlias / {app_dir}/demo.wsgi",
        f"    <Directory {app_dir}>",
        "        Require all granted",
        "    </Directory>",
        "</VirtualHost>",
    ]
    return "\n".join(lines) + "\n"


def unreadable_for_others(paths: list[Path]) -> Path | None:
    """The first of ``paths`` (or a directory above one) that other users cannot read."""
    for path in paths:
        for part in [*reversed(path.parents), path]:
            mode = part.stat().st_mode
            if not mode & stat.S_IROTH or (part.is_dir() and not mode & stat.S_IXOTH):
                return part
    return None


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """A fresh directory that every user can read (pytest's tmp_path is its owner's only)."""
    directory = Path(tempfile.mkdtemp(prefix="prodguard-mod-wsgi-"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory)


@pytest.mark.server
def test_mod_wsgi_serves_the_guarded_app(
    tmp_path: Path, world_readable_dir: Path, start: Callable[..., Process]
) -> None:
    """Under mod_wsgi the guard sees the client, serves its pages and ids, stops debuggers."""
    module = require_apache_module("wsgi")
    # mod_wsgi embeds one Python: the venv's packages must be built for its version.
    embedded = module.resolve().name.rpartition("-")[2]
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if embedded != running:
        pytest.skip(f"mod_wsgi here embeds Python {embedded}; the tests run on {running}")
    site_packages = Path(sysconfig.get_paths()["purelib"])
    package = Path(flask_prodguard.__file__).parent
    if os.geteuid() == 0:
        # mod_wsgi refuses to run an app as root: it runs as nobody (apache_conf's User).
        blocked = unreadable_for_others([site_packages, package])
        if blocked is not None:
            pytest.skip(f"as root, mod_wsgi runs the app as nobody, who cannot read {blocked}")
    app_dir = world_readable_dir
    (app_dir / "app.py").write_text(APP)
    (app_dir / "demo.wsgi").write_text(WSGI_FILE)
    for path in app_dir.iterdir():
        path.chmod(0o644)
    port = free_ports(1)[0]
    site = tmp_path / "demo.conf"
    site.write_text(mod_wsgi_site(app_dir, port, f"{app_dir}:{site_packages}"))
    conf = apache_conf(tmp_path / "apache", site, ("mpm_event", "authz_core", "wsgi"))
    # mod_wsgi's processes inherit Apache's environment (Debian's envvars), where
    # PRODGUARD_ENV is set; SetEnv would reach only the WSGI environ.
    argv = apache_argv(conf, "-DFOREGROUND")
    apache = start("apache", argv, tmp_path, PRODGUARD_ENV="staging")
    apache.wait_for(lambda: exchange(port, get("/")).status == 200, "mod_wsgi ready")

    seen = exchange(port, get("/whoami", FORGED), CLIENT_IP).json()
    assert seen["remote_addr"] == CLIENT_IP  # Apache's own peer address: no header believed
    boom = exchange(port, get("/boom"), CLIENT_IP)
    assert boom.status == 500
    [error_id] = boom.header_values("X-Error-ID")
    assert error_id.encode() in boom.body
    assert SECRET not in boom.text and "RuntimeError" not in boom.text
    assert boom.header_values("Server") == ["Apache"]
    probe = get("/console?__debugger__=yes&cmd=resource&f=style.css")
    assert exchange(port, probe, CLIENT_IP).status == 404

    def events() -> dict[str, dict[str, Any]]:
        # mod_wsgi writes the app's stderr to Apache's error log, after its own prefix.
        log = (tmp_path / "apache" / "error.log").read_text()
        found = [
            line[line.index('{"event"') :] for line in log.splitlines() if '{"event"' in line
        ]
        return {event["event"]: event for event in map(json.loads, found)}

    wanted = {"prodguard.error.unhandled", "prodguard.debugger.probe"}
    logged = wait_for(lambda: wanted <= events().keys() and events(), "the events in the log")
    assert logged["prodguard.error.unhandled"]["error_id"] == error_id
    assert logged["prodguard.error.unhandled"]["client_ip"] == CLIENT_IP
    assert logged["prodguard.error.unhandled"]["env"] == "staging"
    assert logged["prodguard.debugger.probe"]["client_ip"] == CLIENT_IP
    assert logged["prodguard.debugger.probe"]["path"] == "/console"
