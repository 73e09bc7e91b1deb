from decimal import Decimal

import pytest

from functions.core.money import Money
from functions.reprice.listings import config_of, listing_from_config, state_of, with_config
from functions.reprice.logic.listing_config import ListingConfig


def config(**overrides):
    values = dict(
        sku="SKU-1", asin="B000TEST01", marketplace_id="A1PA6795UKMFR9", condition="new",
        fulfillment="FBA", strategy="buybox", currency="EUR", min_price=Decimal("10.00"),
        max_price=Decimal("20.00"), current_price=Decimal("15.00"),
    )
    values.update(overrides)
    return ListingConfig.model_validate(values)


def test_round_trip_through_the_stored_listing():
    listing = listing_from_config(config(), "SELLER1")
    assert listing.version == 0 and listing.asin == "B000TEST01"
    assert config_of(listing) == config(seller_id="SELLER1")
    assert state_of(listing).current_price == Money.of("15.00", "EUR")


def test_unconfigured_listing_has_no_config():
    listing = with_config(listing_from_config(config(), "SELLER1"), None)
    assert config_of(listing) is None


def test_a_config_for_another_sku_or_seller_is_refused():
    listing = listing_from_config(config(), "SELLER1")
    with pytest.raises(ValueError, match="sku"):
        with_config(listing, config(sku="OTHER"))
    with pytest.raises(ValueError, match="seller_id"):
        with_config(listing, config(seller_id="SELLER2"))
    with pytest.raises(ValueError, match="SELLER2"):
        listing_from_config(config(seller_id="SELLER2"), "SELLER1")


def test_state_json_is_pydantics_dump_without_defaults():
    """``state_json`` gives ``model_dump(mode="json", exclude_defaults=True, include=…)``:
    the same keys in the same order, values equal, no dict shared between two keys."""
    import random
    from datetime import UTC, datetime, timedelta, timezone

    from functions.reprice.listings import state_json
    from functions.reprice.logic.state import RepricingState, Sale

    fields = RepricingState.model_fields
    rng = random.Random(5)
    price = Money.of("12.30", "USD")
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    def value(name):
        kind = str(fields[name].annotation)
        if rng.random() < 0.3:
            return fields[name].get_default(call_default_factory=True)
        if name == "sales":
            return {"o1": Sale(at=moment, quantity=2)}
        if name == "b2b_tiers":
            return {5: Money.of("3.10", "USD")}
        if "Money" in kind:
            return price if rng.random() < 0.5 else Money(
                Decimal(rng.randrange(5000)) / 100, rng.choice(["USD", "JPY"]))
        if "datetime" in kind:
            return moment if rng.random() < 0.5 else datetime(
                rng.randrange(1, 9999), 1 + rng.randrange(12), 1 + rng.randrange(28),
                rng.randrange(24), 0, rng.randrange(60), rng.choice([0, rng.randrange(10**6)]),
                tzinfo=rng.choice([UTC, timezone(timedelta(hours=-3))]))
        if "bool" in kind:
            return rng.random() < 0.5
        if name == "push_last_move":
            return rng.choice(["up", "down"])
        return rng.randrange(-1, 5)  # the int levels

    earlier = RepricingState()
    for _ in range(3000):
        state = RepricingState().updated(**{n: value(n) for n in fields if rng.random() < 0.5})
        include = None if rng.random() < 0.3 else set(rng.sample(list(fields), 8))
        expected = state.model_dump(mode="json", exclude_defaults=True, include=include)
        got = state_json(state, include)
        assert got == expected and list(got) == list(expected)
        assert state_json(state, include, ordered=False) == expected  # any key order
        dicts = [id(v) for v in got.values() if isinstance(v, dict)]
        assert len(dicts) == len(set(dicts))
        # Money equal to an earlier state's takes that state's JSON: the same text
        again = state_json(state, include, (earlier, state_json(earlier)))
        assert again == expected and list(again) == list(expected)
        earlier = state
    assert state_json(RepricingState()) == {}


def test_state_json_takes_an_earlier_json_only_for_the_same_text():
    from functions.reprice.listings import state_json
    from functions.reprice.logic.state import RepricingState

    before = RepricingState(shipping=Money.of("0.00", "USD"), live_price=Money.of("1.5", "USD"))
    before_json = state_json(before)
    after = before.updated(shipping=Money.of("-0.00", "USD"), live_price=Money.of("1.50", "USD"))
    assert state_json(after, {"shipping", "live_price"}, (before, before_json)) == {
        "live_price": {"amount": "1.50", "currency": "USD"},
        "shipping": {"amount": "-0.00", "currency": "USD"},  # -0: not the earlier text
    } == after.model_dump(mode="json", include={"shipping", "live_price"})
