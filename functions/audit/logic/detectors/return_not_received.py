"""Refunded, not returned: the settlement refunded an order's units but no return of them
arrived (returns report, or ledger CustomerReturns rows with the order id as Reference ID).

Claimable: refunded − returned units not paid by CustomerReturn / CustomerServiceIssue
reimbursements on the order. Value: what the refund debited, less the fees Amazon gave
back (all refund amounts but taxes), per unit. Window: 60–120 days after the refund
(45–105 in EU/UK marketplaces).
"""

from __future__ import annotations

from datetime import date

from functions.core.money import Money

from ..claims import Category, Claim, make_claim
from ..costs import CostBook
from ..data import AuditData
from ..reports.records import CustomerReturn
from . import _evidence as ev
from ._pools import customer_pool, open_demands, paid_evidence

CATEGORY = Category.RETURN_NOT_RECEIVED


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    catalog = data.catalog()
    claims: list[Claim] = []
    for demand in open_demands(customer_pool(data), "not_received"):
        info = demand.ref[1]
        refund = info.refund
        units = demand.open
        sku, fnsku, asin = ev.ids(catalog, sku=refund.sku)
        debit = -refund.net
        unit_value = Money(debit / info.refunded, refund.currency) if debit > 0 else None
        refunded_on = refund.posted.date()
        text = (
            f"Order {refund.order_id}: {info.refunded} unit(s) refunded on "
            f"{refunded_on.isoformat()}, {info.returned} returned, {demand.covered} "
            f"reimbursed; {units} to claim"
        )
        text += (f" at the refunded amount less fees, {unit_value} per unit." if unit_value
                 else "; the refund debited nothing, amount unknown.")
        proof = [ev.settlement(line) for line in refund.lines]
        proof += [ev.customer_return(r) if isinstance(r, CustomerReturn) else ev.ledger(r)
                  for r in info.returns]
        claim = make_claim(
            CATEGORY, keys=(refund.order_id, sku), anchor=refunded_on, as_of=as_of,
            quantity=units, amount=None if unit_value is None else unit_value * units,
            reason=text, evidence=[*proof, *paid_evidence(demand)],
            sku=sku, fnsku=fnsku, asin=asin,
            facts={"order-id": refund.order_id, "fnsku": fnsku,
                   "refund-date": refunded_on.isoformat()},
            unit_value=unit_value,
            variant=ev.region_variant(refund.marketplace, refund.currency),
        )
        if claim is not None:
            claims.append(claim)
    return claims
