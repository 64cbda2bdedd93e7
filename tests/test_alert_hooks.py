"""In-process on_alert hooks: called off the request thread, never breaking it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

import pytest
from flask import Flask
from flask_prodguard import ConfigurationError
from flask_prodguard import ProdGuard


def test_hook_gets_events_at_or_above_the_level(build_app: Callable[..., Flask]) -> None:
    """A warning-level probe reaches a hook set to warning; info events do not."""
    received: list[Mapping[str, Any]] = []
    app = build_app("hook-level", PRODGUARD_ENV="production", PRODGUARD_ALERT_LEVEL="warning")
    ProdGuard(app, on_alert=received.append)
    app.test_client().get("/?__debugger__=yes&token=s3cr3t")
    app.extensions["prodguard"].emitter.alerts.join()
    assert [e["event"] for e in received] == ["prodguard.debugger.probe"]
    assert "s3cr3t" not in str(received[0])  # hooks see the redacted event


def test_default_level_is_error(build_app: Callable[..., Flask]) -> None:
    """With the default level, a warning probe is not sent, an unhandled error is."""
    received: list[Mapping[str, Any]] = []
    app = build_app("hook-default", PRODGUARD_ENV="production")
    ProdGuard(app, on_alert=[received.append])
    client = app.test_client()
    client.get("/?__debugger__=yes")
    client.get("/boom")
    app.extensions["prodguard"].emitter.alerts.join()
    assert [e["event"] for e in received] == ["prodguard.error.unhandled"]


def test_slow_hook_never_blocks_the_request(build_app: Callable[..., Flask]) -> None:
    """A hook that waits does not hold up the response."""
    release = threading.Event()
    started = threading.Event()
    finished = threading.Event()

    def slow(event: Mapping[str, Any]) -> None:
        started.set()
        release.wait(10)
        finished.set()

    app = build_app("hook-slow", PRODGUARD_ENV="production")
    ProdGuard(app, on_alert=slow)
    try:
        response = app.test_client().get("/boom")  # would deadlock if the hook ran inline
        # Run inline, the hook would have waited out its 10 s and finished by now.
        assert not finished.is_set()
        assert response.status_code == 500
        assert started.wait(5)
    finally:
        release.set()
    assert finished.wait(5)


def test_failing_hook_never_breaks_the_request(
    build_app: Callable[..., Flask], capfd: pytest.CaptureFixture[str]
) -> None:
    """A hook that raises is reported once; requests and other hooks carry on."""
    received: list[Mapping[str, Any]] = []

    def broken(event: Mapping[str, Any]) -> None:
        raise RuntimeError("pager down")

    app = build_app("hook-broken", PRODGUARD_ENV="production")
    ProdGuard(app, on_alert=[broken, received.append])
    client = app.test_client()
    assert client.get("/boom").status_code == 500
    assert client.get("/boom").status_code == 500
    app.extensions["prodguard"].emitter.alerts.join()
    assert len(received) == 2
    assert capfd.readouterr().err.count("alert hook") == 1


def test_bad_alert_level_is_a_configuration_error(build_app: Callable[..., Flask]) -> None:
    """PRODGUARD_ALERT_LEVEL accepts warning, error or critical only."""
    with pytest.raises(ConfigurationError, match="PRODGUARD_ALERT_LEVEL"):
        ProdGuard(
            build_app("hook-bad", PRODGUARD_ENV="production", PRODGUARD_ALERT_LEVEL="page")
        )


def test_dropped_events_are_said_once(capfd: pytest.CaptureFixture[str]) -> None:
    """When hooks fall behind the bounded queue, drops are counted and said once."""
    from flask_prodguard.events.hooks import AlertDispatcher

    release = threading.Event()
    dispatcher = AlertDispatcher([lambda event: release.wait(10)], "info", maxsize=2)
    for number in range(10):
        dispatcher.submit({"event": "x", "n": number})
    release.set()
    assert dispatcher.dropped >= 7  # one in the hook, at most two queued
    assert capfd.readouterr().err.count("alert hooks fall behind") == 1


def test_queued_events_reach_the_hooks_at_exit(tmp_path: Any) -> None:
    """Events still queued when the process exits are handed to the hooks first."""
    import subprocess
    import sys

    out = tmp_path / "hook.txt"
    script = f"""
import time
from flask import Flask
from flask_prodguard import ProdGuard

def slow(event):
    time.sleep(0.2)
    with open({str(out)!r}, "a") as f:
        f.write(event["event"] + "\\n")

app = Flask("exiting")
ProdGuard(app, env="production", on_alert=slow)
client = app.test_client()
app.get("/boom")(lambda: 1 / 0)
for _ in range(3):
    client.get("/boom")
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert out.read_text().splitlines() == ["prodguard.error.unhandled"] * 3
