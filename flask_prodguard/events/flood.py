"""Flood control: repeated events per (event, client) are rate limited.

A client can trigger request events at will (a scanner sends thousands of
debugger probes). Each (event, client) pair may emit ``burst`` events per
``window`` seconds; the rest are counted, and one
``prodguard.events.suppressed`` summary per window says how many were dropped,
for which events and which clients. Memory is bounded: at most ``max_keys``
pairs are tracked, and pairs beyond that share one overflow counter.

Counts dropped in the last window are not lost when the process ends: at
interpreter exit (a gunicorn worker stopping, say) every live flood control
reports its open window.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable

#: Client name shared by every new client of an event once ``max_keys`` pairs
#: are tracked.
OVERFLOW_CLIENT = "*"

#: Every flood control still in use; their open windows are reported at exit.
_LIVE: weakref.WeakSet[FloodControl] = weakref.WeakSet()


def flush_all() -> None:
    """Report the open window of every live flood control (run at exit)."""
    for flood in list(_LIVE):
        try:
            flood.flush()
        except Exception:  # noqa: BLE001, S112 - exiting: never raise here
            continue


def forget_all() -> None:
    """Stop reporting at exit for the flood controls created so far."""
    _LIVE.clear()


atexit.register(flush_all)


class FloodControl:
    """Fixed-window rate limiting per (event, client), with summaries.

    :param burst: events allowed per key and window.
    :param window: window length in seconds.
    :param report: called with the summary fields when a window with dropped
        events ends.
    :param max_keys: most pairs tracked at once.
    :param clock: a monotonic clock (tests inject one).
    """

    def __init__(
        self,
        burst: int,
        window: float,
        report: Callable[[dict[str, object]], None],
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.window = window
        self.max_keys = max_keys
        self._report = report
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}
        self._dropped: Counter[tuple[str, str]] = Counter()
        self._window_start = clock()
        self._timer: threading.Timer | None = None
        _LIVE.add(self)

    def allow(self, event: str, client: str | None, factor: int = 1) -> bool:
        """Count one event; return whether it may be emitted.

        :param factor: multiple of ``burst`` allowed for this event.
        """
        summary = None
        with self._lock:
            now = self._clock()
            if now - self._window_start >= self.window or now < self._window_start:
                # A new window (or the clock went backwards): start afresh.
                summary = self._close_window(now)
            key = (event, client or "-")
            if key not in self._counts and len(self._counts) >= self.max_keys:
                # Past the cap, clients share one budget per event, so a flood
                # of one event cannot silence the others.
                key = (event, OVERFLOW_CLIENT)
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
            allowed = count <= self.burst * factor
            if not allowed:
                self._dropped[key] += 1
                self._arm_timer()
        if summary is not None:
            self._report(summary)
        return allowed

    def flush(self) -> None:
        """End the current window now, reporting what it dropped."""
        with self._lock:
            summary = self._close_window(self._clock())
        if summary is not None:
            self._report(summary)

    @property
    def tracked_keys(self) -> int:
        """How many (event, client) pairs the current window tracks."""
        return len(self._counts)

    def _close_window(self, now: float) -> dict[str, object] | None:
        period = max(now - self._window_start, 0.0)
        dropped = self._dropped
        tracked = len(self._counts)
        self._counts = {}
        self._dropped = Counter()
        self._window_start = now
        if not dropped:
            return None
        by_event: Counter[str] = Counter()
        for (event, _client), count in dropped.items():
            by_event[event] += count
        return {
            "suppressed_total": sum(dropped.values()),
            "period_seconds": round(period, 3),
            "by_event": dict(by_event),
            "top_sources": [
                {"event": event, "client_ip": client, "count": count}
                for (event, client), count in dropped.most_common(10)
            ],
            "tracked_keys": tracked,
        }

    def _arm_timer(self) -> None:
        # So the summary arrives even if the flood stops: one timer per window.
        if self._timer is not None and self._timer.is_alive():
            return
        delay = max(self.window - (self._clock() - self._window_start), 0.0) + 0.01
        timer = threading.Timer(delay, self.flush)
        timer.daemon = True
        self._timer = timer
        timer.start()
