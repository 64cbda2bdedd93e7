"""``flask prodguard scan`` fails closed: files it cannot analyse, hostile files, chains.

A CI gate that skips a file in silence says green for code it never read.
Every file the scan cannot analyse is listed (text, JSON, SARIF
``toolExecutionNotifications``) and makes the exit status 2 unless
``--allow-skipped``; a hostile file (a FIFO, ``/dev/zero``, nesting deeper
than the parser or the analysis can follow, a huge file) costs the scan that
file only. Each finding explains itself with its chain of values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask_prodguard.tools import scan_analysis
from flask_prodguard.tools.scan import MAX_FILE_BYTES
from flask_prodguard.tools.scan import scan
from flask_prodguard.tools.scan import scan_paths

SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-2.1.0-rtm.5.json"
CORPUS = Path(__file__).resolve().parent / "scan_corpus"
BAD = "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n"


def run_scan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m flask_prodguard.scan ARGS`` in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "flask_prodguard.scan", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


# -- how Python reads a source file ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bom.py", b"\xef\xbb\xbf" + BAD.encode()),
        (
            "latin1.py",
            b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + BAD.encode(),
        ),
        ("crlf.py", BAD.replace("\n", "\r\n").encode()),
        ("cr.py", BAD.replace("\n", "\r").encode()),
    ],
    ids=["utf-8 BOM", "latin-1 coding cookie", "CRLF line ends", "CR line ends"],
)
def test_sources_are_read_as_python_reads_them(tmp_path: Path, name: str, data: bytes) -> None:
    """A BOM, a coding declaration, CRLF: Python compiles them, so the scan reads them."""
    (tmp_path / name).write_bytes(data)
    report = scan([tmp_path])
    assert report.skipped == []
    assert [(f.rule, f.line) for f in report.findings] == [
        ("PGS101", 3 + (name == "latin1.py") * 2)
    ]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("print 'hello'\napp.run(debug=True)\n", "does not parse under Python"),
        ("type Port = int\napp.run(debug=True)\n", "does not parse under Python"),
        (b"# -*- coding: klingon -*-\napp.run(debug=True)\n", "cannot be decoded"),
        (b"app.run(debug=True)  # \xff\xfe\n", "cannot be decoded"),
        ("x = 1\x00\napp.run(debug=True)\n", "null bytes"),
    ],
    ids=["python 2", "newer syntax", "unknown coding", "bad utf-8", "null byte"],
)
def test_files_it_cannot_analyse_are_reported(
    tmp_path: Path, source: str | bytes, reason: str
) -> None:
    """Python 2, syntax newer than this Python, bad encodings: listed with a reason."""
    if sys.version_info >= (3, 12) and source.startswith("type Port"):  # type: ignore[arg-type]
        pytest.skip("type statements parse on this Python")  # the case is for 3.11
    data = source.encode() if isinstance(source, str) else source
    (tmp_path / "old.py").write_bytes(data)
    (tmp_path / "good.py").write_text(BAD)
    report = scan([tmp_path])
    assert [Path(s.path).name for s in report.skipped] == ["old.py"]
    assert reason in report.skipped[0].reason
    # The other file's findings are kept.
    assert [Path(f.path).name for f in report.findings] == ["good.py"]


def test_skipped_files_fail_the_gate_unless_allowed(tmp_path: Path) -> None:
    """Exit 2 and the file named on stdout; --allow-skipped lists it and exits on findings."""
    (tmp_path / "legacy.py").write_text("print 'x'\nDEBUG = True\n")
    (tmp_path / "clean.py").write_text("x = 1\n")
    failed = run_scan(".", cwd=tmp_path)
    assert failed.returncode == 2
    assert "legacy.py: not analysed: does not parse under Python" in failed.stdout
    assert "could not be analysed" in failed.stderr
    allowed = run_scan(".", "--allow-skipped", cwd=tmp_path)
    assert allowed.returncode == 0 and "legacy.py: not analysed" in allowed.stdout
    data = json.loads(run_scan(".", "--format", "json", cwd=tmp_path).stdout)
    assert [s["path"].rpartition("/")[2] for s in data["skipped"]] == ["legacy.py"]


def test_sarif_carries_notifications_and_code_flows(tmp_path: Path) -> None:
    """SARIF: a file not analysed is a toolExecutionNotification (execution not
    successful); a finding's chain is its codeFlow; the log is valid SARIF 2.1.0."""
    (tmp_path / "settings_dev.py").write_text("DEBUG = True\n")
    (tmp_path / "app.py").write_text(
        "import settings_dev as settings\nfrom flask import Flask\n"
        "app = Flask(__name__)\napp.run(debug=settings.DEBUG)\n"
    )
    (tmp_path / "legacy.py").write_text("print 'x'\nDEBUG = True\n")
    result = run_scan(".", "--format", "sarif", cwd=tmp_path)
    assert result.returncode == 2
    log = json.loads(result.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    run: dict[str, Any] = log["runs"][0]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "legacy.py"
    )
    (result_,) = run["results"]
    steps = result_["codeFlows"][0]["threadFlows"][0]["locations"]
    places = [
        (
            s["location"]["physicalLocation"]["artifactLocation"]["uri"],
            s["location"]["physicalLocation"]["region"]["startLine"],
            s["location"]["message"]["text"],
        )
        for s in steps
    ]
    assert places == [
        ("app.py", 4, "debug=settings.DEBUG"),
        ("settings_dev.py", 1, "DEBUG = True"),
    ]


# -- the chain of values ------------------------------------------------------------


def test_text_output_explains_the_chain(tmp_path: Path) -> None:
    """``because: debug=settings.DEBUG -> settings_dev.py:3 DEBUG = True``."""
    (tmp_path / "settings_dev.py").write_text("import os\n\nDEBUG = True\n")
    (tmp_path / "app.py").write_text(
        "import settings_dev as settings\nfrom flask import Flask\n"
        "app = Flask(__name__)\napp.run(debug=settings.DEBUG)\n"
    )
    result = run_scan("app.py", "settings_dev.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "    because: debug=settings.DEBUG -> settings_dev.py:3 DEBUG = True\n" in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("files", "chain"),
    [
        (
            {
                "app.py": "import os\nfrom flask import Flask\napp = Flask('x')\n"
                "VERBOSE = os.environ.get('APP_VERBOSE', 'yes')\n"
                "app.run(debug=VERBOSE == 'yes')\n"
            },
            [
                "app.py:5 debug=VERBOSE == 'yes'",
                "app.py:4 VERBOSE = os.environ.get('APP_VERBOSE', 'yes')",
                "app.py:4 os.environ.get('APP_VERBOSE', 'yes') (unset: 'yes')",
            ],
        ),
        (
            {
                "web.py": "from flask import Flask\napp = Flask(__name__)\n",
                "run.py": "from web import app\napp.run(debug=True)\n",
            },
            [
                "run.py:2 debug=True",
                "web.py:2 app = Flask(__name__) (the app)",
            ],
        ),
        (
            {
                "config.py": "class Base:\n    DEBUG = True\nclass Dev(Base):\n    pass\n",
                "app.py": "from flask import Flask\nfrom config import Dev\n"
                "app = Flask('x')\napp.config.from_object(Dev)\n",
            },
            ["config.py:2 DEBUG = True"],
        ),
        (
            {
                "app.py": "from flask import Flask\napp = Flask('x')\nDBG = 1\n"
                "app.config['DEBUG'] = DBG\n"
            },
            ["app.py:4 DEBUG = DBG", "app.py:3 DBG = 1"],
        ),
    ],
    ids=[
        "environment default",
        "app from another module",
        "inherited class attribute",
        "config item",
    ],
)
def test_json_chain_names_every_definition_followed(
    tmp_path: Path, files: dict[str, str], chain: list[str]
) -> None:
    """JSON ``chain``: the code at the finding, then each definition the value came from."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (finding,) = scan([tmp_path]).findings
    got = [f"{Path(s.path).name}:{s.line} {s.code}" for s in finding.chain]
    assert got == chain
    assert finding.as_dict()["chain"][0]["line"] == finding.chain[0].line


# -- ignore comments, as the tokenizer sees them -------------------------------------


@pytest.mark.parametrize("separator", ["\u2028", "\x0c", "\x85", "\u2029", "\x1c"])
def test_an_ignore_comment_hidden_in_a_string_silences_nothing(
    tmp_path: Path, separator: str
) -> None:
    """A line break that str.splitlines() sees inside a string does not move a comment
    onto the finding's line: only the tokenizer's comments count."""
    source = (
        "from flask import Flask\napp = Flask(__name__)\n"
        f"NOTE = 'x{separator}# prodguard: ignore'\n"
        "app.run(debug=True)\n"
    )
    (tmp_path / "app.py").write_text(source, encoding="utf-8")
    assert [(f.rule, f.line) for f in scan_paths([tmp_path])] == [("PGS101", 4)]


def test_an_ignore_comment_on_the_line_still_works(tmp_path: Path) -> None:
    """The real comment on the finding's own line silences it."""
    (tmp_path / "app.py").write_text(
        BAD.replace("debug=True)", "debug=True)  # prodguard: ignore")
    )
    assert scan_paths([tmp_path]) == []


def test_an_ignore_text_in_a_string_on_the_line_silences_nothing(tmp_path: Path) -> None:
    """``# prodguard: ignore`` inside a string on the finding's line is no comment."""
    (tmp_path / "app.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n"
        "app.run(debug=True, host='# prodguard: ignore')\n"
    )
    assert [f.line for f in scan_paths([tmp_path])] == [3]


# -- hostile files -----------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_fifo_named_py_is_skipped_without_waiting(tmp_path: Path) -> None:
    """A FIFO would block a reader forever: it is reported, the rest is scanned."""
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "app.py").write_text(BAD)
    report = scan([tmp_path])
    assert [(Path(s.path).name, s.reason.split(" (")[0]) for s in report.skipped] == [
        ("pipe.py", "not a regular file")
    ]
    assert len(report.findings) == 1


@pytest.mark.timeout(30)
def test_a_symlink_to_dev_zero_is_skipped(tmp_path: Path) -> None:
    """A ``.py`` link to ``/dev/zero`` (an endless read) is not a regular file."""
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    report = scan([tmp_path])
    assert [Path(s.path).name for s in report.skipped] == ["zero.py"]


@pytest.mark.timeout(30)
def test_a_dangling_or_looping_symlink_is_reported(tmp_path: Path) -> None:
    """A link to nowhere, or to itself: reported, not a traceback."""
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    report = scan([tmp_path])
    assert sorted(Path(s.path).name for s in report.skipped) == ["gone.py", "loop.py"]
    assert all("cannot be opened" in s.reason for s in report.skipped)


@pytest.mark.timeout(30)
def test_symlinked_directories_are_not_followed(tmp_path: Path) -> None:
    """A directory link (maybe to /, maybe a loop) is not entered, but listed as not
    analysed: a gate passes over no package in silence."""
    (tmp_path / "app.py").write_text(BAD)
    (tmp_path / "root").symlink_to("/")
    (tmp_path / "self").symlink_to(tmp_path)
    report = scan([tmp_path])
    assert report.files == 1 and len(report.findings) == 1
    assert sorted(Path(s.path).name for s in report.skipped) == ["root", "self"]
    assert all("a link to a directory, not followed" in s.reason for s in report.skipped)


@pytest.mark.timeout(60)
def test_a_file_over_the_size_bound_is_reported_not_read(tmp_path: Path) -> None:
    """A generated file beyond the bound is listed, not read."""
    big = tmp_path / "generated.py"
    with big.open("w") as stream:
        stream.write("DEBUG = True\n" * (MAX_FILE_BYTES // 13 + 2))
    report = scan([tmp_path])
    assert [Path(s.path).name for s in report.skipped] == ["generated.py"]
    assert "larger than" in report.skipped[0].reason


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 5000 + ")" * 5000 + "\napp.run(debug=True)\n",
        "x = " + "-" * 200_000 + "1\napp.run(debug=True)\n",
        "x = " + "[" * 190 + "]" * 190 + "\n" + "app.run(debug=" + "not " * 3000 + "True)\n",
    ],
    ids=["parentheses", "unary chain", "deep value"],
)
def test_deep_nesting_costs_the_scan_one_file(tmp_path: Path, source: str) -> None:
    """Nesting deeper than the parser or the analysis follows: that file is reported
    (or analysed), every other file's findings are kept."""
    (tmp_path / "deep.py").write_text(source)
    (tmp_path / "app.py").write_text(BAD)
    report = scan([tmp_path])
    names = {Path(f.path).name for f in report.findings} | {
        Path(s.path).name for s in report.skipped
    }
    assert "app.py" in {Path(f.path).name for f in report.findings}
    assert "deep.py" in names  # either a finding or a reason: never nothing


@pytest.mark.timeout(60)
def test_many_findings_in_one_file_scan_in_linear_time(tmp_path: Path) -> None:
    """20 000 findings in one file: each one costs the same (no re-split of the source
    per finding, no list.remove per write)."""
    lines = ["from flask import Flask", "app = Flask(__name__)"]
    lines += [f"app.config['DEBUG'] = {i + 1}\nprint()" for i in range(20_000)]
    (tmp_path / "app.py").write_text("\n".join(lines) + "\n")
    report = scan([tmp_path])
    assert len(report.findings) == 20_000
    assert report.seconds < 30


# -- test code: what pytest and unittest collect -----------------------------------------


@pytest.mark.parametrize(
    ("name", "source", "lines"),
    [
        (
            "test_example_app.py",
            "from flask import Flask\napp = Flask(__name__)\napp.debug = True\n"
            "def test_home():\n    app.run(debug=True)\n"
            "if __name__ == '__main__':\n    app.run(debug=True)\n",
            [7],
        ),
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\n"
            "def testbed_server():\n    app.run(debug=True)\n",
            [4],
        ),
        (
            "test_app.py",
            "from flask import Flask\napp = Flask(__name__)\n"
            "def testbed_server():\n    app.run(debug=True)\n",
            [],
        ),
        (
            "conftest.py",
            "import pytest\nfrom flask import Flask\n@pytest.fixture\ndef app():\n"
            "    app = Flask('x')\n    app.config['DEBUG'] = True\n    return app\n",
            [],
        ),
        (
            "checks.py",
            "import unittest\nfrom flask import Flask\napp = Flask('x')\n"
            "class T(unittest.TestCase):\n    def test_x(self):\n        app.debug = True\n",
            [],
        ),
    ],
    ids=[
        "test file main guard",
        "test-like name in an app module",
        "same in a test file",
        "conftest fixture",
        "unittest case anywhere",
    ],
)
def test_test_code_is_what_pytest_and_unittest_collect(
    tmp_path: Path, name: str, source: str, lines: list[int]
) -> None:
    """Collected tests and fixtures are exempt; a test file's __main__ block and a
    function that merely starts with 'test' in an app module are not."""
    (tmp_path / name).write_text(source)
    assert [f.line for f in scan_paths([tmp_path])] == lines


# -- the line filter changes no verdict --------------------------------------------------


def _corpus_findings() -> set[tuple[str, int, str]]:
    found = set()
    for case in sorted(CORPUS.iterdir()):
        if case.suffix == ".py" or case.is_dir():
            found |= {(f.path, f.line, f.rule) for f in scan_paths([case])}
    return found


def test_skipping_statements_without_a_sink_word_changes_no_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The speed-up that skips statements holding no sink word finds exactly what a
    full visit finds, over the whole corpus."""
    fast = _corpus_findings()
    monkeypatch.setattr(scan_analysis.Analyser, "_hot_lines", lambda self: None)
    full = _corpus_findings()
    assert fast == full and len(fast) > 50


@pytest.mark.timeout(30)
def test_a_module_level_branch_on_the_name_it_assigns_does_not_loop(tmp_path: Path) -> None:
    """``if not MODE: MODE = ...`` at module level: the branch's test reads the very
    name being decided (a real mlflow script looped here until the recursion limit)."""
    (tmp_path / "app.py").write_text(
        "import os\nfrom flask import Flask\nMODE = os.environ.get('MODE')\n"
        "if not MODE:\n    MODE = 'debug'\nif MODE == 'debug':\n    MODE = 'on'\n"
        "app = Flask(__name__)\napp.run(debug=MODE == 'on')\n"
    )
    report = scan([tmp_path])
    assert report.skipped == []
    assert [f.line for f in report.findings] == [9]


@pytest.mark.parametrize("name", ["a\nb.py", "rlo\u202egnp.py", "\x1b[31mred\x1b[0m.py"])
def test_a_hostile_file_name_cannot_forge_a_line_of_text_output(
    tmp_path: Path, name: str
) -> None:
    """A newline, a bidi control or an escape in a file name is shown escaped: the
    text output keeps one line per finding, as many lines as a plain name gives."""
    (tmp_path / name).write_text(BAD + "# \u202e \x1b[2J\n")
    result = run_scan(".", cwd=tmp_path)
    assert result.returncode == 1
    assert not any(c in result.stdout for c in "\u202e\x1b")
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and ":3:1: PGS101 " in lines[0]
    assert lines[2].startswith("1 finding(s)")


# -- dotenv files: PGS108 ----------------------------------------------------------------

APP = (
    "from flask import Flask\napp = Flask(__name__)\n\n"
    "@app.get('/')\ndef index():\n    return 'ok'\n"
)


def _dotenv_findings(files: dict[str, str], root: Path) -> list[tuple[str, str, int]]:
    """Write ``files`` (and an app module) under ``root``, scan it: (file name, rule, line)."""
    (root / "app.py").write_text(APP)
    for name, text in files.items():
        (root / name).write_text(text)
    return [(Path(f.path).name, f.rule, f.line) for f in scan_paths([root])]


def test_a_flaskenv_turning_flask_debug_on_is_reported_on_its_line(tmp_path: Path) -> None:
    """``FLASK_DEBUG=1`` in a .flaskenv beside the app: PGS108 in the .flaskenv, on that
    line, in text output too (``flask run`` loads the file and starts the debugger)."""
    flaskenv = "# flask run settings\nFLASK_APP=app\nFLASK_DEBUG=1\nFLASK_RUN_PORT=5001\n"
    assert _dotenv_findings({".flaskenv": flaskenv}, tmp_path) == [(".flaskenv", "PGS108", 3)]
    result = run_scan(".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith(".flaskenv:3:1: PGS108 ")


def test_an_env_file_with_export_and_quotes_is_reported(tmp_path: Path) -> None:
    """``export FLASK_DEBUG="true"`` in .env: python-dotenv reads it as ``true``."""
    env = 'SECRET_KEY=dev\nDATABASE_URL=sqlite:///app.db\nexport FLASK_DEBUG="true"\n'
    assert _dotenv_findings({".env": env}, tmp_path) == [(".env", "PGS108", 3)]


@pytest.mark.parametrize(
    "files",
    [
        {".flaskenv": "FLASK_APP=app\nFLASK_DEBUG=0\n"},
        {".flaskenv": "FLASK_APP=app\nFLASK_DEBUG=1  # prodguard: ignore[PGS108]\n"},
        {".env.example": "SECRET_KEY=\nFLASK_DEBUG=1\n"},
        {".flaskenv": "FLASK_APP=app\nFLASK_DEBUG=1\n", ".env": "FLASK_DEBUG=0\n"},
    ],
    ids=["debug 0", "ignore comment", "env example", "env over flaskenv"],
)
def test_dotenv_files_that_leave_debug_off_give_nothing(
    tmp_path: Path, files: dict[str, str]
) -> None:
    """Off, silenced on its line, a file Flask never loads (``.env.example``), or a
    .flaskenv whose 1 a .env beside it turns off (Flask loads .env over .flaskenv)."""
    assert _dotenv_findings(files, tmp_path) == []
