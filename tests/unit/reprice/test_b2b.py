"""B2B business price and quantity tiers (repricing.md §6.4)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from itertools import pairwise

from functions.core.money import Money
from functions.reprice.logic import RepricingState, Step, parse_notification

from .builders import OUR, RIVAL, b2b, config, offer, run

D = Decimal
TIERS = {5: Step.parse("3%"), 10: Step.parse("5%"), 20: Step.parse("7%")}


def usd(amount) -> Money:
    return Money.of(str(amount), "USD")


def b2c(price) -> RepricingState:
    return RepricingState(current_price=usd(price))


def cut(amount) -> Money:
    return usd(D(str(amount)) - D("0.01"))


def test_documented_sample(sample):
    data = sample("b2b_any_offer_changed.json")
    payload = parse_notification(data).offer_change
    winners = {r.tier: (r.seller_id, r.landed) for r in payload.summary.buy_box_prices}
    ours_before = {q.quantity_tier: q.listing_price
                   for q in payload.our_offers()[0].quantity_discount_price}
    cfg = config(b2b_tiers=TIERS)
    decision = run(data, cfg, b2c("24.49"))
    assert decision.action == "change" and decision.strategy == "b2b"
    prices = decision.b2b
    # tier 1 (the business price) is won by a rival: undercut it
    assert prices.business_price == cut(winners[1][1].amount) == decision.new_price
    assert decision.old_price == usd("23.99")  # our B2B offer's price in the notification
    tiers = {t.quantity: t.price for t in prices.tiers}
    assert set(tiers) == {5, 10, 20}
    for quantity, (seller, price) in winners.items():
        if quantity == 1:
            continue
        if seller == payload.seller_id:
            assert tiers[quantity] >= ours_before[quantity]  # never lower a tier we win
        else:
            assert tiers[quantity] <= cut(price.amount)
    ladder = [prices.business_price, *(tiers[q] for q in sorted(tiers))]
    assert all(a > b for a, b in pairwise(ladder))  # falls with quantity
    assert all(cfg.floor <= p <= cfg.max for p in ladder)
    assert decision.state.business_price == prices.business_price
    assert decision.state.b2b_tiers == tiers
    assert "tier 10" in decision.reason


def test_tiers_follow_the_b2c_price_minus_the_configured_discounts():
    data = b2b([offer(OUR, "25.00")], {})
    cfg = config(b2b_discount="2%", b2b_tiers={5: Step.parse("4%"), 10: Step.parse("1.50")})
    decision = run(data, cfg, b2c("25.00"))
    base = D("25.00")

    def down(x):
        return usd(x.quantize(D("0.01"), rounding=ROUND_DOWN))

    assert decision.new_price == down(base * D("0.98"))
    tiers = {t.quantity: t.price for t in decision.b2b.tiers}
    assert tiers == {5: down(base * D("0.96")), 10: down(base - D("1.50"))}


def test_a_tier_we_win_is_never_lowered():
    data = b2b([offer(OUR, "24.00", tiers={10: "21.50"})],
               {1: (RIVAL, "23.00"), 10: (OUR, "21.50")})
    decision = run(data, config(b2b_tiers={10: Step.parse("20%")}), b2c("24.00"))
    tiers = {t.quantity: t.price for t in decision.b2b.tiers}
    assert tiers[10] == usd("21.50")


def test_rival_below_the_floor_goes_to_the_floor_or_holds():
    data = b2b([offer(OUR, "24.00")], {1: (RIVAL, "19.00")})
    at_floor = run(data, config(), b2c("24.00"))
    assert at_floor.new_price == usd("20.00")
    held = run(data, config(below_floor="hold"), b2c("24.00"))
    assert held.action == "hold"


def test_filtered_rivals_are_not_undercut():
    data = b2b([offer(OUR, "24.00"), offer(RIVAL, "23.00")], {1: (RIVAL, "23.00")})
    decision = run(data, config(exclude_sellers=(RIVAL,)), b2c("24.00"))
    assert decision.action == "hold" and "filtered" in decision.reason


def test_a_tier_that_cannot_fall_above_the_floor_is_dropped():
    data = b2b([offer(OUR, "20.00")], {})
    decision = run(data, config(b2b_tiers={5: Step.parse("0%")}), b2c("20.00"))
    assert decision.b2b.tiers == () and "dropped" in decision.reason


def test_no_b2c_price_means_no_business_price():
    data = b2b([offer(OUR, "24.00")], {1: (RIVAL, "23.00")})
    decision = run(data, config(), RepricingState())
    assert decision.action == "skip" and "B2C" in decision.reason


def test_real_b2b_sample(real_sample):
    data = real_sample("b2b_any_offer_changed.peddler.json")
    payload = parse_notification(data).offer_change
    cfg = config(asin=payload.asin, min_price="5000.00", max_price="10000.00",
                 fulfillment="FBM", current_price="8500.00", b2b_tiers={20: Step.parse("5%")})
    decision = run(data, cfg)  # our offer is not among the offers: decide from the rows
    rival = payload.summary.buy_box_prices[0]
    assert decision.new_price == cut(rival.landed.amount)
    assert all(cfg.floor <= t.price <= cfg.max for t in decision.b2b.tiers)
