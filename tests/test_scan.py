"""``flask prodguard scan``: the corpus verdicts, ignores, outputs and exit codes."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import pytest
from flask_prodguard.tools.scan import DOTENV_FILES
from flask_prodguard.tools.scan import ScanFinding
from flask_prodguard.tools.scan import scan_paths

CORPUS = Path(__file__).resolve().parent / "scan_corpus"
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-2.1.0-rtm.5.json"
EXPECT = re.compile(r"#\s*expect:\s*(clean|(PGS\d{3})\s+line\s+(\d+))")


def cases() -> list[Path]:
    """Every top-level file and sub-directory of the corpus, one case each."""
    return sorted(p for p in CORPUS.iterdir() if p.suffix == ".py" or p.is_dir())


def expectations(path: Path) -> set[tuple[str, int]]:
    """The (rule, line) pairs a corpus file says it should produce."""
    found: set[tuple[str, int]] = set()
    for line in path.read_text(encoding="utf-8").splitlines()[:10]:
        match = EXPECT.search(line)
        if match and match.group(2):
            found.add((match.group(2), int(match.group(3))))
    return found


def test_corpus_is_big_enough() -> None:
    """The corpus holds at least 60 files, each with a verdict."""
    files = [p for p in CORPUS.rglob("*.py")]
    assert len(files) >= 60
    for file in files:
        head = file.read_text(encoding="utf-8").splitlines()[:1]
        assert head and EXPECT.search(head[0]), file


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_corpus_case(case: Path) -> None:
    """No false negative and no false positive: findings equal the expectations."""
    findings = scan_paths([case])
    files = [case] if case.is_file() else sorted(case.rglob("*.py"))
    if case.is_dir():
        # .flaskenv and .env files carry their expectations as comments too.
        files += sorted(p for p in case.rglob(".*") if p.name in DOTENV_FILES)
    for file in files:
        got = {(f.rule, f.line) for f in findings if Path(f.path).resolve() == file.resolve()}
        assert got == expectations(file), f"{file.relative_to(CORPUS)}: got {sorted(got)}"


def scan_source(source: str, path: str = "app.py") -> list[ScanFinding]:
    """Scan ``source`` as the one file of a project (in a fresh directory)."""
    with tempfile.TemporaryDirectory() as directory:
        file = Path(directory, path)
        file.write_text(source, encoding="utf-8")
        findings = scan_paths([str(file)])
    return [dataclasses.replace(f, path=path) for f in findings]


def test_ignore_comments() -> None:
    """``# prodguard: ignore[RULE]`` silences that rule on that line only."""
    source = (
        "from flask import Flask\napp = Flask(__name__)\n"
        "app.run(debug=True)  # prodguard: ignore[PGS101]\n"
        "app.debug = True  # prodguard: ignore[PGS101]\n"
        "app.config['DEBUG'] = True  # prodguard: ignore\n"
    )
    assert [(f.rule, f.line) for f in scan_source(source)] == [("PGS102", 4)]


def test_findings_carry_location_rule_message_and_fix() -> None:
    """Each finding names the file, line, column, rule, what is wrong and the fix."""
    (finding,) = scan_source(
        "import flask\napp = flask.Flask('x')\nx = 1; app.run(debug=1)\n", "a.py"
    )
    assert (finding.path, finding.line, finding.column, finding.rule) == (
        "a.py",
        3,
        8,
        "PGS101",
    )
    assert finding.message and finding.fix


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask_prodguard.scan", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_exit_codes(tmp_path: Path) -> None:
    """0 clean, 1 findings, 2 a path that does not exist."""
    clean = tmp_path / "clean.py"
    clean.write_text("from flask import Flask\napp = Flask(__name__)\napp.run()\n")
    dirty = tmp_path / "dirty.py"
    dirty.write_text("from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n")
    assert _run(str(clean)).returncode == 0
    result = _run(str(dirty))
    assert result.returncode == 1 and "dirty.py:3:1: PGS101" in result.stdout
    assert _run(str(tmp_path / "missing.py")).returncode == 2


def test_json_and_sarif_outputs(tmp_path: Path) -> None:
    """--format json lists the findings; --format sarif validates against SARIF 2.1.0."""
    dirty = tmp_path / "dirty.py"
    dirty.write_text("from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n")
    data = json.loads(_run(str(dirty), "--format", "json").stdout)
    assert [(d["rule"], d["line"]) for d in data["findings"]] == [("PGS101", 3)]
    assert data["skipped"] == [] and data["files"] == 1 and data["lines"] == 3
    sarif = json.loads(_run(str(dirty), "--format", "sarif").stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert sarif["runs"][0]["results"][0]["ruleId"] == "PGS101"


def test_flask_command_scan(tmp_path: Path) -> None:
    """``flask prodguard scan`` gives the same verdict as the module."""
    dirty = tmp_path / "dirty.py"
    dirty.write_text("import os\nos.environ['FLASK_DEBUG'] = '1'\n")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "prodguard", "scan", str(dirty)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "PGS104" in result.stdout


def test_pre_commit_hook_definition() -> None:
    """The repository can be used as a pre-commit hook."""
    text = (Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text()
    assert "id: flask-prodguard-scan" in text
    assert "entry: python -m flask_prodguard.scan" in text


def test_recall_beyond_literal_linters() -> None:
    """ruff's S201 (like bandit B201) sees far fewer of the corpus's debug forms."""
    files = [*CORPUS.rglob("*.py"), *(p for p in CORPUS.rglob(".*") if p.name in DOTENV_FILES)]
    expected = sum(len(expectations(f)) for f in files)
    ours = sum(
        1
        for case in cases()
        for f in scan_paths([case])
        if (f.rule, f.line) in expectations(Path(f.path))
    )
    ruff = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            "S201",
            "--no-cache",
            "--output-format",
            "json",
            "--exit-zero",
            str(CORPUS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    theirs = len(json.loads(ruff.stdout or "[]"))
    assert ours == expected
    assert theirs < ours / 2, (theirs, ours)
