"""The one place that reads "now" (and waits).

In Lambda it is the wall clock. The local stack and the marketplace simulator run time
compressed, so they install their own clock with :func:`use_clock` while handlers run
in-process; every handler and repository asks :func:`utc_now`, never ``datetime.now``,
and code that waits (the SP-API client's rate limiter and backoff) uses :func:`sleep` and
:func:`monotonic`, so a simulated wait costs no real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime


def _wall_clock() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _wall_clock
_sleeper: Callable[[float], None] | None = None


def utc_now() -> datetime:
    """Current time, timezone-aware UTC."""
    moment = _clock()
    if moment.tzinfo is None:
        raise ValueError("the installed clock returned a naive datetime")
    return moment


def monotonic() -> float:
    """Seconds on a clock that never goes back (for rate limits and timeouts)."""
    if _clock is _wall_clock:
        return time.monotonic()
    return utc_now().timestamp()


def sleep(seconds: float) -> None:
    """Wait ``seconds``: really in Lambda, by moving simulated time when one is installed."""
    if seconds <= 0:
        return
    if _sleeper is None:
        time.sleep(seconds)
    else:
        _sleeper(seconds)


def use_clock(
    clock: Callable[[], datetime] | None, sleeper: Callable[[float], None] | None = None
) -> None:
    """Install ``clock`` (and how to wait on it) process-wide; ``None`` restores the wall
    clock and real sleeping."""
    global _clock, _sleeper
    _clock = clock or _wall_clock
    _sleeper = sleeper if clock is not None else None


@contextmanager
def clock_installed(
    clock: Callable[[], datetime], sleeper: Callable[[float], None] | None = None
) -> Iterator[None]:
    global _clock, _sleeper
    previous = (_clock, _sleeper)
    use_clock(clock, sleeper)
    try:
        yield
    finally:
        _clock, _sleeper = previous
