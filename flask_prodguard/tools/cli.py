"""The ``flask prodguard`` command group.

Registered through the ``flask.commands`` entry point, so it is available in
every app's ``flask`` command, even when the app fails to load. Commands that
need no app (``events``) never load it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import re
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any
from typing import NoReturn

import click

from ..checks import DOCS_URL
from ..checks import REGISTRY
from ..checks import CheckContext
from ..checks import Finding
from ..checks import Severity
from ..checks import app_settings
from ..checks import read_dotenv
from ..checks import run_checks
from ..events.catalogue import CATALOGUE
from ..events.catalogue import COMMON_FIELDS
from ..events.catalogue import FIELDS
from ..events.catalogue import REQUEST_FIELDS
from ..events.catalogue import SCHEMA_VERSION
from ..events.catalogue import event_schema
from ..events.failures import capped_text
from ..events.failures import exception_message
from ..events.failures import qualified_name
from ..events.failures import safe_text
from ..exceptions import ConfigurationError
from ..exceptions import ProdGuardError
from ..policy import Condition
from . import check_child
from . import deploy
from . import sarif
from .alert_rules import MAX_DURATION_MINUTES
from .alert_rules import MAX_THRESHOLD
from .alert_rules import TARGETS as ALERT_TARGETS
from .alert_rules import Thresholds
from .alert_rules import check_thresholds
from .output import write_files
from .serving import HeldOutput
from .serving import check_before_serving
from .serving import findings_text
from .serving import parse_bind
from .serving import run_server
from .serving import start_up_notice

if TYPE_CHECKING:
    from flask import Flask
    from flask.cli import ScriptInfo


@click.group("prodguard")
def prodguard() -> None:
    """Flask-ProdGuard: production safety checks and tools."""


def catalogue_as_data() -> dict[str, object]:
    """The catalogue as plain data (what ``events --format json`` prints)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "common_fields": {f.name: f.doc for f in COMMON_FIELDS},
        "request_fields": {f.name: f.doc for f in REQUEST_FIELDS},
        "events": [
            {
                "name": spec.name,
                "level": spec.level,
                "owasp": spec.owasp,
                "meaning": spec.meaning,
                "fields": {name: FIELDS[name].doc for name in spec.fields},
                "request": spec.request,
                "rate_limited": spec.rate_limited,
                "alert": spec.alert,
            }
            for spec in CATALOGUE.values()
        ],
    }


@prodguard.command("events")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "schema"]),
    default="text",
    show_default=True,
    help="text for people, json for machines, schema for the JSON Schema of events.",
)
def events_command(output_format: str) -> None:
    """Print the security event catalogue."""
    if output_format == "json":
        click.echo(json.dumps(catalogue_as_data(), indent=2))
        return
    if output_format == "schema":
        click.echo(json.dumps(event_schema(), indent=2))
        return
    click.echo(f"Flask-ProdGuard security events (schema version {SCHEMA_VERSION})")
    click.echo(
        "Logger: flask_prodguard.security. Every event has: "
        + ", ".join(f.name for f in COMMON_FIELDS)
        + "."
    )
    click.echo("Request events also have: " + ", ".join(f.name for f in REQUEST_FIELDS) + ".")
    for spec in CATALOGUE.values():
        click.echo("")
        flags = [spec.level]
        if spec.owasp:
            flags.append(f"OWASP {spec.owasp}")
        if spec.request:
            flags.append("request")
        if spec.rate_limited:
            flags.append("rate limited")
        if spec.alert:
            flags.append("alert")
        click.echo(click.style(spec.name, bold=True) + f"  [{', '.join(flags)}]")
        click.echo(f"  {spec.meaning}")
        for name in spec.fields:
            click.echo(f"    {name}: {FIELDS[name].doc}")


_SEVERITIES = ("info", "warning", "error", "critical")
_SARIF_LEVEL: dict[str, sarif.Level] = {
    "info": "note",
    "warning": "warning",
    "error": "error",
    "critical": "error",
}


class _LoadStopped(Exception):
    """The app raised a ``BaseException`` that is no ``Exception`` while it was
    loading: ``SystemExit`` (``sys.exit()``, argparse reading the ``flask``
    command's arguments), ``KeyboardInterrupt``, ``GeneratorExit``...

    Raised in its place so that the commands' ``except Exception`` reports it
    as an app that could not be loaded: let through, ``sys.exit(0)`` in the
    app's import would end ``check`` with status 0, having checked nothing.
    """

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


def _redacted(text: str) -> str:
    """``text`` as the security events would show it: secrets redacted, control
    characters escaped (one line), length capped.

    What an app's exception says reaches the CI log: a connection string or a
    token in it must not (the app's own ``PRODGUARD_REDACT_*`` settings are
    not known when it could not be loaded: the built-in ones apply).
    """
    from ..events.processors import Redactor

    return Redactor().clean_text(text)


def _error_text(error: BaseException) -> str:
    """``Name: message`` (or ``Name``) of an exception the app raised, redacted.

    The exception is untrusted: its ``__str__`` or its class's name may raise,
    even ``SystemExit``, and the failure must still be reported (read through
    :mod:`~flask_prodguard.events.failures`).
    """
    # The class's own name, as before: "NoAppException", not "flask.cli.NoAppException".
    name = qualified_name(type(error)).rpartition(".")[2]
    try:
        message = exception_message(error)
    except BaseException:  # noqa: BLE001 - its __str__ raised SystemExit: still a reason
        message = f"<unprintable {name}>"
    return _redacted(f"{name}: {message}" if message else name)


def _load_reason(error: Exception) -> str:
    """Why the app could not be loaded, in one line, redacted (no ``Error:``)."""
    stopped = error.error if isinstance(error, _LoadStopped) else error
    raised = _error_text(stopped)
    if isinstance(stopped, SystemExit):
        return f"could not load the app: it exited while loading ({raised})"
    if isinstance(stopped, KeyboardInterrupt):
        return f"could not load the app: it was interrupted while loading ({raised})"
    return f"could not load the app: {raised}"


def _load_hint(error: Exception) -> str:
    """What to add under the reason: the forms ``--app`` takes, when Flask
    could not find or parse the app (``NoAppException``)."""
    from flask.cli import NoAppException

    return f"\n{deploy.APP_FORMS}" if isinstance(error, NoAppException) else ""


def _load_error(error: Exception) -> str:
    """The message for an app that could not be loaded, for standard error.

    One line (``Error: could not load the app: ...``), redacted like the
    security events: the exception is the app's, and standard error is the CI
    log. When Flask could not find or parse the app (``NoAppException``), the
    forms ``--app`` takes follow.
    """
    return f"Error: {_load_reason(error)}{_load_hint(error)}"


def _load_app(info: ScriptInfo | None, app_import_path: str | None) -> Flask:
    """Load the app as the flask command would, but exactly as configured.

    ``flask`` resets ``app.debug`` from ``FLASK_DEBUG`` after loading, which
    hides a ``DEBUG = True`` written in code; this loader does not. ``--app``
    wins over the flask command's (``info``, a ``ScriptInfo`` or ``None``).

    :raises Exception: whatever loading the app raised; a ``BaseException``
        that is no ``Exception`` (``sys.exit()``) as a private ``Exception``
        that :func:`_load_error` words.
    """
    from flask.cli import ScriptInfo

    if app_import_path:
        # An explicit --app names the app: a custom FlaskGroup's create_app
        # would win over it in ScriptInfo.load_app and check another app than
        # the one deploy-config writes into the service.
        create_app = None
    else:
        create_app = getattr(info, "create_app", None)
    loader = ScriptInfo(
        app_import_path=app_import_path or getattr(info, "app_import_path", None),
        create_app=create_app,
        set_debug_flag=False,
    )
    try:
        return loader.load_app()
    except Exception:
        raise
    except BaseException as error:  # noqa: BLE001 - any stop while loading is a load failure
        raise _LoadStopped(error) from error


def load_for_inspection(info: ScriptInfo | None, app_import_path: str | None) -> Flask:
    """Load the app for ``check``: its guard only records its settings.

    While the app loads this way, ``init_app`` runs no check and neither fixes
    nor refuses anything, so that ``check`` sees the configuration exactly as
    written (and reports an app that ``strict`` would refuse to start). Like
    :func:`_load_app`, it keeps the ``app.debug`` that ``flask`` would reset
    from ``FLASK_DEBUG``. What the app prints while it loads goes to standard
    error: standard output is the report, often a JSON or SARIF file.

    :param info: The ``flask`` command's :class:`~flask.cli.ScriptInfo`
        (``ctx.obj``), or ``None`` when the group runs on its own.
    :param app_import_path: The command's ``--app``; wins over ``info``'s.
    :raises Exception: the app could not be loaded (see :func:`_load_app`).
    """
    from ..extension import _inspecting

    token = _inspecting.set(True)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return _load_app(info, app_import_path)
    finally:
        _inspecting.reset(token)


def _location(app: Flask, import_path: str | None = None) -> str:
    """The source file that defines the app, relative to the working directory.

    Read in the process that loaded the app, from modules the app's code may
    have put in ``sys.modules``: one whose ``__dict__`` or ``__file__`` raises
    (even ``SystemExit``) is passed over.
    """
    names = [import_path.split(":", 1)[0]] if import_path else []
    names.append(app.import_name)
    named = (sys.modules.get(name) for name in names)
    for module in itertools.chain(named, _modules_holding(app)):
        path = _module_file(module)
        if path:
            try:
                return os.path.relpath(path)
            except ValueError:
                return path
    return f"{app.import_name.replace('.', '/')}.py"


def _modules_holding(app: Flask) -> Iterator[object]:
    """The modules with ``app`` among their globals (looked at only when the
    import path and the app's import name did not give a file)."""
    for module in list(sys.modules.values()):
        try:
            found = any(value is app for value in getattr(module, "__dict__", {}).values())
        except BaseException:  # noqa: BLE001, S112 - the app's module object: passed over
            continue
        if found:
            yield module


def _module_file(module: object) -> str | None:
    """The existing file a module was loaded from, or ``None``."""
    try:
        path = getattr(module, "__file__", None)
        if isinstance(path, str):
            path = str.__str__(path)  # a plain str: a subclass's methods are the app's
            if path and os.path.exists(path):
                return path
    except BaseException:  # noqa: BLE001, S110 - the app's module object: passed over
        pass
    return None


def _rule_name(title: str) -> str:
    """A SARIF rule name: the title's words in PascalCase ("DebugModeIsOn")."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


def render_sarif(findings: list[Finding], location: str) -> dict[str, Any]:
    """The check's findings as a SARIF 2.1.0 log that code-scanning tools accept.

    Every check of the registry is a rule; every finding is a result at the
    file that defines the app (line 1: settings have no one line).

    :param findings: What :func:`~flask_prodguard.checks.run_checks` found.
    :param location: The file that defines the app, relative to the working
        directory, as the process that loaded the app found it.
    """
    from .. import __version__

    uri = location.replace(os.sep, "/")
    results = [
        sarif.Result(
            rule_id=f.check_id,
            level=_SARIF_LEVEL[str(f.severity)],
            message=f"{f.message} (from {f.source}). Fix: {f.hint}",
            uri=uri,
            properties={"source": f.source, "severity": str(f.severity)},
        )
        for f in findings
    ]
    return sarif.sarif_log(
        "Flask-ProdGuard", __version__, _sarif_rules(), results, information_uri=DOCS_URL
    )


def _sarif_rules() -> list[sarif.Rule]:
    """Every check of the registry as a SARIF rule."""
    return [
        sarif.Rule(
            id=check_id,
            name=_rule_name(info.title),
            description=info.title,
            help=info.hint,
            help_uri=f"{DOCS_URL}#{check_id.lower()}",
            level=_SARIF_LEVEL[str(info.severity)],
            properties={"severity": str(info.severity)},
        )
        for check_id, info in REGISTRY.items()
    ]


def _failed_sarif(reason: str) -> dict[str, Any]:
    """The SARIF log of a ``check`` that could not run: no result, and an
    invocation that failed (``executionSuccessful`` false) saying why, as
    ``scan`` reports a file it could not analyse."""
    from .. import __version__

    return sarif.sarif_log(
        "Flask-ProdGuard",
        __version__,
        _sarif_rules(),
        [],
        information_uri=DOCS_URL,
        notifications=[sarif.Notification(reason)],
    )


def _check_failed(
    ctx: click.Context, output_format: str, reason: str, hint: str = ""
) -> NoReturn:
    """End ``check`` with status 2: ``Error: reason`` on standard error and, in
    the json and sarif formats, a report that says the check did not run.

    The JSON report then has ``error`` and ``exit_code`` and no ``findings``,
    so that no reader takes it for a clean app; the SARIF log has no results
    and a failed invocation.
    """
    if output_format == "json":
        click.echo(json.dumps({"error": reason, "exit_code": 2}, indent=2))
    elif output_format == "sarif":
        click.echo(json.dumps(_failed_sarif(reason), indent=2))
    click.echo(f"Error: {reason}{hint}", err=True)
    ctx.exit(2)


def _print_text(report: _Report, fail_level: str, env_option: bool = False) -> None:
    if report.env is not None:
        source = "--env" if env_option else report.env_source
        click.echo(
            f"Flask-ProdGuard check of app {report.app!r}: PRODGUARD_ENV={report.env}"
            f" ({source}),"
            f" PRODGUARD_STRICTNESS={report.strictness}"
        )
    else:
        click.echo(f"Flask-ProdGuard check of app {report.app!r} (not guarded)")
    findings = report.findings
    for line in findings_text(findings):
        click.echo(line)
    counts = {s: sum(1 for f in findings if str(f.severity) == s) for s in _SEVERITIES}
    summary = (
        ", ".join(f"{counts[s]} {s}" for s in reversed(_SEVERITIES) if counts[s])
        or "nothing found"
    )
    click.echo("")
    click.echo(f"{len(findings)} finding(s): {summary}; fail level {fail_level}.")


@dataclasses.dataclass(frozen=True)
class _Report:
    """What the check's report needs, read back from the process that loaded
    the app (see :func:`_inspect`): plain values, no object of the app."""

    #: The app's name (text, at most a few kilobytes).
    app: str
    #: The guard's PRODGUARD_ENV and PRODGUARD_STRICTNESS; None when unguarded.
    env: str | None
    strictness: str | None
    #: Where PRODGUARD_ENV came from ("environment variable PRODGUARD_ENV", ".env ...").
    env_source: str | None
    #: The file that defines the app, for SARIF.
    location: str
    findings: list[Finding]


class _CheckStopped(Exception):
    """The app could not be loaded or checked; ``reason`` is one redacted line
    for standard error, ``hint`` what follows it."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


def _inspect(request: dict[str, Any], info: ScriptInfo | None = None) -> dict[str, Any]:
    """Load and check the app; what the report needs, as JSON data.

    Runs where the app's code runs: in the child process of
    :mod:`.check_child` (or, for a factory no child can import, in this one).
    Everything the app could make fail or exit (loading it, the checks
    reading its configuration, its name and modules read for the report) is
    caught here and handed back as ``{"failed": reason}``, with ``"no_app"``
    when Flask found no app (the forms ``--app`` takes are shown then).

    :param request: ``app``, the import path to load (``None``: the
        factory of ``info``, or Flask's ``wsgi.py``/``app.py``), and
        ``location``, the import path to find the app's file by.
    :param info: The ``flask`` command's ScriptInfo, only in this process.
    """
    try:
        app = load_for_inspection(info, request["app"])
    except Exception as error:  # noqa: BLE001 - any load failure is reported
        return {"failed": _load_reason(error), "no_app": bool(_load_hint(error))}
    try:
        settings = app_settings(app)
        check_ctx = CheckContext(
            app, os.environ, dotenv=read_dotenv(), settings=settings, cli=True
        )
        findings = run_checks(check_ctx, check_ctx.silenced)
    except BaseException as error:  # noqa: BLE001 - the app's code stopped the checks
        # The checks read the app's objects (a config value's __str__): a
        # sys.exit(0) there must not end the gate with status 0.
        return {"failed": f"the checks were stopped: {_error_text(error)}"}
    try:
        env_source = None
        if settings is not None:
            env_source = settings.sources["PRODGUARD_ENV"]
            if env_source.startswith("environment variable"):
                env_source = check_ctx.env_source("PRODGUARD_ENV")  # perhaps a dotenv file
        name = app.name
        return {
            # The name as text, read without its own methods: they are the app's.
            "app": capped_text(name) if isinstance(name, str) else safe_text(name),
            "env": str(settings.env) if settings else None,
            "strictness": str(settings.strictness) if settings else None,
            "env_source": env_source,
            "location": _location(app, request["location"]),
            "findings": [{**f.as_dict(), "condition": str(f.condition)} for f in findings],
        }
    except BaseException as error:  # noqa: BLE001 - the report reads the app's objects too
        return {"failed": f"the report could not be written: {_error_text(error)}"}


def _app_to_load(info: ScriptInfo | None, app_import_path: str | None) -> str | None:
    """What the child loads: ``--app``, else the flask command's import path
    (``FLASK_APP``), else a custom FlaskGroup's factory by name.

    :raises LookupError: The group's factory cannot be imported by name (a
        lambda, a closure, a function of the script being run).
    """
    create_app = None if app_import_path else getattr(info, "create_app", None)
    if create_app is None:
        return app_import_path or getattr(info, "app_import_path", None)
    module_name = getattr(create_app, "__module__", None)
    name = getattr(create_app, "__qualname__", None)
    if (
        isinstance(module_name, str)
        and module_name != "__main__"
        and all(part.isidentifier() for part in module_name.split("."))
        and isinstance(name, str)
        and name.isidentifier()
        and getattr(sys.modules.get(module_name), name, None) is create_app
    ):
        # Flask calls a "module:factory()" import path as it calls the group's create_app.
        return f"{module_name}:{name}()"
    raise LookupError(create_app)


def _inspection(
    info: ScriptInfo | None, app_import_path: str | None, timeout: float
) -> _Report:
    """Load and check the app in a child process (see :mod:`.check_child`);
    a custom group's factory that no child can import, in this one.

    :raises _CheckStopped: The app could not be loaded or checked, or the
        child did not hand back a complete report.
    """
    request = {"location": app_import_path or getattr(info, "app_import_path", None)}
    try:
        request["app"] = _app_to_load(info, app_import_path)
    except LookupError:
        # A callable cannot be handed to another process: this one loads it,
        # as before the child existed (documented in docs/cli.rst).
        data = check_child.run_here(lambda: _inspect({**request, "app": None}, info))
    else:
        try:
            data = check_child.run_in_child(_inspect, request, timeout)
        except check_child.ChildFailed as failure:
            raise _CheckStopped(_redacted(failure.reason)) from None
    return _report_from(data)


def _report_from(data: dict[str, Any]) -> _Report:
    """The report in ``data`` (from :func:`_inspect`), every value checked.

    :raises _CheckStopped: ``data`` says the check failed, or is no report.
    """
    unreadable = _CheckStopped(
        "the process that loaded the app handed back an unreadable report"
    )
    if "failed" in data:
        failed = data["failed"]
        if not isinstance(failed, str):
            raise unreadable
        # Redacted where it was written; again here, where it is printed.
        hint = f"\n{deploy.APP_FORMS}" if data.get("no_app") is True else ""
        raise _CheckStopped(_redacted(failed), hint)
    try:
        report = _Report(
            app=data["app"],
            env=data["env"],
            strictness=data["strictness"],
            env_source=data["env_source"],
            location=data["location"],
            findings=[_finding_from(item) for item in data["findings"]],
        )
    except (KeyError, TypeError, ValueError):
        raise unreadable from None
    texts = (report.app, report.location)
    optional = (report.env, report.strictness, report.env_source)
    if all(type(v) is str for v in texts) and all(
        v is None or type(v) is str for v in optional
    ):
        return report
    raise unreadable


def _finding_from(item: dict[str, Any]) -> Finding:
    """A finding read back from JSON (:meth:`Finding.as_dict` and its condition).

    :raises KeyError, TypeError, ValueError: ``item`` is no such finding.
    """
    texts = [item[key] for key in ("id", "severity", "message", "hint", "source", "condition")]
    if not all(type(text) is str for text in texts):
        raise TypeError(item)
    check_id, severity, message, hint, source, condition = texts
    if check_id not in REGISTRY:
        raise ValueError(check_id)
    return Finding(
        check_id, Severity[severity.upper()], message, hint, source, Condition(condition)
    )


#: The options every gate (check, probe, scan) shares.
_FAIL_LEVEL = click.option(
    "--fail-level",
    type=click.Choice(_SEVERITIES),
    default="error",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
_REPORT_FORMAT = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
)

#: The help of the commands' ``--app`` option.
_APP_HELP = (
    "The app, as flask --app takes it: module, module:name, module:factory(args),"
    " path/to/app.py[:name] or a package directory [the flask command's --app or"
    " FLASK_APP]."
)


@prodguard.command("check")
@click.option("--app", "app_import_path", help=_APP_HELP)
@click.option(
    "--env",
    type=click.Choice(["production", "staging", "development", "testing"]),
    help="Check as if PRODGUARD_ENV were this (default: what the app would use).",
)
@_FAIL_LEVEL
@_REPORT_FORMAT
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=86400),
    callback=lambda ctx, param, value: _finite(param, value),
    default=check_child.DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds to load and check the app; a slower app fails the check (exit 2).",
)
@click.option("--list", "list_checks", is_flag=True, help="List every check and exit.")
@click.pass_context
def check_command(
    ctx: click.Context,
    app_import_path: str | None,
    env: str | None,
    fail_level: str,
    output_format: str,
    timeout: float,
    list_checks: bool,
) -> None:
    """Run the deployment checklist against the app; exit 1 on findings.

    The app is loaded and checked in a separate process: what its code does
    there (print, exit, close its output) cannot change the report or the
    exit status.

    Exit status: 0 nothing at or above --fail-level, 1 findings at or above
    it, 2 usage error, or an app that cannot be loaded or checked.
    """
    if list_checks:
        for check_id, info in REGISTRY.items():
            click.echo(f"{check_id}  {str(info.severity):8}  {info.title}")
        return
    if env is not None:
        os.environ["PRODGUARD_ENV"] = env  # the child inherits the environment
    try:
        report = _inspection(ctx.obj, app_import_path, timeout)
    except _CheckStopped as stopped:
        _check_failed(ctx, output_format, stopped.reason, stopped.hint)
    findings = report.findings
    threshold = Severity[fail_level.upper()]
    failing = [f for f in findings if f.severity >= threshold]
    code = 1 if failing else 0
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "app": report.app,
                    "env": report.env,
                    "strictness": report.strictness,
                    "fail_level": fail_level,
                    "findings": [f.as_dict() for f in findings],
                    "exit_code": code,
                },
                indent=2,
            )
        )
    elif output_format == "sarif":
        click.echo(json.dumps(render_sarif(findings, report.location), indent=2))
    else:
        _print_text(report, fail_level, env_option=env is not None)
    ctx.exit(code)


@prodguard.command("probe")
@click.argument("url", required=False)
@_FAIL_LEVEL
@_REPORT_FORMAT
@click.option(
    "--max-requests",
    type=click.IntRange(min=1),
    default=25,
    show_default=True,
    help="The most requests sent, redirects followed included.",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0, max=3600),
    callback=lambda ctx, param, value: _finite(param, value),
    default=0.2,
    show_default=True,
    help="Seconds between two requests.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=3600),
    callback=lambda ctx, param, value: _finite(param, value),
    default=10.0,
    show_default=True,
    help="Seconds for each whole answer; a slower one is cut off.",
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="Send this header with every request (a staging token); repeatable."
    " Never sent to another host.",
)
@click.option(
    "--error-id-header",
    "id_headers",
    multiple=True,
    metavar="NAME",
    help="A response header that carries the error id; repeatable"
    " [X-Error-ID and X-Request-ID].",
)
@click.option("--list", "list_rules", is_flag=True, help="List every finding id and exit.")
@click.pass_context
def probe_command(
    ctx: click.Context,
    url: str | None,
    fail_level: str,
    output_format: str,
    max_requests: int,
    delay: float,
    timeout: float,
    headers: tuple[str, ...],
    id_headers: tuple[str, ...],
    list_rules: bool,
) -> None:
    """Probe a deployment from outside: what does an attacker see at URL?

    Sends a few safe requests (GET, OPTIONS and one malformed JSON POST;
    never a login, a PIN or a console command) and reports the Werkzeug
    debugger, error pages that leak, versions disclosed, the development
    server, and error responses without an error id.

    Exit status: 0 nothing at or above --fail-level, 1 findings at or above
    it, 2 a usage error or a URL that does not answer.
    """
    from . import probe as probing

    if list_rules:
        for rule_id, rule in probing.RULES.items():
            click.echo(f"{rule_id}  {str(rule.severity):8}  {rule.title}")
        return
    if url is None:
        raise click.UsageError("Missing argument 'URL'.")
    try:
        sent = [probing.parse_header(header) for header in headers]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--header") from None
    try:
        report = probing.probe(
            url,
            max_requests=max_requests,
            delay=delay,
            timeout=timeout,
            headers=sent,
            id_headers=id_headers or probing.DEFAULT_ERROR_ID_HEADERS,
        )
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="URL") from None
    if not report.reached:
        why = report.exchanges[0].error if report.exchanges else "nothing was sent"
        click.echo(f"Error: {probing.clean(report.url, 200)} did not answer: {why}", err=True)
        ctx.exit(2)
    threshold = Severity[fail_level.upper()]
    code = 1 if any(f.severity >= threshold for f in report.findings) else 0
    if output_format == "json":
        data = probing.render_json(report, threshold, code)
        click.echo(json.dumps(data, indent=2))
    elif output_format == "sarif":
        click.echo(json.dumps(probing.render_sarif(report), indent=2))
    else:
        for line in probing.render_text(report, threshold):
            click.echo(line)
    ctx.exit(code)


@prodguard.command("serve")
@click.option("--app", "app_import_path", help=_APP_HELP)
@click.option(
    "--server",
    type=click.Choice(["auto", "gunicorn", "waitress"]),
    default="auto",
    show_default=True,
    help="auto: gunicorn on POSIX when installed, waitress otherwise.",
)
@click.option(
    "--bind",
    default="127.0.0.1:8000",
    show_default=True,
    help="HOST:PORT, [IPV6]:PORT or unix:PATH to listen on (loopback unless you say"
    " otherwise); PORT is 1 to 65535.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="gunicorn worker processes [2 x CPUs + 1]; waitress has one process.",
)
@click.option("--threads", type=click.IntRange(min=1), help="Threads per worker / in total.")
@click.pass_context
def serve_command(
    ctx: click.Context,
    app_import_path: str | None,
    server: str,
    bind: str,
    workers: int | None,
    threads: int | None,
) -> None:
    """Serve the app on gunicorn or waitress with safe defaults (never the dev server).

    SIGTERM or SIGINT (Ctrl+C) stops it gracefully on either server: no new
    connections, up to 30 seconds for the requests in flight, exit status 0.
    """
    try:
        where = parse_bind(bind)
    except ConfigurationError as error:
        raise click.BadParameter(str(error), param_hint="--bind") from None
    # What is written to stderr while the app loads and the checks run (the
    # guard's JSON event lines) waits until the message in plain words is out.
    # Without a stderr (closed by whoever started us) there is nothing to order.
    held = HeldOutput(sys.stderr) if sys.stderr is not None else None
    app: Flask | None = None
    try:
        with (
            contextlib.redirect_stderr(held) if held is not None else contextlib.nullcontext(),
            held.releasing_on_signals() if held is not None else contextlib.nullcontext(),
        ):
            try:
                app = _load_app(ctx.obj, app_import_path)
            except ConfigurationError as error:
                # A mistyped key's message shows its value: redacted, as a
                # load error's, since standard error is the log.
                message: str | None = f"Error: {_redacted(str(error))}"
            except ProdGuardError as error:
                message = f"Error: {error}"
            except Exception as error:  # noqa: BLE001 - any load failure is reported
                message = _load_error(error)
            else:
                try:
                    chosen = check_before_serving(app, server, bind=where)
                except ProdGuardError as error:
                    app, message = None, f"Error: {error}"
                else:
                    message = start_up_notice(app, where)
        if message is not None:
            click.echo(message, err=True)
    finally:
        if held is not None:
            held.release()
    if app is None:
        ctx.exit(2)
    try:
        run_server(
            app,
            chosen,
            host=where.host,
            port=where.port,
            workers=workers,
            threads=threads,
            unix_socket=where.unix_socket,
        )
    except ConfigurationError as error:
        # Cannot listen (in use, permission denied...): one line, exit 2.
        click.echo(f"Error: {error}", err=True)
        ctx.exit(2)


def _app_from_context(ctx: click.Context) -> str | None:
    """The flask command's ``--app`` (or ``FLASK_APP``), without loading the app."""
    from flask.cli import ScriptInfo

    info = ctx.find_object(ScriptInfo)
    path = getattr(info, "app_import_path", None)
    return path or os.environ.get("FLASK_APP") or None


@prodguard.command("deploy-config")
@click.option(
    "--target",
    type=click.Choice(deploy.TARGETS),
    required=True,
    help="The file to generate: gunicorn.conf.py, a supervisor program, a systemd unit,"
    " an nginx server block or an Apache virtual host.",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, dir_okay=True),
    help="Write the file into this directory (under its usual name) instead of stdout.",
)
@click.option("--force", is_flag=True, help="With --output: replace an existing file.")
@click.option("--app", "app_import_path", help=_APP_HELP)
@click.option(
    "--name",
    help="Program, unit and file name [the app's top-level module].",
)
@click.option(
    "--bind",
    default="127.0.0.1:8000",
    show_default=True,
    help="HOST:PORT the app listens on; keep it on loopback behind a proxy.",
)
@click.option("--workers", type=click.IntRange(min=1), help="gunicorn workers [2 x CPUs + 1].")
@click.option("--threads", type=click.IntRange(min=1), help="Threads per worker [1].")
@click.option(
    "--server-name",
    default="_",
    show_default=True,
    help="The proxy's host names (nginx server_name; Apache ServerName, the first without"
    " a *, and ServerAlias), separated by spaces (_ matches none).",
)
@click.option(
    "--listen",
    default="80",
    show_default=True,
    help="Where the proxy (nginx, Apache) listens: PORT or ADDRESS:PORT.",
)
@click.option(
    "--user",
    help="Account the app runs as (supervisor, systemd) [the --name].",
)
@click.option(
    "--directory",
    help="The app's working directory on the server [the directory an --app given as"
    " an absolute path is imported from, else the current directory].",
)
@click.option(
    "--venv",
    help="The virtual environment with flask and gunicorn [this Python's environment].",
)
@click.option(
    "--log-dir",
    default="/var/log/supervisor",
    show_default=True,
    help="supervisor: the directory for the program's stdout and stderr log files.",
)
@click.option(
    "--behind-proxy/--no-behind-proxy",
    default=True,
    show_default=True,
    help="A reverse proxy (the nginx or Apache file) is in front: the app trusts one hop of"
    " X-Forwarded-* (PRODGUARD_TRUSTED_PROXIES=1).",
)
@click.option(
    "--factory/--no-factory",
    default=None,
    help="gunicorn only, when the module's source cannot tell: the name after --app's colon"
    " is a factory gunicorn must call (--factory), or the app itself (--no-factory).",
)
@click.pass_context
def deploy_config_command(
    ctx: click.Context,
    target: str,
    output: str | None,
    force: bool,
    app_import_path: str | None,
    name: str | None,
    bind: str,
    workers: int | None,
    threads: int | None,
    server_name: str,
    listen: str,
    user: str | None,
    directory: str | None,
    venv: str | None,
    log_dir: str,
    behind_proxy: bool,
    factory: bool | None,
) -> None:
    """Generate a deployment file: gunicorn, supervisor, systemd, nginx or Apache.

    The file runs the app as `flask prodguard serve` does: on gunicorn, never
    the development server, no reloader, proxy headers trusted only by the
    guard (one hop with --behind-proxy), JSON server logs. It is printed, or
    written into --output DIR under its usual name. The app is not loaded: a
    value the file's reader would cut or change is refused (exit 2).
    """
    settings = deploy.settings_from_options(
        target,
        app=app_import_path or _app_from_context(ctx),
        name=name,
        bind=bind,
        workers=workers,
        threads=threads,
        server_name=server_name,
        listen=listen,
        user=user,
        directory=directory,
        venv=venv,
        log_dir=log_dir,
        behind_proxy=behind_proxy,
        factory=factory,
    )
    for warning in deploy.deployment_warnings(target, settings):
        click.secho(warning, err=True, fg="yellow")
    text = deploy.render(target, settings)
    if output is None:
        click.echo(text, nl=False)
        return
    [path] = write_files(output, {deploy.file_name(target, settings): text}, force=force)
    click.echo(f"Wrote {path.resolve()}; {deploy.install_hint(target, settings)}")


_DEFAULT_THRESHOLDS = Thresholds()


def _thresholds_for(target: str, probes: int, errors: int, window: int) -> Thresholds:
    """The thresholds options, checked against what ``--target`` accepts: a
    value out of range is a usage error (exit 2) naming the option and the range."""
    try:
        return check_thresholds(target, Thresholds(probes, errors, window))
    except ConfigurationError as error:
        ctx = click.get_current_context()
        option = next((p for p in ctx.command.params if error.key in p.opts), None)
        raise click.BadParameter(
            str(error), ctx=ctx, param=option, param_hint=f"'{error.key}'"
        ) from None


@prodguard.command("alert-rules")
@click.option(
    "--target",
    required=True,
    type=click.Choice(list(ALERT_TARGETS)),
)
@click.option("--output", type=click.Path(file_okay=False), help="Write the files into DIR.")
@click.option("--force", is_flag=True, help="With --output: replace existing files.")
@click.option(
    "--probe-threshold",
    type=click.IntRange(min=0, max=MAX_THRESHOLD),
    default=_DEFAULT_THRESHOLDS.probes,
    show_default=True,
    help="Debugger probes per window above which to alert (0 to 2**53 - 1).",
)
@click.option(
    "--error-threshold",
    type=click.IntRange(min=0, max=MAX_THRESHOLD),
    default=_DEFAULT_THRESHOLDS.errors,
    show_default=True,
    help="Unhandled errors per window above which to alert (0 to 2**53 - 1).",
)
@click.option(
    "--window",
    type=click.IntRange(min=1, max=MAX_DURATION_MINUTES),
    default=_DEFAULT_THRESHOLDS.window_minutes,
    show_default=True,
    help="Window in minutes; at most 2880 for datadog, 10080 for cloudwatch, 43260 for"
    " loki, 153722867 for the others.",
)
@click.option(
    "--connector-id",
    help="elastic only: the id of the Kibana connector the rules notify"
    " (default: a placeholder to replace).",
)
def alert_rules_command(
    target: str,
    output: str | None,
    force: bool,
    probe_threshold: int,
    error_threshold: int,
    window: int,
    connector_id: str | None,
) -> None:
    """Write alert rules for the security events (generated from the catalogue)."""
    from .alert_rules import render

    if connector_id is not None and target != "elastic":
        raise click.UsageError("--connector-id applies to --target elastic only.")
    thresholds = _thresholds_for(target, probe_threshold, error_threshold, window)
    files = render(target, thresholds, connector_id)
    if output is None:
        for name, content in files.items():
            if len(files) > 1:
                click.echo(f"# ---- {name}")
            click.echo(content, nl=False)
        return
    for path in write_files(output, files, force=force):
        click.echo(f"wrote {path}", err=True)


def _finite(param: click.Parameter, value: float) -> float:
    """A number of seconds, refused when it is not a number (``nan``)."""
    if value != value:  # NaN compares unequal to itself; click's range lets it by
        raise click.BadParameter("not a number of seconds", param=param)
    return value


@prodguard.command("scan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@_REPORT_FORMAT
@click.option(
    "--allow-skipped",
    is_flag=True,
    help="Files that cannot be analysed are reported but do not fail the scan.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1, max=64),
    default=None,
    help="Processes a large tree (50,000 lines or more) is shared among, this one"
    " included [one per CPU, at most 8; 1 on systems other than Linux]. The"
    " report is the same for any number.",
)
@click.pass_context
def scan_command(
    ctx: click.Context,
    paths: tuple[str, ...],
    output_format: str,
    allow_skipped: bool,
    jobs: int | None,
) -> None:
    """Find code that enables debug mode or the Werkzeug debugger (no app needed).

    Exit status: 0 nothing found, 1 findings, 2 a usage error or a file that
    could not be analysed (unless --allow-skipped).
    """
    from ..events.processors import sanitise_text
    from .scan import render_sarif as render_scan_sarif
    from .scan import scan

    try:
        report = scan(paths, jobs=jobs)
    except FileNotFoundError as error:
        # A path removed since click checked it.
        click.echo(f"Error: {error}", err=True)
        ctx.exit(2)
    findings, skipped = report.findings, report.skipped
    if output_format == "json":
        data = {
            "findings": [f.as_dict() for f in findings],
            "skipped": [s.as_dict() for s in skipped],
            "files": report.files,
            "lines": report.lines,
            "analysed": report.analysed,
        }
        click.echo(json.dumps(data, indent=2))
    elif output_format == "sarif":
        click.echo(json.dumps(render_scan_sarif(findings, skipped), indent=2))
    else:
        # A file's name and code are the scanned repository's, maybe an
        # attacker's: a newline or a bidi control must not forge or hide a line.
        for f in findings:
            path = sanitise_text(f.path, 4096)
            click.echo(f"{path}:{f.line}:{f.column}: {f.rule} {f.message}")
            explanation = f.explanation()
            if explanation:
                click.echo(f"    because: {sanitise_text(explanation, 4096)}")
            click.echo(f"    fix: {f.fix}")
        for s in skipped:
            click.echo(
                f"{sanitise_text(s.path, 4096)}: not analysed: {sanitise_text(s.reason)}"
            )
        summary = f"{len(findings)} finding(s) in {report.files} file(s), {report.lines} lines"
        if skipped:
            summary += f"; {len(skipped)} file(s) not analysed"
        click.echo(summary)
    if skipped and not allow_skipped:
        click.echo(
            f"Error: {len(skipped)} file(s) could not be analysed (listed above);"
            " fix or exclude them, or pass --allow-skipped.",
            err=True,
        )
        ctx.exit(2)
    ctx.exit(1 if findings else 0)
