"""Damaged in the warehouse: ledger Adjustments with reason 6, 7, E, H, K or U, negative
(usually followed by a P row moving the unit into an unsellable disposition).

Claimable: the units not paid (Damaged_Warehouse reimbursements, net of justified
reversals), never more than the row's ``Unreconciled Quantity``. Value: manufacturing
cost from the cost sheet. Window: 60 days from the ledger date.
"""

from __future__ import annotations

from datetime import date

from ..claims import Category, Claim, Evidence
from ..costs import CostBook
from ..data import AuditData
from . import _evidence as ev
from .lost_warehouse import warehouse_claims

CATEGORY = Category.DAMAGED_WAREHOUSE


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    return warehouse_claims(
        data, CATEGORY, costs=costs, as_of=as_of, what="damaged",
        extra_evidence=_disposition_pairs(data))


def _disposition_pairs(data: AuditData) -> dict[object, list[Evidence]]:
    """The P row (disposition change in) that pairs with each damage row: same FNSKU,
    same time (or day) and as many units."""
    index: dict[tuple[object, ...], list[object]] = {}
    for p in data.dispositions_in.values():
        index.setdefault((p.fnsku, p.date_time or p.date, p.quantity), []).append(p)
    pairs: dict[object, list[Evidence]] = {}
    for damage in sorted(data.damages.values(), key=lambda e: (e.at, e.reference_id)):
        candidates = index.get((damage.fnsku, damage.date_time or damage.date, -damage.quantity))
        if candidates:
            pairs[id(damage)] = [ev.ledger(candidates.pop(0))]  # type: ignore[arg-type]
    return pairs
