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
