"""Typed rows of the report files the audit reads.

One class per report. Every record keeps ``file`` and ``line`` (1-based, the header is
line 1) so that a claim can cite the exact row it rests on. Amounts are :class:`Money`
(Decimal + currency) or Decimal with the row's currency; timestamps are tz-aware UTC;
``date`` fields are calendar days as Amazon wrote them (the marketplace's local day).

The classes are plain slotted dataclasses, not pydantic models: an audit reads millions
of ledger rows and a slotted dataclass is several times cheaper to build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from functions.core.money import Money


@dataclass(slots=True)
class LedgerEntry:
    """A row of the Inventory Ledger detail view (GET_LEDGER_DETAIL_VIEW_DATA)."""

    file: str
    line: int
    date: date
    fnsku: str
    asin: str
    msku: str
    title: str
    event_type: str
    reference_id: str
    quantity: int
    fulfillment_center: str
    disposition: str
    reason: str
    country: str
    reconciled_quantity: int | None
    unreconciled_quantity: int | None
    date_time: datetime | None

    @property
    def at(self) -> datetime:
        """When the event happened: ``Date and Time`` (UTC) or, without it, ``Date``."""
        if self.date_time is not None:
            return self.date_time
        return datetime(self.date.year, self.date.month, self.date.day, tzinfo=UTC)


@dataclass(slots=True)
class Reimbursement:
    """A row of the FBA Reimbursements report (GET_FBA_REIMBURSEMENTS_DATA).

    A reversal (``reason`` Reimbursement_Reversal) has negative amounts and quantities and
    names the payment it takes back in ``original_reimbursement_id``/``_type``.
    """

    file: str
    line: int
    approval_date: datetime
    reimbursement_id: str
    case_id: str
    amazon_order_id: str
    reason: str
    sku: str
    fnsku: str
    asin: str
    condition: str
    amount_per_unit: Money | None
    amount_total: Money
    quantity_cash: int
    quantity_inventory: int
    quantity_total: int
    original_reimbursement_id: str
    original_reimbursement_type: str

    @property
    def currency(self) -> str:
        return self.amount_total.currency


@dataclass(slots=True)
class CustomerReturn:
    """A row of FBA customer returns (GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA)."""

    file: str
    line: int
    return_date: datetime
    order_id: str
    sku: str
    asin: str
    fnsku: str
    product_name: str
    quantity: int
    fulfillment_center: str
    detailed_disposition: str
    reason: str
    status: str
    license_plate_number: str
    customer_comments: str


@dataclass(slots=True)
class RemovalOrder:
    """A row of removal order detail (GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA)."""

    file: str
    line: int
    request_date: datetime
    order_id: str
    order_type: str
    order_status: str
    last_updated_date: datetime | None
    sku: str
    fnsku: str
    disposition: str
    requested_quantity: int
    cancelled_quantity: int
    disposed_quantity: int
    shipped_quantity: int
    in_process_quantity: int
    removal_fee: Money | None


@dataclass(slots=True)
class RemovalShipment:
    """A row of removal shipment detail (GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA)."""

    file: str
    line: int
    request_date: datetime | None
    order_id: str
    shipment_date: datetime
    sku: str
    fnsku: str
    disposition: str
    shipped_quantity: int
    carrier: str
    tracking_number: str
    removal_order_type: str


@dataclass(slots=True)
class FeeEstimate:
    """A row of the FBA fee preview (GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA), US or EU layout.

    ``expected_fulfillment_fee_per_unit`` is the US ``expected-fulfillment-fee-per-unit``
    or the EU ``expected-domestic-fulfilment-fee-per-unit``; ``product_size_tier`` is the
    US tier or the EU ``product-size-weight-band``. Amazon's ``--`` (n/a) reads as None.
    """

    file: str
    line: int
    sku: str
    fnsku: str
    asin: str
    amazon_store: str
    currency: str
    your_price: Decimal | None
    sales_price: Decimal | None
    longest_side: Decimal | None
    median_side: Decimal | None
    shortest_side: Decimal | None
    unit_of_dimension: str
    item_package_weight: Decimal | None
    unit_of_weight: str
    product_size_tier: str
    estimated_fee_total: Decimal | None
    estimated_referral_fee_per_unit: Decimal | None
    expected_fulfillment_fee_per_unit: Decimal | None


@dataclass(slots=True)
class SettlementSummary:
    """The first row of a settlement: its period, deposit and total (nothing else)."""

    file: str
    line: int
    settlement_id: str
    start: datetime | None
    end: datetime | None
    deposit_date: datetime | None
    total: Money


@dataclass(slots=True)
class SettlementLine:
    """One amount of a settlement (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2).

    The V2 layout has one row per amount (``amount-type`` / ``amount-description`` /
    ``amount``). The older flat file (``price-type``/``price-amount``,
    ``item-related-fee-type``/``-amount``, ...) carries several amounts per row; each becomes
    one line here with ``amount_type`` ItemPrice, ItemFees, ShipmentFees, OrderFees,
    Promotion, DirectPayment or Other, and the ``*-type`` as ``amount_description``.
    """

    file: str
    line: int
    settlement_id: str
    transaction_type: str
    order_id: str
    adjustment_id: str
    shipment_id: str
    marketplace_name: str
    amount_type: str
    amount_description: str
    amount: Money
    fulfillment_id: str
    posted: datetime | None
    order_item_code: str
    sku: str
    quantity: int | None


@dataclass(slots=True)
class InboundShipmentItem:
    """A row of the inbound-shipments CSV built from the Fulfillment Inbound API
    (``shipment_id, sku, fnsku, quantity_shipped, quantity_received, status, closed_date``)."""

    file: str
    line: int
    shipment_id: str
    sku: str
    fnsku: str
    quantity_shipped: int
    quantity_received: int
    status: str
    closed_date: datetime | None


Record = (
    LedgerEntry | Reimbursement | CustomerReturn | RemovalOrder | RemovalShipment
    | FeeEstimate | SettlementSummary | SettlementLine | InboundShipmentItem
)
