"""``flask prodguard scan``: find code that enables debug mode or the debugger.

An AST scan of Python files, no app needed. Linters see only the literal
``app.run(debug=True)``; this scan follows what real code does: keyword,
positional and ``**kwargs`` forms, truthy non-bool values, ``app.debug``,
every way of setting ``DEBUG`` in ``app.config`` (also through an alias, a
config class or a settings module), ``FLASK_DEBUG`` in ``os.environ``,
``run_simple(use_debugger=True)``, ``DebuggedApplication``, import aliases,
app factories, method aliases, constants from the same or another scanned
module, and environment gates that fail open (debug unless told production).

Values are found by a small constant propagation (:meth:`_Analyser.value`):
module constants (also of a settings module imported under an alias), class
attributes, what a function without parameters returns, environment reads
taken at their default (debug on wherever the variable is unset is debug on),
builtins and string methods over constants, ``json.loads`` of a literal,
comparisons and ``and``/``or``. Apps include instances of ``Flask``
subclasses (and their subclasses), what a project's factory function or
method returns, and app instances imported from another scanned module. A
loop over a known settings mapping is followed item by item, and in
straight-line code the last write of a debug setting wins.

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
import json
import operator
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
#: Builtins the value analysis computes over constants (when not shadowed).
_BUILTINS: dict[str, Any] = {"bool": bool, "int": int, "str": str, "float": float}
#: String methods without arguments it computes (``.lower() == "true"``).
_STR_METHODS = frozenset({"lower", "upper", "strip", "casefold", "title", "capitalize"})
_COMPARISONS: dict[type[ast.cmpop], Any] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
#: How many items of a known mapping a loop over it is followed for.
_LOOP_ITEMS = 64
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
    #: Classes derived from ``Flask`` (for subclasses imported elsewhere).
    flask_classes: set[str] = dataclasses.field(default_factory=set)
    #: Module-level names bound to a Flask app (for instances imported elsewhere).
    apps: set[str] = dataclasses.field(default_factory=set)
    #: Whether the file is test code (relative to the scanned root).
    is_test: bool = False


_UNKNOWN = object()
#: Statements that cannot serve an app: between two writes of a debug setting
#: they leave "the last write wins" intact.
_INERT_STATEMENTS = (
    ast.Assign,
    ast.AnnAssign,
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Pass,
)


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
    module.flask_classes = set(analyser.flask_classes)
    module.apps = set(analyser.apps)
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


def _has_parameters(args: ast.arguments) -> bool:
    return bool(args.posonlyargs or args.args or args.vararg or args.kwonlyargs or args.kwarg)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


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
        #: Classes of this module derived from ``Flask``, directly or not.
        self.flask_classes: set[str] = set()
        #: Functions and classes defined at module level (they shadow builtins).
        self.defined: set[str] = set()
        #: Module-level functions without parameters whose body is one ``return``.
        self.returns: dict[str, ast.expr] = {}
        #: Loop variables bound, while one iteration of a loop over a known
        #: mapping is visited, to that iteration's key or value.
        self.bound: dict[str, object] = {}
        self._reported: set[tuple[int, int, str]] = set()

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
        # Subclasses of Flask (and their subclasses, defined in order) are Flask.
        for top in self.module.tree.body:
            if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.defined.add(top.name)
            if isinstance(top, ast.FunctionDef) and not _has_parameters(top.args):
                body = [s for s in top.body if not _is_docstring(s)]
                if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value:
                    self.returns[top.name] = body[0].value
            if isinstance(top, ast.ClassDef) and any(
                self._is_flask_class(base) for base in top.bases
            ):
                self.flask_classes.add(top.name)
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

    def _is_flask_class(self, node: ast.AST) -> bool:
        """``Flask`` itself or a class derived from it, here or in a scanned module."""
        if self._resolves_to(node, "flask.Flask"):
            return True
        if isinstance(node, ast.Name):
            if node.id in self.flask_classes:
                return True
            module, attr = self._imported_from_project(node.id)
            return module is not None and attr in module.flask_classes
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            imported = self.imports.get(node.value.id, "")
            module = self.project.get(imported.removeprefix("module:"))
            return imported.startswith("module:") and (
                module is not None and node.attr in module.flask_classes
            )
        return False

    def _is_flask_call(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and self._is_flask_class(node.func)

    def _is_app(self, node: ast.AST) -> bool:
        if self._is_flask_call(node):
            return True
        if isinstance(node, ast.Name):
            if node.id in self.apps:
                return True
            # ``from app import app``: an instance made in another scanned module.
            module, attr = self._imported_from_project(node.id)
            return module is not None and attr in module.apps
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            imported = self.imports.get(node.value.id, "")
            module = self.project.get(imported.removeprefix("module:"))
            return (
                imported.startswith("module:")
                and module is not None
                and node.attr in module.apps
            )
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in self.factories:
                return True
            module, attr = self._imported_from_project(node.func.id)
            return module is not None and attr in module.factories
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            # A factory method of the project's own factory class (or module).
            if node.func.attr in self.factories:
                return True
            imported = self.imports.get(_dotted(node.func.value) or "", "")
            module = self.project.get(imported.removeprefix("module:"))
            return module is not None and node.func.attr in module.factories
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

    def truthy(self, node: ast.AST | None) -> bool | None:
        """True: enables (or fails open); False: off; None: cannot tell."""
        value = self.value(node)
        return None if value is _UNKNOWN else bool(value)

    def value(self, node: ast.AST | None, depth: int = 0) -> object:
        """The value ``node`` has where every environment variable it reads is unset
        (so a default that turns debug on is seen), or ``_UNKNOWN``.

        A small constant propagation: literals, module constants (also of scanned
        modules, imported under any alias), class attributes, loop variables bound
        by :meth:`visit_For`, environment reads with their defaults, builtins and
        string methods over constants, ``json.loads`` of a literal, ``not``,
        ``and``/``or``, comparisons and subscripts.
        """
        if node is None or depth > 8:
            return _UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self._name_value(node, depth)
        if isinstance(node, ast.Attribute):
            return self._attribute_value(node)
        if isinstance(node, ast.Call):
            return self._call_value(node, depth)
        if isinstance(node, ast.Compare):
            gate = self._gate(node)
            return gate if gate is not None else self._compare_value(node, depth)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.value(node.operand, depth + 1)
            return _UNKNOWN if inner is _UNKNOWN else not inner
        if isinstance(node, ast.BoolOp):
            return self._boolop_value(node, depth)
        if isinstance(node, ast.Subscript):
            if self._is_environ(node.value):
                return _UNKNOWN  # a KeyError where unset: never served
            container = self.value(node.value, depth + 1)
            key = self.value(node.slice, depth + 1)
            if isinstance(container, dict | list | tuple | str) and key is not _UNKNOWN:
                indexable: Any = container
                try:
                    return indexable[key]
                except (KeyError, IndexError, TypeError):
                    return _UNKNOWN
            return _UNKNOWN
        return _literal(node)

    def _name_value(self, node: ast.Name, depth: int) -> object:
        if node.id in self.bound:
            return self.bound[node.id]
        if self.imports.get(node.id, "").startswith("const:"):
            module, attr = self._imported_from_project(node.id)
            if module is not None:
                return module.constants.get(attr, _UNKNOWN)
            return _UNKNOWN
        if node.id in self.module.constants:
            return self.module.constants[node.id]
        assigned = self.assigned.get(node.id)
        if assigned is not None and assigned is not node:
            return self.value(assigned, depth + 1)
        return _UNKNOWN

    def _attribute_value(self, node: ast.Attribute) -> object:
        """``settings.DEBUG`` of a scanned module (any alias) or ``Config.DEBUG``."""
        if not isinstance(node.value, ast.Name):
            return _UNKNOWN
        owner = node.value.id
        imported = self.imports.get(owner, "")
        if imported.startswith("module:"):
            module = self.project.get(imported.removeprefix("module:"))
            return _UNKNOWN if module is None else module.constants.get(node.attr, _UNKNOWN)
        if owner in self.module.classes:
            return self.module.classes[owner].get(node.attr, _UNKNOWN)
        return _UNKNOWN

    def _call_value(self, node: ast.Call, depth: int) -> object:
        reads, default = self._env_read(node)
        if reads:
            return default
        func = node.func
        if isinstance(func, ast.Name) and func.id in self.returns and not node.args:
            if not node.keywords:  # a simple function: the value it returns
                return self.value(self.returns[func.id], depth + 1)
        if isinstance(func, ast.Name) and self._shadowed(func.id):
            return _UNKNOWN
        if isinstance(func, ast.Name) and func.id == "dict" and not node.args:
            return {k.arg: self.value(k.value, depth + 1) for k in node.keywords if k.arg}
        if node.keywords or len(node.args) > 1:
            return _UNKNOWN
        if isinstance(func, ast.Name) and func.id in _BUILTINS:
            if not node.args:
                return _UNKNOWN
            argument = self.value(node.args[0], depth + 1)
            if argument is _UNKNOWN:
                return _UNKNOWN
            try:
                return _BUILTINS[func.id](argument)
            except (ValueError, TypeError, OverflowError):
                return _UNKNOWN
        if isinstance(func, ast.Attribute) and func.attr in _STR_METHODS and not node.args:
            text = self.value(func.value, depth + 1)
            return getattr(text, func.attr)() if isinstance(text, str) else _UNKNOWN
        if self._resolves_to(func, "json.loads") and node.args:
            text = self.value(node.args[0], depth + 1)
            if isinstance(text, str | bytes):
                try:
                    return json.loads(text)
                except (ValueError, RecursionError):
                    return _UNKNOWN
        return _UNKNOWN

    def _shadowed(self, name: str) -> bool:
        """Whether a builtin's name is bound by the module itself."""
        return name in self.assigned or name in self.imports or name in self.defined

    def _compare_value(self, node: ast.Compare, depth: int) -> object:
        left = self.value(node.left, depth + 1)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.value(comparator, depth + 1)
            compare = _COMPARISONS.get(type(op))
            if left is _UNKNOWN or right is _UNKNOWN or compare is None:
                return _UNKNOWN
            try:
                if not compare(left, right):
                    return False
            except TypeError:
                return _UNKNOWN
            left = right
        return True

    def _boolop_value(self, node: ast.BoolOp, depth: int) -> object:
        result: object = _UNKNOWN
        for operand in node.values:
            result = self.value(operand, depth + 1)
            if result is _UNKNOWN:
                return _UNKNOWN
            # ``and`` stops at the first falsy operand, ``or`` at the first truthy one.
            if bool(result) is isinstance(node.op, ast.Or):
                return result
        return result

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
                default = self.value(node.args[1], 1) if len(node.args) > 1 else None
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
        value = self.value(node)
        if value is _UNKNOWN:
            return None
        if isinstance(value, str):
            return bool(value) and value.strip().lower() not in _FALSE_FLAG
        return bool(value)

    # -- reporting ---------------------------------------------------------------------

    def report(self, node: ast.AST, rule: str) -> None:
        """Record a finding of ``rule`` at ``node``, unless a ``# prodguard: ignore``
        comment on its line silences it."""
        line = getattr(node, "lineno", 1)
        key = (line, getattr(node, "col_offset", 0), rule)
        if key in self._reported:  # a loop body visited once per item
            return
        self._reported.add(key)
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

    def visit_Module(self, node: ast.Module) -> None:  # noqa: N802
        self._visit_block(node.body)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # noqa: N802
        self._visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:  # noqa: N802
        self._visit_function(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name.startswith("test"):
            return
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.visit(node.args)
        self._visit_block(node.body)

    def _visit_block(self, body: list[ast.stmt]) -> None:
        """Visit one scope's statements; in straight-line code the last write wins.

        A write that turns debug on and a later write of the same setting that
        turns it off again, with only writes, imports, definitions and plain
        assignments between them (nothing that could serve), is no finding.
        """
        live: dict[tuple[str, str], list[ScanFinding]] = {}
        for stmt in body:
            start = len(self.findings)
            self.visit(stmt)
            writes = self._debug_writes(stmt)
            if not writes and not isinstance(stmt, _INERT_STATEMENTS):
                live.clear()  # control flow or a call: it may serve what is set
            for slot, on in writes:
                if on is False:
                    for finding in live.pop(slot, []):
                        self.findings.remove(finding)
                elif on:
                    live[slot] = [f for f in self.findings[start:] if f.rule == slot[0]]
                else:
                    live.pop(slot, None)

    def _debug_writes(self, stmt: ast.stmt) -> list[tuple[tuple[str, str], bool | None]]:
        """The debug settings a statement writes: ((rule, owner), on or off)."""
        writes: list[tuple[tuple[str, str], bool | None]] = []
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "debug"
                    and self._is_app(target.value)
                ):
                    owner = _dotted(target.value) or ""
                    writes.append((("PGS102", owner), self.truthy(stmt.value)))
                elif isinstance(target, ast.Subscript) and self._is_config(target.value):
                    if self.value(target.slice) == "DEBUG":
                        owner = _dotted(target.value) or ""
                        writes.append((("PGS103", owner), self.truthy(stmt.value)))
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in ("update", "from_mapping")
                and self._is_config(func.value)
            ):
                values = [self.truthy(v) for v in self._mapping_arguments(stmt.value, "DEBUG")]
                if values:
                    on = (
                        True
                        if any(values)
                        else (False if all(v is False for v in values) else None)
                    )
                    writes.append((("PGS103", _dotted(func.value) or ""), on))
        return writes

    def visit_For(self, node: ast.For) -> None:  # noqa: N802
        """A loop over a known mapping is followed item by item, its variables bound."""
        # Only the outermost such loop is unrolled: nested ones would multiply.
        items = None if self.bound else self._loop_items(node.iter)
        if items is None:
            self.generic_visit(node)
            return
        self.visit(node.iter)
        targets = node.target.elts if isinstance(node.target, ast.Tuple) else [node.target]
        names = [target for target in targets if isinstance(target, ast.Name)]
        if not names or len(names) != len(targets):
            self.generic_visit(node)
            return
        saved = dict(self.bound)
        for item in items[:_LOOP_ITEMS]:
            values = (item,) if len(names) == 1 else item
            if not isinstance(values, tuple) or len(values) != len(names):
                break  # the loop would fail to unpack: nothing more to follow
            for name, value in zip(names, values, strict=True):
                self.bound[name.id] = value
            for stmt in node.body:
                self.visit(stmt)
        self.bound = saved
        for stmt in node.orelse:
            self.visit(stmt)

    def _loop_items(self, node: ast.AST) -> list[object] | None:
        """What a loop over ``MAPPING.items()`` (pairs) or ``MAPPING`` (keys) yields."""
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "items"
            and not node.args
        ):
            mapping = self._mapping(node.func.value)
            return None if mapping is None else list(mapping.items())
        mapping = self._mapping(node)
        return None if mapping is None else list(mapping)

    def _mapping(self, node: ast.AST) -> dict[object, object] | None:
        """A dict known statically (values unknown where they cannot be computed)."""
        if isinstance(node, ast.Name) and node.id in self.dicts:
            node = self.dicts[node.id]
        if isinstance(node, ast.Dict):
            mapping: dict[object, object] = {}
            for key, value in zip(node.keys, node.values, strict=True):
                known = _literal(key) if key is not None else _UNKNOWN
                if known is _UNKNOWN:
                    return None
                try:
                    mapping[known] = self.value(value)
                except TypeError:  # an unhashable key
                    return None
            return mapping
        if isinstance(node, ast.Call) and _dotted(node.func) == "dict" and not node.args:
            return {k.arg: self.value(k.value) for k in node.keywords if k.arg is not None}
        known_value = self.value(node)
        return known_value if isinstance(known_value, dict) else None

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
            key = self.value(target.slice)
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
        # Any other mapping the value analysis knows (``json.loads`` of a literal, ...).
        value = self.value(node)
        if isinstance(value, dict) and key in value:
            return ast.Constant(value[key])
        return None

    def _mapping_arguments(self, node: ast.Call, key: str) -> list[ast.AST]:
        """The values ``key`` gets in an ``update(...)``-like call: keywords, ``**mapping``
        and mappings."""
        values: list[ast.AST] = [k.value for k in node.keywords if k.arg == key]
        for keyword in node.keywords:
            if keyword.arg is None:
                value = self._mapping_value(keyword.value, key)
                if value is not None:
                    values.append(value)
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
