"""Shared fixtures: apps and clients, helper factories, clean process state.

Tests never ``from conftest import``: everything here is a fixture. The
helpers that are plain functions (``build_app``, ``without_error_id``, ...)
are handed out by fixtures of the same name, in the way Flask's own suite
hands out ``app`` and ``client``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from flask import Flask
from flask.testing import FlaskClient
from flask_prodguard import ProdGuard
from flask_prodguard import config
from flask_prodguard import restore_debugger
from flask_prodguard.events import emitter
from flask_prodguard.events import flood
from flask_prodguard.events import hooks
from flask_prodguard.events import output
from flask_prodguard.testing import capture_events
from flask_prodguard.testing import event_validator

# Process environment variables that the guard, Flask or Werkzeug read or
# write (``FLASK_DEBUG=0`` and ``PRODGUARD_PARENT_STRICTNESS`` are written by
# an enforcing guard): every test starts without them and the process gets
# its own values back afterwards, whatever the test or the guard did.
_PROCESS_VARIABLE_PREFIXES = ("PRODGUARD_", "FLASK_", "WERKZEUG_")

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


def _process_variables() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name.startswith(_PROCESS_VARIABLE_PREFIXES)
    }


@pytest.fixture(autouse=True)
def clean_process(every_event_matches_schema: list[dict[str, Any]]) -> Iterator[None]:
    """Start each test from a clean process and leave none of its state behind.

    Resets the process environment (``PRODGUARD_*``, ``FLASK_*``,
    ``WERKZEUG_*``) and the module-global state of the guard: the security
    logger, the default handler's outputs, failure notices and open files, the
    said-once notices, the debugger hook, flood-control windows, queued alert
    hooks and the pytest plugin's default. It depends on
    ``every_event_matches_schema`` so that what its teardown emits (flood
    summaries) is validated too.
    """
    saved_environ = _process_variables()
    for name in saved_environ:
        del os.environ[name]
    logger = logging.getLogger(output.SECURITY_LOGGER_NAME)
    saved_logger = (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
    handler = output.default_handler
    saved_outputs = dict(handler.outputs)
    saved_files = dict(output._files)
    structlog.contextvars.clear_contextvars()
    # setattr raises if the package renames one of these, rather than the
    # reset silently doing nothing.
    with pytest.MonkeyPatch.context() as patch:
        # Notices said once per process (a failing destination, a failing
        # emit, a re-enabled logger): each test sees its own first one.
        patch.setattr(handler, "_failing", set())
        patch.setattr(output, "_said", set())
        patch.setattr(emitter, "_failure_reported", False)
        # Put back after the test (an in-process pytester run turns it off).
        patch.setattr(config, "_under_pytest", config._under_pytest)

        yield

        # Events still queued for hooks, and flood windows still open, would
        # otherwise reach a later test (a window's timer fires up to a window
        # later); flushing them here also gives every test fresh windows.
        hooks.drain_all()
        flood.flush_all()
        # force: the test's guarded apps may still be alive (fixtures, frames).
        restore_debugger(force=True)
    structlog.contextvars.clear_contextvars()
    handlers, level, propagate, disabled = saved_logger
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate
    logger.disabled = disabled
    handler.outputs.clear()
    handler.outputs.update(saved_outputs)
    with output._files_lock:
        for path, stream in list(output._files.items()):
            if saved_files.get(path) is not stream:
                del output._files[path]
                # A destination the test made fail (/dev/full) fails to flush too.
                with contextlib.suppress(OSError):
                    stream.close()
    for name in _process_variables():
        del os.environ[name]
    os.environ.update(saved_environ)


#: Settings of a well-configured app: deployment checks find nothing to say.
_SAFE_SETTINGS = {
    "SECRET_KEY": "6f1d0c9e4b7a2f8e3d5c1b9a7e6f4d2c8b0a9e7d5c3b1f2e4d6c8a0b9e7f5d3c",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
}


@pytest.fixture
def safe_settings() -> dict[str, Any]:
    """Settings of a well-configured app (a fresh copy): deployment checks find nothing."""
    return dict(_SAFE_SETTINGS)


def _build_app(name: str = "guarded", **config: Any) -> Flask:
    """A small app with a normal route, a failing route and the given config.

    Deployment settings are safe unless the test overrides them.
    """
    app = Flask(name)
    app.config.update(_SAFE_SETTINGS)
    app.config.update(config)

    @app.get("/")
    def index() -> str:
        return "hello"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("planted secret hunter2")

    return app


@pytest.fixture(scope="session")
def build_app() -> Callable[..., Flask]:
    """Return ``build_app(name="guarded", **config)``: the test app, not guarded.

    It has ``/`` (``hello``) and ``/boom`` (raises a ``RuntimeError`` with a
    planted secret), and safe deployment settings unless ``config`` overrides
    them. Session-scoped so that module-scoped fixtures can build apps too.
    """
    return _build_app


@pytest.fixture
def make_app() -> Callable[..., Flask]:
    """Return ``make_app(env=..., strictness=..., guard=True, **config)``: a guarded app."""

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
        app = _build_app(**config)
        if guard:
            ProdGuard(app)
        return app

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The test app guarded in production with the default strictness (``enforce``)."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of :func:`app`."""
    return app.test_client()


@pytest.fixture
def events() -> Iterator[list[dict[str, Any]]]:
    """Security events emitted during the test."""
    with capture_events() as captured:
        yield captured


def _event_names(captured: list[dict[str, Any]]) -> list[str]:
    """The event names, in order."""
    return [event["event"] for event in captured]


@pytest.fixture(scope="session")
def event_names() -> Callable[[list[dict[str, Any]]], list[str]]:
    """Return ``event_names(captured)``: the names of captured events, in order."""
    return _event_names


_ERROR_ID = re.compile(rb"[0-9a-f]{16}")


def _without_error_id(body: bytes) -> bytes:
    """A response body with its error id blanked, to compare two error pages."""
    return _ERROR_ID.sub(b"<error-id>", body)


@pytest.fixture(scope="session")
def without_error_id() -> Callable[[bytes], bytes]:
    """Return ``without_error_id(body)``: the body with its error id blanked.

    Two error pages of the same kind are then equal byte for byte.
    """
    return _without_error_id


@contextlib.contextmanager
def _no_logging_configured() -> Iterator[None]:
    """Hide pytest's own capturing handlers: the process has no logging set up."""
    root = logging.getLogger()
    saved = root.handlers
    root.handlers = []
    try:
        yield
    finally:
        root.handlers = saved


@pytest.fixture(scope="session")
def no_logging_configured() -> Callable[[], contextlib.AbstractContextManager[None]]:
    """Return ``no_logging_configured()``: a context manager that hides the root
    logger's handlers (pytest's own), so the process has no logging set up."""
    return _no_logging_configured


@pytest.fixture
def debugger_patched() -> Callable[[], bool]:
    """A test of whether ``werkzeug.debug.DebuggedApplication``, the class the
    module holds now, answers with the guard's replacement methods."""

    def patched() -> bool:
        module = sys.modules.get("werkzeug.debug")
        cls = getattr(module, "DebuggedApplication", None)
        call = vars(cls).get("__call__") if isinstance(cls, type) else None
        return getattr(call, "__module__", None) == "flask_prodguard.wsgi.debugger"

    return patched


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Share even a small tree among processes, and count the processes forked (the
    test process, which may run other tests' threads, stands in for one with one
    thread, as a CI runner's scan is)."""
    from flask_prodguard.tools import scan_workers

    monkeypatch.setattr(scan_workers, "PARALLEL_LINES", 0)
    monkeypatch.setattr(scan_workers, "_other_threads", lambda: False)
    made: list[int] = []
    fork = os.fork

    def counting_fork() -> int:
        pid = fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    return made
