"""The :class:`ProdGuard` extension: settings, checks, enforcement, hooks."""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click
from flask import request

from . import config
from . import detect
from .checks import Finding
from .checks import app_run_findings
from .checks import development_on_server
from .checks import merge_findings
from .checks import startup_findings
from .detect import flag_is_on
from .events import catalogue
from .events.output import Output
from .events.output import configure_output
from .exceptions import AlreadyRegisteredError
from .exceptions import ConfigurationError
from .policy import Action
from .policy import Condition
from .policy import Environment
from .policy import Strictness
from .state import GuardState
from .wsgi.debugger import install_debugger_hook
from .wsgi.errors import SafetyNet
from .wsgi.errors import install_error_handling
from .wsgi.middleware import GuardMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from flask import Flask


# Set by ``flask prodguard check``: apps loaded for inspection are guarded in
# name only, so the checks see their configuration exactly as written.
_inspecting: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "prodguard_inspecting", default=False
)


def _running_flask_run() -> bool:
    """Whether the app is being loaded by the ``flask run`` command."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.command.name != "run" or ctx.parent is None:
        return False
    from flask.cli import FlaskGroup

    return isinstance(ctx.parent.command, FlaskGroup)


class ProdGuard:
    """Make a Flask app safe to run in production.

    At :meth:`init_app` the guard reads its ``PRODGUARD_*`` settings once,
    runs the start-up checks (debug mode, the Werkzeug debugger and its PIN,
    the development server, unsafe config flags, the secret key, known
    vulnerable versions, ...) and acts on each finding as the strictness says:
    ``report`` emits a security event, ``enforce`` also neutralises what it can
    (debug mode forced off, the debugger made transparent), ``strict`` refuses
    to start. While the app serves, errors get a generic page or
    ``application/problem+json`` body with an error id, debugger probes get a
    404, and every one of these is a redacted security event on the
    ``flask_prodguard.security`` logger.

    The state of each guarded app lives in ``app.extensions["prodguard"]``,
    never on this object, so one ``ProdGuard`` can guard the apps of an app
    factory.

    :param app: The app to guard now. Leave it out and call :meth:`init_app`
        later, in an app factory.
    :param on_alert: A callable, or an iterable of callables, run for every
        event at or above ``PRODGUARD_ALERT_LEVEL`` (default ``error``) with
        the event as a dictionary. They run on a background thread, so a slow
        or failing hook never delays or breaks a request.
    :param overrides: Settings that take precedence over ``app.config``, named
        after the ``PRODGUARD_*`` keys without the prefix, in lower case
        (``env="staging"``, ``strictness="strict"``). The ``PRODGUARD_ENV``,
        ``PRODGUARD_STRICTNESS``, ``PRODGUARD_LOG_DESTINATION`` and
        ``PRODGUARD_TRUSTED_PROXIES`` environment variables still win.
    :raises ConfigurationError: An argument is not a known setting, before any
        app is involved. Given ``app``, whatever :meth:`init_app` raises.

    .. code-block:: python

        from flask import Flask
        from flask_prodguard import ProdGuard

        app = Flask(__name__)
        ProdGuard(app)

    With an app factory, and a hook that pages someone:

    .. code-block:: python

        guard = ProdGuard(strictness="strict", on_alert=page_on_call)

        def create_app():
            app = Flask(__name__)
            guard.init_app(app)
            return app

    .. versionadded:: 0.1
    """

    def __init__(
        self,
        app: Flask | None = None,
        *,
        on_alert: Callable[..., object] | Iterable[Callable[..., object]] | None = None,
        **overrides: object,
    ) -> None:
        config.check_unknown_arguments(overrides)
        self._overrides = dict(overrides)
        if on_alert is None:
            hooks: tuple[Callable[..., object], ...] = ()
        elif callable(on_alert):
            hooks = (on_alert,)
        else:
            hooks = tuple(on_alert)
        #: Callables run (off the request thread) for events at or above
        #: ``PRODGUARD_ALERT_LEVEL``; each gets the event as a dictionary.
        self.alert_hooks = hooks
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Guard ``app``: read its settings, run the checks, act on them, and
        install the guard's request path.

        Settings are read once, here, from the arguments given to
        :class:`ProdGuard`, ``app.config`` and the process environment, and
        validated; nothing reads them again per request. The keys read are
        ``PRODGUARD_ENV``, ``PRODGUARD_STRICTNESS``, ``PRODGUARD_LOG_FORMAT``,
        ``PRODGUARD_LOG_DESTINATION``, ``PRODGUARD_REQUEST_ID_HEADER``,
        ``PRODGUARD_REQUEST_ID_RESPONSE_HEADER``, ``PRODGUARD_REDACT_KEYS``,
        ``PRODGUARD_REDACT_PATTERNS``, ``PRODGUARD_RATE_LIMIT_BURST``,
        ``PRODGUARD_RATE_LIMIT_WINDOW``, ``PRODGUARD_REPLACE_EXCEPTION_LOG``,
        ``PRODGUARD_JSON_PATH_PREFIXES``, ``PRODGUARD_HTTP_DESCRIPTIONS``,
        ``PRODGUARD_ERROR_TEMPLATE``, ``PRODGUARD_ERROR_ID_HEADER``,
        ``PRODGUARD_SILENCED_CHECKS``, ``PRODGUARD_TRUSTED_PROXIES`` and
        ``PRODGUARD_ALERT_LEVEL`` (see :doc:`configuration`). The checks also
        read Flask's own keys: ``DEBUG``, ``TESTING``,
        ``PROPAGATE_EXCEPTIONS``, ``TRAP_HTTP_EXCEPTIONS``,
        ``TRAP_BAD_REQUEST_ERRORS``, ``EXPLAIN_TEMPLATE_LOADING`` and
        ``TEMPLATES_AUTO_RELOAD`` (set to their safe values under
        ``enforce``), ``SECRET_KEY``, the ``SESSION_COOKIE_*`` flags and
        ``MAX_CONTENT_LENGTH`` (see :doc:`checks`).

        Then ``app.wsgi_app`` is wrapped by the guard's middleware (behind one
        ``ProxyFix`` when ``PRODGUARD_TRUSTED_PROXIES`` is set), an
        ``HTTPException`` handler is registered unless the app registered its
        own, ``app.run`` is wrapped so that the development server is a
        finding too, and one ``prodguard.startup.posture`` event is emitted.
        With strictness ``off`` none of this is installed (a development app
        found served by gunicorn or waitress is still reported, once).

        :param app: The app to guard. Wrap ``app.wsgi_app`` with your own
            middleware before this call, so that the guard stays outermost.
        :raises AlreadyRegisteredError: The app is already guarded: call
            ``init_app`` once per app.
        :raises ConfigurationError: A ``PRODGUARD_*`` key or environment
            variable is unknown, or a value is bad; the message names the key,
            the value and the closest valid choice.
        :raises UnsafeDeploymentError: Strictness is ``strict`` and the app or
            its process is unsafe (debug mode, the debugger, a weak secret key,
            ...); the message says how to fix each finding.

        .. code-block:: python

            guard = ProdGuard()

            def create_app():
                app = Flask(__name__)
                app.config["PRODGUARD_SILENCED_CHECKS"] = ["PG308"]
                guard.init_app(app)
                return app

        .. versionadded:: 0.1
        """
        if "prodguard" in app.extensions:
            raise AlreadyRegisteredError(
                f"Flask-ProdGuard is already registered on app {app.name!r}. Call"
                " ProdGuard(app) or guard.init_app(app) once per app; to change"
                " settings, create the app again."
            )
        settings = config.load_settings(app.config, self._overrides, os.environ)
        try:
            configure_output(app.name, Output(settings.log_format, settings.log_destination))
        except OSError as error:
            raise ConfigurationError(
                f"PRODGUARD_LOG_DESTINATION = {settings.log_destination!r} cannot be"
                f" opened for writing: {error}. Give a writable file path, 'stderr'"
                " or 'stdout'.",
                key="PRODGUARD_LOG_DESTINATION",
                value=settings.log_destination,
            ) from None
        state = GuardState(app, settings, self.alert_hooks)
        if settings.strictness is Strictness.OFF or _inspecting.get():
            app.extensions["prodguard"] = state
            if not _inspecting.get():
                _report_development_on_server(app, state, settings)
            return

        flask_run = _running_flask_run()
        findings = startup_findings(app, os.environ, flask_run, settings)
        refused = [f for f in findings if state.action(f.condition) is Action.REFUSE]
        if refused:
            state.refuse(refused, "start")
        for finding in findings:
            state.handle(app, finding)
        state.startup_findings = findings

        app.extensions["prodguard"] = state
        pages = install_error_handling(app, state)
        guarded: WSGIApplication = GuardMiddleware(
            app, app.wsgi_app, state, SafetyNet(state, pages)
        )
        hops = settings.trusted_proxies
        if hops:
            # In front of the guard, so its events see the real client.
            from werkzeug.middleware.proxy_fix import ProxyFix

            guarded = ProxyFix(
                guarded, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
            )
        app.wsgi_app = guarded  # type: ignore[method-assign, assignment]
        install_debugger_hook(app)
        _guard_run(app, state)
        state.emitter.emit(
            catalogue.STARTUP_POSTURE,
            env_source=settings.sources["PRODGUARD_ENV"],
            strictness_source=settings.sources["PRODGUARD_STRICTNESS"],
            findings=[f.check_id for f in findings],
            hint=state.developer_hint(),
        )
        if flask_run:
            _tell_developer(state, findings)


def _report_development_on_server(
    app: Flask, state: GuardState, settings: config.Settings
) -> None:
    """Say so when a development app is served by gunicorn or waitress.

    ``PRODGUARD_ENV=development`` shipped by mistake would otherwise switch the
    guard off without a word (development defaults to strictness ``off``).
    Only when nobody chose ``off`` explicitly, only this one event, and only on
    evidence that the server runs: gunicorn's arbiter sets ``SERVER_SOFTWARE``
    in the process environment; waitress names itself in the first request.
    A module that merely imports either of them (for a ``__main__`` block, or
    a test suite) is not evidence.
    """
    if settings.env is not Environment.DEVELOPMENT:
        return
    if not settings.sources["PRODGUARD_STRICTNESS"].startswith("default"):
        return

    def report(server: str) -> None:
        finding = development_on_server(server, settings.sources["PRODGUARD_ENV"])
        state.report_check(finding, "reported")

    server = detect.production_server(os.environ)
    if server is not None:
        report(server)
        return
    checked = False

    def check_first_request() -> None:
        # A development app only: one flag test per request after the first.
        nonlocal checked
        if checked:
            return
        checked = True
        server = detect.production_server(request.environ)
        if server is not None:
            report(server)

    app.before_request(check_first_request)


def _tell_developer(state: GuardState, findings: list[Finding]) -> None:
    """When the development server starts (``flask run``, ``app.run()``) and
    nobody said where the app runs, say in plain words what the guard found
    and how to opt out.

    Both ways of starting the server print this, with the same words for the
    same findings: only the sources differ (``FLASK_DEBUG``, ``app.run(debug=True)``).

    :param state: The app's guard; its hint is the opt-out.
    :param findings: Everything found, at start-up and by the server's start.
    """
    hint = state.developer_hint()
    if hint is None or not findings:
        return
    described = "; ".join(f.description for f in findings)
    click.secho(
        f" * Flask-ProdGuard: treating this as production ({described}).\n * {hint}",
        err=True,
        fg="yellow",
    )


def _debug_requested(app: Flask, debug: bool | None, options: dict[str, object]) -> str | None:
    """What asks ``app.run()`` for debug mode or the debugger, as a finding's
    source; ``None`` when nothing does."""
    if debug:
        return "app.run(debug=True)"
    if debug is None:
        if app.debug:
            return "app.debug"
        if flag_is_on(os.environ.get("FLASK_DEBUG")):
            return "environment variable FLASK_DEBUG"
    # The debugger without debug mode: the same danger, code run in the process.
    if options.get("use_debugger"):
        return "app.run(use_debugger=True)"
    return None


def _guard_run(app: Flask, state: GuardState) -> None:
    """Wrap this app's ``run`` method: the development server is a finding too."""
    original: Callable[..., None] = app.run

    @functools.wraps(original)
    def run(
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: object,
    ) -> None:
        if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
            # Flask ignores app.run() under the flask command; so do we.
            return original(host, port, debug, load_dotenv, **options)
        # Debug mode or the debugger: either is a PG101 request.
        debugging = _debug_requested(app, debug, options)
        findings = app_run_findings(debugging)
        dev_action = state.action(Condition.DEV_SERVER)
        if dev_action is Action.REFUSE or (
            debugging and state.action(Condition.DEBUG_MODE) is Action.REFUSE
        ):
            state.refuse(findings, "run the development server")
        if debugging:
            [debug_mode] = [f for f in findings if f.condition is Condition.DEBUG_MODE]
            state.handle(app, debug_mode)
        if state.action(Condition.DEBUG_MODE) is Action.FIX:
            debug = False
            options["use_debugger"] = False
            options.setdefault("use_reloader", False)
        state.report_dev_server(["app.run()"])
        silenced = state.settings.silenced_checks
        _tell_developer(
            state,
            merge_findings(
                state.startup_findings, [f for f in findings if f.check_id not in silenced]
            ),
        )
        return original(host, port, debug, load_dotenv, **options)

    app.run = run  # type: ignore[method-assign]
