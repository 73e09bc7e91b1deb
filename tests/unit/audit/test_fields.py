"""Cell values: the date and number shapes Amazon's reports use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.audit.logic.reports.fields import (
    RowError,
    normalize_header,
    parse_date,
    parse_decimal,
    parse_int,
    parse_optional_decimal,
    parse_timestamp,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-10-02T09:14:07-07:00", datetime(2025, 10, 2, 16, 14, 7, tzinfo=UTC)),
    ("2025-10-04T07:21:10+00:00", datetime(2025, 10, 4, 7, 21, 10, tzinfo=UTC)),
    ("2025-10-04T07:21:10Z", datetime(2025, 10, 4, 7, 21, 10, tzinfo=UTC)),
    ("2023-01-03 10:00:00 UTC", datetime(2023, 1, 3, 10, tzinfo=UTC)),
    ("02.10.2025 07:21:10 UTC", datetime(2025, 10, 2, 7, 21, 10, tzinfo=UTC)),
    ("2025-10-02", datetime(2025, 10, 2, tzinfo=UTC)),
    ("10/02/2025", datetime(2025, 10, 2, tzinfo=UTC)),
    ("2018-12-01 08:00:00 PST", datetime(2018, 12, 1, 16, tzinfo=UTC)),
])
def test_timestamps_in_every_documented_shape_become_utc(text: str, expected: datetime) -> None:
    value = parse_timestamp(text, "date")
    assert value == expected
    assert value.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("text", "expected"), [
    ("10/02/2025", date(2025, 10, 2)),  # ledger Date: MM/DD/YYYY
    ("2025-10-02", date(2025, 10, 2)),
    ("02.10.2025", date(2025, 10, 2)),  # EU: DD.MM.YYYY
])
def test_calendar_dates(text: str, expected: date) -> None:
    assert parse_date(text, "Date") == expected


@pytest.mark.parametrize("text", ["", "yesterday", "13/45/2025", "2025-02-30"])
def test_a_bad_date_names_its_column(text: str) -> None:
    with pytest.raises(RowError, match="Date"):
        parse_timestamp(text, "Date")


@pytest.mark.parametrize(("text", "expected"), [
    ("4.10", Decimal("4.10")), ("-4.10", Decimal("-4.10")), ("4,10", Decimal("4.10")),
    ("1.234,56", Decimal("1234.56")), ("1,234.56", Decimal("1234.56")),
    (" 12 ", Decimal("12")),
])
def test_decimals_with_dot_or_comma(text: str, expected: Decimal) -> None:
    assert parse_decimal(text, "amount") == expected


@pytest.mark.parametrize("text", ["", "--", "N/A"])
def test_not_applicable_amounts_are_none(text: str) -> None:
    assert parse_optional_decimal(text, "amount") is None


@pytest.mark.parametrize("text", ["abc", "NaN", "Infinity"])
def test_non_numbers_are_refused(text: str) -> None:
    with pytest.raises(RowError):
        parse_decimal(text, "amount")


def test_whole_numbers() -> None:
    assert parse_int("-3", "Quantity") == -3
    assert parse_int("3.0", "Quantity") == 3
    with pytest.raises(RowError, match="Quantity"):
        parse_int("2.5", "Quantity")


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2,
                   min_value=-10**9, max_value=10**9))
def test_decimal_text_round_trips(value: Decimal) -> None:
    assert parse_decimal(str(value), "amount") == value
    assert parse_decimal(str(value).replace(".", ","), "amount") == value


@pytest.mark.parametrize("name", [
    "Unreconciled Quantity", "unreconciled-quantity", "UNRECONCILED_QUANTITY",
    "UnreconciledQuantity", '"Unreconciled Quantity"',
])
def test_header_names_match_ignoring_case_spaces_dashes_underscores(name: str) -> None:
    assert normalize_header(name) == normalize_header("unreconciled_quantity")
