"""What the in-process benchmarks share: one WSGI call, and the timed loop of calls."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    return None


def call_once(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, bytes]:
    """One request to a copy of ``environ``: the status and the body (not timed)."""
    seen: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        seen.append(status)

    result = app(environ.copy(), start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return seen[0], body


def time_calls(app: WsgiApp, base: dict[str, Any], calls: int, gc_off: bool = True) -> int:
    """Nanoseconds for ``calls`` requests to ``app``; the loop is the same for every app.

    Each call gets a fresh copy of ``base``. With ``gc_off`` the garbage collector
    is off during the loop (and back on after it if it was on before).
    """
    start_response = _start_response
    copy = base.copy
    gc_was_enabled = gc.isenabled()
    if gc_off:
        gc.disable()
    try:
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            result = app(copy(), start_response)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return time.perf_counter_ns() - t0
    finally:
        if gc_was_enabled:
            gc.enable()
