"""Reversal not justified: Amazon took a reimbursement back (Reimbursement_Reversal)
with no found unit (ledger F for the FNSKU after the payment), no return of the order
(customer-side payments) and no receipt (inbound payments) to justify it.

Claimable: the unjustified units not paid again since (a new payment of the same kind
settles the oldest debt of the FNSKU or order first; see _pools.py). Value: the reversed
amount per unit. Window: treated as 60 days from the reversal.
"""

from __future__ import annotations

from datetime import date

from functions.core.money import Money

from ..claims import Category, Claim, make_claim
from ..costs import CostBook
from ..data import AuditData
from . import _evidence as ev
from ._pools import (
    ReversalOutcome,
    customer_pool,
    inbound_pool,
    open_demands,
    paid_evidence,
    reversal_outcomes,
    warehouse_pool,
)

CATEGORY = Category.REIMBURSEMENT_REVERSAL


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    open_units: dict[int, tuple[int, list[ev.Evidence]]] = {}
    pooled: set[int] = set()
    for pool in (warehouse_pool(data, Category.LOST_WAREHOUSE),
                 warehouse_pool(data, Category.DAMAGED_WAREHOUSE),
                 inbound_pool(data), customer_pool(data)):
        for demand in pool:
            if demand.ref[0] != "reversal":
                continue
            pooled.add(id(demand.ref[1]))
        for demand in open_demands(pool, "reversal"):
            open_units[id(demand.ref[1])] = (demand.open, paid_evidence(demand))
    claims: list[Claim] = []
    for outcome in reversal_outcomes(data):
        if outcome.unjustified <= 0:
            continue
        if id(outcome) in pooled:
            if id(outcome) not in open_units:
                continue  # paid again since
            units, paid = open_units[id(outcome)]
        else:
            units, paid = outcome.unjustified, []
        claim = _claim(data, outcome, units, paid, as_of)
        if claim is not None:
            claims.append(claim)
    return claims


def _claim(data: AuditData, outcome: ReversalOutcome, units: int,
           paid: list[ev.Evidence], as_of: date) -> Claim | None:
    catalog = data.catalog()
    rv = outcome.reversal
    currency = rv.currency
    amount = Money(outcome.per_unit * units if outcome.units else outcome.per_unit, currency)
    sku, fnsku, asin = ev.ids(catalog, sku=rv.sku, fnsku=rv.fnsku, asin=rv.asin)
    original_id = rv.original_reimbursement_id or "unknown"
    kind = rv.original_reimbursement_type or (
        outcome.original.reason if outcome.original else "unknown type")
    text = (
        f"Reversal {rv.reimbursement_id} on {rv.approval_date.date().isoformat()} took back "
        f"{abs(rv.amount_total.amount)} {currency} of reimbursement {original_id} ({kind}); "
    )
    if outcome.units:
        text += (f"{outcome.justified} of {outcome.units} unit(s) justified by a found unit, "
                 f"return or receipt; {units} to claim, {amount}.")
    else:
        text += f"no found unit, return or receipt justifies it; {amount} to claim."
    proof = [ev.reimbursement(rv)]
    if outcome.original is not None:
        proof.append(ev.reimbursement(outcome.original))
    proof += outcome.justification + paid
    approved = rv.approval_date.date()
    return make_claim(
        CATEGORY, keys=(rv.reimbursement_id, rv.fnsku or rv.sku), anchor=approved, as_of=as_of,
        quantity=units if outcome.units else 0, amount=amount, reason=text, evidence=proof,
        sku=sku, fnsku=fnsku, asin=asin,
        facts={"reimbursement-id": rv.reimbursement_id,
               "original-reimbursement-id": rv.original_reimbursement_id,
               "amazon-order-id": rv.amazon_order_id, "fnsku": fnsku},
        unit_value=Money(outcome.per_unit, currency) if outcome.units else None,
    )
