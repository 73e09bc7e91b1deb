"""The Repricer's pure domain logic: no AWS, no environment, no clock.

Typical use (a handler, the replay CLI)::

    notification = parse_notification(json.loads(body, parse_float=Decimal))
    payload = notification.offer_change                # None for ORDER_CHANGE / unhandled
    result = match(payload, listings, states)          # our SKU(s) for the notification
    for m in result.matched:
        view = market_view(payload, m.config, m.our_offer)
        decision = decide(view, m.config, states[m.config.key], now)
        # store decision.state; submit decision.new_price if decision.action == "change"
"""

from .decision import B2BPrices, Decision, Proposal, Tier
from .engine import decide, decide_push, is_stale, observe, record_order
from .guardrails import guard
from .listing_config import (
    CSV_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ListingConfig,
    ListingsCsvError,
    Step,
    load_listings_csv,
    parse_listings_csv,
)
from .matching import Matched, MatchResult, Unpaired, match, match_order
from .notifications import (
    ANY_OFFER_CHANGED,
    B2B_ANY_OFFER_CHANGED,
    HANDLED_TYPES,
    ORDER_CHANGE,
    AnyOfferChanged,
    B2BAnyOfferChanged,
    Notification,
    NotificationError,
    Offer,
    OrderChange,
    normalise_condition,
    parse_notification,
)
from .offers import MarketView, market_view
from .state import RepricingState, Sale

__all__ = [
    "ANY_OFFER_CHANGED",
    "B2B_ANY_OFFER_CHANGED",
    "CSV_COLUMNS",
    "HANDLED_TYPES",
    "OPTIONAL_COLUMNS",
    "ORDER_CHANGE",
    "REQUIRED_COLUMNS",
    "AnyOfferChanged",
    "B2BAnyOfferChanged",
    "B2BPrices",
    "Decision",
    "ListingConfig",
    "ListingsCsvError",
    "MarketView",
    "MatchResult",
    "Matched",
    "Notification",
    "NotificationError",
    "Offer",
    "OrderChange",
    "Proposal",
    "RepricingState",
    "Sale",
    "Step",
    "Tier",
    "Unpaired",
    "decide",
    "decide_push",
    "guard",
    "is_stale",
    "load_listings_csv",
    "market_view",
    "match",
    "match_order",
    "normalise_condition",
    "observe",
    "parse_listings_csv",
    "parse_notification",
    "record_order",
]
