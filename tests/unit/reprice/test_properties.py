"""Property tests of the guardrails' invariants (repricing.md §6.1) over random
notifications, configs and states: whatever the strategy wants, the final price is
inside [floor, max], moves by at most max_change (unless returning into bounds), sits on
the currency's tick, and the same input always gives the same decision."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from functions.core.money import Money, tick
from functions.reprice.logic import (
    ListingConfig,
    RepricingState,
    Step,
    decide,
    guard,
    market_view,
    match,
    parse_notification,
)
from functions.reprice.logic.guardrails import max_move
from functions.reprice.replay import Replay

from .builders import OUR, T0, aoc, b2b, offer, to_json

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
MARKETS = {"USD": "ATVPDKIKX0DER", "EUR": "A1PA6795UKMFR9", "JPY": "A1VC38T7YXB528"}
AMAZON = {"USD": "ATVPDKIKX0DER", "EUR": "A3JWKAKR8XB7XF", "JPY": "AN1VRQENFRJN5"}


def on_tick(currency: str, low: Decimal, high: Decimal):
    step = tick(currency)
    first, last = int(low / step), int(high / step)
    return st.integers(min(first, last), max(first, last)).map(lambda n: Decimal(n) * step)


def steps(currency: str, percent_max: int, amount_max: Decimal):
    return st.one_of(
        st.integers(0, percent_max * 10).map(lambda n: Step(Decimal(n) / 10, percent=True)),
        on_tick(currency, Decimal(0), amount_max).map(Step),
    )


@st.composite
def configs(draw, strategy=None):
    currency = draw(st.sampled_from(sorted(MARKETS)))
    scale = Decimal(100) if currency == "JPY" else Decimal(1)
    low = draw(on_tick(currency, Decimal(1) * scale, Decimal(200) * scale))
    if draw(st.integers(0, 19)) == 0:  # now and then a misconfigured one: min > max
        high = draw(on_tick(currency, low / 2, low))
    else:
        high = draw(on_tick(currency, low * Decimal("1.02"), low * 3 + scale))
    high = max(high, tick(currency))
    values = {
        "sku": "SKU-P", "asin": "B0PROP0001", "marketplace_id": MARKETS[currency],
        "condition": "new", "fulfillment": draw(st.sampled_from(["FBA", "FBM"])),
        "strategy": strategy or draw(st.sampled_from(["buybox", "buybox", "buybox", "fixed"])),
        "min_price": low, "max_price": high, "currency": currency,
        "undercut": draw(steps(currency, 5, Decimal(2) * scale)),
        "climb_step": draw(steps(currency, 10, Decimal(5) * scale)),
        "max_change": draw(steps(currency, 60, Decimal(50) * scale)),
        "below_floor": draw(st.sampled_from(["floor", "hold"])),
        "buybox_lead": draw(steps(currency, 6, Decimal(3) * scale)),
        "price_war_rounds": draw(st.integers(0, 4)),
        "price_war_window": timedelta(hours=draw(st.sampled_from([0, 1, 6, 24]))),
        "no_competition": draw(st.sampled_from(["max", "hold"])),
        "amazon_mode": draw(st.sampled_from(["compete", "match_only", "ignore"])),
        "exclude_fbm": draw(st.sampled_from([False, False, False, True])),
        "min_feedback": draw(st.sampled_from([0, 0, 0, 90, 97])),
        "fixed_price": draw(on_tick(currency, low / 2, high * 2 + scale)),
        "b2b_discount": draw(steps(currency, 20, Decimal(3) * scale)),
        "b2b_tiers": draw(st.dictionaries(st.sampled_from([2, 5, 10, 20]),
                                          steps(currency, 30, Decimal(5) * scale), max_size=3)),
    }
    if draw(st.booleans()):
        values["cost_floor"] = draw(on_tick(currency, low / 2, high * Decimal("1.05")))
    return ListingConfig.model_validate(values)


@st.composite
def offers(draw, config: ListingConfig):
    """Rivals priced around the bounds (a few absurd ones), maybe our offer, 0–2 winners."""
    currency = config.currency
    low, high = config.min_price, config.max_price
    price = st.one_of(
        on_tick(currency, low * Decimal("0.8") + tick(currency), high * Decimal("1.3")),
        on_tick(currency, tick(currency), high * 4),
    )
    rivals = ["A1RIVAL00001", "A2RIVAL00002", "A3RIVAL00003", AMAZON[currency]]
    sellers = draw(st.lists(st.sampled_from(rivals), max_size=5))
    if draw(st.integers(0, 9)) < 7:
        sellers.insert(draw(st.integers(0, len(sellers))), OUR)
    count = draw(st.sampled_from([0, 1, 1, 1, 2])) if sellers else 0
    winners = draw(st.sets(st.integers(0, len(sellers) - 1), min_size=min(count, len(sellers)),
                           max_size=min(count, len(sellers)))) if sellers else set()
    result = []
    for index, seller in enumerate(sellers):
        fba = config.fulfillment == "FBA" if seller == OUR and draw(st.booleans()) \
            else draw(st.booleans())
        shipping = Decimal(0) if fba or draw(st.booleans()) else draw(
            on_tick(currency, Decimal(0), high / 5 + 1))
        result.append(offer(
            seller, draw(price), shipping=shipping, fba=fba, winner=index in winners,
            featured=draw(st.sampled_from([True] * 5 + [False])), currency=currency,
            feedback=(draw(st.integers(0, 5000)), draw(st.sampled_from([80, 95, 98, 100]))),
        ))
    return result


@st.composite
def states(draw, config: ListingConfig):
    currency = config.currency
    low, high = config.min_price, config.max_price

    def price():
        amounts = on_tick(currency, max(low, tick(currency)), max(high, low))
        if draw(st.integers(0, 9)) == 0:  # now and then outside the bounds
            amounts = on_tick(currency, low / 2 + tick(currency), high * Decimal("1.5"))
        return Money(draw(amounts), currency)

    def ago():
        return T0 - timedelta(minutes=draw(st.integers(0, 60 * 48)))

    values: dict = {}
    if draw(st.booleans()):
        values.update(current_price=price(), last_change_at=ago())
        if draw(st.booleans()):
            values.update(pending_price=values["current_price"], pending_since=ago())
        if draw(st.booleans()):
            values.update(climbed_from=price(), climbed_to=values["current_price"])
    if draw(st.booleans()):
        values.update(ceiling=price(), ceiling_set_at=ago())
    if draw(st.booleans()):
        values.update(last_unsuppressed_price=price())
    if draw(st.booleans()):  # in a price war: rounds so far, our last cut (landed)
        values.update(war_round=draw(st.integers(0, 12)), war_cut_at=ago(), war_price=price())
    return RepricingState(**values)


@st.composite
def scenarios(draw):
    config = draw(configs())
    data = aoc(
        draw(offers(config)), marketplace=config.marketplace_id, currency=config.currency,
        condition=draw(st.sampled_from(["new", "New", "new_new"])),
        change_type=draw(st.sampled_from(["Internal", "Internal", "FeaturedOffer", "External",
                                          None, ""])),
        buy_box=draw(st.sampled_from(["auto", "auto", "auto", None])),
        threshold=draw(st.none() | on_tick(config.currency, config.min_price / 2,
                                           config.max_price * 2)),
        asin=config.asin,
    )
    state = draw(states(config))
    now = T0 + timedelta(minutes=draw(st.integers(0, 60 * 30)))
    return config, data, state, now


def decisions_for(config, data, state, now):
    payload = parse_notification(data).offer_change
    result = match(payload, [config], {config.key: state})
    for matched in result.matched:
        view = market_view(payload, config, matched.our_offer)
        yield decide(view, config, state, now)


def check_price(config: ListingConfig, old: Money | None, new: Money) -> None:
    assert config.floor <= new <= config.max, (new, config.floor, config.max)
    assert new.amount == new.amount.quantize(config.tick), new  # the currency's precision
    if old is not None and config.floor <= old <= config.max:
        assert abs(new.amount - old.amount) <= max_move(config, old).amount, (old, new)


@SETTINGS
@given(scenarios())
def test_offer_change_decisions_respect_the_guardrails(scenario):
    config, data, state, now = scenario
    for decision in decisions_for(config, data, state, now):
        event(f"{decision.action} {decision.rule}")
        old = decision.old_price
        if config.min_price > config.max_price or config.floor > config.max:
            assert decision.action == "skip"
            continue
        if decision.action == "change":
            check_price(config, old, decision.new_price)
            assert decision.state.current_price == decision.new_price
        else:
            assert decision.new_price is None
        if old is not None and not config.floor <= old <= config.max:
            # out of bounds: straight back to the nearest bound
            assert decision.action == "change"
            assert decision.new_price == (config.floor if old < config.floor else config.max)
        assert decision.reason
        # deterministic: the same input gives the same decision
        assert list(decisions_for(config, data, state, now)) == [decision]


@SETTINGS
@given(st.data())
def test_b2b_prices_respect_the_guardrails_and_fall_with_quantity(data):
    config = data.draw(configs())
    currency = config.currency
    winners = data.draw(st.dictionaries(
        st.sampled_from([1, 2, 5, 10, 20]),
        st.tuples(st.sampled_from([OUR, "A1RIVAL00001"]),
                  on_tick(currency, config.min_price / 3 + tick(currency),
                          config.max_price * 2)),
        max_size=4))
    ours = offer(OUR, data.draw(on_tick(currency, config.min_price / 2 + tick(currency),
                                        config.max_price * 2)), currency=currency)
    notification = b2b([ours], winners, marketplace=config.marketplace_id, currency=currency,
                       asin=config.asin)
    state = data.draw(states(config))
    for decision in decisions_for(config, notification, state, T0):
        if decision.action == "skip":
            assert state.current_price is None or config.floor > config.max \
                or config.min_price > config.max_price
            continue
        event(f"b2b {decision.action}")
        if decision.b2b is None:
            continue
        ladder = [decision.b2b.business_price, *(t.price for t in decision.b2b.tiers)]
        for price in ladder:
            assert config.floor <= price <= config.max
        assert all(a > b for a, b in pairwise(ladder))
        if decision.action == "change":
            check_price(config, decision.old_price, decision.new_price)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_replayed_sequences_stay_inside_the_bounds(data):
    config = data.draw(configs(strategy="buybox"))
    replay = Replay([config])
    previous = config.configured_current
    for number in range(1, 6):
        notification = aoc(data.draw(offers(config)), marketplace=config.marketplace_id,
                           currency=config.currency, asin=config.asin,
                           toc=T0 + timedelta(minutes=20 * number))
        for row in replay.process(number, to_json(notification)):
            assert row.action in {"change", "hold", "skip"}
            if row.action == "change":
                new = Money.of(row.new_price, config.currency)
                old = Money.of(row.old_price, config.currency) if row.old_price else None
                check_price(config, old, new)
                if previous is not None and old is not None:
                    assert old == previous  # a change is taken as applied
                previous = new


@SETTINGS
@given(st.data())
def test_guard_alone(data):
    config = data.draw(configs())
    currency = config.currency
    target = data.draw(st.none() | on_tick(currency, Decimal(0), config.max_price * 3).map(
        lambda a: Money(a, currency)))
    current = data.draw(st.none() | on_tick(currency, tick(currency), config.max_price * 3).map(
        lambda a: Money(a, currency)))
    result = guard(target, current, config)
    if config.min_price > config.max_price or config.floor > config.max:
        assert result.action == "skip"
    elif result.action == "change":
        check_price(config, current, result.price)
        assert current is None or result.price != current
    else:
        assert result.price is None
