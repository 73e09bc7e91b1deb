"""The audit's claims in the Claims table: the one mapping between the two models, the
upsert of a run's claims, and closing stored claims that Amazon has paid.

Two claim models meet here:

- ``functions.audit.logic.claims.Claim`` (*audit claim*): what the detectors produce,
  status ``open``/``expired``, with its window (``anchor``, ``opens``), case ``facts``
  (order id, reference id, shipment id, ...) and ``unit_value``;
- ``functions.core.repositories.claims.Claim`` (*stored claim*): the table's model,
  status ``detected → filed → reimbursed / denied / expired``, with case id, reimbursed
  amount and timeline, but no window or facts.

:func:`to_stored` and :func:`from_stored` are the only conversions. ``open`` is stored as
``detected``. The audit-only details (anchor, opens, facts, unit value) travel as the
**first evidence entry**, ``{"report": "audit", "anchor", "opens", "facts",
"unit_value"}``, followed by the evidence rows exactly as ``Evidence.to_dict()`` writes
them (``report``, ``file``, ``line``, ``fields``). Whoever shows evidence (API, case
packages) can skip the ``audit`` entry or show its facts, which are the case facts.
Reading a stored claim back gives the audit claim again, so a payment found in a later
audit is matched by the audit core's own rules (:func:`match_reimbursements`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from functions.audit.logic.claims import (
    SAFETY_MARGIN_DAYS,
    Category,
    Evidence,
    ReimbursementMatch,
    match_reimbursements,
    window,
)
from functions.audit.logic.claims import Claim as AuditClaim
from functions.audit.logic.claims import ClaimStatus as AuditStatus
from functions.audit.logic.reports.records import Reimbursement
from functions.core.money import Money
from functions.core.repositories.claims import Claim as StoredClaim
from functions.core.repositories.claims import (
    ClaimCategory,
    ClaimRepository,
    ClaimStatus,
)
from functions.core.repositories.errors import InvalidTransition, NotFound

logger = logging.getLogger(__name__)

AUDIT_DETAILS = "audit"  # ``report`` of the evidence entry with the audit's own details
OPEN_STATUSES = frozenset({ClaimStatus.DETECTED, ClaimStatus.FILED})  # Amazon may still pay


# -- the mapping --------------------------------------------------------------------------
def stored_status(status: AuditStatus) -> ClaimStatus:
    """``open`` → ``detected``; ``expired`` → ``expired``."""
    return ClaimStatus.DETECTED if status is AuditStatus.OPEN else ClaimStatus.EXPIRED


def to_stored(
    seller_id: str, claim: AuditClaim, *, marketplace_id: str | None = None
) -> StoredClaim:
    """The stored claim for an audit claim (what :meth:`ClaimRepository.upsert_detected`
    takes): status ``detected``/``expired``, the audit details as first evidence entry."""
    details = {
        "report": AUDIT_DETAILS,
        "anchor": claim.anchor.isoformat(),
        "opens": claim.opens.isoformat(),
        "facts": dict(claim.facts),
        "unit_value": None if claim.unit_value is None else claim.unit_value.to_dict(),
    }
    return StoredClaim(
        seller_id=seller_id,
        claim_id=claim.claim_id,
        category=ClaimCategory(str(claim.category)),
        status=stored_status(claim.status),
        marketplace_id=marketplace_id,
        sku=claim.sku,
        fnsku=claim.fnsku,
        asin=claim.asin,
        quantity=claim.quantity,
        amount=claim.amount,
        deadline=claim.deadline,
        reason=claim.reason,
        evidence=(details, *(e.to_dict() for e in claim.evidence)),
    )


def from_stored(stored: StoredClaim) -> AuditClaim:
    """The audit claim behind a stored claim. ``expired`` (and the final statuses) read as
    ``expired``, ``detected``/``filed`` as ``open``. A claim stored without the audit
    details (not written by the audit) gets its anchor back from its deadline and the
    category's standard window, and no facts."""
    details: Mapping[str, Any] | None = None
    evidence: list[Evidence] = []
    for entry in stored.evidence:
        if not isinstance(entry, Mapping):
            continue
        if entry.get("report") == AUDIT_DETAILS and details is None:
            details = entry
        elif {"report", "file", "line"} <= set(entry):
            evidence.append(Evidence.from_dict(entry))
    category = Category(str(stored.category))
    if details is not None:
        anchor = date.fromisoformat(str(details["anchor"]))
        opens = date.fromisoformat(str(details.get("opens") or details["anchor"]))
        facts = tuple(sorted((str(k), str(v)) for k, v in dict(details.get("facts") or {})
                             .items()))
        unit = details.get("unit_value")
        unit_value = Money.from_dict(unit) if isinstance(unit, Mapping) else None
    else:
        standard = window(category)
        anchor = stored.deadline - timedelta(
            days=standard.closes_after_days - SAFETY_MARGIN_DAYS)
        opens, facts, unit_value = standard.opens(anchor), (), None
    open_now = stored.status in OPEN_STATUSES
    return AuditClaim(
        claim_id=stored.claim_id,
        category=category,
        status=AuditStatus.OPEN if open_now else AuditStatus.EXPIRED,
        sku=stored.sku, fnsku=stored.fnsku, asin=stored.asin,
        quantity=stored.quantity,
        amount=stored.amount,
        anchor=anchor,
        opens=opens,
        deadline=stored.deadline,
        reason=stored.reason,
        evidence=tuple(evidence),
        facts=facts,
        unit_value=unit_value,
    )


# -- storing a run ----------------------------------------------------------------------
@dataclass(slots=True)
class StoreResult:
    """What :meth:`ClaimsStore.store` did, by claim id."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # seen before; detected fields refreshed
    expired: list[str] = field(default_factory=list)  # stored as (or moved to) expired
    kept: list[str] = field(default_factory=list)  # filed/reimbursed/denied: status kept


@dataclass(frozen=True, slots=True)
class Settlement:
    """A stored claim closed as reimbursed: what was paid and, if less than claimed,
    ``shortfall`` (claim amount − paid)."""

    claim_id: str
    paid: Money | None
    shortfall: Money | None
    reimbursement_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "paid": None if self.paid is None else self.paid.to_dict(),
            "shortfall": None if self.shortfall is None else self.shortfall.to_dict(),
            "reimbursement_ids": list(self.reimbursement_ids),
        }


@dataclass(slots=True)
class SettleResult:
    """What :meth:`ClaimsStore.settle` did."""

    reimbursed: list[Settlement] = field(default_factory=list)
    partly_paid: list[str] = field(default_factory=list)  # some units paid: left open
    expired: list[str] = field(default_factory=list)  # no longer reported, window passed


class ClaimsStore:
    """A seller's claims in the Claims table, in the audit's terms."""

    def __init__(self, repository: ClaimRepository) -> None:
        self.repository = repository

    def store(
        self,
        seller_id: str,
        claims: Iterable[AuditClaim],
        *,
        marketplace_id: str | None = None,
    ) -> StoreResult:
        """Upsert every claim of a run. A re-audit finds each claim by its deterministic
        id and refreshes it (never a second item); filed or paid claims keep their
        status."""
        result = StoreResult()
        for claim in claims:
            upsert = self.repository.upsert_detected(
                to_stored(seller_id, claim, marketplace_id=marketplace_id))
            stored = upsert.claim
            if upsert.created:
                result.created.append(claim.claim_id)
            else:
                result.updated.append(claim.claim_id)
            if stored.status is ClaimStatus.EXPIRED:
                result.expired.append(claim.claim_id)
            elif stored.status is not ClaimStatus.DETECTED:
                result.kept.append(claim.claim_id)
        return result

    def claims_of(self, seller_id: str) -> Iterator[StoredClaim]:
        """Every stored claim of the seller (all pages)."""
        token: str | None = None
        while True:
            page = self.repository.list_for_seller(seller_id, limit=200, next_token=token)
            yield from page.items
            token = page.next_token
            if not token:
                return

    def settle(
        self,
        seller_id: str,
        reimbursements: Iterable[Reimbursement],
        *,
        listed: Collection[str],
        as_of: date,
        at: datetime | None = None,
    ) -> SettleResult:
        """Close the seller's stored claims that the reimbursements report pays.

        Only claims this run did **not** list (``listed``: its claim ids) are matched: a
        claim the audit still lists is, by the detectors' own netting, not fully made
        good, and its stored quantity is already what remains after the payments.
        Claims ``detected`` or ``filed`` are matched with :func:`match_reimbursements`
        (case ids first, then reason and FNSKU / order id); a fully paid one moves to
        ``reimbursed`` with the amount actually paid, the timeline noting any shortfall
        (the audit's ``reimbursement_underpaid`` detector claims a payment below value);
        a partly paid one stays open. A ``detected`` claim no longer listed whose
        deadline has passed moves to ``expired``.
        """
        result = SettleResult()
        candidates = [c for c in self.claims_of(seller_id)
                      if c.status in OPEN_STATUSES and c.claim_id not in listed]
        if not candidates:
            return result
        matches = match_reimbursements(
            [from_stored(c) for c in candidates], reimbursements,
            case_ids={c.claim_id: c.case_id for c in candidates if c.case_id},
        )
        for claim in candidates:
            match = matches.get(claim.claim_id)
            if match is not None and match.fully_paid:
                if self._close(seller_id, claim, match, at):
                    result.reimbursed.append(Settlement(
                        claim.claim_id, match.amount_paid, _positive(match.shortfall),
                        match.reimbursement_ids))
            elif match is not None:
                result.partly_paid.append(claim.claim_id)
            elif claim.status is ClaimStatus.DETECTED and claim.deadline < as_of:
                if self._move(seller_id, claim.claim_id, ClaimStatus.EXPIRED, at,
                              note="claim window passed; no longer in the reports (audit)"):
                    result.expired.append(claim.claim_id)
        return result

    def _close(
        self, seller_id: str, claim: StoredClaim, match: ReimbursementMatch,
        at: datetime | None,
    ) -> bool:
        paid = match.amount_paid
        note = f"paid by Amazon: reimbursement(s) {', '.join(match.reimbursement_ids)}"
        if paid is not None:
            note += f", {paid}"
        shortfall = _positive(match.shortfall)
        if shortfall is not None:
            note += f"; under-paid by {shortfall} (claimed {claim.amount})"
        return self._move(seller_id, claim.claim_id, ClaimStatus.REIMBURSED, at, note=note,
                          reimbursed_amount=paid)

    def _move(
        self, seller_id: str, claim_id: str, to: ClaimStatus, at: datetime | None, *,
        note: str, reimbursed_amount: Money | None = None,
    ) -> bool:
        try:
            self.repository.transition(
                seller_id, claim_id, to, note=note, at=at, reimbursed_amount=reimbursed_amount)
        except (InvalidTransition, NotFound) as error:
            # Changed meanwhile (filed, denied, ...): the stored status stands.
            logger.info("claim %s not moved to %s: %s", claim_id, to.value, error)
            return False
        return True


def _positive(money: Money | None) -> Money | None:
    return money if money is not None and money.amount > 0 else None
