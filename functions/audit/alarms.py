"""Alarms the audit raises after each run, as domain events on the stack's bus.

Pure: inputs are claims and ledger events, outputs are :class:`Alarm` values with the
EventBridge ``detail-type`` and a JSON-ready ``detail`` (money and decimals as strings,
dates as ``YYYY-MM-DD``). The job puts them on ``EVENT_BUS_NAME`` with source
:data:`SOURCE`; the notification center turns them into notifications.

**ClaimDeadlineNear** — claims still ``detected`` (found, not filed) whose deadline is
within ``days`` of the audit day (``as_of <= deadline <= as_of + days``; ``days`` is
``DEADLINE_ALARM_DAYS``, 7 in template.yaml). One event per seller and run listing
them, earliest deadline first.

**DamageSpike** — units lost (ledger reason M/5) or damaged in the warehouse (6/7/E/H/K/U)
in the last :attr:`SpikeRule.window_days` full days before the audit day, compared with
the seller's own baseline: the unit totals of the :attr:`SpikeRule.baseline_weeks`
weeks before that window. A kind (``lost``, ``damaged``, judged separately) spikes when

    units > weekly mean + sigmas × weekly standard deviation   (population, 8 weeks)
    and units >= min_units

(defaults: 3 σ, at least 5 units). The floor keeps a seller with a quiet baseline from
alarming on two broken mugs; the σ rule keeps a large seller's normal weekly noise quiet.
A seller with no history has mean and σ 0, so ``min_units`` alone decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from functions.core.money import Money

SOURCE = "sellerops.audit"
DEADLINE_NEAR = "ClaimDeadlineNear"
DAMAGE_SPIKE = "DamageSpike"
DETECTED = "detected"
MAX_LISTED = 100  # claim ids in one event (EventBridge entries are at most 256 KB)
_CENTS = Decimal("0.01")


class StoredClaimView(Protocol):
    """What the deadline alarm reads of a stored claim (the Claims table's model)."""

    @property
    def claim_id(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def deadline(self) -> date: ...
    @property
    def amount(self) -> Money | None: ...


class AuditClaimView(Protocol):
    """What the spike alarm reads of a claim the audit found (``logic.claims.Claim``)."""

    @property
    def claim_id(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def anchor(self) -> date: ...


@dataclass(frozen=True, slots=True)
class Alarm:
    """One event for the bus: ``detail_type`` and its JSON-ready ``detail``."""

    detail_type: str
    detail: Mapping[str, Any]
    source: str = SOURCE


# -- ClaimDeadlineNear -------------------------------------------------------------------
def deadline_near(
    seller_id: str, claims: Iterable[StoredClaimView], *, as_of: date, days: int
) -> Alarm | None:
    """The ClaimDeadlineNear alarm for ``seller_id``, or None when no detected claim's
    deadline falls within ``days`` of ``as_of``."""
    if days < 0:
        raise ValueError("days must not be negative")
    last = as_of + timedelta(days=days)
    near = sorted(
        (c for c in claims if str(c.status) == DETECTED and as_of <= c.deadline <= last),
        key=lambda c: (c.deadline, c.claim_id),
    )
    if not near:
        return None
    by_category: dict[str, int] = {}
    amounts: dict[str, Money] = {}
    for claim in near:
        category = str(claim.category)
        by_category[category] = by_category.get(category, 0) + 1
        if claim.amount is not None:
            currency = claim.amount.currency
            amounts[currency] = amounts.get(currency, Money.zero(currency)) + claim.amount
    listed = near[:MAX_LISTED]
    detail = {
        "seller_id": seller_id,
        "as_of": as_of.isoformat(),
        "within_days": days,
        "deadline": near[0].deadline.isoformat(),  # the earliest
        "counts": {
            "claims": len(near),
            "without_amount": sum(1 for c in near if c.amount is None),
            "by_category": dict(sorted(by_category.items())),
        },
        "amounts": {cur: amounts[cur].to_str() for cur in sorted(amounts)},
        "claim_ids": [c.claim_id for c in listed],
        "claims": [
            {
                "claim_id": c.claim_id,
                "category": str(c.category),
                "deadline": c.deadline.isoformat(),
                "amount": None if c.amount is None else c.amount.to_str(),
                "currency": None if c.amount is None else c.amount.currency,
            }
            for c in listed
        ],
        "truncated": len(near) > len(listed),
    }
    return Alarm(DEADLINE_NEAR, detail)


# -- DamageSpike ------------------------------------------------------------------------
LOST = "lost"
DAMAGED = "damaged"
_KIND_CATEGORY = {LOST: "lost_warehouse", DAMAGED: "damaged_warehouse"}


@dataclass(frozen=True, slots=True)
class LossEvent:
    """Units lost or damaged in the warehouse on ``day`` (one ledger adjustment row)."""

    day: date
    units: int
    kind: str  # LOST or DAMAGED


@dataclass(frozen=True, slots=True)
class SpikeRule:
    """When a week's losses are "far above" the seller's baseline (module docstring)."""

    window_days: int = 7
    baseline_weeks: int = 8
    sigmas: Decimal = Decimal(3)
    min_units: int = 5

    def describe(self) -> dict[str, Any]:
        return {"window_days": self.window_days, "baseline_weeks": self.baseline_weeks,
                "sigmas": str(self.sigmas), "min_units": self.min_units}


@dataclass(frozen=True, slots=True)
class KindCount:
    """One kind's units in the window against its weekly baseline."""

    kind: str
    units: int
    baseline: tuple[int, ...]  # weekly totals, the most recent week first
    mean: Decimal
    stdev: Decimal
    threshold: Decimal
    spike: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "weekly_mean": str(self.mean.quantize(_CENTS)),
            "weekly_stdev": str(self.stdev.quantize(_CENTS)),
            "threshold": str(self.threshold.quantize(_CENTS)),
            "baseline_weeks": list(self.baseline),
            "spike": self.spike,
        }


@dataclass(frozen=True, slots=True)
class SpikeAssessment:
    """Every kind's count (spiking or not) for one seller and day."""

    as_of: date
    window_start: date
    window_end: date
    counts: dict[str, KindCount] = field(default_factory=dict)

    @property
    def spiking(self) -> list[KindCount]:
        return [c for c in self.counts.values() if c.spike]


def assess_losses(
    events: Iterable[LossEvent], *, as_of: date, rule: SpikeRule = SpikeRule()
) -> SpikeAssessment:
    """Units per kind in the window (the ``window_days`` days before ``as_of``) and in
    each of the ``baseline_weeks`` weeks before it, with the spike verdict."""
    window_end = as_of - timedelta(days=1)
    window_start = as_of - timedelta(days=rule.window_days)
    weeks = rule.baseline_weeks
    current: dict[str, int] = {LOST: 0, DAMAGED: 0}
    baseline: dict[str, list[int]] = {LOST: [0] * weeks, DAMAGED: [0] * weeks}
    for event in events:
        if event.kind not in current or event.units <= 0:
            continue
        if window_start <= event.day <= window_end:
            current[event.kind] += event.units
        elif event.day < window_start:
            week = (window_start - event.day - timedelta(days=1)).days // 7
            if week < weeks:
                baseline[event.kind][week] += event.units
    counts: dict[str, KindCount] = {}
    for kind in (LOST, DAMAGED):
        values = baseline[kind]
        mean = Decimal(sum(values)) / Decimal(weeks) if weeks else Decimal(0)
        variance = (
            sum((Decimal(v) - mean) ** 2 for v in values) / Decimal(weeks) if weeks
            else Decimal(0)
        )
        stdev = variance.sqrt()
        threshold = mean + rule.sigmas * stdev
        units = current[kind]
        counts[kind] = KindCount(
            kind=kind, units=units, baseline=tuple(values), mean=mean, stdev=stdev,
            threshold=threshold, spike=Decimal(units) > threshold and units >= rule.min_units,
        )
    return SpikeAssessment(as_of, window_start, window_end, counts)


def damage_spike(
    seller_id: str,
    events: Iterable[LossEvent],
    *,
    as_of: date,
    rule: SpikeRule = SpikeRule(),
    claims: Iterable[AuditClaimView] = (),
) -> Alarm | None:
    """The DamageSpike alarm for ``seller_id``, or None when no kind spikes. ``claims``
    (the run's claims) give the ids of the lost/damaged claims dated in the window."""
    assessment = assess_losses(events, as_of=as_of, rule=rule)
    spiking = assessment.spiking
    if not spiking:
        return None
    categories = {_KIND_CATEGORY[c.kind] for c in spiking}
    claim_ids = sorted(
        c.claim_id for c in claims
        if str(c.category) in categories
        and assessment.window_start <= c.anchor <= assessment.window_end
    )
    detail = {
        "seller_id": seller_id,
        "as_of": as_of.isoformat(),
        "window": {"start": assessment.window_start.isoformat(),
                   "end": assessment.window_end.isoformat()},
        "kinds": [c.kind for c in spiking],
        "counts": {kind: count.to_dict() for kind, count in assessment.counts.items()},
        "claim_ids": claim_ids[:MAX_LISTED],
        "truncated": len(claim_ids) > MAX_LISTED,
        "rule": rule.describe(),
    }
    return Alarm(DAMAGE_SPIKE, detail)
