"""``flask prodguard deploy-config``: the generated files, checked by the real programs.

Every generated file is given to the program that will read it in production:
``nginx -t`` and a real nginx in front of the app, ``supervisord`` restarting a
killed app, ``systemd-analyze verify`` on the unit, and gunicorn reading its
``gunicorn.conf.py``. Servers listen on 127.0.0.1 only; each runs in its own
session, its whole process group is stopped at the end, and its output is kept
under ``tmp_path`` and printed at teardown, so a failing test shows it.

The app is written to ``tmp_path`` and started as an operator would start it,
with ``PRODGUARD_ENV=production`` in the environment. It copies
``PRODGUARD_TRUSTED_PROXIES`` and ``PRODGUARD_LOG_DESTINATION`` from the
environment into ``app.config``: the guard reads only ``PRODGUARD_ENV`` and
``PRODGUARD_STRICTNESS`` from the process environment itself.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from click.testing import Result
from flask_prodguard.tools.cli import prodguard

from servers import READY_TIMEOUT
from servers import Process
from servers import free_port
from servers import free_ports
from servers import require_program
from servers import send_and_receive
from servers import server_environ
from servers import start_process
from servers import wait_for

BIN = Path(sys.executable).parent
VENV = BIN.parent
FLASK = str(BIN / "flask")
GUNICORN = str(BIN / "gunicorn")

#: A second loopback address: the "remote" client, distinguishable from the
#: proxy (nginx connects to the app from 127.0.0.1).
CLIENT_IP = "127.0.0.5"
SPOOFED_IP = "6.6.6.6"

APP = '''\
"""Guarded app for tests/test_deploy.py."""

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
# The guard reads these two from app.config only.
if os.environ.get("PRODGUARD_TRUSTED_PROXIES"):
    app.config["PRODGUARD_TRUSTED_PROXIES"] = int(os.environ["PRODGUARD_TRUSTED_PROXIES"])
if os.environ.get("PRODGUARD_LOG_DESTINATION"):
    app.config["PRODGUARD_LOG_DESTINATION"] = os.environ["PRODGUARD_LOG_DESTINATION"]


@app.get("/")
def index():
    return "hello"


@app.get("/whoami")
def whoami():
    return {
        "scheme": request.scheme,
        "remote_addr": request.remote_addr,
        "host": request.host,
        "script_root": request.script_root,
        "x_forwarded_for": request.headers.get("X-Forwarded-For"),
        "pid": os.getpid(),
        "ppid": os.getppid(),
        # Settings only: the guard itself exports PRODGUARD_PARENT_STRICTNESS.
        "env": {
            k: v
            for k, v in os.environ.items()
            if k.startswith("PRODGUARD_") and k != "PRODGUARD_PARENT_STRICTNESS"
        },
    }


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


def write_app(directory: Path) -> Path:
    """Write the test app into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "app.py").write_text(APP)
    return directory


EXPECTED_NAMES = {
    "gunicorn": "gunicorn.conf.py",
    "supervisor": "shop.supervisor.conf",
    "systemd": "shop.service",
    "nginx": "shop.nginx.conf",
    "apache": "shop.apache.conf",
}


@pytest.mark.parametrize("target", sorted(EXPECTED_NAMES))
def test_output_writes_the_usual_file_name(tmp_path: Path, target: str) -> None:
    """--output DIR writes the file under its usual name and says where."""
    out = tmp_path / "deploy"
    # The module is read (never imported) for gunicorn: it must be there.
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "wsgi.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n"
    )
    args = ["--target", target, "--app", "shop.wsgi:app", "--directory", str(tmp_path)]
    result = deploy_config(*args, "--output", str(out))
    assert result.exit_code == 0, result.output + result.stderr
    path = out / EXPECTED_NAMES[target]
    assert [p.name for p in out.iterdir()] == [path.name]
    assert str(path.resolve()) in result.stdout
    assert path.read_text() == generate(*args)


def test_output_does_not_replace_a_file_without_force(tmp_path: Path) -> None:
    """An existing file is kept unless --force is given: refused, exit 2, naming it."""
    path = tmp_path / "shop.service"
    path.write_text("hand-edited\n")
    args = ["--target", "systemd", "--app", "shop:app", "--output", str(tmp_path)]
    result = deploy_config(*args)
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert str(path) in result.stderr
    assert path.read_text() == "hand-edited\n"
    assert deploy_config(*args, "--force").exit_code == 0
    assert "[Service]" in path.read_text()


def test_unknown_target_exits_2(tmp_path: Path) -> None:
    """The real flask command rejects an unknown --target with exit status 2."""
    result = subprocess.run(
        [FLASK, "--app", "shop:app", "prodguard", "deploy-config", "--target", "caddy"],
        cwd=tmp_path,
        env=server_environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result
    assert "--target" in result.stderr
    assert "caddy" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--bind", "127.0.0.1"],
        ["--bind", "127.0.0.1:99999"],
        ["--name", "my app"],
        ["--listen", "80; evil"],
        ["--server-name", "a;b"],
        ["--user", "x\ny"],
        ["--app", "shop:app\nExecStartPre=/bin/sh"],
    ],
)
def test_bad_values_exit_2(args: list[str]) -> None:
    """Values that would break or inject into a generated file are usage errors."""
    base = ["--target", "systemd", "--app", "shop:app"]
    result = deploy_config(*base, *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""


def test_app_defaults_to_the_flask_command_app(tmp_path: Path) -> None:
    """flask --app ... is the app, and its top-level module the default name."""
    result = subprocess.run(
        [FLASK, "--app", "shop.wsgi:create_app()", "prodguard", "deploy-config"]
        + ["--target", "supervisor", "--venv", "/srv/shop/venv"],
        cwd=tmp_path,
        env=server_environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result
    assert "[program:shop]\n" in result.stdout
    command = next(line for line in result.stdout.splitlines() if line.startswith("command="))
    assert shlex.split(command.removeprefix("command=")) == [
        "/srv/shop/venv/bin/flask",
        "--app",
        "shop.wsgi:create_app()",
        "prodguard",
        "serve",
        "--server",
        "gunicorn",
        "--bind",
        "127.0.0.1:8000",
    ]
    assert "user=shop\n" in result.stdout


def test_no_app_is_a_usage_error(tmp_path: Path) -> None:
    """A file that runs the app needs to know the app; nginx does not."""
    env = server_environ()
    result = subprocess.run(
        [FLASK, "prodguard", "deploy-config", "--target", "systemd"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result
    assert "--app" in result.stderr
    assert "server {" in generate("--target", "nginx")


def test_nginx_block_replaces_forwarded_headers() -> None:
    """The nginx block overwrites every X-Forwarded-* header the app trusts."""
    text = generate("--target", "nginx", "--bind", "127.0.0.1:8001", "--server-name", "a.test")
    directives = {
        line.strip() for line in text.splitlines() if not line.strip().startswith("#")
    }
    assert {
        "proxy_pass http://127.0.0.1:8001;",
        "server_name a.test;",
        "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $host;",
        "proxy_set_header X-Forwarded-Port $server_port;",
        'proxy_set_header X-Forwarded-Prefix "";',
    } <= directives
    assert not any("proxy_add_x_forwarded_for" in line for line in directives)
    assert "PRODGUARD_TRUSTED_PROXIES=1" in text
    # A wildcard bind is proxied to over loopback.
    assert "proxy_pass http://127.0.0.1:8001;" in generate(
        "--target", "nginx", "--bind", "0.0.0.0:8001"
    )


def test_behind_proxy_sets_trusted_proxies() -> None:
    """--behind-proxy (the default) sets PRODGUARD_TRUSTED_PROXIES=1; --no-behind-proxy not."""
    base = ["--app", "shop:app"]
    systemd = generate("--target", "systemd", *base)
    supervisor = generate("--target", "supervisor", *base)
    assert "Environment=PRODGUARD_TRUSTED_PROXIES=1\n" in systemd
    assert "Environment=PRODGUARD_ENV=production\n" in systemd
    assert 'environment=PRODGUARD_ENV="production",PRODGUARD_TRUSTED_PROXIES="1"' in supervisor
    for target in ("systemd", "supervisor", "gunicorn"):
        # No module shop here to read: --no-factory says shop:app is the app.
        said = ["--no-factory"] if target == "gunicorn" else []
        text = generate("--target", target, *base, "--no-behind-proxy", *said)
        assert "PRODGUARD_TRUSTED_PROXIES" not in text
        assert "PRODGUARD_ENV" in text


def test_behind_proxy_on_a_public_address_warns() -> None:
    """Trusting a proxy hop while listening beyond loopback earns a warning."""
    # A fixed directory and venv: the checkout (and its venv) may live under /tmp,
    # which earns its own warning with the unit's PrivateTmp=yes.
    where = ("--directory", "/srv/shop", "--venv", "/opt/shop/venv")
    result = deploy_config(
        "--target", "systemd", "--app", "shop:app", "--bind", "0.0.0.0:80", *where
    )
    assert result.exit_code == 0
    assert "forge X-Forwarded-For" in result.stderr
    quiet = deploy_config("--target", "systemd", "--app", "shop:app", *where)
    assert quiet.stderr == ""


def test_systemd_unit_has_the_sandboxing_options() -> None:
    """The unit restarts on failure, stops with SIGTERM and is sandboxed."""
    text = generate("--target", "systemd", "--app", "shop:app", "--user", "www-data")
    lines = set(text.splitlines())
    assert {
        "Type=exec",
        "User=www-data",
        "Restart=on-failure",
        "KillSignal=SIGTERM",
        "TimeoutStopSec=40",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectControlGroups=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "RestrictNamespaces=yes",
        "LockPersonality=yes",
        "MemoryDenyWriteExecute=yes",
        "SystemCallArchitectures=native",
        "CapabilityBoundingSet=",
    } <= lines
    # An app under /home stays readable.
    home = generate("--target", "systemd", "--app", "shop:app", "--directory", "/home/u/shop")
    assert "ProtectHome=read-only" in home.splitlines()


def test_odd_app_strings_are_quoted() -> None:
    """A factory call with arguments survives supervisor's and systemd's parsing."""
    app = "shop:create_app('prod 1')"
    supervisor = generate("--target", "supervisor", "--app", app)
    command = next(line for line in supervisor.splitlines() if line.startswith("command="))
    assert shlex.split(command.removeprefix("command="))[2] == app
    systemd = generate("--target", "systemd", "--app", app)
    assert f'--app "{app}" prodguard serve' in systemd


# -- processes -----------------------------------------------------------------------


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """Return ``start(name, argv, cwd, **env)``; everything is stopped at teardown."""
    started: list[Process] = []

    def run(name: str, argv: list[str], cwd: Path, **variables: str) -> Process:
        log = tmp_path / f"{name}.log"
        process = start_process(argv, cwd, log, server_environ(**variables))
        started.append(process)
        return process

    yield run
    for process in reversed(started):
        process.stop()
        print(f"--- {process.proc.args!r}, exit code {process.proc.poll()}")
        print(process.output())


@dataclasses.dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    port: int,
    target: str,
    headers: dict[str, str] | None = None,
    source: str = "127.0.0.1",
    timeout: float = 10.0,
) -> Response:
    """One HTTP/1.0 request to 127.0.0.1:port from ``source``; read to EOF."""
    lines = [f"GET {target} HTTP/1.0", "Host: example.test", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode()
    raw, ending = send_and_receive(port, data, timeout, source=source)
    if ending != "eof":
        raise ConnectionError(f"{ending} while reading the response to {target!r}: {raw!r}")
    if not raw.startswith(b"HTTP/"):
        # Closed without an answer: a server going away (wait_for tries again).
        raise ConnectionError(f"no HTTP response: {raw[:100]!r}")
    head, _, body = raw.partition(b"\r\n\r\n")
    return Response(int(head.split()[1]), body)


def whoami(port: int, **options: Any) -> dict[str, Any]:
    """What the app saw of a request to /whoami."""
    response = http(port, "/whoami", **options)
    assert response.status == 200, response
    return dict(response.json())


def read_events(path: Path) -> list[dict[str, Any]]:
    """The security events the guard wrote to its log file."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def probe_events(path: Path, marker: str) -> list[dict[str, Any]]:
    """``prodguard.debugger.probe`` events for requests whose query is ``marker``."""
    return [
        event
        for event in read_events(path)
        if event["event"] == "prodguard.debugger.probe" and event.get("query") == marker
    ]


# -- nginx ---------------------------------------------------------------------------


def nginx_conf(tmp_path: Path, site: Path) -> Path:
    """A minimal nginx.conf that keeps everything in tmp_path and includes ``site``."""
    prefix = tmp_path / "nginx"
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    # As root, nginx would switch its workers to "nobody", who cannot enter tmp_path.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}"
        "daemon off;\n"
        "worker_processes 1;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log info;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"    access_log {prefix}/access.log;\n"
        f"    client_body_temp_path {prefix}/client_body;\n"
        f"    proxy_temp_path {prefix}/proxy;\n"
        f"    fastcgi_temp_path {prefix}/fastcgi;\n"
        f"    uwsgi_temp_path {prefix}/uwsgi;\n"
        f"    scgi_temp_path {prefix}/scgi;\n"
        f"    include {site};\n"
        "}\n"
    )
    return conf


def nginx_argv(tmp_path: Path, conf: Path, *extra: str) -> list[str]:
    """nginx with its prefix, configuration and start-up error log in tmp_path."""
    prefix = tmp_path / "nginx"
    nginx = require_program("nginx")
    return [nginx, "-p", f"{prefix}/", "-c", str(conf), "-e", str(prefix / "error.log"), *extra]


def test_nginx_accepts_the_server_block(tmp_path: Path) -> None:
    """nginx -t accepts a configuration that includes the generated block."""
    site = tmp_path / "deploy"
    generate("--target", "nginx", "--name", "shop", "--output", str(site))
    conf = nginx_conf(tmp_path, site / "shop.nginx.conf")
    result = subprocess.run(
        nginx_argv(tmp_path, conf, "-t"), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.server
def test_nginx_in_front_passes_the_real_client(
    tmp_path: Path, start: Callable[..., Process]
) -> None:
    """Through nginx the app sees the real client, never a client's forged header."""
    app_dir = write_app(tmp_path / "app")
    events_log = tmp_path / "events.log"
    app_port, nginx_port = free_ports(2)
    app = start(
        "app",
        [FLASK, "--app", "app", "prodguard", "serve", "--server", "gunicorn"]
        + ["--bind", f"127.0.0.1:{app_port}", "--workers", "1"],
        app_dir,
        PRODGUARD_ENV="production",
        PRODGUARD_TRUSTED_PROXIES="1",
        PRODGUARD_LOG_DESTINATION=str(events_log),
    )
    site = tmp_path / "deploy"
    generate(
        "--target", "nginx", "--name", "shop", "--output", str(site),
        "--bind", f"127.0.0.1:{app_port}", "--listen", f"127.0.0.1:{nginx_port}",
        "--server-name", "example.test",
    )  # fmt: skip
    conf = nginx_conf(tmp_path, site / "shop.nginx.conf")
    nginx = start("nginx", nginx_argv(tmp_path, conf), tmp_path)
    app.wait_for(lambda: http(app_port, "/").status == 200, "app ready")
    nginx.wait_for(lambda: http(nginx_port, "/").status == 200, "nginx ready")

    forged = {
        "X-Forwarded-For": SPOOFED_IP,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.test",
        "X-Forwarded-Prefix": "/evil",
    }
    # Through nginx, from another loopback address, with forged headers: nginx
    # replaced every one of them, so the app sees the client nginx saw.
    seen = whoami(nginx_port, headers=forged, source=CLIENT_IP)
    assert seen["remote_addr"] == CLIENT_IP
    assert seen["x_forwarded_for"] == CLIENT_IP  # replaced, not appended to
    assert seen["scheme"] == "http"
    assert seen["host"] == f"example.test:{nginx_port}"
    assert seen["script_root"] == ""
    assert seen["env"]["PRODGUARD_TRUSTED_PROXIES"] == "1"
    probe = http(nginx_port, "/console?via-nginx", headers=forged, source=CLIENT_IP)
    assert probe.status == 404
    [event] = wait_for(lambda: probe_events(events_log, "via-nginx"), "probe event")
    assert event["client_ip"] == CLIENT_IP
    assert event["path"] == "/console"

    # Straight to gunicorn, bypassing nginx: with one trusted hop, ProxyFix
    # believes the last value of each X-Forwarded-* header, whoever sent it. This
    # is why the generated files bind the app to loopback (and warn otherwise):
    # nothing but nginx may be able to reach it.
    direct = whoami(app_port, headers=forged, source=CLIENT_IP)
    assert direct["remote_addr"] == SPOOFED_IP
    assert direct["scheme"] == "https"
    assert direct["host"] == "evil.test"
    assert direct["script_root"] == "/evil"
    assert http(app_port, "/console?direct", headers=forged, source=CLIENT_IP).status == 404
    [event] = wait_for(lambda: probe_events(events_log, "direct"), "direct probe event")
    assert event["client_ip"] == SPOOFED_IP
    # Without the headers, the peer address stands.
    assert whoami(app_port, source=CLIENT_IP)["remote_addr"] == CLIENT_IP


# -- gunicorn ------------------------------------------------------------------------


def test_gunicorn_reads_the_settings(tmp_path: Path) -> None:
    """gunicorn --print-config shows serve's settings from the generated file."""
    app_dir = write_app(tmp_path / "app")
    generate(
        "--target", "gunicorn", "--app", "app", "--output", str(app_dir),
        "--directory", str(app_dir), "--bind", "127.0.0.1:8123", "--workers", "3",
    )  # fmt: skip
    result = subprocess.run(
        [GUNICORN, "--print-config", "-c", "gunicorn.conf.py"],
        cwd=app_dir,
        env=server_environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    settings = {}
    for line in result.stdout.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            settings[key.strip()] = value.strip()
    assert settings["wsgi_app"] == "app:app"
    assert settings["chdir"] == str(app_dir)
    assert settings["bind"] == "['127.0.0.1:8123']"
    assert settings["workers"] == "3"
    assert settings["reload"] == "False"
    assert settings["forwarded_allow_ips"] == "[]"
    assert settings["accesslog"] == "-"
    assert settings["errorlog"] == "-"
    assert settings["control_socket_disable"] == "True"
    assert settings["raw_env"] == "['PRODGUARD_ENV=production', 'PRODGUARD_TRUSTED_PROXIES=1']"
    assert "ServerJSONFormatter" in settings["logconfig_dict"]


@pytest.mark.server
def test_gunicorn_conf_serves_without_trusting_proxy_headers(
    tmp_path: Path, start: Callable[..., Process]
) -> None:
    """gunicorn -c gunicorn.conf.py serves the app; gunicorn itself trusts no proxy header."""
    app_dir = write_app(tmp_path / "app")
    port = free_port()
    generate(
        "--target", "gunicorn", "--app", "app", "--output", str(app_dir),
        "--directory", str(app_dir), "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--no-behind-proxy",
    )  # fmt: skip
    home = tmp_path / "home"
    home.mkdir()
    server = start("gunicorn", [GUNICORN, "-c", "gunicorn.conf.py"], app_dir, HOME=str(home))
    server.wait_for(lambda: http(port, "/").status == 200, "gunicorn ready")
    # gunicorn's default would believe X-Forwarded-Proto from 127.0.0.1.
    seen = whoami(port, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": SPOOFED_IP})
    assert seen["scheme"] == "http"
    assert seen["remote_addr"] == "127.0.0.1"
    assert seen["env"] == {"PRODGUARD_ENV": "production"}
    lines = wait_for(
        lambda: [
            json.loads(line)
            for line in server.output().splitlines()
            if '"server.access"' in line and "/whoami" in line
        ],
        "access log line",
    )
    assert lines[0]["status"] == 200
    assert not list(home.rglob("*.ctl")), "gunicorn opened a control socket"


# -- supervisor ----------------------------------------------------------------------


@pytest.mark.server
def test_supervisor_restarts_a_killed_app(
    tmp_path: Path, start: Callable[..., Process]
) -> None:
    """supervisord runs the generated program and restarts it after a SIGKILL."""
    supervisord_program = require_program("supervisord")
    supervisorctl = require_program("supervisorctl")
    app_dir = write_app(tmp_path / "app")
    port = free_port()
    conf_d = tmp_path / "conf.d"
    generate(
        "--target", "supervisor", "--app", "app", "--name", "shop", "--output", str(conf_d),
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--user", getpass.getuser(),
        "--directory", str(app_dir), "--venv", str(VENV), "--log-dir", str(tmp_path),
    )  # fmt: skip
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        "[unix_http_server]\n"
        f"file={tmp_path}/supervisor.sock\n"
        "[supervisord]\n"
        "nodaemon=true\n"
        f"logfile={tmp_path}/supervisord.log\n"
        f"pidfile={tmp_path}/supervisord.pid\n"
        f"childlogdir={tmp_path}\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
        "[supervisorctl]\n"
        f"serverurl=unix://{tmp_path}/supervisor.sock\n"
        "[include]\n"
        f"files = {conf_d}/*.conf\n"
    )
    supervisord = start("supervisord", [supervisord_program, "-c", str(conf)], tmp_path)

    def ctl(*args: str) -> str:
        result = subprocess.run(
            [supervisorctl, "-c", str(conf), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return result.stdout.strip()

    def master_serving(old: int | None) -> int | None:
        # The program's pid (the gunicorn master) is the parent of the worker
        # that answers: not an orphaned worker of a killed master.
        text = ctl("pid", "shop")  # not a number until supervisord is up
        pid = int(text) if text.isdigit() else 0
        if not pid or pid == old:
            return None
        response = http(port, "/whoami", timeout=2.0)
        return pid if response.status == 200 and response.json()["ppid"] == pid else None

    try:
        first = supervisord.wait_for(lambda: master_serving(None), "program running")
        assert whoami(port)["env"]["PRODGUARD_ENV"] == "production"
        # Killed while STARTING (before startsecs), supervisor would retry even
        # without autorestart: wait until it counts the program as running.
        supervisord.wait_for(lambda: "RUNNING" in ctl("status", "shop"), "program RUNNING")
        os.kill(first, signal.SIGKILL)
        # The killed master's worker lives on until it notices its new parent:
        # after serving one more request, or after half the worker timeout.
        # Polling gets it to leave; the new master retries binding meanwhile.
        second = supervisord.wait_for(lambda: master_serving(first), "program restarted")
        assert second != first
        assert "RUNNING" in ctl("status", "shop") or "STARTING" in ctl("status", "shop")
        assert "terminated by SIGKILL" in (tmp_path / "supervisord.log").read_text()
        assert '"prodguard.startup.posture"' in (tmp_path / "shop.err.log").read_text()
    finally:
        ctl("shutdown")
        supervisord.proc.wait(READY_TIMEOUT)
    assert supervisord.proc.returncode == 0
    with pytest.raises(OSError):
        http(port, "/", timeout=1.0)


# -- systemd -------------------------------------------------------------------------


def systemd_verify(unit: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` on one unit file, without generators or man pages."""
    systemd_analyze = require_program("systemd-analyze")
    return subprocess.run(
        [systemd_analyze, "verify", "--man=no", "--generators=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_systemd_analyze_accepts_the_unit(tmp_path: Path) -> None:
    """systemd-analyze verify finds nothing to say about the generated unit."""
    out = tmp_path / "units"
    generate(
        "--target", "systemd", "--app", "app:app", "--name", "shop", "--output", str(out),
        "--venv", str(VENV), "--directory", "/srv/shop",
    )  # fmt: skip
    unit = out / "shop.service"
    result = systemd_verify(unit)
    output = result.stdout + result.stderr
    # Lines about the host (no D-Bus, no /etc/systemd...) are not ours to fix.
    about_unit = [line for line in output.splitlines() if "shop.service" in line]
    assert result.returncode == 0, output
    assert about_unit == [], output

    # Spaces in paths and quotes in the app survive systemd's parsing: else the
    # executable would be "/.../my" and reported missing.
    odd_venv = tmp_path / "my venv"
    (odd_venv / "bin").mkdir(parents=True)
    (odd_venv / "bin" / "flask").symlink_to(BIN / "flask")
    generate(
        "--target", "systemd", "--app", "app:create_app('a b')", "--name", "odd",
        "--output", str(out), "--venv", str(odd_venv), "--directory", "/srv/my shop",
    )  # fmt: skip
    result = systemd_verify(out / "odd.service")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert [line for line in output.splitlines() if "odd.service" in line] == [], output

    # The verifier does read the file: a bad key or a missing binary is reported.
    bad = tmp_path / "bad" / "shop.service"
    bad.parent.mkdir()
    bad.write_text(unit.read_text().replace("[Service]\n", "[Service]\nBogusKey=1\n"))
    assert "BogusKey" in (lambda r: r.stdout + r.stderr)(systemd_verify(bad))
    generate(
        "--target", "systemd", "--app", "app:app", "--name", "shop", "--force",
        "--output", str(bad.parent), "--venv", str(tmp_path / "no-venv"),
    )  # fmt: skip
    missing = systemd_verify(bad)
    assert missing.returncode != 0
    assert "not executable" in missing.stdout + missing.stderr


def test_gunicorn_config_calls_a_factory(tmp_path: Path) -> None:
    """--app module:create_app gets the () that gunicorn needs to call a factory."""
    from flask_prodguard.tools.deploy import gunicorn_app

    (tmp_path / "factory_mod.py").write_text(
        "from flask import Flask\n\n"
        "def build():\n    return Flask('built')\n\n"
        "application = Flask('ready')\n"
    )
    assert gunicorn_app("factory_mod:build", tmp_path) == "factory_mod:build()"
    assert gunicorn_app("factory_mod:application", tmp_path) == "factory_mod:application"
    assert gunicorn_app("factory_mod:build()", tmp_path) == "factory_mod:build()"
    # A bare module: found as Flask finds it (app, application, then a factory).
    assert gunicorn_app("factory_mod", tmp_path) == "factory_mod:application"
    (tmp_path / "only_factory.py").write_text(
        "from flask import Flask\n\ndef create_app():\n    return Flask('made')\n"
    )
    assert gunicorn_app("only_factory", tmp_path) == "only_factory:create_app()"
    # A module that is not here cannot be read: no guess from the name, the
    # user says (--factory, --no-factory, or the call written out).
    for app in ("not_importable_here", "not_importable_here:create_app"):
        with pytest.raises(click.BadParameter, match="cannot tell"):
            gunicorn_app(app, tmp_path)
    assert (
        gunicorn_app("not_importable_here:create_app", tmp_path, factory=True)
        == "not_importable_here:create_app()"
    )
    assert (
        gunicorn_app("not_importable_here:wsgi", tmp_path, factory=False)
        == "not_importable_here:wsgi"
    )
