"""Instructions per request, guarded vs bare Flask, counted by callgrind.

Wall-clock ratios on a small shared machine move by a few percent from run to
run; instruction counts do not. This script runs the same in-process WSGI
calls as ``happy_path.py`` under ``valgrind --tool=callgrind`` and reports
instructions per request for a bare and a guarded app, for the happy path
(``GET /``) and the error path (``GET /boom`` raising; Flask's default text
traceback to ``wsgi.errors`` against the guard's generic page and event).

Each figure is ``(Ir(N requests) - Ir(0 requests)) / N`` so interpreter
start-up and imports cancel out.

Usage: ``python benchmarks/instructions.py [--requests 2000] [--json PATH]``
(needs ``valgrind`` on the PATH).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile

CHILD = "--child"


def child(mode: str, path: str, requests: int) -> None:
    """Run ``requests`` calls of one app (inside callgrind)."""
    from flask import Flask
    from flask_prodguard import ProdGuard
    from werkzeug.test import EnvironBuilder

    app = Flask(f"bench_{mode}")

    @app.get("/")
    def index() -> str:
        return "hello"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("benchmark failure")

    if mode == "guarded":
        destination = os.path.join(tempfile.mkdtemp(), "events.log")
        ProdGuard(
            app,
            env="production",
            strictness="enforce",
            log_destination=destination,
            rate_limit_burst=10**9,
        )
    else:
        logging.getLogger("flask_prodguard.security").addHandler(logging.NullHandler())
    errors = io.StringIO()
    environ = EnvironBuilder(path).get_environ()
    environ["wsgi.errors"] = errors

    def start_response(status: str, headers: object, exc_info: object = None) -> None:
        return None

    def call() -> None:
        body = app(dict(environ), start_response)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
        errors.seek(0)
        errors.truncate()

    for _ in range(50):  # warm up, first-request checks included
        call()
    for _ in range(requests):
        call()


def count(mode: str, path: str, requests: int) -> int:
    """Instructions executed by one child run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                CHILD,
                mode,
                path,
                str(requests),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        match = re.search(r"Collected : (\d+)", result.stderr)
        if match is None:
            raise RuntimeError(f"no instruction count in callgrind output:\n{result.stderr}")
        return int(match.group(1))


def measure(path: str, requests: int) -> dict[str, float]:
    """Instructions per request for both apps, and their ratio."""
    per_request = {}
    for mode in ("bare", "guarded"):
        per_request[mode] = (count(mode, path, requests) - count(mode, path, 0)) / requests
    return {
        "bare": per_request["bare"],
        "guarded": per_request["guarded"],
        "ratio": per_request["guarded"] / per_request["bare"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    report = {
        "requests": args.requests,
        "happy": measure("/", args.requests),
        "error": measure("/boom", args.requests),
    }
    print(f"Instructions per request (callgrind, {args.requests} requests per run)")
    print(f"{'path':8}{'bare':>12}{'guarded':>12}{'ratio':>9}")
    for name in ("happy", "error"):
        row = report[name]
        print(f"{name:8}{row['bare']:12,.0f}{row['guarded']:12,.0f}{row['ratio']:9.4f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(report, stream, indent=2)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == CHILD:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(main())
