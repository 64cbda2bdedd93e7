"""Per-request cost of Flask-ProdGuard on the happy path.

Compares a guarded app (``ProdGuard(app, env="production",
strictness="enforce")``) with the same bare Flask app, calling each WSGI app
in-process with a prebuilt environ. Rounds are interleaved (bare, guarded,
then guarded, bare, ...) and the ratio guarded/bare is taken per round; the
median ratio over rounds is the figure to quote.

Run from the repository root::

    .venv/bin/python benchmarks/happy_path.py
    .venv/bin/python benchmarks/happy_path.py --rounds 30 --calls 2000 --json out.json
    .venv/bin/python benchmarks/happy_path.py --budget 1.03   # exit 1 if over budget

See ``benchmarks/README.md`` for the method and the figures measured.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import logging
import os
import platform
import statistics
import sys
from importlib.metadata import version
from typing import Any

from flask import Flask
from flask_prodguard import ProdGuard
from werkzeug.test import EnvironBuilder
from wsgi_timing import call_once
from wsgi_timing import time_calls

#: The variant whose median ratio ``--budget`` checks.
HAPPY = "happy"

#: name -> (URL as the client sends it, expected response body)
VARIANTS: dict[str, tuple[str, bytes]] = {
    HAPPY: ("/", b"hello"),
    "query": ("/?page=2&sort=name", b"hello"),
    "percent_path": ("/items/caf%C3%A9", "café".encode()),
    # The server decodes %C3%A9, so PATH_INFO above holds no "%". A literal
    # "%" (sent as %25) stays in PATH_INFO and takes the guard's slower
    # path check (full console-path normalisation). Not covered by --budget.
    "literal_percent": ("/items/100%25", b"100%"),
}


def make_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return "hello"

    @app.get("/items/<name>")
    def item(name: str) -> str:
        return name

    return app


def silence_guard_logging() -> None:
    # Any handler that would emit makes the guard's own stderr handler stand aside.
    logging.getLogger("flask_prodguard.security").addHandler(logging.NullHandler())


def run(rounds: int, calls: int, warmup: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    silence_guard_logging()
    bare = make_app()
    guarded = make_app()
    ProdGuard(guarded, env="production", strictness="enforce")
    state = guarded.extensions["prodguard"]
    settings = {"env": state.context["env"], "strictness": state.context["strictness"]}
    if settings != {"env": "production", "strictness": "enforce"}:
        # PRODGUARD_ENV / PRODGUARD_STRICTNESS in the environment win over arguments.
        print(f"warning: guard runs with {settings}, not production/enforce", file=sys.stderr)

    environs = {
        name: EnvironBuilder(url).get_environ() for name, (url, _body) in VARIANTS.items()
    }

    # Warm up: the guard's first request runs its one-off late checks; both apps
    # build their URL adapters and caches; every variant answers 200 as expected.
    for name, (_url, expected) in VARIANTS.items():
        for label, app in (("bare", bare), ("guarded", guarded)):
            status, body = call_once(app, environs[name])
            if not status.startswith("200") or body != expected:
                raise SystemExit(
                    f"{label} {name}: got {status} {body!r}, want 200 {expected!r}"
                )
        for app in (bare, guarded):
            time_calls(app, environs[name], warmup)
    if state.first_request_pending:
        raise SystemExit("the guard's first-request checks did not run during warm-up")

    samples: dict[str, dict[str, list[int]]] = {
        name: {"bare": [], "guarded": []} for name in VARIANTS
    }
    for i in range(rounds):
        order = (("bare", bare), ("guarded", guarded))
        if i % 2:
            order = order[::-1]
        for name in VARIANTS:
            for label, app in order:
                samples[name][label].append(time_calls(app, environs[name], calls))
        gc.collect()

    results: dict[str, Any] = {}
    for name, (url, _body) in VARIANTS.items():
        bare_ns = samples[name]["bare"]
        guarded_ns = samples[name]["guarded"]
        ratios = [g / b for g, b in zip(guarded_ns, bare_ns, strict=True)]
        extra_us = [(g - b) / calls / 1000 for g, b in zip(guarded_ns, bare_ns, strict=True)]
        bare_us = statistics.median(bare_ns) / calls / 1000
        guarded_us = statistics.median(guarded_ns) / calls / 1000
        results[name] = {
            "url": url,
            "median_ratio": statistics.median(ratios),
            "min_ratio": min(ratios),
            "max_ratio": max(ratios),
            "bare_us_per_request": bare_us,
            "guarded_us_per_request": guarded_us,
            "median_overhead_us_per_request": statistics.median(extra_us),
            "ratios": ratios,
        }
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        # Other processes competing for the CPUs widen the spread of ratios.
        "loadavg_1min_before": load_before,
        "loadavg_1min_after": os.getloadavg()[0],
        "flask": version("flask"),
        "werkzeug": version("werkzeug"),
        "flask_prodguard": version("flask-prodguard"),
        "guard_settings": settings,
        "rounds": rounds,
        "calls_per_round": calls,
        "variants": results,
    }


def print_table(report: dict[str, Any]) -> None:
    print(
        f"Flask-ProdGuard happy-path overhead: {report['rounds']} rounds x"
        f" {report['calls_per_round']} calls, Python {report['python']},"
        f" {report['cpu_count']} CPUs, load {report['loadavg_1min_before']:.2f}"
        f" before / {report['loadavg_1min_after']:.2f} after"
    )
    header = (
        f"{'variant':<15} {'url':<20} {'bare µs':>8} {'guarded µs':>10} {'+µs':>6}"
        f" {'median':>7} {'min':>6} {'max':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, r in report["variants"].items():
        print(
            f"{name:<15} {r['url']:<20} {r['bare_us_per_request']:>8.2f}"
            f" {r['guarded_us_per_request']:>10.2f} {r['median_overhead_us_per_request']:>6.2f}"
            f" {r['median_ratio']:>7.4f} {r['min_ratio']:>6.3f} {r['max_ratio']:>6.3f}"
        )
    print(
        "median/min/max: ratio guarded/bare per round; µs: median per-request time;"
        " +µs: median per-round difference"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds (default 30)")
    parser.add_argument(
        "--calls", type=int, default=2000, help="requests per app per round (default 2000)"
    )
    parser.add_argument(
        "--warmup", type=int, default=500, help="untimed requests per app and variant"
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument(
        "--budget",
        type=float,
        metavar="RATIO",
        help="exit 1 if the median happy-path ratio exceeds RATIO (e.g. 1.03)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.calls < 1 or args.warmup < 0:
        parser.error("--rounds and --calls must be positive, --warmup not negative")

    report = run(args.rounds, args.calls, args.warmup)
    print_table(report)
    status = 0
    if args.budget is not None:
        ratio = report["variants"][HAPPY]["median_ratio"]
        within = ratio <= args.budget
        report["budget"] = {"limit": args.budget, "happy_median_ratio": ratio, "ok": within}
        verdict = "within" if within else "OVER"
        print(f"budget: happy-path median ratio {ratio:.4f} {verdict} budget {args.budget}")
        status = 0 if within else 1
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
