"""Throughput of a guarded app on real gunicorn, against the same bare Flask app.

Two app modules are written to a temporary directory: a bare Flask app whose
``GET /`` returns ``"hello"``, and the same app guarded by
``ProdGuard(app, env="production", strictness="enforce",
log_destination=<file>)`` with safe deployment settings. Both are served the
same way, by the gunicorn command line with identical options
(``--workers 2 --worker-class sync``, access log off, the default for the
gunicorn CLI, so the comparison is about the app and not about log writing),
each on its own port on 127.0.0.1, both running for the whole benchmark.
``wrk`` loads one server at a time in interleaved rounds (bare then guarded,
then guarded then bare, ...); the ratio guarded/bare of requests per second is
taken per round, and the median ratio over rounds is the figure to quote.

Run from the repository root::

    .venv/bin/python benchmarks/gunicorn_throughput.py
    .venv/bin/python benchmarks/gunicorn_throughput.py --rounds 6 --duration 5 --json out.json
    .venv/bin/python benchmarks/gunicorn_throughput.py --budget 0.97   # exit 1 if below

See ``benchmarks/README.md`` for the method and the figures measured.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from gunicorn_common import free_port
from gunicorn_common import gunicorn_command
from gunicorn_common import workers_of

#: The guarded app should keep at least this share of bare Flask's throughput.
BUDGET = 0.97

# Both apps have the same settings: a SECRET_KEY alone makes Flask open and
# save the session on every request (about 40 µs here), which is Flask's cost,
# not the guard's.
BARE_SOURCE = """\
import os

from flask import Flask

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ["BENCH_SECRET_KEY"],
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)


@app.get("/")
def index():
    return "hello"
"""

# The same module plus the guard, the only difference between the two apps.
GUARDED_SOURCE = (
    BARE_SOURCE
    + """

from flask_prodguard import ProdGuard

ProdGuard(
    app,
    env="production",
    strictness="enforce",
    log_destination=os.environ["BENCH_EVENTS_FILE"],
)
"""
)

READY_TIMEOUT = 20.0


def worker_cpu_seconds(master: int) -> float | None:
    """User + system CPU seconds used so far by the gunicorn workers of ``master``.

    Read from ``/proc`` (Linux); ``None`` elsewhere. Less sensitive than
    requests/s to other processes competing for the CPUs.
    """
    try:
        total = 0
        for pid in workers_of(master):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    except OSError:
        return None
    return total / os.sysconf("SC_CLK_TCK")


def get(port: int, path: str = "/") -> tuple[int, bytes]:
    """One ``GET`` over a raw socket: status and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@contextmanager
def gunicorn(
    directory: Path, module: str, workers: int, env: dict[str, str]
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Serve ``module:app`` until the block ends; yields the port and the process."""
    port = free_port()
    with (directory / f"{module}.stderr.log").open("wb") as stderr:
        proc = subprocess.Popen(
            # No --access-logfile: the gunicorn CLI writes no access log by default.
            gunicorn_command(f"{module}:app", port, workers),
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn for {module} exited with {proc.returncode}")
            try:
                if get(port) == (200, b"hello"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn for {module} not ready after {READY_TIMEOUT} s")
            time.sleep(0.1)
        yield port, proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


_REQUESTS_PER_SEC = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)


def run_wrk(
    wrk: str, port: int, threads: int, connections: int, duration: int
) -> dict[str, Any]:
    """One wrk run against ``port``: requests/s and what went wrong, if anything."""
    result = subprocess.run(
        [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    )
    out = result.stdout
    rate = _REQUESTS_PER_SEC.search(out)
    total = _TOTAL.search(out)
    if rate is None or total is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}{result.stderr}")
    non_2xx = _NON_2XX.search(out)
    errors = _SOCKET_ERRORS.search(out)
    return {
        "requests_per_sec": float(rate.group(1)),
        "requests": int(total.group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        # Read errors are normal here: sync workers close every connection.
        "socket_errors": dict(
            zip(
                ("connect", "read", "write", "timeout"),
                (int(g) for g in errors.groups()) if errors else (0, 0, 0, 0),
                strict=True,
            )
        ),
    }


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def run(
    rounds: int,
    duration: int,
    warmup: int,
    workers: int,
    threads: int,
    connections: int,
    wrk: str,
) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pg-gunicorn-bench-") as tmp:
        directory = Path(tmp)
        (directory / "bare_app.py").write_text(BARE_SOURCE)
        (directory / "guarded_app.py").write_text(GUARDED_SOURCE)
        events_file = directory / "events.jsonl"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("FLASK_", "PRODGUARD_", "GUNICORN_", "WERKZEUG_"))
        }
        env.update(
            PRODGUARD_ENV="production",
            BENCH_SECRET_KEY=secrets.token_hex(32),
            BENCH_EVENTS_FILE=str(events_file),
        )
        with (
            gunicorn(directory, "bare_app", workers, env) as (bare_port, bare_proc),
            gunicorn(directory, "guarded_app", workers, env) as (guarded_port, guarded_proc),
        ):
            ports = {"bare": bare_port, "guarded": guarded_port}
            masters = {"bare": bare_proc.pid, "guarded": guarded_proc.pid}
            # Both answer "hello"; the guarded one runs production/enforce.
            for label, port in ports.items():
                status, body = get(port)
                if (status, body) != (200, b"hello"):
                    raise SystemExit(f"{label}: got {status} {body!r}, want 200 b'hello'")
            if warmup > 0:
                for port in ports.values():
                    run_wrk(wrk, port, threads, connections, warmup)
            postures = [
                e for e in read_events(events_file) if e["event"] == "prodguard.startup.posture"
            ]
            settings = sorted({(e["env"], e["strictness"]) for e in postures})
            if settings != [("production", "enforce")]:
                raise SystemExit(
                    f"the guarded app runs with {settings}, not production/enforce"
                )

            samples: dict[str, list[dict[str, Any]]] = {"bare": [], "guarded": []}
            order = ["bare", "guarded"]
            for i in range(rounds):
                for label in order if i % 2 == 0 else order[::-1]:
                    cpu_before = worker_cpu_seconds(masters[label])
                    result = run_wrk(wrk, ports[label], threads, connections, duration)
                    cpu_after = worker_cpu_seconds(masters[label])
                    result["worker_cpu_us_per_request"] = (
                        None
                        if cpu_before is None or cpu_after is None or not result["requests"]
                        else (cpu_after - cpu_before) / result["requests"] * 1e6
                    )
                    samples[label].append(result)
                    print(
                        f"round {i + 1}/{rounds} {label:<7}"
                        f" {result['requests_per_sec']:>9.1f} requests/s",
                        file=sys.stderr,
                    )
            events = read_events(events_file)
    bad = {label: [s for s in runs if s["non_2xx"]] for label, runs in samples.items() if runs}
    if any(bad.values()):
        raise SystemExit(f"non-2xx responses during the benchmark: {bad}")

    bare_rps = [s["requests_per_sec"] for s in samples["bare"]]
    guarded_rps = [s["requests_per_sec"] for s in samples["guarded"]]
    ratios = [g / b for g, b in zip(guarded_rps, bare_rps, strict=True)]
    bare_cpu = [s["worker_cpu_us_per_request"] for s in samples["bare"]]
    guarded_cpu = [s["worker_cpu_us_per_request"] for s in samples["guarded"]]
    cpu: dict[str, Any] | None = None
    if None not in bare_cpu and None not in guarded_cpu:
        cpu_ratios = [g / b for g, b in zip(guarded_cpu, bare_cpu, strict=True)]
        cpu = {
            "bare_us_per_request": bare_cpu,
            "guarded_us_per_request": guarded_cpu,
            "ratios": cpu_ratios,
            "median_bare_us_per_request": statistics.median(bare_cpu),
            "median_guarded_us_per_request": statistics.median(guarded_cpu),
            "median_ratio": statistics.median(cpu_ratios),
        }
    counts: dict[str, int] = {}
    for event in events:
        counts[event["event"]] = counts.get(event["event"], 0) + 1
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_1min_before": load_before,
        "loadavg_1min_after": os.getloadavg()[0],
        "flask": version("flask"),
        "werkzeug": version("werkzeug"),
        "gunicorn": version("gunicorn"),
        "flask_prodguard": version("flask-prodguard"),
        "wrk": wrk,
        "gunicorn_options": {"workers": workers, "worker_class": "sync", "accesslog": None},
        "wrk_options": {"threads": threads, "connections": connections, "duration": duration},
        "rounds": rounds,
        "warmup_seconds": warmup,
        "bare_requests_per_sec": bare_rps,
        "guarded_requests_per_sec": guarded_rps,
        "ratios": ratios,
        "median_bare_requests_per_sec": statistics.median(bare_rps),
        "median_guarded_requests_per_sec": statistics.median(guarded_rps),
        "median_ratio": statistics.median(ratios),
        "min_ratio": min(ratios),
        "max_ratio": max(ratios),
        # Worker CPU time per request (Linux): guarded/bare, lower is better.
        "worker_cpu": cpu,
        "guard_events_written": counts,
        "samples": samples,
    }


def print_report(report: dict[str, Any]) -> None:
    wrk_options = report["wrk_options"]
    print(
        f"Flask-ProdGuard on gunicorn {report['gunicorn']}: {report['rounds']} interleaved"
        f" rounds of wrk -t{wrk_options['threads']} -c{wrk_options['connections']}"
        f" -d{wrk_options['duration']}s, --workers {report['gunicorn_options']['workers']}"
        f" --worker-class sync, no access log; Python {report['python']},"
        f" {report['cpu_count']} CPUs, load {report['loadavg_1min_before']:.2f} before /"
        f" {report['loadavg_1min_after']:.2f} after"
    )
    header = f"{'round':>5} {'bare req/s':>11} {'guarded req/s':>14} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for i, (b, g, r) in enumerate(
        zip(
            report["bare_requests_per_sec"],
            report["guarded_requests_per_sec"],
            report["ratios"],
            strict=True,
        ),
        start=1,
    ):
        print(f"{i:>5} {b:>11.1f} {g:>14.1f} {r:>7.4f}")
    print("-" * len(header))
    print(
        f"{'median':>5} {report['median_bare_requests_per_sec']:>11.1f}"
        f" {report['median_guarded_requests_per_sec']:>14.1f} {report['median_ratio']:>7.4f}"
    )
    print(
        f"ratio guarded/bare per round: median {report['median_ratio']:.4f},"
        f" min {report['min_ratio']:.4f}, max {report['max_ratio']:.4f};"
        f" design budget >= {BUDGET}"
    )
    cpu = report["worker_cpu"]
    if cpu is not None:
        print(
            f"worker CPU per request (median): bare {cpu['median_bare_us_per_request']:.1f} µs,"
            f" guarded {cpu['median_guarded_us_per_request']:.1f} µs; median ratio"
            f" guarded/bare {cpu['median_ratio']:.4f} (per round: "
            + ", ".join(f"{r:.3f}" for r in cpu["ratios"])
            + ")"
        )
    print(f"guard events written: {report['guard_events_written']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds (default 6)")
    parser.add_argument(
        "--duration", type=int, default=5, help="whole seconds per wrk run (default 5)"
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed wrk seconds per app (default 2)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--connections", type=int, default=8, help="wrk connections (default 8)"
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument(
        "--budget",
        type=float,
        metavar="RATIO",
        help=f"exit 1 if the median ratio guarded/bare is below RATIO (e.g. {BUDGET})",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration <= 0 or args.warmup < 0 or args.workers < 1:
        parser.error(
            "--rounds, --duration and --workers must be positive, --warmup not negative"
        )
    if not Path(args.wrk).exists():
        parser.error(f"wrk not found at {args.wrk}; install it or pass --wrk PATH")

    report = run(
        args.rounds,
        args.duration,
        args.warmup,
        args.workers,
        args.threads,
        args.connections,
        args.wrk,
    )
    print_report(report)
    status = 0
    if args.budget is not None:
        within = report["median_ratio"] >= args.budget
        report["budget"] = {"limit": args.budget, "ok": within}
        verdict = "within" if within else "BELOW"
        print(
            f"budget: median ratio {report['median_ratio']:.4f} {verdict} budget {args.budget}"
        )
        status = 0 if within else 1
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
