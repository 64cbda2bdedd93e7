"""Helpers for the tests that run real server processes on 127.0.0.1.

A server is started in its own session, with its output in files, and its
whole process group is stopped at the end. Requests go over raw sockets, so
that what is sent and what comes back can be looked at byte for byte.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO
from typing import Any

import pytest

#: How long a server may take to start serving.
READY_TIMEOUT = 20.0
#: How long a process may take to exit after each signal.
STOP_TIMEOUT = 5.0

#: Prefixes of the variables that steer Flask, Werkzeug, gunicorn, the guard or pytest.
_STEERING_PREFIXES = ("FLASK_", "WERKZEUG_", "PRODGUARD_", "GUNICORN_", "PYTEST_")

# -- programs ------------------------------------------------------------------------

#: The Debian package of each program the tests start that pip does not install.
#: ``run-tests`` at the top of the repository installs them (keep the two in step:
#: tests/test_setup_script.py checks).
DEBIAN_PACKAGES = {
    "nginx": "nginx-light",
    "apache2": "apache2",
    "apachectl": "apache2",
    "systemd-analyze": "systemd",
    "mtail": "mtail",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "chromium": "chromium",
}
#: The Python package, from the ``test`` extra, of each program the tests start from the venv.
PYTHON_PACKAGES = {
    "supervisord": "supervisor",
    "supervisorctl": "supervisor",
}
#: The venv's scripts, searched first: pytest may run without the venv on $PATH.
VENV_BIN = Path(sys.executable).parent
#: Searched after $PATH: nginx and apache2 are in /usr/sbin, not on an ordinary user's $PATH.
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")


def running_in_ci() -> bool:
    """Whether ``$CI`` says this is a CI run (``true``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require_program(name: str) -> str:
    """The path of the program ``name``; without it, end the test with one line.

    The line names the program, its package and how to install it. In CI
    (``CI=true``) the test fails: CI installs everything, so a missing
    program is a broken set-up. Elsewhere it is skipped with that line, which
    ``-ra`` lists at the end of the run.

    :param name: a program of :data:`DEBIAN_PACKAGES` or :data:`PYTHON_PACKAGES`.
    :raises KeyError: for a program in neither table (say where it comes from).
    """
    if name in DEBIAN_PACKAGES:
        package = DEBIAN_PACKAGES[name]
        how = f"Debian package {package}: apt-get install {package}"
    else:
        package = PYTHON_PACKAGES[name]
        how = f"Python package {package}: .venv/bin/pip install -e '.[test]'"
    search = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", os.defpath), *SBIN_DIRS])
    found = shutil.which(name, path=search)
    if found is not None:
        return found
    line = f"{name} is not installed ({how}; ./run-tests installs it)"
    if running_in_ci():
        pytest.fail(line, pytrace=False)
    pytest.skip(line)


# -- ports and environment -----------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """``count`` different ports nobody listens on right now."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    """A port nobody listens on right now."""
    return free_ports(1)[0]


def server_environ(**variables: str) -> dict[str, str]:
    """The inherited environment without anything that would steer Flask,
    Werkzeug, gunicorn or the guard, plus ``variables``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_STEERING_PREFIXES)
    }
    # No stray .env/.flaskenv above tmp_path may change the run.
    env["FLASK_SKIP_DOTENV"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(variables)
    return env


# -- the servers ---------------------------------------------------------------------

#: A script that serves ``app:app`` with waitress on $APP_PORT, tracebacks shown to clients.
WAITRESS_EXPOSE_TRACEBACKS_SOURCE = """\
import os

import waitress

from app import app

waitress.serve(app, host="127.0.0.1", port=int(os.environ["APP_PORT"]), expose_tracebacks=True)
"""


def gunicorn_extra_options() -> list[str]:
    """Options every gunicorn the tests start gets, for the gunicorn installed."""
    # gunicorn >= 25.1 opens a control socket under $HOME by default: not here.
    from gunicorn import config

    return ["--no-control-socket"] if hasattr(config, "ControlSocketDisable") else []


# -- Apache --------------------------------------------------------------------------

#: Where Debian's apache2 package keeps Apache's modules.
APACHE_MODULES = Path("/usr/lib/apache2/modules")
#: The Debian package of each Apache module the tests load that apache2 lacks.
#: ``run-tests`` installs them too (it looks for the ``.so`` file).
APACHE_MODULE_PACKAGES = {"wsgi": "libapache2-mod-wsgi-py3"}
#: The modules the file of ``deploy-config --target apache`` needs, with an MPM.
APACHE_PROXY_MODULES = ("mpm_event", "authz_core", "alias", "proxy", "proxy_http", "headers")


def apache_conf(
    directory: Path, site: Path, modules: tuple[str, ...] = APACHE_PROXY_MODULES
) -> Path:
    """A minimal Apache configuration, written to ``directory``, that includes ``site``.

    Everything Apache writes (pid file, error log, runtime files) stays in
    ``directory``; no system service is involved. It says ``ServerTokens
    OS`` and ``ServerSignature On`` before the include, as Debian's
    ``conf-enabled/security.conf`` does before ``sites-enabled/``, so that
    ``site`` has to hide the version itself. As root, Apache's children run
    as ``nobody``: Apache refuses to serve as root.

    :param directory: Apache's ServerRoot; created if missing.
    :param site: The file to include, at the top level as Debian includes a site.
    :param modules: The modules to load, by name without ``mod_``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        f'ServerRoot "{directory}"',
        f'PidFile "{directory}/apache2.pid"',
        f'DefaultRuntimeDir "{directory}"',
        f'ErrorLog "{directory}/error.log"',
        "LogLevel warn",
        *(f"LoadModule {name}_module {APACHE_MODULES}/mod_{name}.so" for name in modules),
    ]
    if os.geteuid() == 0:
        import grp
        import pwd

        nobody = pwd.getpwnam("nobody")
        lines += ["User nobody", f"Group {grp.getgrgid(nobody.pw_gid).gr_name}"]
    lines += ["ServerTokens OS", "ServerSignature On", f'Include "{site}"']
    conf = directory / "apache2.conf"
    conf.write_text("\n".join(lines) + "\n")
    return conf


def require_apache_module(name: str) -> Path:
    """The ``.so`` file of Apache's module ``name``; without it, end the test as
    :func:`require_program` does (failing in CI, skipped elsewhere).

    :param name: a module of :data:`APACHE_MODULE_PACKAGES`, without ``mod_``.
    """
    path = APACHE_MODULES / f"mod_{name}.so"
    if path.exists():
        return path
    package = APACHE_MODULE_PACKAGES[name]
    line = (
        f"Apache's mod_{name} is not installed (Debian package {package}:"
        f" apt-get install {package}; ./run-tests installs it)"
    )
    if running_in_ci():
        pytest.fail(line, pytrace=False)
    pytest.skip(line)


def apache_argv(conf: Path, *extra: str) -> list[str]:
    """``apache2`` with the configuration ``conf``: ``-DFOREGROUND`` to serve, or ``-t``."""
    return [require_program("apache2"), "-f", str(conf), *extra]


# -- processes -----------------------------------------------------------------------


def start_in_session(
    argv: list[str], cwd: Path, env: dict[str, str], stdout: IO[bytes], stderr: IO[bytes] | int
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, so that its whole process group can be stopped.

    stdin is /dev/null; ``stderr`` may be ``subprocess.STDOUT``.
    """
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )


def kill_process_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL whatever is left of ``proc``'s process group."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_process_group(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM ``proc``'s whole process group, SIGKILL it after ``timeout``.

    Whatever is still left of the group at the end is killed too: nothing of
    the session may outlive the test (a gunicorn worker or a reloader child,
    say).
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout)
            break
        except subprocess.TimeoutExpired:
            continue
    kill_process_group(proc)


def wait_for(
    condition: Callable[[], Any],
    what: str,
    timeout: float = READY_TIMEOUT,
    details: Callable[[], str] | None = None,
    *,
    process: subprocess.Popen[bytes] | None = None,
    interval: float = 0.1,
) -> Any:
    """Poll ``condition`` until it returns something true, and return that.

    An ``OSError`` or ``http.client.HTTPException`` from ``condition`` counts
    as "not yet" (a server still starting). The test fails after ``timeout``
    seconds, or as soon as ``process`` has exited; the failure message names
    ``what`` and ends with ``details()``.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process exited\n{details() if details else ''}")
        try:
            value = condition()
        except (OSError, http.client.HTTPException):
            value = None
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"{what}: not after {timeout:g} s\n{details() if details else ''}")


@dataclasses.dataclass
class Server:
    """A server process, the port it serves on and the files with its output."""

    proc: subprocess.Popen[bytes]
    port: int
    stdout_path: Path
    stderr_path: Path

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stdout_bytes(self) -> bytes:
        return self.stdout_path.read_bytes()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stderr_bytes(self) -> bytes:
        return self.stderr_path.read_bytes()

    def output(self) -> str:
        """stdout and stderr together (Flask's banner goes to stdout)."""
        return self.stdout() + self.stderr()

    def events(self) -> list[dict[str, Any]]:
        """The JSON event lines on stderr."""
        return json_events(self.stderr())

    def logs(self) -> str:
        """The command, its exit code and all its output, for a failure message."""
        return (
            f"--- command: {self.proc.args!r}, exit code {self.proc.poll()}\n"
            f"--- stdout:\n{self.stdout()}"
            f"--- stderr:\n{self.stderr()}"
        )

    def wait_ready(self, answers: Callable[[int], Any], timeout: float = READY_TIMEOUT) -> None:
        """Poll until ``answers(port)`` is true; fail if the process exits first."""
        wait_for(
            lambda: answers(self.port), "server ready", timeout, self.logs, process=self.proc
        )

    def wait_exit(self, timeout: float) -> int | None:
        """The exit status, or None when the process is still running after ``timeout``."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """SIGTERM the whole process group, SIGKILL it after a timeout."""
        stop_process_group(self.proc)

    def kill(self) -> None:
        """SIGKILL whatever is left of the session at once, and reap the process."""
        kill_process_group(self.proc)
        self.proc.wait(STOP_TIMEOUT)


def start_server(argv: list[str], cwd: Path, port: int, env: dict[str, str]) -> Server:
    """Start ``argv`` in ``cwd`` in its own session, its output to files in ``cwd``."""
    stdout_path = cwd / "stdout.log"
    stderr_path = cwd / "stderr.log"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        proc = start_in_session(argv, cwd, env, stdout, stderr)
    return Server(proc, port, stdout_path, stderr_path)


def start_on_free_port(
    command: Callable[[int], list[str]], cwd: Path, **variables: str
) -> Server:
    """Start ``command(port)`` in ``cwd`` on a free port, told as $APP_PORT.

    The environment is ``server_environ(APP_PORT=..., **variables)``.
    """
    port = free_port()
    env = server_environ(APP_PORT=str(port), **variables)
    return start_server(command(port), cwd, port, env)


@dataclasses.dataclass
class Process:
    """A started program and the one file with its output (stdout and stderr)."""

    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(
        self, condition: Callable[[], Any], what: str, timeout: float = READY_TIMEOUT
    ) -> Any:
        """``wait_for`` that also fails as soon as this program exits, showing its output."""
        return wait_for(condition, what, timeout, self.output, process=self.proc)

    def stop(self) -> None:
        """SIGTERM the whole process group, SIGKILL it after a timeout."""
        stop_process_group(self.proc)


def start_process(argv: list[str], cwd: Path, log: Path, env: dict[str, str]) -> Process:
    """Start ``argv`` in ``cwd`` in its own session, stdout and stderr both to ``log``."""
    with log.open("wb") as out:
        proc = start_in_session(argv, cwd, env, out, subprocess.STDOUT)
    return Process(proc, log)


# -- output --------------------------------------------------------------------------


def json_events(text: str, *, skip_invalid: bool = False) -> list[dict[str, Any]]:
    """The lines of ``text`` that start with ``{``, parsed as JSON.

    With ``skip_invalid``, a line that is not valid JSON (one cut in two, say)
    is left out instead of failing the test.
    """
    found = []
    for line in text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            found.append(json.loads(line))
        except ValueError:
            if not skip_invalid:
                raise
    return found


# -- raw HTTP ------------------------------------------------------------------------


def connect(port: int, timeout: float, source: str | None = None) -> socket.socket:
    """A connection to 127.0.0.1:``port``, from the address ``source`` if given."""
    source_address = None if source is None else (source, 0)
    return socket.create_connection(
        ("127.0.0.1", port), timeout=timeout, source_address=source_address
    )


def receive_all(
    sock: socket.socket, until: Callable[[bytes], bool] | None = None
) -> tuple[bytes, str]:
    """Read from ``sock`` until the server closes it; the bytes, and how reading ended.

    The ending is "eof", "reset" or "timeout". Reading stops early, as "eof",
    once ``until(data)`` is true for what has arrived (a complete response on
    a connection the server keeps open).
    """
    chunks: list[bytes] = []
    ending = "eof"
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            if until is not None and until(b"".join(chunks)):
                break
    except ConnectionResetError:
        ending = "reset"
    except TimeoutError:
        ending = "timeout"
    return b"".join(chunks), ending


def send_and_receive(
    port: int, data: bytes, timeout: float, source: str | None = None
) -> tuple[bytes, str]:
    """Send ``data`` on a new connection and read the answer as ``receive_all`` does."""
    with connect(port, timeout, source) as sock:
        sock.sendall(data)
        return receive_all(sock)


def parse_head(head: bytes) -> tuple[int, list[tuple[str, str]]]:
    """The status code and the (name, value) headers of a response head.

    ``head`` is everything before the blank line. A bad status line raises
    ``ValueError`` or ``IndexError``.
    """
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return status, headers


def header_values(headers: list[tuple[str, str]], name: str) -> list[str]:
    """The values of every header called ``name`` (in any case), in order."""
    return [value for key, value in headers if key.lower() == name.lower()]


class ParsedResponse:
    """What the parsed responses of the server tests share (a base for a dataclass
    with ``headers`` and ``body`` fields)."""

    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        """The body, decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def header_values(self, name: str) -> list[str]:
        """The values of every header called ``name`` (in any case), in order."""
        return header_values(self.headers, name)


def dechunk(data: bytes) -> tuple[bytes, str]:
    """The de-chunked body and what is wrong with the chunking ("" if nothing)."""
    body = b""
    pos = 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            return body, "chunked body without its terminating 0-chunk"
        try:
            size = int(data[pos:end].split(b";")[0].strip(), 16)
        except ValueError:
            return body, f"bad chunk size line {data[pos:end]!r}"
        pos = end + 2
        if size == 0:
            trailer = data[pos:]
            if trailer == b"\r\n" or trailer.endswith(b"\r\n\r\n"):
                return body, ""
            return body, f"0-chunk not followed by CRLF: {trailer!r}"
        chunk = data[pos : pos + size]
        body += chunk
        if len(chunk) < size or data[pos + size : pos + size + 2] != b"\r\n":
            return body, "chunk cut off"
        pos += size + 2


def check_framing(headers: list[tuple[str, str]], rest: bytes) -> tuple[str, bytes, str]:
    """How a response body is framed, the body, and what is wrong ("" if nothing).

    ``rest`` is everything after the head. The framing is "chunked",
    "content-length" or "close" (delimited by closing the connection, which a
    client cannot tell from a cut-off), after RFC 9112, section 6.
    """
    encodings = header_values(headers, "Transfer-Encoding")
    lengths = header_values(headers, "Content-Length")
    if encodings:
        body, incomplete = dechunk(rest)
        if lengths:
            incomplete = incomplete or f"chunked and Content-Length {lengths} together"
        return "chunked", body, incomplete
    if lengths:
        if len(lengths) != 1:
            incomplete = f"{len(lengths)} Content-Length headers: {lengths}"
        elif len(rest) != int(lengths[0]):
            incomplete = f"Content-Length {lengths[0]} but {len(rest)} body bytes"
        else:
            incomplete = ""
        return "content-length", rest, incomplete
    return "close", rest, "no Content-Length and not chunked: the client cannot tell the end"
