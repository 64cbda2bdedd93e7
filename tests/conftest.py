"""Shared fixtures: an app factory, clean process state, captured events."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from flask import Flask
from flask_prodguard import ProdGuard
from flask_prodguard import restore_debugger
from flask_prodguard.testing import capture_events
from flask_prodguard.testing import event_validator

# Variables that the guard reads or writes; every test starts without them and
# gets the original values back afterwards, whatever the guard did.
_PROCESS_VARIABLES = (
    "FLASK_DEBUG",
    "PRODGUARD_ENV",
    "PRODGUARD_STRICTNESS",
    "WERKZEUG_DEBUG_PIN",
    "WERKZEUG_RUN_MAIN",
    "WERKZEUG_SERVER_FD",
    "FLASK_RUN_FROM_CLI",
    "PRODGUARD_PARENT_STRICTNESS",
)


_VALIDATOR = event_validator()


@pytest.fixture(autouse=True)
def every_event_matches_schema() -> Iterator[list[dict[str, Any]]]:
    """Validate every event any test emits against the JSON Schema shipped in the package."""
    with capture_events() as captured:
        yield captured
    for event in captured:
        as_json = json.loads(json.dumps(event, default=str))
        errors = sorted(_VALIDATOR.iter_errors(as_json), key=str)
        assert not errors, f"{event['event']}: {errors[0].message}"


@pytest.fixture(autouse=True)
def clean_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Isolate each test from the process-wide state the guard touches."""
    for name in _PROCESS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    logger = logging.getLogger("flask_prodguard.security")
    handlers = list(logger.handlers)
    yield
    # force: the test's guarded apps may still be alive (fixtures, frames).
    restore_debugger(force=True)
    structlog.contextvars.clear_contextvars()
    logger.handlers[:] = handlers


#: Settings of a well-configured app: deployment checks find nothing to say.
SAFE_SETTINGS = {
    "SECRET_KEY": "6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
}


def build_app(name: str = "guarded", **config: Any) -> Flask:
    """A small app with a normal route, a failing route and the given config.

    Deployment settings are safe unless the test overrides them.
    """
    app = Flask(name)
    app.config.update(SAFE_SETTINGS)
    app.config.update(config)

    @app.get("/")
    def index() -> str:
        return "hello"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("planted secret hunter2")

    return app


@pytest.fixture
def make_app() -> Callable[..., Flask]:
    """Return ``make_app(env=..., strictness=..., **config)``: a guarded app."""

    def factory(
        env: str | None = "production",
        strictness: str | None = None,
        guard: bool = True,
        **config: Any,
    ) -> Flask:
        if env is not None:
            config["PRODGUARD_ENV"] = env
        if strictness is not None:
            config["PRODGUARD_STRICTNESS"] = strictness
        app = build_app(**config)
        if guard:
            ProdGuard(app)
        return app

    return factory


@pytest.fixture
def events() -> Iterator[list[dict[str, Any]]]:
    """Security events emitted during the test."""
    with capture_events() as captured:
        yield captured


_ERROR_ID = re.compile(rb"[0-9a-f]{16}")


def without_error_id(body: bytes) -> bytes:
    """A response body with its error id blanked, to compare two error pages."""
    return _ERROR_ID.sub(b"<error-id>", body)


@contextlib.contextmanager
def no_logging_configured() -> Iterator[None]:
    """Hide pytest's own capturing handlers: the process has no logging set up."""
    root = logging.getLogger()
    saved = root.handlers
    root.handlers = []
    try:
        yield
    finally:
        root.handlers = saved


def names(captured: list[dict[str, Any]]) -> list[str]:
    """The event names, in order."""
    return [event["event"] for event in captured]
