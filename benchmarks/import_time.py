"""What ``import flask_prodguard`` costs once flask and structlog are loaded.

Each run is a fresh interpreter: ``python -X importtime -c "import flask,
structlog, flask_prodguard"``. The figure is the cumulative time Python reports
for the ``flask_prodguard`` line, which counts the guard's own modules and
whatever they import that flask and structlog did not already load. The
median over runs is the figure to quote; the budget is 30 ms.

Run from the repository root::

    .venv/bin/python benchmarks/import_time.py
    .venv/bin/python benchmarks/import_time.py --runs 31 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

BUDGET_MS = 30.0


def one_run() -> dict[str, float]:
    """One interpreter: microseconds per module (cumulative), from -X importtime."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRODGUARD_", "FLASK_"))}
    # Bytecode caches must be written and used, or every run would time the
    # compiler (a PYTHONDONTWRITEBYTECODE=1 shell leaves stale caches stale).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import flask, structlog, flask_prodguard"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    times = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit():
            times[name.strip()] = float(cumulative)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    one_run()  # write the bytecode caches first
    guard, base = [], []
    for _ in range(args.runs):
        times = one_run()
        guard.append(times["flask_prodguard"] / 1000)
        base.append((times["flask"] + times["structlog"]) / 1000)
    result = {
        "runs": args.runs,
        "flask_prodguard_ms": {
            "median": round(statistics.median(guard), 2),
            "min": round(min(guard), 2),
            "max": round(max(guard), 2),
        },
        "flask_plus_structlog_ms_median": round(statistics.median(base), 2),
        "budget_ms": BUDGET_MS,
    }
    spread = result["flask_prodguard_ms"]
    print(
        f"import flask_prodguard after flask + structlog: median {spread['median']} ms"
        f" (min {spread['min']}, max {spread['max']},"
        f" {args.runs} runs); flask + structlog themselves: median"
        f" {result['flask_plus_structlog_ms_median']} ms; budget {BUDGET_MS} ms"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
