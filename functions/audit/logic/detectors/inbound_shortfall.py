"""Inbound shortfall: a CLOSED inbound shipment received fewer units than were shipped.

Received = the larger of the Inbound API's ``quantity_received`` and the ledger's Receipts
rows whose Reference ID is the shipment. Claimable: the shortfall not paid by Lost_Inbound
/ Damaged_Inbound reimbursements for the FNSKU (net of justified reversals). Value:
manufacturing cost. Window: 15–60 days after the shipment closed (delivery is not in the
data; **unverified** for the US).
"""

from __future__ import annotations

from datetime import date

from ..claims import Category, Claim, make_claim
from ..costs import CostBook
from ..data import AuditData
from . import _evidence as ev
from ._pools import inbound_pool, open_demands, paid_evidence

CATEGORY = Category.INBOUND_SHORTFALL


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    catalog = data.catalog()
    claims: list[Claim] = []
    for demand in open_demands(inbound_pool(data), "shortfall"):
        shortfall = demand.ref[1]
        item = shortfall.item
        units = demand.open
        sku, fnsku, asin = ev.ids(catalog, sku=item.sku, fnsku=item.fnsku)
        unit_cost = costs.unit_cost(sku, catalog.currency_of(fnsku))
        closed = item.closed_date.date()
        text = (
            f"Shipment {item.shipment_id} closed {closed.isoformat()}: {item.quantity_shipped} "
            f"unit(s) shipped, {shortfall.received} received; {demand.covered} reimbursed "
            f"since; {units} to claim"
        )
        text += (f" at manufacturing cost {unit_cost} per unit." if unit_cost is not None
                 else "; no unit cost given (--costs), amount unknown.")
        claim = make_claim(
            CATEGORY, keys=(item.shipment_id, fnsku or sku), anchor=closed, as_of=as_of,
            quantity=units, amount=None if unit_cost is None else unit_cost * units,
            reason=text,
            evidence=[ev.inbound(item), *(ev.ledger(e) for e in shortfall.receipts),
                      *paid_evidence(demand)],
            sku=sku, fnsku=fnsku, asin=asin,
            facts={"shipment-id": item.shipment_id, "fnsku": fnsku,
                   "quantity-shipped": str(item.quantity_shipped),
                   "quantity-received": str(shortfall.received)},
            unit_value=unit_cost,
        )
        if claim is not None:
            claims.append(claim)
    return claims
