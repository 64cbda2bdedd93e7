"""The deployment checklist: one registry of checks for ``init_app`` and the CLI.

Each check has a stable id (``PG1xx`` debug and debugger, ``PG2xx`` error
exposure, ``PG3xx`` secrets and sessions, ``PG4xx`` dependencies, ``PG5xx``
logging and alerting, ``PG6xx`` serving and set-up), a severity, a message,
a hint that says how to fix it, a documentation anchor, and the source of the
risky value (environment variable, ``.env``/``.flaskenv``, ``app.config``,
Flask's default). ``init_app`` runs them at start-up and acts through the
policy table; ``flask prodguard check`` runs the same ones and reports.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import logging
import os
import sys
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterator
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from packaging.version import Version

from . import detect
from .advisories import affecting
from .advisories import readable_version
from .events.failures import qualified_name
from .events.processors import sanitise_text
from .keys import HOOK_REPORTED_KEY
from .policy import Condition

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

    from .config import Settings


class Severity(enum.IntEnum):
    """How bad a finding is; ``--fail-level`` and strict compare these."""

    INFO = 10
    WARNING = 20
    ERROR = 30
    CRITICAL = 40

    def __str__(self) -> str:
        return self.name.lower()


#: Base of the documentation anchors of checks.
DOCS_URL = "https://flask-prodguard.readthedocs.io/en/latest/checks.html"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One unsafe condition found by a check.

    Built with :func:`make_finding`, which fills in the check's severity and
    hint from :data:`REGISTRY`.
    """

    #: The id of the check that found it (``PG101``).
    check_id: str
    severity: Severity
    #: What was found, in a phrase ("debug mode is on").
    message: str
    #: How to fix it (the check's hint).
    hint: str
    #: Where the risky value came from.
    source: str
    #: The policy condition this finding falls under.
    condition: Condition
    #: Structured details (for events and actions); free-form, per check.
    detail: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def docs(self) -> str:
        """Link to the documentation of the check."""
        return f"{DOCS_URL}#{self.check_id.lower()}"

    @property
    def description(self) -> str:
        """``PG101 message (source)``, for refusal messages."""
        return f"{self.check_id} {self.message} (from {self.source})"

    def as_dict(self) -> dict[str, str]:
        """Plain data, for JSON output and events (``detail`` is left out)."""
        return {
            "id": self.check_id,
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
            "source": self.source,
            "docs": self.docs,
        }


@dataclasses.dataclass
class CheckContext:
    """What the checks look at: an app, its config, the process environment.

    ``init_app`` builds one from the app being guarded; ``flask prodguard
    check`` and ``serve`` build one from the app they loaded (``cli=True``).

    .. code-block:: python

        ctx = CheckContext(app, os.environ, settings=app_settings(app), cli=True)
        findings = run_checks(ctx, ctx.silenced)
    """

    app: Flask
    #: The process environment.
    environ: Mapping[str, str]
    #: Values from ``.env``/``.flaskenv`` found from the working directory up.
    dotenv: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    #: Whether the app is being loaded by ``flask run``.
    flask_run: bool = False
    #: The guard's settings for the app, if it is guarded.
    settings: Settings | None = None
    #: Whether the checks run from the CLI (not inside the serving process).
    cli: bool = False

    @property
    def config(self) -> Mapping[str, Any]:
        """The app's ``app.config`` as it is now."""
        return self.app.config

    @property
    def silenced(self) -> tuple[str, ...]:
        """The check ids the guard's settings silence (none for an unguarded app)."""
        return self.settings.silenced_checks if self.settings is not None else ()

    def env_source(self, name: str) -> str:
        """Where a process environment variable came from, for a finding's ``source``.

        A value that a ``.env`` or ``.flaskenv`` file set (and the environment
        still holds) is credited to the file.

        :param name: The variable's name (``FLASK_DEBUG``).
        """
        found = self.dotenv.get(name)
        if found is not None and found[1] == self.environ.get(name):
            return f"{found[0]} ({name})"
        return f"environment variable {name}"

    def config_source(self, key: str) -> str:
        """Where a config value came from: the app's config, or Flask's default.

        :param key: The config key (``DEBUG``).
        """
        default = self.app.default_config.get(key, _MISSING)
        if default is not _MISSING and self.config.get(key) == default:
            return f"Flask default ({key})"
        return f"app.config {key}"


_MISSING = object()


def app_settings(app: Flask) -> Settings | None:
    """The guard's settings for ``app``; ``None`` when no guard was added."""
    settings: Settings | None = getattr(app.extensions.get("prodguard"), "settings", None)
    return settings


Check = Callable[[CheckContext], Iterator[Finding]]


@dataclasses.dataclass(frozen=True)
class CheckInfo:
    """A registered check: its id, severity, title, hint and function."""

    check_id: str
    severity: Severity
    title: str
    hint: str
    function: Check


#: Every check, by id, in registration order.
REGISTRY: dict[str, CheckInfo] = {}


def register(
    check_id: str, severity: Severity, title: str, hint: str
) -> Callable[[Check], Check]:
    """Register a check function under a stable id (a decorator).

    The function takes a :class:`CheckContext` and yields its findings, built
    with :func:`make_finding` under the same id.

    :param check_id: The stable id (``PG1xx`` ... ``PG6xx``, see the module).
    :param severity: The severity of its findings unless one says otherwise.
    :param title: One line for ``check --list`` and the checks reference.
    :param hint: How to fix a finding; every finding of the check carries it.
    :raises ValueError: ``check_id`` is registered already.

    .. code-block:: python

        @register("PG399", Severity.WARNING, "EXAMPLE is on", "Set EXAMPLE = False.")
        def example_on(ctx: CheckContext) -> Iterator[Finding]:
            if ctx.config.get("EXAMPLE"):
                yield make_finding(
                    "PG399", "EXAMPLE is on", ctx.config_source("EXAMPLE"),
                    Condition.CHECK_WARNING,
                )
    """

    def decorate(function: Check) -> Check:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} registered twice")
        REGISTRY[check_id] = CheckInfo(check_id, severity, title, hint, function)
        return function

    return decorate


def make_finding(
    check_id: str,
    message: str,
    source: str,
    condition: Condition,
    severity: Severity | None = None,
    **detail: object,
) -> Finding:
    """A finding of a registered check, with the check's severity and hint.

    :param check_id: A registered check's id.
    :param message: What was found, in a phrase.
    :param source: Where the risky value came from (see
        :meth:`CheckContext.env_source`, :meth:`CheckContext.config_source`).
    :param condition: The policy condition, which decides what the guard does.
    :param severity: Overrides the check's severity.
    :param detail: Structured details for the events and actions (:attr:`Finding.detail`).
    :raises KeyError: ``check_id`` is not registered.
    """
    info = REGISTRY[check_id]
    return Finding(
        check_id,
        severity if severity is not None else info.severity,
        message,
        info.hint,
        source,
        condition,
        detail,
    )


# The words of PG101 and PG105, whether the flask command or app.run() started
# the development server: the developer is told the same in both cases.
_DEBUG_MODE_ON = "debug mode is on"
_DEV_SERVER_RUNS = "the Werkzeug development server runs the app"


# -- findings met outside a check run ---------------------------------------------
#
# The guard meets some conditions while the app runs, not while the checks run:
# app.run() called, a debugger being constructed. Their findings are built here
# too, so that every finding comes from this module, with its check's hint.


def app_run_findings(debugging: str | None) -> list[Finding]:
    """What ``app.run()`` is: the development server (PG105), and debug mode
    (PG101) when it was asked for, in the words of the checks that find the
    same under ``flask run``.

    :param debugging: What asked for debug mode or the debugger
        (``"app.run(debug=True)"``, ...), or ``None``.
    """
    findings = [
        make_finding(
            "PG105",
            _DEV_SERVER_RUNS,
            "app.run()",
            Condition.DEV_SERVER,
            signals=["app.run()"],
        )
    ]
    if debugging is not None:
        findings.insert(
            0,
            make_finding(
                "PG101", _DEBUG_MODE_ON, debugging, Condition.DEBUG_MODE, sources=[debugging]
            ),
        )
    return findings


def merge_findings(*groups: list[Finding]) -> list[Finding]:
    """One finding per check, in registry order, from several runs.

    Two findings of the same check (debug mode from the config at
    ``init_app`` and from ``app.run(debug=True)``, say) become the first one
    with both sources, so that a list told to a person names each check once.

    :param groups: Lists of findings, earliest first.
    """
    merged: dict[str, Finding] = {}
    for finding in (f for group in groups for f in group):
        earlier = merged.get(finding.check_id)
        if earlier is None:
            merged[finding.check_id] = finding
        elif finding.source not in earlier.source.split(", "):
            merged[finding.check_id] = dataclasses.replace(
                earlier, source=f"{earlier.source}, {finding.source}"
            )
    order = list(REGISTRY)
    return sorted(merged.values(), key=lambda f: order.index(f.check_id))


def debugger_construction_finding(where: str) -> Finding:
    """PG102 for a ``DebuggedApplication`` being constructed.

    :param where: Where the debugger would sit, completing "constructed ...".
    """
    return make_finding(
        "PG102",
        f"a Werkzeug interactive debugger was being constructed {where};"
        " it would run code in the whole process, this app's included",
        "DebuggedApplication(...)",
        Condition.DEBUGGER,
    )


# -- PG1xx: debug mode and the debugger ------------------------------------------


@register(
    "PG101",
    Severity.CRITICAL,
    "Debug mode is on",
    "Remove DEBUG = True and debug=True from code, unset FLASK_DEBUG, never pass --debug.",
)
def debug_mode(ctx: CheckContext) -> Iterator[Finding]:
    """PG101: ``DEBUG`` on in the config, or ``FLASK_DEBUG`` on in the environment."""
    sources = []
    from_environment = detect.flag_is_on(ctx.environ.get("FLASK_DEBUG"))
    # Flask seeds DEBUG from FLASK_DEBUG when the app is created: a DEBUG that
    # FLASK_DEBUG explains is not blamed on the code.
    if ctx.config.get("DEBUG") and not from_environment:
        sources.append(ctx.config_source("DEBUG"))
    if from_environment:
        sources.append(ctx.env_source("FLASK_DEBUG"))
    if sources:
        yield make_finding(
            "PG101",
            _DEBUG_MODE_ON,
            ", ".join(sources),
            Condition.DEBUG_MODE,
            sources=sources,
        )


@register(
    "PG102",
    Severity.CRITICAL,
    "The Werkzeug debugger wraps the app",
    "Remove DebuggedApplication from app.wsgi_app; serve with gunicorn or waitress.",
)
def debugger_in_chain(ctx: CheckContext) -> Iterator[Finding]:
    """PG102: a ``DebuggedApplication`` inside ``app.wsgi_app`` (one wrapping the
    app from outside is seen on the first request: :func:`late_findings`)."""
    debugger = detect.find_debugger(ctx.app.wsgi_app)
    if debugger is not None:
        yield make_finding(
            "PG102",
            "a Werkzeug DebuggedApplication is inside app.wsgi_app",
            "app.wsgi_app",
            Condition.DEBUGGER,
            debugger=debugger,
        )


@register(
    "PG103",
    Severity.ERROR,
    "WERKZEUG_DEBUG_PIN is set",
    "Unset WERKZEUG_DEBUG_PIN: 'off' disables the debugger PIN, a value makes it guessable.",
)
def debug_pin(ctx: CheckContext) -> Iterator[Finding]:
    """PG103: ``WERKZEUG_DEBUG_PIN`` set, to ``off`` or to a fixed PIN."""
    setting = detect.debug_pin_setting(ctx.environ)
    if setting is not None:
        message = (
            "WERKZEUG_DEBUG_PIN is off: the debugger needs no PIN"
            if setting == "off"
            else "WERKZEUG_DEBUG_PIN fixes the debugger PIN"
        )
        yield make_finding(
            "PG103",
            message,
            ctx.env_source("WERKZEUG_DEBUG_PIN"),
            Condition.DEBUG_PIN,
            setting=setting,
        )


@register(
    "PG104",
    Severity.ERROR,
    "Flask-DebugToolbar is enabled",
    "Set DEBUG_TB_ENABLED = False in production, or do not initialise the toolbar there.",
)
def debug_toolbar(ctx: CheckContext) -> Iterator[Finding]:
    """PG104: Flask-DebugToolbar enabled (``DEBUG_TB_ENABLED``, else registered
    with debug mode on, which is when it enables itself)."""
    enabled = ctx.config.get("DEBUG_TB_ENABLED")
    if enabled is None:
        enabled = "debugtoolbar" in ctx.app.extensions and bool(ctx.config.get("DEBUG"))
    if enabled:
        yield make_finding(
            "PG104",
            "Flask-DebugToolbar is enabled",
            ctx.config_source("DEBUG_TB_ENABLED"),
            Condition.CHECK_ERROR,
        )


@register(
    "PG105",
    Severity.ERROR,
    "The development server runs the app",
    "Serve with gunicorn or waitress (flask prodguard serve), never flask run or app.run().",
)
def dev_server(ctx: CheckContext) -> Iterator[Finding]:
    """PG105: the Werkzeug development server runs the app (``flask run``, or the
    variables ``run_simple`` and its reloader set); never from the CLI, which
    serves nothing."""
    if ctx.cli:
        return
    signals = detect.dev_server_signals(ctx.environ)
    if ctx.flask_run:
        signals.append("flask run")
    if signals:
        yield make_finding(
            "PG105",
            _DEV_SERVER_RUNS,
            ", ".join(signals),
            Condition.DEV_SERVER,
            signals=signals,
        )


# -- PG2xx: error exposure ---------------------------------------------------------

#: The check id of each unsafe Flask flag (``detect.UNSAFE_FLAGS``).
FLAG_CHECK_IDS = {
    "TESTING": "PG201",
    "PROPAGATE_EXCEPTIONS": "PG202",
    "TRAP_HTTP_EXCEPTIONS": "PG203",
    "TRAP_BAD_REQUEST_ERRORS": "PG204",
    "EXPLAIN_TEMPLATE_LOADING": "PG205",
    "TEMPLATES_AUTO_RELOAD": "PG206",
}
_FLAG_WHY = {
    "TESTING": "exceptions propagate to the server, which shows its own error page",
    "PROPAGATE_EXCEPTIONS": "exceptions propagate to the server, which shows its own page",
    "TRAP_HTTP_EXCEPTIONS": "every HTTP error, even a 404, becomes an unhandled exception",
    "TRAP_BAD_REQUEST_ERRORS": "bad requests become unhandled exceptions",
    "EXPLAIN_TEMPLATE_LOADING": "template search paths are logged",
    "TEMPLATES_AUTO_RELOAD": "templates are re-read from disk on every render",
}


def _flag_check(key: str) -> Check:
    check_id = FLAG_CHECK_IDS[key]

    def check(ctx: CheckContext) -> Iterator[Finding]:
        value = ctx.config.get(key)
        if value:
            yield make_finding(
                check_id,
                f"{key} is {value!r}: {_FLAG_WHY[key]}",
                ctx.config_source(key),
                Condition.UNSAFE_FLAG,
                flags={key: value},
            )

    return check


for _key, _id in FLAG_CHECK_IDS.items():
    register(
        _id,
        Severity.WARNING if _key.startswith(("EXPLAIN", "TEMPLATES")) else Severity.ERROR,
        f"{_key} is on",
        f"Set {_key} = False (or leave it unset) in production.",
    )(_flag_check(_key))


@register(
    "PG207",
    Severity.ERROR,
    "Flask-ProdGuard is not guarding the app",
    "Call ProdGuard(app) where the app is created: after app = Flask(__name__), or as"
    " guard.init_app(app) in the app factory.",
)
def not_guarded(ctx: CheckContext) -> Iterator[Finding]:
    """PG207: the app the CLI loaded has no guard (``ProdGuard(app)`` never called)."""
    if ctx.cli and "prodguard" not in ctx.app.extensions:
        yield make_finding(
            "PG207",
            "ProdGuard(app) was never called: no guard at run time",
            _where_created(ctx.app),
            Condition.CHECK_ERROR,
        )


def _where_created(app: Flask) -> str:
    """Where ``app`` was made, as PG207's source: the missing call belongs there.

    An app held by a module-level name of a loaded module is a module-level
    app (``module-level app aut:app``), even when a factory made it at import
    time: that line is where it is created for the server. Otherwise the
    module the app is named after made it in a function: an app factory when
    the module has one (``app factory aut:create_app()``, the names Flask
    looks for), else some other function (``app 'aut', made inside a
    function``).

    :param app: An app loaded as the ``flask`` command loads it.
    """
    own = sys.modules.get(app.import_name)
    # Its own module first; then any loaded module (Flask("name") may be named
    # after no module at all).
    for module in (own, *list(sys.modules.values())):
        # Whatever sys.modules holds (objects that are not modules too), the
        # check never fails because of it.
        try:
            names = list(vars(module).items())
        except Exception:  # noqa: BLE001, S112
            continue
        for name, value in names:
            if value is app and isinstance(name, str) and not name.startswith("_"):
                return f"module-level app {_module_name(module)}:{name}"
    if own is not None:
        for factory in ("create_app", "make_app"):
            if callable(getattr(own, factory, None)):
                return f"app factory {_module_name(own)}:{factory}()"
    return f"app {app.name!r}, made inside a function"


def _module_name(module: object) -> str:
    name = str(getattr(module, "__name__", "?"))
    if name == "__main__":
        # A script: named as the file, which is how a server would import it.
        path = str(getattr(module, "__file__", None) or "app.py")
        name = os.path.splitext(os.path.basename(path))[0]
    return name


@register(
    "PG208",
    Severity.WARNING,
    "The guard only reports, or is off, in production",
    "Leave PRODGUARD_STRICTNESS unset (enforce) or set it to strict in production.",
)
def weak_strictness(ctx: CheckContext) -> Iterator[Finding]:
    """PG208: strictness ``off`` or ``report`` in a production-like environment."""
    settings = ctx.settings
    if (
        settings is not None
        and settings.env.production_like
        and settings.strictness
        in (
            "off",
            "report",
        )
    ):
        yield make_finding(
            "PG208",
            f"PRODGUARD_STRICTNESS is {settings.strictness} in {settings.env}",
            settings.sources["PRODGUARD_STRICTNESS"],
            Condition.CHECK_WARNING,
        )


# -- PG3xx: secrets and sessions -------------------------------------------------------

#: Values seen in tutorials, templates and generators; never secret.
PLACEHOLDER_SECRETS = frozenset(
    {
        "dev",
        "development",
        "secret",
        "secret-key",
        "secret_key",
        "secretkey",
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "replace-me",
        "your-secret-key",
        "your_secret_key",
        "yoursecretkey",
        "super-secret",
        "supersecret",
        "mysecret",
        "mysecretkey",
        "my-secret-key",
        "default",
        "test",
        "testing",
        "password",
        "keyboard cat",
        "hard to guess string",
        "you-will-never-guess",
        "dev-secret",
        "not-so-secret",
        "insecure",
        "flask",
        "key",
        "s3cr3t",
    }
)


#: The types Flask signs with (through itsdangerous); a key of any other type
#: fails on the first session cookie it must sign or check.
_KEY_TYPES = (str, bytes, bytearray)
#: The containers of ``SECRET_KEY_FALLBACKS`` whose entries are keys; Flask
#: would take any iterable, but a ``str`` or ``bytes`` there is one key per
#: character or byte, and an iterator is used up by the first request.
_FALLBACK_CONTAINERS = (list, tuple, set, frozenset)
#: What Flask takes keys out of (``keys.extend(fallbacks)``): a dict gives its
#: keys, which are then graded like any key (PG309 still says it is no list).
_KEY_SOURCES = (*_FALLBACK_CONTAINERS, dict)


@dataclasses.dataclass(frozen=True)
class _Key:
    """A secret key as the checks compare it; no finding ever shows the key."""

    #: ``SECRET_KEY``, ``SECRET_KEY_FALLBACKS[0]``...
    name: str
    #: The key as text, bytes decoded (UTF-8, else latin-1), so that a
    #: placeholder is graded the same in ``str`` and ``bytes``.
    text: str
    #: Its length in its own units: characters of a ``str``, bytes of ``bytes``.
    length: int
    #: How many distinct characters (or bytes) it has.
    distinct: int
    #: ``"characters"`` or ``"bytes"``.
    unit: str

    @property
    def placeholder(self) -> bool:
        """Whether it is one of :data:`PLACEHOLDER_SECRETS`, in any case and spacing."""
        return self.text.strip().lower() in PLACEHOLDER_SECRETS


def _as_key(name: str, value: object) -> _Key | None:
    """``value`` as a :class:`_Key`; ``None`` unless it is ``str`` or ``bytes``.

    A subclass is read through the base class (a plain copy), so none of its
    own methods runs: the value is the app's, and the checks run in
    ``init_app`` too.
    """
    if isinstance(value, str):
        text = str.__str__(value)
        return _Key(name, text, len(text), len(set(text)), "characters")
    if isinstance(value, (bytes, bytearray)):
        data = memoryview(value).tobytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")  # a character per byte: never fails
        return _Key(name, text, len(data), len(set(data)), "bytes")
    return None


def _is_set(value: object) -> bool | None:
    """Whether Flask counts a key setting as set (its truth value, as
    ``if not app.secret_key`` reads it); ``None`` when that raises."""
    key = _as_key("", value)
    if key is not None:
        return key.length > 0
    try:
        return bool(value)
    except Exception:  # noqa: BLE001 - the app's object: Flask's own test would fail too
        return None


def _type_name(value: object) -> str:
    """The name of ``value``'s type for a message (``int``, ``decimal.Decimal``),
    escaped: a class can be named with terminal escapes or bidi controls."""
    return sanitise_text(qualified_name(type(value)))


def _fallback_entries(fallbacks: Collection[object]) -> list[object]:
    """The entries of a list, tuple or set of fallback keys; a set's sorted, so
    that ``[0]`` names the same entry in every process.

    :raises Exception: whatever the app's container subclass raises.
    """
    entries = list(fallbacks)
    if isinstance(fallbacks, (set, frozenset)):
        entries.sort(key=_entry_order)
    return entries


def _entry_order(entry: object) -> tuple[str, str]:
    """Where an entry of a set of fallbacks goes: by its text, then its type."""
    key = _as_key("", entry)
    return (key.text if key is not None else "", _type_name(entry))


def _secret_keys(ctx: CheckContext) -> Iterator[_Key]:
    """Every key Flask signs with: ``SECRET_KEY`` when set, then each fallback.

    A ``str`` or ``bytes`` ``SECRET_KEY_FALLBACKS`` is one key here (PG309
    says it must be a list). An empty fallback is yielded (PG302: anyone can
    sign with it); ``None`` entries and keys of other types are not (PG309).
    """
    key = _as_key("SECRET_KEY", ctx.config.get("SECRET_KEY"))
    if key is not None and key.length:
        yield key
    fallbacks = ctx.config.get("SECRET_KEY_FALLBACKS")
    key = _as_key("SECRET_KEY_FALLBACKS", fallbacks)
    if key is not None:
        if key.length:  # empty, Flask has no fallbacks
            yield key
        return
    if not isinstance(fallbacks, _KEY_SOURCES):
        return
    try:
        entries = _fallback_entries(fallbacks)
    except Exception:  # noqa: BLE001 - PG309 says it cannot be read
        return
    for index, entry in enumerate(entries):
        key = _as_key(f"SECRET_KEY_FALLBACKS[{index}]", entry)
        if key is not None:
            yield key


@register(
    "PG301",
    Severity.WARNING,
    "SECRET_KEY is missing",
    "Set SECRET_KEY from the environment, e.g. python -c 'import secrets; "
    "print(secrets.token_hex())'.",
)
def secret_missing(ctx: CheckContext) -> Iterator[Finding]:
    """PG301: no ``SECRET_KEY``, or one Flask counts as unset (empty, ``0``)."""
    value = ctx.config.get("SECRET_KEY")
    if _is_set(value) is False:
        yield make_finding(
            "PG301",
            "SECRET_KEY is not set: sessions and signed cookies will not work",
            # Compared with Flask's default only when it can be: an app's
            # object may make == raise.
            ctx.config_source("SECRET_KEY") if value is None else "app.config SECRET_KEY",
            Condition.CHECK_WARNING,
        )


@register(
    "PG302",
    Severity.ERROR,
    "SECRET_KEY is too short",
    "Use at least 32 random bytes: secrets.token_hex() gives 64 hex characters.",
)
def secret_short(ctx: CheckContext) -> Iterator[Finding]:
    """PG302: ``SECRET_KEY`` or a fallback key under 24 characters (a known
    placeholder is PG304's instead); an empty fallback key is critical."""
    for key in _secret_keys(ctx):
        if not key.length:
            yield make_finding(
                "PG302",
                f"{key.name} is empty: anyone can sign a session cookie that Flask accepts",
                f"app.config {key.name}",
                Condition.CHECK_ERROR,
                severity=Severity.CRITICAL,
            )
        elif key.length < 24 and not key.placeholder:
            yield make_finding(
                "PG302",
                f"{key.name} has only {key.length} {key.unit}",
                f"app.config {key.name}",
                Condition.CHECK_ERROR,
            )


@register(
    "PG303",
    Severity.WARNING,
    "SECRET_KEY has low entropy",
    "Generate it randomly: secrets.token_hex() or secrets.token_urlsafe(32).",
)
def secret_low_entropy(ctx: CheckContext) -> Iterator[Finding]:
    """PG303: ``SECRET_KEY`` or a fallback key of 24 characters or more made of
    fewer than 10 distinct characters."""
    for key in _secret_keys(ctx):
        if key.length >= 24 and key.distinct < 10:
            yield make_finding(
                "PG303",
                f"{key.name} uses only {key.distinct} distinct {key.unit}",
                f"app.config {key.name}",
                Condition.CHECK_WARNING,
            )


@register(
    "PG304",
    Severity.CRITICAL,
    "SECRET_KEY is a known placeholder",
    "Replace it with a random value kept out of the code (environment or secret store).",
)
def secret_placeholder(ctx: CheckContext) -> Iterator[Finding]:
    """PG304: ``SECRET_KEY`` or a fallback key is a value from tutorials and
    templates (:data:`PLACEHOLDER_SECRETS`), as text or as bytes."""
    for key in _secret_keys(ctx):
        if key.length and key.placeholder:
            yield make_finding(
                "PG304",
                f"{key.name} is a well-known placeholder value",
                f"app.config {key.name}",
                Condition.CHECK_ERROR,
            )


def _session_check(check_id: str, key: str, bad: Callable[[object], bool], why: str) -> Check:
    def check(ctx: CheckContext) -> Iterator[Finding]:
        value = ctx.config.get(key)
        if bad(value):
            yield make_finding(
                check_id,
                f"{key} is {value!r}: {why}",
                ctx.config_source(key),
                Condition.CHECK_WARNING,
            )

    return check


register(
    "PG305",
    Severity.WARNING,
    "SESSION_COOKIE_SECURE is off",
    "Set SESSION_COOKIE_SECURE = True (serve over HTTPS).",
)(
    _session_check(
        "PG305",
        "SESSION_COOKIE_SECURE",
        lambda v: not v,
        "the session cookie is sent over plain HTTP",
    )
)
register(
    "PG306",
    Severity.WARNING,
    "SESSION_COOKIE_HTTPONLY is off",
    "Set SESSION_COOKIE_HTTPONLY = True (Flask's default).",
)(
    _session_check(
        "PG306",
        "SESSION_COOKIE_HTTPONLY",
        lambda v: not v,
        "scripts in the page can read the session cookie",
    )
)
register(
    "PG307",
    Severity.WARNING,
    "SESSION_COOKIE_SAMESITE is unset",
    "Set SESSION_COOKIE_SAMESITE = 'Lax' (or 'Strict').",
)(
    _session_check(
        "PG307",
        "SESSION_COOKIE_SAMESITE",
        lambda v: v is None or str(v).lower() == "none",
        "the session cookie is sent on cross-site requests",
    )
)


@register(
    "PG308",
    Severity.WARNING,
    "MAX_CONTENT_LENGTH is unset",
    "Set MAX_CONTENT_LENGTH (e.g. 16 * 1024 * 1024) so request bodies are bounded.",
)
def no_max_content_length(ctx: CheckContext) -> Iterator[Finding]:
    """PG308: no ``MAX_CONTENT_LENGTH``: request bodies are unbounded."""
    if ctx.config.get("MAX_CONTENT_LENGTH") is None:
        yield make_finding(
            "PG308",
            "MAX_CONTENT_LENGTH is unset: request bodies are unbounded",
            ctx.config_source("MAX_CONTENT_LENGTH"),
            Condition.CHECK_WARNING,
        )


@register(
    "PG309",
    Severity.ERROR,
    "SECRET_KEY or SECRET_KEY_FALLBACKS has a type Flask cannot sign with",
    "Make SECRET_KEY a str or bytes value and SECRET_KEY_FALLBACKS a list of such"
    " values, or leave SECRET_KEY_FALLBACKS unset.",
)
def secret_wrong_type(ctx: CheckContext) -> Iterator[Finding]:
    """PG309: a key that is not ``str`` or ``bytes`` (sessions fail with a
    ``TypeError``), or ``SECRET_KEY_FALLBACKS`` that is not a list: a ``str``
    there makes each of its characters a key (critical: anyone can sign)."""
    value = ctx.config.get("SECRET_KEY")
    if not isinstance(value, _KEY_TYPES) and _is_set(value) is not False:
        yield _wrong_type("SECRET_KEY", f"is of type {_type_name(value)}, {_NOT_A_KEY}")
    fallbacks = ctx.config.get("SECRET_KEY_FALLBACKS")
    if fallbacks is None or _is_set(fallbacks) is False:
        return  # Flask has no fallbacks
    if isinstance(fallbacks, str):
        yield _wrong_type(
            "SECRET_KEY_FALLBACKS",
            f"is a str, not a list: Flask takes each of its {str.__len__(fallbacks)}"
            " characters as a key, so a session cookie signed with any one character"
            " is accepted",
            Severity.CRITICAL,
        )
    elif isinstance(fallbacks, (bytes, bytearray)):
        yield _wrong_type(
            "SECRET_KEY_FALLBACKS",
            "is bytes, not a list: Flask takes each byte as a key (an int) and fails on"
            " the session cookies it must check against them",
        )
    elif not isinstance(fallbacks, _FALLBACK_CONTAINERS):
        yield _wrong_type(
            "SECRET_KEY_FALLBACKS", f"is of type {_type_name(fallbacks)}, not a list of keys"
        )
    else:
        try:
            entries = _fallback_entries(fallbacks)
        except Exception as error:  # noqa: BLE001 - the app's container subclass
            yield _wrong_type(
                "SECRET_KEY_FALLBACKS",
                f"(a {_type_name(fallbacks)}) cannot be read: iterating it raised"
                f" {_type_name(error)}",
            )
            return
        for index, entry in enumerate(entries):
            # None is harmless: itsdangerous uses the current key in its place.
            if entry is not None and not isinstance(entry, _KEY_TYPES):
                yield _wrong_type(
                    f"SECRET_KEY_FALLBACKS[{index}]",
                    f"is of type {_type_name(entry)}, {_NOT_A_KEY}",
                )


#: What a key of another type than ``str`` or ``bytes`` does.
_NOT_A_KEY = (
    "not str or bytes: Flask fails (TypeError) on the session cookies it must sign"
    " or check with it"
)


def _wrong_type(name: str, problem: str, severity: Severity | None = None) -> Finding:
    """A PG309 finding: ``name`` and what is wrong with it, never its value."""
    return make_finding(
        "PG309", f"{name} {problem}", f"app.config {name}", Condition.CHECK_ERROR, severity
    )


# -- PG4xx: dependencies -------------------------------------------------------------------


def _advisory_check(check_id: str, package: str) -> Check:
    def check(ctx: CheckContext) -> Iterator[Finding]:
        try:
            current = installed_version(package)
        except PackageNotFoundError:
            return
        found = affecting(package, current)
        if found and not readable_version(current):
            # affecting() failed closed: one finding naming every advisory that
            # may apply, rather than one per advisory of the table.
            yield make_finding(
                check_id,
                f"{package} {current!r} is not a version that can be compared (PEP 440),"
                f" so it may be affected by {', '.join(a.ghsa for a in found)};"
                f" install a release: fixed in {max((a.fixed for a in found), key=Version)}",
                f"installed package {package} {current}",
                Condition.CHECK_ERROR,
                advisory=", ".join(a.ghsa for a in found),
            )
            return
        for advisory in found:
            yield make_finding(
                check_id,
                f"{package} {current} is affected by {advisory.ghsa}"
                f" ({advisory.cve}): {advisory.summary}; fixed in {advisory.fixed}",
                f"installed package {package} {current}",
                Condition.CHECK_ERROR,
                advisory=advisory.ghsa,
            )

    return check


register(
    "PG401",
    Severity.ERROR,
    "Installed Werkzeug has a known advisory",
    "Upgrade Werkzeug to the fixed version named in the message.",
)(_advisory_check("PG401", "werkzeug"))
register(
    "PG402",
    Severity.ERROR,
    "Installed Flask has a known advisory",
    "Upgrade Flask to the fixed version named in the message.",
)(_advisory_check("PG402", "flask"))


# -- PG5xx: logging and alerting --------------------------------------------------------


@register(
    "PG501",
    Severity.ERROR,
    "Security events would reach no handler",
    "Do not disable the flask_prodguard.security logger or raise its level above WARNING.",
)
def events_unheard(ctx: CheckContext) -> Iterator[Finding]:
    """PG501: the security logger is disabled or drops warnings and errors."""
    logger = logging.getLogger("flask_prodguard.security")
    if logger.disabled or logger.getEffectiveLevel() > logging.WARNING:
        yield make_finding(
            "PG501",
            "the flask_prodguard.security logger drops warnings and errors",
            "logging configuration",
            Condition.CHECK_ERROR,
        )


@register(
    "PG502",
    Severity.WARNING,
    "structlog logs tracebacks with local variables",
    "Use ExceptionRenderer(ExceptionDictTransformer(show_locals=False)) instead of "
    "dict_tracebacks.",
)
def structlog_locals(ctx: CheckContext) -> Iterator[Finding]:
    """PG502: a configured structlog processor renders tracebacks with frame locals."""
    import structlog

    if not structlog.is_configured():
        return
    for processor in structlog.get_config().get("processors", ()):
        formatter = getattr(processor, "format_exception", None)
        if getattr(formatter, "show_locals", False):
            yield make_finding(
                "PG502",
                "a structlog ExceptionRenderer logs frame locals (secrets, environs)",
                "structlog.configure()",
                Condition.CHECK_WARNING,
            )
            return


# -- PG6xx: serving and set-up -------------------------------------------------------------


@register(
    "PG601",
    Severity.ERROR,
    "PRODGUARD_ENV is development under a production server",
    "Set PRODGUARD_ENV=production where gunicorn or waitress serves the app.",
)
def development_under_server(ctx: CheckContext) -> Iterator[Finding]:
    """PG601: ``PRODGUARD_ENV`` is ``development`` while gunicorn or waitress
    serves the app, as the process environment says (a request's environ says
    it later: :func:`late_findings`)."""
    settings = ctx.settings
    if settings is None or settings.env != "development":
        return
    server = detect.production_server(ctx.environ)
    if server is not None:
        yield development_on_server(server, settings.sources["PRODGUARD_ENV"])


def development_on_server(server: str, source: str) -> Finding:
    """The PG601 finding: a development app served by ``server``.

    :param server: ``"gunicorn"`` or ``"waitress"``.
    :param source: Where ``PRODGUARD_ENV`` came from (``Settings.sources``).
    """
    return make_finding(
        "PG601",
        f"PRODGUARD_ENV is development but {server} serves the app",
        source,
        Condition.CHECK_ERROR,
    )


@register(
    "PG602",
    Severity.WARNING,
    "Settings live in dotenv files a production server does not load",
    "gunicorn and waitress ignore .env and .flaskenv: set these variables in the service "
    "environment (systemd, supervisor, container).",
)
def dotenv_settings(ctx: CheckContext) -> Iterator[Finding]:
    """PG602: ``PRODGUARD_*``, ``FLASK_*`` or ``SECRET*`` variables set only in
    ``.env``/``.flaskenv``, which production servers do not load."""
    names = sorted(
        name for name in ctx.dotenv if name.startswith(("PRODGUARD_", "FLASK_", "SECRET"))
    )
    if names:
        files = sorted({ctx.dotenv[name][0] for name in names})
        yield make_finding(
            "PG602",
            f"{', '.join(names)} set only in {', '.join(files)}",
            ", ".join(files),
            Condition.CHECK_WARNING,
        )


@register(
    "PG603",
    Severity.WARNING,
    "Unknown id in PRODGUARD_SILENCED_CHECKS",
    "Remove ids that do not exist (see flask prodguard check --list).",
)
def _unknown_silenced(ctx: CheckContext) -> Iterator[Finding]:
    settings = ctx.settings
    if settings is None:
        return  # nothing is silenced without a guard
    for check_id in ctx.silenced:
        if check_id not in REGISTRY:
            yield make_finding(
                "PG603",
                f"PRODGUARD_SILENCED_CHECKS names an unknown check {check_id!r}",
                settings.sources.get("PRODGUARD_SILENCED_CHECKS", "app.config"),
                Condition.CHECK_WARNING,
            )


@register(
    "PG604",
    Severity.WARNING,
    "The custom error template cannot be loaded",
    "Fix PRODGUARD_ERROR_TEMPLATE: name a template the app's loader finds (templates/ or a"
    " blueprint registered before ProdGuard(app)) and that compiles.",
)
def error_template_broken(ctx: CheckContext) -> Iterator[Finding]:
    """PG604: ``PRODGUARD_ERROR_TEMPLATE`` names a template that cannot be loaded
    the way the error pages load it."""
    settings = ctx.settings
    if settings is None or not settings.error_template:
        return
    name = settings.error_template
    from jinja2.sandbox import SandboxedEnvironment

    # Loaded as the error pages load it: the app's loader, a sandbox.
    environment = SandboxedEnvironment(loader=ctx.app.jinja_env.loader, autoescape=True)
    try:
        environment.get_template(name)
    except Exception as error:  # noqa: BLE001 - any failure is the finding
        yield make_finding(
            "PG604",
            f"PRODGUARD_ERROR_TEMPLATE {name!r} cannot be loaded"
            f" ({type(error).__name__}: {error}); errors get the built-in page",
            settings.sources.get("PRODGUARD_ERROR_TEMPLATE", "app.config"),
            Condition.CHECK_WARNING,
        )


def read_dotenv(start: str | os.PathLike[str] | None = None) -> dict[str, tuple[str, str]]:
    """``.env`` and ``.flaskenv`` values (name -> (file, value)), nearest first.

    Found like the ``flask`` command finds them: from the working directory
    up. ``.env`` wins over ``.flaskenv``. Read with python-dotenv, as Flask
    reads them; without python-dotenv the ``flask`` command loads neither
    file, and neither is read here.

    :param start: the directory to search from; the working directory if not given.
    """
    found: dict[str, tuple[str, str]] = {}
    directory = Path(start or os.getcwd()).resolve()
    for filename in (".flaskenv", ".env"):
        for folder in (directory, *directory.parents):
            path = folder / filename
            if path.is_file():
                for name, value in _dotenv_values(path).items():
                    found[name] = (filename, value)
                break
    return found


def _dotenv_values(path: Path) -> dict[str, str]:
    try:
        # Imported here: only the CLI reads dotenv files. python-dotenv is
        # Flask's optional dependency: without it the flask command loads no
        # dotenv file, so none of their values can reach the app.
        from dotenv import dotenv_values
    except ImportError:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    # As Flask's load_dotenv reads a file; a name without "=" (None) is not set.
    values = dotenv_values(stream=io.StringIO(text))
    return {name: value for name, value in values.items() if value is not None}


def run_checks(ctx: CheckContext, silenced: tuple[str, ...] = ()) -> list[Finding]:
    """Run every registered check not silenced; findings in registry order.

    :param ctx: What the checks look at.
    :param silenced: Check ids to skip (usually :attr:`CheckContext.silenced`).
    """
    findings: list[Finding] = []
    for check_id, info in REGISTRY.items():
        if check_id in silenced:
            continue
        findings.extend(info.function(ctx))
    return findings


def checks_reference() -> str:
    """The reStructuredText page listing every check (``docs/checks.rst``)."""
    lines = [
        "Deployment checks",
        "=================",
        "",
        "Generated from the check registry (``flask_prodguard.checks.REGISTRY``); run",
        "``flask prodguard check`` to see which apply to your app, and silence one with",
        "``PRODGUARD_SILENCED_CHECKS``. In ``strict``, error and critical findings refuse",
        "to start the app, and so does any finding about debug mode, the debugger, the",
        "development server or an unsafe Flask flag (PG201-PG206), whatever its",
        "severity: see the policy table in :doc:`concepts`.",
        "",
    ]
    for check_id, info in REGISTRY.items():
        title = f"{check_id}: {info.title}"
        lines += [
            f".. _{check_id.lower()}:",
            "",
            title,
            "-" * len(title),
            "",
            f"Severity: **{info.severity}**",
            "",
            f"Fix: {info.hint}",
            "",
        ]
    return "\n".join(lines)


def startup_findings(
    app: Flask, environ: Mapping[str, str], flask_run: bool, settings: Settings
) -> list[Finding]:
    """Everything the checks find when ``init_app`` runs (silenced ones skipped).

    :param app: The app being guarded.
    :param environ: The process environment.
    :param flask_run: Whether the ``flask run`` command is loading the app.
    :param settings: The guard's settings for the app.
    """
    ctx = CheckContext(app, environ, flask_run=flask_run, settings=settings)
    return run_checks(ctx, settings.silenced_checks)


def late_findings(
    app: Flask, environ: WSGIEnvironment, settings: Settings, debugger_hook_active: bool
) -> list[Finding]:
    """What the first request reveals: the server, a live debugger, late config.

    :param app: the guarded app, its config as it is now.
    :param environ: the first request's WSGI environ.
    :param settings: the guard's settings.
    :param debugger_hook_active: whether the debugger hook is installed in
        this process (then a live debugger came through a class it missed).
    """
    findings = []
    if app.config.get("DEBUG"):
        findings.append(
            make_finding(
                "PG101",
                "debug mode was switched on after init_app",
                "app.config DEBUG (set after init_app)",
                Condition.DEBUG_MODE,
                sources=["app.config DEBUG (set after init_app)"],
            )
        )
    flags = detect.unsafe_flags(app.config)
    for key, value in flags.items():
        findings.append(
            make_finding(
                FLAG_CHECK_IDS[key],
                f"{key} was switched on after init_app",
                f"app.config {key}",
                Condition.UNSAFE_FLAG,
                flags={key: value},
            )
        )
    if "werkzeug.debug.preserve_context" in environ and HOOK_REPORTED_KEY not in environ:
        # Only a debugger with evalex on, and not neutralised, adds this key;
        # one that the hook saw was reported by it already (report) or passed
        # the request through (enforce, strict). With the hook installed, this
        # debugger's class is one it has not patched: werkzeug.debug was
        # reloaded or imported again. first_request patches that class now.
        where = "around the app"
        if debugger_hook_active:
            where = (
                "through a DebuggedApplication class the debugger hook had not"
                " patched (werkzeug.debug reloaded or imported again), around the app"
            )
        findings.append(
            make_finding(
                "PG102",
                "the interactive Werkzeug debugger wraps the app",
                "WSGI environ",
                Condition.DEBUGGER,
                debugger=None,
                live=True,
                where=where,
            )
        )
    server = detect.production_server(environ)
    if (
        server is not None
        and settings.env == "development"
        and detect.production_server(os.environ) is None  # else reported at start-up
    ):
        findings.append(development_on_server(server, settings.sources["PRODGUARD_ENV"]))
    signals = []
    if detect.is_dev_server_environ(environ):
        signals.append(f"SERVER_SOFTWARE {environ.get('SERVER_SOFTWARE')}")
    signals += detect.dev_server_signals(os.environ)
    if signals:
        findings.append(
            make_finding(
                "PG105",
                "the development server serves the app",
                ", ".join(signals),
                Condition.DEV_SERVER,
                signals=signals,
            )
        )
    return findings
