"""``flask prodguard scan``: find code that enables debug mode or the debugger.

A static scan of Python files, no app needed. Linters see only the literal
``app.run(debug=True)``; this scan follows what real code does: keyword,
positional and ``**kwargs`` forms, truthy non-bool values, ``app.debug``,
every way of setting ``DEBUG`` in ``app.config`` (also through an alias, a
config class or a settings module), ``FLASK_DEBUG`` in ``os.environ``,
``run_simple(use_debugger=True)``, ``DebuggedApplication``, the flask command
started from code with ``--debug``, import aliases, Flask subclasses, app
factories and app instances of other modules, and values computed from
constants, settings modules and environment defaults (the analysis is in
:mod:`.scan_analysis`). Each finding carries its chain of values.

It stays quiet for falsy values, explicit development gates, test code (what
pytest and unittest collect), comments and strings, dead code, ``.run()`` of
things that are not Flask apps, and other libraries' ``DEBUG`` settings.
``# prodguard: ignore[PGS101]`` on a line silences a finding there.

It fails closed: a file it cannot analyse (not a regular file, too big, an
encoding it cannot decode, syntax the running Python cannot parse, nesting too
deep) is reported, and makes the exit status 2 unless ``--allow-skipped``.

Usage: ``flask prodguard scan PATH...`` or ``python -m flask_prodguard.scan
PATH...``; exit 0 clean, 1 findings, 2 a usage error or a file not analysed.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import gc
import os
import re
import stat
import sys
import time
import tokenize
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import sarif
from . import scan_workers
from .scan_analysis import IGNORE_COMMENT
from .scan_analysis import MAX_WORK
from .scan_analysis import RULES
from .scan_analysis import Analyser
from .scan_analysis import ChainStep
from .scan_analysis import Module
from .scan_analysis import Project
from .scan_analysis import TooCostly
from .scan_analysis import flask_debug_on
from .scan_analysis import may_hold_a_finding
from .scan_analysis import parse_dotenv
from .scan_workers import Exchange

#: The largest file the scan reads (a generated or vendored file beyond it is
#: reported, not read).
MAX_FILE_BYTES = 4 * 1024 * 1024
#: The largest data file (a config file a module loads) the scan reads.
MAX_DATA_BYTES = 1024 * 1024
#: The files python-dotenv loads for ``flask run`` and ``app.run()``, ``.env``
#: over ``.flaskenv`` (a variable already set stays as it is).
DOTENV_FILES = (".env", ".flaskenv")
#: The most files other than modules the scan reads to tell whether a
#: setting of the project is named anywhere (see ``_Loader.mentions``).
_MAX_OTHER_FILES = 5_000
#: The most bytes of them held at once (the whole tree's settings, not its data).
_MAX_OTHER_BYTES = 64 * 1024 * 1024
#: Version control directories: history, not settings.
_VCS = frozenset({".git", ".hg", ".svn", ".bzr"})
#: Files that set no setting of an app: documents, web assets, images.
_NOT_SETTINGS = (
    ".md",
    ".rst",
    ".txt",
    ".html",
    ".htm",
    ".css",
    ".map",
    ".svg",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".ico",
    ".woff",
    ".woff2",
    ".pdf",
)
#: Why a link to a directory is listed as not analysed: the scan does not
#: follow it (it may lead out of the tree, or round in a loop), and a gate
#: must not pass over a package in silence.
_LINKED_DIRECTORY = (
    "a link to a directory, not followed: scan its target as a path of its own"
    " (or pass --allow-skipped)"
)
#: Directories never entered.
_SKIPPED_DIRECTORIES = frozenset(
    {"venv", ".venv", "node_modules", "__pycache__", "site-packages"}
)


@dataclasses.dataclass(frozen=True)
class ScanFinding:
    """One place that enables debug mode or the debugger.

    .. versionchanged:: 0.2
       ``chain``: the values that decided it, from the place of the finding
       to the definitions followed.
    """

    #: The file, under the path given to :func:`scan_paths` (relative if that was).
    path: str
    #: 1-based line and column of the call or assignment.
    line: int
    column: int
    #: A key of :data:`RULES`.
    rule: str
    message: str
    fix: str
    #: The chain of values: the code at the finding, then each definition followed.
    chain: tuple[ChainStep, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The fields as plain data (``--format json``)."""
        data: dict[str, Any] = dataclasses.asdict(self)
        data["chain"] = [step.as_dict() for step in self.chain]
        return data

    def explanation(self) -> str:
        """The chain on one line: ``debug=settings.DEBUG -> settings_dev.py:3 DEBUG = True``;
        empty when the finding's own line says it all."""
        if len(self.chain) < 2:
            return ""
        parts = []
        for number, step in enumerate(self.chain):
            if number == 0 and step.path == self.path and step.line == self.line:
                parts.append(step.code)
            else:
                parts.append(f"{_short(step.path, self.path)}:{step.line} {step.code}")
        return " -> ".join(parts)


@dataclasses.dataclass(frozen=True)
class SkippedFile:
    """A file the scan could not analyse, and why.

    .. versionadded:: 0.2
    """

    path: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        """The fields as plain data."""
        return dataclasses.asdict(self)


@dataclasses.dataclass
class ScanReport:
    """What one scan found, what it could not read, and how much it read.

    .. versionadded:: 0.2
    """

    findings: list[ScanFinding]
    skipped: list[SkippedFile]
    #: Python files found under the paths, and their lines.
    files: int = 0
    lines: int = 0
    #: Files parsed and analysed (the others cannot hold a finding).
    analysed: int = 0
    seconds: float = 0.0


def _short(path: str, relative_to: str) -> str:
    """``path`` as short as it stays unambiguous next to ``relative_to``."""
    try:
        return os.path.relpath(path, os.path.dirname(relative_to) or ".")
    except ValueError:  # pragma: no cover - another drive on Windows
        return path


def _python_files(
    paths: Iterable[str | os.PathLike[str]],
) -> Iterator[tuple[Path, Path]]:
    """(root, file) for every Python file (and dotenv file, see :data:`DOTENV_FILES`)
    under the paths; symlinked directories stay out."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for directory, subdirectories, names in os.walk(path):
                subdirectories[:] = sorted(
                    d
                    for d in subdirectories
                    if not d.startswith(".") and d not in _SKIPPED_DIRECTORIES
                )
                for name in subdirectories:
                    if os.path.islink(os.path.join(directory, name)):
                        yield path, Path(directory, name)  # not entered: said so
                for name in sorted(names):
                    if name.endswith(".py") or name in DOTENV_FILES:
                        yield path, Path(directory, name)
        elif path.exists() or path.is_symlink():
            yield path.parent, path
        else:
            raise FileNotFoundError(f"no such file or directory: {raw}")


def _other_files(root: Path, known: set[Path]) -> list[bytes] | None:
    """The bytes of the files under ``root`` other than the modules of ``known``
    (read already) and documents or web assets (which set nothing, see
    :data:`_NOT_SETTINGS`): settings, compose files, Makefiles, other modules
    beside a file scanned alone; hidden directories too (``.ebextensions``),
    not a version control's. ``None`` where there are more than
    :data:`_MAX_OTHER_FILES` or more than :data:`_MAX_OTHER_BYTES` in all. A
    file that is not regular or not readable, or of more than
    :data:`MAX_DATA_BYTES`, is left out (it is no settings file)."""
    found: list[bytes] = []
    size = 0
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [
            d for d in subdirectories if d not in _SKIPPED_DIRECTORIES and d not in _VCS
        ]
        for name in names:
            path = Path(directory, name)
            if path in known or name.lower().endswith(_NOT_SETTINGS):
                continue
            if len(found) >= _MAX_OTHER_FILES:
                return None
            data, _ = _read_regular(path, MAX_DATA_BYTES)
            if data is not None:
                size += len(data)
                if size > _MAX_OTHER_BYTES:
                    return None
                found.append(data)
    return found


def _read_regular(path: Path, limit: int) -> tuple[bytes | None, str]:
    """The bytes of a regular file of at most ``limit`` bytes, or ``None`` and why
    not (a FIFO would hang the scan, ``/dev/zero`` never ends)."""
    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as error:  # ValueError: a NUL in the name
        return None, f"cannot be opened: {getattr(error, 'strerror', None) or error}"
    with os.fdopen(descriptor, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file (a FIFO, a device or a socket)"
        if info.st_size > limit:
            return None, f"larger than {limit} bytes"
        try:
            data = stream.read(limit + 1)
        except OSError as error:
            return None, f"cannot be read: {error.strerror or error}"
    if len(data) > limit:
        return None, f"larger than {limit} bytes"
    return data, ""


def read_source(path: Path) -> tuple[str | None, str]:
    """The text of a Python file as Python reads it, or ``None`` and why not.

    Only regular files (a FIFO would hang the scan, ``/dev/zero`` never ends),
    at most :data:`MAX_FILE_BYTES`, decoded by the file's own coding
    declaration or BOM (UTF-8 without one), as :func:`tokenize.open` does.

    :param path: The file.
    """
    data, why = _read_regular(path, MAX_FILE_BYTES)
    if data is None:
        return None, why
    lines = iter(data.splitlines(keepends=True)[:2])
    try:
        encoding, _ = tokenize.detect_encoding(lambda: next(lines, b""))
        return data.decode(encoding), ""
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        return None, f"cannot be decoded: {error}"


def _module_name(root: Path, file: Path) -> tuple[str, bool]:
    relative = file.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    package = bool(parts) and parts[-1] == "__init__"
    if package:
        parts = parts[:-1]
    return ".".join(parts) or file.stem, package


def _is_test_path(path: Path) -> bool:
    """Test code by pytest's rules: the files it collects tests from (``test_*.py``,
    ``*_test.py``) and ``conftest.py``. Other files in a ``tests`` directory (a
    scaffold app, a development server) are not collected, and are scanned."""
    name = path.name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


class _Loader:
    """The files of one scanned root, parsed when first needed."""

    def __init__(self, root: Path, report: ScanReport) -> None:
        self.root = root
        self.report = report
        #: Module name -> (file, text or None, why not).
        self.files: dict[str, tuple[Path, str | None, str]] = {}
        self.parsed: dict[Path, Module | None] = {}
        #: The files it could not analyse, in the order found.
        self.skipped: list[SkippedFile] = []
        self._skipped: set[tuple[str, str]] = set()
        self.order: list[str] = []
        stems: dict[str, list[str]] = {}
        self._stems = stems
        self._data: dict[Path, str | None] = {}
        self._real_root: Path | None = None
        self._others: list[bytes] | None = None
        self._others_read = False
        self._mentions: dict[str, int] = {}

    def add(self, file: Path) -> None:
        source, why = read_source(file)
        self.report.files += 1
        if source is not None:
            self.report.lines += source.count("\n") + (not source.endswith("\n"))
        name, _ = _module_name(self.root, file)
        if name in self.files:
            # app.py beside app/__init__.py: imports find one, but either can
            # run (python app.py). The second is scanned under a name no
            # import can ask for.
            key = f"{name}\x00{len(self.files)}"
            self.files[key] = (file, source, why)
            self.order.append(key)
            return
        self.files[name] = (file, source, why)
        self._stems.setdefault(name.rpartition(".")[2], []).append(name)
        self.order.append(name)

    def knows(self, name: str) -> bool:
        return name in self.files or len(self._stems.get(name, ())) == 1

    def load(self, name: str) -> Module | None:
        entry = self.files.get(name)
        if entry is None:
            # A bare name for a module of a sub-directory: only when it is the one.
            candidates = self._stems.get(name, [])
            if len(candidates) != 1:
                return None
            entry = self.files[candidates[0]]
        return self.parse(entry[0], entry[1], entry[2])

    def parse(self, file: Path, source: str | None, why: str) -> Module | None:
        if file in self.parsed:
            return self.parsed[file]
        self.parsed[file] = None
        if source is None:
            self.skip(file, why)
            return None
        try:
            tree = ast.parse(source, filename=str(file))
        except SyntaxError as error:
            version = ".".join(map(str, sys.version_info[:2]))
            where = f" (line {error.lineno})" if error.lineno else ""
            self.skip(file, f"does not parse under Python {version}: {error.msg}{where}")
            return None
        except (ValueError, MemoryError, RecursionError) as error:
            self.skip(file, f"cannot be parsed: {type(error).__name__}: {error}")
            return None
        name, package = _module_name(self.root, file)
        module = Module(
            name, file, tree, source, _is_test_path(file.relative_to(self.root)), package
        )
        self.parsed[file] = module
        return module

    def mentions(self, text: str) -> int:
        """How many times the tree's files hold ``text``: its Python modules, and
        the other files :func:`_other_files` reads (settings, a Makefile, a
        compose file); as many as can be where it cannot read them all."""
        if text in self._mentions:
            return self._mentions[text]
        if not self._others_read:
            known = {file for file, _, _ in self.files.values()}
            self._others, self._others_read = _other_files(self.root, known), True
        if self._others is None:
            count = 2**31
        else:
            wanted = text.encode("utf-8", "surrogatepass")
            count = sum(source.count(text) for _, source, _ in self.files.values() if source)
            count += sum(data.count(wanted) for data in self._others)
        self._mentions[text] = count
        return count

    def reset(self) -> None:
        """Forget what was parsed and skipped (the files read stay)."""
        self.parsed.clear()
        self.skipped.clear()
        self._skipped.clear()

    def skip(self, file: Path, reason: str) -> None:
        entry = (str(file), reason)
        if entry not in self._skipped:  # a module too costly is asked for again
            self._skipped.add(entry)
            self.skipped.append(SkippedFile(*entry))

    def read_data(self, path: Path) -> str | None:
        """The text of a data file a module loads (``settings.cfg``, ``config.json``):
        only a regular file inside the scanned root (symbolic links resolved), of
        at most :data:`MAX_DATA_BYTES`, in UTF-8; else ``None``."""
        try:
            real = path.resolve(strict=True)
            if self._real_root is None:
                self._real_root = self.root.resolve(strict=True)
        except (OSError, RuntimeError, ValueError):  # ValueError: a NUL in the name
            return None
        if real in self._data:
            return self._data[real]
        text: str | None = None
        if real.is_relative_to(self._real_root):
            data, _ = _read_regular(real, MAX_DATA_BYTES)
            try:
                text = data.decode("utf-8-sig") if data is not None else None
            except UnicodeDecodeError:
                text = None
        self._data[real] = text
        return text


#: ``os.environ[...] =``, ``os.environ.update(`` or ``.setdefault(``: a write
#: of the environment, told from its text (spaces allowed where Python allows them).
_ENVIRON_WRITE = re.compile(r"environ\s*(?:\[|\.\s*(?:update|setdefault)\b)")


def scan(paths: Iterable[str | os.PathLike[str]], *, jobs: int | None = None) -> ScanReport:
    """Scan files and directories: findings sorted by path, line, column and rule,
    and the files that could not be analysed.

    Each directory is one project: its modules resolve each other's imports
    (a script's siblings first, as Python does when it runs the script) and
    constants. Test code (see :func:`_is_test_path`) is read for its values
    but not reported on, except its ``if __name__ == "__main__":`` block.
    Hidden directories, ``venv``, ``.venv``, ``node_modules`` and
    ``site-packages`` are not entered; a symlinked directory is not followed but
    listed as not analysed.

    A large tree is shared among processes, one per CPU (see
    :mod:`.scan_workers`); the findings are the same as from one process.

    :param paths: Python files and directories.
    :param jobs: How many processes may share a large tree: ``None`` for one
        per CPU this process may use (at most
        :data:`~.scan_workers.MAX_JOBS`), ``1`` for this process alone.
    :raises FileNotFoundError: A path does not exist.
    :raises ValueError: ``jobs`` is below 1.

    .. code-block:: python

        report = scan(["src"])
        for finding in report.findings:
            print(f"{finding.path}:{finding.line}: {finding.rule} {finding.message}")
        for skipped in report.skipped:
            print(f"not analysed: {skipped.path}: {skipped.reason}")

    .. versionadded:: 0.2
    .. versionchanged:: 0.2
       ``jobs``.
    """
    if jobs is None:
        jobs = scan_workers.default_jobs()
    elif jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    started = time.perf_counter()
    # The syntax trees stay alive until the scan ends (other modules may ask
    # about them): millions of objects the cyclic collector would walk again
    # and again for nothing. It is paused, and restored, around the scan.
    collecting = gc.isenabled()
    gc.disable()
    try:
        report = _scan(paths, jobs)
    finally:
        if collecting:
            gc.enable()
    report.seconds = time.perf_counter() - started
    return report


def _scan(paths: Iterable[str | os.PathLike[str]], jobs: int) -> ScanReport:
    report = ScanReport(findings=[], skipped=[])
    loaders: dict[Path, _Loader] = {}
    dotenv: list[tuple[Path, Path]] = []
    links: list[SkippedFile] = []
    for root, file in _python_files(paths):
        if file.is_symlink() and file.is_dir():
            links.append(SkippedFile(str(file), _LINKED_DIRECTORY))
            continue
        if file.name in DOTENV_FILES:
            dotenv.append((root, file))
            continue
        loader = loaders.get(root)
        if loader is None:
            loader = loaders[root] = _Loader(root, report)
        loader.add(file)
    findings: list[ScanFinding] = []
    for loader in loaders.values():
        found, skipped, analysed = scan_workers.analyse_tree(loader, jobs, _analyse)
        findings.extend(found)
        report.skipped.extend(skipped)
        report.analysed += analysed
    report.skipped.extend(links)
    readers = {root: loaders.get(root) or _Loader(root, report) for root, _ in dotenv}
    findings.extend(_dotenv_findings([(readers[root], file) for root, file in dotenv]))
    report.findings = sorted(findings, key=lambda f: (f.path, f.line, f.column, f.rule))
    report.skipped.sort(key=lambda s: s.path)
    return report


def _analyse(
    loader: _Loader, share: frozenset[str] | None, exchange: Exchange
) -> list[ScanFinding]:
    """The findings of the modules of ``share`` (every module when ``None``).

    First the modules that can hold a sink are collected and asked for their
    functions with a sink on a parameter, which ``exchange`` merges with the
    other shares' (see :mod:`.scan_workers`); then the modules that write
    ``os.environ`` give the project's environment; then every module runs,
    with the files that only call such a function.
    """
    project = Project(loader.load, loader.knows, loader.read_data, loader.mentions)
    analysers: list[Analyser] = []
    ready: list[str] = []
    pending: list[str] = []
    # First, in the tree's order, the modules that change sys.path: where the
    # other modules' imports are found depends on them (in every share alike).
    for name in loader.order:
        source = loader.files[name][1]
        if source is not None and ("sys.path" in source or "addsitedir" in source):
            _collect(loader, project, name)
    for name in loader.order:
        if share is not None and name not in share:
            continue
        source = loader.files[name][1]
        if source is not None and not may_hold_a_finding(source):
            pending.append(name)
        elif _collect(loader, project, name):
            ready.append(name)
    functions, methods = exchange(_parametric_sinks(project.analysers))
    project.parametric = frozenset(functions | methods.keys())
    project.methods = methods
    # Every module of the tree that writes os.environ at import, in the tree's
    # order (whichever share runs it): the first write of a variable wins.
    for name in loader.order:
        file, source, _ = loader.files[name]
        if source is None or not _writes_environment(source):
            continue
        project.work = 0
        with _failing_closed(loader, file) as touched:
            module = project.lookup(name)
            if module is None or module.analyser is None or module.is_test:
                continue
            touched.append(module.analyser)
            for key, value in module.analyser.environment_writes().items():
                project.environment.setdefault(key, value)
    # A file that calls such a function, or makes an instance of a class
    # with such a method, is analysed too.
    callers = _calls_of(functions.union(*methods.values()))
    if callers is not None:
        for name in pending:
            source = loader.files[name][1]
            if source is not None and callers.search(source):
                if _collect(loader, project, name):
                    ready.append(name)
    for name in ready:
        _run(loader, project, name, analysers)
    findings: list[ScanFinding] = []
    seen: set[int] = set()
    for analyser in project.analysers + analysers:
        if id(analyser) in seen:
            continue
        seen.add(id(analyser))
        file = analyser.module.path
        findings.extend(
            ScanFinding(str(file), f.line, f.column, f.rule, *RULES[f.rule], f.chain)
            for f in analyser.findings
        )
    return findings


def _writes_environment(source: str) -> bool:
    """Whether a module may put variables in ``os.environ`` (see
    :meth:`~.scan_analysis.Analyser.environment_writes`)."""
    if "load_dotenv" in source:
        return True
    return "environ" in source and _ENVIRON_WRITE.search(source) is not None


@contextlib.contextmanager
def _failing_closed(loader: _Loader, file: Path) -> Iterator[list[Analyser]]:
    """Around the analysis of one file: an error (nesting too deep for the
    analysis, or a bug of the scan) reports the file as not analysed (exit 2)
    and drops the findings of the analysers the block names, and the other
    files are still scanned."""
    touched: list[Analyser] = []
    try:
        yield touched
    except RecursionError:
        reason = "nested too deeply to analyse"
    except TooCostly:
        reason = f"too costly to analyse (over {MAX_WORK:,} steps: calls that fan out)"
    except Exception as error:  # noqa: BLE001 - a scan bug must not pass a file in silence
        reason = f"the scan failed on it ({type(error).__name__}: {error}); please report"
    else:
        return
    loader.skip(file, reason)
    for analyser in touched:
        analyser.findings.clear()


def _collect(loader: _Loader, project: Project, name: str) -> bool:
    """Parse and collect one module; whether it can be run."""
    file, source, why = loader.files[name]
    module = loader.parse(file, source, why)
    if module is None:
        return False
    collected = False
    project.work = 0
    with _failing_closed(loader, file):
        project.lookup(name)
        collected = True
    return collected


def _run(loader: _Loader, project: Project, name: str, analysers: list[Analyser]) -> None:
    """Analyse one module (its findings stay on its analyser)."""
    file, source, why = loader.files[name]
    module = loader.parse(file, source, why)
    if module is None:
        return
    project.work = 0
    with _failing_closed(loader, file) as touched:
        project.lookup(name)
        analyser = module.analyser
        if analyser is None:  # a second file with the same module name
            analyser = Analyser(module, project)
            analyser.collect()
        touched.append(analyser)
        analysers.append(analyser)
        if not module.is_test or "__main__" in module.source:
            analyser.run()


def _dotenv_flask_debug(loader: _Loader, file: Path) -> tuple[int, str, bool] | None:
    """(line, value, silenced) of the last ``FLASK_DEBUG`` a dotenv file sets, if any
    (silenced: by a ``# prodguard: ignore`` comment on that line). Read like any
    data file: only inside the scanned tree (a link out of it is not read)."""
    text = loader.read_data(file)
    if text is None:
        return None
    found: tuple[int, str, bool] | None = None
    for number, name, value, line in parse_dotenv(text):
        if name == "FLASK_DEBUG":
            ignore = IGNORE_COMMENT.search(line)
            silenced = ignore is not None and (
                ignore.group(1) is None or "PGS108" in ignore.group(1)
            )
            found = (number, value, silenced)
    return found


def _dotenv_findings(files: list[tuple[_Loader, Path]]) -> list[ScanFinding]:
    """PGS108 for a ``.flaskenv`` or ``.env`` that turns FLASK_DEBUG on, unless a
    ``.env`` beside it (which python-dotenv loads first) turns it off."""
    findings: list[ScanFinding] = []
    settings = {file: _dotenv_flask_debug(loader, file) for loader, file in files}
    for file, setting in settings.items():
        if setting is None or not flask_debug_on(setting[1]):
            continue
        first = settings.get(file.with_name(".env")) if file.name == ".flaskenv" else None
        if first is not None and not flask_debug_on(first[1]):
            continue  # .env is loaded first and sets it off: that value stays
        line, value, silenced = setting
        if silenced:
            continue
        step = ChainStep(str(file), line, f"FLASK_DEBUG={value}"[:120])
        findings.append(ScanFinding(str(file), line, 1, "PGS108", *RULES["PGS108"], (step,)))
    return findings


def _parametric_sinks(analysers: list[Analyser]) -> tuple[set[str], dict[str, set[str]]]:
    """Names of module-level functions with a parameter on a line a sink needs, and
    of such methods (with the classes that define them)."""
    functions: set[str] = set()
    methods: dict[str, set[str]] = {}
    for analyser in analysers:
        for cls, name in analyser.parametric_sinks():
            if cls:
                methods.setdefault(name, set()).add(cls)
            else:
                functions.add(name)
    return functions, methods


def _calls_of(names: set[str]) -> re.Pattern[str] | None:
    """A call of one of ``names``, or one used as a decorator (``@dev_mode``)."""
    if not names:
        return None
    alternatives = "|".join(sorted(map(re.escape, names)))
    return re.compile(rf"\b(?:{alternatives})\s*\(|@[\w. \t]*\b(?:{alternatives})\b")


def scan_paths(paths: Iterable[str | os.PathLike[str]]) -> list[ScanFinding]:
    """The findings of :func:`scan` (files it could not analyse are left out).

    :param paths: Python files and directories.
    :raises FileNotFoundError: A path does not exist.
    """
    return scan(paths).findings


def render_sarif(
    findings: list[ScanFinding], skipped: Iterable[SkippedFile] = ()
) -> dict[str, Any]:
    """Scan findings as a SARIF 2.1.0 log, with their lines, columns and chains.

    Every rule of :data:`RULES` is listed; every finding is an error. A
    finding's chain of values is its ``codeFlows``; a file that could not be
    analysed is a ``toolExecutionNotifications`` entry, and makes the run's
    ``executionSuccessful`` false.

    :param findings: What :func:`scan` found.
    :param skipped: The files it could not analyse.
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
            flow=tuple(
                sarif.FlowStep(Path(step.path).as_posix(), step.line, step.code)
                for step in f.chain
            ),
        )
        for f in findings
    ]
    notifications = [
        sarif.Notification(
            message=f"not analysed: {s.reason}",
            uri=Path(s.path).as_posix(),
            level="error",
        )
        for s in skipped
    ]
    return sarif.sarif_log(
        "Flask-ProdGuard scan", __version__, rules, results, notifications=notifications
    )


__all__ = [
    "MAX_FILE_BYTES",
    "RULES",
    "ChainStep",
    "ScanFinding",
    "ScanReport",
    "SkippedFile",
    "read_source",
    "render_sarif",
    "scan",
    "scan_paths",
]
