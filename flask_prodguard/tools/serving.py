"""Serve a guarded app on gunicorn or waitress, never the development server.

``flask_prodguard.serve(app)`` is the drop-in for ``app.run()`` under
``if __name__ == "__main__":``; ``flask prodguard serve`` does the same from
the command line. Safe defaults: no reloader, no ``expose_tracebacks``,
loopback unless told otherwise, workers from the CPU count, proxy headers
trusted only as ``PRODGUARD_TRUSTED_PROXIES`` says (through one ProxyFix the
guard places in front of itself, never also in the server), and the server's
own logs as JSON lines like the security events. It refuses to start when a
deployment check finds an error, and says first, in plain words, what the
guard fixed when the app started.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from types import FrameType
from typing import TYPE_CHECKING
from typing import Any
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

#: Seconds in-flight requests get to finish on SIGTERM, under either server.
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


def start_up_notice(app: Flask) -> str | None:
    """What ``serve`` tells the operator before the server starts, or ``None``.

    The findings of :func:`fixed_at_start`, as ``flask prodguard check``
    words them: the app is served with them fixed, but the setting that
    caused each one is still there to fix at its source.

    :param app: The app about to be served.
    """
    fixed = fixed_at_start(app)
    if not fixed:
        return None
    settings = app_settings(app)
    assert settings is not None  # a guard that fixed something has settings
    lines = [
        f"Flask-ProdGuard fixed these when app {app.name!r} started"
        f" (PRODGUARD_ENV={settings.env}, PRODGUARD_STRICTNESS={settings.strictness})"
        " and serves it with them fixed; `flask prodguard check` reports them until"
        " they are fixed at their source:",
        *findings_text(fixed),
    ]
    return "\n".join(lines)


def check_before_serving(app: Flask, server: str = "auto") -> str:
    """Refuse to serve an app with an error-level finding; the server to use.

    :param app: The app about to be served.
    :param server: What ``serve`` was asked for: ``"auto"``, ``"gunicorn"``
        or ``"waitress"``.
    :raises UnsafeDeploymentError: A deployment check found an error; a
        guarded app logs ``prodguard.startup.refused`` first.
    :raises ConfigurationError: ``server`` is unknown or not installed.
    """
    findings = blocking_findings(app)
    if findings:
        state = app.extensions.get("prodguard")
        if state is not None:
            # Alerting sees a refused deployment, whatever the strictness.
            state.emitter.emit(
                catalogue.STARTUP_REFUSED,
                findings=[f.check_id for f in findings],
                reason="serve",
                action="refused",
            )
        lines = [f"Flask-ProdGuard refused to serve app {app.name!r}:"]
        lines += [f"  - {f.description}\n    fix: {f.hint}" for f in findings]
        lines.append("Fix these (or silence a check with PRODGUARD_SILENCED_CHECKS) and retry.")
        raise UnsafeDeploymentError("\n".join(lines), findings=[f.check_id for f in findings])
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
    ``prodguard.startup.refused`` first, for alerting). What the guard fixed
    when the app started (``FLASK_DEBUG=1`` switched off, say) is printed on
    standard error, in the words of ``flask prodguard check``. Then the
    server runs in the foreground until SIGTERM or Ctrl+C, with safe
    settings: no reloader, no ``expose_tracebacks``, proxy headers trusted
    only as ``PRODGUARD_TRUSTED_PROXIES`` says, the server's own log lines
    (one ``server.access`` line per request included) as JSON like the
    security events, and 30 seconds (``GRACEFUL_TIMEOUT``) on SIGTERM for the
    requests in flight to finish. ``flask prodguard serve`` does the same
    from the command line.

    :param app: The Flask app to serve, normally guarded with
        ``ProdGuard(app)``.
    :param server: ``"auto"`` (gunicorn on Linux and macOS when installed,
        waitress otherwise), ``"gunicorn"`` or ``"waitress"``.
    :param host: Address to listen on. Loopback by default, so only a proxy on
        the same machine reaches the app; an IPv6 address is written without
        brackets (``"::1"``).
    :param port: TCP port to listen on.
    :param workers: gunicorn worker processes; two per CPU, plus one, by
        default. waitress runs in one process and ignores it.
    :param threads: Threads per gunicorn worker (1 by default), or waitress's
        threads in total (4 by default).
    :raises UnsafeDeploymentError: A deployment check found an error. The
        message lists each finding with its fix; ``findings`` holds their ids.
    :raises ConfigurationError: ``server`` is unknown, or no server it allows
        is installed. The message gives the ``pip install`` command.

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
    chosen = check_before_serving(app, server)
    notice = start_up_notice(app)
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
) -> None:
    """Run ``server`` on ``app`` in the foreground, checks already done.

    :param app: The app, checked by :func:`check_before_serving`.
    :param server: ``"gunicorn"`` or ``"waitress"``, as
        :func:`check_before_serving` chose it.
    :param host: Address to listen on.
    :param port: TCP port to listen on.
    :param workers: gunicorn worker processes (two per CPU, plus one).
    :param threads: Threads per gunicorn worker (1), or waitress's (4).
    """
    if server == "gunicorn":
        _serve_gunicorn(app, host, port, workers or default_workers(), threads or 1)
    else:
        _serve_waitress(app, host, port, threads or 4)


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


def _serve_gunicorn(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    options = gunicorn_options(host, port, workers, threads)

    class GuardedGunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            known = self.cfg.settings
            for key, value in options.items():
                if key in known:
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    GuardedGunicorn().run()


def _serve_waitress(app: Flask, host: str, port: int, threads: int) -> None:
    import logging.config

    from waitress.server import create_server

    # Not waitress.serve(): it calls logging.basicConfig(), which would print
    # every event a second time as a text line.
    logging.config.dictConfig(logging_config())
    server = create_server(
        WaitressAccessLog(app),
        host=host,
        port=port,
        threads=threads,
        expose_tracebacks=False,
        # Proxy headers are trusted by the guard's ProxyFix only, never twice:
        # waitress passes them through when the guard trusts proxies, and
        # strips them when it does not.
        trusted_proxy=None,
        clear_untrusted_proxy_headers=_trusted_proxies(app) == 0,
        ident="waitress",
    )
    server.print_listen("Serving on http://{}:{}")
    _run_until_drained(server)


def _run_until_drained(server: Any) -> None:
    """Run waitress; on SIGTERM stop accepting and finish in-flight requests.

    waitress has no graceful stop of its own: the default SIGTERM action kills
    the process and drops every request in flight, as a process manager's stop
    would. Here SIGTERM closes the door, the loop runs until no task is running
    or queued and every response is flushed (or :data:`GRACEFUL_TIMEOUT` passed),
    and the process exits normally.
    """
    import signal
    import threading

    stopping = threading.Event()

    def on_terminate(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        server.accepting = False  # waitress reads no new connections

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_terminate)
    loop_map = getattr(server, "map", None) or getattr(server, "_map", {})
    deadline: float | None = None
    try:
        while True:
            server.asyncore.loop(timeout=0.2, map=loop_map, count=1)
            if not stopping.is_set():
                continue
            if deadline is None:
                deadline = time.monotonic() + GRACEFUL_TIMEOUT
            if _drained(server, loop_map) or time.monotonic() > deadline:
                break
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _drained(server: Any, loop_map: dict[Any, Any]) -> bool:
    dispatcher = server.task_dispatcher
    if dispatcher.active_count or len(dispatcher.queue):
        return False
    return all(
        not getattr(channel, "total_outbufs_len", 0) for channel in list(loop_map.values())
    )


__all__ = [
    "HeldOutput",
    "ServerJSONFormatter",
    "check_before_serving",
    "choose_server",
    "default_workers",
    "findings_text",
    "fixed_at_start",
    "gunicorn_options",
    "logging_config",
    "run_server",
    "serve",
    "start_up_notice",
]
