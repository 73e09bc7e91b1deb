"""Returned, not restocked: a customer return Amazon received damaged by itself
(``detailed-disposition`` DAMAGED) or by its carrier (CARRIER_DAMAGED), or that never
reached inventory (no ledger CustomerReturns row for it within 14 days, judged only where
the ledger's CustomerReturns rows cover that period).

Claimable: the returned units not paid by CustomerReturn / CustomerServiceIssue
reimbursements on the order. Value: the sale's price less its fees (settlement), else the
fee preview's price less estimated fees; none without either. Window (**unverified**):
60 days from the return, 45 for carrier damage; a missing restock is claimable from 7 days
after the return.
"""

from __future__ import annotations

from datetime import date

from ..claims import Category, Claim, make_claim
from ..costs import CostBook
from ..data import AuditData
from . import _evidence as ev
from ._pools import customer_pool, open_demands, paid_evidence

CATEGORY = Category.RETURN_NOT_RESTOCKED

_WHAT = {
    "": "came back damaged in Amazon's warehouse (DAMAGED)",
    "carrier_damaged": "was damaged by Amazon's carrier (CARRIER_DAMAGED)",
    "not_restocked": "was never added back to inventory (no ledger CustomerReturns row)",
}


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    catalog = data.catalog()
    claims: list[Claim] = []
    for demand in open_demands(customer_pool(data), "not_restocked"):
        flagged = demand.ref[1]
        row = flagged.row
        units = demand.open
        sku, fnsku, asin = ev.ids(catalog, sku=row.sku, fnsku=row.fnsku, asin=row.asin)
        sale = data.sales.get((row.order_id, sku))
        unit_value = ev.sale_unit_value(sale)
        basis = "the sale price less fees"
        if unit_value is None:
            currency = sale.currency if sale is not None else None
            unit_value = ev.estimated_unit_value(ev.fee_for(sku, currency, data.fees))
            basis = "the listed price less estimated fees"
        returned = row.return_date.date()
        text = (
            f"Order {row.order_id}: {row.quantity} unit(s) returned on {returned.isoformat()} "
            f"(LPN {row.license_plate_number or 'n/a'}) {_WHAT[flagged.variant]}; "
            f"{demand.covered} reimbursed; {units} to claim"
        )
        text += (f" at {basis}, {unit_value} per unit." if unit_value is not None
                 else "; no sale price known, amount unknown.")
        proof = [ev.customer_return(row)]
        if sale is not None:
            proof += [ev.settlement(line) for line in sale.lines]
        claim = make_claim(
            CATEGORY, keys=(row.order_id, fnsku or sku, row.license_plate_number),
            anchor=returned, as_of=as_of, quantity=units,
            amount=None if unit_value is None else unit_value * units,
            reason=text, evidence=[*proof, *paid_evidence(demand)],
            sku=sku, fnsku=fnsku, asin=asin,
            facts={"order-id": row.order_id, "fnsku": fnsku,
                   "license-plate-number": row.license_plate_number,
                   "detailed-disposition": row.detailed_disposition},
            unit_value=unit_value, variant=flagged.variant,
        )
        if claim is not None:
            claims.append(claim)
    return claims
