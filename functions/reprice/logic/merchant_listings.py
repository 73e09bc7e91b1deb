"""Amazon's "All Listings Report" (``GET_MERCHANT_LISTINGS_ALL_DATA``), read as a stream.

The report is a tab-separated file with a header row, one row per SKU on one marketplace
(active and inactive listings). The columns the first sync needs, by Amazon's names:

=======================  ==============================================================
``seller-sku``           our SKU (required)
``asin1``                the ASIN (required; a row without one, e.g. an incomplete
                         listing, is skipped)
``price``                our listing price, in the marketplace's currency (may be empty)
``quantity``             units available (merchant-fulfilled only; empty for FBA)
``item-condition``       Amazon's numeric condition code: 1-4 used, 5-8 collectible,
                         10 refurbished, 11 new (some files carry words instead)
``fulfillment-channel``  ``DEFAULT`` = merchant fulfilled (FBM); ``AMAZON_NA``,
                         ``AMAZON_EU``, ``AMAZON_FE``, ... = fulfilled by Amazon (FBA)
``status``               ``Active``, ``Inactive``, ``Incomplete`` (not in every locale)
``item-name``            the title
=======================  ==============================================================

Header names are matched ignoring case, spaces, ``-`` and ``_``; the Japanese report's
localised names for these columns are known too. Other columns (``listing-id``,
``open-date``, ``Business Price``, ``Quantity Price 1`` ...) are ignored, so Amazon adding
columns breaks nothing. Cells are not quoted in Amazon's files: quotes are kept as text.

Nothing here touches AWS or the network: :func:`parse_merchant_listings` takes any
iterable of lines (an open report document streams them) and yields one result per row.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from functions.core.money import minor_units

REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"

# Canonical column → accepted header names (already normalised, see _normalise).
_ALIASES: dict[str, tuple[str, ...]] = {
    "seller-sku": ("sellersku", "sku", "出品者sku"),
    "asin1": ("asin1", "asin"),
    "price": ("price", "価格"),
    "quantity": ("quantity", "数量", "在庫数"),
    "item-condition": ("itemcondition", "コンディション"),
    "fulfillment-channel": (
        "fulfillmentchannel",
        "fulfilmentchannel",
        "フルフィルメント・チャンネル",
        "フルフィルメントチャンネル",
    ),
    "status": ("status", "ステータス"),
    "item-name": ("itemname", "商品名"),
}
REQUIRED_COLUMNS = ("seller-sku", "asin1")

# Amazon's item-condition codes (flat files and listings reports).
_CONDITION_CODES = {
    "1": "used", "2": "used", "3": "used", "4": "used",
    "5": "collectible", "6": "collectible", "7": "collectible", "8": "collectible",
    "10": "refurbished", "11": "new",
}
_CONDITION_WORDS = ("new", "used", "collectible", "refurbished", "club")

_NOT_PRICE = re.compile(r"[^0-9.,]")


class MerchantListingsError(ValueError):
    """The file is not a merchant listings report (no header, or required columns missing)."""


@dataclass(frozen=True, slots=True)
class MerchantListing:
    """One usable row: our offer as Amazon lists it. ``price`` is in the marketplace's
    currency (``None`` when the report has none); ``quantity`` is ``None`` when unknown
    (FBA rows carry no quantity)."""

    line: int
    sku: str
    asin: str
    condition: str
    fulfillment: Literal["FBA", "FBM"]
    price: Decimal | None
    quantity: int | None
    status: str | None
    item_name: str | None

    @property
    def in_stock(self) -> bool | None:
        """Whether units are available, when the report says (merchant-fulfilled rows)."""
        return None if self.quantity is None else self.quantity > 0


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row that cannot become a listing, and why."""

    line: int
    sku: str | None
    reason: str


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-_]+", "", name.strip().lstrip("\ufeff")).lower()


def _header_positions(header: list[str]) -> dict[str, int]:
    normalised = [_normalise(name) for name in header]
    positions: dict[str, int] = {}
    for column, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in normalised:
                positions[column] = normalised.index(alias)
                break
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        raise MerchantListingsError(
            "not a merchant listings report: no column " + ", ".join(missing)
        )
    return positions


def parse_price(text: str, currency: str) -> Decimal | None:
    """A report price as a Decimal in ``currency`` (``None`` for an empty cell).

    Amazon writes ``12.99``; some locales and re-saved files write ``12,99``, ``1,299``
    or ``1.299,00``, sometimes with the currency (``1,299 JPY``). The last ``.`` or ``,``
    is the decimal separator when followed by at most the currency's decimals, otherwise
    separators group thousands. Raises ``ValueError`` for anything else.
    """
    raw = _NOT_PRICE.sub("", text)
    if not raw:
        if text.strip():
            raise ValueError(f"price {text!r} is not a number")
        return None
    decimals = minor_units(currency)
    last = max(raw.rfind("."), raw.rfind(","))
    if last >= 0 and 0 < len(raw) - last - 1 <= max(decimals, 0) and decimals > 0:
        whole, fraction = raw[:last], raw[last + 1 :]
        number = re.sub(r"[.,]", "", whole) + "." + fraction
    else:
        number = re.sub(r"[.,]", "", raw)
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"price {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"price {text!r} is not a price")
    return value


def parse_condition(text: str) -> str:
    """Amazon's condition code or word as an SP-API item condition (``new``, ``used``...).

    An empty cell means ``new`` (the report leaves it empty for new items in some
    locales). Raises ``ValueError`` for a code Amazon does not define.
    """
    value = text.strip()
    if not value:
        return "new"
    if value in _CONDITION_CODES:
        return _CONDITION_CODES[value]
    word = re.split(r"[\s;:_\-]+", value.lower(), maxsplit=1)[0]
    if word in _CONDITION_WORDS:
        return word
    raise ValueError(f"unknown item-condition {text!r}")


def parse_fulfillment(text: str) -> Literal["FBA", "FBM"]:
    """``DEFAULT`` (or empty) → FBM; ``AMAZON_*`` → FBA."""
    value = text.strip().upper()
    if value.startswith("AMAZON") or value in {"AFN", "FBA"}:
        return "FBA"
    if value in {"", "DEFAULT", "MERCHANT", "MFN", "FBM"}:
        return "FBM"
    raise ValueError(f"unknown fulfillment-channel {text!r}")


def _quantity(text: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    try:
        return max(int(Decimal(value)), 0)
    except (InvalidOperation, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class _Cells:
    row: list[str]
    positions: dict[str, int]

    def get(self, column: str) -> str:
        """The stripped cell of ``column`` ("" when the column is absent or the row short)."""
        index = self.positions.get(column)
        return self.row[index].strip() if index is not None and index < len(self.row) else ""


def parse_merchant_listings(
    lines: Iterable[str], *, currency: str
) -> Iterator[MerchantListing | SkippedRow]:
    """Read a ``GET_MERCHANT_LISTINGS_ALL_DATA`` document row by row.

    ``lines`` is any iterable of text lines (an open document, a list); ``currency`` is
    the marketplace's, used to read prices. Yields a :class:`MerchantListing` per usable
    row and a :class:`SkippedRow` (with the reason) per unusable one; blank lines are
    ignored. Raises :class:`MerchantListingsError` when the header is missing or lacks
    ``seller-sku`` / ``asin1``. ``line`` numbers count the header as line 1.
    """
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    positions: dict[str, int] | None = None
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if positions is None:
            positions = _header_positions(row)
            continue

        cells = _Cells(row, positions)
        cell = cells.get
        sku = cell("seller-sku")
        if not sku:
            yield SkippedRow(line, None, "no seller-sku")
            continue
        asin = cell("asin1")
        if not asin:
            yield SkippedRow(line, sku, "no asin1 (incomplete listing)")
            continue
        try:
            condition = parse_condition(cell("item-condition"))
            fulfillment = parse_fulfillment(cell("fulfillment-channel"))
            price = parse_price(cell("price"), currency)
        except ValueError as error:
            yield SkippedRow(line, sku, str(error))
            continue
        yield MerchantListing(
            line=line,
            sku=sku,
            asin=asin,
            condition=condition,
            fulfillment=fulfillment,
            price=price if price else None,
            quantity=_quantity(cell("quantity")),
            status=cell("status") or None,
            item_name=cell("item-name") or None,
        )
    if positions is None:
        raise MerchantListingsError("not a merchant listings report: the file is empty")
