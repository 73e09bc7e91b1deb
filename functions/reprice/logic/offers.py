"""The market as one SKU sees it: our offer, the competitors that count, the Buy Box.

Competitor filters (repricing.md §6.1), applied to ``Offers[]`` of the trigger condition:
not us (any offer of our seller id), featured (Buy Box eligible) only, feedback at least
``min_feedback`` % and ``min_feedback_count``, FBM dropped with ``exclude_fbm``, Amazon per
``amazon_mode`` (``ignore`` drops it), ``include_sellers`` / ``exclude_sellers``, and
absurd prices dropped (landed below 0.5 × min_price or above 3 × max_price). All
comparisons use landed prices (listing + shipping − points).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from functions.core.money import Money

from .listing_config import ListingConfig
from .notifications import EXTERNAL, AnyOfferChanged, Offer, PriceRow

ABSURD_LOW = Decimal("0.5")  # × min_price
ABSURD_HIGH = Decimal(3)  # × max_price


class Competitor(NamedTuple):
    """A competing offer that passed the filters (a named tuple: a view builds several
    per notification, and a tuple is made in a quarter of a frozen dataclass's time)."""

    seller_id: str
    landed: Money
    listing: Money
    fba: bool
    is_winner: bool
    is_amazon: bool


@dataclass(frozen=True, slots=True)
class TierPrice:
    """A B2B Buy Box row for one quantity tier."""

    quantity: int
    price: Money  # landed when ``landed`` else listing
    landed: bool
    seller_id: str | None
    relevant: bool  # the winner passes our competitor filters


class MarketView(NamedTuple):
    """One SKU's view of an offer-change notification (a named tuple: one per decision,
    immutable, made several times faster than a frozen dataclass of this many fields)."""

    seller_id: str
    marketplace_id: str
    asin: str
    condition: str
    currency: str
    time_of_offer_change: datetime
    change_type: str | None
    is_b2b: bool
    our_offer: Offer | None
    competitors: tuple[Competitor, ...]  # relevant ones, cheapest first
    ignored: tuple[tuple[str, str], ...]  # (seller id, why) of filtered-out offers
    we_win: bool
    rival_winner: Competitor | None  # a relevant competitor holding the Buy Box
    buy_box_landed: Money | None  # the Buy Box price of our condition (Summary)
    winner_ignored: bool  # the Buy Box is held by an offer our filters drop
    sibling_wins: bool  # another offer of ours (another SKU) holds the Buy Box
    suppressed: bool
    threshold: Money | None  # CompetitivePriceThreshold (landed)
    tiers: tuple[TierPrice, ...] = ()  # B2B only
    # From ``our_offer`` (see :func:`_ours`), read several times per decision: our
    # listing price in the SKU's currency, and our shipping − points (landed = listing +
    # it); None when our offer or its price is not visible.
    our_listing: Money | None = None
    our_offset: Money | None = None

    @property
    def is_external(self) -> bool:
        return (self.change_type or "").lower() == EXTERNAL.lower()

    def cheapest_above(self, landed: Money) -> Competitor | None:
        for competitor in self.competitors:
            if competitor.landed > landed:
                return competitor
        return None


def _ours(offer: Offer | None, currency: str) -> tuple[Money | None, Money | None]:
    """(our listing price, our shipping − points) from our offer, in ``currency``."""
    if offer is None or offer.listing_price is None or offer.listing_price.currency != currency:
        return None, None
    listing = offer.listing_price
    landed = offer.landed
    return listing, (landed - listing if landed is not None else None)


def _absurd_bounds(config: ListingConfig) -> tuple[Decimal, Decimal]:
    """Landed prices outside these are absurd: (0.5 × min_price, 3 × max_price)."""
    return config.min_price * ABSURD_LOW, config.max_price * ABSURD_HIGH


def _why_ignored(
    offer: Offer, config: ListingConfig, our_seller: str, landed: Money | None,
    amazon_ids: frozenset[str], bounds: tuple[Decimal, Decimal],
) -> str | None:
    """Why an offer does not count as a competitor, or None if it does. ``landed`` is
    ``offer.landed``, ``amazon_ids`` ``config.amazon_ids`` and ``bounds``
    :func:`_absurd_bounds`, looked up once per notification by the caller."""
    seller = offer.seller_id or ""
    if seller == our_seller:
        return "ours"
    if landed is None:
        return "no price"
    if landed.currency != config.currency:
        return f"currency {landed.currency}"
    if config.include_sellers and seller not in config.include_sellers:
        return "not in include_sellers"
    if seller in config.exclude_sellers:
        return "in exclude_sellers"
    if seller in amazon_ids and config.amazon_mode == "ignore":
        return "Amazon (amazon_mode ignore)"
    if offer.is_featured_merchant is False:
        return "not featured (not Buy Box eligible)"
    rating = offer.seller_feedback_rating
    positive = rating.seller_positive_feedback_rating if rating else None
    count = rating.feedback_count if rating else None
    if config.min_feedback > 0 and (positive or 0) < config.min_feedback:
        return f"feedback {positive}% below {config.min_feedback}%"
    if config.min_feedback_count > 0 and (count or 0) < config.min_feedback_count:
        return f"{count or 0} ratings below {config.min_feedback_count}"
    if config.exclude_fbm and not offer.is_fulfilled_by_amazon:
        return "FBM (exclude_fbm)"
    if landed.amount < bounds[0]:
        return f"absurd price {landed.to_str()} (< 0.5 x min_price)"
    if landed.amount > bounds[1]:
        return f"absurd price {landed.to_str()} (> 3 x max_price)"
    return None


def _buy_box_row(payload: AnyOfferChanged, currency: str) -> PriceRow | None:
    for row in payload.summary.buy_box_prices:
        if row.condition not in (None, payload.condition):
            continue
        if payload.is_b2b and (row.offer_type not in (None, "B2B") or row.tier != 1):
            continue
        if row.landed is not None and row.landed.currency == currency:
            return row
    return None


def market_view(
    payload: AnyOfferChanged, config: ListingConfig, our_offer: Offer | None
) -> MarketView:
    """Build the SKU's view of ``payload``; ``our_offer`` comes from matching (or None)."""
    currency = config.currency
    competitors: list[Competitor] = []
    ignored: list[tuple[str, str]] = []
    winner_ignored = False
    sibling_wins = False
    any_winner = False
    amazon_ids = config.amazon_ids
    bounds = _absurd_bounds(config)
    our_seller = payload.seller_id
    for offer in payload.offers:
        is_winner = bool(offer.is_buy_box_winner)  # ``offer.is_winner``
        if is_winner:
            any_winner = True
        seller = offer.seller_id or ""
        if seller == our_seller:  # what ``_why_ignored`` says first: "ours"
            sibling_wins = sibling_wins or (is_winner and offer is not our_offer)
            continue
        landed = offer.landed
        why = _why_ignored(offer, config, our_seller, landed, amazon_ids, bounds)
        if why is not None:
            ignored.append((seller or "?", why))
            if is_winner:
                winner_ignored = True
            continue
        listing = offer.listing_price
        assert landed is not None and listing is not None
        competitors.append(Competitor(  # positional: the fields' order
            seller or "?", landed, listing, bool(offer.is_fulfilled_by_amazon), is_winner,
            seller in amazon_ids,
        ))
    competitors.sort(key=lambda c: (c.landed.amount, c.seller_id))
    we_win = bool(our_offer is not None and our_offer.is_winner)
    winners = [c for c in competitors if c.is_winner]
    rival_winner = min(winners, key=lambda c: c.landed.amount) if winners else None
    row = _buy_box_row(payload, currency)
    buy_box = row.landed if row is not None else None
    if not any_winner and buy_box is not None and not we_win:
        # Some payloads flag no winner: take the Buy Box row's price and who matches it.
        ours = our_offer.landed if our_offer is not None else None
        if ours is not None and ours.currency == currency and ours <= buy_box:
            we_win = True
        else:
            at_price = [c for c in competitors if c.landed <= buy_box]
            rival_winner = at_price[0] if at_price else None
            winner_ignored = rival_winner is None
    if we_win:
        rival_winner = None
    suppressed = not any_winner and buy_box is None
    threshold = payload.summary.competitive_price_threshold
    if threshold is not None and threshold.currency != currency:
        threshold = None
    tiers = _b2b_tiers(payload, config) if payload.is_b2b else ()
    return MarketView(  # positional, in the fields' order (a third cheaper than keywords)
        payload.seller_id,  # seller_id
        payload.marketplace_id,  # marketplace_id
        payload.asin,  # asin
        payload.condition,  # condition
        currency,  # currency
        payload.time_of_offer_change,  # time_of_offer_change
        payload.change_type,  # change_type
        payload.is_b2b,  # is_b2b
        our_offer,  # our_offer
        tuple(competitors),  # competitors
        tuple(ignored),  # ignored
        we_win,  # we_win
        rival_winner,  # rival_winner
        buy_box,  # buy_box_landed
        winner_ignored and rival_winner is None,  # winner_ignored
        sibling_wins and not we_win,  # sibling_wins
        suppressed,  # suppressed
        threshold,  # threshold
        tiers,  # tiers
        *_ours(our_offer, currency),  # our_listing, our_offset
    )


def _b2b_tiers(payload: AnyOfferChanged, config: ListingConfig) -> tuple[TierPrice, ...]:
    offers = {o.seller_id: o for o in payload.offers if o.seller_id}
    amazon_ids = config.amazon_ids
    bounds = _absurd_bounds(config)
    found: dict[int, TierPrice] = {}
    for row in payload.summary.buy_box_prices:
        if row.condition not in (None, payload.condition) or row.offer_type not in (None, "B2B"):
            continue
        landed_given = row.landed_price is not None or (
            row.tier == 1 and row.listing_price is not None and row.shipping is not None
        )
        price = row.landed if landed_given else row.listing_price
        if price is None or price.currency != config.currency:
            continue
        relevant = True
        if row.seller_id and row.seller_id != payload.seller_id:
            offer = offers.get(row.seller_id)
            why = (_why_ignored(offer, config, payload.seller_id, offer.landed, amazon_ids,
                                bounds) if offer is not None else None)
            if offer is None:
                seller = row.seller_id
                if (config.include_sellers and seller not in config.include_sellers) or (
                    seller in config.exclude_sellers
                ) or (seller in amazon_ids and config.amazon_mode == "ignore"):
                    why = "filtered"
                elif not (bounds[0] <= price.amount <= bounds[1]):
                    why = "absurd price"
            relevant = why is None
        if row.tier not in found:
            found[row.tier] = TierPrice(row.tier, price, landed_given, row.seller_id, relevant)
    return tuple(found[q] for q in sorted(found))
