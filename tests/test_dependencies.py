"""Dependencies doing what hand-written code did, each on the case it got wrong.

Issue 15: traceback frames are read by structlog's ``tracebacks.extract`` (with
``show_locals=False``), ``.env`` files by python-dotenv when it is installed
(as the ``flask`` command, which without it reads none), versions by
``packaging``, and
``__version__`` comes from the package metadata.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import tomllib
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_prodguard
import pytest
import structlog.tracebacks
from flask import Flask
from flask_prodguard import advisories
from flask_prodguard import checks
from flask_prodguard.checks import CheckContext
from flask_prodguard.checks import Severity
from flask_prodguard.checks import read_dotenv
from flask_prodguard.checks import run_checks
from flask_prodguard.events import failures
from flask_prodguard.events.failures import traceback_frames
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


# -- traceback frames: structlog's extract ---------------------------------------------


def _raise_chained() -> RuntimeError:
    """A RuntimeError raised from a ValueError, both with tracebacks."""

    def inner(password: str) -> None:
        raise ValueError(f"bad {len(password)}")

    try:
        try:
            inner("hunter2")
        except ValueError as error:
            raise RuntimeError("outer") from error
    except RuntimeError as error:
        return error
    raise AssertionError("not raised")  # pragma: no cover


def _structlog_frames(error: BaseException) -> list[dict[str, Any]]:
    """The frames structlog itself extracts from ``error``'s own traceback."""
    trace = structlog.tracebacks.extract(
        type(error), error, error.__traceback__, show_locals=False
    )
    return [
        {"file": frame.filename, "line": frame.lineno, "function": frame.name}
        for frame in trace.stacks[0].frames
    ]


@pytest.fixture
def extract_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every call the guard makes to structlog's extract: its options and frame count."""
    calls: list[dict[str, Any]] = []
    real = structlog.tracebacks.extract

    def spy(*args: Any, **kwargs: Any) -> structlog.tracebacks.Trace:
        trace = real(*args, **kwargs)
        calls.append({**kwargs, "frames": sum(len(s.frames) for s in trace.stacks)})
        return trace

    monkeypatch.setattr(failures, "extract", spy)
    return calls


def test_frames_are_structlogs_without_locals(extract_calls: list[dict[str, Any]]) -> None:
    """Each entry's frames are what structlog extracts, asked with show_locals=False."""
    error = _raise_chained()
    chain = traceback_frames(error)
    assert [entry["frames"] for entry in chain] == [
        _structlog_frames(error),
        _structlog_frames(error.__cause__),  # type: ignore[arg-type]
    ]
    assert len(extract_calls) == 2
    assert all(call["show_locals"] is False for call in extract_calls)
    assert "hunter2" not in str(chain)


def test_relative_file_name_is_made_absolute() -> None:
    """A frame of code compiled with a relative file name is shown with its full path."""
    namespace: dict[str, Any] = {}
    exec(compile("def fail():\n    raise KeyError('k')\n", "views/page.py", "exec"), namespace)
    try:
        namespace["fail"]()
    except KeyError as error:
        frame = traceback_frames(error)[0]["frames"][-1]
    assert frame == {"file": os.path.abspath("views/page.py"), "line": 2, "function": "fail"}


def test_long_traceback_is_cut_before_structlog_walks_it(
    extract_calls: list[dict[str, Any]],
) -> None:
    """A 300-frame traceback: structlog is given only the 50 frames kept, lines intact."""

    def recurse(depth: int) -> None:
        if depth == 0:
            raise RecursionError("deep")
        recurse(depth - 1)

    try:
        recurse(300)
    except RecursionError as error:
        full = _structlog_frames(error)
        frames = traceback_frames(error)[0]["frames"]
    assert len(full) > 300
    assert frames == full[:25] + full[-25:]
    assert sum(call["frames"] for call in extract_calls) == 50


class _HostileFileName(str):
    """A code object's file name whose string methods fail."""

    def startswith(self, *args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("postgresql://app:hunter2@db/prod")


def test_hostile_code_file_name_costs_structlog_not_the_frames() -> None:
    """A str subclass as co_filename breaks structlog's walk: every frame is then read
    from its code object, the hostile name as text, without running its methods."""

    def fail() -> None:
        raise ValueError("plain message")

    fail.__code__ = fail.__code__.replace(co_filename=_HostileFileName("/srv/app.py"))
    try:
        fail()
    except ValueError as error:
        (entry,) = traceback_frames(error)
    assert entry["exception_type"] == "ValueError"
    assert entry["exception_message"] == "plain message"
    assert [(f["file"], f["function"]) for f in entry["frames"]] == [
        (__file__, "test_hostile_code_file_name_costs_structlog_not_the_frames"),
        ("/srv/app.py", "fail"),
    ]
    assert "hunter2" not in repr(entry)


# -- .env files: python-dotenv, as the flask command reads them ----------------------------


def _values(directory: Path, content: str) -> dict[str, str]:
    """``read_dotenv`` of a directory whose ``.env`` holds ``content``: name -> value."""
    (directory / ".env").write_text(content, encoding="utf-8")
    return {name: value for name, (_, value) in read_dotenv(directory).items()}


def test_inline_comment_is_not_the_value(tmp_path: Path) -> None:
    """``A=1 # note`` is ``1``; a ``#`` without space before it is part of the value."""
    values = _values(tmp_path, "A=1 # note\nB=x#y\nC= # empty\n")
    assert values == {"A": "1", "B": "x#y", "C": ""}


def test_quoted_values_lose_their_quotes(tmp_path: Path) -> None:
    """Quotes are taken off even with a comment after them; escapes are read."""
    content = 'A="two words" # note\nB=\'single\'  \nC="say \\"hi\\""\n'
    assert _values(tmp_path, content) == {"A": "two words", "B": "single", "C": 'say "hi"'}


def test_multi_line_quoted_value(tmp_path: Path) -> None:
    """A quoted value over several lines is one value; the line after it is read."""
    content = 'CERT="-----BEGIN KEY-----\nabc=\n-----END KEY-----"\nNEXT=1\n'
    values = _values(tmp_path, content)
    assert values == {"CERT": "-----BEGIN KEY-----\nabc=\n-----END KEY-----", "NEXT": "1"}


def test_export_prefix(tmp_path: Path) -> None:
    """``export A=1`` sets A, whether a space or a tab follows ``export``."""
    assert _values(tmp_path, "export A=1\nexport\tB=2\n") == {"A": "1", "B": "2"}


def test_expansion_as_python_dotenv_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``${NAME}`` is expanded, as python-dotenv does when Flask loads the file."""
    monkeypatch.setenv("PRODGUARD_TEST_HOST", "db.internal")
    values = _values(tmp_path, "URL=http://${PRODGUARD_TEST_HOST}/\n")
    assert values == {"URL": "http://db.internal/"}


def test_without_python_dotenv_no_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without python-dotenv the flask command loads no dotenv file: neither does the check."""
    monkeypatch.setitem(sys.modules, "dotenv", None)  # import dotenv: ImportError
    assert _values(tmp_path, "FLASK_DEBUG=1\n") == {}


def test_commented_dotenv_value_is_named_as_the_source(tmp_path: Path) -> None:
    """FLASK_DEBUG=1 with a comment in .flaskenv: PG101 blames .flaskenv, as Flask loaded it."""
    (tmp_path / ".flaskenv").write_text("FLASK_DEBUG=1  # while developing\n")
    context = CheckContext(
        Flask("dotenv_source"), {"FLASK_DEBUG": "1"}, dotenv=read_dotenv(tmp_path), cli=True
    )
    (finding,) = [f for f in run_checks(context) if f.check_id == "PG101"]
    assert finding.source == ".flaskenv (FLASK_DEBUG)"


# -- versions: packaging ------------------------------------------------------------------


def _ghsas(package: str, version: str) -> set[str]:
    """The GHSA ids of the advisories ``version`` of ``package`` is affected by."""
    return {advisory.ghsa for advisory in advisories.affecting(package, version)}


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        # Pre-releases and development releases of the fixed 3.1.6 are not 3.1.6.
        ("3.1.6rc1", True),
        ("3.1.6b2", True),
        ("3.1.6.dev0", True),
        ("3.1.6", False),
        ("3.1.6.post1", False),
        # A post release of 3.1.5 is still before the fix.
        ("3.1.5.post1", True),
    ],
)
def test_pre_and_post_releases_against_a_fixed_version(version: str, affected: bool) -> None:
    """Werkzeug GHSA-29vq (fixed in 3.1.6) as pip orders versions: 3.1.6rc1 is affected."""
    assert ("GHSA-29vq-49wr-vm6x" in _ghsas("werkzeug", version)) is affected


@pytest.mark.parametrize("version", ["3.0.0rc1", "3.0.0.dev1", "3.0.0", "3.0.1rc1"])
def test_pre_release_of_first_affected_version_is_in_range(version: str) -> None:
    """Range [3.0.0, 3.0.1) of CVE-2023-46136: a 3.0.0 pre-release has 3.0.0's code."""
    assert "GHSA-hrfv-mqp8-q5rw" in _ghsas("werkzeug", version)


@pytest.mark.parametrize("version", ["3.1.6-custom", "3.1.6_fork", "main", "", "1!2.0.0"])
def test_unreadable_version_fails_closed(version: str) -> None:
    """A version PEP 440 cannot read, or one with an epoch (no release of Flask or
    Werkzeug has one), may be affected by every advisory of the package."""
    every = {a.ghsa for a in advisories.ADVISORIES if a.package == "werkzeug"}
    assert _ghsas("werkzeug", version) == every


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], list[checks.Finding]]:
    """``installed(version)``: the PG401 findings with that Werkzeug version installed."""

    def findings(version: str) -> list[checks.Finding]:
        real = checks.installed_version
        monkeypatch.setattr(
            checks,
            "installed_version",
            lambda name: version if name == "werkzeug" else real(name),
        )
        context = CheckContext(Flask("versions"), {}, cli=True)
        return [f for f in run_checks(context) if f.check_id == "PG401"]

    return findings


def test_release_candidate_of_the_fix_is_reported(
    installed: Callable[[str], list[checks.Finding]],
) -> None:
    """PG401: Werkzeug 3.1.6rc1 is reported under GHSA-29vq, fixed in 3.1.6."""
    (finding,) = installed("3.1.6rc1")
    assert "GHSA-29vq-49wr-vm6x" in finding.message and "fixed in 3.1.6" in finding.message
    assert finding.severity is Severity.ERROR
    assert installed("3.1.6") == []


def test_unreadable_installed_version_is_one_error(
    installed: Callable[[str], list[checks.Finding]],
) -> None:
    """PG401: a version that cannot be compared is one error naming every advisory."""
    (finding,) = installed("3.1.6-custom")
    assert "'3.1.6-custom' is not a version that can be compared" in finding.message
    assert "GHSA-29vq-49wr-vm6x" in finding.message and "GHSA-h2fp-xgx6-xh6f" in finding.message
    assert "fixed in 3.1.6" in finding.message
    assert finding.severity is Severity.ERROR


# -- __version__: the package metadata -----------------------------------------------------


@pytest.fixture
def fresh_version() -> Iterator[None]:
    """``__version__`` looked up again by the test, and again after it."""
    flask_prodguard.__dict__.pop("__version__", None)
    yield
    flask_prodguard.__dict__.pop("__version__", None)


def test_version_is_the_pyproject_version(fresh_version: None) -> None:
    """``__version__`` is the version pyproject.toml gives the distribution."""
    with PYPROJECT.open("rb") as stream:
        project = tomllib.load(stream)["project"]
    assert flask_prodguard.__version__ == project["version"]
    assert importlib.metadata.version(project["name"]) == project["version"]


def test_version_comes_from_the_metadata(
    fresh_version: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new release in the metadata is ``__version__`` and the scan's SARIF version."""
    from flask_prodguard.tools.scan import render_sarif

    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata,
        "version",
        lambda name: "9.8.7" if name == "Flask-ProdGuard" else real(name),
    )
    assert flask_prodguard.__version__ == "9.8.7"
    assert render_sarif([])["runs"][0]["tool"]["driver"]["version"] == "9.8.7"


def test_version_when_not_installed(
    fresh_version: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a source tree never installed: a version that says so, and still parses."""

    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert flask_prodguard.__version__ == "0+unknown"
    assert Version(flask_prodguard.__version__) < Version("0.0.1")
