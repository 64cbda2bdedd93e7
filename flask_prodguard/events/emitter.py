"""Emitting security events: the one place events leave the guard.

Events are built with structlog and carried by the stdlib logger
``flask_prodguard.security``, so they reach whatever logging the app already has
(stdlib handlers, python-json-logger, structlog's ``ProcessorFormatter``,
Sentry's logging integration) with their fields as structured data. The
library never calls ``structlog.configure()`` or ``logging.basicConfig()`` and
never touches the root logger.

Each record's message is a readable one-line summary (``event key=value ...``)
for plain text formatters; the fields, ``event`` included, travel as record
attributes for structured ones.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Mapping
from collections.abc import MutableMapping
from typing import TYPE_CHECKING
from typing import Any

import structlog
from flask import has_request_context
from flask import request
from structlog.typing import EventDict
from structlog.typing import WrappedLogger

from ..keys import REQUEST_ID_KEY
from ..keys import REQUEST_ID_TOKENS_KEY
from . import output
from .catalogue import CATALOGUE as CATALOGUE
from .catalogue import COMMON_NAMES
from .catalogue import EVENTS_SUPPRESSED
from .catalogue import SCHEMA_VERSION as SCHEMA_VERSION
from .catalogue import TRUSTED_FIELDS as TRUSTED_FIELDS
from .catalogue import TRUSTED_PARTS
from .catalogue import EventSpec as EventSpec
from .flood import FloodControl
from .hooks import AlertDispatcher
from .hooks import AlertHook
from .output import SECURITY_LOGGER_NAME as SECURITY_LOGGER_NAME
from .output import Output
from .output import current_output
from .output import failure_name
from .output import say
from .output import security_logger as security_logger
from .processors import Redactor
from .processors import sanitise_text

if TYPE_CHECKING:
    from ..config import Settings


_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=\-]{1,128}")
_HOST = socket.gethostname()
_COMMON_NAMES = frozenset(COMMON_NAMES)
_SUMMARY_LIMIT = 1000
_failure_reported = False


def _add_common_fields(
    logger: WrappedLogger, method_name: str, event_dict: EventDict
) -> EventDict:
    common: EventDict = {
        "event": event_dict.pop("event"),
        "level": method_name,
        "timestamp": output.format_timestamp(time.time()),
        "logger": SECURITY_LOGGER_NAME,
        "schema_version": SCHEMA_VERSION,
        "host": _HOST,
        "pid": os.getpid(),
    }
    common.update(event_dict)
    return common


def _summary_text(text: str) -> str:
    """One value of the summary, quoted unless it is plain ASCII without ``=`` or quotes.

    A value with any whitespace (a no-break or an em space included), ``=``
    or a quote could otherwise pass for more ``key=value`` fields; inside the
    quotes, backslashes and double quotes are escaped, so no value can end
    its quoting early for a reader or a logfmt parser. Non-ASCII values are
    quoted too: a blank-looking letter (U+3164) must not pass for a space.
    """
    if (
        text
        and text.isascii()
        and text.isprintable()
        and " " not in text
        and "=" not in text
        and '"' not in text
        and "'" not in text
    ):
        return text
    # Values are already cleaned; escaping again only matters for a caller
    # passing raw values, and costs nothing for printable text.
    text = sanitise_text(text, _SUMMARY_LIMIT)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _summary_value(value: object) -> str:
    if isinstance(value, str):
        return _summary_text(value)
    if isinstance(value, (bool, int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (str, int, float, bool)) for v in value):
            return _summary_text("[" + ",".join(str(v) for v in value) + "]")
        return f"[{len(value)} items]"
    if isinstance(value, dict):
        if len(value) <= 8 and all(
            isinstance(v, (str, int, float, bool)) for v in value.values()
        ):
            return _summary_text("{" + ",".join(f"{k}:{v}" for k, v in value.items()) + "}")
        return f"{{{len(value)} keys}}"
    return _summary_text(str(value))


def summarise(event_dict: Mapping[str, object]) -> str:
    """A readable one-line message: the event name and its own fields.

    Each field is ``key=value``; a value that holds whitespace of any kind,
    ``=``, a quote or anything but printable ASCII is double-quoted with
    ``\\`` and ``"`` escaped inside, so a request can never add a field of
    its own (``status=200``, ``action=allowed``) for a reader or a parser.
    """
    parts = [_summary_value(event_dict.get("event"))]
    for key, value in event_dict.items():
        if key not in _COMMON_NAMES and value is not None:
            parts.append(f"{key}={_summary_value(value)}")
    text = " ".join(parts)
    return text if len(text) <= _SUMMARY_LIMIT else text[:_SUMMARY_LIMIT] + "..."


class _Summary:
    """A record message that becomes the readable summary only when formatted."""

    __slots__ = ("_event", "_text")

    def __init__(self, event: Mapping[str, object]) -> None:
        self._event = event
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            self._text = summarise(self._event)
        return self._text


def _to_log_kwargs(
    logger: WrappedLogger, method_name: str, event_dict: EventDict
) -> dict[str, object]:
    # Like structlog.stdlib.render_to_log_kwargs, but the message is a readable
    # summary (built only if a formatter asks) and ``event`` stays a field, so
    # structured formatters key on it.
    extra = dict(event_dict)
    return {"msg": _Summary(extra), "extra": extra}


def _report_failure(name: str, error: BaseException) -> None:
    global _failure_reported
    if _failure_reported:
        return
    _failure_reported = True
    say(
        f"flask_prodguard: could not emit {name}: {failure_name(error)}"
        " (reported once; requests are not affected)"
    )


def _wsgi_text(value: object) -> str | None:
    """A WSGI environ string (bytes as latin-1) as readable text."""
    if value is None:
        return None
    text = str(value)
    try:
        return text.encode("latin-1").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text


class Emitter:
    """Builds and emits the events of one app.

    :param context: common fields of the app (``env``, ``strictness``, ``app``).
    :param settings: the app's settings (redaction, request ids, flood control).
    :param alert_hooks: the ``on_alert`` callables, run off the request thread
        for events at or above ``settings.alert_level``.
    """

    def __init__(
        self,
        context: Mapping[str, object],
        settings: Settings,
        alert_hooks: tuple[AlertHook, ...] = (),
    ) -> None:
        self.context = dict(context)
        #: Where the default handler writes this app's events.
        self.output = Output(settings.log_format, settings.log_destination)
        #: Runs the ``on_alert`` hooks, off the request thread.
        self.alerts = AlertDispatcher(alert_hooks, settings.alert_level)
        self.settings = settings
        self._request_id_environ_key = (
            "HTTP_" + settings.request_id_header.upper().replace("-", "_")
            if settings.request_id_header
            else None
        )
        self.redactor = Redactor(
            settings.redact_keys,
            settings.redact_patterns,
            # What the catalogue marks trusted is the guard's own making.
            allowed_keys=TRUSTED_FIELDS,
            trusted_keys=TRUSTED_FIELDS | TRUSTED_PARTS,
        )
        self.flood = FloodControl(
            settings.rate_limit_burst,
            settings.rate_limit_window,
            self._report_suppressed,
        )
        self._logger = structlog.wrap_logger(
            logging.getLogger(SECURITY_LOGGER_NAME),
            processors=[_add_common_fields, self.redactor, self._to_hooks, _to_log_kwargs],
            wrapper_class=structlog.stdlib.BoundLogger,
        ).bind()  # a concrete logger: no lazy proxy to rebuild on every event

    def emit(
        self, spec: EventSpec, environ: Mapping[str, Any] | None = None, **fields: object
    ) -> None:
        """Emit one event. Never raises: a failing sink never breaks a request.

        :param spec: the catalogue entry.
        :param environ: the WSGI environ of the request, for request events.
        :param fields: the event's own fields.
        """
        try:
            if spec.rate_limited:
                client = environ.get("REMOTE_ADDR") if environ is not None else None
                if not self.flood.allow(spec.name, client, spec.burst_factor):
                    return
            if spec.request and environ is not None:
                fields = {**self.request_fields(environ), **fields}
            security_logger()
            token = current_output.set(self.output)
            try:
                getattr(self._logger, spec.level)(spec.name, **self.context, **fields)
            finally:
                current_output.reset(token)
        except Exception as error:  # noqa: BLE001 - logging must never break the caller
            _report_failure(spec.name, error)

    def _to_hooks(
        self, logger: WrappedLogger, method_name: str, event_dict: EventDict
    ) -> EventDict:
        # After redaction and escaping: hooks see exactly what the logs see.
        if self.alerts.wants(method_name):
            self.alerts.submit(dict(event_dict))
        return event_dict

    def _report_suppressed(self, summary: dict[str, object]) -> None:
        self.emit(EVENTS_SUPPRESSED, None, **summary)

    # -- requests ------------------------------------------------------------

    def request_fields(self, environ: Mapping[str, Any]) -> dict[str, str | None]:
        """The request fields of an event, from the WSGI environ."""
        return {
            "request_id": self.request_id(environ),
            "client_ip": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": _wsgi_text(environ.get("PATH_INFO")),
            "query": _wsgi_text(environ.get("QUERY_STRING")) or None,
            "user_agent": _wsgi_text(environ.get("HTTP_USER_AGENT")),
        }

    def request_id(self, environ: Mapping[str, Any]) -> str:
        """The id of this request, made on first use and bound to contextvars.

        Taken from the configured incoming header when its value is valid,
        generated otherwise. Binding uses tokens, so the app's own context
        variables are left alone; the guard's middleware resets them when the
        request ends.
        """
        existing = environ.get(REQUEST_ID_KEY)
        if existing is not None:
            return str(existing)
        request_id = None
        if self._request_id_environ_key is not None:
            incoming = environ.get(self._request_id_environ_key)
            if isinstance(incoming, str) and _VALID_REQUEST_ID.fullmatch(incoming):
                request_id = incoming
        if request_id is None:
            request_id = uuid.uuid4().hex
        if isinstance(environ, MutableMapping):
            environ[REQUEST_ID_KEY] = request_id
            # Bind only inside a Flask request, whose end the guard's
            # middleware sees and undoes; elsewhere nothing would reset it.
            if has_request_context() and request.environ is environ:
                environ[REQUEST_ID_TOKENS_KEY] = structlog.contextvars.bind_contextvars(
                    request_id=request_id
                )
        return request_id


def end_request(environ: MutableMapping[str, Any]) -> None:
    """Undo the request's context-variable bindings (called by the middleware)."""
    tokens = environ.pop(REQUEST_ID_TOKENS_KEY, None)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)


__all__ = [
    "CATALOGUE",
    "SCHEMA_VERSION",
    "SECURITY_LOGGER_NAME",
    "Emitter",
    "EventSpec",
    "end_request",
    "sanitise_text",
    "security_logger",
    "summarise",
]
