"""Pure predicates over app config, the process environment and WSGI objects.

Nothing here touches request globals or changes anything: functions take what
they inspect as arguments and return what they found. The wiring that acts on
the results lives in :mod:`flask_prodguard.extension`.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.debug import DebuggedApplication

#: Values of ``FLASK_DEBUG`` that Flask treats as "off" (``flask.helpers.get_debug_flag``).
FALSE_FLAG_VALUES = frozenset({"0", "false", "no"})

#: Flask config keys that leak details or tracebacks when on, with their safe value.
UNSAFE_FLAGS: Mapping[str, object] = {
    # Exceptions propagate to the server, which prints its own error page.
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": False,
    # Turn every HTTP error, even a 404, into an unhandled exception.
    "TRAP_HTTP_EXCEPTIONS": False,
    "TRAP_BAD_REQUEST_ERRORS": False,
    # Logs every template loader with absolute search paths.
    "EXPLAIN_TEMPLATE_LOADING": False,
    # Stats template files on every render; a development convenience.
    "TEMPLATES_AUTO_RELOAD": False,
}

#: The Werkzeug debugger's default console path.
DEFAULT_CONSOLE_PATH = "/console"

_DEBUGGER_KEY = "__debugger__"


def flag_is_on(value: str | None) -> bool:
    """Whether an environment flag is on, the way Flask reads ``FLASK_DEBUG``."""
    return bool(value) and value.strip().lower() not in FALSE_FLAG_VALUES  # type: ignore[union-attr]


def unsafe_flags(config: Mapping[str, object]) -> dict[str, object]:
    """Return the :data:`UNSAFE_FLAGS` that are on in ``config``, with their
    current values."""
    return {key: config.get(key) for key in UNSAFE_FLAGS if config.get(key)}


def debug_pin_setting(environ: Mapping[str, str]) -> str | None:
    """``"off"`` if ``WERKZEUG_DEBUG_PIN`` disables the PIN, ``"set"`` if it fixes
    one, ``None`` if the variable is absent."""
    value = environ.get("WERKZEUG_DEBUG_PIN", "").strip()
    if not value:
        return None
    return "off" if value.lower() == "off" else "set"


def dev_server_signals(environ: Mapping[str, str]) -> list[str]:
    """Process-level signs that the Werkzeug development server runs this process."""
    signals = []
    if environ.get("WERKZEUG_RUN_MAIN") == "true":
        signals.append("reloader child process (WERKZEUG_RUN_MAIN)")
    if "WERKZEUG_SERVER_FD" in environ:
        signals.append("werkzeug.serving.run_simple (WERKZEUG_SERVER_FD)")
    return signals


def production_server(environ: Mapping[str, object]) -> str | None:
    """``"gunicorn"`` or ``"waitress"`` when ``SERVER_SOFTWARE`` names one of them.

    In the process environment, gunicorn's arbiter sets it; in a request's
    environ, both servers do. Having imported either (for an ``if __name__ ==
    "__main__"`` block, or in a test suite) is not evidence that it serves.

    :param environ: The process environment or a request's WSGI environ.
    """
    software = str(environ.get("SERVER_SOFTWARE") or "").lower()
    for server in ("gunicorn", "waitress"):
        if software.startswith(server):
            return server
    return None


def is_dev_server_environ(environ: Mapping[str, object]) -> bool:
    """Whether a WSGI request environ comes from the Werkzeug development server."""
    return str(environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug/")


def iter_wsgi_chain(obj: object, limit: int = 64) -> Iterator[object]:
    """Walk a WSGI callable and what it wraps, outermost first.

    Follows what middleware conventionally keeps: ``app``, ``wsgi_app``,
    ``application`` and ``__wrapped__`` attributes, a bound method's instance, a
    Flask app's ``wsgi_app``, and the mounts of a ``DispatcherMiddleware``. Only
    instance dictionaries are read, so properties and proxies are never
    triggered. Cycles are cut and at most ``limit`` objects are visited.

    :param obj: Where to start: a Flask app, its ``wsgi_app``, or any
        middleware.
    :param limit: The most objects visited; a chain built at run time can be
        long, or hostile.
    """
    from flask import Flask

    seen: set[int] = set()
    stack = [obj]
    while stack and len(seen) < limit:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, Flask):
            stack.append(current.wsgi_app)
            continue
        bound_to = getattr(current, "__self__", None) if callable(current) else None
        if bound_to is not None and not isinstance(bound_to, type):
            stack.append(bound_to)
        attrs = getattr(current, "__dict__", None)
        if not isinstance(attrs, dict):
            continue
        for name in ("__wrapped__", "application", "wsgi_app", "app"):
            if attrs.get(name) is not None:
                stack.append(attrs[name])
        mounts = attrs.get("mounts")
        if isinstance(mounts, dict):
            stack.extend(mounts.values())


def find_debugger(obj: object) -> DebuggedApplication | None:
    """Return the first Werkzeug ``DebuggedApplication`` in a WSGI chain, or ``None``.

    Does not import ``werkzeug.debug``: if nothing did, no debugger exists.
    """
    module = sys.modules.get("werkzeug.debug")
    if module is None:  # Never imported: no instance can exist.
        return None
    debugger_class: type[DebuggedApplication] = module.DebuggedApplication
    for item in iter_wsgi_chain(obj):
        if isinstance(item, debugger_class):
            return item
    return None


def _decode_repeatedly(text: str, rounds: int = 3) -> str:
    for _ in range(rounds):
        decoded = unquote_plus(text, encoding="latin-1")
        if decoded == text:
            break
        text = decoded
    return text


def query_has_debugger_key(query_string: str) -> bool:
    """Whether a raw query string names the debugger's ``__debugger__`` argument.

    Any case, any position, repeated or percent-encoded (even twice): scanners
    try all of these, and no application uses the name for itself.
    """
    lowered = query_string.lower()
    if "debugger" not in lowered and "%" not in lowered:
        return False
    for pair in query_string.split("&"):
        # Lower-cased after decoding: %52 is an upper-case R.
        name = _decode_repeatedly(pair.split("=", 1)[0]).strip().lower()
        if _DEBUGGER_KEY in name:
            return True
    return False


def normalise_path(path: str) -> str:
    """Reduce a request path to a canonical form for comparison with the console path.

    Decodes percent-escapes (repeatedly), collapses repeated and trailing
    slashes, resolves ``.`` segments, drops ``;`` parameters and lower-cases.
    """
    text = _decode_repeatedly(path).replace("\\", "/").lower()
    segments: list[str] = []
    for segment in text.split("/"):
        segment = segment.split(";", 1)[0]
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return "/" + "/".join(segments)


def is_console_path(path: str, console_path: str = DEFAULT_CONSOLE_PATH) -> bool:
    """Whether ``path`` is, or is a variant of, the debugger's console path."""
    tail = console_path.rstrip("/").rsplit("/", 1)[-1].lower()
    if tail and tail[1:] not in path.lower() and "%" not in path:
        return False  # The fast path for ordinary requests.
    return normalise_path(path) == _normalised_console_path(console_path)


@functools.lru_cache(maxsize=16)
def _normalised_console_path(console_path: str) -> str:
    return normalise_path(console_path)


def app_import_string(app: Flask) -> str:
    """Best guess at the ``module:object`` string a WSGI server needs for ``app``.

    Uses the module the app was created in: the attribute that holds the app,
    else an app factory (``create_app()``/``make_app()``), else ``:app``.
    """
    module_name = app.import_name
    module = sys.modules.get(module_name)
    if module_name == "__main__" and module is not None:
        main_file = getattr(module, "__file__", None) or "app.py"
        module_name = os.path.splitext(os.path.basename(main_file))[0]
    if module is not None:
        for name, value in vars(module).items():
            if value is app and not name.startswith("_"):
                return f"{module_name}:{name}"
        for factory in ("create_app", "make_app"):
            if callable(vars(module).get(factory)):
                return f"{module_name}:{factory}()"
    return f"{module_name}:app"
