"""Streaming parsers: files recognised by their header, in every shape a user may have."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
from decimal import Decimal
from pathlib import Path

import pytest

from functions.audit.logic.reports import (
    CustomerReturn,
    FeeEstimate,
    InboundShipmentItem,
    LedgerEntry,
    Reimbursement,
    RemovalOrder,
    RemovalShipment,
    ReportError,
    ReportKind,
    SettlementLine,
    SettlementSummary,
    open_report,
    read_records,
)
from functions.core.money import Money

from .builders import FIXTURES, LEDGER_HEADER, REAL_SAMPLES, write_tsv

SELLER = FIXTURES / "seller"


def _read(path: Path | str, **options: object) -> tuple[list[object], list[ReportError]]:
    errors: list[ReportError] = []
    return list(read_records(path, errors, **options)), errors  # type: ignore[arg-type]


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        delimiter = "," if path.suffix == ".csv" else "\t"
        return list(csv.reader(handle, delimiter=delimiter))


@pytest.mark.parametrize(("name", "kind", "record_type"), [
    ("Inventory_Ledger_Detail.txt", ReportKind.LEDGER, LedgerEntry),
    ("reimbursements.tsv", ReportKind.REIMBURSEMENTS, Reimbursement),
    ("customer_returns.tsv", ReportKind.CUSTOMER_RETURNS, CustomerReturn),
    ("removal_order_detail.tsv", ReportKind.REMOVAL_ORDERS, RemovalOrder),
    ("removal_shipment_detail.tsv", ReportKind.REMOVAL_SHIPMENTS, RemovalShipment),
    ("fba_fee_preview.txt", ReportKind.FEE_ESTIMATES, FeeEstimate),
    ("inbound_shipments.csv", ReportKind.INBOUND_SHIPMENTS, InboundShipmentItem),
])
def test_each_report_is_recognised_by_its_header_and_every_row_read(
        name: str, kind: ReportKind, record_type: type) -> None:
    path = SELLER / name
    with open_report(path) as report:
        assert report.kind is kind
    records, errors = _read(path)
    assert errors == []
    assert all(isinstance(r, record_type) for r in records)
    assert [r.line for r in records] == list(range(2, len(_rows(path)) + 1))


def test_ledger_values_are_typed() -> None:
    rows = _rows(SELLER / "Inventory_Ledger_Detail.txt")
    header = rows[0]
    records, _ = _read(SELLER / "Inventory_Ledger_Detail.txt")
    for raw, entry in zip(rows[1:], records, strict=True):
        cell = dict(zip(header, raw, strict=True))
        assert entry.fnsku == cell["FNSKU"]
        assert entry.quantity == int(cell["Quantity"])
        assert entry.reason == cell["Reason"]
        assert entry.date.strftime("%m/%d/%Y") == cell["Date"]
        assert entry.date_time is not None and entry.date_time.utcoffset().total_seconds() == 0
        if cell["Unreconciled Quantity"]:
            assert entry.unreconciled_quantity == int(cell["Unreconciled Quantity"])
        else:
            assert entry.unreconciled_quantity is None


def test_reimbursement_amounts_are_money_in_the_rows_currency() -> None:
    rows = _rows(SELLER / "reimbursements.tsv")
    records, _ = _read(SELLER / "reimbursements.tsv")
    for raw, record in zip(rows[1:], records, strict=True):
        cell = dict(zip(rows[0], raw, strict=True))
        assert record.amount_total == Money.of(cell["amount-total"], cell["currency-unit"])
        assert record.quantity_total == int(cell["quantity-reimbursed-total"])
        assert record.original_reimbursement_id == cell["original-reimbursement-id"]


def test_settlement_v2_has_a_summary_then_one_line_per_amount() -> None:
    rows = _rows(SELLER / "settlement.tsv")
    records, errors = _read(SELLER / "settlement.tsv")
    assert errors == []
    summaries = [r for r in records if isinstance(r, SettlementSummary)]
    lines = [r for r in records if isinstance(r, SettlementLine)]
    assert len(summaries) + len(lines) == len(rows) - 1
    assert {s.settlement_id for s in summaries} == {line.settlement_id for line in lines}
    # The amount rows carry no currency; it comes from their settlement's summary row.
    assert all(line.amount.currency == "USD" for line in lines)
    fee = next(line for line in lines if line.amount_description == "FBAPerUnitFulfillmentFee")
    assert fee.amount.amount < 0


def test_the_eu_fee_preview_layout_is_read_too(tmp_path: Path) -> None:
    header = ["sku", "fnsku", "asin", "amazon-store", "product-name", "product-group", "brand",
              "fulfilled-by", "your-price", "sales-price", "longest-side", "median-side",
              "shortest-side", "length-and-girth", "unit-of-dimension", "item-package-weight",
              "unit-of-weight", "product-size-weight-band", "currency", "estimated-fee-total",
              "estimated-referral-fee-per-unit", "estimated-variable-closing-fee",
              "expected-domestic-fulfilment-fee-per-unit",
              "expected-efn-fulfilment-fee-per-unit-uk"]
    row = ["TASSE-1", "X00EU00001", "B0EU000001", "DE", "Tasse", "Kitchen", "Acme", "AFN",
           "12,99", "12,99", "15,0", "10,0", "8,0", "--", "cm", "0,40", "kg",
           "Standard Parcel", "EUR", "5,05", "1,95", "0,00", "3,10", "--"]
    path = write_tsv(tmp_path / "fees_eu.txt", header, [row])
    (fee,), errors = _read(path)
    assert errors == []
    assert isinstance(fee, FeeEstimate)
    assert fee.expected_fulfillment_fee_per_unit == Decimal("3.10")
    assert fee.product_size_tier == "Standard Parcel"
    assert fee.your_price == Decimal("12.99")


@pytest.mark.skipif(not (REAL_SAMPLES / "settlement_flat_file.airbyte.tsv").exists(),
                    reason="../shared/domain/samples/real/ is not present (a clone of the "
                    "repository alone has no shared samples)")
def test_real_legacy_settlement_sample_is_read_in_place() -> None:
    records, errors = _read(REAL_SAMPLES / "settlement_flat_file.airbyte.tsv")
    assert errors == []
    summary = [r for r in records if isinstance(r, SettlementSummary)]
    lines = [r for r in records if isinstance(r, SettlementLine)]
    assert len(summary) == 1
    # The old layout carries several amounts on one row; each becomes a line.
    assert {line.amount_description for line in lines} >= {"Principal",
                                                          "FBAPerUnitFulfillmentFee"}
    assert all(line.amount.currency == summary[0].total.currency for line in lines)


# -- the shapes a file may come in ---------------------------------------------------------
def _ledger_text() -> str:
    return (SELLER / "Inventory_Ledger_Detail.txt").read_text(encoding="utf-8")


def _entries(records: list[object]) -> list[tuple[object, ...]]:
    return [(e.fnsku, e.reference_id, e.quantity, e.reason, e.date_time)  # type: ignore[attr-defined]
            for e in records]


def test_bom_gzip_and_any_file_name_give_the_same_records(tmp_path: Path) -> None:
    plain, _ = _read(SELLER / "Inventory_Ledger_Detail.txt")
    with_bom = tmp_path / "report-1.txt"
    with_bom.write_bytes(codecs.BOM_UTF8 + _ledger_text().encode())
    zipped = tmp_path / "download"  # gzip recognised by content, not by name
    zipped.write_bytes(gzip.compress(codecs.BOM_UTF8 + _ledger_text().encode()))
    for path in (with_bom, zipped):
        records, errors = _read(path)
        assert errors == []
        assert _entries(records) == _entries(plain)


def test_comma_separated_resave_with_quoted_values_and_crlf(tmp_path: Path) -> None:
    rows = list(csv.reader(io.StringIO(_ledger_text()), delimiter="\t"))
    rows[1][4] = 'Blue Mug, 12 oz "Classic"'  # a title a spreadsheet must quote
    path = tmp_path / "ledger.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
    records, errors = _read(path)
    assert errors == []
    plain, _ = _read(SELLER / "Inventory_Ledger_Detail.txt")
    assert _entries(records) == _entries(plain)
    assert records[0].title == 'Blue Mug, 12 oz "Classic"'  # type: ignore[attr-defined]


def test_utf16_from_a_spreadsheet_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ledger.txt"
    path.write_bytes(_ledger_text().encode("utf-16"))
    records, errors = _read(path)
    plain, _ = _read(SELLER / "Inventory_Ledger_Detail.txt")
    assert errors == [] and _entries(records) == _entries(plain)


@pytest.mark.parametrize("titles", [
    LEDGER_HEADER,
    [t.lower().replace(" ", "-") for t in LEDGER_HEADER],
    [t.replace(" ", "") for t in LEDGER_HEADER],  # EventType, ReferenceID, ...
    [t.upper().replace(" ", "_") for t in LEDGER_HEADER],
])
def test_header_spelling_does_not_matter(tmp_path: Path, titles: list[str]) -> None:
    rows = list(csv.reader(io.StringIO(_ledger_text()), delimiter="\t"))
    path = write_tsv(tmp_path / "ledger.tsv", titles, rows[1:])
    records, errors = _read(path)
    plain, _ = _read(SELLER / "Inventory_Ledger_Detail.txt")
    assert errors == [] and _entries(records) == _entries(plain)


def test_malformed_rows_are_reported_with_file_and_line_and_skipped(tmp_path: Path) -> None:
    lines = _ledger_text().splitlines()
    good = len(lines) - 1
    cells = lines[1].split("\t")
    bad_quantity = "\t".join([*cells[:7], "three", *cells[8:]])
    bad_date = "\t".join(["31/31/2025", *cells[1:]])
    short = "\t".join(cells[:5])
    text = "\n".join([lines[0], bad_quantity, *lines[1:3], short, *lines[3:], bad_date]) + "\n"
    path = tmp_path / "ledger.tsv"
    path.write_text(text, encoding="utf-8")
    records, errors = _read(path, name="ledger.tsv")
    assert len(records) == good
    assert [(e.file, e.line) for e in errors] == [
        ("ledger.tsv", 2), ("ledger.tsv", 5), ("ledger.tsv", len(lines) + 3)]
    assert "Quantity" in errors[0].reason and "three" in errors[0].reason
    assert "fields" in errors[1].reason
    assert "Date" in errors[2].reason


def test_an_unbalanced_quote_is_reported_with_the_lines_it_swallowed(tmp_path: Path) -> None:
    lines = _ledger_text().splitlines()
    cells = lines[2].split("\t")
    cells[4] = '"Red Lamp'  # opens a quote that the title of a later row closes
    later = lines[5].split("\t")
    later[4] = 'Blue Mug"'
    text = "\n".join([*lines[:2], "\t".join(cells), *lines[3:5], "\t".join(later),
                      *lines[6:]]) + "\n"
    path = tmp_path / "ledger.tsv"
    path.write_text(text, encoding="utf-8")
    records, errors = _read(path, name="ledger.tsv")
    assert [(e.line, "3-6" in e.reason) for e in errors] == [(3, True)]
    plain, _ = _read(SELLER / "Inventory_Ledger_Detail.txt")
    assert len(records) == len(plain) - 4  # every other row is still read


def test_quoted_values_may_hold_line_breaks(tmp_path: Path) -> None:
    text = (SELLER / "customer_returns.tsv").read_text(encoding="utf-8").splitlines()
    cells = text[2].split("\t")
    cells[-1] = '"handle cracked\nbox torn"'
    path = tmp_path / "returns.tsv"
    path.write_text("\n".join([text[0], text[1], "\t".join(cells), *text[3:]]) + "\n")
    records, errors = _read(path)
    assert errors == []
    assert records[1].customer_comments == "handle cracked\nbox torn"  # type: ignore[attr-defined]
    assert records[2].line == 5  # lines keep counting physical lines


def test_invalid_utf8_is_reported_and_the_rows_still_read(tmp_path: Path) -> None:
    text = _ledger_text()
    bad_line = 1 + next(n for n, line in enumerate(text.splitlines()) if "Blue Mug" in line)
    path = tmp_path / "ledger.tsv"
    path.write_bytes(text.encode().replace(b"Blue Mug", b"Blue M\xfcg", 1))
    records, errors = _read(path, name="ledger.tsv")
    plain, _ = _read(SELLER / "Inventory_Ledger_Detail.txt")
    assert len(records) == len(plain)
    assert len(errors) == 1 and errors[0].line == bad_line and "UTF-8" in errors[0].reason


def test_an_unknown_file_is_one_error_at_line_1(tmp_path: Path) -> None:
    path = write_tsv(tmp_path / "notes.txt", ["hello", "world"], [["a", "b"]])
    records, errors = _read(path, name="notes.txt")
    assert records == []
    assert [(e.file, e.line) for e in errors] == [("notes.txt", 1)]
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert _read(empty)[1][0].reason.startswith("empty file")


def test_rows_are_streamed_not_loaded(tmp_path: Path) -> None:
    rows = list(csv.reader(io.StringIO(_ledger_text()), delimiter="\t"))
    body = ("\t".join(rows[1]) + "\n").encode() * 20_000
    stream = io.BytesIO(("\t".join(rows[0]) + "\n").encode() + body)
    errors: list[ReportError] = []
    records = read_records(stream, errors, name="ledger")
    first = next(records)
    assert isinstance(first, LedgerEntry)
    assert stream.tell() < len(body) // 4  # only a buffer's worth was read
    assert sum(1 for _ in records) == 20_000 - 1


def test_ledger_rows_can_be_narrowed_to_event_types_and_reasons() -> None:
    everything, _ = _read(SELLER / "Inventory_Ledger_Detail.txt")
    kept, errors = _read(SELLER / "Inventory_Ledger_Detail.txt", event_types={"Adjustments"},
                         adjustment_reasons={"M", "5"})
    assert errors == []
    assert kept == [e for e in everything if e.event_type == "Adjustments"  # type: ignore[attr-defined]
                    and e.reason in {"M", "5"}]  # type: ignore[attr-defined]


def test_expecting_a_kind_refuses_another(tmp_path: Path) -> None:
    records, errors = _read(SELLER / "reimbursements.tsv", expect=ReportKind.LEDGER)
    assert records == [] and "expected a ledger report" in errors[0].reason
