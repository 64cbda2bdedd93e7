"""The security event catalogue and the one place events are emitted from.

Events are built with structlog and carried by the stdlib logger
``flask_prodguard.security``, so they reach whatever logging the app already has
(stdlib handlers, python-json-logger, structlog's ``ProcessorFormatter``) with
their fields as structured data. The library never calls
``structlog.configure()`` or ``logging.basicConfig()`` and never touches the
root logger. When no handler would emit the events, the guard attaches its own:
one JSON object per line on stderr, like Flask's default handler for
``app.logger``.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import os
import socket
import sys
from collections.abc import Mapping
from collections.abc import MutableMapping
from typing import Any
from typing import TextIO

import structlog

from .processors import sanitise_fields

#: Name of the stdlib logger that carries every security event.
SECURITY_LOGGER_NAME = "flask_prodguard.security"

#: Version of the event format; bumped when a field changes meaning.
SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True)
class EventSpec:
    """One entry of the event catalogue."""

    #: Dotted, stable event name: what alert rules key on.
    name: str
    #: Log level: ``debug``, ``info``, ``warning``, ``error`` or ``critical``.
    level: str
    #: Name in the OWASP Application Logging Vocabulary, where one fits.
    owasp: str | None
    #: What the event means, in one line.
    meaning: str
    #: Fields the event carries beyond the common ones.
    fields: tuple[str, ...] = ()


#: Every event the guard can emit, by name.
CATALOGUE: dict[str, EventSpec] = {}


def _spec(
    name: str, level: str, owasp: str | None, meaning: str, fields: tuple[str, ...]
) -> EventSpec:
    spec = EventSpec(name, level, owasp, meaning, fields)
    CATALOGUE[name] = spec
    return spec


STARTUP_POSTURE = _spec(
    "prodguard.startup.posture",
    "info",
    "sys_startup",
    "The guard started: environment, strictness and what it found.",
    ("env_source", "strictness_source", "findings", "hint"),
)
STARTUP_REFUSED = _spec(
    "prodguard.startup.refused",
    "critical",
    "sys_crash",
    "Strictness is strict and the deployment is unsafe: the app will not start or serve.",
    ("findings", "reason", "action"),
)
DEBUG_DETECTED = _spec(
    "prodguard.debug.detected",
    "error",
    "sys_monitor_disabled",
    "Debug mode is on in a guarded app; strictness report left it on.",
    ("sources", "action", "hint"),
)
DEBUG_BLOCKED = _spec(
    "prodguard.debug.blocked",
    "warning",
    None,
    "Debug mode was on and the guard switched it off.",
    ("sources", "action", "hint"),
)
CONFIG_UNSAFE = _spec(
    "prodguard.config.unsafe",
    "warning",
    None,
    "Config flags that leak tracebacks or internals are on (forced off under enforce).",
    ("flags", "action"),
)
DEBUGGER_DETECTED = _spec(
    "prodguard.debugger.detected",
    "critical",
    "sys_monitor_disabled",
    "The Werkzeug interactive debugger wraps a guarded app and is live (strictness report).",
    ("where", "action", "evalex"),
)
DEBUGGER_NEUTRALIZED = _spec(
    "prodguard.debugger.neutralized",
    "error",
    None,
    "The Werkzeug debugger wraps a guarded app; the guard made it pass requests through.",
    ("where", "action", "evalex"),
)
DEBUGGER_PIN = _spec(
    "prodguard.debugger.pin_configured",
    "warning",
    None,
    "WERKZEUG_DEBUG_PIN is set: off disables the debugger PIN, a value fixes it.",
    ("setting", "action"),
)
DEBUGGER_PROBE = _spec(
    "prodguard.debugger.probe",
    "warning",
    "malicious_attempt",
    "A request aimed at the Werkzeug debugger (console, resources, PIN, code).",
    ("probe", "action", "method", "path", "query", "client_ip", "user_agent"),
)
DEVSERVER_DETECTED = _spec(
    "prodguard.devserver.detected",
    "warning",
    None,
    "The Werkzeug development server serves a guarded app.",
    ("signals", "action", "hint"),
)

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}

_HOST = socket.gethostname()


def event_from_record(record: logging.LogRecord) -> dict[str, Any]:
    """Rebuild the event dictionary from a record on the security logger."""
    event: dict[str, Any] = {"event": record.getMessage()}
    for key, value in record.__dict__.items():
        if key not in _RECORD_ATTRIBUTES:
            event[key] = value
    return event


class JSONLinesFormatter(logging.Formatter):
    """Render a security event as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(event_from_record(record), default=str, ensure_ascii=False)


def _handler_would_emit(logger: logging.Logger, level: int, skip: logging.Handler) -> bool:
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if handler is not skip and handler.level <= level:
                return True
        if not current.propagate:
            break
        current = current.parent
    return False


class DefaultHandler(logging.StreamHandler[TextIO]):
    """The guard's own handler: JSON lines on the current ``sys.stderr``.

    It stands aside (emits nothing) as soon as any other handler would receive
    the events, so an app that configures logging later gets no duplicates.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self._fixed_stream = stream
        self.setFormatter(JSONLinesFormatter())

    @property
    def stream(self) -> TextIO:
        return self._fixed_stream or sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass  # StreamHandler.__init__ assigns; the current stderr is used instead.

    def filter(self, record: logging.LogRecord) -> bool:
        logger = logging.getLogger(record.name)
        if _handler_would_emit(logger, record.levelno, self):
            return False
        return bool(super().filter(record))


_default_handler = DefaultHandler()


def security_logger() -> logging.Logger:
    """The stdlib logger that carries the events, set up to reach somebody.

    Its level is set to ``INFO`` if nobody set one (the root logger's
    ``WARNING`` default would drop the start-up posture), and the default
    handler is attached once.
    """
    logger = logging.getLogger(SECURITY_LOGGER_NAME)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if _default_handler not in logger.handlers:
        logger.addHandler(_default_handler)
    return logger


def _add_common_fields(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    now = datetime.datetime.now(datetime.UTC)
    common = {
        "level": method_name,
        "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "logger": SECURITY_LOGGER_NAME,
        "schema_version": SCHEMA_VERSION,
        "host": _HOST,
        "pid": os.getpid(),
    }
    common.update(event_dict)
    return common


_bound = structlog.wrap_logger(
    logging.getLogger(SECURITY_LOGGER_NAME),
    processors=[
        _add_common_fields,
        sanitise_fields,
        structlog.stdlib.render_to_log_kwargs,
    ],
    wrapper_class=structlog.stdlib.BoundLogger,
)


def emit(spec: EventSpec, context: Mapping[str, Any] | None = None, **fields: Any) -> None:
    """Emit one security event. Never raises: a failing sink never breaks a request.

    :param spec: the catalogue entry.
    :param context: common fields of the app (``env``, ``strictness``, ``app``).
    :param fields: the event's own fields.
    """
    try:
        security_logger()
        event = dict(context or {})
        event.update(fields)
        getattr(_bound, spec.level)(spec.name, **event)
    except Exception:  # noqa: BLE001 - logging must never break the caller
        try:
            sys.stderr.write(f"flask_prodguard: could not emit {spec.name}\n")
        except Exception:  # noqa: BLE001, S110 - nowhere left to report to
            pass
