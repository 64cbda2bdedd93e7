"""In-process alert hooks: callables run for events at or above a level.

For small deployments without a log pipeline: ``ProdGuard(app,
on_alert=notify)`` calls ``notify(event)`` for every event at or above
``PRODGUARD_ALERT_LEVEL``. Calls happen on a background thread, so a slow or
failing hook never blocks a request nor raises into it; a hook that raises is
reported once on stderr. The queue is bounded: if hooks fall behind, events
are dropped (and counted) rather than piling up in memory.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

AlertHook = Callable[[Mapping[str, Any]], object]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


class AlertDispatcher:
    """Runs alert hooks on one daemon thread per process."""

    def __init__(self, hooks: Iterable[AlertHook], level: str, maxsize: int = 1000) -> None:
        self.hooks = tuple(hooks)
        self.threshold = _LEVELS[level]
        self.dropped = 0
        self._queue: queue.Queue[Mapping[str, Any]] = queue.Queue(maxsize)
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._reported: set[str] = set()

    def wants(self, level: str) -> bool:
        """Whether an event at ``level`` goes to the hooks."""
        return bool(self.hooks) and _LEVELS.get(level, 0) >= self.threshold

    def submit(self, event: Mapping[str, Any]) -> None:
        """Queue one event for the hooks; never blocks, never raises."""
        self._ensure_thread()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1

    def join(self, timeout: float = 5.0) -> None:
        """Wait until the queued events were handed to the hooks (for tests)."""
        done = threading.Event()
        self._ensure_thread()
        try:
            self._queue.put({"__prodguard_join__": done}, timeout=timeout)
        except queue.Full:
            return
        done.wait(timeout)

    def _ensure_thread(self) -> None:
        # A forked worker has no thread yet: start one per process.
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="prodguard-alerts", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            marker = event.get("__prodguard_join__")
            if marker is not None:
                marker.set()
                continue
            for hook in self.hooks:
                try:
                    hook(event)
                except Exception as error:  # noqa: BLE001 - a hook never breaks the guard
                    self._report(hook, error)

    def _report(self, hook: AlertHook, error: BaseException) -> None:
        name = getattr(hook, "__qualname__", repr(hook))
        if name in self._reported:
            return
        self._reported.add(name)
        try:
            sys.__stderr__.write(  # type: ignore[union-attr]
                f"flask_prodguard: alert hook {name} raised {type(error).__name__}: {error}"
                " (reported once)\n"
            )
        except Exception:  # noqa: BLE001, S110 - nowhere left to report to
            pass
