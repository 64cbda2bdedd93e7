"""The scan's analysis of one module: what turns debug on, and the values that say so.

:mod:`.scan` finds and reads the files; this module decides. For each module
that can hold a finding, an :class:`Analyser` makes two passes over its
syntax tree:

1. :meth:`Analyser.collect`, one walk: imports, assignments (in source
   order), functions, classes derived from ``Flask``, app factories and app
   instances, aliases of ``app.run`` and ``app.config``, dict literals.
2. :meth:`Analyser.run`, one visit: the sinks (``app.run(debug=...)``,
   ``app.debug = ...``, ``DEBUG`` in ``app.config``, ``FLASK_DEBUG`` in the
   environment, ``run_simple(use_debugger=...)``, ``DebuggedApplication``,
   the flask command run with ``--debug``), each value decided by
   :meth:`Analyser.value`.

:meth:`Analyser.value` is a small constant propagation: literals, names
assigned in the module (the module scope first), names and attributes of
other scanned modules (imported under any alias, summarised on first use by
:class:`Project`), class attributes (inherited too), what a function without
parameters returns, environment reads taken at their default (debug on
wherever the variable is unset is debug on), builtins and string methods over
constants, ``json.loads`` of a literal, lists, ``not``, ``and``/``or``,
comparisons and subscripts. Every definition it follows is recorded, so that
a finding can show its chain of values (``debug=settings.DEBUG ->
settings_dev.py:3 DEBUG = True``).

Test code is what pytest and unittest collect: in a test file (``test_*.py``,
``*_test.py``, ``conftest.py``) everything but
its ``if __name__ == "__main__":`` block, which runs only as a program; in any
other file, the methods of ``unittest.TestCase`` subclasses.
"""

from __future__ import annotations

import ast
import bisect
import configparser
import dataclasses
import io
import json
import operator
import os
import re
import tokenize
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from pathlib import PurePath
from typing import Any

#: Text a sink's code must hold; a file or a statement without any of them
#: cannot be one (the scan skips them unread).
SINK_WORDS = (
    "ebug",  # debug, Debug, use_debugger, DebuggedApplication, --debug
    "EBUG",  # DEBUG, FLASK_DEBUG
    ".run",
    "run_simple",
    "from_object",
    "from_mapping",
    "config.",  # app.config.update(...), .from_object(...), .from_prefixed_env()
    "config[",
    "config |=",
    "environ[",
    "environ.update",
    "environ.setdefault",
    "environ.copy",
    "os.environ)",  # dict(os.environ)
    "*os.environ",  # {**os.environ, ...}
    "putenv",
    "setattr(",  # setattr(app, flag, on) over a dict of flags
    "argv",
    "main(",
    "subprocess",  # the flask command started as a program
    "os.exec",
    "os.spawn",
    "os.system",
    "set_defaults",  # an argparse subcommand's handler, run with its defaults
)


def may_hold_a_finding(source: str) -> bool:
    """Whether a module's text holds a word of :data:`SINK_WORDS` (one without
    any cannot hold a finding, and is parsed only if another module imports it)."""
    return any(word in source for word in SINK_WORDS)


#: The words of a line where a function's parameter can decide a sink.
_PARAMETRIC_WORDS = ("ebug", "EBUG", ".run(", "run_simple", "from_object", "from_mapping")
#: The same for a decorator's wrapper, which may also load settings it was given.
_WRAPPER_WORDS = (*_PARAMETRIC_WORDS, ".update(", "config[", ".from_")
#: The same for a method: words of a line that writes a setting or starts a server.
_METHOD_SINK_WORDS = (
    "debug=",
    "debug =",
    "EBUG",
    "use_debugger",
    "DebuggedApplication",
    ".run(",
    "run_simple",
    "from_object",
    "from_mapping",
)
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
    "PGS107": (
        "the flask command is started with --debug: the development server with the debugger",
        "Serve with 'flask prodguard serve' (gunicorn or waitress); never 'flask run --debug'.",
    ),
    "PGS108": (
        "a .flaskenv or .env file sets FLASK_DEBUG: 'flask run' and app.run() load it",
        "Remove FLASK_DEBUG from the file; use 'flask run --debug' on a developer's machine.",
    ),
}

_FALSE_FLAG = {"0", "false", "no"}
#: What ``strtobool`` (and environs, decouple) read as true and as false.
_TRUE_WORDS = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE_WORDS = frozenset({"n", "no", "f", "false", "off", "0"})


def flask_debug_on(value: object) -> bool:
    """Whether ``FLASK_DEBUG`` set to ``value`` turns debug mode on, as Flask reads
    it: a non-empty string but ``0``, ``false`` or ``no``."""
    if isinstance(value, str):
        return bool(value) and value.strip().lower() not in _FALSE_FLAG
    return value is not None and bool(value)


_DEV_VALUES = {"development", "dev", "local", "debug", "devel", "test", "testing"}
_PROD_VALUES = {"production", "prod", "live", "staging"}
#: Builtins the value analysis computes over constants (when not shadowed).
_BUILTINS: dict[str, Callable[[Any], object]] = {
    "bool": bool,
    "int": int,
    "str": str,
    "float": float,
}
#: String methods without arguments it computes (``.lower() == "true"``).
_STR_METHODS = frozenset({"lower", "upper", "strip", "casefold", "title", "capitalize"})
#: Methods of ``str`` that take arguments, worked out over known values
#: (``os.environ.get("APP_FLAGS", "debug,reloader").split(",")``).
_STR_CALLS = frozenset(
    {
        "split",
        "rsplit",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "replace",
        "removeprefix",
        "removesuffix",
        "partition",
        "rpartition",
        "splitlines",
        "join",
    }
)
#: The longest text a ``str`` method may make (``replace`` and ``join`` can
#: multiply a constant's length).
_MAX_TEXT = 100_000
_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    # Members of a project's enum are made afresh for each read: they are the
    # same member when they are equal.
    ast.Is: lambda a, b: a == b if isinstance(a, EnumMember) else a is b,
    ast.IsNot: lambda a, b: a != b if isinstance(a, EnumMember) else a is not b,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Pow: operator.pow,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.BitOr: operator.or_,
}
#: ``os.path`` functions computed over paths known as text.
_OS_PATH = tuple(
    f"os.path.{name}"
    for name in ("join", "dirname", "abspath", "realpath", "normpath", "basename")
)
#: Methods of a ``pathlib`` path computed over it.
_PATH_METHODS = frozenset(
    {"resolve", "absolute", "expanduser", "joinpath", "with_name", "with_suffix"}
    | {"open", "read_text"}
)
#: Getters of a ``configparser`` parser.
_INI_GETTERS = frozenset({"get", "getboolean", "getint", "getfloat"})
#: Words of a module that may load settings into an app's config.
_LOADS_SETTINGS = re.compile(
    r"\.(?:from_\w+|update|setdefault)\(|config\[[^\]\n]*\] *=[^=]|TESTING *=[^=]"
)
#: The last names of the library calls :meth:`Analyser._library_call` knows.
_LIBRARY_CALLS = frozenset({"getcwd", "cwd", "import_module", "which", "literal_eval"})
#: The bases of an enumeration.
_ENUM_BASES = ("enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag")
#: Parameter defaults that stand for a command-line option: their default.
_OPTION_DEFAULTS = (
    "typer.Option",
    "typer.Argument",
    "typer.params.Option",
    "fire.Option",
)
#: Frameworks whose app wraps a Flask app, ``run(debug=True)`` passed on to it.
_WRAPPERS = (
    "dash.Dash",
    "connexion.App",
    "connexion.FlaskApp",
    "connexion.apps.flask_app.FlaskApp",
)
#: How many items of a known mapping a loop over it is followed for.
_LOOP_ITEMS = 64
#: How deep the value analysis follows definitions (a cycle stops here too).
_MAX_DEPTH = 48
#: The longest code excerpt a step of a chain shows.
_EXCERPT = 120
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
IGNORE_COMMENT = re.compile(r"#\s*prodguard:\s*ignore(?:\[([A-Z0-9, ]+)\])?")
#: Where ``subprocess`` and ``os`` start programs: a flask command with
#: ``--debug`` started here serves with the debugger.
#: name -> (position of the argument list, position of the environment or -1).
_STARTERS: dict[str, tuple[int, int]] = {
    "subprocess.run": (0, -1),
    "subprocess.Popen": (0, -1),
    "subprocess.call": (0, -1),
    "subprocess.check_call": (0, -1),
    "subprocess.check_output": (0, -1),
    "os.system": (0, -1),
    "os.execv": (1, -1),
    "os.execve": (1, 2),
    "os.execvp": (1, -1),
    "os.execvpe": (1, 2),
    "os.spawnv": (2, -1),
    "os.spawnve": (2, 3),
    "os.spawnvp": (2, -1),
    "os.spawnvpe": (2, 3),
}
_PROCESS_STARTERS = frozenset(_STARTERS)
#: Functions that read a string as a truth value, as ``distutils`` did.
_STRTOBOOL = frozenset({"distutils.util.strtobool", "setuptools._distutils.util.strtobool"})
#: The click entry points of the flask command.
_FLASK_CLI = frozenset({"flask.cli.main", "flask.cli.cli", "flask.cli.cli.main"})
#: Base classes whose ``test*`` methods unittest collects.
_TEST_CASES = frozenset(
    {
        "unittest.TestCase",
        "unittest.IsolatedAsyncioTestCase",
        "flask_testing.TestCase",
        "flask_testing.LiveServerTestCase",
    }
)
#: The keys Flask's own configuration has from the start (a default of a
#: ``config.get`` of one of them is not what it reads).
_FLASK_CONFIG_KEYS = frozenset(
    {
        "DEBUG",
        "TESTING",
        "PROPAGATE_EXCEPTIONS",
        "SECRET_KEY",
        "SECRET_KEY_FALLBACKS",
        "PERMANENT_SESSION_LIFETIME",
        "USE_X_SENDFILE",
        "TRUSTED_HOSTS",
        "SERVER_NAME",
        "APPLICATION_ROOT",
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_DOMAIN",
        "SESSION_COOKIE_PATH",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_PARTITIONED",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_REFRESH_EACH_REQUEST",
        "MAX_CONTENT_LENGTH",
        "MAX_FORM_MEMORY_SIZE",
        "MAX_FORM_PARTS",
        "SEND_FILE_MAX_AGE_DEFAULT",
        "TRAP_BAD_REQUEST_ERRORS",
        "TRAP_HTTP_EXCEPTIONS",
        "EXPLAIN_TEMPLATE_LOADING",
        "PREFERRED_URL_SCHEME",
        "TEMPLATES_AUTO_RELOAD",
        "MAX_COOKIE_SIZE",
        "PROVIDE_AUTOMATIC_OPTIONS",
    }
)
#: Methods of a Flask app that make requests in this process (nothing is served).
_IN_PROCESS = frozenset(
    {"test_client", "test_request_context", "app_context", "test_cli_runner"}
)
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


class _Unknown:
    """What the value analysis cannot tell (a singleton)."""

    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()
_NOT_YET: Any = object()
#: What running a function's statements ends with when it raises, and at a
#: ``break`` or a ``continue`` of a loop being run.
_RAISED: Any = object()
_BREAK: Any = object()
_CONTINUE: Any = object()
#: How many calls deep the analysis follows a call into a project function.
_MAX_CALLS = 10
#: How many statements the analysis of one module may visit or run in all: a
#: file built to make it work forever (calls fanning out level after level) is
#: reported as not analysed instead.
MAX_WORK = 100_000


class TooCostly(Exception):
    """The analysis of one module went over :data:`MAX_WORK`."""


@dataclasses.dataclass(frozen=True, eq=False)
class ClassRef:
    """A class of a scanned module, as a value (``from_object(DevConfig)``)."""

    analyser: Analyser
    name: str


@dataclasses.dataclass(frozen=True)
class EnumMember:
    """A member of an ``enum.Enum`` of the project (``Env.DEVELOPMENT``), as a value."""

    #: The module and class that define it.
    owner: str
    name: str
    value: object = dataclasses.field(compare=False, hash=False)


@dataclasses.dataclass(frozen=True, eq=False)
class Closure:
    """A function a project function made and returned (``make_runner(debug=True)``),
    with the names of the call that made it."""

    analyser: Analyser
    function: ast.FunctionDef
    frame: dict[str, object]


@dataclasses.dataclass(frozen=True)
class _Known:
    """An argument whose value is known already (spread from ``*args``)."""

    value: object


@dataclasses.dataclass(frozen=True, eq=False)
class ModuleRef:
    """A scanned module as a value (``importlib.import_module("settings.local")``)."""

    analyser: Analyser


@dataclasses.dataclass(frozen=True, eq=False)
class Instance:
    """An instance of a scanned class: the keywords it was made with (a settings
    object), and the attributes its ``__init__`` set, when that could be run
    (``None`` when it could not: every attribute it sets is then unknown)."""

    cls: ClassRef
    keywords: dict[str, ast.expr]
    attributes: dict[str, object] | None = None


class AppValue:
    """A Flask app, as the value of a parameter bound at a call site."""

    def __repr__(self) -> str:
        return "<a Flask app>"


AN_APP: Any = AppValue()


@dataclasses.dataclass(frozen=True)
class OpenFile:
    """A data file opened for reading (``open("settings.json")``), as a value."""

    path: str


class IniFile:
    """A ``configparser`` parser, as a value: what it has read (values not
    interpolated: ``%(name)s`` stays as written)."""

    def __init__(self, parser: configparser.ConfigParser | None = None) -> None:
        self.parser = parser or configparser.ConfigParser(interpolation=None)

    def with_text(self, text: str) -> IniFile | None:
        """A copy that has also read ``text`` (``None`` when it does not parse)."""
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_dict(self.parser)
            parser.read_string(text)
        except (configparser.Error, ValueError):
            return None
        return IniFile(parser)


@dataclasses.dataclass(frozen=True)
class IniSection:
    """A section of a ``configparser`` parser (``parser["development"]``), as a value."""

    ini: IniFile
    name: str


class Namespace(dict[str, object]):
    """What ``argparse``'s ``parse_args()`` returns where no option is given: the defaults."""


@dataclasses.dataclass(frozen=True)
class ChainStep:
    """One link of a finding's chain of values: a place and the code there.

    :param path: The file.
    :param line: The 1-based line.
    :param code: The code (or what was read there), shortened.

    .. versionadded:: 0.2
    """

    path: str
    line: int
    code: str

    def as_dict(self) -> dict[str, str | int]:
        """The fields as plain data."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class RawFinding:
    """A finding as the analyser makes it (:mod:`.scan` turns it into a ``ScanFinding``)."""

    line: int
    column: int
    rule: str
    chain: tuple[ChainStep, ...]


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def _parse_data(text: str, loader: str) -> object:
    """A data file's text as its loader would read it (JSON or TOML)."""
    try:
        if loader.startswith("json"):
            return json.loads(text)
        if "toml" in loader:
            import tomllib

            return tomllib.loads(text)
        if loader == "yaml":
            try:  # PyYAML is not a dependency: read only where it is installed
                import yaml  # type: ignore[import-untyped, unused-ignore]
            except ImportError:
                return UNKNOWN
            loaded: object = yaml.safe_load(text)
            return loaded
    except (ValueError, RecursionError, MemoryError):
        return UNKNOWN
    except Exception:  # noqa: BLE001 - yaml.YAMLError and its kin: not a value
        return UNKNOWN
    return UNKNOWN


#: A line that assigns a name: (name, value).
_ASSIGNMENT_LINE = re.compile(r"\s*([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)(.*)")


def _word_pattern(names: Iterable[str]) -> re.Pattern[str]:
    """A pattern that finds any of ``names`` as a whole word."""
    return re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(names))) + r")\b")


#: One assignment of a dotenv file: ``[export ]NAME=value``.
_DOTENV_LINE = re.compile(r"[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=[ \t]*(.*)")


def _dotenv_value(raw: str) -> str:
    """A dotenv value as python-dotenv reads it: quotes removed, or an unquoted
    value up to a `` #`` comment."""
    raw = raw.strip()
    if raw[:1] in ("'", '"'):
        end = raw.find(raw[0], 1)
        return raw[1:end] if end > 0 else raw[1:]
    return raw.split(" #", 1)[0].split("\t#", 1)[0].strip()


def _closing_quote(text: str, quote: str) -> int:
    """Where a quoted dotenv value ends in ``text`` (a backslash escapes a double
    quote), or -1."""
    index = 0
    while True:
        index = text.find(quote, index)
        if index < 0 or quote == "'" or index == 0 or text[index - 1] != "\\":
            return index
        index += 1


def parse_dotenv(text: str) -> list[tuple[int, str, str, str]]:
    """The assignments of a dotenv file: (line, name, value, the line as written).

    A quoted value may go on over several lines, as python-dotenv reads it: the
    lines inside it are part of the value, not assignments.
    """
    found = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        index += 1
        match = _DOTENV_LINE.match(line)
        if match is None:
            continue
        raw = match.group(2).strip()
        if raw[:1] in ("'", '"'):
            quote, rest = raw[0], raw[1:]
            pieces = [rest]
            end = _closing_quote(rest, quote)
            while end < 0 and index < len(lines):
                pieces.append(lines[index])
                index += 1
                end = _closing_quote(pieces[-1], quote)
            if end >= 0:
                pieces[-1] = pieces[-1][:end]
            value = "\n".join(pieces)
        else:
            value = _dotenv_value(raw)
        found.append((number, match.group(1), value, line))
    return found


def _class_chain(cls: ClassRef) -> Iterator[tuple[ClassRef, ast.ClassDef]]:
    """A project class and its first project base, that base's, and so on (at
    most eight), each with its definition."""
    current: ClassRef | None = cls
    for _ in range(8):
        if current is None:
            return
        definition = current.analyser.classes.get(current.name)
        if definition is None:
            return
        yield current, definition
        bases = [current.analyser._quiet_value(base) for base in definition.bases]
        current = next((b for b in bases if isinstance(b, ClassRef)), None)


def _names_read(node: ast.AST | None) -> set[str]:
    """The names an expression reads."""
    if node is None:
        return set()
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _stored_names(target: ast.AST) -> set[str]:
    """The names an assignment target binds or changes (``d`` of ``d[k] = v``)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, ast.Subscript | ast.Attribute):
        return _stored_names(target.value)
    if isinstance(target, ast.Starred):
        return _stored_names(target.value)
    if isinstance(target, ast.Tuple | ast.List):
        return set().union(*(_stored_names(e) for e in target.elts))
    return set()


_Edges = list[tuple[frozenset[str], frozenset[str]]]


def _dataflow(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[set[str], _Edges]:
    """In one walk of a function: the names its result can read directly (its
    returns, branch tests, loops, ``with`` items and attribute writes), and the
    edges (names changed, names read) of its assignments and ``d.update(...)``
    calls."""
    roots: set[str] = set()
    edges: _Edges = []
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Return):
            roots |= _names_read(node.value)
        elif isinstance(node, ast.If | ast.While):
            roots |= _names_read(node.test)
        elif isinstance(node, ast.For):
            used = frozenset(_names_read(node.iter))
            roots |= used
            edges.append((frozenset(_stored_names(node.target)), used))
        elif isinstance(node, ast.With):
            for item in node.items:
                roots |= _names_read(item.context_expr)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            used = frozenset(_names_read(node.value))
            for target in targets:
                if isinstance(target, ast.Attribute):
                    roots |= used  # self.debug = ...: an attribute of the instance
                edges.append((frozenset(_stored_names(target)), used | _names_read(target)))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                # d.update(other), parser.read(path): d changes with what it is given.
                edges.append((frozenset({func.value.id}), frozenset(_names_read(node.value))))
        if not isinstance(node, ast.expr):  # statements hold no statement in an expression
            stack.extend(ast.iter_child_nodes(node))
    return roots, edges


def _closure(names: set[str], edges: _Edges) -> frozenset[str]:
    """``names`` and every name an assignment to one of them reads, in turn."""
    needed = set(names)
    changed = True
    while changed:
        changed = False
        for stored, used in edges:
            if stored & needed and not used <= needed:
                needed |= used
                changed = True
    return frozenset(needed)


def _local_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The names a function assigns (its locals), less those it declares global."""
    names: set[str] = set()
    declared: set[str] = set()
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Global | ast.Nonlocal):
            declared.update(node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            continue  # its own scope
        elif isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp):
            continue
        elif isinstance(node, ast.GeneratorExp):
            continue
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        stack.extend(ast.iter_child_nodes(node))
    return names - declared


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else ``None``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


#: Statements that hold other statements.
_COMPOUND = frozenset(
    {
        ast.If,
        ast.For,
        ast.AsyncFor,
        ast.While,
        ast.With,
        ast.AsyncWith,
        ast.Try,
        ast.TryStar,
        ast.Match,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
    }
)


def _child_statements(node: ast.stmt) -> list[ast.stmt]:
    """The statements directly inside a compound statement, in source order."""
    children: list[ast.stmt] = []
    for field in ("body", "orelse", "finalbody"):
        block = getattr(node, field, None)
        if isinstance(block, list):
            children.extend(block)
    for handler in getattr(node, "handlers", ()):
        children.extend(handler.body)
    for case in getattr(node, "cases", ()):
        children.extend(case.body)
    return children


def _click_option(call: ast.Call) -> tuple[str, ast.expr] | None:
    """(parameter name, default) of a ``click.option(...)`` decorator."""
    declarations = [
        a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
    ]
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    names = [d for d in declarations if d.isidentifier()]
    flags = [d.split("/")[0].strip() for d in declarations if d.startswith("-")]
    longs = [f for f in flags if f.startswith("--")] or flags
    if names:
        name = names[0]
    elif longs:
        name = longs[0].lstrip("-").replace("-", "_").lower()
    else:
        return None
    if "default" in keywords:
        return name, keywords["default"]
    flag = keywords.get("is_flag")
    is_flag = any("/" in d for d in declarations) or (
        isinstance(flag, ast.Constant) and flag.value is True
    )
    return name, ast.Constant(False if is_flag else None)


def _lines_matching(source: str, words: Iterable[str]) -> list[int]:
    """The 1-based numbers of the lines of ``source`` that hold one of ``words``."""
    pattern = re.compile("|".join(re.escape(word) for word in words))
    lines: list[int] = []
    if source.count("\r") != source.count("\r\n"):
        # A lone \r ends a line for the parser too: count by the parser's breaks.
        starts = [0] + [m.end() for m in _LINE_BREAKS.finditer(source)]
        for match in pattern.finditer(source):
            line = bisect.bisect_right(starts, match.start())
            if not lines or lines[-1] != line:
                lines.append(line)
        return lines
    line, last = 1, 0
    for match in pattern.finditer(source):
        position = match.start()
        line += source.count("\n", last, position)  # counted in C, between matches
        last = position
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _str_call(text: str, method: str, arguments: list[object]) -> object:
    """``text.method(*arguments)`` for a method of :data:`_STR_CALLS` over known
    arguments of the types ``str`` takes; :data:`UNKNOWN` for anything else, a
    text or a result longer than :data:`_MAX_TEXT` (a method read again and
    again over a huge constant would cost each time)."""
    if any(a is UNKNOWN for a in arguments) or len(text) > _MAX_TEXT:
        return UNKNOWN
    if method == "join":
        if len(arguments) != 1 or not isinstance(arguments[0], list | tuple | set):
            return UNKNOWN
        items = list(arguments[0])
        if not all(isinstance(item, str) for item in items):
            return UNKNOWN
        size = sum(map(len, items)) + len(text) * max(len(items) - 1, 0)
        return text.join(items) if size <= _MAX_TEXT else UNKNOWN
    if not all(a is None or isinstance(a, str | int | tuple) for a in arguments):
        return UNKNOWN
    if method == "replace" and len(arguments) >= 2:
        old, new = arguments[0], arguments[1]
        if not isinstance(old, str) or not isinstance(new, str):
            return UNKNOWN
        # Each match grows the text by the difference; an empty old matches
        # between every two characters.
        count = text.count(old) if old else len(text) + 1
        if len(text) + count * max(len(new) - len(old), 0) > _MAX_TEXT:
            return UNKNOWN
    try:
        result = getattr(text, method)(*arguments)
    except (TypeError, ValueError, OverflowError, MemoryError):
        return UNKNOWN
    return list(result) if isinstance(result, list) else result


def _parameters(args: ast.arguments) -> dict[str, ast.expr | None]:
    """A function's parameters and their defaults (``None``: no default)."""
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    parameters: dict[str, ast.expr | None] = {
        arg.arg: default
        for arg, default in zip(positional, [*defaults, *args.defaults], strict=True)
    }
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        parameters[arg.arg] = kw_default
    for extra in (args.vararg, args.kwarg):
        if extra is not None:
            parameters[extra.arg] = None
    return parameters


def _is_main_guard(stmt: ast.stmt) -> bool:
    """``if __name__ == "__main__":`` (either way round)."""
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    test = stmt.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    texts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(texts) == 1


class Module:
    """One scanned file: its tree, and what other modules may ask of it."""

    def __init__(
        self,
        name: str,
        path: Path,
        tree: ast.Module,
        source: str,
        is_test: bool,
        is_package: bool = False,
    ) -> None:
        #: The dotted module name under the scanned root.
        self.name = name
        #: Whether it is a package's ``__init__``.
        self.is_package = is_package
        self.path = path
        self.tree = tree
        self.source = source
        #: Whether the file is test code (see the module's docstring).
        self.is_test = is_test
        #: Its analyser, once :class:`Project` has collected it.
        self.analyser: Analyser | None = None
        self._lines: list[str] | None = None

    @property
    def root(self) -> Path:
        """The scanned directory this module's name is relative to."""
        depth = self.name.count(".") + (1 if self.is_package else 0)
        return Path(os.path.abspath(self.path)).parents[depth]

    def excerpt(self, node: ast.AST) -> str:
        """The code of ``node`` on one line, shortened (at most a few lines are read)."""
        if self._lines is None:
            # Split as the parser counts lines (\r\n, \r, \n), once per module.
            self._lines = _LINE_BREAKS.split(self.source)
        lines = self._lines
        first = getattr(node, "lineno", 1)
        last = min(getattr(node, "end_lineno", None) or first, first + 8)
        if not 0 < first <= len(lines):
            return ""
        start = getattr(node, "col_offset", None)
        end = getattr(node, "end_col_offset", None)
        # Columns are UTF-8 byte offsets.
        chunks = [line.encode("utf-8", "surrogatepass") for line in lines[first - 1 : last]]
        if start is not None and end is not None and last == (node.end_lineno or first):  # type: ignore[attr-defined]
            chunks[-1] = chunks[-1][:end]
            chunks[0] = chunks[0][start:]
        text = " ".join(b" ".join(chunks).decode("utf-8", "replace").split())
        return text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."


class Project:
    """The modules of one scanned directory, each collected on first use.

    ``lookup(name)`` is how an analyser reaches another module (for its
    constants, classes, factories and apps); a module that does not parse is
    recorded in ``failed`` by :mod:`.scan`'s loader.
    """

    def __init__(
        self,
        load: Callable[[str], Module | None],
        knows: Callable[[str], bool],
        read: Callable[[Path], str | None] | None = None,
        mentions: Callable[[str], int] | None = None,
    ) -> None:
        self._load = load
        #: Whether a module of that name is scanned (without parsing it).
        self.knows = knows
        #: The text of a data file of the project (``None``: not read).
        self.read: Callable[[Path], str | None] = read or (lambda path: None)
        #: How many times the project's files (Python and settings) hold a text
        #: (unknown, as many as can be, where the scan cannot tell).
        self.mentions: Callable[[str], int] = mentions or (lambda text: 2**31)
        self._modules: dict[str, Module | None] = {}
        self._collecting: set[str] = set()
        #: The chain of the value being decided: (module, node, note) steps; a
        #: note ending in ``=`` or ``:`` is written before the code (``debug=``).
        self.steps: list[tuple[Module, ast.AST, str]] = []
        #: Functions being followed from a call site (a cycle stops there), and
        #: the call sites themselves (the end of every chain found inside).
        self.calling: list[int] = []
        self.call_sites: list[tuple[Module, ast.AST, str]] = []
        #: Every analyser made, so that findings inside functions followed from
        #: another module's call are collected too.
        self.analysers: list[Analyser] = []
        #: Names of functions with a sink on a parameter (see
        #: :meth:`Analyser.parametric_sinks`): calls to them are followed.
        self.parametric: frozenset[str] = frozenset()
        #: Of those, the methods: name -> the classes that define it (a call of
        #: one is looked for only where one of those classes is named).
        self.methods: dict[str, set[str]] = {}
        self._methods_pattern: re.Pattern[str] | None = None
        #: While a Flask subclass's run() is followed from ``app.run(...)``: that
        #: call's analyser, node, app and call-site entry (findings are reported there).
        self.report_at: (
            tuple[Analyser, ast.AST, ast.AST | None, tuple[Module, ast.AST, str]] | None
        ) = None
        #: Statements visited or run for the module being analysed (see :data:`MAX_WORK`).
        self.work = 0
        #: Per function (by id): its locals, and those its result can depend on.
        self.locals: dict[int, tuple[frozenset[str], frozenset[str]]] = {}
        self.flows: dict[int, tuple[set[str], _Edges]] = {}
        #: Directories of the scanned tree the project puts on ``sys.path``, as
        #: dotted prefixes (``libs``).
        self.search_path: list[str] = []
        #: Variables the project's modules put in ``os.environ`` at module level:
        #: a read of one gets that value instead of its default.
        self.environment: dict[str, object] = {}
        #: Where the project sets each of them (a chain step).
        self.environment_source: dict[str, tuple[Module, ast.AST, str]] = {}
        #: Chain steps of attributes an ``__init__`` set: (id of the instance's
        #: attributes, name) -> steps.
        self.attribute_steps: dict[tuple[int, str], list[tuple[Module, ast.AST, str]]] = {}

    def methods_called(self, source: str) -> set[str]:
        """Which followed methods a module's source calls by name (``.serve(``)."""
        if self._methods_pattern is None:
            names = "|".join(map(re.escape, sorted(self.methods)))
            self._methods_pattern = re.compile(rf"\.({names})\s*\(")
        return set(self._methods_pattern.findall(source))

    def names_of(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> tuple[frozenset[str], frozenset[str]]:
        """A function's locals, and those its result can depend on (cached)."""
        found = self.locals.get(id(function))
        if found is None:
            roots, edges = self.flow_of(function)
            found = (frozenset(_local_names(function)), _closure(roots, edges))
            self.locals[id(function)] = found
        return found

    def flow_of(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> tuple[set[str], _Edges]:
        """:func:`_dataflow` of a function (cached)."""
        found = self.flows.get(id(function))
        if found is None:
            found = self.flows[id(function)] = _dataflow(function)
        return found

    def lookup(self, name: str) -> Module | None:
        """The collected module ``name`` (a dotted name or a bare file stem), if scanned."""
        if name in self._modules:
            return self._modules[name]
        if name in self._collecting:
            return None  # an import cycle: what is known so far is all there is
        module = self._load(name)
        if module is None:
            self._modules[name] = None
            return None
        self._collecting.add(name)
        try:
            analyser = module.analyser or Analyser(module, self)
            if module.analyser is None:
                self.analysers.append(analyser)
            if module.analyser is None:
                analyser.collect()
                module.analyser = analyser
        finally:
            self._collecting.discard(name)
        self._modules[name] = module
        return module


class Analyser:
    """Collects one module's names, then finds its sinks (:meth:`run`)."""

    def __init__(self, module: Module, project: Project) -> None:
        self.module = module
        self.project = project
        self.findings: list[RawFinding] = []
        # Local name -> what it stands for: a dotted import ("flask.Flask",
        # "os.environ"), a scanned module ("module:<name>") or a name in one
        # ("const:<module>:<name>").
        self.imports: dict[str, str] = {}
        #: Every assignment of a single name, in source order.
        self.assignments: dict[str, list[ast.Assign]] = {}
        #: Functions and methods, by name.
        self.functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        self.dicts: dict[str, ast.AST] = {}
        # What is decided on first use (None while being decided: a cycle).
        self._apps: dict[str, ast.Assign | None] = {}
        self._factories: dict[str, bool] = {}
        self._flask_classes: dict[str, bool] = {}
        self._enums: dict[str, bool] = {}
        #: The last value assigned to a name anywhere in the module (source order).
        self.assigned: dict[str, ast.AST] = {}
        #: The last value assigned to a name by a statement of the module scope.
        self.module_level: dict[str, ast.AST] = {}
        #: Every module-level value of a name, and the branches each statement is in.
        self._module_candidates: dict[str, list[ast.expr]] = {}
        self._guards: dict[int, tuple[tuple[ast.If, bool], ...]] = {}
        self._resolving: dict[str, int] = {}
        #: The statement of each assignment collected (for the chain).
        self.statements: dict[int, ast.stmt] = {}
        #: Classes of the module: name -> definition.
        self.classes: dict[str, ast.ClassDef] = {}
        #: Functions and classes defined at module level (they shadow builtins).
        self.defined: set[str] = set()
        #: ``from module import *`` statements, in source order, with the module.
        self.star_imports: list[tuple[ast.ImportFrom, str]] = []
        #: Module-level functions, by name (the last definition).
        self.returning: dict[str, ast.FunctionDef] = {}
        #: Values given to ``sys.argv`` (for the flask command started from code).
        self.argv: list[ast.AST] = []
        #: Statements that change a dict after it is made: ``d.update(...)``, ``d[k] = v``.
        self.mutations: dict[str, list[ast.stmt]] = {}
        #: ``<app>.config["KEY"] = value`` statements, by key, in source order.
        self.config_items: dict[str, list[ast.Assign]] = {}
        #: ``parser.add_argument(...)`` calls, by parser name.
        self.arguments: dict[str, list[ast.Call]] = {}
        #: The parameters of the function being visited: name -> default (or None).
        self.parameters: dict[str, ast.expr | None] = {}
        self._function: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        self._following: set[int] = set()
        self._hot: Any = _NOT_YET
        #: Loop variables bound, while one iteration of a loop over a known
        #: mapping is visited, to that iteration's key or value.
        self.bound: dict[str, object] = {}
        #: The chain steps of each name :attr:`bound` by an assignment of a function
        #: being run (:meth:`evaluate`) or followed.
        self._bound_steps: dict[str, list[tuple[Module, ast.AST, str]]] = {}
        #: Whether the function being visited is followed from a call: its local
        #: assignments then update :attr:`bound`, in order.
        self._tracking = False
        #: Whether a loop's items are being followed one by one (see :meth:`_visit_for`).
        self._unrolling = False
        #: What python-decouple reads for this module (see :meth:`_decouple_setting`).
        self._decouple: dict[str, str] | None = None
        self._decouple_lower = False
        #: In a function visited directly, the locals tracked (``None``: all).
        self._tracked: frozenset[str] | None = None
        #: The locals the result of the function being run can depend on.
        self._needed: frozenset[str] = frozenset()
        #: A decorator's wrapper, by id of the decorator (see :meth:`returned_wrapper`).
        self._wrappers: dict[int, ast.FunctionDef | None] = {}
        self._sink_lines: list[int] | None = None
        #: Whether a star import binds a name (see :meth:`defines`).
        self._star_defines: dict[str, bool] = {}
        #: The expression :meth:`decide` is deciding (see :meth:`_gate`).
        self._deciding: ast.AST | None = None
        self._reported: set[tuple[int, int, str]] = set()
        self._ignores: dict[int, str | None] | None = None
        #: The steps of the last value that decided a finding.
        self._decided: list[tuple[Module, ast.AST, str]] = []
        #: Chain steps of a value read out of a mapping (by id of the node made for it).
        self._carried: dict[int, list[tuple[Module, ast.AST, str]]] = {}
        self._visitors: dict[type, Callable[[Any], None]] = {
            ast.FunctionDef: self._visit_function,
            ast.AsyncFunctionDef: self._visit_function,
            ast.ClassDef: self._visit_class,
            ast.If: self._visit_if,
            ast.For: self._visit_for,
            ast.Assign: self._visit_assign,
            ast.AugAssign: self._visit_augassign,
            ast.Call: self._visit_call,
        }

    # -- pass 1: collection ------------------------------------------------------------

    def collect(self) -> None:
        """One walk over the module's statements (not its expressions): imports,
        assignments, functions, classes, dict changes, ``add_argument`` calls.

        Apps, factories and Flask subclasses are decided on first use, so a
        module pays only for what its sinks ask.
        """
        for top in self.module.tree.body:
            if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.defined.add(top.name)
            if isinstance(top, ast.FunctionDef):
                self.returning[top.name] = top
        resolve = self._module_name
        # Depth first, in source order: the last assignment of a name in the
        # source is the one kept. (statement, in the module scope)
        stack: list[tuple[ast.stmt, bool]] = [
            (stmt, True) for stmt in reversed(self.module.tree.body)
        ]
        while stack:
            node, top_level = stack.pop()
            if isinstance(node, ast.Assign):
                self._collect_assign(node, top_level)
            elif isinstance(node, ast.Expr):
                call = node.value
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                    func = call.func
                    if isinstance(func.value, ast.Name):
                        if func.attr in ("update", "setdefault", "read", "read_string"):
                            self.mutations.setdefault(func.value.id, []).append(node)
                        elif func.attr in ("add_argument", "set_defaults"):
                            self.arguments.setdefault(func.value.id, []).append(call)
                    elif func.attr in (
                        "insert",
                        "append",
                        "extend",
                        "addsitedir",
                    ) and self.resolves_to(
                        func,
                        "sys.path.insert",
                        "sys.path.append",
                        "sys.path.extend",
                        "site.addsitedir",
                    ):
                        self._search_path(call)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    self.imports[local] = alias.name if alias.asname else local
                    found = resolve(alias.name, 0)
                    if found is not None:
                        self.imports[alias.asname or alias.name] = f"module:{found}"
            elif isinstance(node, ast.ImportFrom):
                self._import_from(node)
            elif isinstance(node, ast.With):
                # with open(path) as stream: the name stands for what it opens.
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name):
                        self._bind(item.optional_vars.id, item.context_expr, node, top_level)
            elif isinstance(node, ast.AnnAssign):
                if isinstance(node.target, ast.Name) and node.value is not None:
                    self._bind(node.target.id, node.value, node, top_level)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.setdefault(node.name, []).append(node)
                top_level = False
            elif isinstance(node, ast.ClassDef):
                self.classes.setdefault(node.name, node)
                top_level = False
            if isinstance(node, ast.If) and top_level:
                # Module-level branches: remember which assignment is under which.
                for child in node.body:
                    self._guards[id(child)] = (*self._guards.get(id(node), ()), (node, True))
                for child in node.orelse:
                    self._guards[id(child)] = (*self._guards.get(id(node), ()), (node, False))
            children = _child_statements(node) if type(node) in _COMPOUND else ()
            if children:
                if top_level and not isinstance(node, ast.If) and id(node) in self._guards:
                    for child in children:
                        self._guards[id(child)] = self._guards[id(node)]
                stack.extend((child, top_level) for child in reversed(children))

    def _collect_assign(self, node: ast.Assign, top_level: bool) -> None:
        if len(node.targets) != 1:
            return
        target, value = node.targets[0], node.value
        if isinstance(target, ast.Name):
            name = target.id
            self._bind(name, value, node, top_level)
            self.assignments.setdefault(name, []).append(node)
            if isinstance(value, ast.Dict) or (
                isinstance(value, ast.Call) and dotted(value.func) == "dict"
            ):
                self.dicts[name] = value
        elif isinstance(target, ast.Subscript):
            if dotted(target.value) == "sys.argv":
                self.argv.append(value)
            elif dotted(target.value) == "sys.path":
                # sys.path[:0] = [libs, services]: put first on the path.
                added = self._quiet_value(value)
                for path in added if isinstance(added, list | tuple) else ():
                    self._add_search_path(path)
            elif isinstance(target.value, ast.Name):
                self.mutations.setdefault(target.value.id, []).append(node)
            elif isinstance(target.value, ast.Attribute) and target.value.attr == "config":
                key = _literal(target.slice)
                if isinstance(key, str):
                    self.config_items.setdefault(key, []).append(node)
        elif dotted(target) == "sys.argv":
            self.argv.append(value)

    def _bind(self, name: str, value: ast.expr, statement: ast.stmt, top_level: bool) -> None:
        self.assigned[name] = value
        self.statements[id(value)] = statement
        if top_level:
            self.module_level[name] = value
            self._module_candidates.setdefault(name, []).append(value)

    def _quiet_value(self, node: ast.AST, depth: int = 0) -> object:
        """:meth:`value` without touching the chain being built."""
        value, _ = self._traced(node, depth)
        return value

    def _traced(
        self, node: ast.AST, depth: int, local: bool = False
    ) -> tuple[object, list[tuple[Module, ast.AST, str]]]:
        """:meth:`value` (:meth:`_local_value` with ``local``), and the chain steps it
        took, kept out of the chain being built."""
        steps = self.project.steps
        saved = len(steps)
        value = self._local_value(node, depth) if local else self.value(node, depth + 1)
        taken = steps[saved:]
        del steps[saved:]
        return value, taken

    def _quiet_truthy(self, node: ast.AST, depth: int) -> bool | None:
        """:meth:`truthy` without touching the chain being built."""
        value = self._quiet_value(node, depth)
        return None if value is UNKNOWN else bool(value)

    def _module_value(
        self, name: str, depth: int = 0, before: int | None = None
    ) -> ast.expr | None:
        """The last module-level value of ``name`` whose branches can be taken: under
        ``if os.environ.get("APP_ENV") == "development":`` (not taken where nothing
        is set), an assignment does not count."""
        candidates = self._module_candidates.get(name)
        if not candidates:
            return None
        if depth > _MAX_DEPTH:
            return None
        # A guard that reads the name itself (``if not MODE: MODE = ...``) sees
        # the assignments before the one it guards.
        end = self._resolving.get(name, len(candidates))
        saved = self._resolving.get(name)
        try:
            for index in range(end - 1, -1, -1):
                value = candidates[index]
                statement = self.statements.get(id(value))
                if before is not None and statement is not None and statement.lineno >= before:
                    continue  # assigned after the module-level line that reads it
                guards = self._guards.get(id(statement), ()) if statement is not None else ()
                self._resolving[name] = index
                if all(
                    self._quiet_truthy(test.test, depth) is not (not taken)
                    for test, taken in guards
                ):
                    return value
            return None
        finally:
            if saved is None:
                self._resolving.pop(name, None)
            else:
                self._resolving[name] = saved

    def _import_from(self, node: ast.ImportFrom) -> None:
        origin = node.module or ""
        level = node.level
        resolve = self._module_name
        package = resolve(origin, level) if origin or level else None
        for alias in node.names:
            if alias.name == "*":
                # from .local import *: its names, over what was bound before.
                if package is not None:
                    self.star_imports.append((node, package))
                continue
            local = alias.asname or alias.name
            inner = resolve(f"{origin}.{alias.name}" if origin else alias.name, level)
            if inner is not None:
                self.imports[local] = f"module:{inner}"
            elif package is not None:
                self.imports[local] = f"const:{package}:{alias.name}"
            elif not level:
                self.imports[local] = f"{origin}.{alias.name}"

    def _search_path(self, call: ast.Call) -> None:
        """``sys.path.insert(0, str(HERE.parents[1] / "libs"))``, ``sys.path.extend([...])``:
        directories of the scanned tree whose modules are then imported by their
        own names."""
        if not call.args:
            return
        path = self._quiet_value(call.args[-1])
        extend = isinstance(call.func, ast.Attribute) and call.func.attr == "extend"
        paths = path if extend else [path]
        for each in paths if isinstance(paths, list | tuple) else ():
            self._add_search_path(each)

    def _add_search_path(self, path: object) -> None:
        if not isinstance(path, str | PurePath):
            return
        module = self.module
        root = module.root
        try:
            relative = Path(os.path.normpath(os.path.join(module.path.parent, path)))
            parts = relative.relative_to(os.path.abspath(root)).parts
        except ValueError:
            return  # outside the scanned tree
        if all(part.isidentifier() for part in parts):
            prefix = ".".join(parts)
            if prefix not in self.project.search_path:
                self.project.search_path.append(prefix)

    def _module_name(self, name: str, level: int) -> str | None:
        """The scanned module an import names, if any: relative to the importing
        file's package (``level`` dots, or a script's sibling), then absolute."""
        parts = self.module.name.split(".")
        package = parts if self.module.is_package else parts[:-1]
        if level:
            if level - 1 > len(package):
                return None
            base = package[: len(package) - (level - 1)]
            full = ".".join([*base, name] if name else base)
            return full if full and self.project.knows(full) else None
        # A script's sibling (``from app import app`` next to ``run.py``), as
        # Python finds it when the script runs from its own directory.
        knows = self.project.knows
        if package:
            sibling = ".".join([*package, name])
            if knows(sibling):
                return sibling
        if knows(name):
            return name
        # A directory put on sys.path by the project (a monorepo's libs/), or the
        # one above the package this file is in (``from common import settings``
        # in libs/common/server.py, importable only with libs/ on the path).
        prefixes = [*self.project.search_path]
        prefixes.extend(".".join(package[:end]) for end in range(len(package) - 1, 0, -1))
        for prefix in prefixes:
            candidate = f"{prefix}.{name}" if prefix else name
            if knows(candidate):
                return candidate
        return None

    def _returns_app(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """Whether a function returns a new Flask app (directly or through a local)."""
        local_apps: set[str] = set()
        returned: list[ast.expr] = []
        stack: list[ast.AST] = list(function.body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue  # a nested definition returns for itself
            if isinstance(node, ast.Assign) and self._is_flask_call(node.value):
                local_apps.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.Return) and node.value is not None:
                returned.append(node.value)
            if isinstance(node, ast.stmt):
                stack.extend(ast.iter_child_nodes(node))
        return any(
            self._is_flask_call(value)
            or (isinstance(value, ast.Name) and value.id in local_apps)
            for value in returned
        )

    # -- names ---------------------------------------------------------------------------

    def resolves_to(self, node: ast.AST, *targets: str) -> bool:
        """Whether ``node`` names one of ``targets`` (dotted names, through imports)."""
        name = dotted(node)
        if name is None:
            return False
        head, _, rest = name.partition(".")
        full = self.imports.get(head, head)
        if full.startswith("const:"):
            # From a module of the scanned tree (a vendored copy of the library).
            _, module_name, attr = full.split(":")
            full = f"{module_name}.{attr}"
        elif full.startswith("module:"):
            full = full.removeprefix("module:")
        if rest:
            full = f"{full}.{rest}"
        return full in targets

    def _imported(self, local: str) -> tuple[Module | None, str]:
        """For a name imported from a scanned module: that module and the name in it."""
        imported = self.imports.get(local, "")
        if not imported.startswith("const:"):
            return None, ""
        _, module_name, attr = imported.split(":")
        return self.project.lookup(module_name), attr

    def _module_of(self, node: ast.AST) -> Module | None:
        """The scanned module a name stands for (``import settings_dev as settings``)."""
        if not isinstance(node, ast.Name):
            return None
        imported = self.imports.get(node.id, "")
        if not imported.startswith("module:"):
            return None
        return self.project.lookup(imported.removeprefix("module:"))

    def _elsewhere(self, node: ast.AST) -> tuple[Analyser | None, str]:
        """(the analyser of another module, the name there) for ``name`` imported
        from it or for ``module.name``."""
        if isinstance(node, ast.Name):
            module, attr = self._imported(node.id)
        elif isinstance(node, ast.Attribute):
            module, attr = self._module_of(node.value), node.attr
        else:
            return None, ""
        if module is None or module.analyser is None:
            return None, ""
        other = module.analyser
        for _ in range(8):
            # Re-exported (a package's __init__ doing ``from .app import ServiceApp``):
            # where it is defined.
            if attr in other.classes or attr in other.returning or attr in other.assigned:
                break
            further, further_attr = other._imported(attr)
            if further is None or further.analyser is None:
                break
            other, attr = further.analyser, further_attr
        return other, attr

    def _is_flask_class(self, node: ast.AST) -> bool:
        """``Flask`` itself or a class derived from it, here or in a scanned module."""
        if self.resolves_to(node, "flask.Flask", "flask.app.Flask"):
            return True
        if isinstance(node, ast.Name) and node.id in self.classes:
            return self.is_flask_class(node.id)
        other, attr = self._elsewhere(node)
        return other is not None and other.is_flask_class(attr)

    def is_flask_class(self, name: str) -> bool:
        """Whether this module's class ``name`` derives from ``Flask`` (here or not)."""
        if name in self._flask_classes:
            return self._flask_classes[name]
        self._flask_classes[name] = False  # a cycle of bases is no Flask class
        definition = self.classes.get(name)
        found = definition is not None and any(
            self._is_flask_class(base) for base in definition.bases
        )
        self._flask_classes[name] = found
        return found

    def is_factory(self, name: str) -> bool:
        """Whether this module has a function or method ``name`` that returns a new app."""
        if name not in self._factories:
            self._factories[name] = False  # recursion: not (yet) a factory
            self._factories[name] = any(
                self._returns_app(function) for function in self.functions.get(name, ())
            )
        return self._factories[name]

    def app_made(self, name: str) -> ast.Assign | None:
        """The assignment that binds this module's name ``name`` to a Flask app, if any."""
        if name in self._apps:
            return self._apps[name]
        self._apps[name] = None  # while deciding: ``app = app`` is no app
        # Decided once and kept, it costs the file that asks nothing: with the
        # tree shared among processes, another file may be the first to ask,
        # and a file's budget must not depend on that (see .scan_workers).
        project = self.project
        spent, project.work = project.work, 0
        try:
            for assignment in self.assignments.get(name, ()):
                if self._is_app(assignment.value):
                    self._apps[name] = assignment
                    break
        except TooCostly:
            del self._apps[name]  # not decided: whoever asks again pays again
            raise
        finally:
            project.work = spent
        return self._apps[name]

    def _is_flask_call(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and self._is_flask_class(node.func)

    def _is_app(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            if node.id in self.bound:
                return self.bound[node.id] is AN_APP
            if node.id in self.assignments:
                return self.app_made(node.id) is not None
            # ``from app import app``: an instance made in another module.
            other, attr = self._elsewhere(node)
            return other is not None and other.app_made(attr) is not None
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "super" and not node.args:
                # super() in a method of a Flask subclass run for an app.
                function = self._function
                positional = (
                    [*function.args.posonlyargs, *function.args.args] if function else []
                )
                return bool(positional) and self.bound.get(positional[0].arg) is AN_APP
            if self._is_flask_class(func):
                return True
            if isinstance(func, ast.Name):
                if self.is_factory(func.id):
                    return True
            elif isinstance(func, ast.Attribute):
                if self.is_factory(func.attr):
                    # A factory method of the project's own factory class.
                    return True
                # A factory method of a class of another module: Factory().build().
                if self._may_be_instance(func.value):
                    owner = self.value(func.value)
                    if isinstance(owner, Instance):
                        owner = owner.cls
                    if isinstance(owner, ClassRef) and owner.analyser.is_factory(func.attr):
                        return True
            other, attr = self._elsewhere(func)
            return other is not None and other.is_factory(attr)
        if isinstance(node, ast.Attribute):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and isinstance(self.bound.get(root.id), Instance):
                # ``self.app`` of a launcher made with the app.
                return self._quiet_value(node) is AN_APP
            # ``web.app``: an instance made in another module.
            other, attr = self._elsewhere(node)
            return other is not None and other.app_made(attr) is not None
        return False

    def _may_be_instance(self, node: ast.AST) -> bool:
        """Whether ``node`` may be an instance of a scanned class (worth following)."""
        if isinstance(node, ast.Call):
            return self._may_be_class(node.func)
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in self.bound:
            # A parameter or local of a function being run or followed.
            return root is node or isinstance(self.bound[root.id], Instance)
        if isinstance(node, ast.Name):
            return any(
                isinstance(a.value, ast.Call) and self._may_be_class(a.value.func)
                for a in self.assignments.get(node.id, ())
            )
        return False

    def _is_run_alias(self, name: str) -> bool:
        """``serve = app.run`` or ``functools.partial(app.run, ...)``: a name bound to
        an app's ``run``."""
        return any(self._run_of(a.value) is not None for a in self.assignments.get(name, ()))

    def _run_of(self, value: ast.AST) -> ast.Call | None:
        """For ``app.run`` or ``partial(app.run, **fixed)``: the call that fixes
        arguments (an empty one for ``app.run`` itself); ``None`` for anything else."""
        fixed = ast.Call(func=ast.Name("run"), args=[], keywords=[])
        if isinstance(value, ast.Call) and self.resolves_to(value.func, "functools.partial"):
            if not value.args:
                return None
            fixed = value
            value = value.args[0]
        if (
            isinstance(value, ast.Attribute)
            and value.attr == "run"
            and self._is_app(value.value)
        ):
            return fixed
        return None

    def _is_config(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            # ``cfg = app.config``
            return any(
                isinstance(a.value, ast.Attribute)
                and a.value.attr == "config"
                and self._is_app(a.value.value)
                for a in self.assignments.get(node.id, ())
            )
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "config"
            and self._is_app(node.value)
        )

    def _is_environ(self, node: ast.AST) -> bool:
        return self.resolves_to(node, "os.environ")

    # -- values --------------------------------------------------------------------------

    def _step(self, node: ast.AST, note: str = "", module: Module | None = None) -> None:
        self.project.steps.append((module or self.module, node, note))

    def decide(self, node: ast.AST | None, label: str = "") -> object:
        """The value of ``node`` (see :meth:`value`), its chain kept for a finding."""
        steps = self.project.steps
        steps.clear()
        if node is not None:
            self._step(node, label)
        deciding, self._deciding = self._deciding, node
        try:
            result = self.value(node)
        finally:
            self._deciding = deciding
        if node is not None and id(node) in self._carried:
            steps.extend(self._carried[id(node)])  # a value taken out of a mapping
        self._decided = list(steps)
        steps.clear()
        return result

    def truthy(self, node: ast.AST | None, label: str = "") -> bool | None:
        """True: enables (or fails open); False: off; None: cannot tell."""
        value = self.decide(node, label)
        return None if value is UNKNOWN else bool(value)

    def value(self, node: ast.AST | None, depth: int = 0) -> object:
        """The value ``node`` has where every environment variable it reads is unset
        (so a default that turns debug on is seen), or :data:`UNKNOWN`."""
        if node is None or depth > _MAX_DEPTH:
            return UNKNOWN
        kind = type(node)
        if kind is ast.Constant:
            return node.value  # type: ignore[attr-defined]
        if kind is ast.Name:
            return self._name_value(node, depth)  # type: ignore[arg-type]
        if kind is ast.Attribute:
            return self._attribute_value(node, depth)  # type: ignore[arg-type]
        if kind is ast.Call:
            return self._call_value(node, depth)  # type: ignore[arg-type]
        if kind is ast.Compare:
            # A gate on the deployment read as such only where it decides a sink
            # or a branch itself; inside an expression (not, or, a guard) it is
            # the comparison of the values where nothing is set.
            gate = self._gate(node) if node is self._deciding else None  # type: ignore[arg-type]
            return gate if gate is not None else self._compare_value(node, depth)  # type: ignore[arg-type]
        if kind is ast.UnaryOp and isinstance(node.op, ast.Not):  # type: ignore[attr-defined]
            inner = self.value(node.operand, depth + 1)  # type: ignore[attr-defined]
            return UNKNOWN if inner is UNKNOWN else not inner
        if kind is ast.BoolOp:
            return self._boolop_value(node, depth)  # type: ignore[arg-type]
        if kind is ast.Subscript:
            return self._subscript_value(node, depth)  # type: ignore[arg-type]
        if kind is ast.List or kind is ast.Tuple:
            items = [
                self.value(item, depth + 1)
                for item in node.elts[:_LOOP_ITEMS]  # type: ignore[attr-defined]
            ]
            return items if kind is ast.List else tuple(items)
        if kind is ast.Dict:
            return self._dict_value(node, depth)  # type: ignore[arg-type]
        if kind is ast.IfExp:  # DevConfig if ENV == "development" else ProdConfig
            test = self.value(node.test, depth + 1)  # type: ignore[attr-defined]
            if test is UNKNOWN:
                return UNKNOWN
            branch = node.body if test else node.orelse  # type: ignore[attr-defined]
            return self.value(branch, depth + 1)
        if kind is ast.BinOp:
            return self._binop_value(node, depth)  # type: ignore[arg-type]
        if kind is ast.NamedExpr:  # (port := os.getenv("PORT")): what is assigned
            return self.value(node.value, depth + 1)  # type: ignore[attr-defined]
        if kind is ast.JoinedStr:
            return self._fstring_value(node, depth)  # type: ignore[arg-type]
        if kind is ast.DictComp or kind is ast.ListComp or kind is ast.SetComp:
            return self._comprehension_value(node, depth)  # type: ignore[arg-type]
        return _literal(node)

    def _fstring_value(self, node: ast.JoinedStr, depth: int) -> object:
        """``f"config.{ENV.capitalize()}Config"`` over known values."""
        parts: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
                continue
            if not isinstance(part, ast.FormattedValue):
                return UNKNOWN
            inner = self.value(part.value, depth + 1)
            if not isinstance(inner, str | int | float | bool) and inner is not None:
                return UNKNOWN
            spec = self.value(part.format_spec, depth + 1) if part.format_spec else ""
            if not isinstance(spec, str):
                return UNKNOWN
            # !s, !r, !a (their code points), else the value itself.
            conversions: dict[int, Callable[[object], object]] = {
                115: str,
                114: repr,
                97: ascii,
            }
            convert = conversions.get(part.conversion)
            try:
                parts.append(format(convert(inner) if convert else inner, spec))
            except (ValueError, TypeError):
                return UNKNOWN
        return "".join(parts)

    def _comprehension_value(
        self, node: ast.DictComp | ast.ListComp | ast.SetComp, depth: int
    ) -> object:
        """``{k: os.environ.get(k, v) for k, v in DEFAULTS.items()}`` over a known
        dict or list: one ``for``, its ``if`` tests known."""
        if len(node.generators) != 1 or node.generators[0].is_async:
            return UNKNOWN
        generator = node.generators[0]
        items = self._iterated(generator.iter, depth)
        targets = (
            generator.target.elts
            if isinstance(generator.target, ast.Tuple)
            else [generator.target]
        )
        if items is None or not all(isinstance(t, ast.Name) for t in targets):
            return UNKNOWN
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        saved = {name: self.bound[name] for name in names if name in self.bound}
        made: list[object] = []
        try:
            for item in items[:_LOOP_ITEMS]:
                values = (item,) if len(names) == 1 else item
                if not isinstance(values, tuple | list) or len(values) != len(names):
                    return UNKNOWN
                self.bound.update(zip(names, values, strict=True))
                tests = [self.value(test, depth + 1) for test in generator.ifs]
                if any(test is UNKNOWN for test in tests):
                    return UNKNOWN
                if not all(tests):
                    continue
                if isinstance(node, ast.DictComp):
                    made.append(
                        (self.value(node.key, depth + 1), self.value(node.value, depth + 1))
                    )
                else:
                    made.append(self.value(node.elt, depth + 1))
        finally:
            for name in names:
                if name in saved:
                    self.bound[name] = saved[name]
                else:
                    self.bound.pop(name, None)
        try:
            if isinstance(node, ast.DictComp):
                return dict(made)  # type: ignore[arg-type]
            return made if isinstance(node, ast.ListComp) else set(made)
        except TypeError:  # an unhashable key
            return UNKNOWN

    def _iterated(self, node: ast.AST, depth: int) -> list[object] | None:
        """What a ``for`` over ``node`` yields, where it is known: a dict's keys (or
        its ``items()``, ``keys()``, ``values()``), a list or a tuple."""
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("items", "keys", "values")
            and not node.args
            and not node.keywords
        ):
            mapping = self.value(node.func.value, depth + 1)
            if not isinstance(mapping, dict):
                return None
            return list(getattr(mapping, node.func.attr)())
        known = self.value(node, depth + 1)
        if isinstance(known, dict | list | tuple):
            return list(known)
        return None

    def _dict_value(self, node: ast.Dict, depth: int) -> object:
        mapping: dict[Any, object] = {}
        for key, item in zip(node.keys[:_LOOP_ITEMS], node.values, strict=False):
            if key is None:  # {**other}
                if self._is_environ(item):
                    continue  # {**os.environ, ...}: nothing set, as everywhere here
                other = self.value(item, depth + 1)
                if not isinstance(other, dict):
                    return UNKNOWN
                mapping.update(other)
                continue
            known = self.value(key, depth + 1)
            if known is UNKNOWN:
                return UNKNOWN
            try:
                mapping[known] = self.value(item, depth + 1)
            except TypeError:  # an unhashable key
                return UNKNOWN
        return mapping

    def _binop_value(self, node: ast.BinOp, depth: int) -> object:
        if type(node.op) is ast.Div:
            # Path(__file__).parent / "settings.cfg"
            left = self.value(node.left, depth + 1)
            right = self.value(node.right, depth + 1)
            if isinstance(left, PurePath) and isinstance(right, str | PurePath):
                return left / right
            return UNKNOWN
        operation = _ARITHMETIC.get(type(node.op))
        if operation is None:
            return UNKNOWN
        left = self.value(node.left, depth + 1)
        right = self.value(node.right, depth + 1)
        if type(node.op) is ast.Add and isinstance(left, list) and right is UNKNOWN:
            # argv + sys.argv[1:]: the known part, then something unknown.
            return [*left, UNKNOWN]
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        # Numbers only, and strings or lists joined: "x" * 10**9 is not computed.
        if isinstance(left, str | list) or isinstance(right, str | list):
            if type(node.op) is not ast.Add or type(left) is not type(right):
                return UNKNOWN
        elif not (isinstance(left, int | float) and isinstance(right, int | float)):
            return UNKNOWN
        elif type(node.op) is ast.Pow and abs(right) > 64:
            return UNKNOWN
        if isinstance(left, str | list) and isinstance(right, str | list):
            if len(left) + len(right) > _MAX_TEXT:
                return UNKNOWN  # a constant doubled name after name grows without end
        try:
            return operation(left, right)
        except (ArithmeticError, ValueError, TypeError):
            return UNKNOWN

    def _name_value(self, node: ast.Name, depth: int) -> object:
        # Every name looked up is work too: names that each name many others,
        # level after level, would otherwise run for hours in a few lines.
        project = self.project
        project.work += 1
        if project.work > MAX_WORK:
            raise TooCostly
        name = node.id
        if name in self.bound:
            self.project.steps.extend(self._bound_steps.get(name, ()))
            return self.bound[name]
        if name == "__file__" and name not in self.assigned:
            return os.path.abspath(self.module.path)
        if name in _BUILTINS and not self._shadowed(name) and name not in self.parameters:
            return _BUILTINS[name]  # cast=bool: the builtin itself, as a value
        other, attr = self._elsewhere(node)
        if other is not None:
            return other.global_value(attr, depth + 1)
        if self.imports.get(name, "").startswith("const:"):
            return UNKNOWN  # from a scanned module that does not define it
        function = self._function
        assigned = self.assigned.get(name)
        if name in self.parameters:
            # A parameter, unless the function assigns it: its default, which
            # is what it is where the caller gives nothing.
            statement = self.statements.get(id(assigned)) if assigned is not None else None
            inside = (
                statement is not None
                and function is not None
                and function.lineno <= statement.lineno <= (function.end_lineno or 0)
            )
            if not inside or id(assigned) in self._following:
                default = self.parameters[name]
                if default is None:
                    return UNKNOWN
                self._step(default, f"the default of {name}")
                return self.value(default, depth + 1)
        elif name in self._module_candidates:
            # Read by module-level code: what was assigned before that line.
            line = getattr(node, "lineno", None) if self._function is None else None
            assigned = self._module_value(name, depth, line)
            if assigned is None:
                return UNKNOWN
        if assigned is None or assigned is node:
            if name in self.classes:
                return ClassRef(self, name)
            if (
                assigned is None
                and self.star_imports
                and name not in self.bound
                and name not in self.parameters
                and name not in self._module_candidates
            ):
                # from legacy import *: a name this module never binds itself.
                return self.global_value(name, depth + 1)
            return UNKNOWN
        if id(assigned) in self._following:
            return UNKNOWN  # ``x = x or ...`` outside a function: what x was is unknown
        self._step(self.statements.get(id(assigned), assigned))
        self._following.add(id(assigned))
        try:
            result = self.value(assigned, depth + 1)
        finally:
            self._following.discard(id(assigned))
        if isinstance(result, dict) and name in self.mutations:
            result = self._mutated(name, result, assigned, node, depth)
        elif isinstance(result, IniFile) and name in self.mutations:
            first = getattr(assigned, "lineno", 0)
            last = getattr(node, "lineno", 10**9)
            for statement in self.mutations[name]:
                if first < statement.lineno < last and isinstance(statement, ast.Expr):
                    if isinstance(statement.value, ast.Call) and isinstance(result, IniFile):
                        result = self._ini_read(result, statement.value, depth)
        return result

    def _mutated(
        self, name: str, mapping: dict[Any, object], made: ast.AST, used: ast.AST, depth: int
    ) -> object:
        """``mapping`` after the ``update``, ``setdefault`` and item writes between
        where it was made and where it is used."""
        result = dict(mapping)
        first = getattr(made, "lineno", 0)
        last = getattr(used, "lineno", 10**9)
        for statement in self.mutations[name]:
            if not first < statement.lineno < last:
                continue
            if isinstance(statement, ast.Assign):
                target = statement.targets[0]
                assert isinstance(target, ast.Subscript)
                key = self.value(target.slice, depth + 1)
                if key is UNKNOWN:
                    return UNKNOWN
                self._step(statement)
                try:
                    result[key] = self.value(statement.value, depth + 1)
                except TypeError:  # an unhashable key
                    return UNKNOWN
            elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
                call = statement.value
                assert isinstance(call.func, ast.Attribute)
                self._step(statement)
                if call.func.attr == "setdefault" and len(call.args) == 2:
                    key = self.value(call.args[0], depth + 1)
                    if key is UNKNOWN:
                        return UNKNOWN
                    try:
                        result.setdefault(key, self.value(call.args[1], depth + 1))
                    except TypeError:  # an unhashable key
                        return UNKNOWN
                    continue
                for argument in call.args:
                    other = self.value(argument, depth + 1)
                    if not isinstance(other, dict):
                        return UNKNOWN
                    result.update(other)
                for keyword in call.keywords:
                    if keyword.arg is None:
                        other = self.value(keyword.value, depth + 1)
                        if not isinstance(other, dict):
                            return UNKNOWN
                        result.update(other)
                    else:
                        result[keyword.arg] = self.value(keyword.value, depth + 1)
        return result

    def global_value(self, name: str, depth: int) -> object:
        """The value of this module's global ``name`` (asked by another module)."""
        assigned = self._module_value(name, depth) if name in self._module_candidates else None
        if self.star_imports and depth <= _MAX_DEPTH:
            statement = self.statements.get(id(assigned)) if assigned is not None else None
            after = statement.lineno if statement is not None else 0
            for star, module_name in reversed(self.star_imports):
                if star.lineno <= after:
                    break  # assigned after the last import that could bind it
                module = self.project.lookup(module_name)
                other = module.analyser if module is not None else None
                if other is not None and other is not self and other.defines(name, depth + 1):
                    self._step(star)
                    return other.global_value(name, depth + 1)
        if assigned is None:
            return ClassRef(self, name) if name in self.classes else UNKNOWN
        self._step(self.statements.get(id(assigned), assigned))
        return self.value(assigned, depth + 1)

    def defines(self, name: str, depth: int) -> bool:
        """Whether this module binds the global ``name`` (star imports included)."""
        if name in self._module_candidates or name in self.classes or name in self.returning:
            return True
        if depth > _MAX_DEPTH:
            return False
        known = self._star_defines.get(name)
        if known is not None:
            return known
        # Decided once per name: star imports in a circle would otherwise try
        # every path round it, level after level (exponential).
        self._star_defines[name] = False
        for _, module_name in self.star_imports:
            module = self.project.lookup(module_name)
            other = module.analyser if module is not None else None
            if other is not None and other is not self and other.defines(name, depth + 1):
                self._star_defines[name] = True
                break
        return self._star_defines[name]

    def _attribute_value(self, node: ast.Attribute, depth: int) -> object:
        """``settings.DEBUG`` of a scanned module (any alias), ``Config.DEBUG``, an
        attribute of a settings object or of parsed arguments."""
        owner = node.value
        if node.attr == "argv" and not self.argv and self.resolves_to(node, "sys.argv"):
            # No command-line arguments, as no environment variable: the
            # program's defaults ("--prod" in sys.argv is false).
            self._step(node, "no arguments given")
            return [os.fspath(self.module.path)]
        if node.attr == "root_path" and self._is_app(owner):
            # Flask(__name__): the folder of the module (a package's own folder).
            return os.path.abspath(Path(self.module.path).parent)
        if node.attr == "debug" and self._is_app(owner):
            # Reading app.debug: off, since only FLASK_DEBUG turns it on (a write
            # of app.debug is a finding of its own).
            self._step(node, "off unless FLASK_DEBUG is set")
            return flask_debug_on(self.project.environment.get("FLASK_DEBUG"))
        module = self._module_of(owner)
        if module is not None and module.analyser is not None:
            return module.analyser.global_value(node.attr, depth + 1)
        return self.attribute_of(self.value(owner, depth + 1), node.attr, depth + 1)

    def attribute_of(self, owner: object, attr: str, depth: int) -> object:
        """The attribute ``attr`` of a value the analysis knows."""
        if isinstance(owner, ClassRef):
            if owner.analyser.is_enum(owner.name, depth):
                return owner.analyser.enum_member(owner.name, attr, depth)
            return owner.analyser.class_lookup(owner.name, attr, depth)
        if isinstance(owner, EnumMember):
            return {"value": owner.value, "name": owner.name}.get(attr, UNKNOWN)
        if isinstance(owner, Instance):
            cls = owner.cls
            if owner.attributes is not None:
                # Made by a class with an __init__ that could be run.
                if attr in owner.attributes:
                    key = (id(owner.attributes), attr)
                    self.project.steps.extend(self.project.attribute_steps.get(key, ()))
                    return owner.attributes[attr]
            elif attr in owner.keywords:
                return self.value(owner.keywords[attr], depth + 1)
            elif cls.analyser.sets_in_init(cls.name, attr):
                return UNKNOWN
            found = cls.analyser.method_of(cls, attr)
            if found is not None:
                analyser, method = found
                if any(
                    dotted(d) in ("property", "functools.cached_property", "cached_property")
                    for d in method.decorator_list
                ):
                    # A property: what its getter returns for this instance.
                    positional = [*method.args.posonlyargs, *method.args.args]
                    if len(positional) != 1:
                        return UNKNOWN
                    bound: dict[str, object] = {positional[0].arg: owner}
                    return analyser.evaluate(method, bound, depth, method=True)[0]
                return UNKNOWN
            return cls.analyser.class_lookup(cls.name, attr, depth)
        if isinstance(owner, Namespace):
            return owner.get(attr, UNKNOWN)
        if isinstance(owner, ModuleRef):
            return owner.analyser.global_value(attr, depth + 1)
        if isinstance(owner, PurePath) and attr in ("parent", "name", "stem", "suffix"):
            return getattr(owner, attr)
        if isinstance(owner, PurePath) and attr == "parents":
            return tuple(owner.parents)
        return UNKNOWN

    def sets_in_init(self, name: str, attr: str) -> bool:
        """Whether the class's ``__init__`` assigns ``self.<attr>``."""
        for item in self.classes[name].body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                for node in ast.walk(item):
                    if isinstance(node, ast.Attribute) and node.attr == attr:
                        if isinstance(node.ctx, ast.Store):
                            return True
        return False

    def is_enum(self, name: str, depth: int) -> bool:
        """Whether this module's class ``name`` derives from ``enum.Enum`` (or its kin)."""
        found = self._enums.get(name)
        if found is not None:
            return found
        definition = self.classes.get(name)
        if definition is None or depth > _MAX_DEPTH:
            return False
        self._enums[name] = False  # a cycle of bases is no enum
        found = False
        for base in definition.bases:
            if self.resolves_to(base, *_ENUM_BASES):
                found = True
                break
            ref = self._quiet_value(base, depth + 1)
            if isinstance(ref, ClassRef) and ref.analyser.is_enum(ref.name, depth + 1):
                found = True
                break
        self._enums[name] = found
        return found

    def enum_member(self, name: str, attr: str, depth: int) -> object:
        """The member ``attr`` of this module's enum ``name`` (its value worked out)."""
        for item in self.classes[name].body:
            if isinstance(item, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == attr for t in item.targets
            ):
                self._step(item)
                return EnumMember(
                    f"{self.module.name}:{name}", attr, self.value(item.value, depth + 1)
                )
        return UNKNOWN

    def enum_members(self, name: str, depth: int) -> list[EnumMember]:
        """Every member of this module's enum ``name``."""
        members = []
        for item in self.classes[name].body:
            if isinstance(item, ast.Assign) and len(item.targets) == 1:
                target = item.targets[0]
                if isinstance(target, ast.Name) and not target.id.startswith("_"):
                    member = self.enum_member(name, target.id, depth)
                    if isinstance(member, EnumMember):
                        members.append(member)
        return members

    def class_lookup(self, name: str, attr: str, depth: int) -> object:
        """``attr`` of this module's class ``name``, or of its first base that has it."""
        if depth > _MAX_DEPTH or name not in self.classes:
            return UNKNOWN
        analyser = self
        definition = analyser.classes[name]
        for item in definition.body:
            if isinstance(item, ast.Assign):
                for target in item.targets:
                    if isinstance(target, ast.Name) and target.id == attr:
                        analyser._step(item)
                        return analyser.value(item.value, depth + 1)
            elif (
                isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and item.target.id == attr
                and item.value is not None
            ):
                analyser._step(item)
                return analyser._field_value(item.value, depth + 1)
        for base in definition.bases:  # inherited: the first base that has it
            inherited = self.attribute_of(self.value(base, depth + 1), attr, depth + 1)
            if inherited is not UNKNOWN:
                return inherited
        return UNKNOWN

    def _library_call(self, node: ast.Call, depth: int) -> object:
        """``os.getcwd()``, ``importlib.import_module(...)``, ``shutil.which(...)``,
        ``ast.literal_eval(...)`` over known values; ``_NOT_YET`` for another call."""
        func = node.func
        if not node.args and self.resolves_to(func, "os.getcwd", "pathlib.Path.cwd"):
            # Where the project's commands run from: the scanned directory.
            root = self.module.root
            return root if self.resolves_to(func, "pathlib.Path.cwd") else os.fspath(root)
        if node.args and self.resolves_to(func, "importlib.import_module"):
            return self._imported_module(node, depth)
        if len(node.args) == 1 and self.resolves_to(func, "shutil.which"):
            # The program's path: its last part is the name (or None where it is
            # not installed, which a launcher falls back from to the name).
            name = self.value(node.args[0], depth + 1)
            return name if isinstance(name, str) else UNKNOWN
        if node.args and self.resolves_to(func, "ast.literal_eval"):
            text = self.value(node.args[0], depth + 1)
            if isinstance(text, str) and len(text) <= 10_000:
                try:
                    return ast.literal_eval(text)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    return UNKNOWN
            return UNKNOWN
        return _NOT_YET

    def _imported_module(self, node: ast.Call, depth: int) -> object:
        """``importlib.import_module(name, package)``: the scanned module it names."""
        name = self.value(node.args[0], depth + 1)
        package_node = node.args[1] if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg == "package":
                package_node = keyword.value
        package = self.value(package_node, depth + 1) if package_node is not None else None
        if not isinstance(name, str) or not name.strip("."):
            return UNKNOWN
        if name.startswith("."):
            if not isinstance(package, str):
                return UNKNOWN
            level = len(name) - len(name.lstrip("."))
            parts = package.split(".")
            if level - 1 >= len(parts):
                return UNKNOWN
            name = ".".join([*parts[: len(parts) - (level - 1)], name.lstrip(".")])
        found = self._module_name(name, 0)
        module = self.project.lookup(found) if found is not None else None
        if module is None or module.analyser is None:
            return UNKNOWN
        self._step(node, f"imports {found}")
        return ModuleRef(module.analyser)

    def _field_value(self, node: ast.expr, depth: int) -> object:
        """A class attribute's value; for a dataclass ``field(...)``, its default
        (or what its ``default_factory`` lambda returns)."""
        if isinstance(node, ast.Call) and self.resolves_to(
            node.func, "dataclasses.field", "pydantic.Field", "pydantic.fields.Field"
        ):
            for keyword in node.keywords:
                if keyword.arg == "default":
                    return self.value(keyword.value, depth + 1)
                if keyword.arg == "default_factory":
                    factory = keyword.value
                    if isinstance(factory, ast.Lambda):
                        return self.value(factory.body, depth + 1)
                    return UNKNOWN
            return UNKNOWN
        return self.value(node, depth)

    def _call_value(self, node: ast.Call, depth: int) -> object:
        reads, default = self._env_read(node, depth)
        if reads:
            shown = "None" if default is None else repr(default)
            name = self._quiet_value(node.args[0], depth) if node.args else UNKNOWN
            source = (
                self.project.environment_source.get(name) if isinstance(name, str) else None
            )
            if source is not None:
                self._step(node, f"{shown}, set by the project")
                self.project.steps.append(source)
            else:
                self._step(node, f"unset: {shown}")
            return default
        func = node.func
        last = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if last in _LIBRARY_CALLS:
            known = self._library_call(node, depth)
            if known is not _NOT_YET:
                return known
        if isinstance(func, ast.Attribute) and func.attr in ("parse_args", "parse_known_args"):
            parsed = self._parsed_arguments(func.value, depth)
            if parsed is not UNKNOWN and func.attr == "parse_known_args":
                return (parsed, [])
            return parsed
        if isinstance(func, ast.Name) and func.id == "vars" and len(node.args) == 1:
            namespace = self.value(node.args[0], depth + 1)
            return dict(namespace) if isinstance(namespace, Namespace) else UNKNOWN
        if self._may_be_class(func) or (
            isinstance(func, ast.Name) and isinstance(self.bound.get(func.id), ClassRef)
        ):
            # Settings(...), or cls(...) in a class method.
            made = self.value(func, depth + 1)
            if isinstance(made, ClassRef) and made.analyser.is_enum(made.name, depth):
                # Env("development"): the member of that value (a ValueError if none).
                if len(node.args) != 1 or node.keywords:
                    return UNKNOWN
                wanted = self.value(node.args[0], depth + 1)
                if isinstance(wanted, EnumMember):
                    return wanted
                for member in made.analyser.enum_members(made.name, depth):
                    if wanted is not UNKNOWN and member.value == wanted:
                        return member
                return UNKNOWN
            if isinstance(made, ClassRef):
                return self._instance(made, node, depth)
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and self._may_be_class(func.value)
        ):
            # Settings.from_env(): a class or static method of a project class.
            cls = self._quiet_value(func.value)
            if isinstance(cls, ClassRef):
                called = self._class_method_value(cls, node, func.attr, depth)
                if called is not _NOT_YET:
                    return called
        if (isinstance(func, ast.Attribute) and func.attr == "_asdict" and not node.args) or (
            last == "asdict"
            and len(node.args) == 1
            and self.resolves_to(func, "dataclasses.asdict")
        ):
            method = isinstance(func, ast.Attribute) and func.attr == "_asdict"
            owner = self.value(func.value if method else node.args[0], depth + 1)  # type: ignore[attr-defined]
            if isinstance(owner, Instance):
                return self._fields_dict(owner, depth)
        if isinstance(func, ast.Attribute) and self._may_be_instance(func.value):
            # A method of an instance of a project class: what it returns.
            called = self._method_call_value(node, depth)
            if called is not _NOT_YET:
                return called
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and len(node.args) == 2
            and not node.keywords
            and self._is_config(func.value)
        ):
            return self._config_default(node, depth)
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and 1 <= len(node.args) <= 2
            and not node.keywords
            and not self._is_environ(func.value)
        ):
            # settings.get("debugger", False) on a dict the analysis knows.
            mapping = self.value(func.value, depth + 1)
            if isinstance(mapping, dict):
                key = self.value(node.args[0], depth + 1)
                if key is UNKNOWN:
                    return UNKNOWN
                if len(node.args) == 2 and key not in mapping:
                    return self.value(node.args[1], depth + 1)
                try:
                    return mapping.get(key)
                except TypeError:  # an unhashable key
                    return UNKNOWN
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("items", "keys", "values")
            and not node.args
            and not node.keywords
        ):
            mapping = self.value(func.value, depth + 1)
            if isinstance(mapping, dict):
                view = getattr(mapping, func.attr)()
                return list(view)[:_LOOP_ITEMS]
        files = self._file_value(node, depth)
        if files is not _NOT_YET:
            return files
        if self.resolves_to(func, *_OPTION_DEFAULTS):
            # def serve(debug: bool = typer.Option(True)): the value where not given.
            for keyword in node.keywords:
                if keyword.arg == "default":
                    return self.value(keyword.value, depth + 1)
            return self.value(node.args[0], depth + 1) if node.args else UNKNOWN
        if self.resolves_to(func, "dotenv.dotenv_values", "dotenv.main.dotenv_values"):
            # The values of the project's file (none when it has no such file).
            return dict(self._dotenv_file(node))
        if node.args and self.resolves_to(func, *_STRTOBOOL):
            text = self.value(node.args[0], depth + 1)
            if isinstance(text, str):
                lowered = text.strip().lower()
                if lowered in _TRUE_WORDS:
                    return 1
                if lowered in _FALSE_WORDS:
                    return 0
            return UNKNOWN
        if isinstance(func, ast.Name) or (
            isinstance(func, ast.Attribute) and self._may_be_class(func)
        ):
            # A function of the project (``helpers.env_bool(...)`` too): what it
            # returns for these arguments.
            called = self._call_with_arguments(node, depth)
            if called is not _NOT_YET:
                return called
        if isinstance(func, ast.Name) and self._shadowed(func.id):
            return UNKNOWN
        if isinstance(func, ast.Name) and func.id == "dict" and not self._shadowed("dict"):
            if not node.args:
                return {k.arg: self.value(k.value, depth + 1) for k in node.keywords if k.arg}
            if len(node.args) == 1 and self._is_environ(node.args[0]):
                # A copy of the environment: nothing set, as everywhere here.
                return {k.arg: self.value(k.value, depth + 1) for k in node.keywords if k.arg}
            if len(node.args) == 1:  # dict(DEFAULTS, port=80): a copy, then keywords
                copied = self.value(node.args[0], depth + 1)
                if isinstance(copied, dict):
                    extra = {
                        k.arg: self.value(k.value, depth + 1) for k in node.keywords if k.arg
                    }
                    return {**copied, **extra}
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "copy"
            and not node.args
            and self._is_environ(func.value)
        ):
            return {}
        if (
            isinstance(func, ast.Name)
            and func.id == "isinstance"
            and len(node.args) == 2
            and not self._shadowed("isinstance")
        ):
            return self._isinstance(node.args[0], node.args[1], depth)
        if (
            isinstance(func, ast.Name)
            and func.id == "getattr"
            and 2 <= len(node.args) <= 3
            and not node.keywords
            and not self._shadowed("getattr")
        ):
            return self._getattr_value(node, depth)
        if isinstance(func, ast.Attribute) and func.attr in _STR_CALLS and not node.keywords:
            # "debug; metrics".replace(" ", "").split(";")
            text = self.value(func.value, depth + 1)
            if isinstance(text, str):
                arguments = [self.value(argument, depth + 1) for argument in node.args]
                return _str_call(text, func.attr, arguments)
        if node.keywords or len(node.args) > 1:
            return UNKNOWN
        if isinstance(func, ast.Name) and func.id in self.bound and len(node.args) == 1:
            # cast(value) where cast is bound to a builtin (cast=bool).
            cast = self.bound[func.id]
            if any(cast is builtin for builtin in _BUILTINS.values()):
                argument = self.value(node.args[0], depth + 1)
                if argument is UNKNOWN:
                    return UNKNOWN
                try:
                    return cast(argument)  # type: ignore[operator]
                except (ValueError, TypeError, OverflowError):
                    return UNKNOWN
        if isinstance(func, ast.Name) and func.id in _BUILTINS:
            if not node.args:
                return UNKNOWN
            argument = self.value(node.args[0], depth + 1)
            if argument is UNKNOWN:
                return UNKNOWN
            try:
                return _BUILTINS[func.id](argument)
            except (ValueError, TypeError, OverflowError):
                return UNKNOWN
        if isinstance(func, ast.Attribute) and func.attr in _STR_METHODS and not node.args:
            text = self.value(func.value, depth + 1)
            return getattr(text, func.attr)() if isinstance(text, str) else UNKNOWN
        if node.args and self.resolves_to(func, "json.loads"):
            text = self.value(node.args[0], depth + 1)
            if isinstance(text, str | bytes):
                try:
                    return json.loads(text)
                except (ValueError, RecursionError):
                    return UNKNOWN
        return UNKNOWN

    def _file_value(self, node: ast.Call, depth: int) -> object:
        """Paths, data files and what modules read from them: ``os.path.join(
        os.path.dirname(__file__), "settings.json")``, ``Path(__file__).parent``,
        ``open(path)``, ``json.load(file)``, ``configparser`` and its getters.
        ``_NOT_YET`` when the call is none of those."""
        func = node.func
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method in _INI_GETTERS or method in _PATH_METHODS or method == "read":
                owner = self.value(func.value, depth + 1)
                if isinstance(owner, IniFile) and method in _INI_GETTERS:
                    return self._ini_get(owner, node, method, depth)
                if isinstance(owner, IniSection) and method in _INI_GETTERS:
                    return self._section_get(owner, node, method, depth)
                if isinstance(owner, PurePath) and method in _PATH_METHODS:
                    return self._path_method(owner, node, method, depth)
                if isinstance(owner, IniFile) and method == "read" and len(node.args) == 1:
                    # What read() returns: the files it could read.
                    names = self.value(node.args[0], depth + 1)
                    paths = names if isinstance(names, list | tuple) else [names]
                    if not all(isinstance(p, str | PurePath) for p in paths):
                        return UNKNOWN
                    return [p for p in paths if self._read(p, node) is not None]
                if isinstance(owner, OpenFile) and method == "read" and not node.args:
                    text = self._read(owner.path, node)
                    return UNKNOWN if text is None else text
                if owner is not UNKNOWN:
                    return UNKNOWN
        name = dotted(func)
        if name is None:
            return _NOT_YET
        if self.resolves_to(func, *_OS_PATH):
            arguments = [self.value(a, depth + 1) for a in node.args]
            if node.keywords or not arguments:
                return UNKNOWN
            texts = [os.fspath(a) for a in arguments if isinstance(a, str | PurePath)]
            if len(texts) != len(arguments):
                return UNKNOWN
            short = name.rpartition(".")[2]
            if short == "join":
                return os.path.join(*texts)
            if len(texts) != 1:
                return UNKNOWN
            if short in ("abspath", "realpath"):
                # Not resolved on this machine: the path as written, made absolute.
                return os.path.normpath(
                    os.path.join(os.path.dirname(self.module.path), texts[0])
                )
            return getattr(os.path, short)(texts[0])
        if self.resolves_to(func, "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"):
            arguments = [self.value(a, depth + 1) for a in node.args]
            if node.keywords or not all(isinstance(a, str | PurePath) for a in arguments):
                return UNKNOWN
            return Path(*arguments)  # type: ignore[arg-type]
        if name == "open" and not self._shadowed("open") or self.resolves_to(func, "io.open"):
            return self._opened(node, depth)
        if self.resolves_to(func, "yaml.safe_load") and len(node.args) == 1:
            source = self.value(node.args[0], depth + 1)
            if isinstance(source, OpenFile):
                source = self._read(source.path, node)
            return _parse_data(source, "yaml") if isinstance(source, str) else UNKNOWN
        if self.resolves_to(func, "json.load", "tomllib.load", "tomli.load", "toml.load"):
            if len(node.args) != 1:
                return UNKNOWN
            source = self.value(node.args[0], depth + 1)
            text = self._read(source.path, node) if isinstance(source, OpenFile) else None
            return UNKNOWN if text is None else _parse_data(text, name)
        if self.resolves_to(func, "tomllib.loads", "tomli.loads", "toml.loads"):
            loaded = self.value(node.args[0], depth + 1) if len(node.args) == 1 else UNKNOWN
            return _parse_data(loaded, "toml") if isinstance(loaded, str) else UNKNOWN
        if self.resolves_to(
            func,
            "configparser.ConfigParser",
            "configparser.RawConfigParser",
            "configparser.SafeConfigParser",
        ):
            return IniFile()
        return _NOT_YET

    def _opened(self, node: ast.Call, depth: int) -> object:
        """``open(path)`` for reading: an :class:`OpenFile`."""
        if not node.args:
            return UNKNOWN
        path = self.value(node.args[0], depth + 1)
        mode = self._argument(node, "mode", 1)
        mode_value = self.value(mode, depth + 1) if mode is not None else "r"
        if not isinstance(path, str | PurePath) or not isinstance(mode_value, str):
            return UNKNOWN
        if any(c in mode_value for c in "wax+"):
            return UNKNOWN
        return OpenFile(os.fspath(path))

    def _read(self, path: object, where: ast.AST) -> str | None:
        """The text of a data file (relative to this module's folder, where a script
        run from its own folder finds it), if the project has it; ``where`` reads it."""
        if not isinstance(path, str | PurePath):
            return None
        folder = Path(self.module.path).parent
        full = folder / path
        text = self.project.read(full)
        if text is not None:
            shown = os.path.relpath(
                os.path.normpath(os.path.abspath(full)), os.path.abspath(folder)
            )
            self._step(where, f"reads {shown}")
        return text

    def _path_method(self, path: PurePath, node: ast.Call, method: str, depth: int) -> object:
        arguments = [self.value(a, depth + 1) for a in node.args]
        if node.keywords and method not in ("open", "read_text"):
            return UNKNOWN
        if method in ("resolve", "absolute", "expanduser"):
            return path if path.is_absolute() else Path(self.module.path).parent / path
        if method == "joinpath":
            if not all(isinstance(a, str | PurePath) for a in arguments):
                return UNKNOWN
            return path.joinpath(*arguments)  # type: ignore[arg-type]
        if method in ("with_name", "with_suffix"):
            if len(arguments) != 1 or not isinstance(arguments[0], str):
                return UNKNOWN
            try:
                return getattr(path, method)(arguments[0])
            except ValueError:
                return UNKNOWN
        if method == "open":
            mode = arguments[0] if arguments else "r"
            if not isinstance(mode, str) or any(c in mode for c in "wax+"):
                return UNKNOWN
            return OpenFile(os.fspath(path))
        if method == "read_text":
            text = self._read(path, node)
            return UNKNOWN if text is None else text
        return UNKNOWN

    def _ini_read(self, ini: IniFile, call: ast.Call, depth: int) -> object:
        """The parser after ``parser.read(paths)``, ``read_string`` or ``read_file``
        (a file the project does not have is skipped, as ``read`` does)."""
        method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        if method not in ("read", "read_string", "read_file") or len(call.args) != 1:
            return UNKNOWN if method.startswith(("read", "add", "set", "remove")) else ini
        argument = self.value(call.args[0], depth + 1)
        texts: list[str | None] = []
        if method == "read_string":
            texts = [argument] if isinstance(argument, str) else [None]
        elif method == "read_file":
            texts = [
                self._read(argument.path, call) if isinstance(argument, OpenFile) else None
            ]
        else:
            paths = argument if isinstance(argument, list | tuple) else [argument]
            for path in paths:
                if not isinstance(path, str | PurePath):
                    return UNKNOWN
                texts.append(self._read(path, call) or "")
        result: IniFile | None = ini
        for text in texts:
            if text is None or result is None:
                return UNKNOWN
            result = result.with_text(text)
        return UNKNOWN if result is None else result

    def _ini_get(self, ini: IniFile, node: ast.Call, method: str, depth: int) -> object:
        """``parser.getboolean("server", "debug", fallback=False)`` and the like."""
        arguments = [self.value(a, depth + 1) for a in node.args[:2]]
        if len(arguments) != 2 or not all(isinstance(a, str) for a in arguments):
            return UNKNOWN
        section, option = arguments
        fallback = self._argument(node, "fallback", 99)
        return self._ini_option(ini, section, option, method, fallback, UNKNOWN, depth)  # type: ignore[arg-type]

    def _ini_option(
        self,
        ini: IniFile,
        section: str,
        option: str,
        method: str,
        fallback: ast.AST | None,
        missing: object,
        depth: int,
    ) -> object:
        """``getattr(parser, method)(section, option)``; where the option is not
        there, the ``fallback`` expression's value, else ``missing``."""
        parser = ini.parser
        try:
            if not parser.has_option(section, option):
                return self.value(fallback, depth + 1) if fallback is not None else missing
            return getattr(parser, method)(section, option)
        except (configparser.Error, ValueError, TypeError):
            return UNKNOWN

    def _getattr_value(self, node: ast.Call, depth: int) -> object:
        """``getattr(settings, "DEBUG", False)``: the attribute, or the default where
        a scanned module does not define it."""
        name = self.value(node.args[1], depth + 1)
        if not isinstance(name, str):
            return UNKNOWN
        module = self._module_of(node.args[0])
        owner: object = (
            ModuleRef(module.analyser)
            if module is not None and module.analyser is not None
            else self.value(node.args[0], depth + 1)
        )
        if isinstance(owner, ModuleRef) and not owner.analyser.defines(name, depth + 1):
            return self.value(node.args[2], depth + 1) if len(node.args) == 3 else UNKNOWN
        return self.attribute_of(owner, name, depth + 1)

    def _section_get(
        self, section: IniSection, node: ast.Call, method: str, depth: int
    ) -> object:
        """``parser["server"].getboolean("debug", fallback=False)`` and the like."""
        option = self.value(node.args[0], depth + 1) if node.args else UNKNOWN
        if not isinstance(option, str) or len(node.args) > 2:
            return UNKNOWN
        fallback = node.args[1] if len(node.args) == 2 else self._argument(node, "fallback", 99)
        # A section's getters give None for a missing option, where the parser's raise.
        return self._ini_option(
            section.ini, section.name, option, method, fallback, None, depth
        )

    def _isinstance(self, value_node: ast.AST, types_node: ast.AST, depth: int) -> object:
        """``isinstance(value, cls)`` for a value the analysis knows: a builtin type,
        or a project class (an instance of it, or of a class derived from it)."""
        value = self.value(value_node, depth + 1)
        wanted = self.value(types_node, depth + 1)
        if value is UNKNOWN or wanted is UNKNOWN:
            return UNKNOWN
        choices = list(wanted) if isinstance(wanted, tuple) else [wanted]
        for choice in choices:
            if isinstance(choice, ClassRef):
                if isinstance(value, Instance):
                    if self._derives(value.cls, choice):
                        return True
                elif isinstance(value, ClassRef | AppValue | OpenFile | IniFile | PurePath):
                    return UNKNOWN
                # A plain value (text, a number, None...) is no instance of it.
            elif any(choice is builtin for builtin in _BUILTINS.values()):
                if isinstance(value, Instance | ClassRef | AppValue):
                    return UNKNOWN
                if isinstance(value, choice):  # type: ignore[arg-type]
                    return True
            else:
                return UNKNOWN
        return False

    def _derives(self, cls: ClassRef, base: ClassRef) -> bool:
        """Whether the project class ``cls`` is ``base`` or derives from it."""
        return any(
            current.analyser is base.analyser and current.name == base.name
            for current, _ in _class_chain(cls)
        )

    def _call_with_arguments(self, node: ast.Call, depth: int) -> object:
        """What a project function returns for these arguments
        (``str2bool(os.getenv("DEBUG", "yes"))``, ``env_bool("X", default=True)``);
        ``_NOT_YET`` when the callee is no such function."""
        target = self._callee(node.func)
        if target is None:
            return _NOT_YET
        callee, function = target
        if id(function) in self.project.calling:
            return _NOT_YET
        traces: dict[str, list[tuple[Module, ast.AST, str]]] = {}
        bound = self._bind_arguments(node, callee, function, traces=traces)
        if bound is None:
            return UNKNOWN
        return callee.evaluate(function, bound, depth, traces=traces)[0]

    def _class_method_value(
        self, cls: ClassRef, node: ast.Call, name: str, depth: int
    ) -> object:
        """What a ``classmethod`` (given the class) or ``staticmethod`` of a project
        class returns for these arguments; ``_NOT_YET`` for anything else."""
        found = cls.analyser.method_of(cls, name)
        if found is None:
            return _NOT_YET
        analyser, method = found
        kinds = {dotted(d) for d in method.decorator_list}
        if id(method) in self.project.calling or not kinds & {"classmethod", "staticmethod"}:
            return _NOT_YET
        receiver: object = cls if "classmethod" in kinds else _NOT_YET
        traces: dict[str, list[tuple[Module, ast.AST, str]]] = {}
        bound = self._bind_arguments(node, analyser, method, receiver, traces)
        if bound is None:
            return UNKNOWN
        is_method = receiver is not _NOT_YET
        return analyser.evaluate(method, bound, depth, method=is_method, traces=traces)[0]

    def _instance(self, cls: ClassRef, node: ast.Call, depth: int) -> object:
        """An instance of a project class made by ``node``: with the attributes its
        ``__init__`` sets for these arguments, when it has one."""
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        for keyword in node.keywords:
            if keyword.arg is None:  # cls(**overrides): the mapping's items
                mapping = self.value(keyword.value, depth + 1)
                if not isinstance(mapping, dict) or not all(
                    isinstance(k, str) for k in mapping
                ):
                    return UNKNOWN
                for key, item in mapping.items():
                    constant = ast.Constant(item)
                    ast.copy_location(constant, keyword.value)
                    keywords[key] = constant
        found = cls.analyser.method_of(cls, "__init__")
        if found is None:
            if node.args:
                # A dataclass or NamedTuple: positional arguments set its fields in order.
                names = cls.analyser.field_names(cls.name)
                if len(node.args) > len(names) or any(
                    isinstance(a, ast.Starred) for a in node.args
                ):
                    return UNKNOWN
                keywords.update(zip(names, node.args, strict=False))
            # The fields' values, worked out here, where the names they read are
            # bound (cls(debug=flag(cls.debug)) in a class method).
            fields: dict[str, ast.expr] = {}
            for key, expression in keywords.items():
                known: Any
                known, steps = self._traced(expression, depth)
                constant = ast.Constant(known)
                ast.copy_location(constant, expression)
                self._carried[id(constant)] = [(self.module, expression, f"{key}="), *steps]
                fields[key] = constant
            return Instance(cls, fields)
        analyser, init = found
        instance = Instance(cls, keywords, {})
        traces: dict[str, list[tuple[Module, ast.AST, str]]] = {}
        bound = self._bind_arguments(node, analyser, init, instance, traces)
        if bound is None or instance.attributes is None:
            return Instance(cls, keywords)  # what __init__ sets is unknown
        analyser.evaluate(
            init, bound, depth, method=True, attributes=instance.attributes, traces=traces
        )
        return instance

    def field_names(self, cls: str) -> list[str]:
        """The annotated fields a class of this module declares, in order."""
        definition = self.classes.get(cls)
        if definition is None:
            return []
        return [
            item.target.id
            for item in definition.body
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
        ]

    def _fields_dict(self, instance: Instance, depth: int) -> object:
        """``options._asdict()`` / ``dataclasses.asdict(options)``: field -> value."""
        cls = instance.cls
        names = cls.analyser.field_names(cls.name)
        if not names:
            return UNKNOWN
        return {name: self.attribute_of(instance, name, depth + 1) for name in names}

    def _method_call_value(self, node: ast.Call, depth: int) -> object:
        """What a method of a project class returns for an instance and arguments;
        ``_NOT_YET`` when the callee is no such method."""
        target = self._method_target(node.func)
        if target is None:
            return _NOT_YET
        analyser, method, receiver = target
        if id(method) in self.project.calling:
            return _NOT_YET
        traces: dict[str, list[tuple[Module, ast.AST, str]]] = {}
        bound = self._bind_arguments(node, analyser, method, receiver, traces)
        if bound is None:
            return UNKNOWN
        return analyser.evaluate(method, bound, depth, method=True, traces=traces)[0]

    def _method_target(self, func: ast.AST) -> tuple[Analyser, ast.FunctionDef, object] | None:
        """For ``owner.method``, where ``owner`` is an instance of a project class
        (``DevServer(app).serve``, ``self.launcher.start``): the method's module,
        its definition and the instance."""
        if not isinstance(func, ast.Attribute) or not self._may_be_instance(func.value):
            return None
        owner = self._quiet_value(func.value)
        if not isinstance(owner, Instance):
            return None
        found = owner.cls.analyser.method_of(owner.cls, func.attr)
        if found is None:
            return None
        analyser, method = found
        if method.decorator_list:  # a property, a static or class method: not followed
            return None
        return analyser, method, owner

    def method_of(self, cls: ClassRef, name: str) -> tuple[Analyser, ast.FunctionDef] | None:
        """The method ``name`` of a project class, or of its first project base that
        has it (with that base's module)."""
        for current, definition in _class_chain(cls):
            for item in definition.body:
                if isinstance(item, ast.FunctionDef) and item.name == name:
                    return current.analyser, item
        return None

    def evaluate(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        bound: dict[str, object],
        depth: int,
        *,
        method: bool = False,
        attributes: dict[str, object] | None = None,
        traces: dict[str, list[tuple[Module, ast.AST, str]]] | None = None,
    ) -> tuple[object, dict[str, object]]:
        """Run a call of this module's ``function`` over values.

        Its parameters are ``bound``; its statements run in order; a branch is
        taken where its test is known, both where it is not; loops are not run
        (what they assign is unknown after them). Returns what the call returns
        (``None`` when it falls off its end, :data:`UNKNOWN` when that cannot be
        told) and the attributes a method sets on its instance
        (``self.debug = debug`` in an ``__init__``), in ``attributes``.
        """
        project = self.project
        found: dict[str, object] = {} if attributes is None else attributes
        if (
            isinstance(function, ast.AsyncFunctionDef)
            or len(project.calling) >= _MAX_CALLS
            or id(function) in project.calling
            or depth > _MAX_DEPTH
        ):
            return UNKNOWN, found
        positional = [*function.args.posonlyargs, *function.args.args]
        receiver = positional[0].arg if method and positional else ""
        frame = dict(self.bound)
        local, needed = self.project.names_of(function)
        frame.update(dict.fromkeys(local, UNKNOWN))
        frame.update(bound)
        saved = self.bound, self.parameters, self._function, self._bound_steps, self._tracking
        saved_needed = self._needed
        self.bound, self.parameters, self._function = frame, {}, function
        self._bound_steps, self._tracking, self._needed = traces or {}, False, needed
        project.calling.append(id(function))
        try:
            result = self._execute(function.body, found, receiver, depth)
        finally:
            project.calling.pop()
            self.bound, self.parameters, self._function, self._bound_steps, self._tracking = (
                saved
            )
            self._needed = saved_needed
        if result is _NOT_YET:
            return None, found
        return (UNKNOWN if result is _RAISED else result), found

    def _execute(
        self,
        body: list[ast.stmt],
        attributes: dict[str, object],
        receiver: str,
        depth: int,
    ) -> object:
        """Run statements (see :meth:`evaluate`): what a ``return`` among them
        returns, ``_RAISED``, or ``_NOT_YET`` when they run to their end."""
        project = self.project
        for stmt in body:
            project.work += 1
            if project.work > MAX_WORK:
                raise TooCostly
            kind = type(stmt)
            if kind is ast.Return:
                value = stmt.value  # type: ignore[attr-defined]
                if value is None:
                    return None
                self._step(stmt)
                return self._local_value(value, depth)
            if kind is ast.Raise:
                return _RAISED
            if kind is ast.Break:
                return _BREAK
            if kind is ast.Continue:
                return _CONTINUE
            if kind is ast.For:
                items, taken = self._traced(stmt.iter, depth)  # type: ignore[attr-defined]
                taken.insert(0, (self.module, stmt.iter, "loop over"))  # type: ignore[attr-defined]
                if isinstance(items, dict):
                    items = list(items)
                if isinstance(items, list | tuple) and len(items) <= _LOOP_ITEMS:
                    # A loop over a known sequence: run once per item.
                    result = _NOT_YET
                    for item in items:
                        self._store(stmt.target, item, taken, attributes, receiver)  # type: ignore[attr-defined]
                        result = self._execute(stmt.body, attributes, receiver, depth)  # type: ignore[attr-defined]
                        if result is _BREAK:
                            break
                        if result is not _NOT_YET and result is not _CONTINUE:
                            return result
                        result = _NOT_YET
                    else:
                        result = self._execute(stmt.orelse, attributes, receiver, depth)  # type: ignore[attr-defined]
                    if result is not _NOT_YET and result is not _BREAK:
                        return result
                    continue
            if kind is ast.Assign or kind is ast.AnnAssign:
                value = stmt.value  # type: ignore[attr-defined]
                if value is None:
                    continue
                targets = stmt.targets if kind is ast.Assign else [stmt.target]  # type: ignore[attr-defined]
                if not any(
                    isinstance(t, ast.Attribute) or _stored_names(t) & self._needed
                    for t in targets
                ):
                    continue  # nothing the result depends on
                self._assign(stmt, targets, value, depth, attributes, receiver)
            elif kind is ast.AugAssign:
                self._store(stmt.target, UNKNOWN, [], attributes, receiver)  # type: ignore[attr-defined]
            elif kind is ast.If:
                # if not parser.read(path): ... reads the file before the test.
                for inner in ast.walk(stmt.test):  # type: ignore[attr-defined]
                    if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
                        owner = inner.func.value
                        if isinstance(owner, ast.Name) and owner.id in self._needed:
                            self._effect(inner, attributes, receiver, depth)
                test = self._quiet_value(stmt.test, depth)  # type: ignore[attr-defined]
                if test is UNKNOWN:
                    # Either branch may run: both do, in order; a value returned
                    # on one path only is unknown.
                    results = [
                        self._execute(branch, attributes, receiver, depth)
                        for branch in (stmt.body, stmt.orelse)  # type: ignore[attr-defined]
                    ]
                    if any(r is _BREAK or r is _CONTINUE for r in results):
                        return UNKNOWN  # a loop left on one path only
                    returned = [r for r in results if r is not _NOT_YET and r is not _RAISED]
                    if not returned:
                        if all(r is _RAISED for r in results):
                            return _RAISED
                        continue
                    if (
                        len(returned) == 2
                        and returned[0] is not UNKNOWN
                        and type(returned[0]) is type(returned[1])
                        and returned[0] == returned[1]
                    ):
                        return returned[0]
                    return UNKNOWN
                branch = stmt.body if test else stmt.orelse  # type: ignore[attr-defined]
                result = self._execute(branch, attributes, receiver, depth)
                if result is _RAISED:
                    # Raised where nothing is set (if "APP_MODE" not in os.environ:
                    # raise ...): the program goes on only where the test is the
                    # other way, and that is where its values matter.
                    other = stmt.orelse if test else stmt.body  # type: ignore[attr-defined]
                    result = self._execute(other, attributes, receiver, depth)
                if result is not _NOT_YET:
                    return result
            elif kind is ast.With or kind is ast.AsyncWith:
                for item in stmt.items:  # type: ignore[attr-defined]
                    if item.optional_vars is not None:
                        # with open(path) as stream: the file itself; else unknown.
                        entered = self._quiet_value(item.context_expr, depth)
                        if not isinstance(entered, OpenFile):
                            entered = UNKNOWN
                        self._store(item.optional_vars, entered, [], attributes, receiver)
                result = self._execute(stmt.body, attributes, receiver, depth)  # type: ignore[attr-defined]
                if result is not _NOT_YET:
                    return result
            elif kind is ast.Try or kind is ast.TryStar:
                caught = self._key_error_caught(stmt)  # type: ignore[arg-type]
                if caught is not None:
                    # os.environ["APP_DEBUG"] raises where it is unset: only the
                    # handler runs.
                    if caught.name:
                        self.bound[caught.name] = UNKNOWN
                    result = self._execute(caught.body, attributes, receiver, depth)
                    final = self._execute(stmt.finalbody, attributes, receiver, depth)  # type: ignore[attr-defined]
                    if final is not _NOT_YET:
                        return final
                    if result is not _NOT_YET:
                        return result
                    continue
                result = self._execute(stmt.body, attributes, receiver, depth)  # type: ignore[attr-defined]
                if result is _NOT_YET:
                    result = self._execute(stmt.orelse, attributes, receiver, depth)  # type: ignore[attr-defined]
                # Any statement of the body may raise: each handler is another
                # path, run after it (what it assigns may be what stays).
                paths = [result]
                for handler in stmt.handlers:  # type: ignore[attr-defined]
                    if handler.name:
                        self.bound[handler.name] = UNKNOWN
                    paths.append(self._execute(handler.body, attributes, receiver, depth))
                values = [r for r in paths if r is not _NOT_YET and r is not _RAISED]
                if any(r is _BREAK or r is _CONTINUE for r in paths):
                    return UNKNOWN
                if all(r is _RAISED for r in paths):
                    result = _RAISED
                elif not values:
                    result = _NOT_YET
                elif len(values) == len(paths) and all(
                    v is not UNKNOWN and type(v) is type(values[0]) and v == values[0]
                    for v in values
                ):
                    result = values[0]
                else:
                    result = UNKNOWN
                final = self._execute(stmt.finalbody, attributes, receiver, depth)  # type: ignore[attr-defined]
                if final is not _NOT_YET:
                    return final
                if result is not _NOT_YET:
                    return result
            elif kind is ast.Expr:
                call = stmt.value  # type: ignore[attr-defined]
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
                    owner = call.func.value
                    if not isinstance(owner, ast.Name) or owner.id in self._needed:
                        self._effect(call, attributes, receiver, depth)
            elif kind is ast.FunctionDef:
                # A nested function: it sees this call's names when it is called.
                self.bound[stmt.name] = Closure(self, stmt, self.bound)  # type: ignore[arg-type, attr-defined]
            elif kind in (ast.AsyncFunctionDef, ast.ClassDef):
                self.bound[stmt.name] = UNKNOWN  # type: ignore[attr-defined]
            elif kind is ast.Match and (chosen := self._match_case(stmt, depth)) is not None:  # type: ignore[arg-type]
                # match on a known subject: the first case that matches runs.
                result = self._execute(chosen, attributes, receiver, depth)
                if result is not _NOT_YET:
                    return result
            elif kind in _COMPOUND or kind is ast.Delete:
                # A loop (or a match) is not run: what it assigns is unknown
                # after it, and a return inside it makes the result unknown.
                for inner in ast.walk(stmt):
                    if isinstance(inner, ast.Return):
                        return UNKNOWN
                    if isinstance(inner, ast.Name) and not isinstance(inner.ctx, ast.Load):
                        self.bound[inner.id] = UNKNOWN
                    elif isinstance(inner, ast.Attribute) and isinstance(inner.ctx, ast.Store):
                        self._store(inner, UNKNOWN, [], attributes, receiver)
        return _NOT_YET

    def _match_case(self, stmt: ast.Match, depth: int) -> list[ast.stmt] | None:
        """The body of the case a ``match`` on a known subject runs (an empty list when
        none matches); ``None`` where that cannot be told."""
        subject = self._quiet_value(stmt.subject, depth)
        if subject is UNKNOWN:
            return None
        for case in stmt.cases:
            matched = self._pattern_matches(case.pattern, subject, depth)
            if matched is None:
                return None
            if not matched:
                continue
            if case.guard is not None:
                guard = self._quiet_value(case.guard, depth)
                if guard is UNKNOWN:
                    return None
                if not guard:
                    continue
            return case.body
        return []

    def _pattern_matches(
        self, pattern: ast.pattern, subject: object, depth: int
    ) -> bool | None:
        """Whether a literal, ``|`` or capture pattern matches ``subject`` (``None``:
        a pattern of another kind); a capture binds its name."""
        if isinstance(pattern, ast.MatchValue):
            value = self._quiet_value(pattern.value, depth)
            if value is UNKNOWN:
                return None
            return type(value) is type(subject) and value == subject
        if isinstance(pattern, ast.MatchSingleton):
            return subject is pattern.value
        if isinstance(pattern, ast.MatchOr):
            results = [self._pattern_matches(p, subject, depth) for p in pattern.patterns]
            if any(results):
                return True
            return None if None in results else False
        if isinstance(pattern, ast.MatchAs):
            if pattern.pattern is not None:
                inner = self._pattern_matches(pattern.pattern, subject, depth)
                if not inner:
                    return inner
            if pattern.name is not None:
                self.bound[pattern.name] = subject
            return True
        return None

    def _key_error_caught(self, stmt: ast.Try | ast.TryStar) -> ast.ExceptHandler | None:
        """The handler that runs when the ``try`` body reads an environment variable
        that is unset (``os.environ["X"]``, a ``KeyError``) before it can return,
        where one catches that; else ``None``."""
        raises = False
        for inner in stmt.body:
            if isinstance(inner, ast.Return | ast.Raise) or type(inner) in _COMPOUND:
                break  # what runs before the read is not followed
            for node in ast.walk(inner):
                if isinstance(node, ast.Subscript) and self._is_environ(node.value):
                    name = self._quiet_value(node.slice)
                    if isinstance(name, str) and name not in self.project.environment:
                        raises = True
            if raises:
                break
        if not raises:
            return None
        for handler in stmt.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            if handler.type is None or any(
                isinstance(kind, ast.Name)
                and kind.id in ("KeyError", "LookupError", "Exception", "BaseException")
                and not self._shadowed(kind.id)
                for kind in kinds
            ):
                return handler
        return None

    def _local_value(self, node: ast.AST, depth: int) -> object:
        """The value of an expression of a function being run (an app is :data:`AN_APP`)."""
        if self._is_app(node):
            return AN_APP
        return self.value(node, depth + 1)

    def _assign(
        self,
        statement: ast.stmt,
        targets: list[ast.expr],
        value: ast.expr,
        depth: int,
        attributes: dict[str, object] | None = None,
        receiver: str = "",
    ) -> None:
        """Bind an assignment's targets in the function being run or followed, the
        statement first in the value's chain."""
        known, steps = self._traced(value, depth, local=True)
        steps.insert(0, (self.module, statement, ""))
        for target in targets:
            self._store(
                target, known, steps, {} if attributes is None else attributes, receiver
            )

    def _store(
        self,
        target: ast.AST,
        value: object,
        steps: list[tuple[Module, ast.AST, str]],
        attributes: dict[str, object],
        receiver: str,
    ) -> None:
        """Bind an assignment's target to ``value`` in the function being run."""
        if isinstance(target, ast.Name):
            self.bound[target.id] = value
            self._bound_steps[target.id] = steps
        elif isinstance(target, ast.Attribute):
            if receiver and isinstance(target.value, ast.Name) and target.value.id == receiver:
                attributes[target.attr] = value
                self.project.attribute_steps[(id(attributes), target.attr)] = steps
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            name = target.value.id
            current = self.bound.get(name, _NOT_YET)
            if isinstance(current, dict):
                key = self._quiet_value(target.slice)
                changed: object = UNKNOWN
                if key is not UNKNOWN:
                    try:
                        changed = {**current, key: value}
                    except TypeError:  # an unhashable key
                        changed = UNKNOWN
                self.bound[name] = changed
            elif current is not _NOT_YET:
                self.bound[name] = UNKNOWN
        elif isinstance(target, ast.Tuple | ast.List):
            items = value if isinstance(value, tuple | list) else None
            starred = any(isinstance(e, ast.Starred) for e in target.elts)
            if items is not None and (starred or len(items) != len(target.elts)):
                items = None
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Starred):
                    element = element.value
                known = UNKNOWN if items is None else items[index]
                self._store(element, known, steps, attributes, receiver)
        elif isinstance(target, ast.Starred):
            self._store(target.value, UNKNOWN, steps, attributes, receiver)

    def _effect(
        self, call: ast.Call, attributes: dict[str, object], receiver: str, depth: int
    ) -> None:
        """What a call as a statement changes in the function being run: a local
        dict's ``update``/``setdefault``/``pop``, and the attributes a base's
        ``__init__`` sets (``super().__init__(...)``)."""
        func = call.func
        if not isinstance(func, ast.Attribute):
            return
        if isinstance(func.value, ast.Name):
            name = func.value.id
            current = self.bound.get(name)
            if isinstance(current, list) and func.attr in ("append", "extend", "insert"):
                # argv.append("--debug"): the list from here on.
                added = [self._local_value(a, depth) for a in call.args]
                changed: object = UNKNOWN
                if func.attr == "append" and len(added) == 1:
                    changed = [*current, added[0]]
                elif func.attr == "extend" and len(added) == 1:
                    extra = added[0]
                    changed = [*current, *extra] if isinstance(extra, list | tuple) else UNKNOWN
                elif func.attr == "insert" and len(added) == 2 and isinstance(added[0], int):
                    changed = list(current)
                    changed.insert(added[0], added[1])
                self.bound[name] = changed if not call.keywords else UNKNOWN
                steps = [*self._bound_steps.get(name, ()), (self.module, call, "")]
                self._bound_steps[name] = steps
                return
            if (
                isinstance(current, dict)
                and func.attr in ("update", "setdefault", "pop", "clear")
            ) or isinstance(current, IniFile):
                steps = self.project.steps
                saved = len(steps)
                if isinstance(current, dict):
                    self.bound[name] = self._changed_dict(current, call, func.attr, depth)
                else:
                    self.bound[name] = self._ini_read(current, call, depth)
                # The chain of the name goes on with this call and what it took.
                taken = steps[saved:]
                del steps[saved:]
                self._bound_steps[name] = [
                    *self._bound_steps.get(name, ()),
                    (self.module, call, ""),
                    *taken,
                ]
            return
        if (
            func.attr == "__init__"
            and receiver
            and isinstance(func.value, ast.Call)
            and dotted(func.value.func) == "super"
            and not func.value.args
        ):
            instance = self.bound.get(receiver)
            cls = self._class_of(self._function)
            definition = self.classes.get(cls) if cls else None
            if not isinstance(instance, Instance) or definition is None:
                return
            for base in definition.bases:
                ref = self._quiet_value(base)
                if isinstance(ref, ClassRef):
                    found = ref.analyser.method_of(ref, "__init__")
                    if found is not None:
                        analyser, init = found
                        bound = self._bind_arguments(call, analyser, init, receiver=instance)
                        if bound is not None:
                            analyser.evaluate(
                                init, bound, depth, method=True, attributes=attributes
                            )
                    return

    def _changed_dict(
        self, mapping: dict[Any, object], call: ast.Call, method: str, depth: int
    ) -> object:
        """A copy of ``mapping`` after ``mapping.<method>(...)``, or :data:`UNKNOWN`."""
        result = dict(mapping)
        try:
            if method == "clear":
                return {}
            if method in ("setdefault", "pop"):
                if not call.args or call.keywords:
                    return UNKNOWN
                key = self.value(call.args[0], depth + 1)
                if key is UNKNOWN:
                    return UNKNOWN
                if method == "pop":
                    result.pop(key, None)
                elif len(call.args) == 2:
                    result.setdefault(key, self._local_value(call.args[1], depth))
                return result
            for argument in call.args:
                other = self.value(argument, depth + 1)
                if not isinstance(other, dict):
                    return UNKNOWN
                result.update(other)
            for keyword in call.keywords:
                if keyword.arg is None:
                    other = self.value(keyword.value, depth + 1)
                    if not isinstance(other, dict):
                        return UNKNOWN
                    result.update(other)
                else:
                    result[keyword.arg] = self._local_value(keyword.value, depth)
        except TypeError:  # an unhashable key
            return UNKNOWN
        return result

    def _class_of(self, function: ast.AST | None) -> str:
        """The name of this module's class that defines ``function`` directly."""
        for name, definition in self.classes.items():
            if function in definition.body:
                return name
        return ""

    def _may_be_class(self, func: ast.AST) -> bool:
        """Whether a callee can be a class of a scanned module (worth following)."""
        if isinstance(func, ast.Name):
            return func.id in self.classes or self.imports.get(func.id, "").startswith("const:")
        return (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and self.imports.get(func.value.id, "").startswith("module:")
        )

    def _parsed_arguments(self, parser: ast.AST, depth: int) -> object:
        """The defaults of an ``argparse`` parser's options (what no option given means)."""
        if not isinstance(parser, ast.Name) or parser.id not in self.arguments:
            return UNKNOWN
        made = self.assigned.get(parser.id)
        if not (
            isinstance(made, ast.Call)
            and (
                self.resolves_to(made.func, "argparse.ArgumentParser")
                # a subcommand's parser: subparsers.add_parser("serve")
                or (isinstance(made.func, ast.Attribute) and made.func.attr == "add_parser")
            )
        ):
            return UNKNOWN
        namespace = Namespace()
        for call in self.arguments[parser.id]:
            if isinstance(call.func, ast.Attribute) and call.func.attr == "set_defaults":
                # set_defaults(func=cmd_serve, debug=True): over the options' defaults.
                for keyword in call.keywords:
                    if keyword.arg is not None and keyword.arg != "func":
                        self._step(call)
                        namespace[keyword.arg] = self.value(keyword.value, depth + 1)
                continue
            options = [self.value(a, depth + 1) for a in call.args]
            keywords = {k.arg: k.value for k in call.keywords if k.arg}
            destination = (
                self.value(keywords["dest"], depth + 1) if "dest" in keywords else None
            )
            if destination is None:
                longs = [o for o in options if isinstance(o, str) and o.startswith("--")]
                names = longs or [o for o in options if isinstance(o, str)]
                if not names:
                    continue
                destination = names[0].lstrip("-").replace("-", "_")
            if not isinstance(destination, str):
                continue
            action = self.value(keywords["action"], depth + 1) if "action" in keywords else None
            if "default" in keywords:
                self._step(call)
                namespace[destination] = self.value(keywords["default"], depth + 1)
            elif action == "store_true":
                namespace[destination] = False
            elif action == "store_false":
                namespace[destination] = True
            else:
                namespace[destination] = None
        return namespace

    def _shadowed(self, name: str) -> bool:
        """Whether a builtin's name is bound by the module itself."""
        return name in self.assigned or name in self.imports or name in self.defined

    def _compare_value(self, node: ast.Compare, depth: int) -> object:
        if (
            len(node.ops) == 1
            and isinstance(node.ops[0], ast.In | ast.NotIn)
            and self._is_environ(node.comparators[0])
        ):
            # "DEBUG" in os.environ: only what the project itself sets is there.
            name = self.value(node.left, depth + 1)
            if name is UNKNOWN:
                return UNKNOWN
            return (name in self.project.environment) is isinstance(node.ops[0], ast.In)
        left = self.value(node.left, depth + 1)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.value(comparator, depth + 1)
            compare = _COMPARISONS.get(type(op))
            if left is UNKNOWN or right is UNKNOWN or compare is None:
                return UNKNOWN
            try:
                if not compare(left, right):
                    return False
            except TypeError:
                return UNKNOWN
            left = right
        return True

    def _boolop_value(self, node: ast.BoolOp, depth: int) -> object:
        result: object = UNKNOWN
        for operand in node.values:
            result = self.value(operand, depth + 1)
            if result is UNKNOWN:
                return UNKNOWN
            # ``and`` stops at the first falsy operand, ``or`` at the first truthy one.
            if bool(result) is isinstance(node.op, ast.Or):
                return result
        return result

    def _subscript_value(self, node: ast.Subscript, depth: int) -> object:
        if self._is_environ(node.value):
            return UNKNOWN  # a KeyError where unset: never served
        if isinstance(node.value, ast.Attribute) and node.value.attr == "config":
            return self._config_item(node, depth)
        container = self.value(node.value, depth + 1)
        key = self.value(node.slice, depth + 1)
        if isinstance(container, ClassRef) and isinstance(key, str):
            # Env["DEVELOPMENT"]: an enum's member by name.
            if container.analyser.is_enum(container.name, depth):
                return container.analyser.enum_member(container.name, key, depth)
            return UNKNOWN
        if isinstance(container, IniFile | IniSection) and isinstance(key, str):
            # parser["development"] is a section; section["debug"] its text.
            parser = (
                container.ini.parser if isinstance(container, IniSection) else container.parser
            )
            try:
                if isinstance(container, IniFile):
                    return IniSection(container, key) if parser.has_section(key) else UNKNOWN
                return parser.get(container.name, key, raw=True)
            except (configparser.Error, ValueError, TypeError):
                return UNKNOWN
        if isinstance(container, dict | list | tuple | str) and key is not UNKNOWN:
            indexable: Any = container
            try:
                return indexable[key]
            except (KeyError, IndexError, TypeError):
                return UNKNOWN
        return UNKNOWN

    def _config_default(self, node: ast.Call, depth: int) -> object:
        """``app.config.get("DEV_SERVER_DEBUG", True)`` of a key of the project's own
        that no file of the project names anywhere else (nothing can set it, but
        the environment, unset here): the default, where it is truthy."""
        key = self.value(node.args[0], depth + 1)
        if not isinstance(key, str) or not key.isidentifier() or key in _FLASK_CONFIG_KEYS:
            return UNKNOWN
        default = self.value(node.args[1], depth + 1)
        # Only a default that turns something on is worth reading the tree for.
        if default is UNKNOWN or not default or self.project.mentions(key) != 1:
            return UNKNOWN
        self._step(node, f"{key} is set nowhere in the project: the default")
        return default

    def _config_item(self, node: ast.Subscript, depth: int) -> object:
        """``app.config["APP_ENV"]`` where the same scope wrote it before: that value;
        ``TESTING`` where the module loads no settings: Flask's default (off)."""
        key = self.value(node.slice, depth + 1)
        if not isinstance(key, str) or not self._is_config(node.value):
            return UNKNOWN
        line = getattr(node, "lineno", 0)
        function = self._function
        first, last = (
            (function.lineno, function.end_lineno or function.lineno) if function else (0, 0)
        )
        written = None
        for statement in self.config_items.get(key, ()):
            inside = first <= statement.lineno <= last if function else True
            if inside and statement.lineno < line:
                written = statement
        if written is None:
            if (
                key == "TESTING"
                and not self.config_items
                and not _LOADS_SETTINGS.search(self.module.source)
            ):
                self._step(node, "Flask's default: False")
                return False
            return UNKNOWN
        self._step(written)
        return self.value(written.value, depth + 1)

    def _env_read(self, node: ast.AST, depth: int = 0) -> tuple[bool, object]:
        """Whether ``node`` reads an environment variable, and its default."""
        if isinstance(node, ast.Call):
            func = node.func
            is_get = (
                isinstance(func, ast.Attribute)
                and func.attr == "get"
                and self._is_environ(func.value)
            )
            if is_get or self.resolves_to(func, "os.getenv"):
                name = self.value(node.args[0], depth + 1) if node.args else UNKNOWN
                if isinstance(name, str) and name in self.project.environment:
                    return True, self.project.environment[name]
                if len(node.args) > 1:
                    return True, self.value(node.args[1], depth + 1)
                for keyword in node.keywords:
                    if keyword.arg == "default":
                        return True, self.value(keyword.value, depth + 1)
                return True, None
            reader = self._settings_reader(func)
            if reader:
                # environs' env.bool("X", default=True), decouple's
                # config("X", default=True, cast=bool): the default where unset.
                name = self.value(node.args[0], depth + 1) if node.args else UNKNOWN
                keywords = {k.arg: k.value for k in node.keywords if k.arg}
                stored = (
                    self._decouple_setting(name, node)
                    if reader == "decouple" and isinstance(name, str)
                    else None
                )
                if isinstance(name, str) and name in self.project.environment:
                    default = self.project.environment[name]
                elif stored is not None:
                    default = stored
                elif "default" in keywords:
                    default = self.value(keywords["default"], depth + 1)
                elif len(node.args) > 1 and reader == "environs":
                    default = self.value(node.args[1], depth + 1)
                else:
                    return True, None
                boolean = (isinstance(func, ast.Attribute) and func.attr == "bool") or (
                    "cast" in keywords and self.resolves_to(keywords["cast"], "bool")
                )
                if boolean and isinstance(default, str):
                    lowered = default.strip().lower()
                    default = lowered in _TRUE_WORDS
                return True, default
        if isinstance(node, ast.Subscript) and self._is_environ(node.value):
            name = self.value(node.slice, depth + 1)
            if isinstance(name, str) and name in self.project.environment:
                return True, self.project.environment[name]
            return True, None
        return False, None

    def _decouple_setting(self, name: str, where: ast.AST) -> str | None:
        """What python-decouple's ``config(name)`` reads from the project: the first
        ``settings.ini`` (its ``[settings]`` section, names in any case) or
        ``.env`` from this module's folder up, as decouple looks for them."""
        if self._decouple is None:
            self._decouple = {}
            for up in range(6):
                folder = os.path.join(*([".."] * up)) if up else ""
                text = self._read(os.path.join(folder, "settings.ini"), where)
                if text is not None:
                    ini = IniFile().with_text(text)
                    if ini is not None and ini.parser.has_section("settings"):
                        # configparser's names are lower case, as decouple reads them.
                        self._decouple = dict(ini.parser.items("settings", raw=True))
                        self._decouple_lower = True
                    break
                text = self._read(os.path.join(folder, ".env"), where)
                if text is not None:
                    self._decouple = {key: value for _, key, value, _ in parse_dotenv(text)}
                    break
        return self._decouple.get(name.lower() if self._decouple_lower else name)

    def _settings_reader(self, func: ast.AST) -> str:
        """``environs`` or ``decouple`` when ``func`` reads a setting from the
        environment through one of them, else an empty string."""
        if self.resolves_to(func, "decouple.config", "decouple.AutoConfig"):
            return "decouple"
        owner = func.value if isinstance(func, ast.Attribute) else func
        if isinstance(owner, ast.Name):
            made = self.assigned.get(owner.id)
            if isinstance(made, ast.Call) and self.resolves_to(
                made.func, "environs.Env", "decouple.AutoConfig"
            ):
                return "environs"
        return ""

    def _dotenv_file(self, call: ast.Call) -> dict[str, str]:
        """The variables of the file ``load_dotenv(...)`` loads: its path argument,
        else the first ``.env`` from this module's folder up."""
        argument = self._argument(call, "dotenv_path", 0)
        path = self._quiet_value(argument) if argument is not None else None
        if argument is not None and not isinstance(path, str | PurePath):
            return {}
        candidates = (
            [path]
            if path is not None
            else [os.path.join(*([".."] * up), ".env") for up in range(6)]
        )
        for candidate in candidates:
            text = self._read(candidate, call)
            if text is not None:
                return {name: value for _, name, value, _ in parse_dotenv(text)}
        return {}

    def environment_writes(self) -> dict[str, object]:
        """The variables this module's own statements put in ``os.environ`` at module
        level (``setdefault``, an item, ``update``, a loop over a known dict)."""
        written: dict[str, object] = {}

        def note(call_or_assign: ast.AST) -> None:
            if isinstance(call_or_assign, ast.Assign):
                target = call_or_assign.targets[0]
                if isinstance(target, ast.Subscript) and self._is_environ(target.value):
                    key = self.value(target.slice)
                    if isinstance(key, str):
                        written[key] = self.value(call_or_assign.value)
            elif isinstance(call_or_assign, ast.Expr) and isinstance(
                call_or_assign.value, ast.Call
            ):
                call = call_or_assign.value
                func = call.func
                if self.resolves_to(func, "dotenv.load_dotenv", "dotenv.main.load_dotenv"):
                    # load_dotenv(".env"): the project's file, where it has one;
                    # what is set already stays (override=False).
                    for key, value in self._dotenv_file(call).items():
                        written.setdefault(key, value)
                        self.project.environment_source.setdefault(
                            key, (self.module, call, f"{key}={value} in the file it loads")
                        )
                    return
                if not (isinstance(func, ast.Attribute) and self._is_environ(func.value)):
                    return
                if func.attr == "setdefault" and len(call.args) == 2:
                    key = self.value(call.args[0])
                    if isinstance(key, str):
                        written.setdefault(key, self.value(call.args[1]))
                        self.project.environment_source.setdefault(key, (self.module, call, ""))
                elif func.attr == "update":
                    for keyword in call.keywords:
                        if keyword.arg:
                            written[keyword.arg] = self.value(keyword.value)

        for stmt in self.module.tree.body:
            if isinstance(stmt, ast.For):
                items = self._iterated(stmt.iter, 0)
                targets = (
                    stmt.target.elts if isinstance(stmt.target, ast.Tuple) else [stmt.target]
                )
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if items is None or len(names) != len(targets):
                    continue
                for item in items[:_LOOP_ITEMS]:
                    values = (item,) if len(names) == 1 else item
                    if not isinstance(values, tuple) or len(values) != len(names):
                        break
                    self.bound.update(zip(names, values, strict=True))
                    for inner in stmt.body:
                        note(inner)
                for name in names:
                    self.bound.pop(name, None)
            else:
                note(stmt)
        return written

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
            else ({str(other).lower()} if other is not UNKNOWN else set())
        )
        if not values:
            return None
        op = node.ops[0]
        default_text = str(default).lower() if default not in (None, UNKNOWN) else None
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
                # Debug unless told development: on where it is unset, unless
                # the default says development.
                return default_text not in values
            return None
        return None

    def flag_string_on(self, node: ast.AST, label: str = "") -> bool | None:
        """Whether a value given to ``FLASK_DEBUG`` turns debug mode on, as Flask
        reads it (a non-empty string but ``0``, ``false`` or ``no``); ``None``: cannot tell."""
        value = self.decide(node, label)
        if value is UNKNOWN:
            return None
        return flask_debug_on(value)

    # -- reporting -----------------------------------------------------------------------

    def _ignored(self, line: int, rule: str) -> bool:
        """Whether a ``# prodguard: ignore`` comment on ``line`` (as the tokenizer
        sees comments) silences ``rule``."""
        if self._ignores is None:
            self._ignores = {}
            if "prodguard" in self.module.source:
                # newline=None: a lone \r ends a line, as it does for the parser
                # (else one stray \r would move every comment below it up a line).
                readline = io.StringIO(self.module.source, newline=None).readline
                try:
                    for token in tokenize.generate_tokens(readline):
                        if token.type == tokenize.COMMENT:
                            match = IGNORE_COMMENT.search(token.string)
                            if match:
                                self._ignores[token.start[0]] = match.group(1)
                except (tokenize.TokenError, SyntaxError):
                    pass  # the tree parsed: comments read so far are the comments
        if line not in self._ignores:
            return False
        rules = self._ignores[line]
        return rules is None or rule in rules

    def report(self, node: ast.AST, rule: str, app: ast.AST | None = None) -> None:
        """Record a finding of ``rule`` at ``node``, with the chain of the value that
        decided it (and of the app, when that came from elsewhere)."""
        sites = self.project.call_sites
        redirect = self.project.report_at
        owner, at = (self, node) if redirect is None else (redirect[0], redirect[1])
        line = getattr(at, "lineno", 1)
        column = getattr(at, "col_offset", 0)
        key = (line, column, rule)
        if key in owner._reported:  # a loop body visited once per item
            return
        owner._reported.add(key)
        if owner._ignored(line, rule):
            return
        steps = list(self._decided)
        if redirect is not None:
            # Found in a Flask subclass's run(): reported where that is called,
            # the sink inside it the first step.
            steps.insert(0, (self.module, node, "in its run()"))
            sites = sites[: sites.index(redirect[3])]
            app = None
        if app is not None:
            steps.extend(self._app_chain(app))
        if redirect is not None and redirect[2] is not None:
            steps.extend(owner._app_chain(redirect[2]))
        # Found inside a function followed from a call: where it was called.
        steps.extend(reversed(sites))
        chain: list[ChainStep] = []
        for module, where, note in steps[:12]:
            code = module.excerpt(where)
            label = note.rstrip()
            if label.endswith("="):  # the setting written: "debug=" or "DEBUG = "
                code = f"{note}{code}"
            elif label.endswith(":"):  # a key of a mapping: "DEBUG:"
                code = f"{label} {code}"
            elif note:
                code = f"{code} ({note})" if code else note
            step = ChainStep(str(module.path), getattr(where, "lineno", line), code)
            if step not in chain:
                chain.append(step)
        owner.findings.append(RawFinding(line, column + 1, rule, tuple(chain)))

    def _app_chain(self, node: ast.AST) -> list[tuple[Module, ast.AST, str]]:
        """Where an app that is not made on the spot comes from (another module, a
        subclass, a factory)."""
        steps: list[tuple[Module, ast.AST, str]] = []
        analyser: Analyser = self
        for _ in range(4):
            made_here = analyser.app_made(node.id) if isinstance(node, ast.Name) else None
            if made_here is not None:
                made = made_here
                steps.append((analyser.module, made, "the app"))
                node = made.value if isinstance(made, ast.Assign) else made
                continue
            other, attr = analyser._elsewhere(node)
            made_there = other.app_made(attr) if other is not None else None
            if other is not None and made_there is not None:
                made = made_there
                steps.append((other.module, made, "the app"))
                analyser, node = other, made.value if isinstance(made, ast.Assign) else made
                continue
            break
        if isinstance(node, ast.Call) and not analyser.resolves_to(
            node.func, "flask.Flask", "flask.app.Flask"
        ):
            name = dotted(node.func) or ""
            short = name.rpartition(".")[2]
            if short in analyser.classes:
                steps.append((analyser.module, analyser.classes[short], "a Flask subclass"))
            else:
                other, attr = analyser._elsewhere(node.func)
                if other is not None and attr in other.classes:
                    steps.append((other.module, other.classes[attr], "a Flask subclass"))
        return steps if len(steps) > 1 or (steps and steps[0][0] is not self.module) else []

    # -- pass 2: the sinks ---------------------------------------------------------------

    def run(self) -> list[RawFinding]:
        """Visit the module and return its findings (test code left out)."""
        body = self.module.tree.body
        if self.module.is_test:
            # Only what runs as a program: the main guard's block.
            body = [stmt for stmt in body if _is_main_guard(stmt)]
        if self._hot is _NOT_YET:
            self._hot = self._hot_lines()
        self._visit_block(body)
        return self.findings

    def _hot_lines(self) -> list[int] | None:
        """The lines (sorted) that hold a word a sink needs, or ``None`` for all.

        A simple statement with none of them on its lines cannot be a sink and
        is not visited: most of a module's code is skipped this way. The words
        are the scan's sink words and this module's aliases of ``app.run`` and
        ``app.config``; a module that sets ``sys.argv`` or makes a
        ``FlaskGroup`` is visited whole (its ``main()`` call has no such word).
        """
        source = self.module.source
        if self.argv or "FlaskGroup" in source:
            return None
        words = list(SINK_WORDS)
        for name, assignments in self.assignments.items():
            if any(
                (isinstance(a.value, ast.Attribute) and a.value.attr in ("run", "config"))
                or (  # partial(app.run, ...)
                    isinstance(a.value, ast.Call)
                    and a.value.args
                    and isinstance(a.value.args[0], ast.Attribute)
                    and a.value.args[0].attr == "run"
                )
                for a in assignments
            ):
                words.append(name)
        followed = self.project.parametric
        for name, assignments in self.assignments.items():
            # run = make_runner(debug=True), where make_runner returns a nested
            # function: a call of run(app) may serve.
            if any(
                isinstance(a.value, ast.Call)
                and (dotted(a.value.func) or "").rpartition(".")[2] in followed
                and self._makes_closure(name, hot=False)
                for a in assignments
            ):
                words.append(name)
        for local, full in self.imports.items():
            # Sinks imported under another name: DebuggedApplication as DbgApp;
            # and the project's functions with a sink on a parameter, which a
            # call is followed into.
            if full in _PROCESS_STARTERS or any(word in full for word in SINK_WORDS):
                words.append(local)
            elif full.startswith("const:") and full.rpartition(":")[2] in followed:
                words.append(local)
            elif full.startswith("module:") and followed:
                words.append(local + ".")  # devserver.serve(app, ...)
        words.extend(name for name in self.defined if name in followed)
        # A method followed from a call (DevServer(app).serve(), server.serve()),
        # where a class that has it is named.
        project = self.project
        if project.methods:
            for name in project.methods_called(source):
                if any(cls in source for cls in project.methods[name]):
                    words.append(f".{name}(")
        return _lines_matching(source, words)

    def parametric_sinks(self) -> list[tuple[str, str]]:
        """This module's functions with a parameter on a line that holds a word a sink
        needs (``debug``, ``DEBUG``, ``.run(``, ...): a call from elsewhere may
        decide a sink inside them (``serve(app, port=8001)``)."""
        names: list[tuple[str, str]] = []
        for name in self.defined:
            defined = self.returning.get(name)
            if defined is None:
                continue
            if self.wrapper_sinks(defined):
                names.append(("", name))  # a decorator whose wrapper has a sink
        sink_lines = self.sink_lines()
        if not sink_lines:
            return names
        lines = _LINE_BREAKS.split(self.module.source)
        functions: list[tuple[str, str, ast.FunctionDef | ast.AsyncFunctionDef]] = [
            ("", name, self.returning[name]) for name in self.defined if name in self.returning
        ]
        for cls, definition in self.classes.items():
            # Methods: their instance (self) is a parameter too, made elsewhere.
            # (Not __init__ and the like: a call never names them.)
            functions.extend(
                (cls, item.name, item)
                for item in definition.body
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("__")
            )
        for cls, name, function in functions:
            args = function.args
            parameters = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            if args.kwarg is not None:
                parameters.append(args.kwarg.arg)
            if not parameters:
                continue
            first, last = function.lineno, function.end_lineno or function.lineno
            numbers = sink_lines[
                bisect.bisect_left(sink_lines, first) : bisect.bisect_right(sink_lines, last)
            ]
            if not numbers:
                continue
            sinks = []
            # A method's instance is in every line (self): only lines that write
            # or start something count there, not ones that read app.debug.
            words = _METHOD_SINK_WORDS if cls else _PARAMETRIC_WORDS
            for number in numbers:
                line = lines[number - 1] if number <= len(lines) else ""
                # logger.debug(...) holds a sink word and is no sink.
                line = line.replace(".debug(", "(")
                if any(w in line for w in words):
                    sinks.append(line)
            if not sinks:
                continue
            pattern = _word_pattern(parameters)
            if any(pattern.search(line) for line in sinks):
                names.append((cls, name))
                continue
            # Locals computed from a parameter count too (server = conf["server"]),
            # told from the lines that assign them, in order.
            tainted = set(parameters)
            for number in range(first, min(last, len(lines)) + 1):
                assignment = _ASSIGNMENT_LINE.match(lines[number - 1])
                if assignment is not None and pattern.search(assignment.group(2)):
                    if assignment.group(1) not in tainted:
                        tainted.add(assignment.group(1))
                        pattern = _word_pattern(tainted)
            if any(pattern.search(line) for line in sinks):
                names.append((cls, name))
        return names

    def sink_lines(self) -> list[int]:
        """The lines of this module with a word a sink on a parameter needs (cached)."""
        if self._sink_lines is None:
            self._sink_lines = _lines_matching(self.module.source, _PARAMETRIC_WORDS)
        return self._sink_lines

    def wrapper_sinks(self, function: ast.FunctionDef) -> bool:
        """Whether ``function`` is a decorator (or a decorator factory) whose
        wrapper (see :meth:`returned_wrapper`) has a line a sink needs, logging
        aside: a word of :data:`_WRAPPER_WORDS` (``app.config.update(overrides)``
        takes its settings from the decorator's names)."""
        wrapper = self.returned_wrapper(function)
        if wrapper is None:
            return False
        first, last = wrapper.lineno, wrapper.end_lineno or wrapper.lineno
        lines = _LINE_BREAKS.split(self.module.source)[first - 1 : last]
        return any(
            any(word in line.replace(".debug(", "(") for word in _WRAPPER_WORDS)
            for line in lines
        )

    def _is_hot(self, node: ast.stmt) -> bool:
        if self._hot is _NOT_YET:
            self._hot = self._hot_lines()
        hot = self._hot
        if hot is None:
            return True
        first = bisect.bisect_left(hot, node.lineno)
        return first < len(hot) and hot[first] <= (node.end_lineno or node.lineno)

    def visit(self, node: ast.AST) -> None:
        """Visit ``node`` and what it holds (a simple statement only if it is hot)."""
        visitor = self._visitors.get(type(node))
        if visitor is not None:
            visitor(node)
        elif isinstance(node, ast.stmt) and type(node) not in _COMPOUND:
            if self._is_hot(node):
                self._visit_children(node)
        else:
            self._visit_children(node)

    def _visit_children(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt | ast.expr | ast.keyword | ast.arguments):
                self.visit(child)
            elif isinstance(child, ast.excepthandler | ast.withitem | ast.match_case):
                self._visit_children(child)
            elif isinstance(child, ast.comprehension):
                self._visit_children(child)

    def _visit_function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        given: dict[str, object] | None = None,
    ) -> None:
        """Visit a function's body, its parameters at their defaults except those
        ``given`` a value.

        In a function without parameters (``main()``, run as it is), the locals
        that lines a sink needs read, and those they are made from, are tracked
        in order from unknown (a nested function's locals are its own). (In
        others that costs more than it finds: there, a local stands for its last
        assignment.)"""
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._visit_children(node.args)
        saved = self.parameters, self._function
        parameters = _parameters(node.args)
        for decorator in node.decorator_list:
            # @click.option("--debug/--no-debug", default=True): the parameter's
            # value where the option is not given.
            if isinstance(decorator, ast.Call) and self.resolves_to(
                decorator.func, "click.option", "click.decorators.option"
            ):
                option = _click_option(decorator)
                if option is not None and option[0] in parameters:
                    parameters[option[0]] = option[1]
        self.parameters, self._function = parameters, node
        track = (
            isinstance(node, ast.FunctionDef) and not parameters and self.has_hot_lines(node)
        )
        tracking, self._tracking = self._tracking, track
        tracked = self._tracked
        if track:
            self._tracked = _closure(self._hot_reads(node), self.project.flow_of(node)[1])
        bound, steps = self.bound, self._bound_steps
        if track:
            self.bound = {**bound, **dict.fromkeys(self.project.names_of(node)[0], UNKNOWN)}
        if given:
            self.bound = {**self.bound, **given}
        self._bound_steps = {}
        try:
            self._visit_block(node.body)
        finally:
            self.parameters, self._function = saved
            self._tracking, self._tracked = tracking, tracked
            self.bound, self._bound_steps = bound, steps
        if node.decorator_list and isinstance(node, ast.FunctionDef):
            self._follow_wrapper(node)

    def _hot_reads(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
        """The names read by a function's statements on a line a sink needs, and by
        the headers of compound statements that hold one, nested functions aside."""
        names: set[str] = set()
        stack: list[ast.stmt] = list(function.body)
        while stack:
            stmt = stack.pop()
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if type(stmt) not in _COMPOUND:
                if self._is_hot(stmt):
                    names |= _names_read(stmt)
                continue
            if not self._is_hot(stmt):
                continue
            # Which branch or how many times: what decides that is read too.
            for field in ("test", "iter", "items", "subject"):
                header = getattr(stmt, field, None)
                for part in header if isinstance(header, list) else [header]:
                    if part is not None:
                        names |= _names_read(part)
            stack.extend(_child_statements(stmt))
        return names

    def _tracks(self, names: Iterable[str]) -> bool:
        """Whether an assignment to ``names`` is tracked (see :meth:`_visit_function`)."""
        return self._tracking and (
            self._tracked is None or any(name in self._tracked for name in names)
        )

    def _visit_class(self, node: ast.ClassDef) -> None:
        if any(self.resolves_to(base, *_TEST_CASES) for base in node.bases):
            return  # unittest collects its test methods: test code
        if node.name in self.classes and self.is_flask_class(node.name):
            # A Flask subclass's __init__ configures every instance: there,
            # self is the app (self.config["DEBUG"] = True, self.debug = True).
            for decorator in node.decorator_list:
                self.visit(decorator)
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    positional = [*item.args.posonlyargs, *item.args.args]
                    if positional:
                        self._visit_function(item, {positional[0].arg: AN_APP})
                        continue
                self.visit(item)
            return
        self._visit_children(node)

    def _visit_block(self, body: list[ast.stmt]) -> None:
        """Visit one scope's statements; in straight-line code the last write wins.

        A write that turns debug on and a later write of the same setting that
        turns it off again, with only writes, imports, definitions and plain
        assignments between them (nothing that could serve), is no finding.
        """
        live: dict[tuple[str, str], list[RawFinding]] = {}
        project = self.project
        project.work += len(body)
        if project.work > MAX_WORK:
            raise TooCostly
        for stmt in body:
            start = len(self.findings)
            if self._tracking:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                    func = stmt.value.func
                    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                        if self._tracks([func.value.id]):
                            self._effect(stmt.value, {}, "", 0)
                    elif self._tracked is None:
                        self._effect(stmt.value, {}, "", 0)
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                    if self._tracks(_stored_names(stmt.target)):
                        self._assign(stmt, [stmt.target], stmt.value, 0)
            self.visit(stmt)
            if isinstance(stmt, ast.Return | ast.Raise | ast.Continue | ast.Break):
                break  # what follows in this block never runs
            writes = self._debug_writes(stmt) if self._is_hot(stmt) else []
            if isinstance(stmt, ast.Try) and stmt.finalbody and self._serves_nothing(stmt):
                # try: a warm-up request through the test client, finally:
                # app.debug = False: what the finally block writes holds after it.
                for inner in stmt.finalbody:
                    if isinstance(inner, ast.Assign | ast.Expr | ast.If):
                        if self._is_hot(inner):
                            writes.extend(self._debug_writes(inner))
            if not writes and not isinstance(stmt, _INERT_STATEMENTS):
                if not self._is_config_call(stmt):
                    live.clear()  # control flow or a call: it may serve what is set
            for slot, on in writes:
                if on is False:
                    dropped = live.pop(slot, [])
                    if dropped:
                        gone = {id(f) for f in dropped}
                        self.findings = [f for f in self.findings if id(f) not in gone]
                        # The place may be reached again (another call of the
                        # same function) where nothing turns it off.
                        self._reported.difference_update(
                            (f.line, f.column - 1, f.rule) for f in dropped
                        )
                elif on:
                    live[slot] = [f for f in self.findings[start:] if f.rule == slot[0]]
                else:
                    live.pop(slot, None)

    def _serves_nothing(self, stmt: ast.Try) -> bool:
        """Whether a ``try`` statement's blocks (its ``finally`` aside) call nothing but
        an app's in-process helpers (``app.test_client()``) and the clients they
        make (``client.get("/healthz")``): nothing there can serve."""
        blocks = [*stmt.body, *stmt.orelse]
        for handler in stmt.handlers:
            blocks.extend(handler.body)
        nodes = [node for block in blocks for node in ast.walk(block)]
        clients: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.withitem):
                made, named = node.context_expr, node.optional_vars
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                made, named = node.value, node.targets[0]
            else:
                continue
            if isinstance(named, ast.Name) and self._in_process(made):
                clients.add(named.id)
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                return False
            if isinstance(node, ast.Call) and not self._in_process(node):
                func = node.func
                if not (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.value.id in clients
                ):
                    return False
        return True

    def _in_process(self, node: ast.AST) -> bool:
        """``app.test_client()`` and the like (see :data:`_IN_PROCESS`)."""
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _IN_PROCESS
            and self._is_app(node.func.value)
        )

    def _is_config_call(self, stmt: ast.stmt) -> bool:
        """``app.config.<method>(...)`` as a statement: it loads settings, serves nothing."""
        return (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Attribute)
            and self._is_config(stmt.value.func.value)
        )

    def _debug_writes(self, stmt: ast.stmt) -> list[tuple[tuple[str, str], bool | None]]:
        """The debug settings a statement writes: ((rule, owner), on or off)."""
        writes: list[tuple[tuple[str, str], bool | None]] = []
        if isinstance(stmt, ast.If):
            # A branch the analysis knows is taken writes as if it stood here.
            taken = self.truthy(stmt.test)
            branch = stmt.body if taken else (stmt.orelse if taken is False else [])
            for inner in branch:
                if isinstance(inner, ast.Assign | ast.Expr | ast.If):
                    writes.extend(self._debug_writes(inner))
            return writes
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "debug"
                    and self._is_app(target.value)
                ):
                    owner = dotted(target.value) or ""
                    writes.append((("PGS102", owner), self.truthy(stmt.value)))
                elif isinstance(target, ast.Subscript) and self._is_config(target.value):
                    if self.value(target.slice) == "DEBUG":
                        owner = dotted(target.value) or ""
                        writes.append((("PGS103", owner), self.truthy(stmt.value)))
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "from_object"
                and stmt.value.args
                and self._is_config(func.value)
            ):
                loaded = self._object_debug(stmt.value.args[0])
                if loaded is not UNKNOWN:
                    writes.append((("PGS103", dotted(func.value) or ""), bool(loaded)))
            elif (
                isinstance(func, ast.Attribute)
                and func.attr
                in ("from_pyfile", "from_envvar", "from_prefixed_env", "from_file")
                and self._is_config(func.value)
            ):
                loaded = self._loaded_debug(stmt.value, func.attr)
                if loaded is not UNKNOWN:
                    writes.append((("PGS103", dotted(func.value) or ""), bool(loaded)))
            elif (
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
                    writes.append((("PGS103", dotted(func.value) or ""), on))
        return writes

    def _visit_for(self, node: ast.For) -> None:
        """A loop over a known mapping is followed item by item, its variables bound;
        in a function, what its body changes (``env.setdefault(key, value)``) holds
        after it."""
        # Only the outermost such loop is unrolled: nested ones would multiply.
        items = (
            None
            if self._unrolling
            or not (self._is_hot(node) or self._tracks(_stored_names(node.target)))
            else self._iterated(node.iter, 0)
        )
        targets = node.target.elts if isinstance(node.target, ast.Tuple) else [node.target]
        names = [target for target in targets if isinstance(target, ast.Name)]
        if items is None or not names or len(names) != len(targets):
            self._visit_children(node)
            return
        self.visit(node.iter)
        saved = {name.id: self.bound[name.id] for name in names if name.id in self.bound}
        self._unrolling = True
        try:
            for item in items[:_LOOP_ITEMS]:
                values = (item,) if len(names) == 1 else item
                if not isinstance(values, tuple) or len(values) != len(names):
                    break  # the loop would fail to unpack: nothing more to follow
                for name, value in zip(names, values, strict=True):
                    self.bound[name.id] = value
                self._visit_block(node.body)
        finally:
            self._unrolling = False
        for name in names:
            if name.id in saved:
                self.bound[name.id] = UNKNOWN if self._tracking else saved[name.id]
            else:
                self.bound.pop(name.id, None)
        self._visit_block(node.orelse)

    def _visit_if(self, node: ast.If) -> None:
        if not self._is_hot(node) and not (self._tracking and self._tracked is None):
            # No sink inside: which branch runs does not matter.
            self._visit_block(node.body)
            self._visit_block(node.orelse)
            return
        condition = self.truthy(node.test)
        if condition is False:
            # Dead code, or an explicit development gate: only the else branch runs.
            self._visit_block(node.orelse)
            return
        self.visit(node.test)
        self._visit_block(node.body)
        self._visit_block(node.orelse)

    def _visit_augassign(self, node: ast.AugAssign) -> None:
        """``app.config |= {"DEBUG": True}``: a merge into the config."""
        if (
            self._is_hot(node)
            and isinstance(node.op, ast.BitOr)
            and self._is_config(node.target)
        ):
            value = self._mapping_value(node.value, "DEBUG")
            if value is not None and self.truthy(value, "DEBUG:"):
                self.report(node, "PGS103")
        self._visit_children(node)

    def _visit_assign(self, node: ast.Assign) -> None:
        if self._tracks(set().union(*map(_stored_names, node.targets))):
            # A tracked local: its value from here on.
            self._assign(node, node.targets, node.value, 0)
        if not self._is_hot(node):
            return
        for target in node.targets:
            self._assignment(target, node.value, node)
        self._visit_children(node)

    def _assignment(self, target: ast.AST, value: ast.AST, node: ast.Assign) -> None:
        if isinstance(target, ast.Attribute) and target.attr == "debug":
            if self._is_app(target.value) and self.truthy(value, "debug = "):
                self.report(node, "PGS102", target.value)
        elif isinstance(target, ast.Subscript):
            key = self.value(target.slice)
            if key == "DEBUG" and self._is_config(target.value):
                if self.truthy(value, "DEBUG = "):
                    self.report(node, "PGS103", self._config_owner(target.value))
            elif key == "FLASK_DEBUG" and self._is_environ(target.value):
                if self.flag_string_on(value, "FLASK_DEBUG = "):
                    self.report(node, "PGS104")
        elif (
            isinstance(target, ast.Name)
            and target.id == "raw_env"
            and "gunicorn" in self.module.path.name
        ):
            # gunicorn.conf.py: raw_env = ["FLASK_DEBUG=1"] is the workers' environment.
            entries = self.decide(value, "raw_env = ")
            if isinstance(entries, list | tuple):
                for entry in entries:
                    if isinstance(entry, str) and entry.startswith("FLASK_DEBUG="):
                        if flask_debug_on(entry.partition("=")[2]):
                            self.report(node, "PGS104")

    def _config_owner(self, node: ast.AST) -> ast.AST | None:
        return node.value if isinstance(node, ast.Attribute) else None

    def _visit_call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "run" and self._is_app(func.value):
            self._run_call(node, func.value)
        elif (
            isinstance(func, ast.Attribute)
            and func.attr == "run"
            and node.args
            and self._is_app(node.args[0])
            and self._callee(func) is None  # not the project's own run(app, ...)
        ):
            # A server's runner given the app (Flask-SocketIO's socketio.run(app,
            # debug=True) serves it on Werkzeug with the debugger).
            self._run_call(node, node.args[0], positional=False)
        elif isinstance(target := self._argument(node, "target", 99), ast.expr) and (
            self._run_of(target) is not None
        ):
            # threading.Thread(target=app.run, kwargs={"debug": True}): run() is
            # called with those arguments.
            positional = self._argument(node, "args", 99)
            keywords = self._argument(node, "kwargs", 99)
            merged = ast.Call(
                func=target,
                args=list(positional.elts)
                if isinstance(positional, ast.Tuple | ast.List)
                else [],
                keywords=[ast.keyword(arg=None, value=keywords)]
                if isinstance(keywords, ast.expr)
                else [],
            )
            ast.copy_location(merged, node)
            self._run_call(merged, None, positional=True)
        elif isinstance(func, ast.Name) and self._is_run_alias(func.id):
            # The arguments a partial() fixed come first, then this call's.
            fixed = next(
                (
                    f
                    for a in self.assignments.get(func.id, ())
                    if (f := self._run_of(a.value)) is not None
                ),
                None,
            )
            merged = ast.Call(
                func=func,
                args=[
                    *(fixed.args[1:] if fixed is not None and fixed.args else []),
                    *node.args,
                ],
                keywords=[*(fixed.keywords if fixed is not None else []), *node.keywords],
            )
            ast.copy_location(merged, node)
            self._run_call(merged, None)
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in ("run", "run_server")
            and self._is_wrapper(func.value)
        ):
            # Dash and Connexion serve their Flask app: run(debug=True) starts the debugger.
            self._run_call(node, None, positional=False)
        elif self.resolves_to(func, "flask_script.Server", "flask_script.commands.Server"):
            # Flask-Script's runserver command: Server(use_debugger=True).
            for keyword in ("use_debugger",):
                value = self._argument(node, keyword, 99)
                if self.truthy(value, f"{keyword}="):
                    self.report(node, "PGS101")
        elif self.resolves_to(func, "werkzeug.serving.run_simple", "werkzeug.run_simple"):
            values = [self._argument(node, "use_debugger", 4)]
            values += [  # run_simple(**SERVER_OPTIONS)
                self._mapping_value(k.value, "use_debugger")
                for k in node.keywords
                if k.arg is None
            ]
            for debugger in values:
                if debugger is not None and self.truthy(debugger, "use_debugger="):
                    self.report(node, "PGS105")
                    break
        elif self.resolves_to(
            func,
            "werkzeug.debug.DebuggedApplication",
            "werkzeug.DebuggedApplication",
        ):
            if node.args or node.keywords:
                self.decide(None)
                self.report(node, "PGS106")
        elif isinstance(func, ast.Attribute) and self._is_config(func.value):
            self._config_call(node, func.attr)
        elif isinstance(func, ast.Attribute) and self._is_environ(func.value):
            self._environ_call(node, func.attr)
        elif self.resolves_to(func, "os.putenv"):
            if len(node.args) == 2 and _literal(node.args[0]) == "FLASK_DEBUG":
                if self.flag_string_on(node.args[1], "FLASK_DEBUG = "):
                    self.report(node, "PGS104")
        elif isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) == 3:
            if self._is_app(node.args[0]) and self.value(node.args[1]) == "debug":
                if self.truthy(node.args[2], "debug = "):
                    self.report(node, "PGS102", node.args[0])
        elif isinstance(func, ast.Attribute) and func.attr == "set_defaults":
            self._subcommand(node, func.value)
        else:
            self._command_call(node)
            self._follow_call(node)
        self._visit_children(node)

    def _subcommand(self, node: ast.Call, parser: ast.AST) -> None:
        """``serve.set_defaults(func=cmd_serve)`` on an argparse subcommand: the
        handler ``args.func(args)`` runs, followed with that subcommand's defaults."""
        handler = self._argument(node, "func", 99)
        target = self._callee(handler) if handler is not None else None
        if target is None or len(self.project.calling) >= 3:
            return
        callee, function = target
        positional = [*function.args.posonlyargs, *function.args.args]
        if len(positional) != 1:
            return
        steps = self.project.steps
        saved = len(steps)
        namespace = self._parsed_arguments(parser, 0)
        taken = steps[saved:]
        del steps[saved:]
        if not isinstance(namespace, Namespace):
            return
        self.follow(
            node,
            callee,
            function,
            given=({positional[0].arg: namespace}, {positional[0].arg: taken}),
        )

    # -- functions followed from their call sites -------------------------------------

    def _callee(self, func: ast.AST) -> tuple[Analyser, ast.FunctionDef] | None:
        """The project function a call reaches (of this module or imported from one)."""
        if isinstance(func, ast.Name):
            made = self.bound.get(func.id)
            if isinstance(made, Closure):
                # fn(...) in a decorator's wrapper: the function it decorates.
                return made.analyser, made.function
            if func.id in self.returning:
                return self, self.returning[func.id]
            other, attr = self._elsewhere(func) if self._may_be_class(func) else (None, "")
        elif isinstance(func, ast.Attribute) and self._may_be_class(func):
            other, attr = self._elsewhere(func)
        else:
            return None
        if other is None or attr not in other.returning:
            return None
        return other, other.returning[attr]

    def _follow_call(self, node: ast.Call) -> None:
        """Visit a project function again with its parameters bound to this call's
        arguments: ``serve(app, port=8001)`` whose body runs ``app.run(debug=debug)``
        with ``debug=True`` by default, a factory given the name of a configuration,
        a launcher's method (``DevServer(app).serve()``) with its instance."""
        project = self.project
        if len(project.calling) >= 3:
            return
        name = (
            node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        )
        if isinstance(node.func, ast.Name) and self._makes_closure(node.func.id):
            made = self._quiet_value(node.func)
            if isinstance(made, Closure):
                traces: dict[str, list[tuple[Module, ast.AST, str]]] = {}
                closure_bound = self._bind_arguments(
                    node, made.analyser, made.function, traces=traces
                )
                if closure_bound is not None:
                    given = ({**made.frame, **closure_bound}, traces)
                    self.follow(node, made.analyser, made.function, given=given)
            return
        called = self.bound.get(name) if isinstance(node.func, ast.Name) else None
        if name not in project.parametric and not isinstance(called, Closure):
            return
        receiver: object = _NOT_YET
        target = self._callee(node.func)
        if target is not None:
            callee, function = target
            if not (node.args or node.keywords):
                return  # its own visit saw it with its defaults
            wrapped = callee.wrapper_of(function)
            if wrapped is not None:
                # A decorated function: its decorator's wrapper runs first, given
                # this call's arguments (and then, as a rule, the function).
                owner, wrapper, frame = wrapped
                steps: dict[str, list[tuple[Module, ast.AST, str]]] = {}
                bound = self._bind_arguments(node, owner, wrapper, traces=steps)
                if bound is not None:
                    self.follow(
                        node,
                        owner,
                        wrapper,
                        given=({**frame, **bound}, steps),
                        note=f"{function.name}() called here, through its decorator",
                    )
        else:
            method = self._method_target(node.func)
            if method is None:
                return
            callee, function, receiver = method
        self.follow(node, callee, function, receiver)

    def _makes_closure(self, name: str, hot: bool = True) -> bool:
        """Whether ``name`` is assigned what a project function with a nested function
        returns (``run = make_runner(debug=True)``), cheaply told; with ``hot``, one
        with a line a sink needs (not asked while those lines are worked out)."""
        assigned = self.assigned.get(name)
        if not isinstance(assigned, ast.Call) or name in self.returning:
            return False
        target = self._callee(assigned.func)
        if target is None:
            return False
        callee, function = target
        return (not hot or callee.has_hot_lines(function)) and any(
            isinstance(item, ast.FunctionDef) for item in function.body
        )

    def returned_wrapper(self, function: ast.FunctionDef) -> ast.FunctionDef | None:
        """The function a function of this module defines and returns: a
        decorator's wrapper, returned in place of the function it is given
        (``def dev_mode(fn): def wrapper(...): ...; return wrapper``), or a
        decorator a decorator factory makes; ``None`` for none (cached)."""
        key = id(function)
        if key not in self._wrappers:
            nested = {
                item.name: item for item in function.body if isinstance(item, ast.FunctionDef)
            }
            # Every return of the body (nested functions aside) must give the
            # wrapper: a decorator that returns the function itself on some path
            # (``if not DEV: return build``) may never wrap it.
            returns: list[ast.Return] = []
            stack: list[ast.AST] = list(function.body)
            while stack:
                node = stack.pop()
                if isinstance(node, ast.Return):
                    returns.append(node)
                elif not isinstance(
                    node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
                ):
                    stack.extend(ast.iter_child_nodes(node))
            names = {r.value.id if isinstance(r.value, ast.Name) else "" for r in returns}
            found = nested.get(names.pop()) if len(names) == 1 else None
            targets = [
                target
                for item in function.body
                for target in (
                    item.targets
                    if isinstance(item, ast.Assign)
                    else [item.target]
                    if isinstance(item, ast.AugAssign | ast.AnnAssign)
                    else []
                )
            ]
            # inner = build; return inner: the name no longer holds the wrapper.
            rebound = found is not None and any(found.name in _stored_names(t) for t in targets)
            self._wrappers[key] = None if rebound else found
        return self._wrappers[key]

    def wrapper_of(
        self, function: ast.FunctionDef
    ) -> tuple[Analyser, ast.FunctionDef, dict[str, object]] | None:
        """For a function of this module decorated by a project decorator that
        returns a wrapper (see :meth:`returned_wrapper`): the decorator's module,
        the wrapper, and the decorator's names (its parameter is the function).
        A decorator made by a call (``@with_settings(DEBUG=True)``) has the
        names of that call too."""
        followed = self.project.parametric
        for decorator in function.decorator_list:
            func = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = dotted(func)
            if name is None or name.rpartition(".")[2] not in followed:
                continue
            target = self._callee(func)
            if target is None:
                continue
            owner, made_by = target
            frame: dict[str, object] = {}
            if isinstance(decorator, ast.Call):
                # with_settings(**overrides) returns the decorator itself.
                bound = self._bind_arguments(decorator, owner, made_by)
                inner = owner.returned_wrapper(made_by)
                if bound is None or inner is None:
                    continue
                frame.update(bound)
                made_by = inner
            wrapper = owner.returned_wrapper(made_by)
            positional = [*made_by.args.posonlyargs, *made_by.args.args]
            if wrapper is not None and positional:
                frame[positional[0].arg] = Closure(self, function, {})
                return owner, wrapper, frame
        return None

    def _follow_wrapper(self, node: ast.FunctionDef) -> None:
        """A function decorated by a wrapper that can serve or configure (a
        decorator of the project): the wrapper is visited as the decorated
        function, called without arguments (a call with arguments is followed
        where it is made): ``app = factory(); app.debug = True`` in it sets debug
        on the app that function makes."""
        wrapped = self.wrapper_of(node)
        if wrapped is None:
            return
        owner, wrapper, frame = wrapped
        given: dict[str, object] = dict(frame)
        for name, default in _parameters(wrapper.args).items():
            given[name] = UNKNOWN if default is None else owner._quiet_value(default)
        if wrapper.args.vararg is not None:
            given[wrapper.args.vararg.arg] = ()
        if wrapper.args.kwarg is not None:
            given[wrapper.args.kwarg.arg] = {}
        self.follow(
            node.decorator_list[0], owner, wrapper, given=(given, {}), note="decorated here"
        )

    def follow(
        self,
        node: ast.AST,
        callee: Analyser,
        function: ast.FunctionDef,
        receiver: object = _NOT_YET,
        redirect: ast.AST | None = None,
        given: tuple[dict[str, object], dict[str, list[tuple[Module, ast.AST, str]]]]
        | None = None,
        note: str = "",
    ) -> bool | None:
        """Visit ``callee``'s ``function`` for the call ``node`` (see :meth:`_follow_call`);
        whether that found something (``None``: it could not be followed). With
        ``redirect`` (the app of ``app.run(...)``), what it finds is reported at
        ``node``. ``given``: the parameters' values and their chain steps, where
        the caller worked them out (an argparse subcommand's handler); ``note``
        says what ``node`` is, where it is no call."""
        project = self.project
        if id(function) in project.calling or not callee.has_hot_lines(function):
            return None
        traces: dict[str, list[tuple[Module, ast.AST, str]]] = {}
        bound: dict[str, object] | None
        if given is not None:
            bound, traces = given  # the parameters' values, worked out by the caller
        elif isinstance(node, ast.Call):
            bound = self._bind_arguments(node, callee, function, receiver, traces)
        else:
            bound = None
        if bound is None:
            return None
        site = (self.module, node, note or f"{function.name}() called here")
        saved_redirect = project.report_at
        if redirect is not None:
            project.report_at = (self, node, redirect, site)
        found = len(self.findings) if redirect is not None else len(callee.findings)
        saved = callee.bound, callee.parameters, callee._function, callee._tracking
        saved_steps = callee._bound_steps
        callee.bound = {
            **callee.bound,
            **dict.fromkeys(project.names_of(function)[0], UNKNOWN),
            **bound,
        }
        callee.parameters, callee._function, callee._tracking = {}, function, True
        saved_tracked, callee._tracked = callee._tracked, None
        callee._bound_steps = traces
        project.calling.append(id(function))
        project.call_sites.append(site)
        try:
            callee._visit_block(function.body)
        finally:
            project.calling.pop()
            project.call_sites.pop()
            project.report_at = saved_redirect
            callee.bound, callee.parameters, callee._function, callee._tracking = saved
            callee._tracked = saved_tracked
            callee._bound_steps = saved_steps
        if redirect is not None:
            return len(self.findings) > found
        return len(callee.findings) > found

    def _bind_arguments(
        self,
        node: ast.Call,
        callee: Analyser,
        function: ast.FunctionDef,
        receiver: object = _NOT_YET,
        traces: dict[str, list[tuple[Module, ast.AST, str]]] | None = None,
    ) -> dict[str, object] | None:
        """Parameter -> value for a call (an app given is :data:`AN_APP`); parameters
        not given take their defaults; a method's first parameter is ``receiver``.
        ``None`` when the call cannot be matched. ``traces`` gets each parameter's
        chain steps."""
        # fn(*args, **kwargs) in a wrapper: the values its own call gave them.
        arguments: list[ast.expr | _Known] = []
        for written in node.args:
            if isinstance(written, ast.Starred):
                spread = self._quiet_value(written.value)
                if not isinstance(spread, tuple | list):
                    return None
                arguments.extend(_Known(item) for item in spread)
            else:
                arguments.append(written)
        given: dict[str, ast.expr | _Known] = {}
        for keyword in node.keywords:
            if keyword.arg is not None:
                given[keyword.arg] = keyword.value
                continue
            spread = self._quiet_value(keyword.value)
            if not isinstance(spread, dict) or not all(isinstance(k, str) for k in spread):
                return None  # **kwargs at the call: which parameters is unknown
            given.update((key, _Known(item)) for key, item in spread.items())
        args = function.args
        positional = [*args.posonlyargs, *args.args]
        bound: dict[str, object] = {}
        if receiver is not _NOT_YET:
            if not positional:
                return None
            bound[positional[0].arg] = receiver
            positional = positional[1:]
        extra = arguments[len(positional) :]
        if extra and args.vararg is None:
            return None
        defaults = dict(
            zip(
                [a.arg for a in positional[len(positional) - len(args.defaults) :]],
                args.defaults,
                strict=True,
            )
        )
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if kw_default is not None:
                defaults[arg.arg] = kw_default
        for parameter, argument in zip(positional, arguments, strict=False):
            given[parameter.arg] = argument
        names = [a.arg for a in positional] + [a.arg for a in args.kwonlyargs]
        if args.vararg is not None:
            bound[args.vararg.arg] = tuple(
                item.value if isinstance(item, _Known) else self._quiet_value(item)
                for item in extra
            )
        for name in names:
            steps: list[tuple[Module, ast.AST, str]]
            if name in given:
                argument = given[name]
                if isinstance(argument, _Known):
                    bound[name], steps = argument.value, []
                else:
                    bound[name], steps = self._traced(argument, 0, local=True)
                    steps.insert(0, (self.module, argument, f"{name}="))
            elif name in defaults:
                bound[name], steps = callee._traced(defaults[name], 0)
                steps.insert(0, (callee.module, defaults[name], f"the default of {name}"))
            else:
                return None  # a parameter the call does not give: it would fail
            if traces is not None:
                traces[name] = steps
        if args.kwarg is not None:
            # start(app, debug=True) into def start(app, **options): options is a dict.
            bound[args.kwarg.arg] = {
                key: value.value if isinstance(value, _Known) else self._quiet_value(value)
                for key, value in given.items()
                if key not in names
            }
        return bound

    def has_hot_lines(self, function: ast.FunctionDef) -> bool:
        """Whether a function of this module has a line a sink needs."""
        if self._hot is _NOT_YET:
            self._hot = self._hot_lines()
        hot = self._hot
        if hot is None:
            return True
        first = bisect.bisect_left(hot, function.lineno)
        return first < len(hot) and hot[first] <= (function.end_lineno or function.lineno)

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
        if (
            isinstance(node, ast.Name)
            and node.id in self.dicts
            and node.id not in self.mutations
            and node.id not in self.parameters
        ):
            node = self.dicts[node.id]
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if k is not None and _literal(k) == key:
                    return v
        if isinstance(node, ast.Call) and dotted(node.func) == "dict":
            for keyword in node.keywords:
                if keyword.arg == key:
                    return keyword.value
            return None
        # Any other mapping the value analysis knows (``json.loads`` of a literal,
        # a dict of another module, ...).
        value = self.decide(node)
        if isinstance(value, dict) and key in value:
            found = ast.Constant(value[key])
            self._carried[id(found)] = list(self._decided)
            ast.copy_location(found, node)
            return found
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

    def _is_wrapper(self, node: ast.AST) -> bool:
        """An instance of a framework that wraps a Flask app and whose ``run(debug=...)``
        passes debug on to it: Dash, Connexion 2's ``App``/``FlaskApp``."""
        made = node
        if isinstance(node, ast.Name):
            made = self.assigned.get(node.id)  # type: ignore[assignment]
        return isinstance(made, ast.Call) and self.resolves_to(made.func, *_WRAPPERS)

    def _run_call(self, node: ast.Call, app: ast.AST | None, positional: bool = True) -> None:
        candidates = [
            (self._argument(node, "debug", 2 if positional else 99), "debug="),
            (self._argument(node, "use_debugger", 99), "use_debugger="),
        ]
        for keyword in node.keywords:
            if keyword.arg is None:  # **kwargs
                candidates.append((self._mapping_value(keyword.value, "debug"), "debug="))
                candidates.append(
                    (self._mapping_value(keyword.value, "use_debugger"), "use_debugger=")
                )
        cls = self._app_class(app) if positional and app is not None else None
        found = cls.analyser.method_of(cls, "run") if cls is not None else None
        if found is not None and len(self.project.calling) < 3:
            # A Flask subclass's own run() decides what these arguments do: it
            # is followed with the app and them, what it finds reported here.
            owner, method = found
            if self.follow(node, owner, method, AN_APP, redirect=app) is not None:
                return
        for value, label in candidates:
            if value is not None and self.truthy(value, label):
                self.report(node, "PGS101", app)
                return
        if positional and app is not None and candidates[0][0] is None:
            # A Flask subclass whose own run() turns debug on by default.
            default = self._run_default(app)
            if default is not None:
                owner, expression = default
                self.decide(None)
                owner._step(expression, "the default of debug in run()")
                on = owner.value(expression)
                self._decided = list(self.project.steps)
                self.project.steps.clear()
                if on is not UNKNOWN and on:
                    self.report(node, "PGS101", app)

    def _run_default(self, app: ast.AST) -> tuple[Analyser, ast.expr] | None:
        """The default of ``debug`` in the ``run`` of the app's class, when a project
        class (or one of its bases) defines ``run``."""
        cls = self._app_class(app)
        found = cls.analyser.method_of(cls, "run") if cls is not None else None
        if found is None:
            return None
        owner, method = found
        expression = _parameters(method.args).get("debug")
        return (owner, expression) if expression is not None else None

    def _app_class(self, app: ast.AST) -> ClassRef | None:
        """The project class an app is made of (a Flask subclass), if any."""
        made: ast.AST | None = app
        if isinstance(app, ast.Name):
            assignment = self.app_made(app.id)
            made = assignment.value if assignment is not None else None
        if not isinstance(made, ast.Call) or not self._may_be_class(made.func):
            return None
        cls = self._quiet_value(made.func)
        return cls if isinstance(cls, ClassRef) else None

    def _config_call(self, node: ast.Call, method: str) -> None:
        if method in ("update", "from_mapping"):
            for value in self._mapping_arguments(node, "DEBUG"):
                if self.truthy(value, "DEBUG:"):
                    self.report(node, "PGS103")
                    return
        elif method == "from_object" and node.args:
            if self._object_sets_debug(node.args[0]):
                self.report(node, "PGS103")
        elif method in ("from_pyfile", "from_envvar", "from_prefixed_env", "from_file"):
            self.decide(None)
            loaded = self._loaded_debug(node, method)
            self._decided = list(self.project.steps)
            self.project.steps.clear()
            if loaded is not UNKNOWN and loaded:
                self.report(node, "PGS103")

    def _loaded_debug(self, node: ast.Call, method: str) -> object:
        """``DEBUG`` as ``from_pyfile``, ``from_envvar``, ``from_prefixed_env`` or
        ``from_file`` would load it, where the analysis can tell."""
        environment = self.project.environment
        if method == "from_pyfile":
            if not node.args:
                return UNKNOWN
            return self._pyfile_debug(node.args[0], self._config_folder(node))
        if method == "from_envvar":
            name = self.value(node.args[0]) if node.args else UNKNOWN
            path = environment.get(name) if isinstance(name, str) else None
            if not isinstance(path, str):
                return UNKNOWN
            self._step(node, f"{name} is set to {path!r} in the project")
            return self._pyfile_debug(ast.Constant(path))
        if method == "from_prefixed_env":
            prefix = self.value(node.args[0]) if node.args else "FLASK"
            for keyword in node.keywords:
                if keyword.arg == "prefix":
                    prefix = self.value(keyword.value)
            if not isinstance(prefix, str) or f"{prefix}_DEBUG" not in environment:
                return UNKNOWN
            raw = environment[f"{prefix}_DEBUG"]
            self._step(node, f"{prefix}_DEBUG is set to {raw!r} in the project")
            try:  # Flask reads each value as JSON, falling back to the string
                return json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                return raw
        return self._file_debug(node, self._config_folder(node))

    def _config_folder(self, node: ast.Call) -> str:
        """Where ``app.config.from_pyfile`` reads a relative name from, relative to
        this module's folder: the app's root (``""``), or its instance folder when
        the app is made with ``instance_relative_config=True``."""
        config = node.func.value if isinstance(node.func, ast.Attribute) else None
        app = config.value if isinstance(config, ast.Attribute) else None
        made = self.assigned.get(app.id) if isinstance(app, ast.Name) else None
        if not isinstance(made, ast.Call):
            return ""
        keywords = {k.arg: k.value for k in made.keywords if k.arg}
        relative = keywords.get("instance_relative_config")
        if relative is None or not self._quiet_value(relative):
            return ""
        if "instance_path" in keywords:
            path = self._quiet_value(keywords["instance_path"])
            return os.fspath(path) if isinstance(path, str | PurePath) else ""
        # Flask's default for an app not installed: "instance" beside the
        # package (a package's __init__) or beside the module.
        return os.path.join("..", "instance") if self.module.is_package else "instance"

    def _file_debug(self, node: ast.Call, folder: str = "") -> object:
        """``DEBUG`` of ``from_file("config.json", load=json.load)`` (or TOML), read
        from the project (a relative name from the app's folder, the module's)."""
        name = self.value(node.args[0]) if node.args else UNKNOWN
        loader = node.args[1] if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg == "load":
                loader = keyword.value
        if not isinstance(name, str | PurePath) or loader is None:
            return UNKNOWN
        if self.resolves_to(loader, "json.load"):
            kind = "json"
        elif self.resolves_to(loader, "tomllib.load", "tomli.load", "toml.load"):
            kind = "toml"
        elif self.resolves_to(loader, "yaml.safe_load", "yaml.full_load", "yaml.load"):
            kind = "yaml"
        else:
            return UNKNOWN
        text = self._read(os.path.join(folder, name), node)
        loaded = _parse_data(text, kind) if text is not None else UNKNOWN
        if not isinstance(loaded, dict) or "DEBUG" not in loaded:
            return UNKNOWN
        self._step(node, f"{os.fspath(name)} sets DEBUG = {loaded['DEBUG']!r}")
        return loaded["DEBUG"]

    def _pyfile_debug(self, node: ast.AST, folder: str = "") -> object:
        """``DEBUG`` of ``from_pyfile("settings.cfg")``: the file, read from the
        project (a relative name from the app's folder, the module's), run as
        Python; a scanned module beside this one by its name."""
        name = self.value(node)
        if isinstance(name, str) and name.endswith(".py") and not folder:
            stem = name[: -len(".py")]
            if "/" not in stem and "\\" not in stem and stem.isidentifier():
                found = self._module_name(stem, 0)
                module = self.project.lookup(found) if found is not None else None
                if module is not None and module.analyser is not None:
                    return module.analyser.global_value("DEBUG", 1)
        if not isinstance(name, str | PurePath):
            return UNKNOWN
        name = os.path.join(folder, name)
        text = self._read(name, node)
        if text is None:
            return UNKNOWN
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return UNKNOWN
        path = Path(self.module.path).parent / name
        module = Module(f"<{path.name}>", path, tree, text, is_test=False)
        analyser = Analyser(module, self.project)
        analyser.collect()
        return analyser.global_value("DEBUG", 1)

    def _object_sets_debug(self, node: ast.AST) -> bool:
        """Whether ``from_object(node)`` loads a truthy ``DEBUG``."""
        self.decide(None)
        value = self._object_debug(node)
        self._decided = list(self.project.steps)
        self.project.steps.clear()
        return value is not UNKNOWN and bool(value)

    def _object_debug(self, node: ast.AST) -> object:
        """The ``DEBUG`` that ``from_object(node)`` loads: a module, a class (or an
        instance), or their import name as a string."""
        module = self._module_of(node)
        if module is not None and module.analyser is not None:
            return module.analyser.global_value("DEBUG", 1)
        if isinstance(node, ast.Name) and node.id == "__name__":
            return self.global_value("DEBUG", 1)  # from_object(__name__): this module
        loaded = self.value(node)
        if isinstance(loaded, str):
            return self._named_object_debug(loaded)
        return self.attribute_of(loaded, "DEBUG", 1)

    def _named_object_debug(self, name: str) -> object:
        """``DEBUG`` of ``from_object("package.settings")`` or ``"package.settings.Class"``."""
        module_name, _, attr = name.partition(":") if ":" in name else (name, "", "")
        module = self.project.lookup(module_name)
        if module is None and not attr and "." in module_name:
            module_name, _, attr = module_name.rpartition(".")
            module = self.project.lookup(module_name)
        if module is None or module.analyser is None:
            return UNKNOWN
        if attr:
            return module.analyser.class_lookup(attr, "DEBUG", 1)
        return module.analyser.global_value("DEBUG", 1)

    def _environ_call(self, node: ast.Call, method: str) -> None:
        if method == "setdefault" and len(node.args) == 2:
            if self.value(node.args[0]) == "FLASK_DEBUG":
                if self.flag_string_on(node.args[1], "FLASK_DEBUG = "):
                    self.report(node, "PGS104")
        elif method == "update":
            for value in self._mapping_arguments(node, "FLASK_DEBUG"):
                if self.flag_string_on(value, "FLASK_DEBUG = "):
                    self.report(node, "PGS104")
                    return

    # -- the flask command started from code ---------------------------------------------

    def _command_call(self, node: ast.Call) -> None:
        """``flask.cli.main()`` (with ``sys.argv``), ``FlaskGroup(...).main(args=...)``,
        or ``subprocess.run(["flask", ..., "run", "--debug"])``."""
        func = node.func
        starter = self._starter(func)
        if starter is not None:
            argv_at, env_at = _STARTERS[starter]
            argv = self._argument(node, "args", argv_at)
            command = self.value(argv) if argv is not None else UNKNOWN
            if isinstance(command, str) and self._shell_flask_debug(command):
                self.decide(argv, "")
                self.report(node, "PGS104")
            elif argv is not None and self._debug_command(argv, program=True):
                self.report(node, "PGS107")
            elif argv is not None and self._debug_command(argv, program=True, run_only=True):
                # The flask command run with FLASK_DEBUG in the environment it is given.
                env = self._argument(node, "env", env_at if env_at >= 0 else 99)
                if env is not None:
                    values = self.decide(env)
                    if isinstance(values, dict) and flask_debug_on(values.get("FLASK_DEBUG")):
                        self.report(node, "PGS104")
            return
        if not self._is_flask_cli(func):
            return
        argument = self._argument(node, "args", 0)
        if argument is not None:
            if self._debug_command(argument, program=False):
                self.report(node, "PGS107")
            return
        for argv in self.argv:  # main() without arguments reads sys.argv
            if self._debug_command(argv, program=False, skip_first=True):
                self.report(node, "PGS107")
                return

    @staticmethod
    def _shell_flask_debug(command: str) -> bool:
        """``FLASK_DEBUG=1 flask run ...`` as one shell line: the variable given to the
        flask command that serves."""
        words = command.split()
        assigned: dict[str, str] = {}
        while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
            name, _, value = words.pop(0).partition("=")
            assigned[name] = value.strip("'\"")
        if not words or words[0].rpartition("/")[2] != "flask" or "run" not in words:
            return False
        return flask_debug_on(assigned.get("FLASK_DEBUG"))

    def _starter(self, func: ast.AST) -> str | None:
        """The ``subprocess`` or ``os`` function that starts a program, if ``func`` is one."""
        name = dotted(func)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        full = self.imports.get(head, head)
        full = f"{full}.{rest}" if rest else full
        return full if full in _STARTERS else None

    def _is_flask_cli(self, func: ast.AST) -> bool:
        if self.resolves_to(func, *_FLASK_CLI):
            return True
        if isinstance(func, ast.Attribute) and func.attr == "main":
            owner = func.value
        elif isinstance(func, ast.Name):
            owner = func  # calling the group itself: cli(["run", "--debug"])
        else:
            return False
        if self.resolves_to(owner, "flask.cli.cli"):
            return True
        if isinstance(owner, ast.Call):
            return self.resolves_to(owner.func, "flask.cli.FlaskGroup", "flask.cli.AppGroup")
        if isinstance(owner, ast.Name):
            made = self.assigned.get(owner.id)
            return isinstance(made, ast.Call) and self.resolves_to(
                made.func, "flask.cli.FlaskGroup"
            )
        return False

    def _debug_command(
        self, node: ast.AST, program: bool, skip_first: bool = False, run_only: bool = False
    ) -> bool:
        """Whether an argument list runs ``flask ... run`` with the debugger on (or,
        with ``run_only``, runs ``flask ... run`` at all)."""
        value = self.decide(node, "argv")
        if isinstance(value, str) and program:
            value = value.split()
        if not isinstance(value, list | tuple):
            return False
        words = [item for item in value if isinstance(item, str)]
        if skip_first and words and len(words) == len(value):
            words = words[1:]
        if program:
            if not words:
                return False
            head = words[0].replace("\\", "/").rpartition("/")[2]
            if head == "flask":
                words = words[1:]
            elif head.startswith("python") and words[1:3] == ["-m", "flask"]:
                words = words[3:]
            elif words[:2] == ["-m", "flask"] and len(words) < len(value):
                words = words[2:]  # [sys.executable, "-m", "flask", ...]
            else:
                return False
        if "run" not in words:
            return False
        if run_only:
            return True
        debug = False
        for word in words:  # the last of --debug / --no-debug wins, as in click
            if word in ("--debug", "--debugger"):
                debug = True
            elif word in ("--no-debug", "--no-debugger"):
                debug = False
        return debug
