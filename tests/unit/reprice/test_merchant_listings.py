"""GET_MERCHANT_LISTINGS_ALL_DATA parser: Amazon's columns, codes and quirks.

The fixture tests/fixtures/reprice/merchant_listings.txt is hand-made with Amazon's exact
header (US marketplace, USD): an FBM mug, an FBA mug, a used book (code 1), an
out-of-stock FBM mug whose name holds double quotes, an incomplete listing without
ASIN or price, a collectible FBA mug (code 5) and an FBM listing without a price.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from functions.reprice.logic.merchant_listings import (
    MerchantListing,
    MerchantListingsError,
    SkippedRow,
    parse_condition,
    parse_fulfillment,
    parse_merchant_listings,
    parse_price,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "reprice" / "merchant_listings.txt"


def _rows(text: str, currency: str = "USD") -> list[MerchantListing | SkippedRow]:
    return list(parse_merchant_listings(text.splitlines(keepends=True), currency=currency))


def test_the_fixture_reads_as_amazon_writes_it() -> None:
    with FIXTURE.open(encoding="utf-8", newline="") as stream:
        rows = list(parse_merchant_listings(stream, currency="USD"))
    listings = {r.sku: r for r in rows if isinstance(r, MerchantListing)}
    skipped = [r for r in rows if isinstance(r, SkippedRow)]

    assert list(listings) == [
        "MUG-BLU-12", "MUG-RED-12", "BOOK-ART-U1", "MUG-CAMP-16", "MUG-VINT-C", "MUG-GIFT-BOX",
    ]
    blue = listings["MUG-BLU-12"]
    assert (blue.asin, blue.condition, blue.fulfillment) == ("B0EXMUG001", "new", "FBM")
    assert (blue.price, blue.quantity, blue.in_stock, blue.status) == (
        Decimal("12.99"), 25, True, "Active",
    )
    assert blue.line == 2
    red = listings["MUG-RED-12"]
    assert (red.fulfillment, red.price, red.quantity, red.in_stock) == (
        "FBA", Decimal("14.50"), None, None,
    )
    assert listings["BOOK-ART-U1"].condition == "used"
    camp = listings["MUG-CAMP-16"]
    assert camp.item_name == 'Enamel Camping Mug "Large" 16 oz'  # quotes are text
    assert (camp.in_stock, camp.status) == (False, "Inactive")
    assert listings["MUG-VINT-C"].condition == "collectible"
    assert listings["MUG-GIFT-BOX"].price is None

    (incomplete,) = skipped
    assert (incomplete.line, incomplete.sku) == (6, "TUMBLER-DRAFT")
    assert "asin1" in incomplete.reason


def test_header_names_match_ignoring_case_and_separators_and_order() -> None:
    text = (
        "ASIN1\tSeller SKU\tFulfillment_Channel\tPrice\tItem Condition\n"
        "B0X1\tS-1\tAMAZON_EU\t9.50\t11\n"
    )
    (row,) = _rows(text, "EUR")
    assert isinstance(row, MerchantListing)
    assert (row.sku, row.asin, row.fulfillment) == ("S-1", "B0X1", "FBA")
    assert row.price == Decimal("9.50")


def test_japanese_headers_and_yen_prices() -> None:
    text = (
        "商品名\t出品ID\t出品者SKU\t価格\t数量\tコンディション\tasin1\tフルフィルメント・チャンネル\n"
        "湯呑み\t0101A000001\tJP-CUP-1\t1,299\t4\t11\tB0JPCUP001\tDEFAULT\n"
    )
    (row,) = _rows(text, "JPY")
    assert isinstance(row, MerchantListing)
    assert (row.sku, row.price, row.quantity, row.condition) == (
        "JP-CUP-1", Decimal(1299), 4, "new",
    )


def test_windows_line_ends_byte_order_mark_and_blank_lines() -> None:
    text = "\ufeffseller-sku\tasin1\tprice\r\n\r\nS-1\tB0X1\t5.00\r\n"
    (row,) = _rows(text)
    assert isinstance(row, MerchantListing) and row.price == Decimal("5.00")


def test_extra_columns_amazon_adds_are_ignored() -> None:
    text = (
        "seller-sku\tasin1\tprice\tBusiness Price\tQuantity Price 1\n"
        "S-1\tB0X1\t5.00\t4.50\t4.00\n"
    )
    (row,) = _rows(text)
    assert isinstance(row, MerchantListing) and row.price == Decimal("5.00")


def test_unusable_rows_are_skipped_with_a_reason_and_the_rest_goes_on() -> None:
    text = (
        "seller-sku\tasin1\tprice\titem-condition\tfulfillment-channel\n"
        "\tB0X0\t1.00\t11\tDEFAULT\n"
        "S-1\tB0X1\tabc\t11\tDEFAULT\n"
        "S-2\tB0X2\t2.00\t42\tDEFAULT\n"
        "S-3\tB0X3\t3.00\t11\tCARRIER_PIGEON\n"
        "S-4\tB0X4\t4.00\t11\tDEFAULT\n"
    )
    rows = _rows(text)
    assert [type(r).__name__ for r in rows] == ["SkippedRow"] * 4 + ["MerchantListing"]
    reasons = [r.reason for r in rows if isinstance(r, SkippedRow)]
    assert "seller-sku" in reasons[0]
    assert "price" in reasons[1] and "item-condition" in reasons[2]
    assert "fulfillment-channel" in reasons[3]
    assert [r.line for r in rows] == [2, 3, 4, 5, 6]


def test_short_rows_read_missing_cells_as_empty() -> None:
    (row,) = _rows("seller-sku\tasin1\tprice\tquantity\tstatus\nS-1\tB0X1\n")
    assert isinstance(row, MerchantListing)
    assert (row.price, row.quantity, row.status, row.condition) == (None, None, None, "new")


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "item-name\tprice\nMug\t1.00\n", "sku,asin,price\nS,B,1.00\n"],
)
def test_not_a_listings_report(text: str) -> None:
    with pytest.raises(MerchantListingsError):
        _rows(text)


def test_it_streams_without_reading_everything_first() -> None:
    def lines():
        yield "seller-sku\tasin1\tprice\n"
        for i in range(1_000_000):
            yield f"S-{i}\tB0X{i}\t1.00\n"

    stream = parse_merchant_listings(lines(), currency="USD")
    first = next(stream)
    assert isinstance(first, MerchantListing) and first.sku == "S-0"


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("12.99", "USD", "12.99"),
        ("12,99", "EUR", "12.99"),
        ("1.299,00", "EUR", "1299.00"),
        ("1,299.00", "USD", "1299.00"),
        ("1,299", "USD", "1299"),
        ("1,299 JPY", "JPY", "1299"),
        ("1299", "JPY", "1299"),
        ("", "USD", None),
        ("  ", "USD", None),
    ],
)
def test_prices(text: str, currency: str, expected: str | None) -> None:
    value = parse_price(text, currency)
    assert value == (None if expected is None else Decimal(expected))


def test_conditions_and_channels() -> None:
    codes = ("1", "4", "5", "8", "10", "11", "", "New", "Used; Good")
    assert [parse_condition(c) for c in codes] == [
        "used", "used", "collectible", "collectible", "refurbished", "new", "new", "new", "used",
    ]
    with pytest.raises(ValueError, match="item-condition"):
        parse_condition("9")
    channels = ("DEFAULT", "AMAZON_NA", "AMAZON_EU", "AMAZON_FE", "")
    assert [parse_fulfillment(c) for c in channels] == ["FBM", "FBA", "FBA", "FBA", "FBM"]
