"""Recall and false positives of ``flask prodguard scan`` vs bandit and ruff.

Runs the three tools on the scan corpus (``tests/scan_corpus``: one form per
file, the expected findings in each file's first lines) and reports, per
tool, how many expected findings it reports on the right line (recall) and
how many lines it reports that the corpus says are clean (false positives).
ruff's S201 and bandit's B201 are the rules for ``app.run(debug=True)``;
bandit and ruff run without the project's configuration.

Also times the scan of a large real tree (the installed Flask and Werkzeug
packages and this project) and reports files per second.

Usage: ``python benchmarks/scan_comparison.py [--json PATH]`` (bandit from
``pip install bandit``; a tool that is missing is reported as such).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "scan_corpus"
EXPECT = re.compile(r"#\s*expect:\s*(PGS\d{3})\s+line\s+(\d+)")


def expected() -> set[tuple[str, int]]:
    """(file, line) pairs the corpus expects a tool to report."""
    found = set()
    files = [*CORPUS.rglob("*.py"), *CORPUS.rglob(".flaskenv"), *CORPUS.rglob(".env")]
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines()[:10]:
            match = EXPECT.search(line)
            if match:
                found.add((str(file.resolve()), int(match.group(2))))
    return found


def ours() -> set[tuple[str, int]]:
    from flask_prodguard.tools.scan import scan_paths

    found = set()
    for case in sorted(CORPUS.iterdir()):
        if case.suffix == ".py" or case.is_dir():
            found |= {(str(Path(f.path).resolve()), f.line) for f in scan_paths([case])}
    return found


def ruff() -> set[tuple[str, int]] | None:
    result = subprocess.run(
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
        check=False,
    )
    if result.returncode != 0 and not result.stdout:
        return None
    return {
        (str(Path(item["filename"]).resolve()), item["location"]["row"])
        for item in json.loads(result.stdout or "[]")
    }


def bandit() -> set[tuple[str, int]] | None:
    if shutil.which("bandit") is None and not Path(sys.executable).with_name("bandit").exists():
        return None
    executable = shutil.which("bandit") or str(Path(sys.executable).with_name("bandit"))
    result = subprocess.run(
        [executable, "-q", "-r", "-t", "B201", "-f", "json", str(CORPUS)],
        capture_output=True,
        text=True,
        check=False,
    )
    data = json.loads(result.stdout or "{}")
    return {
        (str(Path(item["filename"]).resolve()), item["line_number"])
        for item in data.get("results", [])
    }


def large_tree() -> dict[str, float]:
    import flask
    import werkzeug
    from flask_prodguard.tools.scan import scan_paths

    trees = [
        Path(flask.__file__).parent,
        Path(werkzeug.__file__).parent,
        ROOT / "flask_prodguard",
    ]
    files = sum(len(list(t.rglob("*.py"))) for t in trees)
    start = time.perf_counter()
    findings = scan_paths(trees)
    seconds = time.perf_counter() - start
    return {
        "files": files,
        "seconds": seconds,
        "files_per_second": files / seconds,
        "findings": len(findings),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    want = expected()
    report: dict[str, object] = {"expected": len(want)}
    print(f"Scan corpus: {len(want)} expected findings")
    print(f"{'tool':28}{'found':>7}{'recall':>9}{'false +':>9}")
    for name, result in (
        ("flask prodguard scan", ours()),
        ("ruff S201 (--isolated)", ruff()),
        ("bandit B201", bandit()),
    ):
        if result is None:
            print(f"{name:28}  not installed")
            report[name] = None
            continue
        hits = len(result & want)
        false = len(result - want)
        recall = hits / len(want)
        print(f"{name:28}{hits:>7}{recall:>9.1%}{false:>9}")
        report[name] = {"found": hits, "recall": recall, "false_positives": false}
    tree = large_tree()
    report["large_tree"] = tree
    print(
        f"\nLarge tree (installed Flask + Werkzeug + flask_prodguard): {tree['files']:.0f}"
        f" files in {tree['seconds']:.2f} s = {tree['files_per_second']:.0f} files/s,"
        f" {tree['findings']:.0f} finding(s)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
