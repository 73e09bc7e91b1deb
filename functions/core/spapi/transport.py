"""HTTP plumbing shared by the LWA and SP-API calls: pool, JSON codec, retry policy.

- JSON goes both ways without floats: responses are parsed with ``parse_float=Decimal``,
  and a :class:`~decimal.Decimal` in a request body is written as a JSON *number* with
  exactly its digits (``18.90``), as SP-API expects prices.
- :class:`RetryPolicy`: bounded attempts, full-jitter exponential backoff, ``Retry-After``
  honoured.
- urllib3 logs each request line (path *and query string*) at DEBUG; presigned document
  URLs carry signatures there, so a filter on urllib3's logger drops query strings.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import urllib3

DEFAULT_TIMEOUT = urllib3.Timeout(connect=5.0, read=30.0)
USER_AGENT = "sellerops/0.1 (Language=Python)"


# -- JSON --------------------------------------------------------------------------------
def decode_json(data: bytes | str) -> Any:
    """Parse JSON with every non-integer number as an exact :class:`Decimal`."""
    if not data:
        return None
    return json.loads(data, parse_float=Decimal)


def encode_json(value: Any) -> bytes:
    """Serialise to compact UTF-8 JSON; Decimals become numbers with their exact digits.

    ``json`` cannot emit a Decimal as a number, so each Decimal is first written as a
    string tagged with a random nonce and the tag is then unquoted.
    """
    nonce = secrets.token_hex(8)

    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise ValueError(f"cannot send non-finite number {obj} as JSON")
            return f"{nonce}{format(obj, 'f')}"
        if isinstance(obj, datetime):
            return isoformat_utc(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    text = json.dumps(value, default=default, separators=(",", ":"), ensure_ascii=False)
    text = re.sub(f'"{nonce}(-?[0-9]+(?:\\.[0-9]+)?)"', r"\1", text)
    return text.encode("utf-8")


def isoformat_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (SP-API's form); naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("SP-API timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- retries -----------------------------------------------------------------------------
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` tries in all; delays in seconds.

    Delay before retry *n* (n = 1, 2 …) is uniform in [0, min(max_delay, base_delay ·
    2^(n-1))] ("full jitter"), but at least ``Retry-After`` when the server sent one
    (capped at ``max_retry_after``).
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(
        self,
        retry: int,
        retry_after: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(retry - 1, 0)))
        delay = rand() * ceiling
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None if unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


# -- pool and logging --------------------------------------------------------------------
def new_pool(maxsize: int = 10) -> urllib3.PoolManager:
    """A connection pool; urllib3's own retries are off (ours are typed and logged)."""
    return urllib3.PoolManager(
        maxsize=maxsize, block=False, retries=False, timeout=DEFAULT_TIMEOUT
    )


class _DropQueryStrings(logging.Filter):
    """Strip query strings from urllib3's request-line log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                strip_query(arg) if isinstance(arg, str) and "?" in arg else arg
                for arg in record.args
            )
        return True


def strip_query(url: str) -> str:
    """``/path?X-Amz-Signature=…`` → ``/path?…`` (keeps that there was a query)."""
    head, sep, _ = url.partition("?")
    return f"{head}?…" if sep else head


_FILTER = _DropQueryStrings()


def install_log_redaction() -> None:
    """Attach the query-string filter to urllib3's loggers (idempotent)."""
    for name in ("urllib3.connectionpool", "urllib3.connection", "urllib3.response"):
        target = logging.getLogger(name)
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)


install_log_redaction()
