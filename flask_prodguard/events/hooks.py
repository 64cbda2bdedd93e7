"""In-process alert hooks: callables run for events at or above a level.

For small deployments without a log pipeline: ``ProdGuard(app,
on_alert=notify)`` calls ``notify(event)`` for every event at or above
``PRODGUARD_ALERT_LEVEL``. Calls happen on a background thread, so a slow or
failing hook never blocks a request nor raises into it; a hook that raises is
reported once on stderr. The queue is bounded: if hooks fall behind, events
are dropped (counted in ``dropped``, and said once on stderr) rather than
piling up in memory. At interpreter exit, events still queued get up to two
seconds to reach the hooks.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
import weakref
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from .output import failure_name
from .output import say

AlertHook = Callable[[Mapping[str, Any]], object]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}

#: Dispatchers with hooks; their queues are drained at exit.
_LIVE: weakref.WeakSet[AlertDispatcher] = weakref.WeakSet()


def drain_all(timeout: float = 2.0) -> None:
    """Give the events still queued in this process time to reach the hooks."""
    for dispatcher in list(_LIVE):
        dispatcher.drain(timeout)


atexit.register(drain_all)


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
        if self.hooks:
            _LIVE.add(self)

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
            if self.dropped == 1:
                say(
                    "flask_prodguard: alert hooks fall behind; events for them are being"
                    " dropped (counted in AlertDispatcher.dropped; said once)"
                )

    def drain(self, timeout: float = 2.0) -> None:
        """Wait (up to ``timeout``) for queued events, if this process has any."""
        thread = self._thread
        if thread is None or not thread.is_alive() or self._pid != os.getpid():
            return
        if not self._queue.empty():
            self.join(timeout)

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
        say(f"flask_prodguard: alert hook {name} raised {failure_name(error)} (reported once)")
