"""Lines per second of ``flask prodguard scan`` on a large real tree, beside bandit and ruff.

The tree is the source of eleven Flask applications and extensions from PyPI
(about 900k lines of Python): their sdists, pinned below, are downloaded once
into ``benchmarks/.cache/realcode`` and unpacked. Each tool runs as its users
run it over the whole tree, three times; the best time counts:

- ``python -m flask_prodguard.scan TREE --format json --allow-skipped`` (the
  tree shared among one process per CPU), and the same with ``--jobs 1``
  (one process)
- ``ruff check --isolated --select S201 --no-cache TREE`` (its rule for
  ``app.run(debug=True)``)
- ``bandit -q -r -t B201 -f json TREE`` (the same rule), when installed.

Usage: ``python benchmarks/scan_speed.py [--tree DIR] [--runs N] [--json PATH]``.
``--tree`` scans a directory of your own instead of the download.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache" / "realcode"
#: (PyPI name, version): the tree of the real-world review in tests/scan_corpus/README.md.
PROJECTS = [
    ("apache-superset", "6.1.0"),
    ("mlflow", "3.18.0"),
    ("dash", "4.4.1"),
    ("flask-appbuilder", "5.3.0"),
    ("flask-admin", "2.2.1"),
    ("flasgger", "0.9.7.1"),
    ("flask-security-too", "5.9.2"),
    ("connexion", "3.3.0"),
    ("flask-restx", "1.3.2"),
    ("changedetection.io", "0.60.10"),
    ("flask", "3.1.3"),
]


def download(destination: Path) -> Path:
    """The pinned sdists, unpacked under ``destination`` (once)."""
    source = destination / "src"
    for name, version in PROJECTS:
        target = source / f"{name}-{version}"
        if target.exists():
            continue
        # The project's JSON lists every release's files (a mirror may give
        # their addresses relative to it).
        index = f"https://pypi.org/pypi/{name}/json"
        with urllib.request.urlopen(index) as reply:
            release = json.load(reply)["releases"][version]
        (sdist,) = [u for u in release if u["packagetype"] == "sdist"]
        archive = destination / sdist["filename"]
        destination.mkdir(parents=True, exist_ok=True)
        if not archive.exists():
            urllib.request.urlretrieve(urllib.parse.urljoin(index, sdist["url"]), archive)
        unpacked = destination / "unpacked"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        (top,) = [p for p in unpacked.iterdir() if p.is_dir()]
        target.parent.mkdir(parents=True, exist_ok=True)
        top.rename(target)
        shutil.rmtree(unpacked)
    return source


def python_lines(tree: Path) -> tuple[int, int]:
    """(files, lines) of the ``.py`` files under ``tree``."""
    files = lines = 0
    for path in tree.rglob("*.py"):
        if path.is_file():
            files += 1
            lines += path.read_bytes().count(b"\n")
    return files, lines


def best_time(command: list[str], runs: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    """The fastest of ``runs`` runs of ``command`` and the last run's result."""
    best = float("inf")
    result: subprocess.CompletedProcess[str] | None = None
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, help="a directory to scan instead")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    tree = args.tree or download(CACHE)
    files, lines = python_lines(tree)
    print(f"Tree: {tree} ({files} files, {lines} lines of Python)")
    print(f"{'tool':34}{'seconds':>9}{'lines/s':>11}  findings")
    bin_dir = Path(sys.executable).parent
    scan_command = [
        sys.executable,
        "-m",
        "flask_prodguard.scan",
        str(tree),
        "--format",
        "json",
        "--allow-skipped",
    ]
    tools = {
        # As users run it: one process per CPU for a tree this large.
        "flask prodguard scan": scan_command,
        # One process: the speed per CPU, and what a one-CPU runner gets.
        "flask prodguard scan --jobs 1": [*scan_command, "--jobs", "1"],
        "ruff S201 (--isolated)": [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            "S201",
            "--no-cache",
            "--exit-zero",
            "--output-format",
            "json",
            str(tree),
        ],
        "bandit B201": [
            str(bin_dir / "bandit"),
            "-q",
            "-r",
            "-t",
            "B201",
            "-f",
            "json",
            str(tree),
        ],
    }
    report: dict[str, object] = {"files": files, "lines": lines}
    for name, command in tools.items():
        if not Path(command[0]).exists():
            print(f"{name:34}  not installed")
            report[name] = None
            continue
        seconds, result = best_time(command, args.runs)
        try:
            data = json.loads(result.stdout or "null")
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict) and "findings" in data:
            found = len(data["findings"])
        elif isinstance(data, dict):
            found = len(data.get("results", []))
        elif isinstance(data, list):
            found = len(data)
        else:
            found = -1
        print(f"{name:34}{seconds:>9.2f}{lines / seconds:>11,.0f}  {found}")
        report[name] = {
            "seconds": seconds,
            "lines_per_second": lines / seconds,
            "findings": found,
        }
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
