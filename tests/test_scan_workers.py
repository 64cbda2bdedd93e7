"""A tree shared among processes gives the report of one process, and a share
whose process fails costs time, never findings."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from flask_prodguard.tools import scan as scan_module
from flask_prodguard.tools import scan_workers
from flask_prodguard.tools.scan import ScanReport
from flask_prodguard.tools.scan import scan

CORPUS = Path(__file__).parent / "scan_corpus"
#: The real test for other threads (the ``forks`` fixture stands it in).
OTHER_THREADS = scan_workers._other_threads

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not hasattr(os, "fork"), reason="sharing needs os.fork"),
]


def report_of(report: ScanReport) -> tuple[object, ...]:
    """What a user sees of a report (not the time it took)."""
    return (report.findings, report.skipped, report.files, report.lines, report.analysed)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus, with files that cannot be analysed spread through it."""
    root = tmp_path_factory.mktemp("tree") / "corpus"
    shutil.copytree(CORPUS, root)
    for place in ("", "app_instance_other_module/", "zz/"):
        (root / place).mkdir(exist_ok=True)
        (root / f"{place}py2_print.py").write_text(
            'print "app.run(debug=True)"\n', encoding="utf-8"
        )
        (root / f"{place}latin.py").write_bytes(b"# -*- coding: nonsense -*-\nx = 1\n")
    return root


@pytest.fixture(scope="module")
def alone(tree: Path) -> ScanReport:
    """The tree scanned by this process alone."""
    return scan([tree], jobs=1)


def no_children_left() -> bool:
    """Every forked process has been waited for."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("jobs", [2, 3, 5])
def test_shared_scan_gives_the_same_report(
    tree: Path, alone: ScanReport, forks: list[int], jobs: int
) -> None:
    """The corpus (every finding with its chain, every file not analysed) is the
    same shared among 2, 3 or 5 processes as scanned by one."""
    assert len(alone.findings) > 100 and len(alone.skipped) == 6  # something to compare
    shared = scan([tree], jobs=jobs)
    assert len(forks) == jobs - 1
    assert report_of(shared) == report_of(alone)
    assert no_children_left()


def test_a_small_tree_is_not_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below PARALLEL_LINES nothing is forked (a pre-commit run stays one process)."""
    made: list[int] = []
    monkeypatch.setattr(os, "fork", lambda: made.append(1) or 0)
    scan([CORPUS], jobs=4)
    assert made == []


def test_no_fork_while_another_thread_runs(
    tree: Path, alone: ScanReport, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process with another thread (a library user's) is never forked."""
    monkeypatch.setattr(scan_workers, "_other_threads", OTHER_THREADS)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        shared = scan([tree], jobs=4)
    finally:
        stop.set()
        thread.join()
    assert forks == []
    assert report_of(shared) == report_of(alone)


def test_jobs_below_one_is_refused() -> None:
    """jobs=0 is a caller's mistake, said plainly."""
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        scan([CORPUS], jobs=0)


def failing_in_children(
    monkeypatch: pytest.MonkeyPatch, how: str, before_exchange: bool
) -> list[frozenset[str] | None]:
    """Make ``scan._analyse`` fail ``how`` in every forked process; the shares
    this process analysed are listed."""
    real = scan_module._analyse
    parent = os.getpid()
    shares: list[frozenset[str] | None] = []

    def analyse(loader, share, exchange):  # type: ignore[no-untyped-def]
        if os.getpid() == parent:
            shares.append(share)
            return real(loader, share, exchange)

        def failing_exchange(sinks):  # type: ignore[no-untyped-def]
            merged = exchange(sinks)
            if not before_exchange:
                fail()
            return merged

        def fail() -> None:
            if how == "exit":
                os._exit(3)
            if how == "raise":
                raise RuntimeError("a bug in a share")
            if how == "kill":
                os.kill(os.getpid(), 9)

        if before_exchange:
            fail()
        findings = real(loader, share, failing_exchange)
        return "not a list" if how == "garbage" else findings

    monkeypatch.setattr(scan_module, "_analyse", analyse)
    return shares


@pytest.mark.parametrize(
    ("how", "before_exchange"),
    [
        *[(how, True) for how in ("exit", "raise", "kill")],
        # Garbage is the report itself, sent after the shares meet.
        *[(how, False) for how in ("exit", "raise", "kill", "garbage")],
    ],
)
def test_a_failed_share_is_scanned_again_alone(
    tree: Path,
    alone: ScanReport,
    forks: list[int],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    before_exchange: bool,
) -> None:
    """A share's process that exits, raises, is killed or sends garbage (before
    or after the shares meet): the tree is scanned again here, same report."""
    shares = failing_in_children(monkeypatch, how, before_exchange)
    shared = scan([tree], jobs=3)
    assert len(forks) == 2
    assert shares[-1] is None and len(shares) == 2  # its own share, then the whole tree
    assert report_of(shared) == report_of(alone)
    assert no_children_left()


def test_the_command_line_jobs_option(tree: Path, forks: list[int]) -> None:
    """``scan --jobs 3`` shares the tree (two forks) and prints what ``--jobs 1`` does."""
    from click.testing import CliRunner
    from flask_prodguard.tools.cli import scan_command

    runner = CliRunner()
    shared = runner.invoke(scan_command, ["--jobs", "3", "--format", "json", str(tree)])
    assert len(forks) == 2
    alone = runner.invoke(scan_command, ["--jobs", "1", "--format", "json", str(tree)])
    assert len(forks) == 2
    assert shared.exit_code == alone.exit_code == 2  # findings, and files not analysed
    assert shared.output == alone.output
    refused = runner.invoke(scan_command, ["--jobs", "0", str(tree)])
    assert refused.exit_code == 2 and "--jobs" in refused.output
