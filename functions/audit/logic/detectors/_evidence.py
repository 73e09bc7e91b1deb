"""Evidence rows (file, line, key fields under Amazon's column names) and value helpers."""

from __future__ import annotations

from datetime import datetime

from functions.core.money import Money

from ..claims import Evidence
from ..data import EU_UK_COUNTRIES, Catalog, OrderMoney, marketplace_country
from ..reports.records import (
    CustomerReturn,
    FeeEstimate,
    InboundShipmentItem,
    LedgerEntry,
    Reimbursement,
    RemovalOrder,
    RemovalShipment,
    SettlementLine,
)

EU_UK_CURRENCIES = frozenset({"EUR", "GBP", "SEK", "PLN"})


def _ts(value: datetime | None) -> str:
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


def _n(value: int | None) -> str:
    return "" if value is None else str(value)


def _m(value: Money | None) -> str:
    return "" if value is None else value.to_str()


def _d(value: object) -> str:
    return "" if value is None else str(value)


def _fields(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple([pair for pair in pairs if pair[1]])


def ledger(e: LedgerEntry) -> Evidence:
    return Evidence("ledger", e.file, e.line, _fields(
        ("Date", e.date.isoformat()), ("FNSKU", e.fnsku), ("ASIN", e.asin), ("MSKU", e.msku),
        ("Event Type", e.event_type), ("Reference ID", e.reference_id),
        ("Quantity", str(e.quantity)), ("Fulfillment Center", e.fulfillment_center),
        ("Disposition", e.disposition), ("Reason", e.reason),
        ("Reconciled Quantity", _n(e.reconciled_quantity)),
        ("Unreconciled Quantity", _n(e.unreconciled_quantity)),
        ("Date and Time", _ts(e.date_time)),
    ))


def reimbursement(r: Reimbursement) -> Evidence:
    return Evidence("reimbursements", r.file, r.line, _fields(
        ("approval-date", _ts(r.approval_date)), ("reimbursement-id", r.reimbursement_id),
        ("case-id", r.case_id), ("amazon-order-id", r.amazon_order_id), ("reason", r.reason),
        ("sku", r.sku), ("fnsku", r.fnsku), ("currency-unit", r.currency),
        ("amount-per-unit", _m(r.amount_per_unit)), ("amount-total", _m(r.amount_total)),
        ("quantity-reimbursed-cash", str(r.quantity_cash)),
        ("quantity-reimbursed-inventory", str(r.quantity_inventory)),
        ("quantity-reimbursed-total", str(r.quantity_total)),
        ("original-reimbursement-id", r.original_reimbursement_id),
        ("original-reimbursement-type", r.original_reimbursement_type),
    ))


def customer_return(c: CustomerReturn) -> Evidence:
    return Evidence("customer_returns", c.file, c.line, _fields(
        ("return-date", _ts(c.return_date)), ("order-id", c.order_id), ("sku", c.sku),
        ("fnsku", c.fnsku), ("quantity", str(c.quantity)),
        ("fulfillment-center-id", c.fulfillment_center),
        ("detailed-disposition", c.detailed_disposition), ("reason", c.reason),
        ("status", c.status), ("license-plate-number", c.license_plate_number),
    ))


def settlement(s: SettlementLine) -> Evidence:
    return Evidence("settlement", s.file, s.line, _fields(
        ("settlement-id", s.settlement_id), ("transaction-type", s.transaction_type),
        ("order-id", s.order_id), ("sku", s.sku), ("amount-type", s.amount_type),
        ("amount-description", s.amount_description), ("amount", _m(s.amount)),
        ("currency", s.amount.currency), ("quantity-purchased", _n(s.quantity)),
        ("posted-date", _ts(s.posted)),
    ))


def inbound(i: InboundShipmentItem) -> Evidence:
    return Evidence("inbound_shipments", i.file, i.line, _fields(
        ("shipment_id", i.shipment_id), ("sku", i.sku), ("fnsku", i.fnsku),
        ("quantity_shipped", str(i.quantity_shipped)),
        ("quantity_received", str(i.quantity_received)),
        ("status", i.status), ("closed_date", _ts(i.closed_date)),
    ))


def removal_order(o: RemovalOrder) -> Evidence:
    return Evidence("removal_orders", o.file, o.line, _fields(
        ("request-date", _ts(o.request_date)), ("order-id", o.order_id),
        ("order-type", o.order_type), ("order-status", o.order_status),
        ("last-updated-date", _ts(o.last_updated_date)), ("sku", o.sku), ("fnsku", o.fnsku),
        ("disposition", o.disposition), ("requested-quantity", str(o.requested_quantity)),
        ("cancelled-quantity", str(o.cancelled_quantity)),
        ("disposed-quantity", str(o.disposed_quantity)),
        ("shipped-quantity", str(o.shipped_quantity)),
        ("in-process-quantity", str(o.in_process_quantity)),
    ))


def removal_shipment(s: RemovalShipment) -> Evidence:
    return Evidence("removal_shipments", s.file, s.line, _fields(
        ("order-id", s.order_id), ("shipment-date", _ts(s.shipment_date)), ("sku", s.sku),
        ("fnsku", s.fnsku), ("disposition", s.disposition),
        ("shipped-quantity", str(s.shipped_quantity)), ("carrier", s.carrier),
        ("tracking-number", s.tracking_number),
    ))


def fee_estimate(f: FeeEstimate) -> Evidence:
    return Evidence("fee_estimates", f.file, f.line, _fields(
        ("sku", f.sku), ("fnsku", f.fnsku), ("asin", f.asin), ("currency", f.currency),
        ("longest-side", _d(f.longest_side)), ("median-side", _d(f.median_side)),
        ("shortest-side", _d(f.shortest_side)), ("unit-of-dimension", f.unit_of_dimension),
        ("item-package-weight", _d(f.item_package_weight)),
        ("unit-of-weight", f.unit_of_weight), ("product-size-tier", f.product_size_tier),
        ("expected-fulfillment-fee-per-unit", _d(f.expected_fulfillment_fee_per_unit)),
    ))


def region_variant(marketplace_name: str, currency: str | None) -> str:
    """``eu`` for EU/UK marketplaces (shorter customer-return windows), else ``""``."""
    country = marketplace_country(marketplace_name) if marketplace_name else None
    if country is not None:
        return "eu" if country in EU_UK_COUNTRIES else ""
    return "eu" if currency in EU_UK_CURRENCIES else ""


def sale_unit_value(sale: OrderMoney | None) -> Money | None:
    """What one sold unit brought in: (price + item fees) / units, from the settlement."""
    if sale is None or not sale.quantity or sale.principal <= 0:
        return None
    value = (sale.principal + sale.fees) / sale.quantity
    return Money(value, sale.currency) if value > 0 else None


def estimated_unit_value(fee: FeeEstimate | None) -> Money | None:
    """Sales price less Amazon's estimated fees, from the fee preview (a fallback)."""
    if fee is None:
        return None
    price = fee.sales_price or fee.your_price
    if price is None or price <= 0:
        return None
    value = price - (fee.estimated_fee_total or 0)
    return Money(value, fee.currency) if value > 0 else None


def fee_for(sku: str, currency: str | None, fees: dict[tuple[str, str], FeeEstimate]
            ) -> FeeEstimate | None:
    if currency is not None:
        return fees.get((sku, currency))
    matches = sorted((k for k in fees if k[0] == sku), key=lambda k: k[1])
    return fees[matches[0]] if len(matches) == 1 else None


def ids(catalog: Catalog, *, sku: str = "", fnsku: str = "", asin: str = ""
        ) -> tuple[str, str, str]:
    """Complete (sku, fnsku, asin) from the catalog where a report lacks one."""
    sku = sku or (catalog.sku(fnsku) if fnsku else "")
    fnsku = fnsku or (catalog.fnsku(sku) if sku else "")
    asin = asin or catalog.asin(fnsku, sku)
    return sku, fnsku, asin
