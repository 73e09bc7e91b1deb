"""Which of our SKUs an offer notification is about (repricing.md §3).

The payload names no SKU. Our offers are ``Offers[]`` whose ``SellerId`` is the payload's
``SellerId``; a listing is a candidate when ASIN, marketplace, normalised condition and
(when the listing names one) seller id agree; it pairs with our offer of its fulfilment
channel (``IsFulfilledByAmazon`` → FBA, else FBM).

- one listing and one offer of that channel → act on it;
- no listing → nothing to act on (acknowledge and count);
- several listings or several offers of one channel (a seller can list an ASIN twice) →
  pair each listing with the offer at its last submitted price; a listing that does not
  pair uniquely is skipped and flagged;
- our offer absent (not in the top 20) → act with no offer: the strategy decides from the
  Summary and our stored price.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from functions.core.money import Money

from .listing_config import ListingConfig
from .notifications import AnyOfferChanged, Offer, OrderChange, OrderItem
from .state import RepricingState

_CHANNELS = ("FBA", "FBM")


@dataclass(frozen=True, slots=True)
class Matched:
    config: ListingConfig
    our_offer: Offer | None  # None: our offer is not in the notification


@dataclass(frozen=True, slots=True)
class Unpaired:
    config: ListingConfig
    reason: str
    flagged: bool = True


@dataclass(frozen=True, slots=True)
class MatchResult:
    matched: tuple[Matched, ...]
    unpaired: tuple[Unpaired, ...]

    @property
    def is_empty(self) -> bool:
        """No listing of ours is about this notification."""
        return not self.matched and not self.unpaired


def candidates(payload: AnyOfferChanged, listings: Iterable[ListingConfig]) -> list[ListingConfig]:
    """Listings with the payload's ASIN, marketplace, condition and (if set) seller id."""
    return [
        c for c in listings
        if c.asin == payload.asin
        and c.marketplace_id == payload.marketplace_id
        and c.condition == payload.condition
        and (c.seller_id is None or c.seller_id == payload.seller_id)
    ]


def last_submitted_price(
    states: Mapping[tuple[str, str, str], RepricingState] | None, b2b: bool
) -> Callable[[ListingConfig], Money | None]:
    """A lookup of each listing's last submitted price (state, else the configured one)."""

    def lookup(config: ListingConfig) -> Money | None:
        state = states.get(config.key) if states else None
        if state is not None:
            price = state.business_price if b2b else (state.pending_price or state.current_price)
            if price is not None:
                return price
        return None if b2b else config.configured_current

    return lookup


def match(
    payload: AnyOfferChanged,
    listings: Iterable[ListingConfig],
    states: Mapping[tuple[str, str, str], RepricingState] | None = None,
) -> MatchResult:
    """Pair the notification's offers of ours with our listings (see the module doc).

    ``states`` maps ``ListingConfig.key`` to the stored state, used to pair by the last
    submitted price when one listing/offer pair is not unique.
    """
    found = candidates(payload, listings)
    if not found:
        return MatchResult((), ())
    if len(found) == 1 and found[0].fulfillment in _CHANNELS:
        # The usual case, one listing: it pairs with our one offer of its channel, or
        # with none when we have no offer there; several offers → the general pairing.
        config = found[0]
        channel = config.fulfillment
        seller = payload.seller_id
        offers = [o for o in payload.offers if o.seller_id == seller and o.channel == channel]
        if len(offers) <= 1:
            return MatchResult((Matched(config, offers[0] if offers else None),), ())
    price_of = last_submitted_price(states, payload.is_b2b)
    ours = payload.our_offers()
    matched: list[Matched] = []
    unpaired: list[Unpaired] = []
    for channel in _CHANNELS:
        configs = [c for c in found if c.fulfillment == channel]
        if not configs:
            continue
        offers = [o for o in ours if o.channel == channel]
        if not offers:
            matched.extend(Matched(c, None) for c in configs)
            continue
        if len(configs) == 1 and len(offers) == 1:
            matched.append(Matched(configs[0], offers[0]))
            continue
        claims: dict[int, list[ListingConfig]] = {}
        for config in configs:
            price = price_of(config)
            hits = [i for i, o in enumerate(offers)
                    if price is not None and o.listing_price == price]
            if len(hits) == 1:
                claims.setdefault(hits[0], []).append(config)
            else:
                unpaired.append(Unpaired(config, _ambiguity(channel, len(configs), len(offers),
                                                            price, len(hits))))
        for index, claimants in claims.items():
            if len(claimants) == 1:
                matched.append(Matched(claimants[0], offers[index]))
            else:
                unpaired.extend(
                    Unpaired(c, f"{len(claimants)} {channel} SKUs share the last submitted price "
                                f"of one offer: cannot tell them apart")
                    for c in claimants
                )
    order = {id(c): i for i, c in enumerate(found)}
    matched.sort(key=lambda m: order[id(m.config)])
    unpaired.sort(key=lambda u: order[id(u.config)])
    return MatchResult(tuple(matched), tuple(unpaired))


def _ambiguity(channel: str, n_configs: int, n_offers: int, price: Money | None, hits: int) -> str:
    what = f"{n_configs} {channel} SKU(s) and {n_offers} {channel} offers of ours"
    if price is None:
        return f"{what}: no last submitted price to pair by"
    if hits == 0:
        return f"{what}: no offer at the last submitted price {price.to_str()}"
    return f"{what}: {hits} offers at the last submitted price {price.to_str()}"


def match_order(
    order: OrderChange, listings: Iterable[ListingConfig]
) -> list[tuple[ListingConfig, list[OrderItem]]]:
    """Our listings named by an ORDER_CHANGE's items (by SellerSKU, marketplace, seller)."""
    found: list[tuple[ListingConfig, list[OrderItem]]] = []
    for config in listings:
        if order.marketplace_id and config.marketplace_id != order.marketplace_id:
            continue
        if config.seller_id and order.seller_id and config.seller_id != order.seller_id:
            continue
        items = [i for i in order.summary.order_items if i.seller_sku == config.sku]
        if items:
            found.append((config, items))
    return found
