"""The audit's alarms: ClaimDeadlineNear and DamageSpike (pure, functions/audit/alarms.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from functions.audit.alarms import (
    DAMAGE_SPIKE,
    DAMAGED,
    DEADLINE_NEAR,
    LOST,
    MAX_LISTED,
    SOURCE,
    LossEvent,
    SpikeRule,
    assess_losses,
    damage_spike,
    deadline_near,
)
from functions.core.money import Money

AS_OF = date(2025, 11, 20)
SELLER = "A1SELLERALARM"


@dataclass(frozen=True)
class Stored:
    claim_id: str
    deadline: date
    status: str = "detected"
    category: str = "lost_warehouse"
    amount: Money | None = None


@dataclass(frozen=True)
class Found:
    claim_id: str
    category: str
    anchor: date


def day(offset: int) -> date:
    return AS_OF + timedelta(days=offset)


# -- ClaimDeadlineNear ---------------------------------------------------------------------
def test_detected_claims_due_within_the_days_are_listed_earliest_first() -> None:
    claims = [
        Stored("c-late", day(7), amount=Money.of("10.00", "USD")),
        Stored("c-today", day(0), category="damaged_warehouse",
               amount=Money.of("2.50", "USD")),
        Stored("c-eur", day(3), category="removal_lost", amount=Money.of("4.00", "EUR")),
        Stored("c-nil", day(5), category="damaged_warehouse"),
    ]
    alarm = deadline_near(SELLER, claims, as_of=AS_OF, days=7)
    assert alarm is not None
    assert (alarm.source, alarm.detail_type) == (SOURCE, DEADLINE_NEAR) == (
        "sellerops.audit", "ClaimDeadlineNear")
    detail = alarm.detail
    assert detail["seller_id"] == SELLER
    assert detail["claim_ids"] == ["c-today", "c-eur", "c-nil", "c-late"]
    assert detail["deadline"] == "2025-11-20"
    assert detail["within_days"] == 7
    assert detail["counts"] == {
        "claims": 4, "without_amount": 1,
        "by_category": {"damaged_warehouse": 2, "lost_warehouse": 1, "removal_lost": 1},
    }
    assert detail["amounts"] == {"EUR": "4.00", "USD": "12.50"}
    assert detail["claims"][0] == {"claim_id": "c-today", "category": "damaged_warehouse",
                                   "deadline": "2025-11-20", "amount": "2.50",
                                   "currency": "USD"}
    assert detail["truncated"] is False
    json.dumps(detail)  # JSON as it is: no Decimal, date or Money objects


def test_filed_expired_past_and_distant_claims_raise_nothing() -> None:
    claims = [
        Stored("filed", day(1), status="filed"),
        Stored("expired", day(1), status="expired"),
        Stored("reimbursed", day(1), status="reimbursed"),
        Stored("past", day(-1)),
        Stored("later", day(8)),
    ]
    assert deadline_near(SELLER, claims, as_of=AS_OF, days=7) is None
    assert deadline_near(SELLER, [], as_of=AS_OF, days=7) is None
    alarm = deadline_near(SELLER, claims, as_of=AS_OF, days=8)
    assert alarm is not None and alarm.detail["claim_ids"] == ["later"]


def test_a_long_list_is_capped_and_says_so() -> None:
    claims = [Stored(f"c-{i:04d}", day(i % 7)) for i in range(MAX_LISTED + 5)]
    alarm = deadline_near(SELLER, claims, as_of=AS_OF, days=7)
    assert alarm is not None
    assert alarm.detail["counts"]["claims"] == MAX_LISTED + 5
    assert len(alarm.detail["claim_ids"]) == MAX_LISTED
    assert alarm.detail["truncated"] is True


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        deadline_near(SELLER, [], as_of=AS_OF, days=-1)


# -- DamageSpike -----------------------------------------------------------------------------
def baseline(units_per_week: list[int], kind: str = DAMAGED) -> list[LossEvent]:
    """One event per baseline week (week 0 = the week just before the window)."""
    return [LossEvent(day(-8 - 7 * week), units, kind)
            for week, units in enumerate(units_per_week) if units]


def test_a_week_far_above_the_sellers_baseline_is_a_spike() -> None:
    events = [*baseline([1, 2, 1, 0, 2, 1, 1, 0]),
              LossEvent(day(-1), 6, DAMAGED), LossEvent(day(-7), 2, DAMAGED),
              LossEvent(day(-3), 1, LOST)]
    claims = [Found("damaged_warehouse-a", "damaged_warehouse", day(-1)),
              Found("damaged_warehouse-old", "damaged_warehouse", day(-9)),
              Found("lost_warehouse-b", "lost_warehouse", day(-3))]
    alarm = damage_spike(SELLER, events, as_of=AS_OF, claims=claims)
    assert alarm is not None and alarm.detail_type == DAMAGE_SPIKE == "DamageSpike"
    detail = alarm.detail
    assert detail["kinds"] == ["damaged"]
    assert detail["window"] == {"start": "2025-11-13", "end": "2025-11-19"}
    damaged = detail["counts"]["damaged"]
    assert damaged["units"] == 8
    assert damaged["baseline_weeks"] == [1, 2, 1, 0, 2, 1, 1, 0]
    # mean 1, population σ = sqrt(0.5) ≈ 0.71 → threshold 1 + 3 × 0.71 = 3.12
    assert (damaged["weekly_mean"], damaged["weekly_stdev"], damaged["threshold"]) == (
        "1.00", "0.71", "3.12")
    assert detail["counts"]["lost"]["spike"] is False
    assert detail["claim_ids"] == ["damaged_warehouse-a"]  # only the window, only damages
    assert detail["rule"] == {"window_days": 7, "baseline_weeks": 8, "sigmas": "3",
                              "min_units": 5}
    json.dumps(detail)


def test_few_units_never_alarm_even_without_history() -> None:
    events = [LossEvent(day(-2), 4, LOST)]
    assert damage_spike(SELLER, events, as_of=AS_OF) is None
    events.append(LossEvent(day(-5), 1, LOST))
    alarm = damage_spike(SELLER, events, as_of=AS_OF)
    assert alarm is not None and alarm.detail["kinds"] == ["lost"]


def test_a_noisy_large_seller_is_not_a_spike_within_three_sigma() -> None:
    events = [*baseline([20, 40, 25, 35, 30, 30, 22, 38]), LossEvent(day(-4), 45, DAMAGED)]
    assessment = assess_losses(events, as_of=AS_OF)
    damaged = assessment.counts[DAMAGED]
    assert damaged.units == 45 and not damaged.spike
    assert damaged.threshold > Decimal(45)
    assert damage_spike(SELLER, events, as_of=AS_OF) is None


def test_window_and_week_boundaries() -> None:
    events = [
        LossEvent(AS_OF, 50, DAMAGED),  # the audit day itself: not in the data yet
        LossEvent(day(-7), 1, DAMAGED),  # first day of the window
        LossEvent(day(-8), 2, DAMAGED),  # last day of baseline week 0
        LossEvent(day(-14), 3, DAMAGED),  # first day of baseline week 0
        LossEvent(day(-15), 4, DAMAGED),  # baseline week 1
        LossEvent(day(-63), 5, DAMAGED),  # first day of week 7, the oldest counted
        LossEvent(day(-64), 99, DAMAGED),  # before the baseline
        LossEvent(day(-2), -3, DAMAGED),  # not a loss
        LossEvent(day(-2), 3, "unknown"),
    ]
    counts = assess_losses(events, as_of=AS_OF).counts[DAMAGED]
    assert counts.units == 1
    assert counts.baseline == (5, 4, 0, 0, 0, 0, 0, 5)


def test_the_rule_is_configurable() -> None:
    events = [*baseline([2] * 8, kind=LOST), LossEvent(day(-1), 3, LOST)]
    assert damage_spike(SELLER, events, as_of=AS_OF) is None
    rule = SpikeRule(sigmas=Decimal(1), min_units=3)
    alarm = damage_spike(SELLER, events, as_of=AS_OF, rule=rule)
    assert alarm is not None and alarm.detail["counts"]["lost"]["threshold"] == "2.00"
