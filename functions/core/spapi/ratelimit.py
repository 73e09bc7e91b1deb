"""Token buckets per seller × operation, as Amazon meters SP-API usage plans.

Amazon's limiter is a token bucket: ``burst`` tokens at most, refilled at ``rate`` per
second, one token per request, 429 when empty. The client keeps the same bucket on its
side so it waits for a token instead of spending a request on a 429. A bucket may go
into debt: a caller that reserves a token which is not there yet is told how long to
wait, and the next caller queues behind it, so concurrent threads share the rate fairly
instead of racing.

Amazon tells the rate it applied in ``x-amzn-RateLimit-Limit`` (requests per second; no
burst); :meth:`RateLimiter.observe_limit` re-sizes the bucket to it. After a 429,
:meth:`RateLimiter.throttled` empties the bucket so the next request waits a full period.

Times are in the units of the injected ``clock`` (seconds); ``sleep`` is injected too,
so tests run a fake clock and never really wait.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping

from functions.core import clock as clock_source
from functions.core.spapi.errors import SpApiThrottled
from functions.core.spapi.operations import OPERATIONS

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# Used for an operation that is not in the table (and not given a plan): conservative.
DEFAULT_PLAN: tuple[float, int] = (1.0, 1)


class TokenBucket:
    """``burst`` tokens, refilled continuously at ``rate`` tokens per second. Thread-safe."""

    def __init__(self, rate: float, burst: int, *, clock: Clock = clock_source.monotonic) -> None:
        _check_plan(rate, burst)
        self._rate = float(rate)
        self._burst = int(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    # -- inspection ----------------------------------------------------------------------
    @property
    def rate(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    @property
    def tokens(self) -> float:
        """Tokens available now (negative while callers are queued for future tokens)."""
        with self._lock:
            self._refill(self._clock())
            return self._tokens

    def wait_time(self) -> float:
        """Seconds until one token is available, without taking it."""
        with self._lock:
            self._refill(self._clock())
            return self._deficit_wait()

    # -- taking tokens -------------------------------------------------------------------
    def try_take(self) -> bool:
        """Take a token if one is available now; never queue (what a server does)."""
        with self._lock:
            self._refill(self._clock())
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False

    def reserve(self, max_wait: float | None = None) -> tuple[bool, float]:
        """Reserve the next token; return ``(reserved, seconds to wait)``.

        The caller must wait the returned time before using the token. When that time
        would exceed ``max_wait``, nothing is reserved and ``(False, wait)`` comes back.
        """
        with self._lock:
            self._refill(self._clock())
            wait = self._deficit_wait()
            if max_wait is not None and wait > max_wait:
                return False, wait
            self._tokens -= 1
            return True, wait

    # -- adjusting -----------------------------------------------------------------------
    def resize(self, rate: float, burst: int | None = None) -> None:
        """Adopt a new rate (and burst); tokens earned so far are kept, capped at burst."""
        burst = self._burst if burst is None else burst
        _check_plan(rate, burst)
        with self._lock:
            self._refill(self._clock())
            self._rate = float(rate)
            self._burst = int(burst)
            self._tokens = min(self._tokens, float(self._burst))

    def drain(self) -> None:
        """Empty the bucket (the server said 429): the next token is a full period away."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._tokens, 0.0)

    # -- internals -----------------------------------------------------------------------
    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(float(self._burst), self._tokens + elapsed * self._rate)
        self._updated = max(self._updated, now)

    def _deficit_wait(self) -> float:
        if self._tokens >= 1:
            return 0.0
        return (1 - self._tokens) / self._rate

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self._rate}, burst={self._burst}, tokens={self._tokens:.3f})"


class RateLimiter:
    """One :class:`TokenBucket` per (key, operation); ``key`` is the seller id (or the
    application for grantless calls), since Amazon meters per selling partner and app.

    ``plans`` overrides the documented (rate, burst) of operations by name. ``max_wait``
    bounds a single wait: a caller who would have to wait longer gets
    :class:`SpApiThrottled` with ``retry_after`` instead (useful in a Lambda that would
    rather re-queue than sleep). ``enabled=False`` turns waiting off (for tests of the
    server's own quota enforcement).
    """

    def __init__(
        self,
        plans: Mapping[str, tuple[float, int]] | None = None,
        *,
        clock: Clock = clock_source.monotonic,
        sleep: Sleep = clock_source.sleep,
        max_wait: float | None = None,
        enabled: bool = True,
    ) -> None:
        self._plans = dict(plans or {})
        self._clock = clock
        self._sleep = sleep
        self.max_wait = max_wait
        self.enabled = enabled
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def plan(self, operation: str) -> tuple[float, int]:
        """The (rate, burst) a new bucket for ``operation`` starts with."""
        if operation in self._plans:
            return self._plans[operation]
        op = OPERATIONS.get(operation)
        return (op.rate, op.burst) if op else DEFAULT_PLAN

    def bucket(self, key: str, operation: str) -> TokenBucket:
        with self._lock:
            found = self._buckets.get((key, operation))
            if found is None:
                rate, burst = self.plan(operation)
                found = TokenBucket(rate, burst, clock=self._clock)
                self._buckets[(key, operation)] = found
            return found

    def acquire(self, key: str, operation: str) -> float:
        """Wait (via the injected sleep) until a request may be sent; return the wait.

        Raises :class:`SpApiThrottled` when the wait would exceed ``max_wait``.
        """
        if not self.enabled:
            return 0.0
        reserved, wait = self.bucket(key, operation).reserve(self.max_wait)
        if not reserved:
            raise SpApiThrottled(
                f"rate limit of {operation} would need a {wait:.1f}s wait",
                operation=operation,
                retry_after=wait,
            )
        if wait > 0:
            self._sleep(wait)
        return wait

    def observe_limit(self, key: str, operation: str, header: str | None) -> float | None:
        """Re-size the bucket to ``x-amzn-RateLimit-Limit`` (requests per second).

        Returns the rate adopted, or None when the header is absent or unreadable.
        """
        rate = parse_rate_limit(header)
        if rate is None:
            return None
        bucket = self.bucket(key, operation)
        if not math.isclose(bucket.rate, rate, rel_tol=1e-9):
            bucket.resize(rate)
        return rate

    def throttled(self, key: str, operation: str) -> None:
        """Record a 429: empty the bucket so the next request waits a full period."""
        self.bucket(key, operation).drain()


def parse_rate_limit(header: str | None) -> float | None:
    """``"0.0167"`` → 0.0167; None for a missing, malformed, zero or negative value."""
    if header is None:
        return None
    try:
        rate = float(header.strip().split(",")[0])
    except ValueError:
        return None
    if not math.isfinite(rate) or rate <= 0:
        return None
    return rate


def _check_plan(rate: float, burst: int) -> None:
    if not (rate > 0 and math.isfinite(rate)):
        raise ValueError(f"rate must be a positive number of requests per second, got {rate!r}")
    if int(burst) < 1:
        raise ValueError(f"burst must be at least 1, got {burst!r}")
