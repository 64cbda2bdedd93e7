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
- it patches the class that ``sys.modules["werkzeug.debug"]`` holds, and
  looks again whenever a guard is set up and on each guard's first request, so
  that a reloaded or re-imported ``werkzeug.debug`` (a new, unpatched class)
  is patched too; the originals are kept per class;
- it is installed by the first guard that acts (strictness ``report`` or
  above; an ``off`` guard neither acts nor registers), and does nothing once
  the last such app is garbage collected, unless the process environment
  decides (below);
- :func:`restore_debugger` puts the originals back, and refuses to while a
  guard that neutralises the debugger is alive (tests pass ``force=True``).

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

**Before any app exists**, the process environment decides. Some debuggers
serve requests while no guarded app exists: ``flask run`` with the reloader
serves an app that failed to import (a broken deploy) under the debugger, in a
child process where no guard ever ran; apps created on demand by a dispatcher
exist only after their first request. So when this module is imported (the
``flask`` command imports the package through its ``flask.commands`` entry
point before it loads the app; an app module imports it at its top), the hook
is installed with a process-level guard when the environment says that every
guard in the process acts:

- ``PRODGUARD_ENV`` is ``production`` or ``staging`` and
  ``PRODGUARD_STRICTNESS`` is not ``off`` or ``report`` (``enforce``, or
  ``strict`` when ``PRODGUARD_STRICTNESS=strict``);
- ``PRODGUARD_STRICTNESS`` is ``enforce`` or ``strict`` (it sets every guard of
  the process to that level, whatever ``PRODGUARD_ENV`` says);
- :data:`~flask_prodguard.config.PARENT_STRICTNESS_VARIABLE` is set: a parent
  process had a guard that neutralises the debugger (below).

A value the guard does not know counts as production-like (the apps' guards
will refuse it anyway). Nothing happens when those variables are unset: the
default environment, ``production``, applies to apps, but a library does not
patch Werkzeug in every process that merely imports it. The process-level
guard ranks like an app's guard of that strictness (an app's ``report`` or
``off`` in code does not lower it); between equals, an app's guard decides.
Its events carry ``decided_by`` (and ``app``) ``"process environment
(PRODGUARD_ENV=production)"``; its state is made the first time a debugger
needs it, never at import.

A guard that neutralises the debugger (``enforce`` or ``strict``, whatever the
source of its settings) writes its strictness to
:data:`~flask_prodguard.config.PARENT_STRICTNESS_VARIABLE` in ``os.environ``
(as it writes ``FLASK_DEBUG=0``), so that a child process started afterwards,
the reloader's above all, fails closed from its start.
"""

from __future__ import annotations

import importlib
import inspect
import os
import threading
import weakref
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple

from werkzeug.wrappers import Response

from .. import detect
from ..config import PARENT_STRICTNESS_VARIABLE
from ..events import catalogue
from ..exceptions import UnsafeDeploymentError
from ..keys import CONSOLE_KEY
from ..keys import HOOK_REPORTED_KEY
from ..keys import PROBE_KEY
from ..policy import Action
from ..policy import Condition
from ..policy import Strictness

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment
    from flask import Flask
    from werkzeug.debug import DebuggedApplication
    from werkzeug.wrappers import Request

    from ..state import GuardState

#: How strongly each action acts on a debugger; the strictest guard decides.
_RANK = {Action.EVENT: 1, Action.FIX: 2, Action.REFUSE: 3}

#: What each acting strictness does to a debugger, for the process-level guard.
_ACTION_OF = {Strictness.ENFORCE: Action.FIX, Strictness.STRICT: Action.REFUSE}

# Apps whose guard acts, weakly and in the order they were guarded. A tuple
# replaced as a whole, so that readers (every request through a debugger)
# need no lock; dead references are pruned when an app is added.
_guarded_apps: tuple[weakref.ref[Flask], ...] = ()
# The shipped methods of every DebuggedApplication class the hook patched, by
# class: a reloaded werkzeug.debug brings a second class with its own. (Methods
# of different signatures in one table: Callable[..., Any].)
_originals: dict[type, dict[str, Callable[..., Any]]] = {}
_lock = threading.Lock()


class ProcessDecision(NamedTuple):
    """What the process environment decided about debuggers, at import.

    (A named tuple: a dataclass would cost the import a millisecond.)
    """

    #: ``enforce`` or ``strict``.
    strictness: Strictness
    #: Who decided, for ``decided_by``: ``process environment (NAME=value)``.
    label: str


# The process environment's decision (None: it leaves debuggers to the apps),
# and the stand-in guard state that acts on it, made when first needed.
_process_decision: ProcessDecision | None = None
_process_state: GuardState | None = None
#: Makes the state that acts for the process decision (see decide_for_process).
_stand_in: Callable[[ProcessDecision], GuardState] | None = None

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
_PATCHED_METHODS = ("__init__", "__call__", "debug_application", *_ANSWERING_METHODS)


def _state_of(app: Flask) -> GuardState | None:
    state = app.extensions.get("prodguard")
    return state if state is not None and hasattr(state, "action") else None


def _rank(state: GuardState) -> int:
    return _RANK.get(state.action(Condition.DEBUGGER), 0)


def neutralises(state: GuardState) -> bool:
    """Whether ``state``'s guard, deciding, takes the debugger out of service
    (``enforce`` or ``strict``; ``report`` leaves it working).

    :param state: A guard, usually what :func:`deciding_guard` returned.
    """
    return _rank(state) >= _RANK[Action.FIX]


def deciding_guard(
    wrapped: object = None, finder: GuardState | None = None
) -> GuardState | None:
    """The guard that decides what a debugger in this process does, or ``None``.

    It is the strictest acting guard of the process (``strict`` > ``enforce``
    > ``report``), whatever app the debugger wraps; the process environment's
    guard (see the module's documentation) counts as one. Between guards that
    are equally strict, ``finder`` wins, then a guard of an app inside
    ``wrapped``, then the one guarded first, then the process environment's,
    so that the event names the closest one. ``None``: no guard acts.

    :param wrapped: What the debugger wraps (its ``app``), searched for a
        guarded app to break a tie (``None``: no app breaks it).
    :param finder: A guard that acts but may not be registered yet
        (``init_app`` reports a debugger found in its app's chain before it
        registers the app).
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
    decision = _process_decision
    if decision is not None and _RANK[_ACTION_OF[decision.strictness]] > top:
        return _process_guard(decision)
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


def _deciding(debugger: DebuggedApplication) -> GuardState | None:
    if not _guarded_apps and _process_decision is None:
        return None
    return deciding_guard(debugger.app)


def _note(debugger: DebuggedApplication, state: GuardState) -> None:
    """Report ``debugger`` once, through the guard that decides about it."""
    if not debugger.__dict__.get("_prodguard_reported"):
        debugger.__dict__["_prodguard_reported"] = True
        state.report_debugger(
            where=_where(debugger.app), evalex=bool(debugger.evalex), decider=state
        )


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


def _replacements(originals: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """The hook's methods for one ``DebuggedApplication`` class, whose shipped
    methods are ``originals``."""

    def __init__(
        self: DebuggedApplication, app: WSGIApplication, *args: Any, **kwargs: Any
    ) -> None:
        original = originals["__init__"]
        state = deciding_guard(app) if _guarded_apps or _process_decision else None
        if state is None:
            original(self, app, *args, **kwargs)
            return
        action = state.action(Condition.DEBUGGER)
        if action is Action.REFUSE:
            state.refuse_debugger(_where(app))  # raises UnsafeDeploymentError
        if action is Action.FIX:
            # Belt and braces: even if the hook were removed later, this
            # instance could not execute code nor print a PIN.
            bound = inspect.signature(original).bind(self, app, *args, **kwargs)
            bound.arguments["evalex"] = False
            bound.arguments["pin_logging"] = False
            original(*bound.args, **bound.kwargs)
        else:
            original(self, app, *args, **kwargs)
        _note(self, state)

    def __call__(
        self: DebuggedApplication, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        original = originals["__call__"]
        state = _deciding(self)
        if state is None:
            return original(self, environ, start_response)  # type: ignore[no-any-return]
        _note(self, state)
        probe = state.classify_probe(environ, self.console_path or detect.DEFAULT_CONSOLE_PATH)
        if not neutralises(state):
            if probe is not None:
                environ[PROBE_KEY] = probe  # its 404 is not reported again as an error
                state.report_probe(environ, probe)
            return original(self, environ, start_response)  # type: ignore[no-any-return]
        # Transparent: no console, no resources, no traceback pages. A guarded
        # app's middleware answers debugger requests with the app's own 404.
        if probe is None:
            return self.app(environ, start_response)
        # A probe that reaches no acting guard (an `off` app mounted beside the
        # deciding one, a plain WSGI app) is reported by the deciding guard, with
        # the request as the debugger saw it (a dispatcher rewrites the paths).
        # A guarded app's middleware marks what it saw: a probe it reported, or
        # a console path it watched (its own /console route is no probe).
        seen = dict(environ)
        body: Iterable[bytes] = self.app(environ, start_response)
        if PROBE_KEY not in environ and CONSOLE_KEY not in environ:
            state.report_probe(seen, probe)
        return body

    def debug_application(
        self: DebuggedApplication, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        # The path of every ordinary request: it renders the traceback pages.
        state = _deciding(self)
        if state is not None:
            _note(self, state)
            if neutralises(state):
                return self.app(environ, start_response)
            environ[HOOK_REPORTED_KEY] = True
        return originals["debug_application"](self, environ, start_response)  # type: ignore[no-any-return]

    def answering(name: str) -> Callable[..., Response]:
        def method(
            self: DebuggedApplication, request: Request, *args: Any, **kwargs: Any
        ) -> Response:
            state = _deciding(self)
            if state is not None and neutralises(state):
                _note(self, state)
                return _PassThrough(self.app)
            return originals[name](self, request, *args, **kwargs)  # type: ignore[no-any-return]

        method.__doc__ = f"``DebuggedApplication.{name}``, neutralised by Flask-ProdGuard."
        return method

    methods: dict[str, Callable[..., Any]] = {
        "__init__": __init__,
        "__call__": __call__,
        "debug_application": debug_application,
    }
    for name in _ANSWERING_METHODS:
        methods[name] = answering(name)
    for name, method in methods.items():
        method.__name__ = name
        method.__qualname__ = f"DebuggedApplication.{name}"
    return methods


def _current_class() -> type:
    """``DebuggedApplication`` as ``werkzeug.debug`` holds it now (what
    ``run_simple`` and the ``flask`` command import when they need it)."""
    module = importlib.import_module("werkzeug.debug")
    return module.DebuggedApplication  # type: ignore[no-any-return]


def _patch_current_class() -> bool:
    """Patch the current ``DebuggedApplication`` class unless done; the caller
    holds ``_lock``. Returns whether a class was patched now."""
    cls = _current_class()
    if cls in _originals:
        return False
    shipped = vars(cls)
    originals = {name: shipped[name] for name in _PATCHED_METHODS}
    for name, method in _replacements(originals).items():
        setattr(cls, name, method)
    _originals[cls] = originals
    return True


def install_debugger_hook(app: Flask) -> None:
    """Register an app whose guard acts, and install the hook if needed.

    The hook goes on the class ``werkzeug.debug`` holds now, even if an
    earlier one was patched already (the module was reloaded since). A guard
    that neutralises the debugger also exports its decision to child
    processes (:data:`~flask_prodguard.config.PARENT_STRICTNESS_VARIABLE`).

    :param app: A guarded app whose guard acts (``report`` or above); it is
        held weakly.
    """
    global _guarded_apps

    with _lock:
        alive = tuple(ref for ref in _guarded_apps if ref() is not None)
        _guarded_apps = (*alive, weakref.ref(app))
        _patch_current_class()
    state = _state_of(app)
    if state is not None and neutralises(state):
        refuses = state.action(Condition.DEBUGGER) is Action.REFUSE
        _export(Strictness.STRICT if refuses else Strictness.ENFORCE)


def recheck_debugger_hook() -> bool:
    """Patch ``werkzeug.debug.DebuggedApplication`` again if it is a class the
    installed hook has not seen (a guard's first request calls this).

    Returns whether a class was patched now. Does nothing when the hook is not
    installed (no acting guard yet, or :func:`restore_debugger` removed it).
    """
    with _lock:
        if not _originals:
            return False
        return _patch_current_class()


def hook_active() -> bool:
    """Whether the hook is installed on some ``DebuggedApplication`` class."""
    return bool(_originals)


def restore_debugger(*, force: bool = False) -> None:
    """Remove the debugger hook: ``DebuggedApplication`` behaves as shipped again.

    The guard replaces methods of Werkzeug's ``DebuggedApplication`` class, for
    the whole process, because the debugger wraps the app from outside where
    no in-app hook sees its requests (see :doc:`security`). This puts the
    original methods back.

    It refuses while a guard that neutralises the debugger is alive (an app
    guarded with ``enforce`` or ``strict``, or the process environment's
    guard): removing the hook would give every debugger in the process its
    console and code execution back. The refusal emits
    ``prodguard.startup.refused`` through that guard. Otherwise the hook goes,
    and the apps whose guard acts (``report``) stay registered: a later
    ``init_app`` installs the hook again and counts them.

    :param force: Remove the hook whatever guards are alive, and forget them,
        the process environment's decision and the decision exported to child
        processes. For test suites (an autouse fixture's teardown, a doctest
        cleanup), so that each test starts from a clean process; never in an
        app.
    :raises UnsafeDeploymentError: A guard that neutralises the debugger is
        alive and ``force`` is not given.

    .. code-block:: python

        import pytest
        from flask_prodguard import restore_debugger

        @pytest.fixture(autouse=True)
        def shipped_debugger():
            yield
            # The test's guarded apps may still be alive: forget them too.
            restore_debugger(force=True)

    .. versionadded:: 0.1
    """
    global _guarded_apps, _process_decision, _process_state

    if not force:
        decider = deciding_guard()
        if decider is not None and neutralises(decider):
            decider.emitter.emit(
                catalogue.STARTUP_REFUSED,
                findings=["PG102"],
                reason="remove the Werkzeug debugger hook (restore_debugger())",
                action="refused",
            )
            raise UnsafeDeploymentError(
                "Flask-ProdGuard refused to remove its Werkzeug debugger hook:"
                f" the guard of {decider.app_name!r} (PRODGUARD_STRICTNESS="
                f"{decider.settings.strictness}) neutralises the debugger in this"
                " process, and without the hook any debugger would serve its"
                " console and run code for whoever reaches it. Remove the call to"
                " restore_debugger(); a test suite that needs the shipped debugger"
                " back after its guarded apps calls restore_debugger(force=True).",
                findings=["PG102"],
            )
    with _lock:
        for cls, originals in _originals.items():
            for name, original in originals.items():
                setattr(cls, name, original)
        _originals.clear()
        if force:
            _guarded_apps = ()
            _process_decision = None
            _process_state = None
            os.environ.pop(PARENT_STRICTNESS_VARIABLE, None)
        else:
            _guarded_apps = tuple(ref for ref in _guarded_apps if ref() is not None)


# -- the process environment's decision ---------------------------------------------


def _export(strictness: Strictness) -> None:
    """Tell child processes started from now on to fail closed (never weaker)."""
    if os.environ.get(PARENT_STRICTNESS_VARIABLE, "").strip().lower() != Strictness.STRICT:
        os.environ[PARENT_STRICTNESS_VARIABLE] = str(strictness)


def _shown(value: str) -> str:
    """An environment value as ``decided_by`` shows it: known ones plain, any
    other one as a short repr (the event's processors escape it further)."""
    normalised = value.strip().lower()
    if normalised in (*Strictness, "production", "staging", "development", "testing"):
        return normalised
    return repr(value[:40])


def decision_from_environment(environ: Mapping[str, str]) -> ProcessDecision | None:
    """What the process environment says about debuggers before any app exists.

    See the module's documentation. ``None``: it leaves them to the apps.

    :param environ: The process environment (``os.environ``).
    """
    env = environ.get("PRODGUARD_ENV", "").strip()
    strictness = environ.get("PRODGUARD_STRICTNESS", "").strip()
    parent = environ.get(PARENT_STRICTNESS_VARIABLE, "").strip()
    said = strictness.lower()
    if said in (Strictness.OFF, Strictness.REPORT):
        # The operator chose it for every guard of the process.
        return None
    decided: list[tuple[Strictness, str]] = []
    if said:
        # enforce or strict, or a value the apps' guards will refuse: fail closed.
        level = Strictness.STRICT if said == Strictness.STRICT else Strictness.ENFORCE
        names = [f"PRODGUARD_ENV={_shown(env)}"] if env else []
        names.append(f"PRODGUARD_STRICTNESS={_shown(strictness)}")
        decided.append((level, ", ".join(names)))
    elif env and env.lower() not in ("development", "testing"):
        decided.append((Strictness.ENFORCE, f"PRODGUARD_ENV={_shown(env)}"))
    if parent:
        level = Strictness.STRICT if parent.lower() == Strictness.STRICT else Strictness.ENFORCE
        decided.append((level, f"{PARENT_STRICTNESS_VARIABLE}={_shown(parent)}"))
    if not decided:
        return None
    # The strictest; between equals the operator's own variables, listed first.
    level, said_by = max(decided, key=lambda item: _RANK[_ACTION_OF[item[0]]])
    return ProcessDecision(level, f"process environment ({said_by})")


def _process_guard(decision: ProcessDecision) -> GuardState:
    """The stand-in guard that acts for the process environment, made once."""
    global _process_state

    with _lock:
        if _process_state is None:
            assert _stand_in is not None  # set together with the decision
            _process_state = _stand_in(decision)
        return _process_state


def decide_for_process(
    decision: ProcessDecision, stand_in: Callable[[ProcessDecision], GuardState]
) -> None:
    """Install the hook for the process environment's decision.

    Called once, when :mod:`flask_prodguard.state` is imported (every import of
    the package does that), so that a process whose environment says
    production has the hook before any app exists: a ``flask run`` reloader
    child whose app fails to import, an app made on demand.

    :param decision: What the process environment decided.
    :param stand_in: Makes the guard state that acts for the decision, on
        first use (the state module passes its own, so that this module does
        not import it).
    """
    global _process_decision, _stand_in

    with _lock:
        _process_decision = decision
        _stand_in = stand_in
        _patch_current_class()
