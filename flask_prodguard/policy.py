"""Environments, strictness levels, and the table that maps them to actions.

The guard's behaviour is data: :data:`POLICY` says, for each condition the guard
can find and each strictness level, what it does. Code asks :func:`action_for`
and never branches on the strictness level itself.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Environment(enum.StrEnum):
    """Where the app runs: the ``PRODGUARD_ENV`` setting.

    The environment chooses the default :class:`Strictness` and labels every
    event. The default is ``production``, ``testing`` under pytest (the bundled
    plugin): a guard that had to be told it is in production would fail open
    wherever somebody forgot. Members are strings, so they compare equal to
    the values in configuration and events.

    .. code-block:: python

        from flask_prodguard import Environment

        assert Environment("staging").production_like
        assert Environment.DEVELOPMENT == "development"

    .. versionadded:: 0.1
    """

    #: The app serves real users. Default strictness ``enforce``.
    PRODUCTION = "production"
    #: A production-like copy, treated like production. Default ``enforce``.
    STAGING = "staging"
    #: A developer's machine. Default strictness ``off``.
    DEVELOPMENT = "development"
    #: A test suite; the default under pytest. Default strictness ``off``.
    TESTING = "testing"

    @property
    def production_like(self) -> bool:
        """Whether this environment must be treated as production
        (``production`` and ``staging``)."""
        return self in (Environment.PRODUCTION, Environment.STAGING)


class Strictness(enum.StrEnum):
    """What the guard does about an unsafe condition: the ``PRODGUARD_STRICTNESS``
    setting.

    With the policy table, the strictness decides the action for each
    condition the guard finds; each level does at least what the one before
    it does. Unset, it follows the :class:`Environment`: ``enforce`` in
    production and staging, ``off`` in development and testing. Members are
    strings, so they compare equal to the values in configuration and events.

    .. code-block:: python

        from flask_prodguard import ProdGuard, Strictness

        ProdGuard(app, strictness=Strictness.STRICT)

    .. versionadded:: 0.1
    """

    #: Nothing at run time; the CLI still works.
    OFF = "off"
    #: Detect and emit events; change nothing.
    REPORT = "report"
    #: Neutralise what can be neutralised, emit events, keep serving.
    ENFORCE = "enforce"
    #: Refuse to start on any error-level finding; everything ``enforce`` does.
    STRICT = "strict"


class Condition(enum.StrEnum):
    """An unsafe condition the guard can find."""

    #: ``app.debug``, ``DEBUG`` or ``FLASK_DEBUG`` on.
    DEBUG_MODE = "debug_mode"
    #: A Werkzeug ``DebuggedApplication`` wraps the app.
    DEBUGGER = "debugger"
    #: ``WERKZEUG_DEBUG_PIN`` is set (``off`` disables the PIN altogether).
    DEBUG_PIN = "debug_pin"
    #: The Werkzeug development server (or its reloader) serves the app.
    DEV_SERVER = "dev_server"
    #: ``TESTING``, ``PROPAGATE_EXCEPTIONS`` and similar flags are on.
    UNSAFE_FLAG = "unsafe_flag"
    #: A request aimed at the Werkzeug debugger (scanner or attacker).
    DEBUGGER_PROBE = "debugger_probe"
    #: An error response: an unhandled exception, an HTTP error, an exception
    #: that escaped Flask, a stream that failed.
    ERROR_RESPONSE = "error_response"
    #: A 5xx body the app built (its error handler, its view) that carries the
    #: handled exception's message or repr, a traceback or a source location.
    LEAKY_ERROR_PAGE = "leaky_error_page"
    #: Middleware wrapped around the app after the guard (outside its net).
    MIDDLEWARE_OUTSIDE = "middleware_outside"
    #: A deployment check found an error-level problem (weak secret, advisory).
    CHECK_ERROR = "check_error"
    #: A deployment check found a warning-level problem.
    CHECK_WARNING = "check_warning"


class Action(enum.StrEnum):
    """What the guard does about a condition."""

    #: Nothing.
    IGNORE = "ignore"
    #: Emit a security event, change nothing.
    EVENT = "event"
    #: Neutralise the condition (force safe values, block), and emit an event.
    FIX = "fix"
    #: Refuse to start (or to serve), and emit an event.
    REFUSE = "refuse"


_OFF, _REPORT, _ENFORCE, _STRICT = (
    Strictness.OFF,
    Strictness.REPORT,
    Strictness.ENFORCE,
    Strictness.STRICT,
)
_I, _E, _F, _R = Action.IGNORE, Action.EVENT, Action.FIX, Action.REFUSE


def _row(
    condition: Condition, off: Action, report: Action, enforce: Action, strict: Action
) -> dict[tuple[Condition, Strictness], Action]:
    return {
        (condition, _OFF): off,
        (condition, _REPORT): report,
        (condition, _ENFORCE): enforce,
        (condition, _STRICT): strict,
    }


#: (condition, strictness) -> action. The single place that decides behaviour.
POLICY: Mapping[tuple[Condition, Strictness], Action] = {
    **_row(Condition.DEBUG_MODE, _I, _E, _F, _R),
    **_row(Condition.DEBUGGER, _I, _E, _F, _R),
    **_row(Condition.DEBUG_PIN, _I, _E, _E, _R),
    **_row(Condition.DEV_SERVER, _I, _E, _E, _R),
    **_row(Condition.UNSAFE_FLAG, _I, _E, _F, _R),
    # A probe cannot be refused at start-up; strict blocks it like enforce.
    **_row(Condition.DEBUGGER_PROBE, _I, _E, _F, _F),
    # Error responses cannot be refused either: strict serves the generic page.
    **_row(Condition.ERROR_RESPONSE, _I, _E, _F, _F),
    # The app's own error handlers win, except over a leak: enforce and strict
    # replace such a page with the generic one (there is nothing to refuse).
    **_row(Condition.LEAKY_ERROR_PAGE, _I, _E, _F, _F),
    **_row(Condition.MIDDLEWARE_OUTSIDE, _I, _E, _E, _E),
    # Deployment checks: strict refuses error-level findings only.
    **_row(Condition.CHECK_ERROR, _I, _E, _E, _R),
    **_row(Condition.CHECK_WARNING, _I, _E, _E, _E),
}

#: Strictness used when none is configured, by environment.
DEFAULT_STRICTNESS: Mapping[Environment, Strictness] = {
    Environment.PRODUCTION: Strictness.ENFORCE,
    Environment.STAGING: Strictness.ENFORCE,
    Environment.DEVELOPMENT: Strictness.OFF,
    Environment.TESTING: Strictness.OFF,
}


def action_for(condition: Condition, strictness: Strictness) -> Action:
    """Return what the guard does about ``condition`` at ``strictness``."""
    return POLICY[condition, strictness]
