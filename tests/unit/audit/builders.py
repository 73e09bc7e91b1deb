"""Hand-made report rows for the audit tests: records with Amazon's fields, and report
files written with Amazon's exact headers (domain/fba-audit.md §4, §7)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from functions.audit.logic.reports.records import (
    CustomerReturn,
    FeeEstimate,
    InboundShipmentItem,
    LedgerEntry,
    Reimbursement,
    RemovalOrder,
    RemovalShipment,
    SettlementLine,
)
from functions.core.money import Money

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "audit"
REAL_SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "domain" / "samples" / "real"

LEDGER_HEADER = [
    "Date", "FNSKU", "ASIN", "MSKU", "Title", "Event Type", "Reference ID", "Quantity",
    "Fulfillment Center", "Disposition", "Reason", "Country", "Reconciled Quantity",
    "Unreconciled Quantity", "Date and Time",
]
REIMBURSEMENT_HEADER = [
    "approval-date", "reimbursement-id", "case-id", "amazon-order-id", "reason", "sku",
    "fnsku", "asin", "product-name", "condition", "currency-unit", "amount-per-unit",
    "amount-total", "quantity-reimbursed-cash", "quantity-reimbursed-inventory",
    "quantity-reimbursed-total", "original-reimbursement-id", "original-reimbursement-type",
]
RETURNS_HEADER = [
    "return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity",
    "fulfillment-center-id", "detailed-disposition", "reason", "status",
    "license-plate-number", "customer-comments",
]

FNSKU, ASIN, SKU = "X002ABCD12", "B0C1EXAMPL", "MUG-BLU-12"


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def ledger(
    day: date, *, event: str = "Adjustments", reason: str = "", quantity: int = -1,
    reference: str = "781245501", fnsku: str = FNSKU, sku: str = SKU,
    unreconciled: int | None = None, reconciled: int | None = None, fc: str = "PHX7",
    disposition: str = "SELLABLE", line: int = 2, file: str = "ledger.tsv",
    country: str = "US", hour: int = 12,
) -> LedgerEntry:
    return LedgerEntry(
        file, line, day, fnsku, ASIN, sku, "Blue Mug", event, reference, quantity, fc,
        disposition, reason, country, reconciled, unreconciled, at(day, hour),
    )


def reimbursement(
    day: date, *, reason: str = "Lost_Warehouse", quantity: int = 1,
    per_unit: str = "4.10", rid: str = "9876543210", fnsku: str = FNSKU, sku: str = SKU,
    order: str = "", case: str = "", original: str = "", original_type: str = "",
    currency: str = "USD", cash: int | None = None, line: int = 2,
    file: str = "reimbursements.tsv",
) -> Reimbursement:
    unit = Money.of(per_unit, currency)
    cash_units = quantity if cash is None else cash
    return Reimbursement(
        file, line, at(day, 7), rid, case, order, reason, sku, fnsku, ASIN, "New", unit,
        unit * Decimal(abs(quantity)), cash_units, quantity - cash_units, quantity, original,
        original_type,
    )


def reversal(day: date, original: Reimbursement, *, quantity: int = 1,
             rid: str = "9876600021", line: int = 3) -> Reimbursement:
    per_unit = original.amount_per_unit.amount if original.amount_per_unit else Decimal(0)
    return reimbursement(
        day, reason="Reimbursement_Reversal", quantity=-quantity, per_unit=str(-per_unit),
        rid=rid, fnsku=original.fnsku, sku=original.sku, order=original.amazon_order_id,
        original=original.reimbursement_id, original_type=original.reason,
        currency=original.currency, line=line)


def customer_return(
    day: date, *, order: str = "113-9990001-2223334", disposition: str = "SELLABLE",
    lpn: str = "LPNRR87654321", quantity: int = 1, fnsku: str = FNSKU, sku: str = SKU,
    line: int = 2,
) -> CustomerReturn:
    return CustomerReturn(
        "returns.tsv", line, at(day, 11), order, sku, ASIN, fnsku, "Blue Mug", quantity,
        "PHX7", disposition, "DEFECTIVE", "Unit returned to inventory", lpn, "",
    )


def settlement_line(
    day: date, *, kind: str = "Order", order: str = "113-5556667-7778889",
    amount_type: str = "ItemPrice", description: str = "Principal", amount: str = "19.99",
    quantity: int | None = None, sku: str = SKU, settlement: str = "11223344556",
    currency: str = "USD", marketplace: str = "Amazon.com", item: str = "54321000001",
    line: int = 3,
) -> SettlementLine:
    return SettlementLine(
        "settlement.tsv", line, settlement, kind, order, "", "", marketplace, amount_type,
        description, Money.of(amount, currency), "AFN", at(day, 10), item, sku, quantity,
    )


def fee_estimate(*, expected: str = "3.22", sku: str = SKU, currency: str = "USD",
                 sales_price: str = "19.99", fee_total: str = "6.22") -> FeeEstimate:
    return FeeEstimate(
        "fees.tsv", 2, sku, FNSKU, ASIN, "US", currency, Decimal(sales_price),
        Decimal(sales_price), Decimal("6.10"), Decimal("4.20"), Decimal("4.00"), "inches",
        Decimal("0.95"), "pounds", "Large Standard-Size", Decimal(fee_total), Decimal("3.00"),
        Decimal(expected),
    )


def inbound(closed: date | None, *, shipped: int = 24, received: int = 18,
            status: str = "CLOSED", shipment: str = "FBA15XSHIP1", line: int = 2
            ) -> InboundShipmentItem:
    return InboundShipmentItem(
        "inbound.csv", line, shipment, SKU, FNSKU, shipped, received, status,
        None if closed is None else at(closed, 0))


def removal_order(
    updated: date, *, order: str = "RMV-0001", requested: int = 5, shipped: int = 3,
    cancelled: int = 0, disposed: int = 0, in_process: int = 0, status: str = "Completed",
) -> RemovalOrder:
    return RemovalOrder(
        "removals.tsv", 2, at(updated - timedelta(days=10)), order, "Return", status,
        at(updated), SKU, FNSKU, "Sellable", requested, cancelled, disposed, shipped,
        in_process, Money.of("1.56", "USD"))


def removal_shipment(shipped: date, *, order: str = "RMV-0001", quantity: int = 3,
                     tracking: str = "1Z999AA10123456784") -> RemovalShipment:
    return RemovalShipment(
        "removal_shipments.tsv", 2, at(shipped - timedelta(days=10)), order, at(shipped),
        SKU, FNSKU, "Sellable", quantity, "UPS", tracking, "Return")


def write_tsv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]],
              *, delimiter: str = "\t") -> Path:
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
