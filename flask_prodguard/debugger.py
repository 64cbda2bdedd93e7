"""Neutralising the Werkzeug interactive debugger.

The debugger wraps the app from outside (``app.run(debug=True)``,
``flask run --debug/--debugger``, ``run_simple(use_debugger=True)``), so it sees
``/console`` and ``?__debugger__=...`` requests before Flask does and no in-app
hook can stop them. This module holds the one process-wide hook the extension
installs, and it is deliberately narrow:

- it replaces only ``werkzeug.debug.DebuggedApplication.__init__`` and
  ``__call__``, and nothing else;
- it acts only for a debugger that wraps a guarded app whose strictness is
  above ``off`` (or, when the wrapped app cannot be found, while such an app
  exists in the process); any other debugger behaves exactly as usual;
- :func:`restore_debugger` puts the originals back (tests use it).

What it does follows the policy: at ``report`` the debugger keeps working and
its use is reported; at ``enforce`` it passes every request straight to the
app, so debugger requests get the app's own 404; at ``strict`` constructing it
raises :exc:`~flask_prodguard.UnsafeDeploymentError`.
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any

from . import detect
from .policy import Action
from .policy import Condition

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

    from .state import GuardState

# Guarded apps that want the hook, weakly: the hook switches itself off when
# the last of them is garbage collected.
_guarded_apps: weakref.WeakSet[Flask] = weakref.WeakSet()
_originals: dict[str, Callable[..., Any]] = {}
_lock = threading.Lock()


def _state_of(app: Flask) -> GuardState | None:
    state = app.extensions.get("prodguard")
    return state if state is not None and hasattr(state, "action") else None


def _state_for(wrapped: object) -> GuardState | None:
    """The guard state for the app a debugger wraps, or the strictest one alive."""
    app = detect.find_guarded_app(wrapped)
    if app is not None:
        state = _state_of(app)
        if state is not None and state.action(Condition.DEBUGGER) is not Action.IGNORE:
            return state
        return None
    strongest: GuardState | None = None
    ranking = [Action.EVENT, Action.FIX, Action.REFUSE]
    for other in list(_guarded_apps):
        state = _state_of(other)
        if state is None:
            continue
        action = state.action(Condition.DEBUGGER)
        if action in ranking and (
            strongest is None
            or ranking.index(action) > ranking.index(strongest.action(Condition.DEBUGGER))
        ):
            strongest = state
    return strongest


def _where(wrapped: object) -> str:
    from flask import Flask

    if isinstance(wrapped, Flask):
        return "around the app (app.run, flask run or run_simple with the debugger)"
    return "inside the app's WSGI chain"


def _guarded_init(self: Any, app: Any, *args: Any, **kwargs: Any) -> None:
    original = _originals["__init__"]
    state = _state_for(app) if _guarded_apps else None
    if state is None:
        original(self, app, *args, **kwargs)
        return
    action = state.action(Condition.DEBUGGER)
    if action is Action.REFUSE:
        state.refuse_debugger()  # raises UnsafeDeploymentError
    if action is Action.FIX:
        # Belt and braces: even if the hook were removed later, this instance
        # could not execute code nor print a PIN.
        bound = inspect.signature(original).bind(self, app, *args, **kwargs)
        bound.arguments["evalex"] = False
        bound.arguments["pin_logging"] = False
        original(*bound.args, **bound.kwargs)
    else:
        original(self, app, *args, **kwargs)
    self.__dict__["_prodguard_reported"] = True
    state.report_debugger(where=_where(app), evalex=bool(self.evalex))


def _guarded_call(
    self: Any, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    original = _originals["__call__"]
    state = _state_for(self.app) if _guarded_apps else None
    if state is None:
        return original(self, environ, start_response)  # type: ignore[no-any-return]
    if not self.__dict__.get("_prodguard_reported"):
        self.__dict__["_prodguard_reported"] = True
        state.report_debugger(where=_where(self.app), evalex=bool(self.evalex))
    if state.action(Condition.DEBUGGER) in (Action.FIX, Action.REFUSE):
        # Transparent: no console, no resources, no traceback pages. The app's
        # guard middleware answers debugger requests with the app's own 404.
        return self.app(environ, start_response)  # type: ignore[no-any-return]
    probe = state.classify_probe(environ, self.console_path)
    if probe is not None:
        state.report_probe(environ, probe)
    return original(self, environ, start_response)  # type: ignore[no-any-return]


def install_debugger_hook(app: Flask) -> None:
    """Register a guarded app with the hook and install the hook if needed."""
    from werkzeug.debug import DebuggedApplication

    with _lock:
        _guarded_apps.add(app)
        if not _originals:
            _originals["__init__"] = DebuggedApplication.__init__
            _originals["__call__"] = DebuggedApplication.__call__
            DebuggedApplication.__init__ = _guarded_init  # type: ignore[method-assign]
            DebuggedApplication.__call__ = _guarded_call  # type: ignore[method-assign]


def debugger_hook_installed() -> bool:
    """Whether ``DebuggedApplication`` is currently patched by the guard."""
    return bool(_originals)


def restore_debugger() -> None:
    """Remove the hook: ``DebuggedApplication`` behaves as shipped again.

    Guarded apps registered so far are forgotten; a later ``init_app``
    installs the hook again.
    """
    from werkzeug.debug import DebuggedApplication

    with _lock:
        _guarded_apps.clear()
        if _originals:
            DebuggedApplication.__init__ = _originals.pop("__init__")  # type: ignore[method-assign]
            DebuggedApplication.__call__ = _originals.pop("__call__")  # type: ignore[method-assign]
