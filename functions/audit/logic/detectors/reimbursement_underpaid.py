"""Reimbursement paid below value: a payment's ``amount-per-unit`` is less than the unit's
value, for the cash units not reversed since.

Value of a unit: manufacturing cost from the cost sheet for before-order losses
(Lost_/Damaged_Warehouse, Lost_/Damaged_Inbound), in the payment's currency; the sale's
price less fees (settlement, else the fee preview) for customer-side payments
(CustomerReturn, CustomerServiceIssue). No value known: no claim. A gap under
``TOLERANCE`` (2 % of the value) is not claimed: Amazon's cost estimates and rounding
differ from a seller's sheet by that much without anyone being owed. A later payment with the
same case id (e.g. a GeneralAdjustment top-up) reduces the difference. Window
(**unverified**): 60 days from the payment.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from functions.core.money import Money

from ..claims import REVERSAL, Category, Claim, category_paid_by, make_claim, reason_key
from ..costs import CostBook
from ..data import AuditData
from ..reports.records import Reimbursement
from . import _evidence as ev
from ._pools import reversal_outcomes

CATEGORY = Category.REIMBURSEMENT_UNDERPAID
TOLERANCE = Decimal("0.02")
_INVENTORY = frozenset({Category.LOST_WAREHOUSE, Category.DAMAGED_WAREHOUSE,
                        Category.INBOUND_SHORTFALL})


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    catalog = data.catalog()
    reversed_units: dict[int, int] = {}
    for outcome in reversal_outcomes(data):
        if outcome.original is not None:
            ident = id(outcome.original)
            reversed_units[ident] = reversed_units.get(ident, 0) + outcome.units
    payments = sorted(data.reimbursements.values(),
                      key=lambda r: (r.approval_date, r.reimbursement_id, r.fnsku))
    by_case: dict[str, list[Reimbursement]] = {}
    for r in payments:
        if r.case_id and reason_key(r.reason) != REVERSAL and r.amount_total.amount > 0:
            by_case.setdefault(r.case_id, []).append(r)

    claims: list[Claim] = []
    for r in payments:
        category = category_paid_by(r.reason)
        if category is None or reason_key(r.reason) == REVERSAL or r.quantity_cash <= 0:
            continue
        units = r.quantity_cash - reversed_units.get(id(r), 0)
        if units <= 0:
            continue
        paid = r.amount_per_unit or Money(r.amount_total.amount / r.quantity_cash, r.currency)
        sku, fnsku, asin = ev.ids(catalog, sku=r.sku, fnsku=r.fnsku, asin=r.asin)
        if category in _INVENTORY:
            value = costs.unit_cost(sku, r.currency)
            basis = "manufacturing cost"
        else:
            value = ev.sale_unit_value(data.sales.get((r.amazon_order_id, sku)))
            basis = "the sale price less fees"
            if value is None:
                value = ev.estimated_unit_value(ev.fee_for(sku, r.currency, data.fees))
                basis = "the listed price less estimated fees"
        if value is None or value.currency != r.currency:
            continue
        difference = value.amount - paid.amount  # Decimal first: most payments are fair
        if difference <= 0 or difference < value.amount * TOLERANCE:
            continue
        gap = Money(difference, r.currency).quantize()
        owed = gap * units
        topped: list[Reimbursement] = [
            t for t in by_case.get(r.case_id, []) if t is not r
            and t.approval_date >= r.approval_date and t.currency == r.currency
            and category_paid_by(t.reason) is None] if r.case_id else []
        extra = sum((t.amount_total.amount for t in topped), start=paid.amount * 0)
        remaining = owed - Money(extra, r.currency)
        if remaining.amount <= 0:
            continue
        text = (
            f"Reimbursement {r.reimbursement_id} ({r.reason}) paid {paid} per unit for "
            f"{units} unit(s); {basis} is {value} per unit: {owed} short"
        )
        if topped:
            text += f", {Money(extra, r.currency)} paid on the same case since"
        text += "."
        approved = r.approval_date.date()
        claim = make_claim(
            CATEGORY, keys=(r.reimbursement_id, r.fnsku or r.sku), anchor=approved,
            as_of=as_of, quantity=units, amount=remaining, reason=text,
            evidence=[ev.reimbursement(r), *(ev.reimbursement(t) for t in topped)],
            sku=sku, fnsku=fnsku, asin=asin,
            facts={"reimbursement-id": r.reimbursement_id, "case-id": r.case_id,
                   "amazon-order-id": r.amazon_order_id, "fnsku": fnsku},
            unit_value=value,
        )
        if claim is not None:
            claims.append(claim)
    return claims
