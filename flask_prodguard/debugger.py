"""Neutralising the Werkzeug interactive debugger.

The debugger wraps the app from outside (``app.run(debug=True)``,
``flask run --debug/--debugger``, ``run_simple(use_debugger=True)``), so it sees
``/console`` and ``?__debugger__=...`` requests before Flask does and no in-app
hook can stop them. This module holds the one process-wide hook the extension
installs, and it is deliberately narrow:

- it replaces only methods of ``werkzeug.debug.DebuggedApplication``: its
  constructor, ``__call__``, and the entry points that serve or run something
  (``debug_application``, ``display_console``, ``execute_command``,
  ``get_resource``, ``pin_auth``, ``log_pin_request``), so that a subclass
  with its own ``__call__`` cannot reach them around the hook;
- it is installed by the first guard that acts (strictness ``report`` or
  above; an ``off`` guard neither acts nor registers), and does nothing once
  the last such app is garbage collected;
- :func:`restore_debugger` puts the originals back (tests use it).

The debugger runs code in the whole process, whichever app it wraps, so the
**strictest acting guard in the process** decides for every debugger, on every
path (``strict`` > ``enforce`` > ``report``), never the first guard found in
the WSGI chain: a ``DispatcherMiddleware`` that mounts an ``off`` or ``report``
app beside an ``enforce`` app gets no debugger anywhere. When that guard is
``report``, the debugger keeps working and its use is reported; at
``enforce`` it passes every request straight to what it wraps, so debugger
requests get the app's own answer (a guarded app's 404); at ``strict``
constructing it raises :exc:`~flask_prodguard.UnsafeDeploymentError`. A
debugger constructed before any guard existed is neutralised from its next
request on, since the methods are replaced on the class. The events say which
app's guard decided (``decided_by``) and where the debugger sits (``where``).
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any

from werkzeug.wrappers import Response

from . import detect
from .errors import PROBE_KEY
from .policy import Action
from .policy import Condition

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask

    from .state import GuardState

#: How strongly each action acts on a debugger; the strictest guard decides.
_RANK = {Action.EVENT: 1, Action.FIX: 2, Action.REFUSE: 3}

# Apps whose guard acts, weakly and in the order they were guarded. A tuple
# replaced as a whole, so that readers (every request through a debugger)
# need no lock; dead references are pruned when an app is added.
_guarded_apps: tuple[weakref.ref[Flask], ...] = ()
_originals: dict[str, Callable[..., Any]] = {}
_lock = threading.Lock()

#: Request-environ key: a debugger that the hook reported (through the deciding
#: guard) runs this request, so the first-request check need not report it
#: again when it sees the debugger live.
HOOK_REPORTED_KEY = "prodguard.debugger_reported"

#: Methods of ``DebuggedApplication`` that answer a debugger request with a
#: ``Response`` (console, code, resources, PIN). Neutralised, they return a
#: response that, served, is the wrapped app's own answer.
_ANSWERING_METHODS = (
    "display_console",
    "execute_command",
    "get_resource",
    "pin_auth",
    "log_pin_request",
)


def _state_of(app: Flask) -> GuardState | None:
    state = app.extensions.get("prodguard")
    return state if state is not None and hasattr(state, "action") else None


def _rank(state: GuardState) -> int:
    return _RANK.get(state.action(Condition.DEBUGGER), 0)


def neutralises(state: GuardState) -> bool:
    """Whether ``state``'s guard, deciding, takes the debugger out of service."""
    return _rank(state) >= _RANK[Action.FIX]


def deciding_guard(
    wrapped: object = None, finder: GuardState | None = None
) -> GuardState | None:
    """The guard that decides what a debugger in this process does, or ``None``.

    It is the strictest acting guard of the process (``strict`` > ``enforce``
    > ``report``), whatever app the debugger wraps. ``finder`` is a guard that
    acts but may not be registered yet (``init_app`` reports a debugger found
    in its app's chain before it registers the app). Between guards that are
    equally strict, ``finder`` wins, then a guard of an app inside
    ``wrapped``, then the one guarded first, so that the event names the
    closest one.
    """
    states: list[GuardState] = []
    for ref in _guarded_apps:
        app = ref()
        state = _state_of(app) if app is not None else None
        if state is not None:
            states.append(state)
    if finder is not None and all(state is not finder for state in states):
        states.append(finder)
    top = max((_rank(state) for state in states), default=0)
    if top == 0:
        return None
    strictest = [state for state in states if _rank(state) == top]
    if len(strictest) > 1:
        if finder is not None and any(state is finder for state in strictest):
            return finder
        if wrapped is not None:
            from flask import Flask

            for item in detect.iter_wsgi_chain(wrapped):
                if isinstance(item, Flask):
                    inside = item.extensions.get("prodguard")
                    for state in strictest:
                        if state is inside:
                            return state
    return strictest[0]


def _describe(obj: object) -> str:
    bound_to = getattr(obj, "__self__", None)
    if bound_to is not None and not isinstance(bound_to, type):
        kind = type(bound_to)
        return f"{kind.__module__}.{kind.__qualname__}.{getattr(obj, '__name__', '?')}"
    if inspect.isfunction(obj):
        return f"{obj.__module__}.{obj.__qualname__}"
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def _where(wrapped: object) -> str:
    """Where a debugger around ``wrapped`` sits, for the event's ``where`` field."""
    from flask import Flask

    if isinstance(wrapped, Flask):
        return (
            f"around the app {wrapped.name!r}"
            " (app.run, flask run or run_simple with the debugger)"
        )
    names: list[str] = []
    for item in detect.iter_wsgi_chain(wrapped):
        if isinstance(item, Flask) and repr(item.name) not in names:
            names.append(repr(item.name))
    if not names:
        return f"around {_describe(wrapped)}, which holds no Flask app"
    return f"around {_describe(wrapped)}, which holds the app(s) {', '.join(names)}"


def _deciding(debugger: Any) -> GuardState | None:
    return deciding_guard(debugger.app) if _guarded_apps else None


def _note(debugger: Any, state: GuardState) -> None:
    """Report ``debugger`` once, through the guard that decides about it."""
    if not debugger.__dict__.get("_prodguard_reported"):
        debugger.__dict__["_prodguard_reported"] = True
        state.report_debugger(
            where=_where(debugger.app), evalex=bool(debugger.evalex), decider=state
        )


def _guarded_init(self: Any, app: Any, *args: Any, **kwargs: Any) -> None:
    original = _originals["__init__"]
    state = deciding_guard(app) if _guarded_apps else None
    if state is None:
        original(self, app, *args, **kwargs)
        return
    action = state.action(Condition.DEBUGGER)
    if action is Action.REFUSE:
        state.refuse_debugger(_where(app))  # raises UnsafeDeploymentError
    if action is Action.FIX:
        # Belt and braces: even if the hook were removed later, this instance
        # could not execute code nor print a PIN.
        bound = inspect.signature(original).bind(self, app, *args, **kwargs)
        bound.arguments["evalex"] = False
        bound.arguments["pin_logging"] = False
        original(*bound.args, **bound.kwargs)
    else:
        original(self, app, *args, **kwargs)
    _note(self, state)


def _guarded_call(
    self: Any, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    original = _originals["__call__"]
    state = _deciding(self)
    if state is None:
        return original(self, environ, start_response)  # type: ignore[no-any-return]
    _note(self, state)
    probe = state.classify_probe(environ, self.console_path or detect.DEFAULT_CONSOLE_PATH)
    if not neutralises(state):
        if probe is not None:
            state.report_probe(environ, probe)
        return original(self, environ, start_response)  # type: ignore[no-any-return]
    # Transparent: no console, no resources, no traceback pages. A guarded
    # app's middleware answers debugger requests with the app's own 404.
    if probe is None:
        return self.app(environ, start_response)  # type: ignore[no-any-return]
    # A probe that reaches no acting guard (an `off` app mounted beside the
    # deciding one, a plain WSGI app) is reported by the deciding guard, with
    # the request as the debugger saw it (a dispatcher rewrites the paths).
    seen = dict(environ)
    body: Iterable[bytes] = self.app(environ, start_response)
    if PROBE_KEY not in environ:
        state.report_probe(seen, probe)
    return body


def _guarded_debug_application(
    self: Any, environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    # The path of every ordinary request: it renders the traceback pages.
    state = _deciding(self)
    if state is not None:
        _note(self, state)
        if neutralises(state):
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        environ[HOOK_REPORTED_KEY] = True
    return _originals["debug_application"](self, environ, start_response)  # type: ignore[no-any-return]


class _PassThrough(Response):
    """What a neutralised debugger method returns instead of its answer.

    Served, it is the wrapped app's own answer to the request; read, it is an
    empty 404.
    """

    def __init__(self, app: WSGIApplication) -> None:
        super().__init__(status=404)
        self._wrapped_app = app

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        return self._wrapped_app(environ, start_response)


def _guarded_answer(name: str) -> Callable[..., Any]:
    def method(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        state = _deciding(self)
        if state is not None and neutralises(state):
            _note(self, state)
            return _PassThrough(self.app)
        return _originals[name](self, request, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"DebuggedApplication.{name}"
    method.__doc__ = f"``DebuggedApplication.{name}``, neutralised by Flask-ProdGuard."
    return method


def install_debugger_hook(app: Flask) -> None:
    """Register an app whose guard acts, and install the hook if needed."""
    global _guarded_apps
    from werkzeug.debug import DebuggedApplication

    with _lock:
        alive = tuple(ref for ref in _guarded_apps if ref() is not None)
        _guarded_apps = (*alive, weakref.ref(app))
        if not _originals:
            replacements: dict[str, Callable[..., Any]] = {
                "__init__": _guarded_init,
                "__call__": _guarded_call,
                "debug_application": _guarded_debug_application,
            }
            for name in _ANSWERING_METHODS:
                replacements[name] = _guarded_answer(name)
            for name, replacement in replacements.items():
                _originals[name] = vars(DebuggedApplication)[name]
                setattr(DebuggedApplication, name, replacement)


def debugger_hook_installed() -> bool:
    """Whether ``DebuggedApplication`` is currently patched by the guard."""
    return bool(_originals)


def restore_debugger() -> None:
    """Remove the hook: ``DebuggedApplication`` behaves as shipped again.

    Guarded apps registered so far are forgotten; a later ``init_app``
    installs the hook again.
    """
    global _guarded_apps
    from werkzeug.debug import DebuggedApplication

    with _lock:
        _guarded_apps = ()
        for name, original in _originals.items():
            setattr(DebuggedApplication, name, original)
        _originals.clear()
