"""Fee overcharge: the settlement charged a higher FBA fulfillment fee per unit
(``FBAPerUnitFulfillmentFee``) than the fee preview expects for the SKU
(``expected-fulfillment-fee-per-unit``), i.e. Amazon billed a bigger size tier or weight
than the one its own catalogue data gives.

One claim per settlement and SKU: the overcharged units and the fee difference. A
reimbursement whose reason names a fee, approved after the charges, settles it (money).
Window (**unverified**): 60 days from the first charge.

Caveat: the fee preview is today's estimate. Charges from before a fee change (Amazon
changes fees every January, plus peak-season surcharges from mid-October to mid-January)
can differ from it legitimately; read the evidence before filing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from functions.core.money import Money, tick

from ..claims import Category, Claim, make_claim, pays
from ..costs import CostBook
from ..data import AuditData, FeeCharge
from ..reports.records import Reimbursement
from . import _evidence as ev

CATEGORY = Category.FEE_OVERCHARGE
_MAX_EVIDENCE = 20


@dataclass(slots=True)
class _Group:
    settlement_id: str
    sku: str
    currency: str
    units: int = 0
    difference: Decimal = Decimal(0)
    first: datetime | None = None
    charges: list[tuple[FeeCharge, int, Decimal]] = field(default_factory=list)


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    catalog = data.catalog()
    groups: dict[tuple[str, str, str], _Group] = {}
    for key in sorted(data.fee_charges):
        charge = data.fee_charges[key]
        estimate = data.fees.get((charge.sku, charge.currency))
        if estimate is None or estimate.expected_fulfillment_fee_per_unit is None:
            continue
        charged = -charge.amount
        if charged <= 0 or charge.posted is None:
            continue
        sale = data.sales.get((charge.order_id, charge.sku))
        units = charge.quantity or (sale.quantity if sale is not None else None) or 1
        per_unit = charged / units
        excess = per_unit - estimate.expected_fulfillment_fee_per_unit
        if excess < tick(charge.currency):
            continue
        group = groups.setdefault(
            (charge.settlement_id, charge.sku, charge.currency),
            _Group(charge.settlement_id, charge.sku, charge.currency))
        group.units += units
        group.difference += excess * units
        group.first = charge.posted if group.first is None else min(group.first, charge.posted)
        group.charges.append((charge, units, per_unit))

    refunds = _fee_refunds(data.reimbursements.values())
    claims: list[Claim] = []
    for key in sorted(groups, key=lambda k: (groups[k].first, k)):
        group = groups[key]
        assert group.first is not None
        estimate = data.fees[(group.sku, group.currency)]
        owed = Money(group.difference, group.currency)
        refunded = Money.zero(group.currency)
        proof = [ev.fee_estimate(estimate)]
        for r in refunds.get((group.sku, group.currency), []):
            if owed.amount <= refunded.amount:
                break
            if r.approval_date >= group.first - timedelta(days=3):
                refunded = refunded + r.amount_total
                proof.append(ev.reimbursement(r))
        remaining = owed - refunded
        if remaining.amount <= 0:
            continue
        charges = sorted(group.charges, key=lambda c: (c[0].posted, c[0].order_id))
        for charge, _units, _per_unit in charges[:_MAX_EVIDENCE]:
            proof += [ev.settlement(line) for line in charge.lines]
            sale = data.sales.get((charge.order_id, charge.sku))
            if sale is not None and not charge.quantity:  # the units came from the sale
                proof += [ev.settlement(line) for line in sale.lines
                          if line.amount_description.lower() == "principal"]
        sku, fnsku, asin = ev.ids(catalog, sku=group.sku, fnsku=estimate.fnsku,
                                  asin=estimate.asin)
        highest = max(c[2] for c in charges)
        text = (
            f"Settlement {group.settlement_id}: FBA fulfillment fee charged up to "
            f"{Money(highest, group.currency)} per unit on {group.units} unit(s) of {sku} "
            f"({len(charges)} order(s)), the fee preview expects "
            f"{Money(estimate.expected_fulfillment_fee_per_unit, group.currency)} "
            f"(size tier {estimate.product_size_tier or 'n/a'}); overcharged {owed}"
        )
        if refunded.amount:
            text += f", {refunded} refunded since"
        text += "."
        first = group.first.date()
        claim = make_claim(
            CATEGORY, keys=(group.settlement_id, group.sku, group.currency), anchor=first,
            as_of=as_of, quantity=group.units, amount=remaining, reason=text, evidence=proof,
            sku=sku, fnsku=fnsku, asin=asin,
            facts={"settlement-id": group.settlement_id, "sku": sku,
                   "order-ids": " ".join(sorted({c[0].order_id for c in charges}))},
        )
        if claim is not None:
            claims.append(claim)
    return claims


def _fee_refunds(rows: Iterable[Reimbursement]) -> dict[tuple[str, str], list[Reimbursement]]:
    refunds: dict[tuple[str, str], list[Reimbursement]] = {}
    for r in sorted(rows, key=lambda r: (r.approval_date, r.reimbursement_id)):
        if r.amount_total.amount > 0 and pays(CATEGORY, r.reason):
            refunds.setdefault((r.sku, r.currency), []).append(r)
    return refunds
