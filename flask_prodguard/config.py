"""The ``PRODGUARD_*`` configuration keys, their defaults, and their validation.

Every key is declared once, here, with its default and a ``#:`` comment that the
documentation's configuration reference is generated from. Settings are read
once, in ``init_app``, into a frozen :class:`Settings`; nothing reads
``app.config`` per request.

Precedence for each key, highest first:

1. the process environment variable of the same name, for the keys that allow
   it (the operator has the last word over code that was shipped by mistake);
2. the keyword argument given to :class:`~flask_prodguard.ProdGuard`;
3. ``app.config``;
4. the default.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from typing import Any

from .events.processors import REDACTED
from .events.processors import pattern_error
from .events.processors import secret_name
from .exceptions import ConfigurationError
from .policy import DEFAULT_STRICTNESS
from .policy import Environment
from .policy import Strictness

PREFIX = "PRODGUARD_"

#: Not a setting: written to ``os.environ`` by a guard that neutralises the
#: Werkzeug debugger (``enforce`` or ``strict``), and read when the package is
#: imported, so that a child process (the ``flask run`` reloader's) fails closed
#: before any app exists there (see :mod:`flask_prodguard.wsgi.debugger`). The one
#: ``PRODGUARD_*`` variable that :func:`check_environment` lets through.
PARENT_STRICTNESS_VARIABLE = "PRODGUARD_PARENT_STRICTNESS"


@dataclasses.dataclass(frozen=True)
class Key:
    """The declaration of one configuration key.

    Declared once each, below, through :func:`_declare`; :func:`load_settings`
    validates a value by its :attr:`kind`, and the documentation's
    configuration reference is generated from the declarations and their
    ``#:`` comments.
    """

    #: Full name, e.g. ``PRODGUARD_ENV``.
    name: str
    #: Default value; ``None`` means "decided from other settings" or "unset".
    default: object
    #: One-line description used in the documentation.
    doc: str
    #: Kind of value: ``choice``, ``text``, ``text_list``, ``pattern_list``,
    #: ``int``, ``number`` or ``bool``.
    kind: str = "choice"
    #: Allowed values, for ``choice`` keys.
    choices: tuple[str, ...] = ()
    #: Whether an environment variable of the same name overrides code.
    env_override: bool = False
    #: Smallest allowed value, for ``int`` and ``number`` keys.
    minimum: float | None = None

    @property
    def argument(self) -> str:
        """Name of the matching :class:`~flask_prodguard.ProdGuard` keyword."""
        return self.name.removeprefix(PREFIX).lower()

    @property
    def allowed(self) -> str:
        """The allowed values, in words, for error messages and docs."""
        if self.kind == "choice":
            # str() first: a StrEnum member's repr is <Environment.PRODUCTION: ...>.
            return ", ".join(repr(str(c)) for c in self.choices)
        if self.kind == "int":
            return f"an integer >= {self.minimum:g}"
        if self.kind == "number":
            return f"a number > {self.minimum:g}"
        return {
            "text": "a non-empty string, or None",
            "text_list": "a list of strings",
            "pattern_list": "a list of regular expressions in RE2 syntax (strings)",
            "bool": "True or False",
        }[self.kind]


#: Every known key, by name.
KEYS: dict[str, Key] = {}


def _declare(key: Key) -> Key:
    """Add ``key`` to :data:`KEYS` and return it."""
    KEYS[key.name] = key
    return key


#: Where the app runs: ``production``, ``staging``, ``development`` or ``testing``.
#: Default ``production`` (``testing`` under pytest, through the bundled plugin).
#: The ``PRODGUARD_ENV`` environment variable overrides code.
ENV = _declare(
    Key(
        "PRODGUARD_ENV",
        None,
        "Where the app runs. Default production (testing under pytest). "
        "The environment variable of the same name wins over code.",
        choices=tuple(Environment),
        env_override=True,
    )
)

#: What the guard does about unsafe conditions: ``off``, ``report``, ``enforce``
#: or ``strict``. Default ``enforce`` in production and staging, ``off`` in
#: development and testing. The ``PRODGUARD_STRICTNESS`` environment variable
#: overrides code.
STRICTNESS = _declare(
    Key(
        "PRODGUARD_STRICTNESS",
        None,
        "What the guard does: off, report, enforce or strict. Default enforce in "
        "production and staging, off otherwise. The environment variable wins over code.",
        choices=tuple(Strictness),
        env_override=True,
    )
)

#: Field names of the guard's own JSON lines: ``json`` (the event's own names),
#: ``ecs``, ``gcp``, ``datadog`` or ``otel``.
LOG_FORMAT = _declare(
    Key(
        "PRODGUARD_LOG_FORMAT",
        "json",
        "Field names of the guard's own handler: json, ecs, gcp, datadog or otel.",
        choices=("json", "ecs", "gcp", "datadog", "otel"),
    )
)

#: Where the guard's own handler writes: unset (stderr, only when no handler of
#: the app receives the events), ``stderr``, ``stdout`` or a file path (always
#: written, in addition to the app's handlers).
LOG_DESTINATION = _declare(
    Key(
        "PRODGUARD_LOG_DESTINATION",
        None,
        "Where the guard's handler writes: unset (stderr when nothing else gets the "
        "events), stderr, stdout, or a file path (always written). The environment "
        "variable wins over code.",
        kind="text",
        env_override=True,
    )
)

#: Incoming header trusted for request ids (e.g. ``X-Request-ID`` set by your
#: proxy). Its value is used only when it is 1-128 characters of letters,
#: digits and ``._:+/=-``; otherwise an id is generated.
REQUEST_ID_HEADER = _declare(
    Key(
        "PRODGUARD_REQUEST_ID_HEADER",
        None,
        "Incoming header trusted for request ids, when its value is valid."
        " Unset: always generate.",
        kind="text",
    )
)

#: Response header that echoes the request id on every response. Unset: no header
#: (and no id is made for requests that log nothing).
REQUEST_ID_RESPONSE_HEADER = _declare(
    Key(
        "PRODGUARD_REQUEST_ID_RESPONSE_HEADER",
        None,
        "Response header that carries the request id on every response. Unset: none.",
        kind="text",
    )
)

#: More field names to redact, matched like the built-in ones (case and
#: separators ignored, a name matches if it contains the word).
REDACT_KEYS = _declare(
    Key(
        "PRODGUARD_REDACT_KEYS",
        (),
        "More field names to redact (case and separators ignored).",
        kind="text_list",
    )
)

#: More regular expressions, in RE2 syntax (matched in linear time, so no
#: backreferences or lookaround); every match in any string field is redacted.
REDACT_PATTERNS = _declare(
    Key(
        "PRODGUARD_REDACT_PATTERNS",
        (),
        "More regular expressions (RE2 syntax: linear time) whose matches are redacted from"
        " every string.",
        kind="pattern_list",
    )
)

#: Events one (event, client) pair may emit per window before flood control
#: drops them and counts them in ``prodguard.events.suppressed``.
RATE_LIMIT_BURST = _declare(
    Key(
        "PRODGUARD_RATE_LIMIT_BURST",
        20,
        "Request events per (event, client) and window before flood control drops them.",
        kind="int",
        minimum=1,
    )
)

#: Length of the flood-control window in seconds.
RATE_LIMIT_WINDOW = _declare(
    Key(
        "PRODGUARD_RATE_LIMIT_WINDOW",
        60.0,
        "Flood-control window in seconds; one suppressed-events summary per window.",
        kind="number",
        minimum=0,
    )
)

#: Replace Flask's own ``Exception on <path>`` log record (which writes the
#: decoded path raw) with the structured ``prodguard.error.unhandled`` event.
REPLACE_EXCEPTION_LOG = _declare(
    Key(
        "PRODGUARD_REPLACE_EXCEPTION_LOG",
        True,
        "Replace Flask's 'Exception on <path>' log record with prodguard.error.unhandled.",
        kind="bool",
    )
)

#: Path prefixes whose errors are always answered with problem+json
#: (``["/api/"]``). Elsewhere the ``Accept`` header and JSON request bodies
#: decide.
JSON_PATH_PREFIXES = _declare(
    Key(
        "PRODGUARD_JSON_PATH_PREFIXES",
        (),
        "Path prefixes whose errors are always problem+json, e.g. ['/api/'].",
        kind="text_list",
    )
)

#: ``standard``: error pages use the standard text of the status code, never
#: the ``description`` given to ``abort()``; ``passthrough``: they use it.
HTTP_DESCRIPTIONS = _declare(
    Key(
        "PRODGUARD_HTTP_DESCRIPTIONS",
        "standard",
        "standard: error pages never show abort(code, description) texts;"
        " passthrough: they do.",
        choices=("standard", "passthrough"),
    )
)

#: A template (in the app's template folders) for error pages. It gets only
#: ``status``, ``title``, ``description`` and ``error_id``; no ``config``,
#: ``request`` or ``session``. If it fails, the built-in page is served.
ERROR_TEMPLATE = _declare(
    Key(
        "PRODGUARD_ERROR_TEMPLATE",
        None,
        "Template for error pages; gets only status, title, description and error_id.",
        kind="text",
    )
)

#: Response header that carries the error id of an error response.
ERROR_ID_HEADER = _declare(
    Key(
        "PRODGUARD_ERROR_ID_HEADER",
        "X-Error-ID",
        "Response header that carries the error id of every error response.",
        kind="text",
    )
)

#: Check ids (``PG101``...) to silence: they are neither reported nor acted on.
#: An id that does not exist is itself a finding (``PG603``).
SILENCED_CHECKS = _declare(
    Key(
        "PRODGUARD_SILENCED_CHECKS",
        (),
        "Check ids to silence, e.g. ['PG308']. Unknown ids are reported (PG603).",
        kind="text_list",
    )
)

#: How many reverse proxies in front of the app set ``X-Forwarded-For``,
#: ``-Proto``, ``-Host``, ``-Port`` and ``-Prefix`` (0: none, trust no such
#: header). The guard places one ``ProxyFix`` with this hop count in front of
#: itself, so events carry the real client address and scheme; ``serve``
#: leaves the servers' own proxy trust off, so headers are never trusted twice.
TRUSTED_PROXIES = _declare(
    Key(
        "PRODGUARD_TRUSTED_PROXIES",
        0,
        "Reverse proxies in front of the app (hop count for X-Forwarded-*); 0 trusts none. "
        "The environment variable wins over code.",
        kind="int",
        minimum=0,
        env_override=True,
    )
)

#: Level at or above which the ``on_alert`` hooks given to
#: :class:`~flask_prodguard.ProdGuard` are called.
ALERT_LEVEL = _declare(
    Key(
        "PRODGUARD_ALERT_LEVEL",
        "error",
        "Level at or above which on_alert hooks run: warning, error or critical.",
        choices=("warning", "error", "critical"),
    )
)

# Set by the bundled pytest plugin: under pytest the default environment is
# "testing", so adding the guard never changes the behaviour of an app's tests.
_under_pytest = False


def set_pytest_default(active: bool) -> None:
    """Make ``testing`` the default environment, or ``production`` again.

    Called by the bundled pytest plugin at the start and the end of a session;
    an explicit ``PRODGUARD_ENV`` still wins.

    :param active: ``True`` while pytest runs.
    """
    global _under_pytest
    _under_pytest = active


@dataclasses.dataclass(frozen=True)
class Settings:
    """The guard's settings for one app, resolved and validated.

    Built once per app by :func:`load_settings`, frozen, and read on the
    request path instead of ``app.config``. Each field after :attr:`sources`
    holds the key whose name it is without the ``PRODGUARD_`` prefix, in lower
    case (:attr:`Key.argument`), in its settled form: lists become tuples,
    choices lower case, texts stripped.
    """

    #: ``PRODGUARD_ENV``, or the default (``production``; ``testing`` under pytest).
    env: Environment
    #: ``PRODGUARD_STRICTNESS``, or the environment's default.
    strictness: Strictness
    #: Where each setting came from, by key name (for events and the CLI).
    sources: Mapping[str, str]
    log_format: str = "json"
    log_destination: str | None = None
    request_id_header: str | None = None
    request_id_response_header: str | None = None
    redact_keys: tuple[str, ...] = ()
    redact_patterns: tuple[str, ...] = ()
    rate_limit_burst: int = 20
    rate_limit_window: float = 60.0
    replace_exception_log: bool = True
    json_path_prefixes: tuple[str, ...] = ()
    http_descriptions: str = "standard"
    error_template: str | None = None
    error_id_header: str = "X-Error-ID"
    silenced_checks: tuple[str, ...] = ()
    trusted_proxies: int = 0
    alert_level: str = "error"

    @property
    def env_explicit(self) -> bool:
        """Whether somebody said where the app runs (not a default)."""
        return not self.sources["PRODGUARD_ENV"].startswith("default")


def _closest(word: str, candidates: list[str]) -> str | None:
    """The candidate nearest to a misspelt ``word``, if one is close enough."""
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.5)
    return matches[0] if matches else None


def _did_you_mean(suggestion: str | None) -> str:
    return f" Did you mean {suggestion}?" if suggestion else ""


def _shown(name: str, value: object) -> str:
    """A mistyped setting's value as an error shows it: ``repr``, or
    :data:`~.events.processors.REDACTED` when the name says it is a secret,
    whatever its type (``b"..."``, a list or a dict would slip past a pattern
    over the text)."""
    return repr(REDACTED if secret_name(name) else value)


def check_unknown_keys(config: Mapping[str, object]) -> None:
    """Raise :exc:`ConfigurationError` for a ``PRODGUARD_*`` key nobody declared.

    :param config: The app's ``app.config``; keys without the prefix are not
        the guard's business.
    """
    for name in config:
        if isinstance(name, str) and name.startswith(PREFIX) and name not in KEYS:
            suggestion = _closest(name, list(KEYS))
            raise ConfigurationError(
                f"Unknown configuration key {name} = {_shown(name, config[name])} in"
                " app.config."
                f" Known keys: {', '.join(KEYS)}.{_did_you_mean(suggestion)}",
                key=name,
                value=config[name],
                allowed=list(KEYS),
                suggestion=suggestion,
            )


def check_environment(environ: Mapping[str, str], config: Mapping[str, object]) -> None:
    """Raise :exc:`ConfigurationError` for a ``PRODGUARD_*`` variable that would be ignored.

    A misspelt ``PRODGUARD_STRICTNES=strict`` set by an operator must not fail
    open silently, so the process environment is checked like ``app.config``:
    an unknown name raises, naming the closest key. So does a known key that
    only code can set (say ``PRODGUARD_LOG_FORMAT``), unless ``app.config``
    holds it too (the app forwards it from the environment itself).

    :param environ: The process environment (``os.environ``).
    :param config: The app's ``app.config``.
    """
    readable = [key.name for key in KEYS.values() if key.env_override]
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name == PARENT_STRICTNESS_VARIABLE:
            continue
        key = KEYS.get(name)
        if key is None:
            suggestion = _closest(name, list(KEYS))
            raise ConfigurationError(
                f"Unknown environment variable {name}. The guard reads"
                f" {', '.join(readable)} from the environment, and every other"
                f" PRODGUARD_* key from app.config.{_did_you_mean(suggestion)}",
                key=name,
                value=environ[name],
                allowed=list(KEYS),
                suggestion=suggestion,
            )
        if not key.env_override and name not in config:
            raise ConfigurationError(
                f"The environment variable {name} is ignored: {name} is read from"
                f" app.config only. Set it in app.config (for example"
                f" app.config[{name!r}] = os.environ[{name!r}] before init_app), or unset"
                f" the variable. The environment can set {', '.join(readable)}.",
                key=name,
                value=environ[name],
                allowed=readable,
            )


def check_unknown_arguments(overrides: Mapping[str, object]) -> None:
    """Raise :exc:`ConfigurationError` for a keyword argument that is no setting.

    :param overrides: The keyword arguments given to
        :class:`~flask_prodguard.ProdGuard`, named like :attr:`Key.argument`.
    """
    arguments = {key.argument: key for key in KEYS.values()}
    for name in overrides:
        if name not in arguments:
            suggestion = _closest(name.lower(), list(arguments))
            raise ConfigurationError(
                f"Unknown argument ProdGuard({name}={_shown(name, overrides[name])})."
                f" Known arguments: {', '.join(arguments)}.{_did_you_mean(suggestion)}",
                key=name,
                value=overrides[name],
                allowed=list(arguments),
                suggestion=suggestion,
            )


def _raw_value(
    key: Key,
    config: Mapping[str, object],
    overrides: Mapping[str, object],
    environ: Mapping[str, str],
) -> tuple[object, str]:
    """The value of ``key`` by precedence (see the module docstring), not yet
    validated, and where it came from, in words for messages and events.

    ``None`` in the arguments or ``app.config`` counts as unset. An
    environment variable is text; an ``int`` key's is converted here, so that
    the check of its type applies to code only.
    """
    if key.env_override and environ.get(key.name, "").strip():
        text = environ[key.name].strip()
        source = f"environment variable {key.name}"
        if key.kind == "int":
            try:
                return int(text), source
            except ValueError:
                raise _invalid(key, text, source, "not an integer") from None
        return text, source
    if overrides.get(key.argument) is not None:
        return overrides[key.argument], f"ProdGuard({key.argument}=...)"
    if config.get(key.name) is not None:
        return config[key.name], "app.config"
    return key.default, "default"


def _invalid(key: Key, value: object, source: str, problem: str = "") -> ConfigurationError:
    suggestion = None
    if key.kind == "choice" and isinstance(value, str):
        suggestion = _closest(value.strip().lower(), [str(c) for c in key.choices])
    hint = _did_you_mean(repr(suggestion) if suggestion else None)
    detail = f" ({problem})" if problem else ""
    return ConfigurationError(
        f"{key.name} = {value!r} (from {source}) is not valid{detail}; allowed:"
        f" {key.allowed}.{hint}",
        key=key.name,
        value=value,
        allowed=tuple(str(c) for c in key.choices) or (key.allowed,),
        suggestion=suggestion,
    )


def _parse(key: Key, value: object, source: str) -> object:
    """Validate one raw value and return it in its settled form."""
    kind = key.kind
    if kind == "choice":
        if not isinstance(value, str):
            raise _invalid(key, value, source, f"must be a string, got {type(value).__name__}")
        normalised = value.strip().lower()
        if normalised not in key.choices:
            raise _invalid(key, value, source)
        return normalised
    if kind == "text":
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise _invalid(key, value, source, f"got {type(value).__name__}")
        return value.strip()
    if kind in ("text_list", "pattern_list"):
        if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
            raise _invalid(key, value, source, f"got {type(value).__name__}")
        items = tuple(value)
        for item in items:
            if not isinstance(item, str) or not item:
                raise _invalid(key, value, source, f"item {item!r} is not a non-empty string")
            if kind == "pattern_list":
                # Redaction patterns search request text, so they run on RE2
                # (linear time whatever the text): a pattern only Python's re
                # understands would let one request stall a worker.
                problem = pattern_error(item)
                if problem is not None:
                    try:
                        re.compile(item)
                    except re.error:
                        hint = ""
                    else:
                        hint = (
                            "; Python's re accepts it, but RE2 has no backreferences,"
                            " lookahead or lookbehind, and writes \\Z as \\z"
                        )
                    raise _invalid(
                        key,
                        value,
                        source,
                        f"{item!r} is not RE2 syntax, which redaction patterns require:"
                        f" {problem}{hint}",
                    )
        return items
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        raise _invalid(key, value, source, f"got {type(value).__name__}")
    # int and number
    numeric_ok = isinstance(value, int) or (kind == "number" and isinstance(value, float))
    if isinstance(value, bool) or not numeric_ok:
        raise _invalid(key, value, source, f"got {type(value).__name__}")
    assert isinstance(value, (int, float)) and key.minimum is not None
    too_small = value < key.minimum if kind == "int" else value <= key.minimum
    if too_small:
        raise _invalid(key, value, source, "too small")
    return value if kind == "int" else float(value)


_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def load_settings(
    config: Mapping[str, object],
    overrides: Mapping[str, object],
    environ: Mapping[str, str],
) -> Settings:
    """Resolve and validate the settings for one app.

    :param config: the app's ``app.config``.
    :param overrides: keyword arguments given to :class:`~flask_prodguard.ProdGuard`.
    :param environ: the process environment (``os.environ``).
    :raises ConfigurationError: a key is unknown, or a value is of the wrong type
        or not among the allowed values.
    """
    check_unknown_keys(config)
    check_unknown_arguments(overrides)
    check_environment(environ, config)
    sources: dict[str, str] = {}
    values: dict[str, Any] = {}
    for key in KEYS.values():
        raw, source = _raw_value(key, config, overrides, environ)
        sources[key.name] = source
        values[key.name] = None if raw is None else _parse(key, raw, source)

    if values[ENV.name] is None:
        env = Environment.TESTING if _under_pytest else Environment.PRODUCTION
        sources[ENV.name] = "default under pytest" if _under_pytest else "default"
    else:
        env = Environment(values[ENV.name])
    if values[STRICTNESS.name] is None:
        strictness = DEFAULT_STRICTNESS[env]
        sources[STRICTNESS.name] = f"default for {env}"
    else:
        strictness = Strictness(values[STRICTNESS.name])

    # Every other key is the Settings field named like its ProdGuard() keyword.
    fields = {
        key.argument: values[key.name] for key in KEYS.values() if key not in (ENV, STRICTNESS)
    }
    silenced = fields[SILENCED_CHECKS.argument]
    fields[SILENCED_CHECKS.argument] = tuple(c.strip().upper() for c in silenced)
    return Settings(env=env, strictness=strictness, sources=sources, **fields)
