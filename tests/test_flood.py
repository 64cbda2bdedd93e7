"""Flood control: repeated request events are rate limited per (event, client)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard.events.catalogue import DEBUGGER_PROBE
from flask_prodguard.events.flood import OVERFLOW_CLIENT
from flask_prodguard.events.flood import FloodControl
from flask_prodguard.testing import capture_events


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_drop_then_summary() -> None:
    """burst events pass, the rest are counted and summarised when the window ends."""
    clock = FakeClock()
    summaries: list[dict[str, Any]] = []
    flood = FloodControl(3, 60, summaries.append, clock=clock)
    allowed = [flood.allow("prodguard.debugger.probe", "10.0.0.1") for _ in range(10)]
    assert allowed == [True] * 3 + [False] * 7
    assert flood.allow("prodguard.debugger.probe", "10.0.0.2")  # another client
    clock.now += 61
    assert flood.allow("prodguard.debugger.probe", "10.0.0.1")  # a new window
    (summary,) = summaries
    assert summary["suppressed_total"] == 7
    assert summary["by_event"] == {"prodguard.debugger.probe": 7}
    assert summary["top_sources"] == [
        {"event": "prodguard.debugger.probe", "client_ip": "10.0.0.1", "count": 7}
    ]


def test_memory_bounded_by_key_cap() -> None:
    """A flood from many clients tracks at most max_keys pairs."""
    flood = FloodControl(1, 60, lambda s: None, max_keys=100, clock=FakeClock())
    for i in range(10_000):
        flood.allow("prodguard.debugger.probe", f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert flood.tracked_keys == 101  # 100 clients and the shared overflow key
    assert ("prodguard.debugger.probe", OVERFLOW_CLIENT) in flood._counts
    # The overflow budget is per event: another event still gets through.
    assert flood.allow("prodguard.error.unhandled", "203.0.113.1")


def test_clock_going_backwards_starts_a_new_window() -> None:
    """A clock that jumps back neither blocks events forever nor crashes."""
    clock = FakeClock()
    flood = FloodControl(1, 60, lambda s: None, clock=clock)
    assert flood.allow("e", "c") and not flood.allow("e", "c")
    clock.now -= 3600
    assert flood.allow("e", "c")


def test_probe_flood_through_the_app_is_bounded(build_app: Callable[..., Flask]) -> None:
    """5000 probes from one client give burst events and one summary."""
    app = build_app(
        "flood",
        PRODGUARD_ENV="production",
        PRODGUARD_RATE_LIMIT_BURST=5,
        PRODGUARD_RATE_LIMIT_WINDOW=3600,
    )
    ProdGuard(app)
    emitter = app.extensions["prodguard"].emitter
    environ = {"REMOTE_ADDR": "198.51.100.7", "PATH_INFO": "/console", "REQUEST_METHOD": "GET"}
    with capture_events() as events:
        for _ in range(5000):
            emitter.emit(DEBUGGER_PROBE, dict(environ), probe="console", action="blocked")
        emitter.flood.flush()
    names = [e["event"] for e in events]
    assert names.count("prodguard.debugger.probe") == 5
    (summary,) = [e for e in events if e["event"] == "prodguard.events.suppressed"]
    assert summary["suppressed_total"] == 4995
    assert summary["top_sources"][0]["client_ip"] == "198.51.100.7"


def test_real_requests_are_rate_limited_but_still_blocked(
    build_app: Callable[..., Flask],
) -> None:
    """Dropped events do not change responses: every probe still gets its 404."""
    app = build_app("flood-http", PRODGUARD_ENV="production", PRODGUARD_RATE_LIMIT_BURST=2)
    ProdGuard(app)
    client = app.test_client()
    with capture_events() as events:
        statuses = {client.get("/?__debugger__=yes").status_code for _ in range(20)}
    assert statuses == {404}
    assert [e["event"] for e in events].count("prodguard.debugger.probe") == 2


def test_summary_arrives_when_flood_stops(build_app: Callable[..., Flask]) -> None:
    """A timer flushes the window, so the summary comes without further traffic."""
    import time

    app = build_app(
        "flood-timer",
        PRODGUARD_ENV="production",
        PRODGUARD_RATE_LIMIT_BURST=1,
        PRODGUARD_RATE_LIMIT_WINDOW=0.2,
    )
    ProdGuard(app)
    client = app.test_client()
    with capture_events() as events:
        for _ in range(5):
            client.get("/?__debugger__=yes")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            e["event"] == "prodguard.events.suppressed" for e in events
        ):
            time.sleep(0.05)
    summaries = [e for e in events if e["event"] == "prodguard.events.suppressed"]
    assert summaries and summaries[0]["suppressed_total"] == 4


def test_error_events_get_ten_times_the_budget(build_app: Callable[..., Flask]) -> None:
    """Unhandled errors stay findable: their budget is ten times the probes'."""
    app = build_app("flood-errors", PRODGUARD_ENV="production", PRODGUARD_RATE_LIMIT_BURST=2)
    ProdGuard(app)
    client = app.test_client()
    with capture_events() as events:
        for _ in range(30):
            client.get("/boom")
    assert [e["event"] for e in events].count("prodguard.error.unhandled") == 20


def test_open_window_is_reported_when_the_process_exits(tmp_path: Any) -> None:
    """Drops counted in the last window reach the log at exit, not only after a window."""
    import json
    import subprocess
    import sys

    log = tmp_path / "events.jsonl"
    script = f"""
from flask import Flask
from flask_prodguard import ProdGuard

app = Flask("exiting")
app.config.update(SECRET_KEY="x" * 64, SESSION_COOKIE_SECURE=True)
ProdGuard(app, env="production", strictness="enforce",
          log_destination={str(log)!r}, rate_limit_burst=2, rate_limit_window=3600)
client = app.test_client()
for _ in range(7):
    assert client.get("/console").status_code == 404
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    probes = [e for e in events if e["event"] == "prodguard.debugger.probe"]
    summaries = [e for e in events if e["event"] == "prodguard.events.suppressed"]
    assert len(probes) == 2
    assert [s["by_event"] for s in summaries] == [{"prodguard.debugger.probe": 5}]
