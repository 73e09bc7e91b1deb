"""The one place that reads "now".

In Lambda it is the wall clock. The local stack and the marketplace simulator run time
compressed, so they install their own clock with :func:`use_clock` while handlers run
in-process; every handler and repository asks :func:`utc_now`, never ``datetime.now``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime


def _wall_clock() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _wall_clock


def utc_now() -> datetime:
    """Current time, timezone-aware UTC."""
    moment = _clock()
    if moment.tzinfo is None:
        raise ValueError("the installed clock returned a naive datetime")
    return moment


def use_clock(clock: Callable[[], datetime] | None) -> None:
    """Install ``clock`` process-wide (``None`` restores the wall clock)."""
    global _clock
    _clock = clock or _wall_clock


@contextmanager
def clock_installed(clock: Callable[[], datetime]) -> Iterator[None]:
    previous = _clock
    use_clock(clock)
    try:
        yield
    finally:
        use_clock(previous)
