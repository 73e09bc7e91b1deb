"""One detector per claim category. Each is a pure function

    detect(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]

from the deduplicated report contents (see ..data) to the claims of its category, open or
expired on ``as_of``; claims whose window has not opened yet are not returned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ..claims import Category, Claim
from ..costs import CostBook
from ..data import AuditData
from . import (
    damaged_warehouse,
    fee_overcharge,
    inbound_shortfall,
    lost_warehouse,
    reimbursement_reversal,
    reimbursement_underpaid,
    removal_lost,
    return_not_received,
    return_not_restocked,
)

Detector = Callable[..., list[Claim]]

DETECTORS: dict[Category, Detector] = {
    module.CATEGORY: module.detect
    for module in (
        lost_warehouse, damaged_warehouse, return_not_received, return_not_restocked,
        inbound_shortfall, removal_lost, fee_overcharge, reimbursement_underpaid,
        reimbursement_reversal,
    )
}


def detect_all(data: AuditData, *, costs: CostBook, as_of: date) -> list[Claim]:
    claims: list[Claim] = []
    for detect in DETECTORS.values():
        claims.extend(detect(data, costs=costs, as_of=as_of))
    return claims


__all__ = ["DETECTORS", "Detector", "detect_all"]
