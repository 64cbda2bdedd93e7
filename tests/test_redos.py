"""No regular expression lets one request stall a worker (issue 14, ReDoS).

Three layers, because a static checker alone cannot be trusted (regexploit
crashes on the possessive quantifiers Python accepts):

- an inventory: every regular expression compiled anywhere in the package is
  either an RE2 pattern (linear time whatever the text) or reviewed here, with
  the reason it is safe; a new one fails this file until someone reviews it;
- a hang test: worst-case shapes at the length caps and beyond go through
  every request-facing pattern, the redaction processor, the sanitiser, the
  plain-text summary, every output preset and ``serve``'s access-log
  formatter, each call within a small bound; the old quoted-value pattern,
  kept here as a control, takes far longer on the same input;
- real servers: the issue's 150-byte request answered at once by gunicorn and
  waitress under ``flask prodguard serve``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import logging
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_prodguard
import pytest
import re2
from flask_prodguard.events.emitter import summarise
from flask_prodguard.events.output import PRESETS
from flask_prodguard.events.output import SECURITY_LOGGER_NAME
from flask_prodguard.events.output import render_line
from flask_prodguard.events.processors import MAX_STRING_LENGTH
from flask_prodguard.events.processors import Redactor
from flask_prodguard.events.processors import escape_surrogates
from flask_prodguard.events.processors import sanitise_text
from flask_prodguard.tools.serving import ServerJSONFormatter

from servers import READY_TIMEOUT
from servers import connect
from servers import free_port
from servers import receive_all
from servers import server_environ
from servers import start_server

PACKAGE = Path(flask_prodguard.__file__).parent

#: The longest a call may take per hostile string it handles, on the worst
#: shapes: linear work on 8 KiB takes at most about 10 ms here (hundreds of
#: matches through RE2's Python wrapper), a backtracking pattern seconds.
BOUND_SECONDS = 0.05

#: The issue's request: an unterminated quoted value full of backslashes.
ISSUE_INPUT = "'token': '" + "\\a" * 30

# -- the inventory -----------------------------------------------------------------------

#: Functions of ``re`` and ``re2`` that compile a pattern.
_COMPILING = frozenset(
    {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
)


@dataclasses.dataclass(frozen=True)
class Reviewed:
    """Why one pattern on Python's backtracking ``re`` is safe."""

    reason: str
    #: Request or exception text reaches it: the hang test runs it too (it
    #: must then be a module-level compiled pattern named by its owner).
    request_text: bool = False


#: Every use of Python's ``re`` in the package, by (module, owner, pattern
#: source as written), with the reason it is safe. The owner is the name the
#: pattern is assigned to at module level, or the function that compiles it.
#: Request-facing entries must be linear by construction: one character class
#: or a fixed-width literal.
REVIEWED_RE: dict[tuple[str, str, str], Reviewed] = {
    ("tools/cli.py", "_rule_name", "'[A-Za-z0-9]+'"): Reviewed(
        "check titles from the registry (code), never request text; one class"
    ),
    ("config.py", "_parse", "item"): Reviewed(
        "compiled, never matched: tells a Python-only pattern apart in the RE2 error"
    ),
    ("tools/deploy.py", "_NAME", "'[A-Za-z0-9][A-Za-z0-9_.-]{0,63}'"): Reviewed(
        "the operator's `deploy` arguments, never request text"
    ),
    (
        "tools/deploy.py",
        "_HOST",
        "'[A-Za-z0-9.-]+|\\\\[[0-9A-Fa-f:.]+\\\\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*'",
    ): Reviewed("the operator's `deploy` arguments, never request text"),
    (
        "tools/deploy.py",
        "_IMPORT",
        "'[A-Za-z_][\\\\w.]*(?::[A-Za-z_]\\\\w*(?:\\\\(.*\\\\))?)?'",
    ): Reviewed("the operator's `deploy` arguments, never request text"),
    (
        "tools/deploy.py",
        "_SERVER_NAME",
        "'[A-Za-z0-9_.*:\\\\[\\\\]-]+(?: [A-Za-z0-9_.*:\\\\[\\\\]-]+)*'",
    ): Reviewed("the operator's `deploy` arguments, never request text"),
    (
        "tools/deploy.py",
        "_LISTEN",
        "'(?:(?:[A-Za-z0-9.-]+|\\\\[[0-9A-Fa-f:.]+\\\\]):)?[0-9]{1,5}'",
    ): Reviewed("the operator's `deploy` arguments, never request text"),
    ("tools/deploy.py", "_USER", "'[A-Za-z_][A-Za-z0-9_.-]{0,31}|[0-9]+'"): Reviewed(
        "the operator's `deploy` arguments, never request text"
    ),
    ("tools/deploy.py", "_PLAIN_WORD", "'[A-Za-z0-9_./@+,:=-]+'"): Reviewed(
        "the operator's `deploy` arguments, never request text"
    ),
    ("tools/deploy.py", "_default_name", "'[^A-Za-z0-9_.-]+'"): Reviewed(
        "the operator's app module name, never request text; one class"
    ),
    ("events/emitter.py", "_VALID_REQUEST_ID", "'[A-Za-z0-9._:+/=\\\\-]{1,128}'"): Reviewed(
        "a request header, but fullmatch of one class bounded to 128: linear", True
    ),
    ("wsgi/middleware.py", "_HEX_ESCAPE", "'%[0-9a-f]{2}'"): Reviewed(
        "the request path, but a fixed-width literal: linear", True
    ),
    ("events/processors.py", "_UNSAFE", "f'[{_UNSAFE_CLASS}]'"): Reviewed(
        "every event string, but one character class: linear", True
    ),
    ("events/processors.py", "_SURROGATE", "'[\\ud800-\\udfff]'"): Reviewed(
        "every event string, but one character class: linear", True
    ),
    (
        "tools/scan_analysis.py",
        "IGNORE_COMMENT",
        "'#\\\\s*prodguard:\\\\s*ignore(?:\\\\[([A-Z0-9, ]+)\\\\])?'",
    ): Reviewed("one comment token of a scanned file; no nested quantifier: linear"),
    (
        "tools/scan_analysis.py",
        "_ASSIGNMENT_LINE",
        "'\\\\s*([A-Za-z_]\\\\w*)\\\\s*(?::[^=]*)?=(?!=)(.*)'",
    ): Reviewed(
        "one line of scanned source, matched at its start; each quantifier stops at a"
        " character the next item needs (a letter, ':', '='): linear"
    ),
    (
        "tools/scan_analysis.py",
        "_DOTENV_LINE",
        "'[ \\\\t]*(?:export[ \\\\t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \\\\t]*=[ \\\\t]*(.*)'",
    ): Reviewed(
        "one line of a scanned .env file, matched at its start; blanks, a name and '='"
        " in turn, no nested quantifier: linear"
    ),
    (
        "tools/scan_analysis.py",
        "_word_pattern",
        "'\\\\b(?:' + '|'.join(map(re.escape, sorted(names))) + ')\\\\b'",
    ): Reviewed("scanned source; escaped identifiers between word bounds: linear"),
    (
        "tools/scan_analysis.py",
        "methods_called",
        "f'\\\\.({names})\\\\s*\\\\('",
    ): Reviewed("scanned source; a dot, escaped method names, spaces, a parenthesis: linear"),
    (
        "tools/scan_analysis.py",
        "_LOADS_SETTINGS",
        "'\\\\.(?:from_\\\\w+|update|setdefault)\\\\(|config\\\\[[^\\\\]\\\\n]*\\\\]"
        " *=[^=]|TESTING *=[^=]'",
    ): Reviewed(
        "scanned source; literal alternatives, each with one bounded class run before"
        " a literal: linear"
    ),
    ("tools/scan_analysis.py", "_LINE_BREAKS", "'\\\\r\\\\n|\\\\r|\\\\n'"): Reviewed(
        "scanned source; fixed-width alternatives: linear"
    ),
    (
        "tools/scan_analysis.py",
        "_lines_matching",
        "'|'.join((re.escape(word) for word in words))",
    ): Reviewed("scanned source; an alternation of escaped literal words: linear"),
    (
        "tools/scan.py",
        "_calls_of",
        "f'\\\\b(?:{alternatives})\\\\s*\\\\(|@[\\\\w. \\\\t]*\\\\b(?:{alternatives})\\\\b'",
    ): Reviewed(
        "scanned source; escaped identifiers, then spaces and a parenthesis; or an @, a"
        " run of a class without @ or a line break (so runs never overlap), then"
        " identifiers: linear (test_calls_of_is_linear)"
    ),
    (
        "tools/scan.py",
        "_ENVIRON_WRITE",
        "'environ\\\\s*(?:\\\\[|\\\\.\\\\s*(?:update|setdefault)\\\\b)'",
    ): Reviewed(
        "scanned source; a literal, then two space runs each ended by a literal: linear"
    ),
}


@dataclasses.dataclass(frozen=True)
class RegexUse:
    """One place where the package compiles a regular expression."""

    module: str
    owner: str
    engine: str
    pattern: str
    line: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.module, self.owner, self.pattern)


class _RegexFinder(ast.NodeVisitor):
    """Finds ``re``/``re2`` compiling calls and references, with their owner."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.modules: dict[str, str] = {}  # local name -> "re" or "re2"
        self.functions: dict[str, str] = {}  # from re import compile as c -> "re"
        self.owners: list[str] = ["<module>"]
        self.uses: list[RegexUse] = []
        self._calls: dict[int, ast.Call] = {}

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802
        for alias in node.names:
            if alias.name in ("re", "re2"):
                self.modules[alias.asname or alias.name] = alias.name

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802
        if node.module in ("re", "re2"):
            for alias in node.names:
                if alias.name == "*":
                    self.functions.update(dict.fromkeys(_COMPILING, node.module))
                elif alias.name in _COMPILING:
                    self.functions[alias.asname or alias.name] = node.module

    def _owned(self, name: str, node: ast.AST) -> None:
        self.owners.append(name)
        self.generic_visit(node)
        self.owners.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # noqa: N802
        self._owned(node.name, node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:  # noqa: N802
        self._owned(node.name, node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:  # noqa: N802
        self._owned(node.name, node)

    def _assigned(self, targets: list[ast.expr], node: ast.AST) -> None:
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if len(self.owners) == 1 and names:
            self._owned(names[0], node)
        else:
            self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:  # noqa: N802
        self._assigned(node.targets, node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:  # noqa: N802
        self._assigned([node.target], node)

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802
        self._calls[id(node.func)] = node
        self.generic_visit(node)

    def _use(self, node: ast.expr, engine: str) -> None:
        call = self._calls.get(id(node))
        if call is None:
            pattern = "<reference>"  # passed on (map(re.compile, ...)): review it
        elif call.args:
            pattern = ast.unparse(call.args[0])
        else:
            pattern = "<keyword argument>"
        self.uses.append(RegexUse(self.module, self.owners[-1], engine, pattern, node.lineno))

    def visit_Attribute(self, node: ast.Attribute) -> None:  # noqa: N802
        if (
            isinstance(node.value, ast.Name)
            and node.value.id in self.modules
            and node.attr in _COMPILING
        ):
            self._use(node, self.modules[node.value.id])
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:  # noqa: N802
        if node.id in self.functions and isinstance(node.ctx, ast.Load):
            self._use(node, self.functions[node.id])


def package_regexes() -> list[RegexUse]:
    """Every compiling use of ``re`` or ``re2`` in the package's modules."""
    uses = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        finder = _RegexFinder(module)
        finder.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        uses += finder.uses
    return uses


def test_the_inventory_finds_what_it_looks_for() -> None:
    """The AST walk sees compiles, module calls, aliases, from-imports and references."""
    source = textwrap.dedent(
        """
        import re
        import re as regex
        import re2
        from re import sub as replace
        A = re.compile("a+")
        def f(text):
            return regex.search("b", text), replace("c", "", text), re2.compile("d")
        PATTERNS = list(map(re.compile, ["e"]))
        """
    )
    finder = _RegexFinder("example.py")
    finder.visit(ast.parse(source))
    found = {(u.owner, u.engine, u.pattern) for u in finder.uses}
    assert found == {
        ("A", "re", "'a+'"),
        ("f", "re", "'b'"),
        ("f", "re", "'c'"),
        ("f", "re2", "'d'"),
        ("PATTERNS", "re", "<reference>"),
    }


def test_every_regex_is_re2_or_reviewed() -> None:
    """A regular expression on Python's re anywhere in the package must be reviewed here."""
    uses = package_regexes()
    assert any(u.engine == "re2" for u in uses), "the redaction patterns must be RE2"
    unreviewed = [
        f"{u.module}:{u.line} {u.owner}: re pattern {u.pattern}"
        for u in uses
        if u.engine == "re" and u.key not in REVIEWED_RE
    ]
    assert not unreviewed, (
        "regular expressions on Python's backtracking re, not reviewed in"
        " tests/test_redos.py (use re2 for request or exception text, or add"
        " the exact entry with the reason it is safe):\n" + "\n".join(unreviewed)
    )


def test_no_stale_review() -> None:
    """Every reviewed entry still exists, so the list stays the truth."""
    found = {u.key for u in package_regexes() if u.engine == "re"}
    assert not set(REVIEWED_RE) - found, sorted(set(REVIEWED_RE) - found)


# -- the patterns the hang test runs -----------------------------------------------------


def _module_of(relative: str) -> Any:
    name = "flask_prodguard." + relative.removesuffix(".py").replace("/", ".")
    return importlib.import_module(name.removesuffix(".__init__"))


_RE2_TYPE = type(re2.compile("x"))


def request_facing_patterns() -> Iterator[tuple[str, Any]]:
    """Every module-level RE2 pattern of the package, every reviewed request-facing re
    pattern, and the patterns a Redactor builds from extra keys and patterns."""
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_of(path.relative_to(PACKAGE).as_posix())
        for name, value in vars(module).items():
            if isinstance(value, _RE2_TYPE):
                yield f"{module.__name__}.{name}", value
    for (module_name, owner, _), review in REVIEWED_RE.items():
        if review.request_text:
            pattern = getattr(_module_of(module_name), owner)
            assert isinstance(pattern, re.Pattern), (module_name, owner)
            yield f"{module_name}:{owner}", pattern
    redactor = Redactor(extra_keys=["ssn", "x-card"], extra_patterns=[r"(a+)+b"])
    for name, value in vars(redactor).items():
        if isinstance(value, _RE2_TYPE):
            yield f"Redactor(extra_keys).{name}", value
    for index, value in enumerate(redactor.extra_patterns):
        yield f"Redactor.extra_patterns[{index}]", value


def test_the_hang_test_covers_the_redaction_patterns() -> None:
    """The pattern list holds the redaction patterns and the escaping classes."""
    names = {name for name, _ in request_facing_patterns()}
    for needed in (
        "flask_prodguard.events.processors._NAME_VALUE",
        "flask_prodguard.events.processors._FREE_TEXT",
        "flask_prodguard.events.processors._MAYBE_SECRET",
        "events/processors.py:_UNSAFE",
        "Redactor(extra_keys)._name_value",
        "Redactor.extra_patterns[0]",
    ):
        assert needed in names, sorted(names)


# -- worst-case shapes ---------------------------------------------------------------------


def _fill(unit: str, length: int, head: str = "") -> str:
    body = unit * (max(length - len(head), 0) // max(len(unit), 1) + 1)
    return (head + body)[:length]


_UNITS = {
    # The issue's shape and its relatives: unterminated quotes over escapes.
    "quote_backslash_a": ("\\a", "'token': '"),
    "quote_backslashes": ("\\", '"password": "'),
    "quote_escaped_quotes": ("\\'", "password='"),
    "nested_quotes": ("'\"", "{'secret': "),
    "dict_nesting": ("{'a': ", "{'passwd': '"),
    # Sensitive words, repeated with every separator.
    "words": ("password ", ""),
    "words_is": ("secret is ", ""),
    "stop_words": ("password for ", ""),
    "quoted_stop_words": ('password "for ', "password 'for "),
    "pairs": ("token=", ""),
    "colon_pairs": ("token: ", ""),
    "quoted_names": ("'api_key':", ""),
    "bearer": ("bearer ", ""),
    # Long runs of parameter-name characters, with and without a secret word.
    "name_run": ("a", ""),
    "name_punct": ("a.-[]", ""),
    "name_run_then_word": ("a", "x"),
    "word_in_names": ("_password_", ""),
    # Percent escapes in names.
    "escapes": ("%41", ""),
    "percent": ("%", ""),
    "escaped_word": ("pass%77ord%3D", ""),
    "half_escapes": ("%4", "a"),
    # URL shapes.
    "schemes": ("a://", ""),
    "userinfo": ("a:", "http://"),
    "at_signs": ("@", "http://u:"),
    # Unicode spaces and the characters the sanitiser escapes.
    "unicode_spaces": ("password\u00a0\u2003\u3000", ""),
    "nbsp_run": ("\u00a0", "password"),
    "format_chars": ("\u202e\u2066\u200b\ufeff\U000e0041\u00ad", ""),
    "controls": ("\x00\r\n\x1b\x85\u2028", ""),
    "surrogates": ("\ud800\udfff", "token: '"),
    # What the error matcher and the probe recognisers look for.
    "py_files": ("a.py", ""),
    "file_lines": ("a", 'File "'),
    "request_id": ("a", ""),
}


def worst_shapes(length: int) -> Iterator[tuple[str, str]]:
    """Generated worst-case strings of exactly ``length`` characters."""
    for name, (unit, head) in _UNITS.items():
        yield name, _fill(unit, length, head)
    yield "issue_input", ISSUE_INPUT


def _elapsed(call: Callable[[], object], bound: float = BOUND_SECONDS) -> float:
    """The best of three runs: a slow pattern is slow every time, noise is not.

    (The first run also pays for RE2 building its automaton's states.)
    """
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        call()
        took = time.perf_counter() - start
        best = min(best, took)
        if took > 10 * bound:
            break  # hopeless: no need to wait for two more
    return best


def _exhaust(pattern: Any, text: str) -> Callable[[], object]:
    if isinstance(pattern, _RE2_TYPE):
        # RE2 reads UTF-8: the redactor escapes lone surrogates first, too.
        data = escape_surrogates(text).encode()
        # sub visits every match; search is what the prefilter does.
        return lambda: (pattern.search(data), pattern.sub(b"x", data))
    if isinstance(pattern.pattern, bytes):
        raw = text.encode("utf-8", "surrogatepass")
        return lambda: (list(pattern.finditer(raw)), pattern.fullmatch(raw))
    return lambda: (list(pattern.finditer(text)), pattern.fullmatch(text))


#: Seconds a whole measurement may take in its child process before it is
#: killed (normally about one): a pattern that backtracks holds the GIL and
#: ignores signals, so only another process can stop it.
CHILD_TIMEOUT = 120.0


def run_measurement(function: str, length: int) -> None:
    """Run ``function(length)`` of this module in a child process; fail on any slow call.

    The child prints ``start <call>`` before each call and ``slow <call>`` for
    each one over the bound; a child still running after
    :data:`CHILD_TIMEOUT` is killed, and the test names the call it was in.
    """
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r});"
        f" import test_redos; test_redos.{function}({length})"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=CHILD_TIMEOUT
        )
    except subprocess.TimeoutExpired as error:
        output = error.stdout or ""
        text = output.decode(errors="replace") if isinstance(output, bytes) else output
        started = [line for line in text.splitlines() if line.startswith("start ")]
        pytest.fail(f"killed after {CHILD_TIMEOUT:g} s, in: {started[-1:]}")
    assert result.returncode == 0, result.stderr[-3000:]
    slow = [line for line in result.stdout.splitlines() if line.startswith("slow ")]
    assert not slow, slow
    assert result.stdout.count("start ") > 100, result.stdout[-2000:]


def _measure(name: str, call: Callable[[], object], strings: int = 1) -> None:
    print("start", name, flush=True)
    took = _elapsed(call, strings * BOUND_SECONDS)
    if took >= strings * BOUND_SECONDS:
        print(f"slow {name}: {took * 1000:.0f} ms for {strings} strings", flush=True)


def measure_patterns(length: int) -> None:
    """Every request-facing pattern on every worst shape of ``length`` (in a child)."""
    for pattern_name, pattern in request_facing_patterns():
        for shape_name, text in worst_shapes(length):
            _measure(f"{pattern_name} on {shape_name}", _exhaust(pattern, text))


@pytest.mark.timeout(CHILD_TIMEOUT + 60)
@pytest.mark.parametrize("length", [MAX_STRING_LENGTH, 8192])
def test_every_request_facing_pattern_is_fast_on_worst_shapes(length: int) -> None:
    """Each pattern finds all its matches in a worst-case shape at the caps within the bound."""
    run_measurement("measure_patterns", length)


def build_redactors() -> dict[str, Redactor]:
    """The redactors the guard builds: the events', one with extra settings, serve's two."""
    from flask_prodguard.events.emitter import TRUSTED_FIELDS

    return {
        "events": Redactor(
            allowed_keys=TRUSTED_FIELDS, trusted_keys=TRUSTED_FIELDS | {"frames"}
        ),
        # (a+)+b backtracks exponentially on Python's re: user patterns run on RE2.
        "extra": Redactor(["ssn", "card"], [r"\b\d{4}-\d{4}-\d{4}-\d{4}\b", r"(a+)+b"]),
        "serve_short": ServerJSONFormatter._short,
        "serve_long": ServerJSONFormatter._long,
    }


def _access_record(text: str) -> logging.LogRecord:
    """A record as gunicorn's access log makes it: the atoms as the mapping args."""
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(r)s", (), None)
    record.args = {
        "h": "198.51.100.4",
        "m": "GET",
        "U": text,
        "q": text,
        "r": f"GET {text} HTTP/1.1",
        "s": "200",
        "B": "5",
        "f": text,
        "a": text,
        "D": "1234",
        "H": "HTTP/1.1",
    }
    return record


def _error_record(text: str) -> logging.LogRecord:
    """A server error record with a traceback whose message is ``text``."""
    try:
        raise RuntimeError(text)
    except RuntimeError:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "gunicorn.error",
        logging.ERROR,
        __file__,
        1,
        "Error handling request %s",
        (text,),
        exc_info,
    )


def _event_record(event: dict[str, Any]) -> logging.LogRecord:
    record = logging.LogRecord(
        SECURITY_LOGGER_NAME, logging.WARNING, __file__, 1, summarise(event), (), None
    )
    record.__dict__.update(event)
    return record


def pipeline_calls(
    text: str, redactors: dict[str, Redactor]
) -> Iterator[tuple[str, int, Callable[[], object]]]:
    """Every text-handling entry point of the event pipeline, on ``text``.

    Each comes with the number of hostile strings it handles: its bound is
    :data:`BOUND_SECONDS` per string (a request carries several).
    """
    for name, redactor in redactors.items():
        yield f"{name}.clean_text", 1, lambda r=redactor: r.clean_text(text)
    events = redactors["events"]
    raw_event = {
        "event": "prodguard.debugger.probe",
        "path": text,
        "query": text,
        "user_agent": text,
        "exception_message": text,
        "headers": {"x-note": text, "authorization": text},
        "pairs": [["cookie", text], ["x", text]],
    }
    strings = 7  # the authorization header and the cookie pair are redacted by name
    yield "Redactor.__call__", strings, lambda: events(None, "warning", dict(raw_event))
    yield "sanitise_text", 1, lambda: sanitise_text(text)
    yield "summarise(raw)", strings, lambda: summarise(raw_event)
    cleaned = events(None, "warning", dict(raw_event))
    yield "summarise(cleaned)", strings, lambda: summarise(cleaned)
    record = _event_record(cleaned)
    for preset in PRESETS:
        yield f"render_line({preset})", strings, lambda p=preset: render_line(p, record)
    formatter = ServerJSONFormatter()
    access = _access_record(text)
    yield "ServerJSONFormatter(access)", 4, lambda: formatter.format(access)
    # The message, and the traceback that repeats it.
    error = _error_record(text)
    yield "ServerJSONFormatter(error)", 2, lambda: formatter.format(error)


def measure_pipeline(length: int) -> None:
    """Every pipeline entry point on every worst shape of ``length`` (in a child)."""
    redactors = build_redactors()
    for shape_name, text in worst_shapes(length):
        for call_name, strings, call in pipeline_calls(text, redactors):
            _measure(f"{call_name} on {shape_name}", call, strings)


@pytest.mark.timeout(CHILD_TIMEOUT + 60)
@pytest.mark.parametrize("length", [MAX_STRING_LENGTH, 8192, 100_000])
def test_every_pipeline_entry_point_is_fast_on_worst_shapes(length: int) -> None:
    """Redactor, sanitiser, summary, presets and serve's formatter stay within the bound."""
    run_measurement("measure_pipeline", length)


def test_access_log_line_of_the_issue_shape_is_redacted() -> None:
    """The issue's shape, as gunicorn logs it, gives one JSON line without the token.

    (Short here, so that a regression cannot stall this process: the timing
    at the caps is measured in a child process above.)
    """
    shape = "'token': '" + "\\a" * 5
    line = json.loads(ServerJSONFormatter().format(_access_record("/x?" + shape)))
    assert line["path"] == "/x?'token': '[REDACTED]'"
    assert "\\a" not in json.dumps(line)


# -- the control: the old pattern on the same input --------------------------------------

#: The quoted-value pattern the redactor used before RE2 (issue 14, point 2).
OLD_QUOTED_PATTERN = (
    r"(?i)([\"'][\w.\-\[\]%]*(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key"
    r"|session(?:id)?|csrf|xsrf|auth|credential|signature|private[_\-]?key|access[_\-]?key"
    r"|cookie)[\w.\-\[\]%]*[\"']\s*[:=]\s*)([\"'])(?:\\.|(?!\2).)*\2"
)

_CONTROL_SOURCE = """\
import re, sys
pattern = re.compile(sys.argv[1])
print("started", flush=True)
pattern.sub("[REDACTED]", sys.argv[2])
print("finished", flush=True)
"""


@pytest.mark.timeout(60)
def test_old_pattern_control_exceeds_the_bound_on_the_same_input() -> None:
    """The old backtracking pattern is still running long after the bound on the issue input.

    The same input is among the worst shapes every entry point handles within
    the bound above. The control runs in a child process, killed after the
    wait: Python's re holds the GIL and ignores signals, so in this process it
    would stall the suite.
    """
    wait = 2.0
    with subprocess.Popen(
        [sys.executable, "-c", _CONTROL_SOURCE, OLD_QUOTED_PATTERN, ISSUE_INPUT],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "started"
            started = time.monotonic()
            try:
                child.wait(wait)
            except subprocess.TimeoutExpired:
                pass
            still_running = child.poll() is None
            took = time.monotonic() - started
        finally:
            child.kill()
    assert still_running, f"the old pattern finished in {took:.2f} s"


# -- the issue's request on real servers --------------------------------------------------

_APP_SOURCE = """\
import os
from flask import Flask
from flask_prodguard import ProdGuard

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["APP_SECRET_KEY"],
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)


@app.get("/")
def index():
    return "hello"


@app.get("/fail")
def fail():
    raise ValueError(request_text())


def request_text():
    from flask import request

    return request.headers.get("User-Agent", "")


ProdGuard(app)
"""


def _get(port: int, target: str, user_agent: str, timeout: float) -> tuple[bytes, float]:
    """Send one GET over a raw socket; the raw answer and the seconds it took."""
    request = (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"User-Agent: {user_agent}\r\nConnection: close\r\n\r\n"
    )
    start = time.monotonic()
    with connect(port, timeout) as sock:
        sock.sendall(request.encode("latin-1"))
        raw, _ = receive_all(sock)
    return raw, time.monotonic() - start


@pytest.mark.server
@pytest.mark.timeout(120)
@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_issue_request_is_answered_at_once_under_serve(server: str, tmp_path: Path) -> None:
    """The 150-byte request (path, query, User-Agent, exception message) is answered at once.

    Under ``flask prodguard serve`` the JSON access-log formatter redacts every
    request, so the old pattern froze the worker (gunicorn) or the process
    (waitress) on this request; a normal request right after must be quick too.
    """
    import secrets

    (tmp_path / "app.py").write_text(_APP_SOURCE)
    port = free_port()
    flask = str(Path(sys.executable).with_name("flask"))
    argv = [flask, "--app", "app", "prodguard", "serve", "--server", server]
    argv += ["--bind", f"127.0.0.1:{port}", "--workers", "1"]
    env = server_environ(PRODGUARD_ENV="production", APP_SECRET_KEY=secrets.token_hex(32))
    process = start_server(argv, tmp_path, port, env)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                if b" 200 " in _get(port, "/", "ready", 2.0)[0]:
                    break
            except OSError:
                pass
            assert process.proc.poll() is None, process.logs()
            assert time.monotonic() < deadline, process.logs()
            time.sleep(0.1)
        hostile = ISSUE_INPUT.replace(" ", "%20").replace("'", "%27").replace("\\", "%5C")
        took = []
        for target, agent in [
            (f"/{hostile}", "ok"),
            (f"/?{hostile}", "ok"),
            ("/", ISSUE_INPUT),
            ("/fail", ISSUE_INPUT),
        ]:
            raw, seconds = _get(port, target, agent, 10.0)
            assert raw.startswith(b"HTTP/1.1 "), raw[:200]
            took.append(seconds)
        raw, seconds = _get(port, "/", "after", 10.0)
        assert b" 200 " in raw.split(b"\r\n", 1)[0]
        assert max([*took, seconds]) < 2.0, (took, seconds, process.logs())
    finally:
        process.stop()
    lines = [json.loads(line) for line in process.stderr().splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("event") == "server.access"]
    assert len(access) >= 6, process.logs()
    # Every line that carries the hostile text carries it redacted.
    assert not [line for line in lines if "\\a\\a" in json.dumps(line)], process.logs()


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "text",
    [
        "@" + " " * 2_000_000,
        "@" + "x." * 1_000_000,
        "@x " * 700_000,
        "dev_mod" * 300_000,
        "@\t" * 1_000_000 + "dev_mode",
    ],
    ids=["spaces", "dotted", "many-ats", "near-names", "tabs"],
)
def test_calls_of_is_linear(text: str) -> None:
    """The scan's search for calls and decorators of followed functions ends on
    2 MB made to make it backtrack (a quadratic search would not, in 30 s)."""
    from flask_prodguard.tools.scan import _calls_of

    pattern = _calls_of({"dev_mode", "dev_mode_2", "serve"})
    assert pattern is not None
    assert (pattern.search(text) is not None) is text.endswith("dev_mode")
