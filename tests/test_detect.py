"""Pure detection predicates."""

from __future__ import annotations

import sys
import types

import pytest
from flask import Flask
from flask_prodguard import detect
from werkzeug.debug import DebuggedApplication
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix


@pytest.mark.parametrize(
    ("value", "on"),
    [
        (None, False),
        ("", False),
        ("0", False),
        ("false", False),
        ("No", False),
        ("1", True),
        ("true", True),
        ("yes", True),
        ("False ", False),
        ("off", True),
    ],
)
def test_flag_is_on_matches_flask(value: str | None, on: bool) -> None:
    """FLASK_DEBUG is read as Flask reads it: anything but 0/false/no is on."""
    assert detect.flag_is_on(value) is on


@pytest.mark.parametrize(
    "query",
    [
        "__debugger__=yes",
        "a=1&__DEBUGGER__=yes",
        "%5f%5fdebugger%5f%5f=yes",
        "%255F%255Fdebugger%255F%255F=1",
        "__debugger__",
        "+__debugger__+=yes",
        # Encoded capitals: lower-cased only after decoding.
        "%5F%5F%64%65%62%75%67%67%65%52%5F%5F=yes&cmd=resource&f=debugger.js",
        "__DEBUGGE%2552__=1",
    ],
)
def test_debugger_query_variants_recognised(query: str) -> None:
    """__debugger__ is found in any case, position or encoding."""
    assert detect.query_has_debugger_key(query)


@pytest.mark.parametrize(
    "query", ["", "page=2", "q=__debugger__", "debugger=1", "q=%20x", "sort=name&dir=asc"]
)
def test_ordinary_queries_not_flagged(query: str) -> None:
    """Ordinary queries, and __debugger__ as a value, are not probes."""
    assert not detect.query_has_debugger_key(query)


@pytest.mark.parametrize(
    "path",
    [
        "/console",
        "//console",
        "/CONSOLE",
        "/console/",
        "/%63onsole",
        "/%2563onsole",
        "/a/../console",
        "/./console",
        "/console;jsessionid=1",
        "\\console",
    ],
)
def test_console_path_variants(path: str) -> None:
    """Variants of /console that scanners send are recognised."""
    assert detect.is_console_path(path)


@pytest.mark.parametrize("path", ["/", "/consoles", "/admin/console", "/con/sole", "/consolex"])
def test_other_paths_are_not_console(path: str) -> None:
    """Paths that merely resemble the console path are not flagged."""
    assert not detect.is_console_path(path)


def test_custom_console_path() -> None:
    """A debugger's custom console_path is compared too."""
    assert detect.is_console_path("/_debug/Shell/", "/_debug/shell")
    assert not detect.is_console_path("/console", "/_debug/shell")


def test_find_debugger_through_middleware_chain() -> None:
    """The debugger is found behind ProxyFix, dispatchers and bound methods."""
    app = Flask("chain")
    assert detect.find_debugger(app) is None
    debugger = DebuggedApplication(app.wsgi_app)
    app.wsgi_app = ProxyFix(debugger)  # type: ignore[method-assign]
    assert detect.find_debugger(app) is debugger
    outer = DispatcherMiddleware(Flask("front"), {"/inner": app})
    assert detect.find_debugger(outer) is debugger


def test_find_guarded_app_cuts_cycles() -> None:
    """Walking a chain that loops back on itself terminates."""
    loop = types.SimpleNamespace()
    loop.app = loop
    assert list(detect.iter_wsgi_chain(loop)) == [loop]


def test_unsafe_flags_lists_only_flags_that_are_on() -> None:
    """Only the unsafe flags that are on are listed, with their values."""
    assert detect.unsafe_flags({"TESTING": True, "PROPAGATE_EXCEPTIONS": None}) == {
        "TESTING": True
    }


def test_dev_server_signals() -> None:
    """The reloader child and run_simple leave recognisable variables."""
    assert detect.dev_server_signals({}) == []
    assert (
        len(detect.dev_server_signals({"WERKZEUG_RUN_MAIN": "true", "WERKZEUG_SERVER_FD": "3"}))
        == 2
    )
    assert detect.is_dev_server_environ({"SERVER_SOFTWARE": "Werkzeug/3.1.9"})
    assert not detect.is_dev_server_environ({"SERVER_SOFTWARE": "gunicorn/27.0.1"})


def test_app_import_string(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server command names the module attribute or the factory."""
    module = types.ModuleType("shop")
    monkeypatch.setitem(sys.modules, "shop", module)
    app = Flask("shop")
    module.application = app  # type: ignore[attr-defined]
    assert detect.app_import_string(app) == "shop:application"
    del module.application  # type: ignore[attr-defined]
    module.create_app = lambda: app  # type: ignore[attr-defined]
    assert detect.app_import_string(app) == "shop:create_app()"
