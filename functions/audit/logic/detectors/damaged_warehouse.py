"""Damaged in the warehouse: ledger Adjustments with reason 6, 7, E, H, K or U, negative
(usually followed by a P row moving the unit into an unsellable disposition).

Claimable: the units not paid (Damaged_Warehouse reimbursements, net of justified
reversals), never more than the row's ``Unreconciled Quantity``. Value: manufacturing
cost from the cost sheet. Window: 60 days from the ledger date.
"""

from __future__ import annotations

from datetime import date

from ..claims import Category, Claim
from ..costs import CostBook
from ..data import AuditData
from ..reports.records import LedgerEntry
from .lost_warehouse import warehouse_claims

CATEGORY = Category.DAMAGED_WAREHOUSE


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    return warehouse_claims(
        data, CATEGORY, costs=costs, as_of=as_of, what="damaged",
        pairs=_disposition_pairs(data))


def _disposition_pairs(data: AuditData) -> dict[int, LedgerEntry]:
    """The P row (disposition change in) that pairs with each damage row: same FNSKU,
    same time (or day) and as many units."""
    index: dict[tuple[object, ...], list[LedgerEntry]] = {}
    for p in sorted(data.dispositions_in.values(), key=_ledger_order):
        index.setdefault((p.fnsku, p.date_time or p.date, p.quantity), []).append(p)
    pairs: dict[int, LedgerEntry] = {}
    for damage in sorted(data.damages.values(), key=_ledger_order):
        candidates = index.get((damage.fnsku, damage.date_time or damage.date, -damage.quantity))
        if candidates:
            pairs[id(damage)] = candidates.pop(0)
    return pairs


def _ledger_order(e: LedgerEntry) -> tuple[object, ...]:
    return (e.date, e.reference_id, e.fulfillment_center, e.quantity)
