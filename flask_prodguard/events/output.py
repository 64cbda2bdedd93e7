"""The guard's own log handler and its output presets.

When no handler of the app would receive the security events, or when a
destination is configured, the guard writes them itself: one JSON object per
line, with field names from one of the presets (:data:`PRESETS`). Each app
chooses its preset and destination (``PRODGUARD_LOG_FORMAT``,
``PRODGUARD_LOG_DESTINATION``); one handler on the ``flask_prodguard.security``
logger routes each event by the app that emitted it.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime
import json
import logging
import sys
import threading
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TextIO

from . import catalogue
from .processors import sanitise_text

#: Name of the stdlib logger that carries every security event.
SECURITY_LOGGER_NAME = "flask_prodguard.security"

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def event_from_record(record: logging.LogRecord) -> dict[str, Any]:
    """Rebuild the event dictionary from a record on the security logger."""
    event: dict[str, Any] = {}
    for key, value in record.__dict__.items():
        if key not in _RECORD_ATTRIBUTES:
            event[key] = value
    if "event" not in event:
        event["event"] = record.getMessage()
    return event


def format_timestamp(seconds: float) -> str:
    """A time as every line the guard writes gives it: ISO-8601, UTC, a ``Z`` suffix.

    Milliseconds, as in ``2026-12-05T09:30:00.123Z``: the ``timestamp`` of
    the security events and of the server lines ``serve`` writes, so one
    parser reads both.

    :param seconds: the time as seconds since the epoch (``time.time()``,
        ``LogRecord.created``).
    """
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- presets ---------------------------------------------------------------------

# A preset files the catalogue's groups (catalogue.COMMON_NAMES,
# catalogue.HTTP_NAMES) under its own attribute names; what is in a group is
# the catalogue's to say, read when an event is rendered.
_SEVERITY_NUMBER = {"debug": 5, "info": 9, "warning": 13, "error": 17, "critical": 21}


def _split(
    event: Mapping[str, Any], keys: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, Any]]:
    taken = {k: event[k] for k in keys if k in event}
    rest = {k: v for k, v in event.items() if k not in keys}
    return taken, rest


def _drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None and v != {}}


def render_json(event: Mapping[str, Any], message: str) -> dict[str, Any]:
    """Plain JSON: the event's own field names (the default)."""
    return dict(event)


def render_ecs(event: Mapping[str, Any], message: str) -> dict[str, Any]:
    """Elastic Common Schema: ``event.action`` holds the event name."""
    common, rest = _split(event, catalogue.COMMON_NAMES)
    request, rest = _split(rest, catalogue.HTTP_NAMES)
    level = common.get("level", "info")
    kind = "alert" if level in ("error", "critical") else "event"
    return _drop_none(
        {
            "@timestamp": common.get("timestamp"),
            "log.level": level,
            "message": message,
            "ecs.version": "8.11.0",
            "log": {"logger": common.get("logger")},
            "event": {
                "action": common.get("event"),
                "kind": kind,
                "category": ["web"] if request else ["configuration"],
                "dataset": "flask_prodguard.security",
            },
            "service": {"name": common.get("app"), "environment": common.get("env")},
            "host": {"hostname": common.get("host")},
            "process": {"pid": common.get("pid")},
            "client": _drop_none({"ip": request.get("client_ip")}),
            "http": _drop_none(
                {
                    "request": _drop_none(
                        {"method": request.get("method"), "id": request.get("request_id")}
                    ),
                    "response": _drop_none({"status_code": request.get("status")}),
                }
            ),
            "url": _drop_none({"path": request.get("path"), "query": request.get("query")}),
            "user_agent": _drop_none({"original": request.get("user_agent")}),
            "labels": {
                "strictness": common.get("strictness"),
                "schema_version": common.get("schema_version"),
            },
            "prodguard": rest,
        }
    )


def render_gcp(event: Mapping[str, Any], message: str) -> dict[str, Any]:
    """Google Cloud Logging structured logging: ``severity``, ``httpRequest``."""
    request, rest = _split(event, catalogue.HTTP_NAMES)
    out: dict[str, Any] = {
        "severity": str(event.get("level", "info")).upper(),
        "message": message,
        "time": event.get("timestamp"),
        "logging.googleapis.com/labels": {
            "app": str(event.get("app")),
            "env": str(event.get("env")),
        },
    }
    out.update(rest)
    out.pop("timestamp", None)
    http = _drop_none(
        {
            "requestMethod": request.get("method"),
            "requestUrl": (
                sanitise_text(f"{request.get('path')}?{request['query']}")
                if request.get("query")
                else request.get("path")
            ),
            "userAgent": request.get("user_agent"),
            "remoteIp": request.get("client_ip"),
            "status": request.get("status"),
        }
    )
    if http:
        out["httpRequest"] = http
    for key in ("request_id", "query"):
        if request.get(key):
            out[key] = request[key]
    return out


def render_datadog(event: Mapping[str, Any], message: str) -> dict[str, Any]:
    """Datadog reserved and standard attributes: ``status``, ``evt.name``, ``http.*``."""
    request, rest = _split(event, catalogue.HTTP_NAMES)
    out: dict[str, Any] = {
        "status": event.get("level"),
        "message": message,
        "date": event.get("timestamp"),
        "service": event.get("app"),
        "host": event.get("host"),
        "evt": {"name": event.get("event")},
        "logger": {"name": event.get("logger")},
    }
    for key in ("level", "timestamp", "app", "host", "logger"):
        rest.pop(key, None)
    out.update(rest)
    http = _drop_none(
        {
            "method": request.get("method"),
            "url_details": _drop_none(
                {"path": request.get("path"), "queryString": request.get("query")}
            ),
            "useragent": request.get("user_agent"),
            "request_id": request.get("request_id"),
            "status_code": request.get("status"),
        }
    )
    if http:
        out["http"] = http
    if request.get("client_ip"):
        out["network"] = {"client": {"ip": request["client_ip"]}}
    return out


def render_otel(event: Mapping[str, Any], message: str) -> dict[str, Any]:
    """OpenTelemetry log data model: ``EventName``, ``SeverityText``, ``Attributes``."""
    common, rest = _split(event, catalogue.COMMON_NAMES)
    request, rest = _split(rest, catalogue.HTTP_NAMES)
    level = str(common.get("level", "info"))
    attributes = {f"prodguard.{k}": v for k, v in rest.items()}
    attributes.update(
        _drop_none(
            {
                "client.address": request.get("client_ip"),
                "http.request.method": request.get("method"),
                "url.path": request.get("path"),
                "url.query": request.get("query"),
                "user_agent.original": request.get("user_agent"),
                "http.response.status_code": request.get("status"),
                "prodguard.request_id": request.get("request_id"),
                "deployment.environment.name": common.get("env"),
                "prodguard.strictness": common.get("strictness"),
                "prodguard.schema_version": common.get("schema_version"),
            }
        )
    )
    return {
        "Timestamp": common.get("timestamp"),
        "SeverityText": level.upper(),
        "SeverityNumber": _SEVERITY_NUMBER.get(level, 9),
        "EventName": common.get("event"),
        "Body": message,
        "Resource": {
            "service.name": common.get("app"),
            "host.name": common.get("host"),
            "process.pid": common.get("pid"),
        },
        "InstrumentationScope": {"Name": common.get("logger")},
        "Attributes": attributes,
    }


#: Output presets of the default handler, by ``PRODGUARD_LOG_FORMAT`` value.
PRESETS: dict[str, Callable[[Mapping[str, Any], str], dict[str, Any]]] = {
    "json": render_json,
    "ecs": render_ecs,
    "gcp": render_gcp,
    "datadog": render_datadog,
    "otel": render_otel,
}


def render_line(preset: str, record: logging.LogRecord, ensure_ascii: bool = False) -> str:
    """One record as one line of JSON in ``preset``'s field names.

    :param ensure_ascii: escape every non-ASCII character as JSON ``\\u``
        escapes: a line any stream can encode, whatever the record holds.
    """
    event = event_from_record(record)
    # The plain JSON preset has no message; the others carry the summary.
    data = PRESETS[preset](event, "" if preset == "json" else record.getMessage())
    # ensure_ascii=False keeps non-ASCII readable; the sanitiser already
    # escaped every control, format character and lone surrogate, and json
    # escapes the rest of C0.
    return json.dumps(data, default=str, ensure_ascii=ensure_ascii)


# -- destinations and the default handler ------------------------------------------


@dataclasses.dataclass(frozen=True)
class Output:
    """Where and how the default handler writes one app's events."""

    #: A ``PRESETS`` key.
    preset: str = "json"
    #: ``None`` (stderr, only when nobody else gets the events), ``"stderr"``,
    #: ``"stdout"`` or a file path (always written).
    destination: str | None = None


_files: dict[str, TextIO] = {}
_files_lock = threading.Lock()


def _open_destination(destination: str | None) -> TextIO:
    if destination in (None, "stderr"):
        return sys.stderr
    if destination == "stdout":
        return sys.stdout
    assert destination is not None
    with _files_lock:
        stream = _files.get(destination)
        if stream is None or stream.closed:
            stream = open(destination, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            _files[destination] = stream
        return stream


def _is_bare_default(handler: logging.Handler) -> bool:
    """Whether a handler is what ``logging.basicConfig()`` installs by default.

    Servers call it for their own messages (``waitress-serve`` does, after the
    app is loaded); its ``LEVEL:name:message`` lines would reduce the events
    to text, so it does not count as the app's logging.
    """
    formatter = handler.formatter
    if type(handler) is not logging.StreamHandler:
        return False
    return formatter is None or (
        type(formatter) is logging.Formatter and formatter._fmt in (None, logging.BASIC_FORMAT)
    )


def _others_would_emit(logger: logging.Logger, level: int, me: logging.Handler) -> bool:
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if handler is me or getattr(handler, "prodguard_passive", False):
                continue
            if current.parent is None and _is_bare_default(handler):
                continue  # a bare basicConfig() on the root logger
            if level >= handler.level:
                return True
        if not current.propagate:
            break
        current = current.parent
    return False


class DefaultHandler(logging.Handler):
    """The guard's handler: JSON lines, per app preset and destination.

    With no destination configured it writes to the current ``sys.stderr``,
    and only while no other handler would receive the events, like Flask's
    default handler for ``app.logger``. A configured destination is always
    written. A failing destination never raises: the first failure is
    reported once on stderr and the event is dropped.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.outputs: dict[str, Output] = {}
        # Destinations currently failing; each failure is reported once, and
        # again only after the destination worked in between.
        self._failing: set[str] = set()

    def output_for(self, record: logging.LogRecord) -> Output:
        """The output of the app emitting ``record`` (its guard's, while it emits)."""
        output = current_output.get()
        if output is None:
            output = self.outputs.get(str(getattr(record, "app", "")), Output())
        return output

    def emit(self, record: logging.LogRecord) -> None:
        output = self.output_for(record)
        if output.destination is None and _others_would_emit(
            logging.getLogger(record.name), record.levelno, self
        ):
            return
        try:
            line = render_line(output.preset, record)
            stream = _open_destination(output.destination)
            try:
                stream.write(line + "\n")
            except UnicodeEncodeError:
                # A character the stream cannot encode (a lone surrogate in a
                # record the guard did not clean, or an ASCII-only stderr):
                # the same line with JSON escapes, rather than no line. A
                # TextIOWrapper encodes the whole line before writing any of it.
                stream.write(render_line(output.preset, record, ensure_ascii=True) + "\n")
            if output.destination in (None, "stderr", "stdout"):
                stream.flush()  # files are opened line-buffered
        except Exception as error:  # noqa: BLE001 - a sink must never break a request
            self.report_failure(error, output.destination)
        else:
            self._failing.discard(output.destination or "stderr")

    def report_failure(self, error: BaseException, destination: str | None) -> None:
        """Say once per failing destination, on the real stderr, that events are lost."""
        name = destination or "stderr"
        if name in self._failing:
            return
        self._failing.add(name)
        say(
            f"flask_prodguard: cannot write security events to"
            f" {name}: {failure_name(error)};"
            " events are dropped until it works again (reported once)"
        )

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802
        output = self.output_for(record)
        self.report_failure(RuntimeError("handler error"), output.destination)


#: The one default handler, attached to the security logger when first needed.
default_handler = DefaultHandler()


def security_logger() -> logging.Logger:
    """The stdlib logger that carries the events, set up to reach somebody.

    Its level is set to ``INFO`` if nobody set one (the root logger's
    ``WARNING`` default would drop the start-up posture), and the default
    handler is attached once.
    """
    logger = logging.getLogger(SECURITY_LOGGER_NAME)
    if logger.disabled:
        # logging.config.dictConfig() disables every existing logger unless
        # told otherwise; losing security events silently is worse than
        # surprising the app, which can still silence them by level.
        logger.disabled = False
        _say_once(
            "flask_prodguard: the flask_prodguard.security logger had been disabled"
            " (dictConfig with disable_existing_loggers=True?); re-enabled it. To"
            " silence the guard's events on purpose, raise that logger's level."
        )
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if default_handler not in logger.handlers:
        logger.addHandler(default_handler)
    return logger


def failure_name(error: BaseException) -> str:
    """The class name of ``error`` for a failure notice on stderr; never raises.

    Only the name: the message may hold a secret (stderr is not redacted), and
    its ``__str__`` may raise. Read through ``type``'s own descriptor, so a
    metaclass property is not called.
    """
    try:
        name = type.__dict__["__qualname__"].__get__(type(error))
    except Exception:  # noqa: BLE001 - a notice must never fail
        return "<unknown>"
    return name if isinstance(name, str) else "<unknown>"


def say(message: str) -> None:
    """Write one line on the process's real stderr; never raises."""
    try:
        sys.__stderr__.write(message + "\n")  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001, S110 - nowhere left to report to
        pass


_said: set[str] = set()


def _say_once(message: str) -> None:
    if message in _said:
        return
    _said.add(message)
    say(message)


#: The output of the guard emitting right now: two apps with the same name
#: still write where each was told to. (Records from elsewhere fall back to
#: the output configured for their ``app`` field.)
current_output: contextvars.ContextVar[Output | None] = contextvars.ContextVar(
    "prodguard_output", default=None
)


def configure_output(app_name: str, output: Output) -> None:
    """Route events of ``app_name`` to ``output``, opening a file destination now.

    :raises OSError: a file destination cannot be opened.
    """
    if output.destination not in (None, "stderr", "stdout"):
        _open_destination(output.destination)
    default_handler.outputs[app_name] = output
