"""Cell values of Amazon's report files: whole numbers, decimals, dates, timestamps.

Amazon writes dates in several shapes, depending on the report and the marketplace:
ISO 8601 with an offset (``2025-10-02T09:14:07-07:00``), ``YYYY-MM-DD``,
``YYYY-MM-DD HH:MM:SS UTC`` (settlement), ``MM/DD/YYYY`` (ledger ``Date``) and
``DD.MM.YYYY HH:MM:SS UTC`` (EU settlement). All of them are read here. Timestamps come
back tz-aware in UTC; a timestamp without a zone is taken as UTC.

Decimals may use a decimal comma (``1.234,56`` or ``4,10`` in EU files); a value with a
single comma and no dot is read as a decimal comma, because Amazon's flat files never
group thousands.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation


class RowError(ValueError):
    """A cell or a row cannot be read; the message says which column and why."""


def normalize_header(name: str) -> str:
    """Header names match ignoring case, spaces, ``-`` and ``_`` (and stray quotes)."""
    return (
        name.strip()
        .strip('"')
        .lower()
        .replace(" ", "")
        .replace("-", "")
        .replace("_", "")
        .replace("\ufeff", "")
    )


# -- numbers ------------------------------------------------------------------------------
def parse_int(text: str, column: str) -> int:
    """A whole number; ``" 3 "``, ``"-3"`` and ``"3.0"`` are accepted."""
    try:
        return int(text)
    except ValueError:
        pass
    stripped = text.strip()
    if not stripped:
        raise RowError(f"column {column!r} is empty, expected a whole number")
    try:
        value = Decimal(stripped.replace(",", "."))
    except InvalidOperation:
        raise RowError(f"column {column!r}: {text!r} is not a whole number") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise RowError(f"column {column!r}: {text!r} is not a whole number")
    return int(value)


def parse_optional_int(text: str, column: str) -> int | None:
    if not text or not text.strip():
        return None
    return parse_int(text, column)


def parse_decimal(text: str, column: str) -> Decimal:
    """A finite decimal, dot or comma as decimal separator."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = _locale_decimal(text, column)
    if not value.is_finite():
        raise RowError(f"column {column!r}: {text!r} is not a finite number")
    return value


def parse_optional_decimal(text: str, column: str) -> Decimal | None:
    """Empty, ``--`` (Amazon's "not applicable") and ``N/A`` give None."""
    if not text:
        return None
    stripped = text.strip()
    if not stripped or stripped in _NOT_APPLICABLE:
        return None
    return parse_decimal(stripped, column)


_NOT_APPLICABLE = frozenset({"--", "-", "n/a", "N/A", "NA"})


def _locale_decimal(text: str, column: str) -> Decimal:
    cleaned = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if not cleaned:
        raise RowError(f"column {column!r} is empty, expected a number")
    if "," in cleaned and "." in cleaned:
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    elif cleaned.count(",") > 1:
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(".") > 1:
        cleaned = cleaned.replace(".", "")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise RowError(f"column {column!r}: {text!r} is not a number") from None


# -- dates and timestamps -----------------------------------------------------------------
_ZONES: dict[str, timedelta] = {
    "Z": timedelta(0), "UTC": timedelta(0), "GMT": timedelta(0),
    "PST": timedelta(hours=-8), "PDT": timedelta(hours=-7),
    "MST": timedelta(hours=-7), "MDT": timedelta(hours=-6),
    "CST": timedelta(hours=-6), "CDT": timedelta(hours=-5),
    "EST": timedelta(hours=-5), "EDT": timedelta(hours=-4),
    "BST": timedelta(hours=1), "CET": timedelta(hours=1), "CEST": timedelta(hours=2),
    "JST": timedelta(hours=9), "AEST": timedelta(hours=10), "AEDT": timedelta(hours=11),
}

_DATE_RX = re.compile(
    r"""^\s*(?:
        (?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})        # 2025-10-02
      | (?P<um>\d{1,2})/(?P<ud>\d{1,2})/(?P<uy>\d{4})        # 10/02/2025 (US)
      | (?P<ed>\d{1,2})\.(?P<em>\d{1,2})\.(?P<ey>\d{4})      # 02.10.2025 (EU)
    )
    (?:[T\s]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?)?
    \s*(?P<zone>[A-Za-z]{1,4}|[+-]\d{2}:?\d{2})?\s*$""",
    re.VERBOSE,
)

_fromisoformat = datetime.fromisoformat

# Date-only values repeat on many rows (a ledger has one per day); cache their parse.
_date_cache: dict[str, date] = {}
_DATE_CACHE_LIMIT = 50_000


def _match(text: str, column: str) -> tuple[re.Match[str], datetime]:
    found = _DATE_RX.match(text)
    if found is None:
        raise RowError(f"column {column!r}: {text!r} is not a date")
    g = found.groupdict()
    if g["iy"]:
        year, month, day = g["iy"], g["im"], g["id"]
    elif g["uy"]:
        year, month, day = g["uy"], g["um"], g["ud"]
    else:
        year, month, day = g["ey"], g["em"], g["ed"]
    try:
        naive = datetime(  # noqa: DTZ001 - the zone is applied by the caller
            int(year), int(month), int(day),
            int(g["H"] or 0), int(g["M"] or 0), int(g["S"] or 0),
        )
    except ValueError:
        raise RowError(f"column {column!r}: {text!r} is not a valid date") from None
    return found, naive


def _zone_offset(zone: str | None, text: str, column: str) -> timedelta:
    if not zone:
        return timedelta(0)
    if zone[0] in "+-":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        return sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    offset = _ZONES.get(zone.upper())
    if offset is None:
        raise RowError(f"column {column!r}: unknown time zone {zone!r} in {text!r}")
    return offset


def parse_timestamp(text: str, column: str) -> datetime:
    """A point in time, tz-aware UTC. Date-only values are midnight UTC."""
    try:
        value = _fromisoformat(text)
    except ValueError:
        if not text or not text.strip():
            raise RowError(f"column {column!r} is empty, expected a date") from None
        found, naive = _match(text, column)
        offset = _zone_offset(found.group("zone"), text, column)
        return (naive - offset).replace(tzinfo=UTC)
    zone = value.tzinfo
    if zone is None:
        return value.replace(tzinfo=UTC)
    if zone is UTC:
        return value
    return value.astimezone(UTC)


def parse_optional_timestamp(text: str, column: str) -> datetime | None:
    if not text or not text.strip():
        return None
    return parse_timestamp(text, column)


def parse_date(text: str, column: str) -> date:
    """A calendar date as written (no zone conversion): ``Date`` of the ledger is the
    marketplace's local day, which is what claim windows count in."""
    cached = _date_cache.get(text)
    if cached is not None:
        return cached
    try:
        value = date.fromisoformat(text)
    except ValueError:
        if not text or not text.strip():
            raise RowError(f"column {column!r} is empty, expected a date") from None
        _found, naive = _match(text, column)
        value = naive.date()
    if len(_date_cache) >= _DATE_CACHE_LIMIT:
        _date_cache.clear()
    _date_cache[text] = value
    return value


def utc_day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


__all__ = [
    "RowError",
    "normalize_header",
    "parse_date",
    "parse_decimal",
    "parse_int",
    "parse_optional_decimal",
    "parse_optional_int",
    "parse_optional_timestamp",
    "parse_timestamp",
    "utc_day_start",
]
