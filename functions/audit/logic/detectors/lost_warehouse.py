"""Lost in the warehouse: ledger Adjustments with reason M or 5 (misplaced), negative.

Claimable: the units neither found (ledger F for the FNSKU, up to 3 days before the loss
or any time after) nor paid (Lost_Warehouse reimbursements, net of justified reversals),
oldest loss settled first, and never more than the row's ``Unreconciled Quantity`` (Amazon's
own count of what is still open). Value: manufacturing cost from the cost sheet (Amazon
pays before-order losses at manufacturing cost since March 2025); none without a cost.
Window: 60 days from the ledger date.
"""

from __future__ import annotations

from datetime import date

from ..claims import Category, Claim, make_claim
from ..costs import CostBook
from ..data import AuditData
from . import _evidence as ev
from ._pools import open_demands, paid_evidence, warehouse_pool

CATEGORY = Category.LOST_WAREHOUSE


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    return warehouse_claims(data, CATEGORY, costs=costs, as_of=as_of, what="lost (misplaced)")


def warehouse_claims(
    data: AuditData, category: Category, *, costs: CostBook, as_of: date, what: str,
) -> list[Claim]:
    """Claims for the open part of each loss (or damage) row of the ledger."""
    catalog = data.catalog()
    claims: list[Claim] = []
    for demand in open_demands(warehouse_pool(data, category), "loss"):
        entry = demand.ref[1]
        units = demand.open
        if entry.unreconciled_quantity is not None:
            units = min(units, entry.unreconciled_quantity)
        if units <= 0:
            continue
        sku, fnsku, asin = ev.ids(catalog, sku=entry.msku, fnsku=entry.fnsku, asin=entry.asin)
        unit_cost = costs.unit_cost(sku, catalog.currency_of(fnsku))
        settled = demand.covered
        text = (
            f"{demand.quantity} unit(s) {what} at {entry.fulfillment_center or 'an FC'} on "
            f"{entry.date.isoformat()} (ledger reason {entry.reason}, Reference ID "
            f"{entry.reference_id}); {settled} found or reimbursed since"
        )
        if entry.unreconciled_quantity is not None:
            text += f", {entry.unreconciled_quantity} unreconciled per Amazon"
        text += f"; {units} to claim"
        text += (f" at manufacturing cost {unit_cost} per unit." if unit_cost is not None
                 else "; no unit cost given (--costs), amount unknown.")
        proof = [ev.ledger(entry), *paid_evidence(demand)]
        claim = make_claim(
            category,
            keys=(fnsku, entry.reference_id, entry.reason, entry.date.isoformat()),
            anchor=entry.date, as_of=as_of, quantity=units,
            amount=None if unit_cost is None else unit_cost * units,
            reason=text, evidence=proof, sku=sku, fnsku=fnsku, asin=asin,
            facts={"reference-id": entry.reference_id, "fnsku": fnsku,
                   "fulfillment-center": entry.fulfillment_center,
                   "date": entry.date.isoformat(), "ledger-reason": entry.reason},
            unit_value=unit_cost,
        )
        if claim is not None:
            claims.append(claim)
    return claims
