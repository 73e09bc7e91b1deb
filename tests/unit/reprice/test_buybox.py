"""The Buy Box strategy, rule by rule (repricing.md §6.2), plus Fixed and the engine's
bounds checks. Expected prices are derived from the inputs the way the spec says."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from functions.core.money import Money
from functions.reprice.logic import RepricingState

from .builders import OUR, RIVAL, RIVAL_FBM, T0, aoc, offer, run
from .builders import config as default_config

D = Decimal


def config(**overrides):
    """The rules with the plain one-tick undercut (``buybox_lead`` 0%), so that expected
    prices read as in repricing.md §6.2; the default 3% lead is tested at the end."""
    return default_config(**{"buybox_lead": "0%", **overrides})


def usd(amount) -> Money:
    return Money.of(str(amount), "USD")


def settled(current, **extra) -> RepricingState:
    """A state with our price set long enough ago that climbing is allowed."""
    return RepricingState(current_price=usd(current), last_change_at=T0 - timedelta(hours=2),
                          **extra)


# -- rule 4: a rival wins -------------------------------------------------------------


def test_rival_wins_the_documented_sample_is_undercut(sample):
    data = sample("any_offer_changed.json")
    decision = run(data, config())
    rival_landed = D("24.49")  # A1COMPETFBA002, IsBuyBoxWinner, FBA, no shipping
    assert decision.action == "change" and decision.rule == "undercut" and decision.urgent
    assert decision.old_price == usd("24.99")  # our offer's price in the notification
    assert decision.new_price == usd(rival_landed - D("0.01"))
    assert "A1COMPETFBA002" in decision.reason
    assert decision.state.current_price == decision.new_price
    assert decision.state.pending_price == decision.new_price


def test_undercut_as_a_percentage_of_the_current_price():
    data = aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.99")])
    decision = run(data, config(undercut="1%"))
    expected = (D("24.49") - D("24.99") * D("0.01")).quantize(D("0.01"), rounding="ROUND_DOWN")
    assert decision.new_price == usd(expected)


def test_landed_prices_are_compared_and_converted_back_with_our_shipping():
    data = aoc([offer(RIVAL_FBM, "20.00", shipping="4.99", fba=False, winner=True),
                offer(OUR, "23.00", shipping="3.00", fba=False)])
    decision = run(data, config(fulfillment="FBM"))
    rival_landed = D("20.00") + D("4.99")
    assert decision.new_price == usd(rival_landed - D("0.01") - D("3.00"))


def test_already_below_the_buy_box_and_losing_holds():
    data = aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.00", fba=False)])
    decision = run(data, config(fulfillment="FBM"))
    assert decision.action == "hold" and "already below" in decision.reason


def test_buy_box_below_the_floor_goes_to_the_floor_or_holds():
    data = aoc([offer(RIVAL, "19.00", winner=True), offer(OUR, "21.00")])
    at_floor = run(data, config(cost_floor="20.50"))
    assert at_floor.action == "change" and at_floor.new_price == usd("20.50")
    assert "floor" in at_floor.reason
    held = run(data, config(cost_floor="20.50", below_floor="hold"))
    assert held.action == "hold" and "below_floor hold" in held.reason


def test_max_change_limits_a_big_undercut():
    data = aoc([offer(RIVAL, "21.00", winner=True), offer(OUR, "29.99")])
    decision = run(data, config())
    limit = (D("29.99") * D("0.20")).quantize(D("0.01"), rounding="ROUND_DOWN")
    assert decision.new_price == usd(D("29.99") - limit)
    assert "max_change" in decision.reason


def test_our_offer_absent_decides_from_the_summary_and_stored_price():
    data = aoc([offer(RIVAL, "24.49", winner=True)])
    decision = run(data, config(), settled("24.99"))
    assert decision.old_price == usd("24.99") and decision.new_price == usd("24.48")


def test_a_filtered_winner_makes_us_compete_with_the_lowest_relevant_offer():
    data = aoc([offer("AEXCLUDED", "22.00", winner=True), offer(RIVAL, "25.00"),
                offer(OUR, "26.00")])
    decision = run(data, config(exclude_sellers=("AEXCLUDED",)))
    assert decision.new_price == usd("24.99") and "filtered" in decision.reason


# -- competitor filters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rival", "settings"),
    [
        (offer(RIVAL, "22.00", winner=True, featured=False), {}),
        (offer(RIVAL, "22.00", winner=True, feedback=(10, 80)), {"min_feedback": "90"}),
        (offer(RIVAL, "22.00", winner=True, feedback=(10, 99)), {"min_feedback_count": 50}),
        (offer(RIVAL, "22.00", winner=True, fba=False), {"exclude_fbm": True}),
        (offer(RIVAL, "22.00", winner=True), {"exclude_sellers": (RIVAL,)}),
        (offer(RIVAL, "22.00", winner=True), {"include_sellers": ("AOTHER",)}),
        (offer("ATVPDKIKX0DER", "22.00", winner=True), {"amazon_mode": "ignore"}),
        (offer(RIVAL, "9.99", winner=True), {}),  # absurd: < 0.5 × min_price
        (offer(RIVAL, "90.01", winner=True), {}),  # absurd: > 3 × max_price
    ],
)
def test_filtered_rivals_do_not_count(rival, settings):
    decision = run(aoc([rival, offer(OUR, "25.00")]), config(**settings), settled("25.00"))
    assert decision.rule == "no_competition"  # the only rival was filtered out
    assert decision.new_price is None or decision.new_price > usd("25.00")


def test_amazon_match_only_matches_instead_of_undercutting():
    data = aoc([offer("ATVPDKIKX0DER", "24.49", winner=True), offer(OUR, "24.99")])
    decision = run(data, config(amazon_mode="match_only"))
    assert decision.new_price == usd("24.49") and "match Amazon" in decision.reason
    compete = run(data, config())
    assert compete.new_price == usd("24.48")


# -- rule 5: we win -------------------------------------------------------------------


def test_winning_climbs_just_under_the_next_rival():
    data = aoc([offer(OUR, "24.00", winner=True), offer(RIVAL_FBM, "21.95", shipping="4.99",
                                                       fba=False)])
    decision = run(data, config(), settled("24.00"))
    next_rival = D("21.95") + D("4.99")
    assert decision.action == "change" and decision.rule == "climb"
    assert decision.new_price == usd(next_rival - D("0.01"))
    assert decision.state.last_winning_price == usd("24.00")
    assert decision.state.climbed_from == usd("24.00")
    assert decision.state.climbed_to == decision.new_price


def test_winning_climbs_at_least_one_step_toward_max_without_a_rival_above():
    data = aoc([offer(OUR, "24.00", winner=True),
                offer(RIVAL_FBM, "20.02", shipping="3.99", fba=False)])
    decision = run(data, config(), settled("24.00"))
    assert decision.new_price == usd(D("24.00") * D("1.01"))


def test_shown_as_winner_with_a_rival_as_cheap_or_cheaper_holds_instead_of_climbing():
    # the Buy Box rotates: shown as the winner beside a cheaper rival we hold a share
    for rival_price in ("23.00", "24.00"):
        data = aoc([offer(OUR, "24.00", winner=True), offer(RIVAL, rival_price)])
        decision = run(data, config(), settled("24.00"))
        assert decision.action == "hold" and decision.rule == "winning"
        assert "no climb" in decision.reason
        assert decision.state.last_winning_price == usd("24.00")


def test_winning_does_not_step_past_a_rival_it_has_no_edge_over():
    fba = aoc([offer(OUR, "24.00", winner=True), offer(RIVAL, "24.10")])
    decision = run(fba, config(), settled("24.00"))
    assert decision.action == "change" and decision.new_price == usd("24.09")
    assert "no edge" in decision.reason
    touching = aoc([offer(OUR, "24.00", winner=True), offer(RIVAL, "24.01")])
    assert run(touching, config(), settled("24.00")).action == "hold"
    # an FBM rival: our FBA edge may hold the Buy Box a step above it (rule 3 if not)
    fbm = aoc([offer(OUR, "24.00", winner=True),
               offer(RIVAL_FBM, "20.06", shipping="3.99", fba=False)])
    decision = run(fbm, config(), settled("24.00"))
    assert decision.new_price == usd(D("24.00") * D("1.01"))


def test_winning_waits_for_the_climb_interval_and_never_lowers():
    data = aoc([offer(OUR, "24.00", winner=True), offer(RIVAL, "23.00")])
    recent = RepricingState(current_price=usd("24.00"), last_change_at=T0 - timedelta(minutes=5))
    decision = run(data, config(), recent)
    assert decision.action == "hold" and "next climb" in decision.reason
    at_max = run(data, config(max_price="24.00"), settled("24.00"))
    assert at_max.action == "hold"


def test_the_ceiling_caps_a_climb_and_relaxes_linearly_to_max():
    data = aoc([offer(OUR, "24.00", winner=True), offer(RIVAL, "40.00")])
    fresh = settled("24.00", ceiling=usd("25.00"), ceiling_set_at=T0)
    decision = run(data, config(max_change="50%"), fresh)
    assert decision.new_price == usd("24.99")
    half = settled("24.00", ceiling=usd("25.00"), ceiling_set_at=T0 - timedelta(hours=12))
    decision = run(data, config(max_change="50%"), half)
    relaxed = D("25.00") + (D("30.00") - D("25.00")) / 2
    assert decision.new_price == usd(relaxed - D("0.01"))
    gone = settled("24.00", ceiling=usd("25.00"), ceiling_set_at=T0 - timedelta(hours=25))
    decision = run(data, config(max_change="50%"), gone)
    assert decision.new_price == usd("30.00")  # the next rival is above max_price
    assert decision.state.ceiling is None


# -- rule 3: lost after a climb -------------------------------------------------------


def test_losing_after_a_climb_goes_back_and_remembers_the_ceiling():
    state = settled("24.50", climbed_from=usd("24.00"), climbed_to=usd("24.50"))
    data = aoc([offer(RIVAL, "24.20", winner=True), offer(OUR, "24.50")])
    decision = run(data, config(), state)
    assert decision.rule == "lost_after_climb" and decision.new_price == usd("24.00")
    assert decision.state.ceiling == usd("24.50")
    assert decision.state.ceiling_set_at is not None
    assert decision.state.climbed_to is None  # the climb is over


def test_a_rival_below_our_last_winning_price_is_undercut_instead():
    state = settled("24.50", climbed_from=usd("24.00"), climbed_to=usd("24.50"))
    data = aoc([offer(RIVAL, "23.50", winner=True), offer(OUR, "24.50")])
    decision = run(data, config(), state)
    assert decision.rule == "undercut" and decision.new_price == usd("23.49")


# -- rule 2: no competitor ------------------------------------------------------------


def test_no_competitor_steps_toward_max_or_holds():
    data = aoc([offer(OUR, "24.00", winner=True)])
    step = run(data, config(), settled("24.00"))
    assert step.rule == "no_competition" and step.new_price == usd(D("24.00") * D("1.01"))
    hold = run(data, config(no_competition="hold"), settled("24.00"))
    assert hold.action == "hold"
    unknown = run(aoc([]), config())
    assert unknown.new_price == usd("30.00")


# -- rule 6 and External: suppression -------------------------------------------------


def test_suppressed_buy_box_goes_just_under_the_threshold():
    data = aoc([offer(RIVAL, "27.00"), offer(OUR, "27.50")], threshold="25.97")
    decision = run(data, config())
    assert decision.rule == "suppressed" and decision.new_price == usd(D("25.97") - D("0.01"))


def test_suppressed_without_threshold_returns_to_the_last_price_with_a_buy_box():
    data = aoc([offer(RIVAL, "27.00"), offer(OUR, "27.50")])
    state = settled("27.50", last_unsuppressed_price=usd("25.50"))
    assert run(data, config(), state).new_price == usd("25.50")
    assert run(data, config(), settled("27.50")).action == "hold"


def test_external_trigger_checks_suppression_only():
    suppressed = aoc([offer(RIVAL, "27.00"), offer(OUR, "27.50")], threshold="26.00",
                     change_type="External")
    assert run(suppressed, config()).new_price == usd("25.99")
    normal = aoc([offer(RIVAL, "24.00", winner=True), offer(OUR, "27.50")],
                 change_type="External")
    decision = run(normal, config())
    assert decision.action == "hold" and "External" in decision.reason


# -- rule 1: pending ------------------------------------------------------------------


def pending_state(price="24.48", minutes=2):
    return RepricingState(current_price=usd(price), pending_price=usd(price),
                          pending_since=T0 - timedelta(minutes=minutes), last_change_at=T0)


def test_pending_waits_unless_the_buy_box_drops_below_it():
    same = aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.99")])
    decision = run(same, config(), pending_state())
    assert decision.action == "hold" and decision.rule == "pending"
    lower = aoc([offer(RIVAL, "24.00", winner=True), offer(OUR, "24.99")])
    decision = run(lower, config(), pending_state())
    assert decision.new_price == usd("23.99") and decision.old_price == usd("24.48")


def test_pending_seen_live_is_confirmed():
    data = aoc([offer(RIVAL, "24.49"), offer(OUR, "24.48", winner=True)])
    decision = run(data, config(), pending_state())
    assert decision.state.pending_price is None and not decision.state.needs_reconcile


def test_pending_past_the_confirm_timeout_is_flagged_and_decided_normally():
    data = aoc([offer(RIVAL, "24.00", winner=True), offer(OUR, "24.99")])
    decision = run(data, config(), pending_state(minutes=11))
    assert decision.state.needs_reconcile and "reconciliation" in decision.reason
    assert decision.new_price == usd("23.99")


# -- guardrails through the engine ----------------------------------------------------


def test_current_price_outside_the_bounds_goes_back_to_the_bound():
    data = aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "35.00")])
    decision = run(data, config())
    assert decision.new_price == usd("30.00") and decision.urgent
    assert decision.rule == "out_of_bounds"


def test_min_above_max_is_not_repriced():
    data = aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.99")])
    decision = run(data, config(min_price="31.00"))
    assert decision.action == "skip" and "no repricing" in decision.reason
    decision = run(data, config(cost_floor="30.01"))
    assert decision.action == "skip" and "cost_floor" in decision.reason


def test_yen_prices_move_by_whole_yen():
    data = aoc([offer(RIVAL, "1500", winner=True, currency="JPY"),
                offer(OUR, "1600", currency="JPY")],
               marketplace="A1VC38T7YXB528", currency="JPY")
    cfg = config(marketplace_id="A1VC38T7YXB528", currency="JPY", min_price="1000",
                 max_price="3000")
    decision = run(data, cfg)
    assert decision.new_price == Money.of("1499", "JPY")


def test_decisions_serialise_and_read_back():
    decision = run(aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.99")]), config())
    data = decision.model_dump(mode="json")
    assert data["new_price"] == {"amount": "24.48", "currency": "USD"}
    assert type(decision).model_validate(data) == decision
    assert RepricingState.model_validate(data["state"]) == decision.state


# -- fixed ----------------------------------------------------------------------------


def test_fixed_price_strategy():
    data = aoc([offer(RIVAL, "21.00", winner=True), offer(OUR, "25.00")])
    decision = run(data, config(strategy="fixed", fixed_price="26.00"))
    assert decision.action == "change" and decision.new_price == usd("26.00")
    again = run(data, config(strategy="fixed", fixed_price="25.00"))
    assert again.action == "hold"
    clamped = run(data, config(strategy="fixed", fixed_price="35.00", max_change="50%"))
    assert clamped.new_price == usd("30.00")


def test_climbs_stay_under_the_competitive_price_threshold():
    data = aoc([offer(OUR, "24.00", winner=True), offer(RIVAL, "40.00")], threshold="25.00")
    decision = run(data, config(max_change="50%"), settled("24.00"))
    assert decision.new_price == usd(D("25.00") - D("0.01"))
    alone = aoc([offer(OUR, "24.00", winner=True)], threshold="24.50")
    assert run(alone, config(), settled("24.00")).new_price == usd("24.24")  # one 1% step
    capped = run(alone, config(climb_step="2.00"), settled("24.00"))
    assert capped.new_price == usd("24.49")


def test_alone_and_suppressed_goes_under_the_threshold_instead_of_climbing():
    data = aoc([offer(OUR, "27.00")], threshold="25.00")
    decision = run(data, config(), settled("27.00"))
    assert decision.rule == "suppressed" and decision.new_price == usd("24.99")


# -- the default lead (buybox_lead 3%): rules 4 and 5 with a decisive undercut --------


def test_default_lead_undercuts_a_rival_by_3_percent_of_its_landed_price(sample):
    decision = run(sample("any_offer_changed.json"), default_config())
    rival_landed = D("24.49")
    lead = rival_landed * D("0.03")  # 0.7347
    assert decision.rule == "undercut"
    assert decision.new_price == usd(rival_landed - lead).round_down() == usd("23.75")
    assert "undercut by 0.73" in decision.reason


def test_a_larger_undercut_than_the_lead_wins_and_0_percent_is_the_tick():
    data = aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.99")])
    assert run(data, default_config(undercut="1.00")).new_price == usd("23.49")
    assert run(data, default_config(buybox_lead="0%")).new_price == usd("24.48")


def test_below_the_buy_box_by_less_than_the_lead_goes_to_the_lead_then_holds():
    short = aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.20")])
    decision = run(short, default_config(), settled("24.20"))
    assert decision.rule == "undercut" and decision.new_price == usd("23.75")
    there = aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "23.75")])
    decision = run(there, default_config(), settled("23.75"))
    assert decision.action == "hold" and decision.rule == "below_buy_box"
    assert "already below" in decision.reason


def test_the_lead_applies_to_amazon_in_compete_mode_not_in_match_only():
    data = aoc([offer("ATVPDKIKX0DER", "24.49", winner=True), offer(OUR, "24.99")])
    assert run(data, default_config()).new_price == usd("23.75")
    matched = run(data, default_config(amazon_mode="match_only"))
    assert matched.new_price == usd("24.49") and "match Amazon" in matched.reason


def test_a_climb_stops_the_lead_under_the_next_rival():
    data = aoc([offer(OUR, "24.00", winner=True), offer(RIVAL_FBM, "21.95", shipping="4.99",
                                                       fba=False)])
    decision = run(data, default_config(), settled("24.00"))
    next_rival = D("21.95") + D("4.99")
    assert decision.rule == "climb"
    assert decision.new_price == usd(next_rival - next_rival * D("0.03")).round_down()


def test_the_lead_is_a_validated_step():
    assert default_config().buybox_lead.percent
    with pytest.raises(ValueError, match="buybox_lead"):
        default_config(buybox_lead="100%")


# -- the price-war guard: a rival that keeps coming back under our cut -----------------


def _war(cfg, rounds: int, *, every: timedelta = timedelta(hours=1), start: str = "29.50"):
    """Our offer cut under a rival, the rival back one cent under us each ``every``:
    the decisions, one per round (round 0 is the first cut)."""
    ours, rival, state, decisions = D(start), D(start) - D("0.01"), None, []
    for n in range(rounds + 1):
        toc = T0 + every * n
        data = aoc([offer(RIVAL, rival, winner=True), offer(OUR, ours)], toc=toc)
        decision = run(data, cfg, state)
        assert decision.action == "change" and decision.rule == "undercut", decision.reason
        decisions.append(decision)
        # our price goes live; the rival is back one cent under it
        ours = decision.new_price.amount
        rival = ours - D("0.01")
        state = decision.state.applied(decision.new_price, toc)
    return decisions


def _lead_cut(rival: Decimal, halvings: int) -> Decimal:
    """Our new price under ``rival`` with the 3 % lead halved ``halvings`` times."""
    if halvings <= 0:
        return (rival - rival * D("0.03")).quantize(D("0.01"), rounding="ROUND_DOWN")
    lead = (rival * D("0.03") / (2 ** halvings)).quantize(D("0.01"))
    return rival - max(lead, D("0.01"))


def test_a_price_war_keeps_the_full_lead_for_price_war_rounds_then_halves_it():
    decisions = _war(default_config(), 9)
    rival = D("29.49")
    for n, decision in enumerate(decisions):
        assert decision.new_price == usd(_lead_cut(rival, n - 2)), (n, decision.reason)
        assert decision.state.war_round == n
        assert ("price war round" in decision.reason) == (n > 2)
        rival = decision.new_price.amount - D("0.01")
    cuts = [d.old_price.amount - D("0.01") - d.new_price.amount for d in decisions]
    assert min(cuts[:3]) > D("0.80")  # 3 % of ~28
    assert cuts[2] > cuts[3] > cuts[4] > cuts[5] and cuts[-1] == D("0.01")  # down to a tick


def test_a_price_war_fought_slowly_descends_far_less_than_with_the_full_lead():
    slow = _war(default_config(), 10)[-1].new_price
    fast = _war(default_config(price_war_window="PT0S"), 10)[-1].new_price
    assert fast == usd("20.97")  # eleven 3 % cuts from 29.49 (0.97 ** 11 ≈ 0.715)
    assert slow > usd("25.00")


def test_a_rival_back_under_us_after_the_war_window_is_a_new_war():
    cfg = default_config(price_war_rounds=0)  # halve from the first round on
    near = _war(cfg, 2, every=timedelta(hours=1))
    later = _war(cfg, 2, every=timedelta(hours=7))  # 7 h > the 6 h window
    assert [d.state.war_round for d in near] == [0, 1, 2]
    assert [d.state.war_round for d in later] == [0, 0, 0]
    assert near[2].new_price > later[2].new_price  # smaller cuts while the war lasts


def test_the_war_round_is_kept_when_the_rival_has_not_gone_under_our_cut():
    cfg = default_config(price_war_rounds=0)
    second = _war(cfg, 1)[1]
    # an hour later another rival wins, above our cut (a rotation draw): not a new round,
    # not a new war either
    state = second.state.applied(second.new_price, T0 + timedelta(hours=1))
    above = second.new_price.amount + D("0.05")
    data = aoc([offer(RIVAL_FBM, above, fba=False, winner=True),
                offer(OUR, second.new_price.amount)], toc=T0 + timedelta(hours=2))
    decision = run(data, cfg, state)
    assert decision.state.war_round == 1


def test_the_war_settings_are_validated():
    assert default_config().price_war_rounds == 2
    assert default_config().price_war_window == timedelta(hours=6)
    with pytest.raises(ValueError, match="price_war_rounds"):
        default_config(price_war_rounds=-1)


# -- observing our offer ----------------------------------------------------------------


def test_an_observed_price_equal_to_the_remembered_one_keeps_the_remembered_object():
    """Equal live price / shipping / last Buy Box price: the state keeps its objects, so
    the service writes only the fields that really changed; a new value replaces them."""
    cfg = config()
    before = settled("25.00", live_price=usd("25.00"), shipping=usd("0.00"),
                     last_unsuppressed_price=usd("25.00"))
    data = aoc([offer(OUR, "25.00", winner=True), offer(RIVAL, "27.00")])
    state = run(data, cfg, before).state
    assert state.live_price is before.live_price
    assert state.shipping is before.shipping
    assert state.last_unsuppressed_price is before.last_unsuppressed_price
    assert state.last_time_of_offer_change == T0

    moved = run(aoc([offer(OUR, "24.00", shipping="1.00", winner=True), offer(RIVAL, "27.00")]),
                cfg, before).state
    assert moved.live_price == usd("24.00") and moved.shipping == usd("1.00")
