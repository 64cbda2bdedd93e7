"""The package's layers hold: what imports what, no cycle, no tools in a worker.

The layers (see ``docs/contributing.rst``): the runtime core at the top of the
package, ``wsgi/`` (the request path), ``events/`` (the event pipeline) and
``tools/`` (the offline commands). The rules are read from the source (every
``import``, also inside functions, except those under ``TYPE_CHECKING``) and
from a real worker: a guarded app served by gunicorn, asked which of the
package's modules it has loaded.
"""

from __future__ import annotations

import ast
import http.client
import json
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import flask_prodguard
import pytest

from servers import start_on_free_port

PACKAGE_DIR = Path(flask_prodguard.__file__).parent
BIN = Path(sys.executable).parent

#: Modules outside ``tools/`` allowed to import it: entry points run by hand,
#: never by a worker, and the lazy ``flask_prodguard.serve``.
TOOLS_ENTRY_POINTS = frozenset(
    {"flask_prodguard", "flask_prodguard.__main__", "flask_prodguard.scan"}
)

#: What ``events/`` may never import: the pipeline knows events, not how a
#: request is handled or which app is guarded.
EVENTS_FORBIDDEN = (
    "flask_prodguard.wsgi",
    "flask_prodguard.tools",
    "flask_prodguard.extension",
    "flask_prodguard.state",
    "flask_prodguard.checks",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, *, type_checking: bool = False) -> set[str]:
    """The package modules that module ``name`` imports (a name imported from a
    module counts as that module; a submodule imported by name as itself).

    :param type_checking: also count the imports under ``if TYPE_CHECKING:``.
    """
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test) and not type_checking:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] == "flask_prodguard":
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    found.add(submodule if submodule in MODULES else source)
        elif isinstance(node, ast.Import):
            found.update(
                a.name for a in node.names if a.name.split(".")[0] == "flask_prodguard"
            )
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(name)
    return found


def in_layer(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def import_graph() -> dict[str, set[str]]:
    # Importing a submodule runs its packages' __init__ first; that is how
    # Python packages work, not a dependency of the module's own code.
    return {
        name: {target for target in imports_of(name) if not in_layer(name, target)}
        for name in MODULES
    }


def test_every_layer_is_a_package_with_its_rule() -> None:
    """wsgi/, events/ and tools/ exist, each with a docstring that states its rule."""
    for layer in ("wsgi", "events", "tools"):
        init = PACKAGE_DIR / layer / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring, layer
        assert "The rule:" in docstring, layer


def test_nothing_outside_tools_imports_tools() -> None:
    """Only entry points run by hand import the offline tools (lazily, for serve)."""
    offenders = {
        name: sorted(
            t
            for t in imports_of(name, type_checking=False)
            if in_layer(t, "flask_prodguard.tools")
        )
        for name in MODULES
        if not in_layer(name, "flask_prodguard.tools") and name not in TOOLS_ENTRY_POINTS
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_package_imports_tools_only_inside_a_function() -> None:
    """``flask_prodguard`` itself imports tools/ only when ``serve`` is asked for."""
    tree = ast.parse((PACKAGE_DIR / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tools"):
            pytest.fail(f"module-level import of {node.module} in flask_prodguard/__init__.py")


def test_events_never_import_the_request_path_or_the_app_state() -> None:
    """events/ imports no wsgi/, tools/, extension, state or checks module, not even
    for type checking."""
    offenders = {
        name: sorted(
            t for t in imports_of(name, type_checking=True) if t.startswith(EVENTS_FORBIDDEN)
        )
        for name in MODULES
        if in_layer(name, "flask_prodguard.events")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_wsgi_never_imports_tools() -> None:
    """The request path imports no offline tool, not even for type checking."""
    offenders = {
        name: sorted(
            t
            for t in imports_of(name, type_checking=True)
            if in_layer(t, "flask_prodguard.tools")
        )
        for name in MODULES
        if in_layer(name, "flask_prodguard.wsgi")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_environ_keys_module_is_a_leaf() -> None:
    """keys.py imports nothing from the package, so every layer can use it."""
    assert imports_of("flask_prodguard.keys", type_checking=True) == set()


def _environ_key_uses(tree: ast.AST) -> Iterator[str]:
    """``"prodguard.*"`` strings used as keys: assigned to a ``*_KEY`` name, used as
    a subscript, given to ``get``/``pop``/``setdefault``, or tested with ``in``."""

    def key(node: ast.AST | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("prodguard."):
                return node.value
        return None

    for node in ast.walk(tree):
        found: list[str | None] = []
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.endswith("_KEY") for t in node.targets
        ):
            found.append(key(node.value))
        elif isinstance(node, ast.Subscript):
            found.append(key(node.slice))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "pop", "setdefault")
            and node.args
        ):
            found.append(key(node.args[0]))
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, (ast.In, ast.NotIn)) for op in node.ops
        ):
            found.append(key(node.left))
        yield from (k for k in found if k is not None)


def test_environ_keys_are_defined_only_in_the_keys_module() -> None:
    """No module but keys.py writes a ``"prodguard.*"`` environ key as a literal."""
    elsewhere = {
        name: sorted(set(_environ_key_uses(ast.parse(path.read_text(encoding="utf-8")))))
        for name, path in MODULES.items()
        if name != "flask_prodguard.keys"
    }
    assert {k: v for k, v in elsewhere.items() if v} == {}
    keys = sorted(
        set(_environ_key_uses(ast.parse(MODULES["flask_prodguard.keys"].read_text())))
    )
    assert "prodguard.error_id" in keys  # the finder finds them where they are


def test_the_import_graph_has_no_cycle() -> None:
    """No two modules of the package import each other, directly or through others
    (imports inside functions count; TYPE_CHECKING ones do not)."""
    assert cycles(import_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    """The check itself: a graph with a loop through three modules is reported."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


# -- a real worker ---------------------------------------------------------------------

_APP = textwrap.dedent(
    """
    import json
    import sys

    from flask import Flask
    from flask_prodguard import ProdGuard

    app = Flask(__name__)
    ProdGuard(app, env="production", strictness="enforce")


    @app.get("/")
    def index():
        return "ok"


    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")


    @app.get("/stream")
    def stream():
        def chunks():
            yield "a"
            raise RuntimeError("mid-stream")

        return app.response_class(chunks())


    @app.get("/modules")
    def modules():
        return json.dumps(sorted(m for m in sys.modules if m.startswith("flask_prodguard")))
    """
)


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (OSError, http.client.HTTPException):
        return 0, b""  # not up yet, or a stream the guard aborted


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[int]:
    """A guarded app on a real gunicorn worker (not ``serve``); yields its port."""
    (tmp_path / "layered.py").write_text(_APP)
    server = start_on_free_port(
        lambda port: [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "layered:app",
        ],
        tmp_path,
    )
    try:
        server.wait_ready(lambda port: _get(port, "/")[0] == 200)
        yield server.port
    finally:
        server.stop()


@pytest.mark.server
def test_a_worker_serving_requests_loads_no_tools_module(worker: int) -> None:
    """gunicorn worker: a happy request, a 500, a failing stream, a debugger probe and a
    404 later, the worker has loaded the runtime and no module of tools/."""
    assert _get(worker, "/") == (200, b"ok")
    assert _get(worker, "/boom")[0] == 500
    _get(worker, "/stream")  # aborted mid-stream: the status does not matter
    assert _get(worker, "/?__debugger__=yes&cmd=resource&f=style.css")[0] == 404
    assert _get(worker, "/nowhere")[0] == 404
    status, body = _get(worker, "/modules")
    assert status == 200
    loaded = json.loads(body)
    # The runtime is there (the check below would pass on an empty list too).
    for needed in (
        "flask_prodguard.extension",
        "flask_prodguard.wsgi.middleware",
        "flask_prodguard.wsgi.errors",
        "flask_prodguard.events.emitter",
    ):
        assert needed in loaded
    assert [m for m in loaded if in_layer(m, "flask_prodguard.tools")] == []


def test_importing_the_package_loads_no_tools_module() -> None:
    """A fresh interpreter that imports flask_prodguard and guards an app has no
    tools module; asking for ``flask_prodguard.serve`` then loads serving."""
    code = textwrap.dedent(
        """
        import json, sys
        from flask import Flask
        import flask_prodguard
        app = Flask("x")
        flask_prodguard.ProdGuard(app, env="production", strictness="enforce")
        app.test_client().get("/")
        before = sorted(m for m in sys.modules if m.startswith("flask_prodguard.tools"))
        serve = flask_prodguard.serve
        after = sorted(m for m in sys.modules if m.startswith("flask_prodguard.tools"))
        print(json.dumps([before, after, serve.__module__]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    before, after, module = json.loads(result.stdout.splitlines()[-1])
    assert before == []
    assert "flask_prodguard.tools.serving" in after
    assert module == "flask_prodguard.tools.serving"
