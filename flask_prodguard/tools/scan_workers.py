"""A large tree's scan shared among processes, with the report of one.

A tree of a few hundred thousand lines is mostly parsing and running its
modules one by one, which one CPU does at about 90,000 lines a second. Here
the tree's modules are cut into contiguous shares, one per process (the
first is this process, the others are forked from it once the files are
read), and each share runs the whole analysis of :func:`.scan._analyse` for
its own modules. A module of another share that one of them imports is
parsed again where it is needed, as it would be by one process.

The shares meet once: the names of the functions with a sink on a parameter
(a call of them elsewhere is followed) are merged, through ``exchange``,
before any module runs. Every share reads the whole tree's writes of
``os.environ`` itself, in the tree's order. The findings are then merged,
the first of a place kept (the share that comes first in the tree's order,
as one process would find it first), so the report is the same: the same
findings and files not analysed (a finding that modules of two shares reach
may show the other route in its chain: known, tests/test_redteam_scan17.py).
A decision a module caches for the others (whether a name is an app) costs
the file that asks nothing, so no file's budget depends on which process
asked first.

Anything that goes wrong with a share's process (it dies, sends nothing, or
sends what is not a report) starts the tree again in this process alone: a
scan fails closed, never with the findings of a share missing.

Forking needs a POSIX system, and is used only on Linux and only while this
process runs no other thread (a fork copies a lock another thread holds).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import NoReturn
from typing import cast

from .scan_analysis import may_hold_a_finding

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from .scan import ScanFinding
    from .scan import SkippedFile
    from .scan import _Loader

#: (names of functions, method name -> classes) with a sink on a parameter.
Sinks = tuple[set[str], dict[str, set[str]]]
#: A share's findings, files not analysed, and files analysed.
Result = tuple["list[ScanFinding]", "list[SkippedFile]", set[str]]
#: Gives a share's sinks, returns every share's (see the module's text).
Exchange = Callable[[Sinks], Sinks]
#: :func:`.scan._analyse`: a share's findings (``None``: the whole tree).
Analyse = Callable[["_Loader", "frozenset[str] | None", Exchange], "list[ScanFinding]"]

#: The most processes one tree is shared among: past a few, each process
#: parses more of the modules the others' import, for less and less gain.
MAX_JOBS = 8
#: Below this many lines of Python a tree is scanned by this process alone:
#: forking and merging would cost more than they save.
PARALLEL_LINES = 50_000


class _ShareFailed(Exception):
    """A share's process did not hand back its report."""


def default_jobs() -> int:
    """One process per CPU this process may run on (at most :data:`MAX_JOBS`),
    or 1 where forking is not used (see the module's text)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_JOBS))


def analyse_tree(
    loader: _Loader, jobs: int, analyse: Analyse
) -> tuple[list[ScanFinding], list[SkippedFile], int]:
    """The findings of one tree, the files it could not analyse, and how many
    it analysed: shared among up to ``jobs`` processes when it has at least
    :data:`PARALLEL_LINES` lines.

    :param loader: The tree's files, read and not yet parsed.
    :param jobs: The most processes (this one included).
    :param analyse: Analyses a share (see :data:`Analyse`).
    """
    shares = _shares(loader, jobs, PARALLEL_LINES)
    if shares is not None:
        try:
            return _in_parallel(loader, shares, analyse)
        except _ShareFailed:
            # Again from the start, alone: nothing parsed so far is reused
            # (its modules belong to the project that failed).
            loader.reset()
    findings = analyse(loader, None, lambda sinks: sinks)
    return findings, list(loader.skipped), len(_analysed(loader))


def _other_threads() -> bool:
    """Whether another thread runs in this process: a fork would copy the locks
    it holds, and the share's process could wait on one for ever."""
    return threading.active_count() > 1


def _shares(loader: _Loader, jobs: int, min_lines: int) -> list[frozenset[str]] | None:
    """The tree's module names in ``jobs`` contiguous shares of about the same
    weight, or ``None`` when the tree is scanned alone."""
    if jobs < 2 or not hasattr(os, "fork") or _other_threads():
        return None
    lines = 0
    weights: list[int] = []
    for name in loader.order:
        source = loader.files[name][1] or ""
        lines += source.count("\n")
        # A module that cannot hold a sink is only searched for calls.
        weights.append(len(source) if may_hold_a_finding(source) else len(source) // 20)
    jobs = min(jobs, len(loader.order))
    if lines < min_lines or jobs < 2:
        return None
    total = sum(weights) or 1
    shares: list[frozenset[str]] = []
    current: list[str] = []
    carried = 0
    for name, weight in zip(loader.order, weights, strict=True):
        current.append(name)
        carried += weight
        if len(shares) < jobs - 1 and carried * jobs >= total * (len(shares) + 1):
            shares.append(frozenset(current))
            current = []
    shares.append(frozenset(current))
    return [share for share in shares if share] if len(shares) > 1 else None


def _in_parallel(
    loader: _Loader, shares: list[frozenset[str]], analyse: Analyse
) -> tuple[list[ScanFinding], list[SkippedFile], int]:
    """Run the first share here and each other share in a forked process."""
    from multiprocessing.connection import Pipe

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()  # not written twice by a child's copy of the buffer
    children: list[tuple[int, Connection]] = []
    try:
        for share in shares[1:]:
            ours, theirs = Pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child's coverage is not collected
                ours.close()
                _child(loader, share, theirs, analyse)
            theirs.close()
            children.append((pid, ours))
        connections = [connection for _, connection in children]

        def exchange(sinks: Sinks) -> Sinks:
            merged = _merged_sinks([sinks, *(_receive_sinks(c) for c in connections)])
            for connection in connections:
                connection.send(merged)
            return merged

        findings = analyse(loader, shares[0], exchange)
        results: list[Result] = [(findings, list(loader.skipped), _analysed(loader))]
        results.extend(_receive_result(c) for c in connections)
        while children:
            pid, connection = children.pop(0)
            connection.close()
            _, status = os.waitpid(pid, 0)
            if status != 0:
                raise _ShareFailed(f"a share's process ended with status {status}")
    except (OSError, EOFError, pickle.UnpicklingError) as error:
        raise _ShareFailed(str(error)) from error
    finally:
        for pid, connection in children:
            # Only on the way out of a failure: the share is no longer wanted.
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
            connection.close()
    return _merged(results)


def _child(
    loader: _Loader, share: frozenset[str], connection: Connection, analyse: Analyse
) -> NoReturn:  # pragma: no cover - runs in a forked process
    """A share's process: analyse it, hand back the report, and end without
    running anything of the parent's (``atexit`` handlers, buffers)."""
    code = 1
    try:

        def exchange(sinks: Sinks) -> Sinks:
            connection.send(sinks)
            merged: Sinks = connection.recv()
            return merged

        findings = analyse(loader, share, exchange)
        connection.send((findings, list(loader.skipped), _analysed(loader)))
        code = 0
    except BaseException:  # noqa: BLE001, S110 - the parent sees the missing report
        pass
    finally:
        os._exit(code)


def _receive_sinks(connection: Connection) -> Sinks:
    """A share's sinks, as its process sent them."""
    sinks = connection.recv()
    if not (
        isinstance(sinks, tuple)
        and len(sinks) == 2
        and isinstance(sinks[0], set)
        and isinstance(sinks[1], dict)
    ):
        raise _ShareFailed("a share's process sent something that is not its sinks")
    return cast(Sinks, sinks)


def _receive_result(connection: Connection) -> Result:
    """A share's report, as its process sent it."""
    result = connection.recv()
    if not (
        isinstance(result, tuple)
        and len(result) == 3
        and isinstance(result[0], list)
        and isinstance(result[1], list)
        and isinstance(result[2], set)
    ):
        raise _ShareFailed("a share's process sent something that is not its report")
    return cast(Result, result)


def _merged_sinks(every: list[Sinks]) -> Sinks:
    functions: set[str] = set()
    methods: dict[str, set[str]] = {}
    for sinks in every:
        share_functions, share_methods = sinks
        functions |= share_functions
        for name, classes in share_methods.items():
            methods.setdefault(name, set()).update(classes)
    return functions, dict(sorted(methods.items()))


def _analysed(loader: _Loader) -> set[str]:
    """The files parsed so far (a module that did not parse is ``None``)."""
    return {str(file) for file, module in loader.parsed.items() if module is not None}


def _merged(results: list[Result]) -> tuple[list[ScanFinding], list[SkippedFile], int]:
    """Every share's findings, the first of a place kept; the files not
    analysed, each once; how many files were analysed."""
    findings: list[ScanFinding] = []
    places: set[tuple[str, int, int, str]] = set()
    skipped: list[SkippedFile] = []
    reasons: set[tuple[str, str]] = set()
    analysed: set[str] = set()
    for result in results:
        share_findings, share_skipped, share_analysed = result
        for finding in share_findings:
            place = (finding.path, finding.line, finding.column, finding.rule)
            if place not in places:
                places.add(place)
                findings.append(finding)
        for entry in share_skipped:
            if (entry.path, entry.reason) not in reasons:
                reasons.add((entry.path, entry.reason))
                skipped.append(entry)
        analysed |= share_analysed
    return findings, skipped, len(analysed)
