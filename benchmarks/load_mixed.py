"""Mixed load on real gunicorn: nothing leaks, nothing is lost, memory stays flat.

A guarded Flask app runs on gunicorn (sync workers) on 127.0.0.1. Several client
processes, each bound to its own loopback address so that flood control sees
them as different clients, send a fixed mix of requests over raw sockets:
ordinary requests to normal routes, debugger probes, and requests that end in
an error (an exception in a view, malformed JSON, a missing form key, an
unknown URL, a wrong method). Every response is read to the end and checked.

The run is split in two: a warm-up share of the requests, then the rest. The
resident memory of each gunicorn worker is read from ``/proc`` after the
warm-up and at the end. Then gunicorn is stopped with SIGTERM (workers exit
normally, so flood control reports its last window) and the event file is read.

Invariants, each a line of the report and a reason for exit status 1:

- every request got a complete response (full ``Content-Length`` body or a
  terminated chunked body) with the expected status, so zero unexpected 5xx on
  normal routes, and the only 500s are from the view that raises;
- no response body holds a traceback, an exception class name, a file path,
  a debugger artefact or the secret planted in the exception message;
- no worker was restarted, and no worker's resident memory grew by more than
  ``--rss-budget`` MiB (default 2) between the end of the warm-up and the end;
- nothing is lost: for each event, the lines written plus the counts in the
  ``prodguard.events.suppressed`` summaries equal the requests that should
  produce it;
- the log is bounded by flood control: per worker, window and client, an event
  writes at most ``burst × burst_factor`` lines, and the whole file stays
  within that bound (plus summaries and start-up lines);
- no line of the event file or of gunicorn's log holds a raw control
  character, and neither holds the planted secret.

Run from the repository root::

    .venv/bin/python benchmarks/load_mixed.py                       # 100 000 requests
    .venv/bin/python benchmarks/load_mixed.py --requests 10000 --window 2
    .venv/bin/python benchmarks/load_mixed.py --json results.json

See ``benchmarks/README.md`` for the method and the figures measured.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import multiprocessing
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from flask_prodguard.events import catalogue
from gunicorn_common import free_port
from gunicorn_common import gunicorn_command
from gunicorn_common import workers_of

#: Resident memory a worker may gain after the warm-up, in MiB.
RSS_BUDGET_MIB = 2.0

READY_TIMEOUT = 30.0

APP_SOURCE = """\
import os

from flask import Flask, request

from flask_prodguard import ProdGuard

SECRET = os.environ["LOAD_PLANTED_SECRET"]

app = Flask("loadapp")
app.config.update(
    SECRET_KEY=os.environ["LOAD_SECRET_KEY"],
    SESSION_COOKIE_SECURE=True,
    SESSION_COOKIE_SAMESITE="Lax",
    MAX_CONTENT_LENGTH=1024 * 1024,
)


@app.get("/")
def index():
    return "hello"


@app.get("/items/<name>")
def item(name):
    return {"item": name, "page": request.args.get("page", "1")}


@app.post("/echo")
def echo():
    return {"echo": request.get_json()}


@app.post("/form")
def form():
    return request.form["needed"]


@app.get("/stream")
def stream():
    def chunks():
        for number in range(3):
            yield f"chunk {number}\\n"

    return app.response_class(chunks(), mimetype="text/plain")


@app.get("/boom")
def boom():
    raise RuntimeError(f"cannot reach db with password {SECRET} in /srv/app/models.py")


ProdGuard(
    app,
    env="production",
    strictness="enforce",
    log_destination=os.environ["LOAD_EVENTS_FILE"],
    rate_limit_window=float(os.environ["LOAD_WINDOW"]),
)
"""


@dataclass(frozen=True)
class Kind:
    """One kind of request in the mix."""

    name: str
    group: str  # normal, probe or error
    raw: bytes  # the request, without Host and Connection headers
    status: int
    event: str | None  # the event it should produce


def _req(line: str, headers: str = "", body: bytes = b"") -> bytes:
    return (
        f"{line}\r\nHost: load.example\r\nConnection: close\r\n{headers}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1") + body


#: The mix; each client process cycles through it from its own starting point.
#: 13 normal, 3 probes, 4 errors in 20 requests: 65 %, 15 %, 20 %.
MIX: tuple[Kind, ...] = (
    Kind("index", "normal", _req("GET / HTTP/1.1"), 200, None),
    Kind("item", "normal", _req("GET /items/widget?page=2 HTTP/1.1"), 200, None),
    Kind(
        "echo",
        "normal",
        _req("POST /echo HTTP/1.1", "Content-Type: application/json\r\n", b'{"a": [1, 2]}'),
        200,
        None,
    ),
    Kind("stream", "normal", _req("GET /stream HTTP/1.1"), 200, None),
    Kind("head", "normal", _req("HEAD /items/x HTTP/1.1"), 200, None),
    # gunicorn itself rejects a control character in a header (400, one
    # warning line naming the header, not its value); the app never sees it.
    Kind(
        "esc_user_agent",
        "error",
        _req("GET / HTTP/1.1", "User-Agent: evil\x1b[31mred\x1b[0m\r\n"),
        400,
        None,
    ),
    Kind("index_query", "normal", _req("GET /?q=%0d%0aFAKE%20LINE HTTP/1.1"), 200, None),
    Kind("console", "probe", _req("GET /console HTTP/1.1"), 404, catalogue.DEBUGGER_PROBE.name),
    Kind("index", "normal", _req("GET / HTTP/1.1"), 200, None),
    Kind("item", "normal", _req("GET /items/widget?page=2 HTTP/1.1"), 200, None),
    Kind("boom", "error", _req("GET /boom HTTP/1.1"), 500, catalogue.ERROR_UNHANDLED.name),
    Kind(
        "debugger_resource",
        "probe",
        _req("GET /?__debugger__=yes&cmd=resource&f=debugger.js HTTP/1.1"),
        404,
        catalogue.DEBUGGER_PROBE.name,
    ),
    Kind("index", "normal", _req("GET / HTTP/1.1"), 200, None),
    Kind(
        "bad_json",
        "error",
        _req("POST /echo HTTP/1.1", "Content-Type: application/json\r\n", b'{"a": \xff'),
        400,
        catalogue.ERROR_HTTP.name,
    ),
    Kind("item", "normal", _req("GET /items/widget?page=2 HTTP/1.1"), 200, None),
    Kind(
        "printpin",
        "probe",
        _req(
            "GET /?__debugger__=yes&cmd=printpin&s=0000 HTTP/1.1", "Cookie: __wzd1=forged\r\n"
        ),
        404,
        catalogue.DEBUGGER_PROBE.name,
    ),
    Kind("index", "normal", _req("GET / HTTP/1.1"), 200, None),
    Kind(
        "missing_form_key",
        "error",
        _req(
            "POST /form HTTP/1.1", "Content-Type: application/x-www-form-urlencoded\r\n", b"x=1"
        ),
        400,
        catalogue.ERROR_HTTP.name,
    ),
    Kind("stream", "normal", _req("GET /stream HTTP/1.1"), 200, None),
    Kind("index", "normal", _req("GET / HTTP/1.1"), 200, None),
)

#: Found in no response body: tracebacks, class names, paths, debugger pages.
LEAK_MARKERS = (
    b"Traceback",
    b"RuntimeError",
    b"BadRequestKeyError",
    b"/srv/app",
    b"site-packages",
    b".py",
    b"__debugger__",
    b"EVALEX",
    b"CONSOLE_MODE",
    b"debugger.js",
    b"Werkzeug Debugger",
)

_RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")


def send(port: int, raw: bytes, source: str = "127.0.0.1", timeout: float = 15.0) -> bytes:
    """Send one request over a new connection and read until the server closes it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def complete_body(response: bytes, head_request: bool) -> tuple[int, bytes] | None:
    """Status and body when ``response`` is complete, else ``None``."""
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1."):
        return None
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if head_request:
        return status, b""
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        return (status, body) if body.endswith(b"0\r\n\r\n") else None
    length = headers.get(b"content-length")
    if length is None or int(length) != len(body):
        return None
    return status, body


def client(args: tuple[int, str, int, int, str]) -> dict[str, Any]:
    """One client process: send ``count`` requests of the mix, from ``offset``."""
    port, source, offset, count, secret = args
    statuses: Counter[str] = Counter()
    sent: Counter[str] = Counter()
    problems: list[str] = []
    markers = (*LEAK_MARKERS, secret.encode())
    for number in range(count):
        kind = MIX[(offset + number) % len(MIX)]
        sent[kind.name] += 1
        try:
            response = send(port, kind.raw, source)
        except OSError as error:
            statuses[f"{kind.name}:connection error"] += 1
            if len(problems) < 20:
                problems.append(f"{kind.name}: {error!r}")
            continue
        result = complete_body(response, kind.raw.startswith(b"HEAD"))
        if result is None:
            statuses[f"{kind.name}:incomplete"] += 1
            if len(problems) < 20:
                problems.append(f"{kind.name}: incomplete response {response[:200]!r}")
            continue
        status, body = result
        statuses[f"{kind.name}:{status}"] += 1
        leaked = [marker.decode() for marker in markers if marker in body]
        if leaked and len(problems) < 20:
            problems.append(f"{kind.name}: body contains {leaked}")
        if leaked:
            statuses[f"{kind.name}:leak"] += 1
    return {"statuses": statuses, "sent": sent, "problems": problems}


def run_clients(
    port: int, requests: int, clients: int, first: int, secret: str
) -> dict[str, Any]:
    """Spread ``requests`` over ``clients`` processes, each from its own address."""
    share, extra = divmod(requests, clients)
    jobs = [
        (port, f"127.0.0.{10 + index}", first + 5 * index, share + (index < extra), secret)
        for index in range(clients)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        results = pool.map(client, jobs)
    elapsed = time.perf_counter() - started
    statuses: Counter[str] = Counter()
    sent: Counter[str] = Counter()
    problems: list[str] = []
    for result in results:
        statuses.update(result["statuses"])
        sent.update(result["sent"])
        problems.extend(result["problems"])
    return {"seconds": elapsed, "statuses": statuses, "sent": sent, "problems": problems}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def wait_ready(proc: subprocess.Popen[bytes], port: int, workers: int) -> int:
    """Wait until every worker is up; return how many ``GET /`` got their 200."""
    deadline = time.monotonic() + READY_TIMEOUT
    answered = 0
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            ready = complete_body(send(port, MIX[0].raw, timeout=2), False) == (200, b"hello")
        except OSError:
            ready = False
        answered += ready
        if ready and len(workers_of(proc.pid)) == workers:
            return answered
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn not ready after {READY_TIMEOUT} s")
        time.sleep(0.1)


def expected_by_kind(sent: Counter[str]) -> dict[str, Kind]:
    return {kind.name: kind for kind in MIX if kind.name in sent}


def check_responses(load: dict[str, Any], kinds: dict[str, Kind]) -> list[str]:
    """Each request must have its expected status, complete and without a leak."""
    failures = []
    for key, count in sorted(load["statuses"].items()):
        name, _, outcome = key.partition(":")
        kind = kinds[name]
        if outcome != str(kind.status):
            where = "normal route" if kind.group == "normal" else kind.group
            failures.append(f"{count} × {name} ({where}) answered {outcome}, not {kind.status}")
    return failures


def event_accounting(
    events: list[dict[str, Any]], sent: Counter[str], kinds: dict[str, Kind]
) -> dict[str, dict[str, int]]:
    """Per event: requests that should produce it, lines written, lines suppressed."""
    expected: Counter[str] = Counter()
    for name, count in sent.items():
        if kinds[name].event:
            expected[kinds[name].event] += count
    written = Counter(event["event"] for event in events)
    suppressed: Counter[str] = Counter()
    for event in events:
        if event["event"] == catalogue.EVENTS_SUPPRESSED.name:
            suppressed.update(event["by_event"])
    return {
        name: {
            "expected": expected[name],
            "written": written[name],
            "suppressed": suppressed[name],
        }
        for name in sorted(set(expected) | set(suppressed))
    }


def run(
    requests: int,
    warmup_share: float,
    workers: int,
    clients: int,
    window: float,
    rss_budget_mib: float,
) -> dict[str, Any]:
    secret = "planted-" + secrets.token_hex(12)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pg-load-") as tmp:
        directory = Path(tmp)
        (directory / "loadapp.py").write_text(APP_SOURCE)
        events_file = directory / "events.jsonl"
        error_log = directory / "gunicorn.log"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("FLASK_", "PRODGUARD_", "GUNICORN_", "WERKZEUG_"))
        }
        env.update(
            LOAD_PLANTED_SECRET=secret,
            LOAD_SECRET_KEY=secrets.token_hex(32),
            LOAD_EVENTS_FILE=str(events_file),
            LOAD_WINDOW=str(window),
        )
        port = free_port()
        with (directory / "stderr.log").open("wb") as stderr:
            proc = subprocess.Popen(
                gunicorn_command(
                    "loadapp:app",
                    port,
                    workers,
                    "--error-logfile",
                    str(error_log),
                    "--graceful-timeout",
                    "20",
                ),
                cwd=directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        try:
            ready_requests = wait_ready(proc, port, workers)
            pids_start = workers_of(proc.pid)
            rss_start = {pid: rss_kib(pid) for pid in pids_start}
            warmup = max(int(requests * warmup_share), clients)
            first = run_clients(port, warmup, clients, 0, secret)
            pids_warm = workers_of(proc.pid)
            rss_warm = {pid: rss_kib(pid) for pid in pids_warm}
            main = run_clients(port, requests - warmup, clients, warmup, secret)
            pids_end = workers_of(proc.pid)
            rss_end = {pid: rss_kib(pid) for pid in pids_end}
        finally:
            started_stop = time.monotonic()
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            stop_seconds = time.monotonic() - started_stop
        event_bytes = events_file.read_bytes() if events_file.exists() else b""
        server_bytes = error_log.read_bytes() if error_log.exists() else b""
        server_bytes += (directory / "stderr.log").read_bytes()

    sent = first["sent"] + main["sent"]
    sent["index"] += ready_requests
    statuses = first["statuses"] + main["statuses"]
    statuses["index:200"] += ready_requests
    kinds = expected_by_kind(sent)
    load = {
        "statuses": statuses,
        "problems": first["problems"] + main["problems"],
    }
    failures = check_responses(load, kinds)
    failures.extend(load["problems"])

    event_lines = event_bytes.splitlines()
    events = [json.loads(line) for line in event_lines]
    accounting = event_accounting(events, sent, kinds)
    for name, counts in accounting.items():
        if counts["written"] + counts["suppressed"] != counts["expected"]:
            failures.append(
                f"{name}: {counts['written']} written + {counts['suppressed']} suppressed"
                f" != {counts['expected']} expected"
            )

    # Flood control bounds each (event, client) pair per worker and window.
    elapsed = first["seconds"] + main["seconds"]
    windows = math.ceil(elapsed / window) + 1
    bound = 0
    for name in accounting:
        spec = catalogue.CATALOGUE[name]
        if spec.rate_limited:
            # clients + 1: wait_ready's requests come from 127.0.0.1.
            bound += workers * windows * (clients + 1) * spec.burst_factor * _burst()
    # Plus one summary per worker and window, and start-up lines per worker.
    bound += workers * windows + workers * 4
    if len(event_lines) > bound:
        failures.append(
            f"{len(event_lines)} event lines, above the flood-control bound {bound}"
        )

    raw_control = [line for line in event_lines if _RAW_CONTROL.search(line)]
    raw_control += [line for line in server_bytes.splitlines() if _RAW_CONTROL.search(line)]
    if raw_control:
        failures.append(f"{len(raw_control)} log lines hold a raw control character")
    if b"Traceback" in server_bytes or secret.encode() in server_bytes:
        failures.append("gunicorn's log holds a traceback or the planted secret")
    if secret.encode() in event_bytes:
        failures.append("the event file holds the planted secret (the exception message)")

    if pids_start != pids_warm or pids_warm != pids_end:
        failures.append(f"workers changed: {pids_start} -> {pids_warm} -> {pids_end}")
    growth = {pid: (rss_end[pid] - rss_warm[pid]) / 1024 for pid in pids_end if pid in rss_warm}
    worst = max(growth.values(), default=0.0)
    if worst >= rss_budget_mib:
        failures.append(
            f"a worker's RSS grew {worst:.2f} MiB after warm-up (budget {rss_budget_mib})"
        )

    by_group: Counter[str] = Counter()
    for name, count in sent.items():
        by_group[kinds[name].group] += count
    fivexx_normal = sum(
        count
        for key, count in statuses.items()
        if kinds[key.partition(":")[0]].group == "normal"
        and key.partition(":")[2].startswith("5")
    )
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "versions": {name: version(name) for name in ("flask", "werkzeug", "gunicorn")},
        },
        "settings": {
            "requests": requests,
            "warmup": warmup,
            "workers": workers,
            "clients": clients,
            "window_seconds": window,
            "burst": _burst(),
            "rss_budget_mib": rss_budget_mib,
        },
        "requests_by_group": dict(by_group),
        "seconds": round(elapsed, 2),
        "requests_per_second": round((requests + ready_requests) / elapsed, 1),
        "statuses": dict(sorted(statuses.items())),
        "unexpected_5xx_on_normal_routes": fivexx_normal,
        "rss_kib": {
            "start": rss_start,
            "after_warmup": rss_warm,
            "end": rss_end,
        },
        "rss_growth_after_warmup_mib": {pid: round(value, 3) for pid, value in growth.items()},
        "events": accounting,
        "event_lines": len(event_lines),
        "event_bytes": len(event_bytes),
        "event_line_bound": bound,
        "server_log_lines": len(server_bytes.splitlines()),
        "stop_seconds": round(stop_seconds, 2),
        "failures": failures,
    }


def _burst() -> int:
    from flask_prodguard import config

    return int(config.RATE_LIMIT_BURST.default)


def report(result: dict[str, Any]) -> str:
    settings = result["settings"]
    lines = [
        f"{settings['requests']} requests ({settings['warmup']} warm-up) from"
        f" {settings['clients']} clients to gunicorn with {settings['workers']} sync workers,"
        f" flood-control window {settings['window_seconds']} s",
        f"mix: {result['requests_by_group']}",
        f"time: {result['seconds']} s, {result['requests_per_second']} requests/s",
        f"unexpected 5xx on normal routes: {result['unexpected_5xx_on_normal_routes']}",
        "statuses: " + ", ".join(f"{k} {v}" for k, v in result["statuses"].items()),
    ]
    for pid in result["rss_kib"]["end"]:
        rss = result["rss_kib"]
        lines.append(
            f"worker {pid}: RSS {rss['start'].get(pid, 0) / 1024:.1f} MiB at start,"
            f" {rss['after_warmup'].get(pid, 0) / 1024:.1f} after warm-up,"
            f" {rss['end'][pid] / 1024:.1f} at end"
            f" (growth {result['rss_growth_after_warmup_mib'].get(pid, 0):+.3f} MiB)"
        )
    for name, counts in result["events"].items():
        lines.append(
            f"{name}: {counts['expected']} expected, {counts['written']} written,"
            f" {counts['suppressed']} suppressed"
        )
    lines.append(
        f"event file: {result['event_lines']} lines, {result['event_bytes']} bytes"
        f" (bound {result['event_line_bound']});"
        f" gunicorn log: {result['server_log_lines']} lines"
    )
    if result["failures"]:
        lines.append("FAILED:")
        lines.extend(f"  {failure}" for failure in result["failures"])
    else:
        lines.append("all invariants hold")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--warmup-share", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--window", type=float, default=10.0, help="flood-control window, s")
    parser.add_argument("--rss-budget", type=float, default=RSS_BUDGET_MIB, help="MiB")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(
        args.requests,
        args.warmup_share,
        args.workers,
        args.clients,
        args.window,
        args.rss_budget,
    )
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
