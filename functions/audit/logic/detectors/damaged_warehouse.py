"""Damaged in the warehouse: ledger Adjustments with reason 6, 7, E, H, K or U, negative.
(Amazon follows each with a P row moving the unit into an unsellable disposition; the
audit does not read P rows, the damage row is the evidence.)

Claimable: the units not paid (Damaged_Warehouse reimbursements, net of justified
reversals), never more than the row's ``Unreconciled Quantity``. Value: manufacturing
cost from the cost sheet. Window: 60 days from the ledger date.
"""

from __future__ import annotations

from datetime import date

from ..claims import Category, Claim
from ..costs import CostBook
from ..data import AuditData
from .lost_warehouse import warehouse_claims

CATEGORY = Category.DAMAGED_WAREHOUSE


def detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    return warehouse_claims(data, CATEGORY, costs=costs, as_of=as_of, what="damaged")
