"""The bridge between a stored :class:`Listing` and the repricer's models.

The Listings table keeps the strategy configuration and the repricing state in their
JSON form; this module is the one place that turns them into ``ListingConfig`` and
``RepricingState`` and back. A listing with an empty ``strategy`` is *unconfigured*
(synced from Amazon, not repriced until its seller sets a strategy).
"""

from __future__ import annotations

from typing import Any

from functions.core.money import Money
from functions.core.repositories.listings import Listing
from functions.reprice.logic.listing_config import ListingConfig
from functions.reprice.logic.state import RepricingState


def config_of(listing: Listing) -> ListingConfig | None:
    """The listing's strategy configuration, or None when it has none yet.

    Identity fields come from the listing itself, so a stored strategy can never point
    at another SKU, seller or marketplace.
    """
    if not listing.strategy:
        return None
    data: dict[str, Any] = {
        **listing.strategy,
        "sku": listing.sku,
        "asin": listing.asin,
        "marketplace_id": listing.marketplace_id,
        "condition": listing.condition,
        "fulfillment": listing.fulfillment,
        "currency": listing.currency,
        "seller_id": listing.seller_id,
    }
    return ListingConfig.model_validate(data)


def state_of(listing: Listing) -> RepricingState:
    return RepricingState.model_validate(listing.state or {})


def with_config(listing: Listing, config: ListingConfig | None) -> Listing:
    """``listing`` with ``config`` stored (None = unconfigured). Identity must match."""
    if config is None:
        return listing.evolve(strategy={})
    mismatched = [
        name
        for name, value in (
            ("sku", listing.sku),
            ("marketplace_id", listing.marketplace_id),
            ("currency", listing.currency),
        )
        if getattr(config, name) != value
    ]
    if config.seller_id not in (None, listing.seller_id):
        mismatched.append("seller_id")
    if mismatched:
        raise ValueError(f"strategy does not belong to this listing: {', '.join(mismatched)}")
    return listing.evolve(
        strategy=config.model_dump(mode="json"),
        asin=config.asin,
        condition=config.condition,
        fulfillment=config.fulfillment,
    )


def with_state(listing: Listing, state: RepricingState) -> Listing:
    return listing.evolve(state=state.model_dump(mode="json"))


def listing_from_config(config: ListingConfig, seller_id: str) -> Listing:
    """A new (version 0) listing for ``config`` of ``seller_id``."""
    if config.seller_id not in (None, seller_id):
        raise ValueError(f"seller_id {config.seller_id!r} is not {seller_id!r}")
    listing = Listing(
        seller_id=seller_id,
        marketplace_id=config.marketplace_id,
        sku=config.sku,
        asin=config.asin,
        condition=config.condition,
        fulfillment=config.fulfillment,
        currency=config.currency,
    )
    state = RepricingState()
    if config.current_price is not None:
        state = state.model_copy(
            update={"current_price": Money.of(config.current_price, config.currency)}
        )
    return with_state(with_config(listing, config), state)
