"""Removal order losses: units a removal order lost track of.

Two cases, from removal order detail and removal shipment detail:

* **missing**: a Completed order whose requested units are not all accounted for
  (requested − cancelled − disposed − shipped − in process > 0). Window: 60 days from the
  order's last update.
* **lost**: the order detail counts more units shipped than the shipment detail has
  shipments (with carrier and tracking) for; judged only where the shipment detail covers
  the order (it lists some of the order's shipments, or spans the order's last update).
  Window: 15–75 days (Amazon counts from shipment creation; the order's last update stands
  in for it).

Amazon does not pay removal losses by itself; a reimbursement whose reason names a removal
settles a claim. Value: manufacturing cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..claims import Category, Claim, Credit, Demand, allocate, make_claim, pays
from ..costs import CostBook
from ..data import AuditData
from ..reports.records import RemovalOrder, RemovalShipment
from . import _evidence as ev
from ._pools import paid_evidence

CATEGORY = Category.REMOVAL_LOST


@dataclass(slots=True)
class _Order:
    order_id: str
    fnsku: str
    sku: str
    rows: list[RemovalOrder] = field(default_factory=list)
    shipments: list[RemovalShipment] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.rows)

    @property
    def updated(self) -> datetime:
        return max((r.last_updated_date or r.request_date) for r in self.rows)

    @property
    def completed(self) -> bool:
        return all(r.order_status.strip().lower() == "completed" for r in self.rows)


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    catalog = data.catalog()
    orders: dict[tuple[str, str], _Order] = {}
    for r in data.removal_orders.values():
        sku, fnsku, _asin = ev.ids(catalog, sku=r.sku, fnsku=r.fnsku)
        orders.setdefault((r.order_id, fnsku or sku), _Order(r.order_id, fnsku, sku)).rows.append(r)
    shipment_days = [s.shipment_date for s in data.removal_shipments.values()]
    for s in data.removal_shipments.values():
        sku, fnsku, _asin = ev.ids(catalog, sku=s.sku, fnsku=s.fnsku)
        order = orders.get((s.order_id, fnsku or sku))
        if order is not None:
            order.shipments.append(s)
    covered_from = min(shipment_days, default=None)
    covered_to = max(shipment_days, default=None)

    demands: dict[str, list[Demand]] = {}
    for key in sorted(orders):
        order = orders[key]
        requested = order.total("requested_quantity")
        accounted = sum(order.total(n) for n in (
            "cancelled_quantity", "disposed_quantity", "shipped_quantity", "in_process_quantity"))
        if order.completed and requested > accounted:
            demands.setdefault(order.fnsku or order.sku, []).append(Demand(
                at=order.updated, quantity=requested - accounted,
                order=(order.order_id, "missing"), ref=("missing", order)))
        in_shipments = sum(s.shipped_quantity for s in order.shipments)
        shipped = order.total("shipped_quantity")
        # Judged where the shipment detail covers the order: it lists some of its
        # shipments, or the order was last updated inside the period it spans.
        covered = bool(order.shipments) or (
            covered_from is not None and covered_to is not None
            and covered_from - timedelta(days=7) <= order.updated <= covered_to)
        if covered and shipped > in_shipments:
            demands.setdefault(order.fnsku or order.sku, []).append(Demand(
                at=order.updated, quantity=shipped - in_shipments,
                order=(order.order_id, "lost"), ref=("lost", order)))
    credits: dict[str, list[Credit]] = {}
    for r in data.reimbursements.values():
        if r.quantity_total > 0 and pays(CATEGORY, r.reason):
            key = r.fnsku or catalog.fnsku(r.sku) or r.sku
            credits.setdefault(key, []).append(Credit(
                at=r.approval_date, quantity=r.quantity_total,
                order=(r.reimbursement_id, r.fnsku), ref=("paid", r)))

    claims: list[Claim] = []
    for key in sorted(demands):
        group = demands[key]
        allocate(group, credits.get(key, []), lead=timedelta(days=3))
        for demand in group:
            if demand.open <= 0:
                continue
            variant, order = demand.ref
            units = demand.open
            currency = next((r.removal_fee.currency for r in order.rows if r.removal_fee), None)
            unit_cost = costs.unit_cost(order.sku, currency or catalog.currency_of(order.fnsku))
            updated = order.updated.date()
            if variant == "missing":
                text = (f"Removal order {order.order_id} completed {updated.isoformat()} with "
                        f"{demand.quantity} of {order.total('requested_quantity')} requested "
                        "unit(s) neither shipped, disposed nor cancelled")
            else:
                text = (f"Removal order {order.order_id} counts {order.total('shipped_quantity')}"
                        f" unit(s) shipped but its shipments carry "
                        f"{sum(s.shipped_quantity for s in order.shipments)}: "
                        f"{demand.quantity} shipped without a tracked shipment")
            text += f"; {demand.covered} reimbursed; {units} to claim"
            text += (f" at manufacturing cost {unit_cost} per unit." if unit_cost is not None
                     else "; no unit cost given (--costs), amount unknown.")
            proof = [ev.removal_order(r) for r in order.rows]
            proof += [ev.removal_shipment(s) for s in order.shipments]
            tracking = sorted({s.tracking_number for s in order.shipments if s.tracking_number})
            claim = make_claim(
                CATEGORY, keys=(order.order_id, order.fnsku or order.sku, variant),
                anchor=updated, as_of=as_of, quantity=units,
                amount=None if unit_cost is None else unit_cost * units, reason=text,
                evidence=[*proof, *paid_evidence(demand)], sku=order.sku, fnsku=order.fnsku,
                asin=catalog.asin(order.fnsku, order.sku),
                facts={"order-id": order.order_id, "fnsku": order.fnsku,
                       "tracking-numbers": " ".join(tracking)},
                unit_value=unit_cost, variant=variant,
            )
            if claim is not None:
                claims.append(claim)
    return claims
