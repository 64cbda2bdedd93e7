"""Serve a guarded app on gunicorn or waitress, never the development server.

``flask_prodguard.serve(app)`` is the drop-in for ``app.run()`` under
``if __name__ == "__main__":``; ``flask prodguard serve`` does the same from
the command line. Safe defaults: no reloader, no ``expose_tracebacks``,
loopback unless told otherwise, workers from the CPU count, proxy headers
trusted only as ``PRODGUARD_TRUSTED_PROXIES`` says (through one ProxyFix the
guard places in front of itself, never also in the server), and the server's
own logs as JSON lines like the security events. It refuses to start when a
deployment check finds an error, and says first, in plain words, what the
guard fixed when the app started, and whether a client can forge
``X-Forwarded-For`` (a proxy hop trusted on an address beyond loopback:
refused with strictness ``strict``). Both servers take gunicorn's ``--bind``
forms with a port from 1 to 65535, say in one line why they cannot listen
somewhere, and stop gracefully on SIGTERM and SIGINT alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import io
import ipaddress
import json
import logging
import os
import signal
import socket
import stat
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import NoReturn
from typing import TextIO

import click

from ..checks import CheckContext
from ..checks import Finding
from ..checks import Severity
from ..checks import app_settings
from ..checks import run_checks
from ..events import catalogue
from ..events import output
from ..events.processors import Redactor
from ..exceptions import ConfigurationError
from ..exceptions import UnsafeDeploymentError
from ..policy import Action
from ..policy import Condition
from .proxies import forgeable_forwarding
from .proxies import forgeable_forwarding_warning
from .proxies import listens_on_loopback_only

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

#: pip commands that install each server.
INSTALL_HINT = {
    "gunicorn": "pip install 'Flask-ProdGuard[gunicorn]'",
    "waitress": "pip install 'Flask-ProdGuard[waitress]'",
}

#: What ``server=`` accepts.
_SERVER_CHOICES = ("auto", "gunicorn", "waitress")

#: Seconds in-flight requests get to finish on SIGTERM or SIGINT, under either server.
GRACEFUL_TIMEOUT = 30

# gunicorn access-log atoms -> field names of the JSON line.
_ACCESS_FIELDS = {
    "h": "client_ip",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "f": "referer",
    "a": "user_agent",
    "D": "duration_us",
    "H": "protocol",
}


class ServerJSONFormatter(logging.Formatter):
    """gunicorn and waitress log records as one JSON object per line.

    Field names follow the security events (``event``, ``level``,
    ``timestamp``, ``logger``); gunicorn access records carry their fields
    (``client_ip``, ``method``, ``path``, ``status``...) as fields. Every
    string is capped, redacted (``?token=...``, ``password hunter2``) and
    escaped like the request strings of the events, with the built-in
    patterns: the server's logs have no app to read extra patterns from.
    """

    _short = Redactor()
    _long = Redactor(limit=8192)

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "event": "server.access" if _is_access(record) else "server.log",
            "level": record.levelname.lower(),
            # The events' own format, so one parser reads both.
            "timestamp": output.format_timestamp(record.created),
            "logger": record.name,
            "pid": record.process,
        }
        if _is_access(record):
            atoms = record.args
            assert isinstance(atoms, Mapping)
            for atom, field in _ACCESS_FIELDS.items():
                value = atoms.get(atom)
                if value in (None, "-", ""):
                    continue
                data[field] = self._short.clean_text(value) if isinstance(value, str) else value
            if "status" in data:
                try:
                    data["status"] = int(str(data["status"]).split()[0])
                except ValueError:
                    pass
        else:
            data["message"] = self._short.clean_text(record.getMessage())
            if record.exc_info:
                # Server tracebacks carry no request data we did not escape.
                data["exception"] = self._long.clean_text(self.formatException(record.exc_info))
        return json.dumps(data, default=str, ensure_ascii=False)


def _is_access(record: logging.LogRecord) -> bool:
    return record.name in _ACCESS_LOGGERS and isinstance(record.args, Mapping)


#: Loggers whose records carry access atoms (gunicorn's, and ours for waitress).
_ACCESS_LOGGERS = frozenset({"gunicorn.access", "waitress.access"})


class WaitressAccessLog:
    """One ``server.access`` line per request under waitress, which writes none.

    Wraps the app outside the guard, as gunicorn's access log sits outside the
    app: the line has what the server saw (the peer address, the raw path).
    The record carries gunicorn's atoms, so both servers' lines have the same
    fields. It is written when the response is closed, with the bytes sent.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.logger = logging.getLogger("waitress.access")

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if not self.logger.isEnabledFor(logging.INFO):
            return self.app(environ, start_response)
        started = time.perf_counter()
        seen: dict[str, str] = {}

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            seen["status"] = status
            return start_response(status, headers, exc_info)

        body = self.app(environ, start)
        return _LoggedBody(body, self, environ, seen, started)

    def log(
        self, environ: WSGIEnvironment, status: str | None, sent: int, started: float
    ) -> None:
        try:
            atoms = {
                "h": environ.get("REMOTE_ADDR", "-"),
                "m": environ.get("REQUEST_METHOD", "-"),
                "U": environ.get("PATH_INFO", "-"),
                "q": environ.get("QUERY_STRING", ""),
                "s": (status or "-").split(" ", 1)[0],
                "B": sent,
                "f": environ.get("HTTP_REFERER", "-"),
                "a": environ.get("HTTP_USER_AGENT", "-"),
                "D": int((time.perf_counter() - started) * 1_000_000),
                "H": environ.get("SERVER_PROTOCOL", "-"),
            }
            self.logger.info("access", atoms)
        except Exception:  # noqa: BLE001, S110 - an access line never breaks a response
            pass


class _LoggedBody:
    """The app's response iterable, counted; the access line is written on close."""

    def __init__(
        self,
        body: Iterable[bytes],
        log: WaitressAccessLog,
        environ: WSGIEnvironment,
        seen: dict[str, str],
        started: float,
    ) -> None:
        self.body = body
        self._log = log
        self._environ = environ
        self._seen = seen
        self._started = started
        self._sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self._sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self._log.log(self._environ, self._seen.get("status"), self._sent, self._started)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server loggers: JSON lines on stderr."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "prodguard_json",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"prodguard_json": {"()": ServerJSONFormatter}},
        "handlers": {"prodguard_server": handler},
        "loggers": {
            name: {"handlers": ["prodguard_server"], "level": level, "propagate": False}
            for name in (
                "gunicorn.error",
                "gunicorn.access",
                "waitress",
                "waitress.queue",
                "waitress.access",
            )
        },
    }


def choose_server(requested: str = "auto") -> str:
    """The server to use: gunicorn on POSIX when installed, else waitress.

    :raises ConfigurationError: the requested server is not installed (the
        message gives the pip command).
    """

    def installed(name: str) -> bool:
        try:
            __import__(name)
        except ImportError:
            return False
        return True

    if requested == "auto":
        if os.name == "posix" and installed("gunicorn"):
            return "gunicorn"
        if installed("waitress"):
            return "waitress"
        raise ConfigurationError(
            "No production WSGI server is installed. Install one: "
            f"{INSTALL_HINT['gunicorn']} (Linux, macOS) or {INSTALL_HINT['waitress']}.",
            key="server",
            value=requested,
            allowed=_SERVER_CHOICES,
        )
    if requested not in INSTALL_HINT:
        raise ConfigurationError(
            f"Unknown server {requested!r}; allowed: 'auto', 'gunicorn', 'waitress'.",
            key="server",
            value=requested,
            allowed=_SERVER_CHOICES,
        )
    if not installed(requested):
        raise ConfigurationError(
            f"{requested} is not installed. Install it: {INSTALL_HINT[requested]}",
            key="server",
            value=requested,
            allowed=_SERVER_CHOICES,
        )
    return requested


def default_workers() -> int:
    """gunicorn's usual advice: two workers per CPU, plus one."""
    return 2 * (os.cpu_count() or 1) + 1


# -- where to listen ------------------------------------------------------------------

#: The forms ``--bind`` takes, for messages.
BIND_FORMS = (
    "HOST:PORT, [IPV6]:PORT or unix:PATH (127.0.0.1:8000, [::1]:8000, unix:/run/app.sock)"
)

#: The TCP ports a server can listen on.
PORTS = range(1, 65536)


@dataclasses.dataclass(frozen=True)
class Bind:
    """Where ``serve`` listens: a TCP address and port, or a Unix socket.

    Built by :func:`parse_bind` from ``--bind``, or from ``serve()``'s
    ``host`` and ``port``; the port is always one of :data:`PORTS`.
    """

    #: The address or host name; an IPv6 address without brackets.
    host: str = "127.0.0.1"
    port: int = 8000
    #: The path of a Unix socket, instead of ``host`` and ``port``.
    unix_socket: str | None = None

    def __str__(self) -> str:
        """The address as gunicorn binds it: ``HOST:PORT``, ``[IPV6]:PORT`` or ``unix:PATH``."""
        if self.unix_socket is not None:
            return f"unix:{self.unix_socket}"
        return host_port(self.host, self.port)

    @property
    def loopback(self) -> bool:
        """Whether only this machine can connect (loopback, or a Unix socket)."""
        return self.unix_socket is not None or listens_on_loopback_only(self.host)


def _shown(text: str, limit: int = 80) -> str:
    """``text`` for a message: as it is when printable, else quoted with escapes."""
    cut = text if len(text) <= limit else text[:limit] + "..."
    return cut if cut.isprintable() else repr(cut)


def check_port(port: object, key: str = "port") -> int:
    """``port`` as a TCP port, one of :data:`PORTS`.

    waitress would take 99999 as 34463 (the port modulo 65536) and gunicorn
    fails with a traceback, so neither ever sees a port out of range.

    :param port: An ``int``, or text of ASCII digits (``"8000"``).
    :param key: What the port came from, for the error (``"--bind"``).
    :raises ConfigurationError: Not a whole number from 1 to 65535.
    """
    number: int | None = None
    if isinstance(port, str):
        # isdigit() alone also takes "²", which int() refuses.
        if port.isascii() and port.isdigit() and len(port) <= 5:
            number = int(port)
    elif isinstance(port, int) and not isinstance(port, bool):
        number = port
    if number is None or number not in PORTS:
        shown = _shown(port) if isinstance(port, str) else repr(port)
        raise ConfigurationError(
            f"{shown} is not a TCP port: a port is a whole number from 1 to 65535.",
            key=key,
            value=port,
            allowed=("1-65535",),
        )
    return number


def _bad_bind(text: str, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"{_shown(text)} is not valid: {why}; expected {BIND_FORMS}.",
        key="--bind",
        value=text,
        allowed=(BIND_FORMS,),
    )


def parse_bind(text: str) -> Bind:
    """``--bind`` as gunicorn reads it, with the port checked for both servers.

    ``HOST:PORT`` (an IPv4 address or a host name), ``[IPV6]:PORT``, each
    with gunicorn's optional ``tcp://`` prefix, and ``unix:PATH`` or
    ``unix://PATH`` for a Unix socket. A bare IPv6 address with a port
    (``::1:8000``) is refused: it reads as an address without one.

    :param text: The value of ``--bind``.
    :raises ConfigurationError: Not one of those forms, or a port outside
        1-65535; ``key`` is ``"--bind"``.
    """
    if text.startswith("unix:"):
        path = text.removeprefix("unix:")
        path = path.removeprefix("//")
        if not path:
            raise _bad_bind(text, "a Unix socket needs a path")
        if "\0" in path or "unix:" in path:
            # gunicorn splits the value at every "unix:" and keeps the last piece.
            raise _bad_bind(text, "a Unix socket's path has no NUL character and no 'unix:'")
        if not hasattr(socket, "AF_UNIX"):
            raise _bad_bind(text, "this system has no Unix sockets")
        return Bind(unix_socket=path)
    address = text.removeprefix("tcp://")
    if address.startswith("["):
        host, bracket, rest = address[1:].partition("]")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise _bad_bind(text, "an address in brackets is an IPv6 address") from None
        if not bracket or not rest.startswith(":"):
            raise _bad_bind(text, "the port follows the brackets after a colon")
        port_text = rest[1:]
    else:
        host, colon, port_text = address.rpartition(":")
        if not colon or not host:
            raise _bad_bind(text, "give the host and the port")
        if ":" in host:
            raise _bad_bind(text, "an IPv6 address goes in brackets, as in [::1]:8000")
    try:
        port = check_port(port_text, key="--bind")
    except ConfigurationError:
        raise _bad_bind(text, "the port is a whole number from 1 to 65535") from None
    return Bind(host, port)


def _why_not_listening(bind: Bind, error: BaseException) -> str:
    """Why the server cannot listen on ``bind`` and what to do, in words, from
    the ``error`` it got."""
    number = getattr(error, "errno", None)
    elsewhere = "choose another address or port with --bind"
    if isinstance(error, socket.gaierror):
        return f"the host {_shown(bind.host)} does not resolve to an address; {elsewhere}"
    if isinstance(error, UnicodeError):  # from the IDNA codec
        return f"the host {_shown(bind.host)} is not a valid host name; {elsewhere}"
    if number == errno.EADDRINUSE:
        return (
            "the address is already in use: another process listens there; stop it,"
            f" or {elsewhere}"
        )
    if number == errno.EADDRNOTAVAIL:
        return f"the address is not one of this machine's; {elsewhere}"
    if number in (errno.EACCES, errno.EPERM):
        if bind.unix_socket is not None:
            return "permission denied: this user cannot create the socket there"
        if bind.port < 1024:
            return (
                "permission denied: ports below 1024 need root (or CAP_NET_BIND_SERVICE);"
                " listen on a port from 1024 behind the proxy"
            )
        return f"permission denied; {elsewhere}"
    if number == errno.ENOENT and bind.unix_socket is not None:
        return "the directory of the socket does not exist"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}; {elsewhere}"
    return _shown(str(error), 200)


def cannot_listen(bind: Bind, error: BaseException) -> ConfigurationError:
    """The error ``serve`` raises when the server cannot listen on ``bind``:
    one line that says why and what to do.

    :param bind: Where the server was to listen.
    :param error: What the socket said (``OSError``, ``socket.gaierror``), or
        what the server said instead (``ValueError``).
    """
    return ConfigurationError(
        f"cannot listen on {_shown(str(bind), 200)}: {_why_not_listening(bind, error)}.",
        key="bind",
        value=str(bind),
    )


def _check_can_listen(bind: Bind) -> None:
    """Refuse, before a server starts, what its own checks let through or turn
    into a traceback: a host that does not resolve, and a Unix socket path
    where a server already answers (gunicorn and waitress would both delete
    that socket and take over) or where something else than a socket lies.
    """
    if bind.unix_socket is None:
        try:
            socket.getaddrinfo(bind.host, bind.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise cannot_listen(bind, error) from None
        return
    try:
        mode = os.stat(bind.unix_socket).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise cannot_listen(bind, error) from None
    if not stat.S_ISSOCK(mode):
        raise cannot_listen(bind, ValueError("the path exists and is not a socket"))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(bind.unix_socket)
        except OSError:
            return  # a stale socket file: the server replaces it
    raise cannot_listen(bind, OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE)))


def blocking_findings(app: Flask) -> list[Finding]:
    """Error-level findings that stop ``serve`` (silenced checks excluded)."""
    ctx = CheckContext(app, os.environ, settings=app_settings(app), cli=True)
    return [f for f in run_checks(ctx, ctx.silenced) if f.severity >= Severity.ERROR]


def fixed_at_start(app: Flask) -> list[Finding]:
    """The findings the app's guard fixed when it started (strictness ``enforce``).

    ``FLASK_DEBUG=1`` or ``DEBUG = True`` is switched off, an unsafe flag such
    as ``TESTING`` set back, before ``serve`` runs its checks, which then see
    nothing; only the guard's events tell. ``flask prodguard check``, which
    loads the app as written, still reports each of them.

    :param app: The app about to be served; an app without a guard fixed
        nothing.
    """
    state = app.extensions.get("prodguard")
    if state is None:
        return []
    return [f for f in state.startup_findings if state.action(f.condition) is Action.FIX]


#: The colour of each severity's heading in a text report.
_SEVERITY_COLOURS = {"critical": "red", "error": "red", "warning": "yellow", "info": "cyan"}


def findings_text(findings: list[Finding]) -> list[str]:
    """``findings`` in the words of ``flask prodguard check``: grouped by
    severity, the most severe first, each with its source, fix and docs link.

    The lines carry click styles; :func:`click.echo` drops them when the
    output is not a terminal.

    :param findings: What the checks found.
    """
    lines: list[str] = []
    for severity in sorted(Severity, reverse=True):
        group = [f for f in findings if f.severity is severity]
        if not group:
            continue
        name = str(severity)
        lines += ["", click.style(name.upper(), fg=_SEVERITY_COLOURS[name], bold=True)]
        for f in group:
            lines += [
                f"  {click.style(f.check_id, bold=True)}  {f.message}",
                f"         source: {f.source}",
                f"         fix:    {f.hint}",
                f"         docs:   {f.docs}",
            ]
    return lines


def forgeable_hops(app: Flask, bind: Bind) -> int:
    """The proxy hops the app's guard trusts while ``bind`` lets clients reach
    it directly, so that they can forge ``X-Forwarded-For``; 0 when none.

    Only a guard that acts places its ``ProxyFix``: with strictness ``off``
    (where the policy ignores even deployment errors) the headers are
    trusted by nobody, and an app without a guard trusts none either.

    :param app: The app about to be served.
    :param bind: Where it will listen.
    """
    state = app.extensions.get("prodguard")
    settings = app_settings(app)
    if state is None or settings is None or bind.loopback:
        return 0
    if state.action(Condition.CHECK_ERROR) is Action.IGNORE:
        return 0
    return int(settings.trusted_proxies)


def _forgeable_warning(app: Flask, bind: Bind | None) -> str | None:
    hops = forgeable_hops(app, bind) if bind is not None else 0
    if not hops:
        return None
    return (
        forgeable_forwarding_warning(
            str(bind), hops, "set PRODGUARD_TRUSTED_PROXIES=0 if no proxy is in front"
        )
        + " Strictness strict refuses to serve it."
    )


def start_up_notice(app: Flask, bind: Bind | None = None) -> str | None:
    """What ``serve`` tells the operator before the server starts, or ``None``.

    First, when the guard trusts proxy hops (``PRODGUARD_TRUSTED_PROXIES``)
    and ``bind`` is not loopback, a warning: any client that reaches the app
    directly can forge ``X-Forwarded-For`` (see :func:`forgeable_hops`).
    Then the findings of :func:`fixed_at_start`, as ``flask prodguard check``
    words them: the app is served with them fixed, but the setting that
    caused each one is still there to fix at its source.

    :param app: The app about to be served.
    :param bind: Where it will listen; ``None`` leaves the warning out.

    .. versionchanged:: 0.1
        Warns about proxy hops trusted on an address beyond loopback.
    """
    lines: list[str] = []
    warning = _forgeable_warning(app, bind)
    if warning is not None:
        lines.append(warning)
    fixed = fixed_at_start(app)
    if fixed:
        settings = app_settings(app)
        assert settings is not None  # a guard that fixed something has settings
        lines += [
            f"Flask-ProdGuard fixed these when app {app.name!r} started"
            f" (PRODGUARD_ENV={settings.env}, PRODGUARD_STRICTNESS={settings.strictness})"
            " and serves it with them fixed; `flask prodguard check` reports them until"
            " they are fixed at their source:",
            *findings_text(fixed),
        ]
    return "\n".join(lines) if lines else None


def _refuse(app: Flask, lines: list[str], findings: list[str]) -> NoReturn:
    """Emit ``prodguard.startup.refused`` (reason ``serve``) and raise."""
    state = app.extensions.get("prodguard")
    if state is not None:
        # Alerting sees a refused deployment, whatever the strictness.
        state.emitter.emit(
            catalogue.STARTUP_REFUSED, findings=findings, reason="serve", action="refused"
        )
    raise UnsafeDeploymentError("\n".join(lines), findings=findings)


def check_before_serving(app: Flask, server: str = "auto", *, bind: Bind | None = None) -> str:
    """Refuse to serve an app with an error-level finding; the server to use.

    :param app: The app about to be served.
    :param server: What ``serve`` was asked for: ``"auto"``, ``"gunicorn"``
        or ``"waitress"``.
    :param bind: Where it will listen. With strictness ``strict``, an app
        whose guard trusts proxy hops while ``bind`` is beyond loopback is
        refused too (see :func:`forgeable_hops`).
    :raises UnsafeDeploymentError: A deployment check found an error, or a
        strict guard trusts proxy hops on an open address; a guarded app logs
        ``prodguard.startup.refused`` first.
    :raises ConfigurationError: ``server`` is unknown or not installed.

    .. versionchanged:: 0.1
        The ``bind`` parameter.
    """
    findings = blocking_findings(app)
    if findings:
        lines = [f"Flask-ProdGuard refused to serve app {app.name!r}:"]
        lines += [f"  - {f.description}\n    fix: {f.hint}" for f in findings]
        lines.append("Fix these (or silence a check with PRODGUARD_SILENCED_CHECKS) and retry.")
        _refuse(app, lines, [f.check_id for f in findings])
    hops = forgeable_hops(app, bind) if bind is not None else 0
    state = app.extensions.get("prodguard")
    if hops and state is not None and state.action(Condition.CHECK_ERROR) is Action.REFUSE:
        settings = app_settings(app)
        assert settings is not None  # a guard has settings
        _refuse(
            app,
            [
                f"Flask-ProdGuard refused to serve app {app.name!r}"
                f" (PRODGUARD_STRICTNESS={settings.strictness}):",
                f"  - {forgeable_forwarding(str(bind), hops)}.",
                "    fix: Bind it to 127.0.0.1 or a Unix socket, with the proxy on this"
                " machine; or set PRODGUARD_TRUSTED_PROXIES=0 if no proxy is in front; or,"
                " if a firewall lets only the proxy reach the app, use a strictness below"
                " strict.",
            ],
            [],
        )
    return choose_server(server)


def serve(
    app: Flask,
    *,
    server: str = "auto",
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    threads: int | None = None,
) -> None:
    """Serve ``app`` on gunicorn or waitress: the drop-in for ``app.run()``.

    The deployment checks run first, whatever the strictness and even on an
    app without a guard: a finding of severity ``error`` or ``critical`` stops
    ``serve`` before anything listens (a guarded app logs
    ``prodguard.startup.refused`` first, for alerting). So does, with
    strictness ``strict``, a guard that trusts proxy hops
    (``PRODGUARD_TRUSTED_PROXIES``) on a ``host`` beyond loopback, where any
    client can forge ``X-Forwarded-For``; at the other strictness levels that
    is a warning. What the guard fixed when the app started
    (``FLASK_DEBUG=1`` switched off, say) is printed on standard error, in
    the words of ``flask prodguard check``. Then the server runs in the
    foreground with safe settings: no reloader, no ``expose_tracebacks``,
    proxy headers trusted only as ``PRODGUARD_TRUSTED_PROXIES`` says, the
    server's own log lines (one ``server.access`` line per request included)
    as JSON like the security events. SIGTERM or SIGINT (Ctrl+C) stops it
    gracefully on either server: it stops accepting connections, gives the
    requests in flight up to 30 seconds (``GRACEFUL_TIMEOUT``) to finish,
    and ends with status 0 (gunicorn exits the process; waitress returns).
    ``flask prodguard serve`` does the same from the command line.

    :param app: The Flask app to serve, normally guarded with
        ``ProdGuard(app)``.
    :param server: ``"auto"`` (gunicorn on Linux and macOS when installed,
        waitress otherwise), ``"gunicorn"`` or ``"waitress"``.
    :param host: Address to listen on. Loopback by default, so only a proxy on
        the same machine reaches the app; an IPv6 address is written without
        brackets (``"::1"``).
    :param port: TCP port to listen on, 1 to 65535.
    :param workers: gunicorn worker processes; two per CPU, plus one, by
        default. waitress runs in one process and ignores it.
    :param threads: Threads per gunicorn worker (1 by default), or waitress's
        threads in total (4 by default).
    :raises UnsafeDeploymentError: A deployment check found an error. The
        message lists each finding with its fix; ``findings`` holds their ids.
    :raises ConfigurationError: ``server`` is unknown, or no server it allows
        is installed (the message gives the ``pip install`` command); or
        ``port`` is out of range, or the server cannot listen there (in use,
        not an address of this machine, permission denied).

    .. code-block:: python

        from flask import Flask
        from flask_prodguard import ProdGuard
        from flask_prodguard import serve

        app = Flask(__name__)
        ProdGuard(app)

        if __name__ == "__main__":
            # gunicorn (or waitress) on 127.0.0.1:8000, instead of app.run()
            serve(app, workers=4)

    .. versionadded:: 0.1
    """
    bind = Bind(host, check_port(port))
    chosen = check_before_serving(app, server, bind=bind)
    notice = start_up_notice(app, bind)
    if notice is not None:
        click.echo(notice, err=True)
    run_server(app, chosen, host=host, port=port, workers=workers, threads=threads)


def run_server(
    app: Flask,
    server: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    threads: int | None = None,
    unix_socket: str | None = None,
) -> None:
    """Run ``server`` on ``app`` in the foreground, checks already done.

    :param app: The app, checked by :func:`check_before_serving`.
    :param server: ``"gunicorn"`` or ``"waitress"``, as
        :func:`check_before_serving` chose it.
    :param host: Address to listen on.
    :param port: TCP port to listen on, 1 to 65535.
    :param workers: gunicorn worker processes (two per CPU, plus one).
    :param threads: Threads per gunicorn worker (1), or waitress's (4).
    :param unix_socket: The path of a Unix socket to listen on instead of
        ``host`` and ``port``.
    :raises ConfigurationError: ``port`` is out of range, or the server cannot
        listen there; the message says why in one line.
    """
    bind = Bind(unix_socket=unix_socket) if unix_socket else Bind(host, check_port(port))
    _check_can_listen(bind)
    if server == "gunicorn":
        _serve_gunicorn(app, bind, workers or default_workers(), threads or 1)
    else:
        _serve_waitress(app, bind, threads or 4)


class HeldOutput(io.TextIOBase):
    """A stand-in for ``sys.stderr`` that keeps what is written until :meth:`release`.

    ``flask prodguard serve`` puts one in place while the app loads and the
    checks run, so that what it has to say in plain words (why it refuses to
    serve, what the guard fixed) comes first on standard error, followed by
    the JSON event lines written meanwhile, in their order. After the release
    every write goes straight through: a handler that took this stream as its
    own while the app loaded keeps working.

    Nothing is lost or held without bound: past :data:`HOLD_LIMIT` characters
    the held text is released and writes go through; a SIGTERM, SIGINT or
    SIGHUP during the hold releases it before the signal takes its course
    (see :meth:`releasing_on_signals`); what an app reads or calls on its
    stderr besides ``write`` (``buffer``, ``name``, ``reconfigure``) is the
    real stream's.

    :param stream: The real standard error.
    """

    #: Characters held at most; then the hold ends early (order over memory).
    HOLD_LIMIT = 1 << 20

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self._held: list[str] | None = []
        self._size = 0
        # Reentrant: a signal handler may release while a write holds it.
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> object:
        # Only for what TextIOBase does not define: buffer, name, reconfigure...
        if name == "_stream":
            raise AttributeError(name)  # not set yet: no endless lookup
        return getattr(self._stream, name)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The real stream's encoding (handlers pick their escapes by it)."""
        return str(getattr(self._stream, "encoding", None) or "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        """The real stream's error handler."""
        return getattr(self._stream, "errors", None)

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            # As a text stream does: click probes with bytes for a binary stream.
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self._lock:
            held = self._held
            if held is not None:
                held.append(text)
                self._size += len(text)
                if self._size > self.HOLD_LIMIT:
                    self.release()
                return len(text)
        return self._stream.write(text)

    def flush(self) -> None:
        with self._lock:
            holding = self._held is not None
        if not holding:
            self._stream.flush()

    def release(self) -> None:
        """Write what was held to the real stream; from now on, write through."""
        with self._lock:
            held, self._held = self._held, None
            for text in held or ():
                try:
                    self._stream.write(text)
                except UnicodeEncodeError:
                    # What the stream cannot encode (a lone surrogate, an
                    # ASCII-only stderr) escaped, rather than the line lost.
                    encoding = self.encoding
                    self._stream.write(
                        text.encode(encoding, "backslashreplace").decode(encoding)
                    )
            self._stream.flush()

    @contextlib.contextmanager
    def releasing_on_signals(self) -> Iterator[None]:
        """While in the block, a SIGTERM, SIGINT or SIGHUP first releases what is
        held, then takes its course as it would have (the handler before)."""
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set in the main thread
            return
        previous: dict[int, Any] = {}

        def on_signal(signum: int, frame: object) -> None:
            self.release()
            handler = previous[signum]
            signal.signal(signum, handler)
            if callable(handler):
                handler(signum, frame)
            else:
                os.kill(os.getpid(), signum)

        for caught in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            previous[caught] = signal.signal(caught, on_signal)
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


def _trusted_proxies(app: Flask) -> int:
    return int(getattr(app_settings(app), "trusted_proxies", 0))


def gunicorn_options(
    host: str = "127.0.0.1", port: int = 8000, workers: int | None = None, threads: int = 1
) -> dict[str, Any]:
    """The gunicorn settings ``serve`` uses (also written by ``deploy-config``)."""
    if workers is None:
        workers = default_workers()
    return {
        "bind": [host_port(host, port)],
        "workers": workers,
        "threads": threads,
        "reload": False,
        "preload_app": False,
        # Proxy headers are trusted by the guard's ProxyFix only, never twice.
        "forwarded_allow_ips": "",
        "proxy_allow_ips": "",
        "accesslog": "-",
        "errorlog": "-",
        "logconfig_dict": _gunicorn_logging_config(),
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "control_socket_disable": True,
    }


def host_port(host: str, port: int) -> str:
    """``HOST:PORT`` as gunicorn binds it: an IPv6 address in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _gunicorn_logging_config() -> dict[str, Any]:
    # gunicorn merges logconfig_dict over its own defaults, whose root logger
    # refers to its "console" handler: keep its handlers and formatters, and
    # route its two loggers to the JSON handler.
    try:
        from gunicorn.glogging import CONFIG_DEFAULTS
    except ImportError:  # gunicorn is optional
        return logging_config()
    ours = logging_config()
    config = dict(CONFIG_DEFAULTS)
    config["disable_existing_loggers"] = False
    config["formatters"] = {**CONFIG_DEFAULTS.get("formatters", {}), **ours["formatters"]}
    config["handlers"] = {**CONFIG_DEFAULTS.get("handlers", {}), **ours["handlers"]}
    config["loggers"] = {**CONFIG_DEFAULTS.get("loggers", {}), **ours["loggers"]}
    # gunicorn's default puts a text handler on the root logger, which would
    # print every security event a second time as text: the server's root
    # gets none (the app's own handlers, and the guard's, are left alone).
    config["root"] = {"level": "INFO", "handlers": []}
    return config


def _serve_gunicorn(app: Flask, bind: Bind, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    options = gunicorn_options(bind.host, bind.port, workers, threads)
    options["bind"] = [str(bind)]
    options["on_starting"] = _gunicorn_on_starting(bind)
    options["post_worker_init"] = _gunicorn_worker_stops_gracefully_on_sigint

    class GuardedGunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            known = self.cfg.settings
            for key, value in options.items():
                if key in known:
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    GuardedGunicorn().run()


def _gunicorn_on_starting(bind: Bind) -> Callable[[Any], None]:
    """gunicorn's ``on_starting`` hook for ``serve``, in the arbiter before it
    listens: SIGINT stops it like SIGTERM, and its sockets are opened here.

    gunicorn's own opening retries a port in use five times, a second apart,
    then exits with status 1 after error lines; a port out of range or a
    path that is not a socket ends in a traceback. Opened here, with
    gunicorn's socket classes and settings, a failure is one
    :class:`ConfigurationError` that ``serve`` reports in one line.
    """

    def on_starting(arbiter: Any) -> None:
        # gunicorn's SIGINT is a quick shutdown that cuts requests in flight;
        # under serve, Ctrl+C stops as gracefully as SIGTERM.
        arbiter.handle_int = arbiter.handle_term
        if os.environ.get("GUNICORN_FD") or os.environ.get("LISTEN_FDS"):
            return  # sockets handed over (a USR2 upgrade, systemd): gunicorn takes them
        arbiter.LISTENERS = _gunicorn_listeners(arbiter.cfg, arbiter.log, bind)

    return on_starting


def _gunicorn_listeners(cfg: Any, log: Any, bind: Bind) -> list[Any]:
    from gunicorn import sock
    from gunicorn import util

    listeners: list[Any] = []
    try:
        for address in cfg.address:
            if isinstance(address, str):
                kind = sock.UnixSocket
            elif util.is_ipv6(address[0]):
                kind = sock.TCP6Socket
            else:
                kind = sock.TCPSocket
            listeners.append(kind(address, cfg, log))
    except (OSError, ValueError, OverflowError) as error:
        for listener in listeners:
            listener.close()
        raise cannot_listen(bind, error) from None
    return listeners


def _gunicorn_worker_stops_gracefully_on_sigint(worker: Any) -> None:
    """gunicorn's ``post_worker_init`` hook for ``serve``: SIGINT (Ctrl+C
    reaches every process of the group) ends the worker as SIGTERM does,
    after its requests in flight, instead of at once."""
    signal.signal(signal.SIGINT, worker.handle_exit)
    signal.siginterrupt(signal.SIGINT, False)


def _serve_waitress(app: Flask, bind: Bind, threads: int) -> None:
    import logging.config

    from waitress.server import create_server

    # Not waitress.serve(): it calls logging.basicConfig(), which would print
    # every event a second time as a text line.
    logging.config.dictConfig(logging_config())
    where: dict[str, Any] = (
        {"unix_socket": bind.unix_socket}
        if bind.unix_socket is not None
        else {"host": bind.host, "port": bind.port}
    )
    try:
        server = create_server(
            WaitressAccessLog(app),
            threads=threads,
            expose_tracebacks=False,
            # Proxy headers are trusted by the guard's ProxyFix only, never
            # twice: waitress passes them through when the guard trusts
            # proxies, and strips them when it does not.
            trusted_proxy=None,
            clear_untrusted_proxy_headers=_trusted_proxies(app) == 0,
            ident="waitress",
            **where,
        )
    except (OSError, ValueError, OverflowError) as error:
        # In use, not an address of this machine, permission denied: one line,
        # not waitress's traceback.
        raise cannot_listen(bind, error) from None
    if bind.unix_socket is not None:
        server.print_listen("Serving on unix:{1}")
    else:
        server.print_listen("Serving on http://{}:{}")
    _run_until_drained(server)


#: What stops waitress gracefully under ``serve``, as it stops gunicorn.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _run_until_drained(server: Any) -> None:
    """Run waitress until SIGTERM or SIGINT, then drain and return.

    waitress has no graceful stop of its own: SIGTERM kills the process and
    SIGINT closes every connection, dropping the requests in flight. Here
    either closes the listening sockets (new connections are refused), runs
    the loop until no task is running or queued and every response is
    flushed, or until :data:`GRACEFUL_TIMEOUT` seconds have passed, and
    returns: the process exits with status 0, as gunicorn's does. A second
    signal changes nothing; SIGKILL stops at once. SIGHUP, which ends a
    process by default and makes gunicorn start new workers, is logged and
    ignored: waitress runs in this one process and cannot load new code
    without a restart.

    The signal handlers only take note; the loop, woken at least every 0.2
    seconds, does the work and the logging (a handler that logged could
    interrupt a log call of the same thread).
    """
    logger = logging.getLogger("waitress")
    received: list[int] = []
    hangups: list[int] = []
    previous: dict[int, Any] = {}
    hangup = getattr(signal, "SIGHUP", None)  # not on Windows
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, lambda n, f: received.append(n))
        if hangup is not None:
            previous[hangup] = signal.signal(hangup, lambda n, f: hangups.append(n))
    loop_map = getattr(server, "map", None) or getattr(server, "_map", {})
    deadline: float | None = None
    try:
        while True:
            server.asyncore.loop(timeout=0.2, map=loop_map, count=1)
            if hangups:
                hangups.clear()
                logger.info(
                    "Handling signal: hup. waitress cannot reload in its one process:"
                    " still serving the code it loaded; restart it to load new code"
                )
            if not received:
                continue
            if deadline is None:
                logger.info("Handling signal: %s", _signal_name(received[0]))
                logger.info(
                    "Stopping: no new connections; the requests in flight get %d seconds",
                    GRACEFUL_TIMEOUT,
                )
                _stop_listening(loop_map)
                deadline = time.monotonic() + GRACEFUL_TIMEOUT
            if _drained(server, loop_map):
                break
            if time.monotonic() > deadline:
                logger.warning(
                    "Graceful timeout (%d s): stopping with requests still in flight",
                    GRACEFUL_TIMEOUT,
                )
                break
    finally:
        server.close()
        for number, handler in previous.items():
            signal.signal(number, handler)


def _signal_name(signum: int) -> str:
    """``term`` for SIGTERM, as gunicorn's "Handling signal" lines name them."""
    return signal.Signals(signum).name.removeprefix("SIG").lower()


def _stop_listening(loop_map: dict[Any, Any]) -> None:
    """Close waitress's listening sockets (each of a multi-address server)."""
    from waitress import wasyncore
    from waitress.server import BaseWSGIServer

    for listener in [d for d in loop_map.values() if isinstance(d, BaseWSGIServer)]:
        listener.accepting = False
        # The dispatcher's close only: the server's own would also close the
        # trigger that wakes the loop when a response is ready.
        wasyncore.dispatcher.close(listener)
        unix = listener.family == getattr(socket, "AF_UNIX", None)
        path = listener.adj.unix_socket if unix else None
        if path:
            with contextlib.suppress(OSError):
                os.unlink(path)  # as gunicorn does; nobody can connect any more


def _drained(server: Any, loop_map: dict[Any, Any]) -> bool:
    dispatcher = server.task_dispatcher
    if dispatcher.active_count or len(dispatcher.queue):
        return False
    return all(
        not getattr(channel, "total_outbufs_len", 0) for channel in list(loop_map.values())
    )


__all__ = [
    "BIND_FORMS",
    "PORTS",
    "STOP_SIGNALS",
    "Bind",
    "HeldOutput",
    "ServerJSONFormatter",
    "cannot_listen",
    "check_before_serving",
    "check_port",
    "choose_server",
    "default_workers",
    "findings_text",
    "fixed_at_start",
    "forgeable_hops",
    "gunicorn_options",
    "logging_config",
    "parse_bind",
    "run_server",
    "serve",
    "start_up_notice",
]
