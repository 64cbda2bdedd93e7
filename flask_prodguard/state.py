"""Per-app guard state: settings, what was found, and how to act on it.

One :class:`GuardState` lives in ``app.extensions["prodguard"]`` for each guarded
app. It turns findings into actions by asking the policy table, emits the
matching events, and remembers what it already reported so each condition is
reported once per process.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import NoReturn

from . import config
from . import detect
from .checks import Finding
from .checks import debugger_construction_finding
from .checks import late_findings
from .events import catalogue
from .events.emitter import Emitter
from .events.output import Output
from .events.output import configure_output
from .exceptions import ConfigurationError
from .exceptions import UnsafeDeploymentError
from .policy import Action
from .policy import Condition
from .policy import Environment
from .policy import action_for
from .wsgi.debugger import ProcessDecision
from .wsgi.debugger import decide_for_process
from .wsgi.debugger import deciding_guard
from .wsgi.debugger import decision_from_environment
from .wsgi.debugger import hook_active
from .wsgi.debugger import neutralises
from .wsgi.debugger import recheck_debugger_hook

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

    from .config import Settings

#: What a developer whose app runs as production because nobody set
#: ``PRODGUARD_ENV`` is told to do; :func:`development_hint` adapts it to the
#: dotenv files found.
DEVELOPMENT_HINT = (
    "If this is a development machine, say so: export PRODGUARD_ENV=development"
    " before starting the app (with the flask command and python-dotenv installed, a"
    " PRODGUARD_ENV=development line in .flaskenv also works; app.run() reads .flaskenv"
    " too late)."
)

#: The dotenv files the ``flask`` command loads, in the order it reads them.
_DOTENV_FILES = (".env", ".flaskenv")
#: Enough of a dotenv file to find a ``PRODGUARD_ENV`` line in a real one.
_DOTENV_READ_LIMIT = 64 * 1024


def development_hint(start: str | os.PathLike[str] | None = None) -> str:
    """The development hint, for the dotenv files the developer has.

    :data:`DEVELOPMENT_HINT` suggests a ``PRODGUARD_ENV=development`` line in
    ``.flaskenv``. When such a line is already there, repeating the advice
    helps nobody: without python-dotenv the hint says to install it (Flask
    reads dotenv files only with it); with it, the file was not read before
    the app was created (``python app.py``, gunicorn, ``FLASK_SKIP_DOTENV``),
    so the hint says to export the variable.

    :param start: The directory the ``flask`` command would search from, and
        up; the working directory if not given.
    """
    found = _dotenv_file_setting_env(start)
    if found is None:
        return DEVELOPMENT_HINT
    if not _dotenv_installed():
        return (
            f"If this is a development machine: {found} sets PRODGUARD_ENV, but"
            " python-dotenv is not installed; install python-dotenv: Flask reads"
            f" {found} only with it (pip install python-dotenv), or export"
            " PRODGUARD_ENV=development before starting the app."
        )
    return (
        "If this is a development machine, say so: export PRODGUARD_ENV=development"
        f" before starting the app. The PRODGUARD_ENV line in {found} was not read before"
        " the app was created: only the flask command loads it first (app.run() reads"
        " it too late, gunicorn and waitress never)."
    )


def _dotenv_installed() -> bool:
    # find_spec, not import: python-dotenv is not needed, only asked about.
    try:
        return importlib.util.find_spec("dotenv") is not None
    except (ImportError, ValueError):
        return False


def _dotenv_file_setting_env(start: str | os.PathLike[str] | None) -> str | None:
    """The nearest dotenv file (as the flask command finds it, from ``start``
    up) with a ``PRODGUARD_ENV`` line, by name; ``None`` if there is none.

    Read without python-dotenv, which may be missing: a line is ``NAME=...``,
    perhaps after ``export``.
    """
    try:
        directory = Path(start if start is not None else os.getcwd()).resolve()
    except (OSError, RuntimeError):
        return None  # the working directory was removed: nothing to look at
    for filename in reversed(_DOTENV_FILES):  # .flaskenv is where the hint points
        for folder in (directory, *directory.parents):
            path = folder / filename
            try:
                if not path.is_file():
                    continue
                with path.open(encoding="utf-8", errors="replace") as stream:
                    text = stream.read(_DOTENV_READ_LIMIT)
            except OSError:
                break
            if any(_sets_env(line) for line in text.splitlines()):
                return filename
            break  # the nearest file is the one Flask reads
    return None


def _sets_env(line: str) -> bool:
    line = line.strip()
    if line.startswith("export "):
        line = line[len("export ") :].lstrip()
    name, equals, _ = line.partition("=")
    return bool(equals) and name.strip() == "PRODGUARD_ENV"


def server_commands(app: Flask) -> str:
    """The exact gunicorn and waitress commands that serve ``app`` instead.

    Two indented lines, for the message that refuses the development server or
    the debugger: the user can copy either one. The ``module:object`` target is
    :func:`~flask_prodguard.detect.app_import_string`'s best guess.
    """
    target = detect.app_import_string(app)
    if target.endswith("()"):
        waitress = f"waitress-serve --listen=127.0.0.1:8000 --call {target[:-2]}"
    else:
        waitress = f"waitress-serve --listen=127.0.0.1:8000 {target}"
    return f"    gunicorn --bind 127.0.0.1:8000 '{target}'\n    {waitress}"


#: Conditions whose refusal message also says how to serve the app instead.
_NEEDS_A_REAL_SERVER = (
    Condition.DEV_SERVER,
    Condition.DEBUGGER,
    Condition.DEBUG_MODE,
    Condition.DEBUG_PIN,
)


class GuardState:
    """Everything the guard keeps for one app, in ``app.extensions["prodguard"]``.

    Built by :meth:`~flask_prodguard.ProdGuard.init_app`; the request path (the
    middleware, the error handlers, the debugger hook) reads it, never
    ``app.config``. The methods that act on the app take it as an argument
    rather than keeping it.

    :param app: The app being guarded; its name and import string are kept.
    :param settings: The app's resolved settings.
    :param alert_hooks: The ``on_alert`` callables given to
        :class:`~flask_prodguard.ProdGuard`.
    """

    def __init__(
        self,
        app: Flask,
        settings: Settings,
        alert_hooks: tuple[Callable[..., object], ...] = (),
    ) -> None:
        #: The resolved settings.
        self.settings = settings
        self.app_name = app.name
        self._server_commands = server_commands(app)
        self._actions = {
            condition: action_for(condition, settings.strictness) for condition in Condition
        }
        #: Fields every event of this app carries.
        self.context: dict[str, str] = {
            "env": str(settings.env),
            "strictness": str(settings.strictness),
            "app": app.name,
        }
        #: Builds and emits this app's events.
        self.emitter = Emitter(self.context, settings, alert_hooks)
        #: True until the first request of this process ran the late checks.
        self.first_request_pending = True
        #: Strict: requests arriving through the development server get a 503.
        self.block_dev_server = self.action(Condition.DEV_SERVER) is Action.REFUSE
        #: Strict: the first request showed a deployment it would have refused
        #: to start (a development app on gunicorn or waitress): every
        #: request gets a 503.
        self.refuse_serving = False
        #: Receiver of Flask's got_request_exception signal (kept alive here).
        self.exception_receiver: Callable[..., None] | None = None
        #: What the checks found when ``init_app`` ran (silenced ones left
        #: out); ``app.run()`` tells the developer about them too.
        self.startup_findings: list[Finding] = []
        self._reported: set[tuple[int, str]] = set()
        self._lock = threading.Lock()
        self._development_hint: str | None = None

    def action(self, condition: Condition) -> Action:
        """What the policy says to do about ``condition`` for this app."""
        return self._actions[condition]

    def _first_time(self, what: str) -> bool:
        # Once per process: a forked worker reports again, a thread does not.
        key = (os.getpid(), what)
        with self._lock:
            if key in self._reported:
                return False
            self._reported.add(key)
            return True

    def developer_hint(self) -> str | None:
        """How to declare a development machine, or ``None`` when somebody
        set ``PRODGUARD_ENV`` (an explicit setting is not second-guessed).

        Worked out once, on first use (:func:`development_hint` looks at the
        dotenv files): apps under pytest, which never show it, never look.
        """
        if self.settings.env_explicit:
            return None
        if self._development_hint is None:
            # Two threads may both work it out: the same text, no lock needed.
            self._development_hint = development_hint()
        return self._development_hint

    # -- refusing --------------------------------------------------------------

    def refuse(self, findings: list[Finding], reason: str) -> NoReturn:
        """Emit ``prodguard.startup.refused`` and raise :exc:`UnsafeDeploymentError`.

        The message lists each finding with its fix, the gunicorn and waitress
        commands when the development server or the debugger is involved, and
        the development hint when nobody set ``PRODGUARD_ENV``.

        :param findings: What caused the refusal; at least one.
        :param reason: What is refused, as a verb phrase completing "refused
            to ...": ``"start"``, ``"run the development server"``.
        :raises UnsafeDeploymentError: Always.
        """
        names = [f.check_id for f in findings]
        self.emitter.emit(
            catalogue.STARTUP_REFUSED,
            findings=names,
            reason=reason,
            action="refused",
        )
        lines = [
            f"Flask-ProdGuard refused to {reason} for app {self.app_name!r}"
            f" (PRODGUARD_ENV={self.settings.env}, from"
            f" {self.settings.sources['PRODGUARD_ENV']};"
            f" PRODGUARD_STRICTNESS={self.settings.strictness}):",
        ]
        lines += [f"  - {f.description}\n    fix: {f.hint}" for f in findings]
        if any(f.condition in _NEEDS_A_REAL_SERVER for f in findings):
            # Not for a weak secret or a config flag: there the fix says it all.
            lines.append(
                "Serve the app with a production WSGI server, never the development"
                " server or its debugger, for example:"
            )
            lines.append(self._server_commands)
        hint = self.developer_hint()
        if hint:
            lines.append(hint)
        raise UnsafeDeploymentError("\n".join(lines), findings=names)

    def refuse_debugger(self, where: str = "around the app") -> NoReturn:
        """Refuse to construct a ``DebuggedApplication`` in a process where this
        app's guard is the strictest one.

        :param where: Where the debugger would sit, completing "constructed
            ...", for the message.
        :raises UnsafeDeploymentError: Always.
        """
        self.refuse([debugger_construction_finding(where)], "start the Werkzeug debugger")

    # -- acting on findings ----------------------------------------------------

    def handle(self, app: Flask, finding: Finding, action: Action | None = None) -> None:
        """Act on one finding: fix what the action says to fix, emit its event.

        :param app: The app the finding is about; a fix changes it (``app.debug``,
            ``app.config``).
        :param finding: A start-up or late finding.
        :param action: Overrides what the policy says for the finding's
            condition; the late checks use it to downgrade a refusal that comes
            too late to refuse.
        :raises UnsafeDeploymentError: The action is :attr:`Action.REFUSE`.
        """
        if action is None:
            action = self.action(finding.condition)
        if action is Action.IGNORE:
            return
        if action is Action.REFUSE:
            self.refuse([finding], "start")
        fixed = action is Action.FIX
        outcome = "fixed" if fixed else "reported"
        condition = finding.condition
        if condition is Condition.DEBUG_MODE:
            if fixed:
                app.debug = False
                # So that `flask run --debug` (which reads FLASK_DEBUG after
                # loading the app) starts neither the debugger nor the reloader.
                os.environ["FLASK_DEBUG"] = "0"
            self.emitter.emit(
                catalogue.DEBUG_BLOCKED if fixed else catalogue.DEBUG_DETECTED,
                sources=list(finding.detail["sources"]),
                action=outcome,
                hint=self.developer_hint(),
            )
        elif condition is Condition.UNSAFE_FLAG:
            flags = dict(finding.detail["flags"])
            if fixed:
                for key in flags:
                    app.config[key] = detect.UNSAFE_FLAGS[key]
            self.emitter.emit(catalogue.CONFIG_UNSAFE, flags=flags, action=outcome)
        elif condition is Condition.DEBUG_PIN:
            self.emitter.emit(
                catalogue.DEBUGGER_PIN, setting=finding.detail["setting"], action=outcome
            )
        elif condition is Condition.DEBUGGER:
            debugger = finding.detail["debugger"]
            if debugger is not None:
                if debugger.__dict__.get("_prodguard_reported"):
                    return  # the hook reported it when it was constructed
                debugger.__dict__["_prodguard_reported"] = True
            where = finding.detail.get("where") or "inside the WSGI chain of the app"
            # The strictest acting guard of the process decides what happens to
            # the debugger, which may not be this app's (not registered yet at
            # init_app: hence finder=self).
            decider = deciding_guard(debugger.app if debugger is not None else app, self)
            self.report_debugger(
                where=f"{where} {app.name!r}",
                evalex=bool(getattr(debugger, "evalex", True)),
                decider=decider or self,
                live=bool(finding.detail.get("live")),
            )
        elif condition is Condition.DEV_SERVER:
            self.report_dev_server(list(finding.detail["signals"]))
        else:
            self.report_check(finding, outcome)

    def report_check(self, finding: Finding, action: str) -> None:
        """Emit ``prodguard.check.failed`` for one finding.

        :param action: The event's ``action`` field: ``"reported"`` or
            ``"fixed"``.
        """
        self.emitter.emit(
            catalogue.CHECK_FAILED,
            check_id=finding.check_id,
            severity=str(finding.severity),
            finding=finding.message,
            hint=finding.hint,
            source=finding.source,
            action=action,
        )

    def report_debugger(
        self, *, where: str, evalex: bool, decider: GuardState, live: bool = False
    ) -> None:
        """Report a debugger in this app's process, once per ``where``.

        The event says the debugger was neutralised when the deciding guard
        neutralises it and it was not seen ``live``, and that it was found
        otherwise.

        :param where: Where the debugger sits, for the event and the
            once-per-process memory.
        :param evalex: Whether the debugger was built with its interactive
            console (``evalex``).
        :param decider: The guard that decides about it, the strictest acting
            one in the process (see
            :func:`~flask_prodguard.wsgi.debugger.deciding_guard`); its app is
            named in the event's ``decided_by``.
        :param live: The debugger was seen serving the first request with its
            console on (the late checks found its key in the environ): too late
            to neutralise, it is reported.
        """
        if not self._first_time(f"debugger:{where}:{live}"):
            return
        fixed = not live and neutralises(decider)
        self.emitter.emit(
            catalogue.DEBUGGER_NEUTRALIZED if fixed else catalogue.DEBUGGER_DETECTED,
            where=where,
            action="fixed" if fixed else "reported",
            evalex=evalex,
            decided_by=decider.app_name,
        )

    def report_dev_server(self, signals: list[str]) -> None:
        """Report the development server, once per process.

        :param signals: What showed it (``"app.run()"``, a reloader variable,
            the request's ``SERVER_SOFTWARE``), for the event.
        """
        action = self.action(Condition.DEV_SERVER)
        if action is Action.IGNORE or not self._first_time("dev_server"):
            return
        self.emitter.emit(
            catalogue.DEVSERVER_DETECTED,
            signals=signals,
            action="refused" if action is Action.REFUSE else "reported",
            hint=self.developer_hint(),
        )

    def report_middleware_outside(self, middleware: list[str]) -> None:
        """Report middleware outside the guard's safety net, once per process.

        :param middleware: The qualified class names of the middleware wrapped
            around the guard, outermost first.
        """
        if self.action(Condition.MIDDLEWARE_OUTSIDE) is Action.IGNORE:
            return
        if not self._first_time("middleware_outside"):
            return
        self.emitter.emit(
            catalogue.MIDDLEWARE_OUTSIDE,
            middleware=middleware,
            action="reported",
            hint="Wrap app.wsgi_app before calling ProdGuard(app) (or guard.init_app(app))"
            " so the guard is outermost: exceptions in middleware outside it reach the"
            " server, which may print its own error page or drop the connection.",
        )

    # -- requests ----------------------------------------------------------------

    def classify_probe(
        self, environ: WSGIEnvironment, console_path: str = detect.DEFAULT_CONSOLE_PATH
    ) -> str | None:
        """Whether a request is aimed at the Werkzeug debugger, and how.

        :param environ: The request's WSGI environ (only ``QUERY_STRING`` and
            ``PATH_INFO`` are read).
        :param console_path: The debugger's console path (a
            ``DebuggedApplication`` may be built with another one).
        :return: ``"debugger_query"`` for a ``__debugger__`` query argument,
            ``"console"`` for the console path or a variant of it, ``None``
            for an ordinary request.
        """
        query = environ.get("QUERY_STRING")
        if query and detect.query_has_debugger_key(query):
            return "debugger_query"
        if detect.is_console_path(environ.get("PATH_INFO") or "", console_path):
            return "console"
        return None

    def report_probe(self, environ: WSGIEnvironment, probe: str) -> None:
        """Emit ``prodguard.debugger.probe`` for one request.

        :param environ: The request's WSGI environ, for the event's request
            fields.
        :param probe: What :meth:`classify_probe` returned for it.
        """
        blocked = self.action(Condition.DEBUGGER_PROBE) is Action.FIX
        self.emitter.emit(
            catalogue.DEBUGGER_PROBE,
            environ,
            probe=probe,
            action="blocked" if blocked else "reported",
        )

    def first_request(self, app: Flask, environ: WSGIEnvironment) -> None:
        """Late checks on the first request of the process (the first call wins;
        later calls return at once).

        The development server, a debugger wrapped from outside and config
        changed after ``init_app`` only become visible now. So does a
        ``werkzeug.debug`` reloaded or imported again since ``init_app``: its
        ``DebuggedApplication`` is a new class, which the hook patches now.

        :param app: The guarded app (not what wraps it).
        :param environ: The first request's WSGI environ.
        """
        with self._lock:
            if not self.first_request_pending:
                return
            self.first_request_pending = False
        # Once per guard, never on the happy path: werkzeug.debug may have been
        # reloaded or imported again since init_app, bringing a new class (a
        # live debugger among the late findings is one of them).
        recheck_debugger_hook()
        for finding in late_findings(app, environ, self.settings, hook_active()):
            action = self.action(finding.condition)
            if action is Action.REFUSE:
                # Too late to refuse to start: fail closed. Fix what can be
                # fixed; dev-server requests are answered with 503s, and so is
                # every request of a deployment strict would not have started.
                if finding.condition is Condition.CHECK_ERROR:
                    self.refuse_serving = True
                    self.emitter.emit(
                        catalogue.STARTUP_REFUSED,
                        findings=[finding.check_id],
                        reason="serve",
                        action="refused",
                    )
                action = (
                    Action.EVENT
                    if finding.condition in (Condition.DEV_SERVER, Condition.CHECK_ERROR)
                    else Action.FIX
                )
            self.handle(app, finding, action)


def process_stand_in(decision: ProcessDecision) -> GuardState:
    """A guard state for an internal app named after ``decision.label``.

    It emits the events and raises the refusals of the process environment's
    decision with the operator's logging settings; settings the apps would
    refuse fall back to the defaults, since the debugger must be neutralised
    anyway.
    """
    from flask import Flask

    try:
        settings = config.load_settings({}, {}, os.environ)
    except ConfigurationError:
        settings = config.Settings(
            env=Environment.PRODUCTION,
            strictness=decision.strictness,
            sources={key: "default" for key in config.KEYS},
        )
    settings = dataclasses.replace(
        settings,
        strictness=decision.strictness,
        sources={**settings.sources, config.STRICTNESS.name: decision.label},
    )
    # Named after the decision, so that events say who decided; given its
    # paths, so that Flask does not look for a module of that name.
    cwd = os.getcwd()
    app = Flask(
        decision.label,
        root_path=cwd,
        instance_path=os.path.join(cwd, "instance"),
        static_folder=None,
        template_folder=None,
    )
    try:
        configure_output(app.name, Output(settings.log_format, settings.log_destination))
    except OSError:
        pass  # the default destination, stderr; the apps' guards raise about it
    state = GuardState(app, settings)
    # No module holds this app: name the app's own instead in refusals.
    state._server_commands = (
        "    gunicorn --bind 127.0.0.1:8000 'yourapp:app'\n"
        "    waitress-serve --listen=127.0.0.1:8000 yourapp:app"
    )
    return state


def _decide_for_process() -> None:
    decision = decision_from_environment(os.environ)
    if decision is not None:
        decide_for_process(decision, process_stand_in)


# At import, before any app exists: see decide_for_process.
_decide_for_process()
