"""What the detectors need from the reports: deduplicated, indexed, small.

Downloads overlap (a job re-pulls old months; a user drops two exports of the same
period into one folder), so every row is deduplicated on the keys domain/fba-audit.md §6
names. Results never depend on the order rows or files arrive in: where two versions of a
row differ, a fixed rule picks one (e.g. the smaller ``Unreconciled Quantity``, which is
the later state because reconciliation only grows).

Only what a detector reads is kept: of a ledger, the adjustments that matter (losses,
damages, found units), customer returns and receipt totals; the shipments (most of a
ledger) are never materialised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from functions.core.marketplaces import MARKETPLACES

from .reports.kinds import ADJUSTMENTS, CUSTOMER_RETURNS, RECEIPTS
from .reports.records import (
    CustomerReturn,
    FeeEstimate,
    InboundShipmentItem,
    LedgerEntry,
    Record,
    Reimbursement,
    RemovalOrder,
    RemovalShipment,
    SettlementLine,
    SettlementSummary,
)

LOSS_REASONS = frozenset({"M", "5"})
DAMAGE_REASONS = frozenset({"6", "7", "E", "H", "K", "U"})
FOUND_REASON = "F"
# Ledger event types the audit reads; the rest (Shipments, WhseTransfers, VendorReturns)
# are skipped by the parser after a shape check.
LEDGER_EVENTS_AUDITED = frozenset({ADJUSTMENTS, RECEIPTS, CUSTOMER_RETURNS})
# Adjustments the audit reads; the rest are skipped likewise. Not read: P/Q (disposition
# changes; a damage's P row only says where the unit went, and P rows are as many as all
# damages and customer-damage reclassifications together), D/G (disposals), N/O
# (unit reimbursements, which the reimbursements report carries), 3/4 (SKU merges).
ADJUSTMENT_REASONS_AUDITED = LOSS_REASONS | DAMAGE_REASONS | {FOUND_REASON}

FULFILLMENT_FEE = "fbaperunitfulfillmentfee"
_EVIDENCE_LINES = 4

COUNTRY_CURRENCY: dict[str, str] = {m.country: m.currency for m in MARKETPLACES.values()}
COUNTRY_CURRENCY["UK"] = "GBP"
EU_UK_COUNTRIES = frozenset({"DE", "FR", "IT", "ES", "NL", "SE", "PL", "BE", "IE", "GB", "UK"})
_DOMAIN_COUNTRY = {m.domain: m.country for m in MARKETPLACES.values()}


def marketplace_country(marketplace_name: str) -> str | None:
    """``Amazon.de`` (settlement ``marketplace-name``) → ``DE``."""
    return _DOMAIN_COUNTRY.get(marketplace_name.strip().lower())


@dataclass(slots=True)
class ReceiptTotal:
    """Units a shipment delivered for one FNSKU per the ledger's Receipts rows."""

    quantity: int = 0
    entries: list[LedgerEntry] = field(default_factory=list)


@dataclass(slots=True)
class OrderMoney:
    """One order's amounts for one SKU within the settlements (a sale or a refund).

    ``principal`` is the item price (negative for a refund), ``fees`` the item fees,
    ``net`` everything but taxes (which Amazon passes through); ``quantity`` the units
    (None when the rows carry no ``quantity-purchased``).
    """

    order_id: str
    sku: str
    currency: str
    marketplace: str
    principal: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    net: Decimal = Decimal(0)
    quantity: int | None = None
    posted: datetime | None = None
    lines: list[SettlementLine] = field(default_factory=list)


@dataclass(slots=True)
class FeeCharge:
    """FBA per-unit fulfillment fees charged on one order's SKU within one settlement."""

    settlement_id: str
    order_id: str
    sku: str
    currency: str
    amount: Decimal = Decimal(0)
    quantity: int | None = None
    posted: datetime | None = None
    lines: list[SettlementLine] = field(default_factory=list)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


class AuditData:
    """The deduplicated, indexed contents of a seller's reports."""

    def __init__(self) -> None:
        # ledger
        self.losses: dict[tuple[Any, ...], LedgerEntry] = {}
        self.damages: dict[tuple[Any, ...], LedgerEntry] = {}
        self.found: dict[tuple[Any, ...], LedgerEntry] = {}
        self.ledger_returns: dict[tuple[Any, ...], LedgerEntry] = {}
        self.receipts: dict[tuple[str, str], ReceiptTotal] = {}
        self._receipt_keys: set[int] = set()
        # other reports
        self.reimbursements: dict[tuple[str, str], Reimbursement] = {}
        self.returns: dict[tuple[Any, ...], CustomerReturn] = {}
        self.removal_orders: dict[tuple[str, str, str], RemovalOrder] = {}
        self.removal_shipments: dict[tuple[Any, ...], RemovalShipment] = {}
        self.fees: dict[tuple[str, str], FeeEstimate] = {}
        self.inbound: dict[tuple[str, str], InboundShipmentItem] = {}
        # settlements
        self.sales: dict[tuple[str, str], OrderMoney] = {}
        self.refunds: dict[tuple[str, str], OrderMoney] = {}
        self.fee_charges: dict[tuple[str, str, str], FeeCharge] = {}
        self.settlements: dict[str, SettlementSummary] = {}
        self._settlement_keys: set[int] = set()
        # derived, computed once on first use (pools shared by several detectors)
        self.cache: dict[str, Any] = {}

    # -- building -----------------------------------------------------------------------
    @classmethod
    def from_records(cls, records: Iterable[Record]) -> AuditData:
        data = cls()
        for record in records:
            data.add(record)
        return data

    def add(self, record: Record) -> None:
        self.adder(type(record))(record)

    def adder(self, record_type: type) -> Callable[[Any], None]:
        """The method that takes records of ``record_type`` (look it up once per file)."""
        return {
            LedgerEntry: self.add_ledger,
            Reimbursement: self.add_reimbursement,
            CustomerReturn: self.add_return,
            RemovalOrder: self.add_removal_order,
            RemovalShipment: self.add_removal_shipment,
            FeeEstimate: self.add_fee_estimate,
            SettlementLine: self.add_settlement_line,
            SettlementSummary: self.add_settlement_summary,
            InboundShipmentItem: self.add_inbound,
        }[record_type]

    def add_ledger(self, e: LedgerEntry) -> None:
        event = e.event_type
        if event == ADJUSTMENTS:
            reason = e.reason
            if reason in LOSS_REASONS and e.quantity < 0:
                store = self.losses
            elif reason in DAMAGE_REASONS and e.quantity < 0:
                store = self.damages
            elif reason == FOUND_REASON and e.quantity > 0:
                store = self.found
            else:
                return
        elif event == CUSTOMER_RETURNS:
            store = self.ledger_returns
        elif event == RECEIPTS:
            self._add_receipt(e)
            return
        else:
            return
        # Two copies of one row (overlapping downloads) share these; the Reference ID
        # alone identifies an adjustment, the order id a return.
        key = (e.reference_id, e.fnsku, e.quantity, e.reason, e.date_time or e.date,
               e.fulfillment_center, event)
        old = store.get(key)
        if old is None or _later_state(e, old):
            store[key] = e

    def _add_receipt(self, e: LedgerEntry) -> None:
        key = hash((e.reference_id, e.fnsku, e.quantity, e.date_time or e.date,
                    e.fulfillment_center, e.disposition))
        if key in self._receipt_keys:
            return
        self._receipt_keys.add(key)
        total = self.receipts.get((e.reference_id, e.fnsku))
        if total is None:
            total = self.receipts[(e.reference_id, e.fnsku)] = ReceiptTotal()
        total.quantity += e.quantity
        if len(total.entries) < _EVIDENCE_LINES:
            total.entries.append(e)

    def add_reimbursement(self, r: Reimbursement) -> None:
        key = (r.reimbursement_id, r.fnsku or r.sku)
        old = self.reimbursements.get(key)
        if old is None or _position(r) < _position(old):
            self.reimbursements[key] = r

    def add_return(self, r: CustomerReturn) -> None:
        # The license plate number identifies a returned unit; without one, its date does.
        key = (r.order_id, r.fnsku or r.sku, r.license_plate_number,
               r.detailed_disposition, None if r.license_plate_number else r.return_date)
        old = self.returns.get(key)
        if old is None or _position(r) < _position(old):
            self.returns[key] = r

    def add_removal_order(self, r: RemovalOrder) -> None:
        key = (r.order_id, r.fnsku or r.sku, r.disposition)
        old = self.removal_orders.get(key)
        if old is None or _removal_state(r) > _removal_state(old):
            self.removal_orders[key] = r

    def add_removal_shipment(self, r: RemovalShipment) -> None:
        key = (r.order_id, r.fnsku or r.sku, r.tracking_number, r.shipment_date,
               r.shipped_quantity, r.disposition)
        old = self.removal_shipments.get(key)
        if old is None or _position(r) < _position(old):
            self.removal_shipments[key] = r

    def add_fee_estimate(self, f: FeeEstimate) -> None:
        # Two versions of a SKU's estimate: keep the higher expected fee, so that a fee
        # change between the two downloads never creates an overcharge claim.
        key = (f.sku, f.currency)
        old = self.fees.get(key)
        if old is None or _fee_rank(f) > _fee_rank(old):
            self.fees[key] = f

    def add_inbound(self, item: InboundShipmentItem) -> None:
        key = (item.shipment_id, item.fnsku or item.sku)
        old = self.inbound.get(key)
        if old is None or _inbound_state(item) > _inbound_state(old):
            self.inbound[key] = item

    def add_settlement_summary(self, s: SettlementSummary) -> None:
        old = self.settlements.get(s.settlement_id)
        if old is None or _position(s) < _position(old):
            self.settlements[s.settlement_id] = s

    def add_settlement_line(self, line: SettlementLine) -> None:
        key = hash((line.settlement_id, line.transaction_type, line.order_id,
                    line.adjustment_id, line.shipment_id, line.order_item_code,
                    line.amount_type, line.amount_description, line.amount.amount,
                    line.amount.currency, line.posted, line.sku, line.quantity))
        if key in self._settlement_keys:
            return
        self._settlement_keys.add(key)
        kind = line.transaction_type.strip().lower()
        if kind not in ("order", "refund") or not line.order_id:
            return
        description = line.amount_description.strip().lower()
        amount_type = line.amount_type.strip().lower()
        store = self.sales if kind == "order" else self.refunds
        money = store.get((line.order_id, line.sku))
        if money is None:
            money = store[(line.order_id, line.sku)] = OrderMoney(
                line.order_id, line.sku, line.amount.currency, line.marketplace_name)
        if money.currency != line.amount.currency:
            return  # one order is settled in one currency; a stray row is not mixed in
        amount = line.amount.amount
        if amount_type == "itemprice" and description == "principal":
            money.principal += amount
            if line.quantity:
                money.quantity = (money.quantity or 0) + line.quantity
        elif amount_type == "itemfees":
            money.fees += amount
        if "tax" not in description and "tax" not in amount_type:
            money.net += amount
        money.posted = _earliest(money.posted, line.posted)
        if not money.marketplace:
            money.marketplace = line.marketplace_name
        if len(money.lines) < _EVIDENCE_LINES:
            money.lines.append(line)
        if kind == "order" and description == FULFILLMENT_FEE:
            key3 = (line.settlement_id, line.order_id, line.sku)
            charge = self.fee_charges.get(key3)
            if charge is None:
                charge = self.fee_charges[key3] = FeeCharge(
                    line.settlement_id, line.order_id, line.sku, line.amount.currency)
            charge.amount += amount
            if line.quantity:
                charge.quantity = (charge.quantity or 0) + line.quantity
            charge.posted = _earliest(charge.posted, line.posted)
            if len(charge.lines) < _EVIDENCE_LINES:
                charge.lines.append(line)

    def ledger_events_needed(self) -> frozenset[str]:
        """The ledger event types worth reading given what the other reports hold (they
        are read first): receipts matter only with inbound shipments to check or an
        inbound payment reversed, customer returns only with returns, refunds or a
        reversal to judge; adjustments always."""
        needed = {ADJUSTMENTS}
        reversals = [r for r in self.reimbursements.values()
                     if r.original_reimbursement_id and r.amount_total.amount < 0]
        if self.inbound or any("inbound" in r.original_reimbursement_type.lower()
                               for r in reversals):
            needed.add(RECEIPTS)
        if self.returns or self.refunds or reversals:
            needed.add(CUSTOMER_RETURNS)
        return frozenset(needed)

    # -- lookups ------------------------------------------------------------------------
    def catalog(self) -> Catalog:
        cached = self.cache.get("catalog")
        if cached is None:
            cached = self.cache["catalog"] = Catalog.build(self)
        return cached


class Catalog:
    """SKU ↔ FNSKU ↔ ASIN as seen in any report; many-to-many, the smallest id is used
    where one is needed, so the choice never depends on input order."""

    def __init__(self) -> None:
        self.fnsku_of_sku: dict[str, str] = {}
        self.sku_of_fnsku: dict[str, str] = {}
        self.asin_of_fnsku: dict[str, str] = {}
        self.asin_of_sku: dict[str, str] = {}
        self.country_of_fnsku: dict[str, str] = {}

    @classmethod
    def build(cls, data: AuditData) -> Catalog:
        ledger = (data.losses, data.damages, data.found, data.ledger_returns)
        links: set[tuple[str, str, str]] = {
            (e.msku, e.fnsku, e.asin) for store in ledger for e in store.values()}
        # The marketplace of an FNSKU only matters for valuing its losses and damages.
        countries = {(e.fnsku, e.country) for store in ledger[:3] for e in store.values()
                     if e.country}
        for group in (data.reimbursements.values(), data.returns.values(), data.fees.values()):
            links.update({(r.sku, r.fnsku, r.asin) for r in group})
        for group in (data.inbound.values(), data.removal_orders.values()):
            links.update({(i.sku, i.fnsku, "") for i in group})
        catalog = cls()
        # Sorted, so that where an id maps to several, the smallest wins whatever the order.
        for sku, fnsku, asin in sorted(links):
            if sku.startswith("Amazon.Found."):
                sku = ""
            if sku and fnsku:
                catalog.fnsku_of_sku.setdefault(sku, fnsku)
                catalog.sku_of_fnsku.setdefault(fnsku, sku)
            if asin:
                if fnsku:
                    catalog.asin_of_fnsku.setdefault(fnsku, asin)
                if sku:
                    catalog.asin_of_sku.setdefault(sku, asin)
        for fnsku, country in sorted(countries):
            catalog.country_of_fnsku.setdefault(fnsku, country.upper())
        return catalog

    def fnsku(self, sku: str) -> str:
        return self.fnsku_of_sku.get(sku, "")

    def sku(self, fnsku: str) -> str:
        return self.sku_of_fnsku.get(fnsku, "")

    def asin(self, fnsku: str = "", sku: str = "") -> str:
        return self.asin_of_fnsku.get(fnsku, "") or self.asin_of_sku.get(sku, "")

    def currency_of(self, fnsku: str) -> str | None:
        """The marketplace currency of an FNSKU's ledger rows (``Country``), if known."""
        country = self.country_of_fnsku.get(fnsku)
        return None if country is None else COUNTRY_CURRENCY.get(country)


def _position(record: Any) -> tuple[str, int]:
    return (record.file, record.line)


def _later_state(new: LedgerEntry, old: LedgerEntry) -> bool:
    """Of two copies of one ledger row, the later state has the smaller unreconciled
    quantity (reconciliation only grows); ties go to the earlier file position."""
    a, b = new.unreconciled_quantity, old.unreconciled_quantity
    if a is not None and (b is None or a < b):
        return True
    if a == b and _position(new) < _position(old):
        return True
    return False


def _removal_state(r: RemovalOrder) -> tuple[Any, ...]:
    updated = r.last_updated_date or r.request_date
    return (updated, r.shipped_quantity + r.disposed_quantity + r.cancelled_quantity,
            r.order_status, (-_position(r)[1],))


def _fee_rank(f: FeeEstimate) -> tuple[Any, ...]:
    fee = f.expected_fulfillment_fee_per_unit
    return (fee is not None, fee or Decimal(0), f.product_size_tier)


def _inbound_state(i: InboundShipmentItem) -> tuple[Any, ...]:
    closed = i.closed_date
    return (i.status == "CLOSED", closed is not None, closed.isoformat() if closed else "",
            i.quantity_received, i.quantity_shipped)
