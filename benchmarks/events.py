"""Throughput and cost of Flask-ProdGuard's security events.

Three measurements, each writing through the guard's default handler to a
file (``PRODGUARD_LOG_DESTINATION``) in a temporary directory, and each
checked by counting the lines written:

1. ``emit``: events per second of ``prodguard.debugger.probe`` emitted
   directly with ``app.extensions["prodguard"].emitter.emit(...)``.
2. ``error``: a request to ``/boom`` raising ``RuntimeError``, on a bare Flask
   app (Flask logs ``Exception on /boom [GET]`` and a text traceback to
   ``wsgi.errors``) and on a guarded app (the structured
   ``prodguard.error.unhandled`` event replaces that record). In-process WSGI
   calls, interleaved rounds, median ratio guarded/bare per round, like
   ``happy_path.py``. The design budget is a ratio of at most 0.8.
3. ``flood``: ``--flood`` debugger probes (``/?__debugger__=yes``) from one
   client through the guarded app, with the default flood control. The lines
   written must stay bounded, and after ``flood.flush()`` one
   ``prodguard.events.suppressed`` line must count the rest.

Run from the repository root::

    .venv/bin/python benchmarks/events.py
    .venv/bin/python benchmarks/events.py --rounds 30 --calls 2000 --json out.json
    .venv/bin/python benchmarks/events.py --quick     # small numbers, for tests

Exit status 1 when a correctness check fails (lines missing, flood unbounded);
the error-path budget is reported, not enforced. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.events.catalogue import DEBUGGER_PROBE
from flask_prodguard.events.catalogue import ERROR_UNHANDLED
from flask_prodguard.events.catalogue import EVENTS_SUPPRESSED
from flask_prodguard.events.emitter import end_request
from flask_prodguard.keys import REQUEST_ID_TOKENS_KEY
from werkzeug.test import EnvironBuilder
from wsgi_timing import WsgiApp
from wsgi_timing import call_once
from wsgi_timing import time_calls

#: The error path may cost at most this fraction of Flask's default error path.
ERROR_BUDGET = 0.8

#: Flood control is raised this high where every event must be written.
NO_FLOOD_LIMIT = 10**9

#: Distinct client addresses the ``emit`` measurement cycles through.
CLIENTS = 1000

USER_AGENT = "Mozilla/5.0 (compatible; bench-scanner/1.0)"

#: Results of the correctness checks: (name, ok, detail).
Checks = list[tuple[str, bool, str]]


def make_app(name: str) -> Flask:
    """An app named ``name``: app.logger and the guard's routing key on the name."""
    app = Flask(name, root_path=os.path.dirname(os.path.abspath(__file__)))

    @app.get("/")
    def index() -> str:
        return "hello"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    return app


def guard(app: Flask, destination: str, **overrides: Any) -> dict[str, Any]:
    """Guard ``app`` (production, enforce) writing to ``destination``; its settings."""
    ProdGuard(
        app,
        env="production",
        strictness="enforce",
        log_destination=destination,
        # The apps have no SECRET_KEY and Flask's default cookie and body
        # settings on purpose (a SECRET_KEY makes Flask open a session on every
        # request, for both apps). The start-up findings about that are not
        # what this benchmark counts, so they are silenced: the file then
        # holds only the start-up posture line before the measured events.
        silenced_checks=["PG301", "PG305", "PG307", "PG308"],
        **overrides,
    )
    settings = app.extensions["prodguard"].settings
    found = {"env": str(settings.env), "strictness": str(settings.strictness)}
    if found != {"env": "production", "strictness": "enforce"}:
        # PRODGUARD_ENV / PRODGUARD_STRICTNESS in the environment win over arguments.
        print(f"warning: guard runs with {found}, not production/enforce", file=sys.stderr)
    return {
        **found,
        "rate_limit_burst": settings.rate_limit_burst,
        "rate_limit_window": settings.rate_limit_window,
    }


def read_events(path: str) -> tuple[Counter[str], list[dict[str, Any]], int]:
    """Events per name in a JSON-lines file, the suppressed summaries, bad lines."""
    counts: Counter[str] = Counter()
    summaries: list[dict[str, Any]] = []
    bad = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                event = json.loads(line)
                name = event["event"]
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            counts[name] += 1
            if name == EVENTS_SUPPRESSED.name:
                summaries.append(event)
    return counts, summaries, bad


def rss_kib() -> int:
    """Resident set size now, in KiB (VmRSS; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def max_rss_kib() -> int:
    """Peak resident set size so far, in KiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _median_us(samples: list[int], calls: int) -> float:
    return statistics.median(samples) / calls / 1000


# -- 1. events per second ---------------------------------------------------------


def time_emits(emit: Callable[..., None], environs: list[dict[str, Any]], calls: int) -> int:
    """Nanoseconds for ``calls`` probe events, each with a fresh copy of a client's environ.

    The environ is copied because the emitter stores the request id in it, and
    the request id's context-variable binding is undone afterwards, as the
    guard's middleware does at the end of each request.
    """
    n = len(environs)
    spec = DEBUGGER_PROBE
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        for i in range(calls):
            environ = environs[i % n].copy()
            emit(spec, environ, probe="console", action="blocked")
            if REQUEST_ID_TOKENS_KEY in environ:
                end_request(environ)
        return time.perf_counter_ns() - t0
    finally:
        if gc_was_enabled:
            gc.enable()


def _no_emit(spec: Any, environ: Any = None, **fields: Any) -> None:
    return None


def bench_emit(
    tmp: str, rounds: int, calls: int, warmup: int, checks: Checks
) -> dict[str, Any]:
    path = os.path.join(tmp, "emit.jsonl")
    app = make_app("bench_emit")
    # Clients vary, but flood control is raised too: a new address per event would
    # pass flood control's 10_000 tracked pairs per window, after which every new
    # client shares one overflow budget of `burst` events, and 1000 clients x 20
    # would stop the count at 20_000 events per minute.
    settings = guard(app, path, rate_limit_burst=NO_FLOOD_LIMIT)
    emitter = app.extensions["prodguard"].emitter
    environs = [
        EnvironBuilder(
            "/console",
            headers={"User-Agent": USER_AGENT},
            environ_base={"REMOTE_ADDR": f"10.0.{i // 250}.{i % 250 + 1}"},
        ).get_environ()
        for i in range(CLIENTS)
    ]
    time_emits(emitter.emit, environs, warmup)
    samples: list[int] = []
    loop: list[int] = []
    for _ in range(rounds):
        samples.append(time_emits(emitter.emit, environs, calls))
        loop.append(time_emits(_no_emit, environs, calls))
        gc.collect()

    emitted = warmup + rounds * calls
    counts, _summaries, bad = read_events(path)
    written = counts[DEBUGGER_PROBE.name]
    checks.append(
        (
            "emit: one line per event",
            written == emitted and bad == 0,
            f"{written} probe lines for {emitted} events, {bad} unreadable lines",
        )
    )
    per_round_us = [s / calls / 1000 for s in samples]
    us = statistics.median(per_round_us)
    return {
        "guard_settings": settings,
        "clients": CLIENTS,
        "events_emitted": emitted,
        "lines_written": written,
        "us_per_event": us,
        "events_per_second": 1e6 / us,
        "min_us_per_event": min(per_round_us),
        "max_us_per_event": max(per_round_us),
        "loop_overhead_us": _median_us(loop, calls),
        "bytes_per_line": os.path.getsize(path) / max(sum(counts.values()), 1),
    }


# -- 2. the error path --------------------------------------------------------------


def bench_error(
    tmp: str, rounds: int, calls: int, warmup: int, checks: Checks
) -> dict[str, Any]:
    destination = os.path.join(tmp, "error_events.jsonl")
    bare_errors_path = os.path.join(tmp, "bare_wsgi_errors.log")
    guarded_errors_path = os.path.join(tmp, "guarded_wsgi_errors.log")
    bare = make_app("bench_error_bare")
    guarded = make_app("bench_error_guarded")
    # Every error must be written: flood control would keep only 20 per client and
    # minute, and this measures writing the event, not dropping it.
    settings = guard(guarded, destination, rate_limit_burst=NO_FLOOD_LIMIT)

    with (
        open(bare_errors_path, "a", encoding="utf-8") as bare_errors,
        open(guarded_errors_path, "a", encoding="utf-8") as guarded_errors,
    ):
        # Flask's default handler writes app.logger records to wsgi.errors, which a
        # server points at its error log: here, a file per app.
        environs: dict[str, dict[str, Any]] = {}
        for label, stream in (("bare", bare_errors), ("guarded", guarded_errors)):
            environ = EnvironBuilder(
                "/boom",
                headers={"User-Agent": USER_AGENT},
                environ_base={"REMOTE_ADDR": "198.51.100.10"},
            ).get_environ()
            environ["wsgi.errors"] = stream
            environs[label] = environ
        apps: dict[str, WsgiApp] = {"bare": bare, "guarded": guarded}
        statuses = {label: call_once(apps[label], environs[label])[0] for label in apps}
        for label, status in statuses.items():
            checks.append(
                (f"error: {label} /boom answers 500", status.startswith("500"), status)
            )
        for label in apps:
            time_calls(apps[label], environs[label], warmup)

        samples: dict[str, list[int]] = {"bare": [], "guarded": []}
        for i in range(rounds):
            order = ["bare", "guarded"] if i % 2 == 0 else ["guarded", "bare"]
            for label in order:
                samples[label].append(time_calls(apps[label], environs[label], calls))
            gc.collect()

    requests = 1 + warmup + rounds * calls
    bare_records = _count_prefix(bare_errors_path, "[")
    bare_exceptions = _count_substring(bare_errors_path, "Exception on /boom [GET]")
    guarded_records = _count_substring(guarded_errors_path, "Exception on /boom")
    counts, _summaries, bad = read_events(destination)
    events = counts[ERROR_UNHANDLED.name]
    checks.append(
        (
            "error: bare Flask logs every exception",
            bare_exceptions == requests,
            f"{bare_exceptions} 'Exception on /boom' records for {requests} requests",
        )
    )
    checks.append(
        (
            "error: guarded app writes one event per exception",
            events == requests and bad == 0,
            f"{events} {ERROR_UNHANDLED.name} lines for {requests} requests, {bad} unreadable",
        )
    )
    checks.append(
        (
            "error: guarded app drops Flask's record",
            guarded_records == 0,
            f"{guarded_records} 'Exception on' records in the guarded app's wsgi.errors",
        )
    )

    ratios = [g / b for g, b in zip(samples["guarded"], samples["bare"], strict=True)]
    diff_us = [
        (g - b) / calls / 1000 for g, b in zip(samples["guarded"], samples["bare"], strict=True)
    ]
    median_ratio = statistics.median(ratios)
    return {
        "guard_settings": settings,
        "requests_per_app": requests,
        "bare_us_per_request": _median_us(samples["bare"], calls),
        "guarded_us_per_request": _median_us(samples["guarded"], calls),
        "median_difference_us_per_request": statistics.median(diff_us),
        "median_ratio": median_ratio,
        "min_ratio": min(ratios),
        "max_ratio": max(ratios),
        "ratios": ratios,
        "budget": ERROR_BUDGET,
        "within_budget": median_ratio <= ERROR_BUDGET,
        "bare_bytes_per_error": os.path.getsize(bare_errors_path) / max(bare_records, 1),
        "guarded_bytes_per_error": os.path.getsize(destination) / max(sum(counts.values()), 1),
    }


def _count_substring(path: str, text: str) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(text in line for line in f)


def _count_prefix(path: str, prefix: str) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(line.startswith(prefix) for line in f)


# -- 3. a flood of probes from one client ---------------------------------------------


def bench_flood(tmp: str, n: int, checks: Checks) -> dict[str, Any]:
    path = os.path.join(tmp, "flood.jsonl")
    app = make_app("bench_flood")
    settings = guard(app, path)  # default flood control
    state = app.extensions["prodguard"]
    burst = settings["rate_limit_burst"]
    window = settings["rate_limit_window"]
    query = "__debugger__=yes&cmd=resource&f=style.css"
    probe, missing = (
        EnvironBuilder(
            url,
            headers={"User-Agent": USER_AGENT},
            environ_base={"REMOTE_ADDR": "203.0.113.7"},
        ).get_environ()
        for url in (f"/?{query}", f"/missing?{query}")
    )

    # Warm up with an ordinary request: the first-request checks run, nothing is counted.
    status, _body = call_once(app, EnvironBuilder("/").get_environ())
    checks.append(("flood: warm-up / answers 200", status.startswith("200"), status))
    status, _body = call_once(app, probe)  # probe number 1: blocked with the app's 404
    checks.append(("flood: a probe is answered 404", status.startswith("404"), status))
    gc.collect()
    rss_before = rss_kib()
    max_rss_before = max_rss_kib()
    elapsed_ns = time_calls(app, probe, n - 1, gc_off=False)
    rss_after = rss_kib()
    max_rss_after = max_rss_kib()
    tracked = state.emitter.flood.tracked_keys
    before_flush, summaries_before, bad_before = read_events(path)
    state.emitter.flood.flush()
    counts, summaries, bad = read_events(path)

    probes = counts[DEBUGGER_PROBE.name]
    suppressed = sum(s.get("suppressed_total", 0) for s in summaries)
    elapsed_s = elapsed_ns / 1e9
    windows = max(1, math.ceil(elapsed_s / window)) if window > 0 else n
    bound = windows * (burst + 1) + 1  # probes and one summary per window, plus posture
    total_lines = sum(counts.values()) + bad
    checks.append(
        (
            "flood: lines bounded",
            total_lines <= bound,
            f"{total_lines} lines for {n} probes (bound {bound}: {windows} window(s)"
            f" x (burst {burst} + 1 summary) + 1 posture line)",
        )
    )
    checks.append(
        (
            "flood: every probe written or counted",
            probes + suppressed == n and bad == 0,
            f"{probes} probe lines + {suppressed} suppressed = {probes + suppressed},"
            f" want {n}; {bad} unreadable",
        )
    )
    if windows == 1:
        last = summaries[-1] if summaries else {}
        checks.append(
            (
                "flood: flush() reports n - burst suppressed",
                len(summaries) == 1
                and not summaries_before
                and last.get("suppressed_total") == n - burst,
                f"{len(summaries)} summary line(s); suppressed_total"
                f" {last.get('suppressed_total')}, want {n - burst}",
            )
        )

    # For scale: the bare app's own 404 for an unknown URL, which is what the guard
    # answers a probe with (the bare app would answer this probe with its "/" page).
    bare = make_app("bench_flood_bare")
    status, _body = call_once(bare, missing)
    checks.append(
        ("flood: bare app answers an unknown URL 404", status.startswith("404"), status)
    )
    gc.collect()
    bare_ns = time_calls(bare, missing, n - 1, gc_off=False)

    return {
        "guard_settings": settings,
        "probes": n,
        "probe_lines": probes,
        "suppressed_lines": len(summaries),
        "suppressed_total": suppressed,
        "lines_before_flush": sum(before_flush.values()) + bad_before,
        "lines_after_flush": total_lines,
        "line_bound": bound,
        "last_summary": summaries[-1] if summaries else None,
        "tracked_keys_before_flush": tracked,
        "seconds": elapsed_s,
        "requests_per_second": (n - 1) / elapsed_s,
        "us_per_request": elapsed_ns / (n - 1) / 1000,
        "bare_404_us_per_request": bare_ns / (n - 1) / 1000,
        "rss_kib_before": rss_before,
        "rss_kib_after": rss_after,
        "max_rss_kib_before": max_rss_before,
        "max_rss_kib_after": max_rss_after,
        "file_bytes": os.path.getsize(path),
    }


# -- driver ---------------------------------------------------------------------------


def run(rounds: int, calls: int, warmup: int, flood: int) -> tuple[dict[str, Any], Checks]:
    load_before = os.getloadavg()[0]
    checks: Checks = []
    # The guard keeps its destination files open for the life of the process.
    with tempfile.TemporaryDirectory(
        prefix="prodguard-bench-", ignore_cleanup_errors=True
    ) as tmp:
        emit = bench_emit(tmp, rounds, calls, warmup, checks)
        error = bench_error(tmp, rounds, calls, warmup, checks)
        flooded = bench_flood(tmp, flood, checks)
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_1min_before": load_before,
        "loadavg_1min_after": os.getloadavg()[0],
        "flask": version("flask"),
        "werkzeug": version("werkzeug"),
        "structlog": version("structlog"),
        "flask_prodguard": version("flask-prodguard"),
        "rounds": rounds,
        "calls_per_round": calls,
        "warmup": warmup,
        "emit": emit,
        "error": error,
        "flood": flooded,
        "checks": [{"name": n, "ok": ok, "detail": d} for n, ok, d in checks],
    }
    return report, checks


def print_report(report: dict[str, Any]) -> None:
    print(
        f"Flask-ProdGuard events: {report['rounds']} rounds x {report['calls_per_round']}"
        f" calls, Python {report['python']}, {report['cpu_count']} CPUs,"
        f" load {report['loadavg_1min_before']:.2f} before /"
        f" {report['loadavg_1min_after']:.2f} after"
    )
    e = report["emit"]
    print(
        f"\n1. emit {DEBUGGER_PROBE.name} to a file ({e['clients']} clients):"
        f" {e['events_per_second']:,.0f} events/s, {e['us_per_event']:.2f} µs/event"
        f" (rounds {e['min_us_per_event']:.2f}-{e['max_us_per_event']:.2f};"
        f" loop alone {e['loop_overhead_us']:.2f}), {e['lines_written']} lines for"
        f" {e['events_emitted']} events, {e['bytes_per_line']:.0f} bytes/line"
    )
    r = report["error"]
    verdict = "within" if r["within_budget"] else "OVER"
    print(
        f"\n2. error path, GET /boom raising RuntimeError ({r['requests_per_app']} requests"
        " per app)"
    )
    print(
        f"   bare Flask (Exception on ... + text traceback to wsgi.errors):"
        f" {r['bare_us_per_request']:.2f} µs/request, {r['bare_bytes_per_error']:.0f} bytes"
    )
    print(
        f"   guarded ({ERROR_UNHANDLED.name} to a file):"
        f" {r['guarded_us_per_request']:.2f} µs/request,"
        f" {r['guarded_bytes_per_error']:.0f} bytes"
    )
    print(
        f"   ratio guarded/bare: median {r['median_ratio']:.3f}"
        f" (min {r['min_ratio']:.3f}, max {r['max_ratio']:.3f}),"
        f" +{r['median_difference_us_per_request']:.2f} µs/request;"
        f" {verdict} budget {r['budget']}"
    )
    f = report["flood"]
    settings = f["guard_settings"]
    print(
        f"\n3. flood: {f['probes']} probes from one client (burst"
        f" {settings['rate_limit_burst']} per {settings['rate_limit_window']:g} s)"
    )
    print(
        f"   {f['seconds']:.2f} s, {f['requests_per_second']:,.0f} requests/s,"
        f" {f['us_per_request']:.2f} µs/request (bare Flask 404 for an unknown URL:"
        f" {f['bare_404_us_per_request']:.2f} µs)"
    )
    print(
        f"   lines: {f['lines_before_flush']} before flush(), {f['lines_after_flush']}"
        f" after ({f['probe_lines']} probes, {f['suppressed_lines']} summary with"
        f" suppressed_total {f['suppressed_total']}); {f['file_bytes']} bytes"
    )
    print(
        f"   RSS {f['rss_kib_before'] / 1024:.1f} MiB before,"
        f" {f['rss_kib_after'] / 1024:.1f} MiB after;"
        f" peak {f['max_rss_kib_before'] / 1024:.1f} ->"
        f" {f['max_rss_kib_after'] / 1024:.1f} MiB;"
        f" tracked keys {f['tracked_keys_before_flush']}"
    )
    print("\nchecks:")
    for check in report["checks"]:
        print(f"   {'ok  ' if check['ok'] else 'FAIL'} {check['name']}: {check['detail']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, help="timed rounds (default 30; --quick 3)")
    parser.add_argument(
        "--calls", type=int, help="events or requests per round (default 2000; --quick 200)"
    )
    parser.add_argument(
        "--warmup", type=int, help="untimed events or requests first (default 500; --quick 50)"
    )
    parser.add_argument(
        "--flood", type=int, help="probes in the flood (default 100000; --quick 2000)"
    )
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument(
        "--quick", action="store_true", help="small numbers, for a smoke test (seconds)"
    )
    args = parser.parse_args(argv)
    defaults = (3, 200, 50, 2000) if args.quick else (30, 2000, 500, 100_000)
    rounds, calls, warmup, flood = (
        default if value is None else value
        for value, default in zip(
            (args.rounds, args.calls, args.warmup, args.flood), defaults, strict=True
        )
    )
    if rounds < 1 or calls < 1 or warmup < 0:
        parser.error("--rounds and --calls must be positive, --warmup not negative")
    if flood < 2:
        parser.error("--flood must be at least 2")

    report, checks = run(rounds, calls, warmup, flood)
    report["quick"] = args.quick
    print_report(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2, default=str)
            f.write("\n")
    failed = [name for name, ok, _detail in checks if not ok]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
