"""A manual clock for simulations and tests: time moves only when told to.

One object serves as the monotonic ``clock()`` (seconds), the ``sleep(seconds)`` that
advances it, and ``now()`` (a timezone-aware UTC datetime ``epoch + elapsed``). Hand the
same instance to the SP-API client and the fake server and rate-limit waits, backoff,
token expiry and presigned-URL expiry all happen instantly and deterministically.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

DEFAULT_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


class ManualClock:
    """Monotonic seconds from ``start``; ``sleeps`` records every sleep asked for."""

    def __init__(self, start: float = 0.0, *, epoch: datetime = DEFAULT_EPOCH) -> None:
        if epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware")
        self._t = float(start)
        self._start = float(start)
        self.epoch = epoch
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._t += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._t += seconds

    def now(self) -> datetime:
        with self._lock:
            return self.epoch + timedelta(seconds=self._t - self._start)

    @property
    def slept(self) -> float:
        """Total seconds slept."""
        with self._lock:
            return sum(self.sleeps)
