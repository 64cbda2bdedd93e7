"""``flask prodguard scan``: find code that enables debug mode or the debugger.

An AST scan of Python files, no app needed. Linters see only the literal
``app.run(debug=True)``; this scan follows what real code does: keyword,
positional and ``**kwargs`` forms, truthy non-bool values, ``app.debug``,
every way of setting ``DEBUG`` in ``app.config`` (also through an alias, a
config class or a settings module), ``FLASK_DEBUG`` in ``os.environ``,
``run_simple(use_debugger=True)``, ``DebuggedApplication``, import aliases,
app factories, method aliases, constants from the same or another scanned
module, and environment gates that fail open (debug unless told production).

It stays quiet for falsy values, explicit development gates, test code,
comments and strings, dead code, ``.run()`` of things that are not Flask apps,
and other libraries' ``DEBUG`` settings. ``# prodguard: ignore[PGS101]`` on a
line silences a finding there.

Usage: ``flask prodguard scan PATH...`` or ``python -m flask_prodguard.scan
PATH...``; exit 0 clean, 1 findings, 2 usage error.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import sarif

#: Every rule of the scan: id -> (what it finds, how to fix it).
RULES: dict[str, tuple[str, str]] = {
    "PGS101": (
        "app.run() starts the development server with debug mode or the debugger",
        "Serve with flask_prodguard.serve(app) (gunicorn or waitress); never debug=True.",
    ),
    "PGS102": (
        "app.debug is switched on",
        "Remove it; debug mode comes only from FLASK_DEBUG on a developer's machine.",
    ),
    "PGS103": (
        "DEBUG is switched on in the app's config",
        "Remove DEBUG from the config (or set it from FLASK_DEBUG in development only).",
    ),
    "PGS104": (
        "FLASK_DEBUG is switched on in the process environment",
        "Do not set FLASK_DEBUG in code; use 'flask run --debug' on a developer's machine.",
    ),
    "PGS105": (
        "run_simple() starts the Werkzeug debugger",
        "Serve with gunicorn or waitress; never use_debugger=True.",
    ),
    "PGS106": (
        "DebuggedApplication wraps an app: the interactive debugger can run code",
        "Remove DebuggedApplication; it must never reach a served app.",
    ),
}

_FALSE_FLAG = {"0", "false", "no"}
_DEV_VALUES = {"development", "dev", "local", "debug", "devel", "test", "testing"}
_PROD_VALUES = {"production", "prod", "live", "staging"}
_IGNORE = re.compile(r"#\s*prodguard:\s*ignore(?:\[([A-Z0-9, ]+)\])?")


@dataclasses.dataclass(frozen=True)
class ScanFinding:
    """One place that enables debug mode or the debugger."""

    #: The file, under the path given to :func:`scan_paths` (relative if that was).
    path: str
    #: 1-based line and column of the call or assignment.
    line: int
    column: int
    #: A key of :data:`RULES`.
    rule: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, str | int]:
        """The fields as plain data (``--format json``)."""
        return dataclasses.asdict(self)


@dataclasses.dataclass
class _Module:
    name: str
    path: Path
    tree: ast.Module
    source: str
    #: Module-level names bound to a literal, and their values.
    constants: dict[str, object] = dataclasses.field(default_factory=dict)
    #: Class name -> its attributes bound to a literal.
    classes: dict[str, dict[str, object]] = dataclasses.field(default_factory=dict)
    #: Functions that return a Flask app (for factories imported elsewhere).
    factories: set[str] = dataclasses.field(default_factory=set)
    #: Whether the file is test code (relative to the scanned root).
    is_test: bool = False


_UNKNOWN = object()


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNKNOWN


def _index(module: _Module) -> None:
    """Module-level constants, class attributes that are literals, and factories."""
    analyser = _Analyser(module, {module.name: module})
    analyser.collect()
    module.factories = set(analyser.factories)
    for stmt in module.tree.body:
        if isinstance(stmt, ast.Assign):
            value = _literal(stmt.value)
            for target in stmt.targets:
                if isinstance(target, ast.Name) and value is not _UNKNOWN:
                    module.constants[target.id] = value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            if stmt.value is not None:
                value = _literal(stmt.value)
                if value is not _UNKNOWN:
                    module.constants[stmt.target.id] = value
        elif isinstance(stmt, ast.ClassDef):
            attrs: dict[str, object] = {}
            for item in stmt.body:
                if isinstance(item, ast.Assign):
                    value = _literal(item.value)
                    for target in item.targets:
                        if isinstance(target, ast.Name) and value is not _UNKNOWN:
                            attrs[target.id] = value
            module.classes[stmt.name] = attrs


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _is_test_path(path: Path) -> bool:
    """Test code: ``test_*.py``, ``*_test.py``, or in a ``tests`` folder below the root."""
    return (
        path.name.startswith("test_")
        or path.name.endswith("_test.py")
        or ("tests" in path.parts[:-1] or "test" in path.parts[:-1])
    )


class _Analyser(ast.NodeVisitor):
    """Finds the sinks in one module."""

    def __init__(self, module: _Module, project: dict[str, _Module]) -> None:
        self.module = module
        self.project = project
        self.findings: list[ScanFinding] = []
        # Local name -> what it stands for: "flask.Flask", "werkzeug.serving.run_simple",
        # "werkzeug.debug.DebuggedApplication", "os", "os.environ", "os.putenv",
        # a project module name ("module:<name>"), or a constant imported ("const:<m>:<n>").
        self.imports: dict[str, str] = {}
        self.apps: set[str] = set()
        self.factories: set[str] = set()
        self.run_aliases: set[str] = set()
        self.config_aliases: set[str] = set()
        self.dicts: dict[str, ast.AST] = {}
        self.assigned: dict[str, ast.AST] = {}

    # -- symbol collection (a first pass over the whole module) ------------------

    def collect(self) -> None:
        """First pass: imports, app factories, apps, and aliases of ``app.run``,
        ``app.config`` and dict literals, which :meth:`visit` then resolves."""
        for node in ast.walk(self.module.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.imports[local] = alias.name if alias.asname else local
                    if alias.name in self.project:
                        self.imports[alias.asname or alias.name] = f"module:{alias.name}"
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    local = alias.asname or alias.name
                    full = f"{node.module}.{alias.name}"
                    if node.module in self.project:
                        self.imports[local] = f"const:{node.module}:{alias.name}"
                    elif f"{node.module}.{alias.name}" in self.project:
                        self.imports[local] = f"module:{full}"
                    else:
                        self.imports[local] = full
        # Factories first: functions that return a Flask app.
        for node in ast.walk(self.module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                local_apps = {
                    t.id
                    for stmt in ast.walk(node)
                    if isinstance(stmt, ast.Assign) and self._is_flask_call(stmt.value)
                    for t in stmt.targets
                    if isinstance(t, ast.Name)
                }
                for stmt in ast.walk(node):
                    if isinstance(stmt, ast.Return) and stmt.value is not None:
                        value = stmt.value
                        if self._is_flask_call(value) or (
                            isinstance(value, ast.Name) and value.id in local_apps
                        ):
                            self.factories.add(node.name)
        for _ in range(3):  # a few rounds settle simple chains of aliases
            for node in ast.walk(self.module.tree):
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target, value = node.targets[0], node.value
                    if not isinstance(target, ast.Name):
                        continue
                    self.assigned[target.id] = value
                    if self._is_app(value):
                        self.apps.add(target.id)
                    elif (
                        isinstance(value, ast.Attribute)
                        and value.attr == "run"
                        and (self._is_app(value.value))
                    ):
                        self.run_aliases.add(target.id)
                    elif (
                        isinstance(value, ast.Attribute)
                        and value.attr == "config"
                        and (self._is_app(value.value))
                    ):
                        self.config_aliases.add(target.id)
                    elif isinstance(value, ast.Dict) or (
                        isinstance(value, ast.Call) and _dotted(value.func) == "dict"
                    ):
                        self.dicts[target.id] = value

    def _resolves_to(self, node: ast.AST, *targets: str) -> bool:
        name = _dotted(node)
        if name is None:
            return False
        head, _, rest = name.partition(".")
        full = self.imports.get(head, head)
        if rest:
            full = f"{full}.{rest}"
        return full in targets

    def _imported_from_project(self, local: str) -> tuple[_Module | None, str]:
        """For a name imported from a scanned module: that module and the name in it.

        ``(None, "")`` for any other name.
        """
        imported = self.imports.get(local, "")
        if not imported.startswith("const:"):
            return None, ""
        _, module_name, attr = imported.split(":")
        return self.project.get(module_name), attr

    def _is_flask_call(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and self._resolves_to(node.func, "flask.Flask")

    def _is_app(self, node: ast.AST) -> bool:
        if self._is_flask_call(node):
            return True
        if isinstance(node, ast.Name):
            return node.id in self.apps
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in self.factories:
                return True
            module, attr = self._imported_from_project(node.func.id)
            return module is not None and attr in module.factories
        return False

    def _is_config(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.config_aliases
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "config"
            and self._is_app(node.value)
        )

    def _is_environ(self, node: ast.AST) -> bool:
        return self._resolves_to(node, "os.environ")

    # -- values ---------------------------------------------------------------------

    def truthy(self, node: ast.AST | None, depth: int = 0) -> bool | None:
        """True: enables (or fails open); False: off; None: cannot tell."""
        if node is None or depth > 6:
            return None
        value = _literal(node)
        if value is not _UNKNOWN:
            return bool(value)
        if isinstance(node, ast.Name):
            if self.imports.get(node.id, "").startswith("const:"):
                module, attr = self._imported_from_project(node.id)
                if module is not None and attr in module.constants:
                    return bool(module.constants[attr])
                return None
            if node.id in self.module.constants:
                return bool(self.module.constants[node.id])
            assigned = self.assigned.get(node.id)
            if assigned is not None and assigned is not node:
                return self.truthy(assigned, depth + 1)
            return None
        if isinstance(node, ast.Compare):
            return self._gate(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.truthy(node.operand, depth + 1)
            return None if inner is None else not inner
        return None

    def _env_read(self, node: ast.AST) -> tuple[bool, object]:
        """Whether ``node`` reads an environment variable, and its default."""
        if isinstance(node, ast.Call):
            func = node.func
            is_get = (
                isinstance(func, ast.Attribute)
                and func.attr == "get"
                and (self._is_environ(func.value))
            )
            if is_get or self._resolves_to(func, "os.getenv"):
                default = _literal(node.args[1]) if len(node.args) > 1 else None
                return True, default
        if isinstance(node, ast.Subscript) and self._is_environ(node.value):
            return True, None
        return False, None

    def _gate(self, node: ast.Compare) -> bool | None:
        if len(node.ops) != 1:
            return None
        reads, default = self._env_read(node.left)
        if not reads:
            return None
        other = _literal(node.comparators[0])
        values = (
            {str(v).lower() for v in other}
            if isinstance(other, tuple | list | set)
            else ({str(other).lower()} if other is not _UNKNOWN else set())
        )
        if not values:
            return None
        op = node.ops[0]
        default_text = str(default).lower() if default not in (None, _UNKNOWN) else None
        if isinstance(op, ast.Eq | ast.In):
            if values & _DEV_VALUES:
                # Debug only when told development: safe, unless the default says so.
                return default_text in values
            if values & _PROD_VALUES:
                return True  # debug in production, of all places
            return None
        if isinstance(op, ast.NotEq | ast.NotIn):
            if values & _PROD_VALUES:
                return True  # debug unless told production: fails open
            if values & _DEV_VALUES:
                return default_text is not None and default_text not in values
            return None
        return None

    def flag_string_on(self, node: ast.AST) -> bool | None:
        """Whether a value given to ``FLASK_DEBUG`` turns debug mode on, as Flask
        reads it (a non-empty string but ``0``, ``false`` or ``no``); ``None``: cannot tell."""
        value = _literal(node)
        if value is _UNKNOWN:
            return self.truthy(node)
        if isinstance(value, str):
            return bool(value) and value.strip().lower() not in _FALSE_FLAG
        return bool(value)

    # -- reporting ---------------------------------------------------------------------

    def report(self, node: ast.AST, rule: str) -> None:
        """Record a finding of ``rule`` at ``node``, unless a ``# prodguard: ignore``
        comment on its line silences it."""
        line = getattr(node, "lineno", 1)
        text = self.module.source.splitlines()[line - 1] if self.module.source else ""
        ignored = _IGNORE.search(text)
        if ignored and (ignored.group(1) is None or rule in ignored.group(1)):
            return
        message, fix = RULES[rule]
        self.findings.append(
            ScanFinding(
                str(self.module.path),
                line,
                getattr(node, "col_offset", 0) + 1,
                rule,
                message,
                fix,
            )
        )

    # -- traversal ---------------------------------------------------------------------

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # noqa: N802
        if not node.name.startswith("test"):
            self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:  # noqa: N802
        if not node.name.startswith("test"):
            self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:  # noqa: N802
        if not node.name.startswith("Test"):
            self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:  # noqa: N802
        condition = self.truthy(node.test)
        if condition is False:
            # Dead code, or an explicit development gate: only the else branch runs.
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:  # noqa: N802
        for target in node.targets:
            self._assignment(target, node.value, node)
        self.generic_visit(node)

    def _assignment(self, target: ast.AST, value: ast.AST, node: ast.AST) -> None:
        if (
            isinstance(target, ast.Attribute)
            and target.attr == "debug"
            and self._is_app(target.value)
        ):
            if self.truthy(value):
                self.report(node, "PGS102")
        elif isinstance(target, ast.Subscript):
            key = _literal(target.slice)
            if key == "DEBUG" and self._is_config(target.value) and self.truthy(value):
                self.report(node, "PGS103")
            elif key == "FLASK_DEBUG" and self._is_environ(target.value):
                if self.flag_string_on(value):
                    self.report(node, "PGS104")

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "run" and self._is_app(func.value):
            self._run_call(node)
        elif isinstance(func, ast.Name) and func.id in self.run_aliases:
            self._run_call(node)
        elif self._resolves_to(func, "werkzeug.serving.run_simple"):
            debugger = self._argument(node, "use_debugger", 4)
            if self.truthy(debugger):
                self.report(node, "PGS105")
        elif self._resolves_to(
            func, "werkzeug.debug.DebuggedApplication", "werkzeug.DebuggedApplication"
        ):
            if node.args or node.keywords:
                self.report(node, "PGS106")
        elif isinstance(func, ast.Attribute) and self._is_config(func.value):
            self._config_call(node, func.attr)
        elif isinstance(func, ast.Attribute) and self._is_environ(func.value):
            self._environ_call(node, func.attr)
        elif self._resolves_to(func, "os.putenv"):
            if len(node.args) == 2 and _literal(node.args[0]) == "FLASK_DEBUG":
                if self.flag_string_on(node.args[1]):
                    self.report(node, "PGS104")
        elif isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) == 3:
            if self._is_app(node.args[0]) and _literal(node.args[1]) == "debug":
                if self.truthy(node.args[2]):
                    self.report(node, "PGS102")
        self.generic_visit(node)

    def _argument(self, node: ast.Call, name: str, position: int) -> ast.AST | None:
        for keyword in node.keywords:
            if keyword.arg == name:
                return keyword.value
        if len(node.args) > position and not any(
            isinstance(a, ast.Starred) for a in node.args[: position + 1]
        ):
            return node.args[position]
        return None

    def _mapping_value(self, node: ast.AST, key: str) -> ast.AST | None:
        if isinstance(node, ast.Name) and node.id in self.dicts:
            node = self.dicts[node.id]
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if k is not None and _literal(k) == key:
                    return v
        if isinstance(node, ast.Call) and _dotted(node.func) == "dict":
            for keyword in node.keywords:
                if keyword.arg == key:
                    return keyword.value
        return None

    def _mapping_arguments(self, node: ast.Call, key: str) -> list[ast.AST]:
        """The values ``key`` gets in an ``update(...)``-like call: keywords and mappings."""
        values: list[ast.AST] = [k.value for k in node.keywords if k.arg == key]
        for arg in node.args:
            value = self._mapping_value(arg, key)
            if value is not None:
                values.append(value)
        return values

    def _run_call(self, node: ast.Call) -> None:
        values = [self._argument(node, "debug", 2), self._argument(node, "use_debugger", 99)]
        for keyword in node.keywords:
            if keyword.arg is None:  # **kwargs
                values.append(self._mapping_value(keyword.value, "debug"))
                values.append(self._mapping_value(keyword.value, "use_debugger"))
        if any(self.truthy(v) for v in values if v is not None):
            self.report(node, "PGS101")

    def _config_call(self, node: ast.Call, method: str) -> None:
        if method in ("update", "from_mapping"):
            if any(self.truthy(v) for v in self._mapping_arguments(node, "DEBUG")):
                self.report(node, "PGS103")
        elif method == "from_object" and node.args:
            if self._object_sets_debug(node.args[0]):
                self.report(node, "PGS103")

    def _object_sets_debug(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            if node.id in self.module.classes:
                return bool(self.module.classes[node.id].get("DEBUG"))
            imported = self.imports.get(node.id, "")
            if imported.startswith("module:"):
                return self._module_sets_debug(imported.removeprefix("module:"))
            module, attr = self._imported_from_project(node.id)
            return module is not None and bool(module.classes.get(attr, {}).get("DEBUG"))
        name = _literal(node)
        if isinstance(name, str):
            module_name, _, attr = name.partition(":") if ":" in name else (name, "", "")
            if not attr and module_name not in self.project and "." in module_name:
                module_name, _, attr = module_name.rpartition(".")
            module = self.project.get(module_name)
            if module is None:
                return False
            if attr:
                return bool(module.classes.get(attr, {}).get("DEBUG"))
            return bool(module.constants.get("DEBUG"))
        dotted = _dotted(node)
        if dotted and "." in dotted:
            head, _, attr = dotted.rpartition(".")
            imported = self.imports.get(head, "")
            if imported.startswith("module:"):
                module = self.project.get(imported.removeprefix("module:"))
                if module is not None:
                    return bool(module.classes.get(attr, {}).get("DEBUG"))
        return False

    def _module_sets_debug(self, module_name: str) -> bool:
        module = self.project.get(module_name)
        return module is not None and bool(module.constants.get("DEBUG"))

    def _environ_call(self, node: ast.Call, method: str) -> None:
        if method == "setdefault" and len(node.args) == 2:
            if _literal(node.args[0]) == "FLASK_DEBUG" and self.flag_string_on(node.args[1]):
                self.report(node, "PGS104")
        elif method == "update":
            values = self._mapping_arguments(node, "FLASK_DEBUG")
            if any(self.flag_string_on(v) for v in values):
                self.report(node, "PGS104")


def _python_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[Path, Path]]:
    """(root, file) for every Python file under the paths."""
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield path.parent, path
        elif path.is_dir():
            for file in sorted(path.rglob("*.py")):
                if not any(
                    part.startswith(".") or part in ("venv", ".venv", "node_modules")
                    for part in file.relative_to(path).parts[:-1]
                ):
                    yield path, file
        else:
            raise FileNotFoundError(f"no such file or directory: {raw}")


def _module_name(root: Path, file: Path) -> str:
    relative = file.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or file.stem


def scan_paths(paths: Iterable[str | os.PathLike[str]]) -> list[ScanFinding]:
    """Scan files and directories; findings sorted by path, line, column and rule.

    Each directory is one project: its modules resolve each other's imports
    and constants. Test code (``test_*.py``, ``*_test.py``, files in a
    ``tests`` or ``test`` directory below the one given) is read for its
    constants but not reported on. Hidden directories, ``venv``, ``.venv`` and
    ``node_modules`` are skipped, and so is a file that cannot be read,
    decoded or parsed.

    :param paths: Python files and directories.
    :raises FileNotFoundError: A path is neither a file nor a directory.

    .. code-block:: python

        for finding in scan_paths(["src"]):
            print(f"{finding.path}:{finding.line}: {finding.rule} {finding.message}")
    """
    modules: dict[str, _Module] = {}
    order: list[_Module] = []
    for root, file in _python_files(paths):
        try:
            source = file.read_text(encoding="utf-8")
            tree = ast.parse(source, filename=str(file))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        module = _Module(_module_name(root, file), file, tree, source)
        module.is_test = _is_test_path(file.relative_to(root))
        _index(module)
        modules.setdefault(module.name, module)
        # Sibling modules are also known by their bare name (scripts importing
        # each other from the same directory).
        modules.setdefault(file.stem, module)
        order.append(module)
    findings = []
    for module in order:
        if module.is_test:
            continue
        analyser = _Analyser(module, modules)
        analyser.collect()
        analyser.visit(module.tree)
        findings.extend(analyser.findings)
    return sorted(findings, key=lambda f: (f.path, f.line, f.column, f.rule))


def render_sarif(findings: list[ScanFinding]) -> dict[str, Any]:
    """Scan findings as a SARIF 2.1.0 log, with their lines and columns.

    Every rule of :data:`RULES` is listed; every finding is an error.

    :param findings: What :func:`scan_paths` found.
    """
    from .. import __version__

    rules = [
        sarif.Rule(id=rule, description=message, help=fix, level="error")
        for rule, (message, fix) in RULES.items()
    ]
    results = [
        sarif.Result(
            rule_id=f.rule,
            level="error",
            message=f"{f.message}. Fix: {f.fix}",
            uri=Path(f.path).as_posix(),
            line=f.line,
            column=f.column,
        )
        for f in findings
    ]
    return sarif.sarif_log("Flask-ProdGuard scan", __version__, rules, results)
