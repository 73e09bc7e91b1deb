"""Simulated FBA fulfilment of one seller: the report files Amazon would hand Lost & Found.

From the seller's catalogue (the market's products), a seed and the simulated sales, it
keeps what Amazon's warehouse did and writes it as Amazon's reports, with Amazon's exact
column names (the parsers in ``functions/audit/logic/reports`` read them):

- **Inventory ledger detail** (``GET_LEDGER_DETAIL_VIEW_DATA``): Receipts of two inbound
  shipments per SKU (an opening one 120 days before the demo, a restock 30 days before),
  Shipments of every order (the seeded history and the demo's own sales), customer
  returns, and Adjustments for the planted losses and damages;
- **Reimbursements** (``GET_FBA_REIMBURSEMENTS_DATA``): what Amazon already paid;
- **Customer returns** (``GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA``);
- **Fee preview** (``GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA``, EU layout);
- **Settlements** (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``, German locale: dates
  ``DD.MM.YYYY``, decimal comma): two settlement periods of the history, published
  the way Amazon does (found with ``getReports``, never requested);
- **Inbound shipments** for the Fulfillment Inbound API (``register_inbound_shipment``)
  and as the CLI's inbound-shipments CSV;
- removal orders and shipments: the sellers removed nothing (the reports are empty, and
  Amazon cancels an empty report).

Planted errors (:attr:`SellerFulfilment.planted`), each on its own SKU where the catalogue
is large enough, dated so that every claim window is open during a demo of up to 14 days:

=====================  ==========================================================
``lost_warehouse``     ledger Adjustments reason M, 1–3 units, unreconciled, 20 d before
``damaged_warehouse``  ledger Adjustments reason 6 (damaged at the FC), 1–2 units, 15 d
``return_not_received``  an order refunded 60 d before, never returned
``inbound_shortfall``  the restock shipment of one SKU received 1–4 units short
``fee_overcharge``     one SKU's sales charged the next size tier's FBA fee
=====================  ==========================================================

and the same kinds of events that Amazon already made good, which must produce **no**
claim: a lost unit and a damaged unit reimbursed at cost (reconciled in the ledger), a
shortfall paid as ``Lost_Inbound``, a refunded order whose return arrived. Everything is
deterministic for (seed, seller).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from infra.simulator.market import Product, cents

REPORT_TYPES = {
    "ledger": "GET_LEDGER_DETAIL_VIEW_DATA",
    "reimbursements": "GET_FBA_REIMBURSEMENTS_DATA",
    "customer_returns": "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
    "removal_orders": "GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA",
    "removal_shipments": "GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA",
    "fee_estimates": "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA",
    "settlement": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
}

LEDGER_HEADER = (
    "Date", "FNSKU", "ASIN", "MSKU", "Title", "Event Type", "Reference ID", "Quantity",
    "Fulfillment Center", "Disposition", "Reason", "Country", "Reconciled Quantity",
    "Unreconciled Quantity", "Date and Time",
)
REIMBURSEMENTS_HEADER = (
    "approval-date", "reimbursement-id", "case-id", "amazon-order-id", "reason", "sku",
    "fnsku", "asin", "product-name", "condition", "currency-unit", "amount-per-unit",
    "amount-total", "quantity-reimbursed-cash", "quantity-reimbursed-inventory",
    "quantity-reimbursed-total", "original-reimbursement-id", "original-reimbursement-type",
)
RETURNS_HEADER = (
    "return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity",
    "fulfillment-center-id", "detailed-disposition", "reason", "status",
    "license-plate-number", "customer-comments",
)
FEES_HEADER = (
    "sku", "fnsku", "asin", "amazon-store", "product-name", "product-group", "brand",
    "fulfilled-by", "your-price", "sales-price", "longest-side", "median-side",
    "shortest-side", "length-and-girth", "unit-of-dimension", "item-package-weight",
    "unit-of-weight", "product-size-weight-band", "currency", "estimated-fee-total",
    "estimated-referral-fee-per-unit", "estimated-variable-closing-fee",
    "expected-domestic-fulfilment-fee-per-unit", "expected-efn-fulfilment-fee-per-unit-uk",
)
SETTLEMENT_HEADER = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date",
    "total-amount", "currency", "transaction-type", "order-id", "merchant-order-id",
    "adjustment-id", "shipment-id", "marketplace-name", "amount-type", "amount-description",
    "amount", "fulfillment-id", "posted-date", "posted-date-time", "order-item-code",
    "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
)
INBOUND_HEADER = (
    "shipment_id", "sku", "fnsku", "quantity_shipped", "quantity_received", "status",
    "closed_date",
)

# Size tiers and their FBA fulfilment fee per unit (illustrative EUR amounts in the shape
# of Amazon's Pan-EU fee card; not Amazon's current prices).
FEE_TIERS: tuple[tuple[str, Decimal, Decimal], ...] = (
    ("Small Parcel", Decimal("2.91"), Decimal("0.25")),  # (band, fee, weight kg)
    ("Standard Parcel", Decimal("3.42"), Decimal("0.60")),
    ("Large Standard Parcel", Decimal("4.21"), Decimal("1.10")),
    ("Small Oversize", Decimal("6.37"), Decimal("2.40")),
)
REFERRAL_RATE = Decimal("0.15")
REFUND_ADMIN_RATE = Decimal("0.20")  # Amazon keeps 20 % of the refunded commission
FULFILMENT_CENTRES = ("LEJ1", "DTM2", "FRA7", "MUC3")

# Planted errors: category → which SKU role carries it (see the module doc).
CATEGORIES = (
    "lost_warehouse", "damaged_warehouse", "return_not_received", "inbound_shortfall",
    "fee_overcharge",
)


@dataclass(frozen=True, slots=True)
class Order:
    """One simulated order (one item): what the ORDER_CHANGE and the ledger describe."""

    amazon_order_id: str
    order_item_id: str
    sku: str
    quantity: int
    purchased_at: datetime
    price: Decimal


@dataclass(frozen=True, slots=True)
class Planted:
    """An error planted in the reports: the claim the audit should find."""

    category: str
    sku: str
    quantity: int
    note: str


@dataclass(slots=True)
class _Row:
    at: datetime
    values: dict[str, str]


@dataclass(slots=True)
class _Settlement:
    settlement_id: str
    start: datetime
    end: datetime
    # (type, order, amount-type, description, amount, posted, item, sku, quantity)
    rows: list[tuple[str, str, str, str, Decimal, datetime, str, str, int | None]] = field(
        default_factory=list)


def _fnsku(product: Product) -> str:
    return "X00" + product.asin[-7:].upper()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _de_amount(value: Decimal) -> str:
    return f"{cents(value) if value >= 0 else -cents(-value):.2f}".replace(".", ",")


def _de_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d.%m.%Y %H:%M:%S UTC")


def _tsv(header: Iterable[str], rows: Iterable[dict[str, str]]) -> str:
    names = list(header)
    lines = ["\t".join(names)]
    lines += ["\t".join(row.get(name, "") for name in names) for row in rows]
    return "\n".join(lines) + "\n"


class SellerFulfilment:
    """What Amazon's fulfilment did for one seller; reports on demand (see module doc)."""

    def __init__(
        self,
        seller_id: str,
        products: list[Product],
        *,
        seed: int,
        start: datetime,
        marketplace_id: str,
        currency: str,
        country: str = "DE",
        marketplace_name: str = "Amazon.de",
        seller_index: int = 0,
    ) -> None:
        if not products:
            raise ValueError(f"seller {seller_id} has no products")
        self.seller_id = seller_id
        self.products = list(products)
        self.by_sku = {p.sku: p for p in self.products}
        self.start = start
        self.marketplace_id = marketplace_id
        self.currency = currency
        self.country = country
        self.marketplace_name = marketplace_name
        self.index = seller_index
        self.rng = random.Random(f"fulfilment:{seed}:{seller_id}")
        self.seed = seed
        self.ledger_rows: list[_Row] = []
        self.reimbursement_rows: list[_Row] = []
        self.return_rows: list[_Row] = []
        self.inbound: list[dict[str, Any]] = []  # Inbound API ShipmentData, with ItemData
        self.settlements: list[_Settlement] = []
        self.orders: list[Order] = []
        self.planted: list[Planted] = []
        self.made_good: list[Planted] = []  # events Amazon already paid: no claim
        self.pending: dict[str, Decimal] = {p.sku: Decimal(0) for p in self.products}
        self.tier = {p.sku: self.rng.randrange(len(FEE_TIERS) - 1) for p in self.products}
        self._order_seq = 0
        self._ref_seq = 0
        self._build_history()

    # -- ids -------------------------------------------------------------------------
    def _order_ids(self) -> tuple[str, str]:
        self._order_seq += 1
        n = self._order_seq
        tail = (self.seed * 7919 + n * 104729 + self.index * 15485863) % 10**7
        return (f"{302 + self.index:03d}-{n:07d}-{tail:07d}",
                f"{self.index + 1}{self.seed % 100:02d}{n:011d}")

    def _reference(self) -> str:
        self._ref_seq += 1
        return f"{7 + self.index}{self.seed % 100:02d}{self._ref_seq:06d}"

    def _reimbursement_id(self) -> str:
        self._ref_seq += 1
        return f"{4 + self.index}{self.seed % 100:02d}{self._ref_seq:07d}"

    # -- events ----------------------------------------------------------------------
    def _ledger(self, product: Product, at: datetime, event: str, reference: str,
                quantity: int, *, disposition: str = "SELLABLE", reason: str = "",
                reconciled: int | None = None, unreconciled: int | None = None) -> None:
        self.ledger_rows.append(_Row(at, {
            "Date": at.strftime("%m/%d/%Y"), "FNSKU": _fnsku(product), "ASIN": product.asin,
            "MSKU": product.sku, "Title": f"Simulated product {product.asin}",
            "Event Type": event, "Reference ID": reference, "Quantity": str(quantity),
            "Fulfillment Center": FULFILMENT_CENTRES[(len(self.ledger_rows) + self.index) % 4],
            "Disposition": disposition, "Reason": reason, "Country": self.country,
            "Reconciled Quantity": "" if reconciled is None else str(reconciled),
            "Unreconciled Quantity": "" if unreconciled is None else str(unreconciled),
            "Date and Time": _iso(at),
        }))

    def _reimburse(self, product: Product, at: datetime, reason: str, quantity: int,
                   per_unit: Decimal, *, order_id: str = "") -> None:
        self.reimbursement_rows.append(_Row(at, {
            "approval-date": _iso(at), "reimbursement-id": self._reimbursement_id(),
            "amazon-order-id": order_id, "reason": reason, "sku": product.sku,
            "fnsku": _fnsku(product), "asin": product.asin,
            "product-name": f"Simulated product {product.asin}", "condition": "New",
            "currency-unit": self.currency, "amount-per-unit": f"{per_unit:.2f}",
            "amount-total": f"{per_unit * quantity:.2f}",
            "quantity-reimbursed-cash": str(quantity), "quantity-reimbursed-inventory": "0",
            "quantity-reimbursed-total": str(quantity),
        }))

    def _shipment(self, product: Product, closed: datetime, shipped: int, received: int,
                  number: int) -> str:
        shipment_id = f"FBA{15 + self.index}{self.seed % 100:02d}{number:05d}"
        self.inbound.append({
            "ShipmentId": shipment_id, "ShipmentName": f"{product.sku} restock {number}",
            "ShipmentStatus": "CLOSED", "LastUpdatedDate": _iso(closed).replace("+00:00", "Z"),
            "DestinationFulfillmentCenterId": FULFILMENT_CENTRES[number % 4],
            "ItemData": [{"SellerSKU": product.sku, "FulfillmentNetworkSKU": _fnsku(product),
                          "QuantityShipped": shipped, "QuantityReceived": received}],
        })
        self._ledger(product, closed - timedelta(days=2), "Receipts", shipment_id, received)
        return shipment_id

    def _sell(self, product: Product, at: datetime, price: Decimal,
              settlement: _Settlement | None, *, fee: Decimal | None = None) -> Order:
        order_id, item_id = self._order_ids()
        order = Order(order_id, item_id, product.sku, 1, at, price)
        self.orders.append(order)
        self._ledger(product, at + timedelta(hours=6), "Shipments", order_id, -1)
        if settlement is not None:
            fee = FEE_TIERS[self.tier[product.sku]][1] if fee is None else fee
            posted = at + timedelta(hours=7)
            settlement.rows += [
                ("Order", order_id, "ItemPrice", "Principal", price, posted, item_id,
                 product.sku, 1),
                ("Order", order_id, "ItemFees", "FBAPerUnitFulfillmentFee", -fee, posted,
                 item_id, product.sku, None),
                ("Order", order_id, "ItemFees", "Commission", -cents(price * REFERRAL_RATE),
                 posted, item_id, product.sku, None),
            ]
        return order

    def _refund(self, order: Order, at: datetime, settlement: _Settlement) -> None:
        commission = cents(order.price * REFERRAL_RATE)
        settlement.rows += [
            ("Refund", order.amazon_order_id, "ItemPrice", "Principal", -order.price, at,
             order.order_item_id, order.sku, None),
            ("Refund", order.amazon_order_id, "ItemFees", "Commission", commission, at,
             order.order_item_id, order.sku, None),
            ("Refund", order.amazon_order_id, "ItemFees", "RefundCommission",
             -cents(commission * REFUND_ADMIN_RATE), at, order.order_item_id, order.sku, None),
        ]

    # -- the seeded history ----------------------------------------------------------
    def _build_history(self) -> None:
        rng, start = self.rng, self.start
        day = timedelta(days=1)
        older = _Settlement(self._settlement_id(1), start - 70 * day, start - 56 * day)
        recent = _Settlement(self._settlement_id(2), start - 28 * day, start - 14 * day)
        self.settlements = [older, recent]
        skus = [p.sku for p in self.products]
        rng.shuffle(skus)
        n = len(skus)

        def role(i: int) -> Product:
            return self.by_sku[skus[i % n]]

        paired = n >= 2  # a paid twin needs its own SKU (a payment settles the oldest loss)
        restock_short: dict[str, tuple[int, int]] = {}

        # Inbound: an opening shipment per SKU, then a restock 30 days before the demo.
        number = 0
        for product in self.products:
            number += 1
            units = rng.randint(30, 60)
            self._shipment(product, start - 120 * day, units, units, number)
        short = role(4)
        restock_short[short.sku] = (24, 24 - rng.randint(1, 4))
        if paired:
            restock_short[role(5).sku] = (20, 19)
        for product in self.products:
            number += 1
            shipped, received = restock_short.get(product.sku, (24, 24))
            shipment_id = self._shipment(product, start - 30 * day, shipped, received, number)
            if product.sku == short.sku:
                self.planted.append(Planted(
                    "inbound_shortfall", product.sku, shipped - received,
                    f"shipment {shipment_id}: {shipped} shipped, {received} received"))
            elif (shipped, received) != (24, 24):
                self._reimburse(product, start - 18 * day, "Lost_Inbound", shipped - received,
                                product.cost)
                self.made_good.append(Planted(
                    "inbound_shortfall", product.sku, shipped - received,
                    f"shipment {shipment_id}: short {shipped - received}, paid Lost_Inbound"))

        # Sales of the two settlement periods; one SKU is charged the next tier's fee.
        overcharged = role(8)
        for product in self.products:
            for _ in range(rng.randint(2, 4)):
                at = recent.start + timedelta(hours=rng.randint(24, 13 * 24))
                expected = FEE_TIERS[self.tier[product.sku]][1]
                fee = (FEE_TIERS[self.tier[product.sku] + 1][1] if product is overcharged
                       else expected)
                self._sell(product, at, product.ours.price, recent, fee=fee)
        units = sum(1 for o in self.orders if o.sku == overcharged.sku)
        tier = self.tier[overcharged.sku]
        self.planted.append(Planted(
            "fee_overcharge", overcharged.sku, units,
            f"charged {FEE_TIERS[tier + 1][0]} ({FEE_TIERS[tier + 1][1]}) instead of "
            f"{FEE_TIERS[tier][0]} ({FEE_TIERS[tier][1]}) per unit"))

        # Refunds: one order never came back; another did (the returned twin).
        unreturned = role(6)
        order = self._sell(unreturned, older.start + 3 * day, unreturned.ours.price, older)
        self._refund(order, older.start + 10 * day, older)
        self.planted.append(Planted("return_not_received", unreturned.sku, 1,
                                    f"order {order.amazon_order_id} refunded, not returned"))
        returned = role(7)
        order = self._sell(returned, older.start + 4 * day, returned.ours.price, older)
        back = older.start + 9 * day
        self._ledger(returned, back, "CustomerReturns", order.amazon_order_id, 1)
        self.return_rows.append(_Row(back, {
            "return-date": _iso(back), "order-id": order.amazon_order_id,
            "sku": returned.sku, "asin": returned.asin, "fnsku": _fnsku(returned),
            "product-name": f"Simulated product {returned.asin}", "quantity": "1",
            "fulfillment-center-id": "LEJ1", "detailed-disposition": "SELLABLE",
            "reason": "UNWANTED_ITEM", "status": "Unit returned to inventory",
            "license-plate-number": f"LPNRR{self.index}{self.seed % 100:02d}{len(self.orders):05d}",
        }))
        self._refund(order, older.start + 10 * day, older)
        self.made_good.append(Planted("return_not_received", returned.sku, 1,
                                      f"order {order.amazon_order_id} refunded and returned"))

        # Warehouse losses and damages: one open each, one each already paid at cost.
        lost = role(0)
        quantity = rng.randint(1, 3)
        reference = self._reference()
        self._ledger(lost, start - 20 * day + timedelta(hours=9), "Adjustments", reference,
                     -quantity, reason="M", reconciled=0, unreconciled=quantity)
        self.planted.append(Planted("lost_warehouse", lost.sku, quantity,
                                    f"{quantity} misplaced (M), Reference ID {reference}"))
        damaged = role(2)
        quantity = rng.randint(1, 2)
        reference = self._reference()
        self._ledger(damaged, start - 15 * day + timedelta(hours=14), "Adjustments", reference,
                     -quantity, reason="6", reconciled=0, unreconciled=quantity)
        self._ledger(damaged, start - 15 * day + timedelta(hours=14), "Adjustments",
                     self._reference(), quantity, disposition="WAREHOUSE_DAMAGED", reason="P")
        self.planted.append(Planted("damaged_warehouse", damaged.sku, quantity,
                                    f"{quantity} damaged at the FC (6), Reference ID {reference}"))
        if paired:
            for product, reason, paid_as, days in ((role(1), "M", "Lost_Warehouse", 25),
                                                   (role(3), "6", "Damaged_Warehouse", 22)):
                at = start - days * day + timedelta(hours=10)
                self._ledger(product, at, "Adjustments", self._reference(), -1, reason=reason,
                             reconciled=1, unreconciled=0)
                self._reimburse(product, at + 2 * day, paid_as, 1, product.cost)
                self.made_good.append(Planted(
                    paid_as.lower(), product.sku, 1, f"1 unit, paid {paid_as} at cost"))

    def _settlement_id(self, number: int) -> str:
        return f"{1122 + self.index}{self.seed % 1000:03d}{number:04d}"

    # -- the demo's sales ------------------------------------------------------------
    def record_hour(self, hour_start: datetime, units: dict[str, Decimal]) -> list[Order]:
        """The hour's expected units per SKU (fractional) become whole orders: each SKU
        accumulates its fractions and every whole unit is one order, placed in the hour."""
        placed: list[Order] = []
        for product in self.products:
            self.pending[product.sku] += units.get(product.sku, Decimal(0))
            whole = int(self.pending[product.sku])
            for k in range(whole):
                at = hour_start + timedelta(minutes=(k + 1) * 60 // (whole + 1))
                placed.append(self._sell(product, at, product.ours.price, None))
            self.pending[product.sku] -= whole
        placed.sort(key=lambda o: (o.purchased_at, o.amazon_order_id))
        return placed

    # -- reports ---------------------------------------------------------------------
    def expected_claims(self) -> Counter[str]:
        """Planted errors per category: what the audit must find (and nothing else)."""
        return Counter(p.category for p in self.planted)

    @staticmethod
    def _window(rows: list[_Row], start: datetime | None, end: datetime | None
                ) -> list[dict[str, str]]:
        return [r.values for r in sorted(rows, key=lambda r: r.at)
                if (start is None or r.at >= start) and (end is None or r.at < end)]

    def ledger(self, start: datetime | None = None, end: datetime | None = None) -> str:
        return _tsv(LEDGER_HEADER, self._window(self.ledger_rows, start, end))

    def reimbursements(self, start: datetime | None = None, end: datetime | None = None) -> str:
        return _tsv(REIMBURSEMENTS_HEADER, self._window(self.reimbursement_rows, start, end))

    def customer_returns(self, start: datetime | None = None,
                         end: datetime | None = None) -> str:
        return _tsv(RETURNS_HEADER, self._window(self.return_rows, start, end))

    def fee_preview(self) -> str:
        rows = []
        for p in self.products:
            band, fee, weight = FEE_TIERS[self.tier[p.sku]]
            referral = cents(p.ours.price * REFERRAL_RATE)
            rows.append({
                "sku": p.sku, "fnsku": _fnsku(p), "asin": p.asin, "amazon-store": self.country,
                "product-name": f"Simulated product {p.asin}", "product-group": "Home",
                "brand": "Simulated", "fulfilled-by": "AFN", "your-price": f"{p.ours.price}",
                "sales-price": f"{p.ours.price}", "longest-side": "25.0",
                "median-side": "18.0", "shortest-side": "8.0", "length-and-girth": "--",
                "unit-of-dimension": "cm", "item-package-weight": f"{weight}",
                "unit-of-weight": "kg", "product-size-weight-band": band,
                "currency": self.currency, "estimated-fee-total": f"{referral + fee}",
                "estimated-referral-fee-per-unit": f"{referral}",
                "estimated-variable-closing-fee": "0.00",
                "expected-domestic-fulfilment-fee-per-unit": f"{fee}",
                "expected-efn-fulfilment-fee-per-unit-uk": "--",
            })
        return _tsv(FEES_HEADER, rows)

    def settlement(self, settlement: _Settlement) -> str:
        total = sum((row[4] for row in settlement.rows), Decimal(0))
        deposit = settlement.end + timedelta(days=2)
        lines = [{
            "settlement-id": settlement.settlement_id,
            "settlement-start-date": _de_time(settlement.start),
            "settlement-end-date": _de_time(settlement.end),
            "deposit-date": _de_time(deposit), "total-amount": _de_amount(total),
            "currency": self.currency,
        }]
        for (kind, order_id, amount_type, description, amount, posted, item, sku,
             quantity) in sorted(settlement.rows, key=lambda r: (r[5], r[1], r[2], r[3])):
            lines.append({
                "settlement-id": settlement.settlement_id, "transaction-type": kind,
                "order-id": order_id, "marketplace-name": self.marketplace_name,
                "amount-type": amount_type, "amount-description": description,
                "amount": _de_amount(amount), "fulfillment-id": "AFN",
                "posted-date": posted.strftime("%d.%m.%Y"), "posted-date-time": _de_time(posted),
                "order-item-code": item, "sku": sku,
                "quantity-purchased": "" if quantity is None else str(quantity),
            })
        return _tsv(SETTLEMENT_HEADER, lines)

    def inbound_csv(self) -> str:
        lines = [",".join(INBOUND_HEADER)]
        for shipment in self.inbound:
            for item in shipment["ItemData"]:
                lines.append(",".join((
                    shipment["ShipmentId"], item["SellerSKU"], item["FulfillmentNetworkSKU"],
                    str(item["QuantityShipped"]), str(item["QuantityReceived"]),
                    shipment["ShipmentStatus"], shipment["LastUpdatedDate"])))
        return "\n".join(lines) + "\n"

    def costs_csv(self) -> str:
        """The seller's cost sheet (``sku, unit_cost, currency``): manufacturing costs."""
        return "sku,unit_cost,currency\n" + "".join(
            f"{p.sku},{p.cost},{self.currency}\n" for p in self.products)

    def write_reports(self, folder: Path, *, as_of: date | None = None,
                      lookback_days: int = 180) -> Path:
        """Every report as a file (what a seller downloads; ``sellerops audit --reports``),
        with the data range the audit job requests for ``as_of``, plus the cost sheet."""
        folder.mkdir(parents=True, exist_ok=True)
        end = datetime.combine(as_of, datetime.min.time(), UTC) if as_of else None
        begin = end - timedelta(days=lookback_days) if end else None
        (folder / "Inventory_Ledger_Detail.txt").write_text(self.ledger(begin, end), "utf-8")
        (folder / "reimbursements.tsv").write_text(self.reimbursements(begin, end), "utf-8")
        (folder / "customer_returns.tsv").write_text(self.customer_returns(begin, end), "utf-8")
        (folder / "fba_fee_preview.txt").write_text(self.fee_preview(), "utf-8")
        for settlement in self.settlements:
            (folder / f"settlement-{settlement.settlement_id}.tsv").write_text(
                self.settlement(settlement), "utf-8")
        (folder / "inbound_shipments.csv").write_text(self.inbound_csv(), "utf-8")
        (folder / "costs.csv").write_text(self.costs_csv(), "utf-8")
        return folder

    # -- the fake SP-API ---------------------------------------------------------------
    def register(self, api: Any) -> None:
        """Serve this seller's reports on the fake SP-API: the requested FBA reports as
        functions of the request's data range, the settlements published (DONE, found
        with getReports), the inbound shipments on the Fulfillment Inbound API."""

        def ranged(make: Callable[[datetime | None, datetime | None], str]
                   ) -> Callable[[dict[str, Any]], str]:
            def content(request: dict[str, Any]) -> str:
                return make(_when(request.get("dataStartTime")), _when(request.get("dataEndTime")))
            return content

        api.register_report(REPORT_TYPES["ledger"], ranged(self.ledger),
                            seller_id=self.seller_id, gzip=True)
        api.register_report(REPORT_TYPES["reimbursements"], ranged(self.reimbursements),
                            seller_id=self.seller_id)
        api.register_report(REPORT_TYPES["customer_returns"], ranged(self.customer_returns),
                            seller_id=self.seller_id)
        api.register_report(REPORT_TYPES["fee_estimates"], lambda _request: self.fee_preview(),
                            seller_id=self.seller_id)
        for kind in ("removal_orders", "removal_shipments"):  # nothing removed: cancelled
            api.register_report(REPORT_TYPES[kind], lambda _request: None,
                                seller_id=self.seller_id)
        for settlement in self.settlements:
            api.publish_report(
                self.seller_id, REPORT_TYPES["settlement"], self.settlement(settlement),
                marketplace_ids=[self.marketplace_id],
                created=settlement.end + timedelta(days=2),
                data_start=settlement.start, data_end=settlement.end)
        for shipment in self.inbound:
            api.register_inbound_shipment(self.seller_id, shipment)


def _when(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def fulfilment_for(
    products: list[Product], *, seed: int, start: datetime, marketplace_id: str,
    currency: str, seller_order: list[str] | None = None,
) -> dict[str, SellerFulfilment]:
    """One :class:`SellerFulfilment` per seller of ``products`` (in order of appearance).

    A seller's index (in its order ids, shipment ids, ...) is its position in
    ``seller_order`` when given (all the run's sellers, when ``products`` holds only
    some of them), else in ``products``."""
    sellers: dict[str, list[Product]] = {}
    for product in products:
        sellers.setdefault(product.seller_id, []).append(product)
    order = seller_order if seller_order is not None else list(sellers)
    return {
        seller_id: SellerFulfilment(
            seller_id, group, seed=seed, start=start, marketplace_id=marketplace_id,
            currency=currency, seller_index=order.index(seller_id))
        for seller_id, group in sellers.items()
    }
