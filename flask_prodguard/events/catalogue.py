"""The security event catalogue: every event name, level, meaning and fields.

Names are dotted and stable: alert rules key on them, so a name never changes
meaning; a new meaning gets a new name, and a changed field bumps
:data:`SCHEMA_VERSION`. The JSON Schema shipped in ``schema/event.schema.json``
is generated from this module (:func:`event_schema`) and a test keeps the two
identical.
"""

from __future__ import annotations

import dataclasses
from typing import Any

#: Version of the event format; bumped when a field changes meaning.
SCHEMA_VERSION = 1

#: Levels an event can have, lowest first.
LEVELS = ("debug", "info", "warning", "error", "critical")


@dataclasses.dataclass(frozen=True)
class Field:
    """One field an event can carry."""

    name: str
    #: JSON Schema type(s) of the value.
    type: str | tuple[str, ...]
    #: What the field holds.
    doc: str
    #: JSON Schema of array items, for ``array`` fields.
    items: dict[str, Any] | None = None
    #: Whether the guard makes the value itself (a name, an id, a count, a
    #: setting): it is capped and escaped but never searched for secrets, and
    #: its name is never taken for a secret one. Anything a request, an
    #: exception or the app's config can shape is untrusted, and searched.
    trusted: bool = False
    #: Keys, at any depth inside the value, whose values come from code
    #: (traceback frames): capped and escaped, never searched.
    trusted_parts: tuple[str, ...] = ()


def _f(
    name: str,
    type_: str | tuple[str, ...],
    doc: str,
    items: dict[str, Any] | None = None,
    *,
    trusted: bool = False,
    trusted_parts: tuple[str, ...] = (),
) -> Field:
    return Field(name, type_, doc, items, trusted, trusted_parts)


#: Fields every event carries.
COMMON_FIELDS = (
    _f("event", "string", "The dotted, stable event name.", trusted=True),
    _f("level", "string", "debug, info, warning, error or critical.", trusted=True),
    _f("timestamp", "string", "When, ISO-8601 in UTC with a Z suffix.", trusted=True),
    _f("logger", "string", "Always flask_prodguard.security.", trusted=True),
    _f("schema_version", "integer", "Version of this format.", trusted=True),
    _f("env", "string", "PRODGUARD_ENV of the app.", trusted=True),
    _f("strictness", "string", "PRODGUARD_STRICTNESS of the app.", trusted=True),
    _f("app", "string", "The Flask app's name.", trusted=True),
    _f("host", "string", "Host name of the machine.", trusted=True),
    _f("pid", "integer", "Process id.", trusted=True),
)

#: Fields of events about one request.
REQUEST_FIELDS = (
    _f(
        "request_id",
        "string",
        "Request id: a validated incoming header, or generated.",
        trusted=True,
    ),
    _f("client_ip", ("string", "null"), "REMOTE_ADDR as the server saw it.", trusted=True),
    _f("method", ("string", "null"), "HTTP method.", trusted=True),
    _f("path", ("string", "null"), "Request path, decoded, escaped, capped."),
    _f("query", ("string", "null"), "Raw query string, redacted, escaped, capped."),
    _f("user_agent", ("string", "null"), "User-Agent header, escaped, capped."),
)

_STRINGS = {"type": "string"}

#: Every event-specific field, by name.
FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        _f(
            "action",
            "string",
            "What the guard did: reported, fixed, blocked or refused.",
            trusted=True,
        ),
        _f("env_source", "string", "Where PRODGUARD_ENV came from.", trusted=True),
        _f(
            "strictness_source", "string", "Where PRODGUARD_STRICTNESS came from.", trusted=True
        ),
        _f(
            "findings",
            "array",
            "Ids of the checks that failed (PG101...).",
            _STRINGS,
            trusted=True,
        ),
        # Hints, like check ids and severities, come from the check registry.
        _f("hint", ("string", "null"), "What to do, when the guard has advice.", trusted=True),
        _f("reason", "string", "What was refused.", trusted=True),
        _f("sources", "array", "Where debug mode was switched on.", _STRINGS, trusted=True),
        _f("flags", "object", "Unsafe Flask config flags and their values."),
        _f("where", "string", "Where the debugger sits in the WSGI chain."),
        _f("evalex", "boolean", "Whether the debugger could execute code.", trusted=True),
        _f(
            "decided_by",
            "string",
            "Name of the app whose guard decided (the strictest acting guard in the process),"
            " or process environment (PRODGUARD_ENV=...) before any app exists.",
        ),
        _f("setting", "string", "off (no PIN) or set (a fixed PIN).", trusted=True),
        _f(
            "probe",
            "string",
            "Kind of debugger request: debugger_query or console.",
            trusted=True,
        ),
        _f(
            "signals",
            "array",
            "How the development server was recognised.",
            _STRINGS,
            trusted=True,
        ),
        _f("error_id", "string", "Id shown to the user on the error page.", trusted=True),
        _f("exception_type", "string", "Qualified class name of the exception.", trusted=True),
        _f("exception_message", "string", "The exception's message, redacted and escaped."),
        _f(
            "traceback",
            "array",
            "One entry per chained exception: exception_type, exception_message, frames"
            " (file, line, function; no locals), notes when present.",
            {"type": "object"},
            trusted_parts=("frames",),
        ),
        _f("status", ("integer", "null"), "HTTP status of the response.", trusted=True),
        _f(
            "suppressed_total",
            "integer",
            "Events dropped by flood control in the period.",
            trusted=True,
        ),
        _f("period_seconds", "number", "Length of the period summarised.", trusted=True),
        _f("by_event", "object", "Dropped events per event name.", trusted=True),
        _f(
            "top_sources",
            "array",
            "Event and client pairs that were dropped most.",
            {"type": "object"},
            trusted=True,
        ),
        _f(
            "tracked_keys", "integer", "Event and client pairs currently tracked.", trusted=True
        ),
        _f("template", "string", "Name of the error template."),
        _f(
            "handler",
            "string",
            "Qualified name of the app's error handler, or the view, that built the"
            " response; flask.abort for abort(Response(...)).",
        ),
        _f(
            "leak",
            "string",
            "What the response carried: traceback, source_location, json_frames,"
            " exception_message or url_credentials.",
        ),
        _f("check_id", "string", "Stable id of a deployment check (PG101...).", trusted=True),
        _f(
            "severity",
            "string",
            "Severity of a finding: info, warning, error, critical.",
            trusted=True,
        ),
        _f("finding", "string", "What a check found."),
        _f("source", "string", "Where the risky value came from."),
        _f(
            "stage",
            "string",
            "Where the exception escaped: view, error_handler, wsgi, body, close.",
        ),
        _f(
            "middleware",
            "array",
            "Type names of the middleware outside the guard, outermost first.",
            _STRINGS,
        ),
    )
}


#: Names of the common fields, in order.
COMMON_NAMES = tuple(f.name for f in COMMON_FIELDS)

#: Names of the fields that output presets with HTTP attributes (``http.*``,
#: ``httpRequest``...) file there: the request fields and the response status.
HTTP_NAMES = (*(f.name for f in REQUEST_FIELDS), FIELDS["status"].name)

#: Names of the fields whose values the guard makes itself (:attr:`Field.trusted`):
#: capped and escaped, never searched for secrets nor redacted by name.
TRUSTED_FIELDS = frozenset(
    f.name for f in (*COMMON_FIELDS, *REQUEST_FIELDS, *FIELDS.values()) if f.trusted
)

#: Keys, at any depth, whose values come from code (:attr:`Field.trusted_parts`).
TRUSTED_PARTS = frozenset(
    part
    for f in (*COMMON_FIELDS, *REQUEST_FIELDS, *FIELDS.values())
    for part in f.trusted_parts
)


@dataclasses.dataclass(frozen=True)
class EventSpec:
    """One entry of the catalogue."""

    #: Dotted, stable event name: what alert rules key on.
    name: str
    #: Log level: ``debug``, ``info``, ``warning``, ``error`` or ``critical``.
    level: str
    #: Name in the OWASP Application Logging Vocabulary, where one fits.
    owasp: str | None
    #: What the event means, in one line.
    meaning: str
    #: Event-specific fields (beyond the common ones), all always present.
    fields: tuple[str, ...] = ()
    #: Whether the event describes one request (and carries the request fields).
    request: bool = False
    #: Whether flood control applies (events a client can trigger at will).
    rate_limited: bool = False
    #: Whether log-based alerting should page someone for it.
    alert: bool = False
    #: Multiple of ``PRODGUARD_RATE_LIMIT_BURST`` allowed for this event.
    burst_factor: int = 1


#: Every event the guard can emit, by name, in documentation order.
CATALOGUE: dict[str, EventSpec] = {}


def _spec(
    name: str,
    level: str,
    owasp: str | None,
    meaning: str,
    *fields: str,
    request: bool = False,
    rate_limited: bool = False,
    alert: bool = False,
    burst_factor: int = 1,
) -> EventSpec:
    spec = EventSpec(
        name, level, owasp, meaning, fields, request, rate_limited, alert, burst_factor
    )
    CATALOGUE[name] = spec
    return spec


STARTUP_POSTURE = _spec(
    "prodguard.startup.posture",
    "info",
    "sys_startup",
    "The guard started: environment, strictness and what it found.",
    "env_source",
    "strictness_source",
    "findings",
    "hint",
)
STARTUP_REFUSED = _spec(
    "prodguard.startup.refused",
    "critical",
    "sys_crash",
    "The deployment is unsafe and the guard refused to start it (strict) or serve it.",
    "findings",
    "reason",
    "action",
    alert=True,
)
DEBUG_DETECTED = _spec(
    "prodguard.debug.detected",
    "error",
    "sys_monitor_disabled",
    "Debug mode is on in a production-like app; strictness report left it on.",
    "sources",
    "action",
    "hint",
    alert=True,
)
DEBUG_BLOCKED = _spec(
    "prodguard.debug.blocked",
    "warning",
    None,
    "Debug mode was on and the guard switched it off.",
    "sources",
    "action",
    "hint",
    alert=True,
)
CONFIG_UNSAFE = _spec(
    "prodguard.config.unsafe",
    "warning",
    None,
    "Config flags that leak tracebacks or internals are on (forced off under enforce).",
    "flags",
    "action",
)
DEBUGGER_DETECTED = _spec(
    "prodguard.debugger.detected",
    "critical",
    "sys_monitor_disabled",
    "The Werkzeug interactive debugger wraps a guarded app and is live (strictness report).",
    "where",
    "action",
    "evalex",
    "decided_by",
    alert=True,
)
DEBUGGER_NEUTRALIZED = _spec(
    "prodguard.debugger.neutralized",
    "error",
    None,
    "The Werkzeug debugger runs in a process with an acting guard; the guard made it pass"
    " requests through.",
    "where",
    "action",
    "evalex",
    "decided_by",
    alert=True,
)
DEBUGGER_PIN = _spec(
    "prodguard.debugger.pin_configured",
    "warning",
    None,
    "WERKZEUG_DEBUG_PIN is set: off disables the debugger PIN, a value fixes it.",
    "setting",
    "action",
)
DEBUGGER_PROBE = _spec(
    "prodguard.debugger.probe",
    "warning",
    "malicious_attempt",
    "A request aimed at the Werkzeug debugger (console, resources, PIN, code).",
    "probe",
    "action",
    request=True,
    rate_limited=True,
    alert=True,
)
DEVSERVER_DETECTED = _spec(
    "prodguard.devserver.detected",
    "warning",
    None,
    "The Werkzeug development server serves a guarded app.",
    "signals",
    "action",
    "hint",
    alert=True,
)
ERROR_UNHANDLED = _spec(
    "prodguard.error.unhandled",
    "error",
    None,
    "A request raised an exception the app did not handle; the client got a generic 500.",
    "error_id",
    "exception_type",
    "exception_message",
    "traceback",
    "stage",
    request=True,
    rate_limited=True,
    alert=True,
    # Each error id should be findable: errors get ten times the probe budget.
    burst_factor=10,
)
ERROR_HTTP = _spec(
    "prodguard.error.http",
    "info",
    None,
    "An HTTP error (4xx, or a 5xx raised with abort) was answered with the generic page.",
    "error_id",
    "status",
    "exception_type",
    request=True,
    rate_limited=True,
)
ERROR_STREAM_ABORTED = _spec(
    "prodguard.error.stream_aborted",
    "error",
    None,
    "A streamed response failed after its headers were sent; the response was aborted.",
    "error_id",
    "exception_type",
    "exception_message",
    "traceback",
    request=True,
    rate_limited=True,
    burst_factor=10,
)
ERROR_TRACEBACK_SCRUBBED = _spec(
    "prodguard.error.traceback_scrubbed",
    "error",
    None,
    "A 5xx response from the app carried the exception's message, a traceback or a source"
    " location; enforce and strict replaced it with the generic page.",
    "error_id",
    "status",
    "action",
    "handler",
    "leak",
    request=True,
    rate_limited=True,
    alert=True,
)
ERROR_TEMPLATE_FAILED = _spec(
    "prodguard.error.template_failed",
    "error",
    None,
    "PRODGUARD_ERROR_TEMPLATE could not be rendered; the built-in page was served.",
    "template",
    "exception_type",
    "exception_message",
    rate_limited=True,
)
MIDDLEWARE_OUTSIDE = _spec(
    "prodguard.setup.middleware_outside",
    "warning",
    None,
    "WSGI middleware wraps the app outside the guard, beyond its safety net (once a process).",
    "middleware",
    "action",
    "hint",
)
CHECK_FAILED = _spec(
    "prodguard.check.failed",
    "warning",
    None,
    "A deployment check failed (at start-up, or at the first request): id, severity, message,"
    " hint, source.",
    "check_id",
    "severity",
    "finding",
    "hint",
    "source",
    "action",
)
EVENTS_SUPPRESSED = _spec(
    "prodguard.events.suppressed",
    "warning",
    None,
    "Flood control dropped repeated events in the last period; counts by event and client.",
    "suppressed_total",
    "period_seconds",
    "by_event",
    "top_sources",
    "tracked_keys",
)


def _type_schema(field: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": list(field.type) if isinstance(field.type, tuple) else field.type,
        "description": field.doc,
    }
    if field.items is not None:
        schema["items"] = field.items
    return schema


def event_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of an event as the default handler writes it."""
    properties = {f.name: _type_schema(f) for f in COMMON_FIELDS + REQUEST_FIELDS}
    properties.update({name: _type_schema(f) for name, f in FIELDS.items()})
    properties["event"]["enum"] = list(CATALOGUE)
    properties["level"]["enum"] = list(LEVELS)
    properties["schema_version"]["const"] = SCHEMA_VERSION
    properties["logger"]["const"] = "flask_prodguard.security"
    per_event = []
    for spec in CATALOGUE.values():
        required = list(spec.fields)
        if spec.request:
            required += [f.name for f in REQUEST_FIELDS]
        per_event.append(
            {
                "if": {"properties": {"event": {"const": spec.name}}},
                "then": {
                    "required": required,
                    "properties": {"level": {"const": spec.level}},
                },
            }
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://flask-prodguard.invalid/schema/event.schema.json",
        "title": "Flask-ProdGuard security event",
        "description": f"Schema version {SCHEMA_VERSION} of the events on the"
        " flask_prodguard.security logger, as the default JSON handler writes them.",
        "type": "object",
        "required": [f.name for f in COMMON_FIELDS],
        "properties": properties,
        "additionalProperties": False,
        "allOf": per_event,
    }
