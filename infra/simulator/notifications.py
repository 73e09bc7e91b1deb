"""SP-API notifications as Amazon sends them (the SQS message body: no SNS wrapper).

Built from the simulated market so the repricer reads exactly what it would read in
production: ``ANY_OFFER_CHANGED`` with the envelope, ``Summary`` and up to 20 offers of
the trigger condition, cheapest landed price first.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from infra.simulator.market import Offer, Product

APPLICATION_ID = "amzn1.sellerapps.app.sellerops-simulator"
SUBSCRIPTION_ID = "sim-subscription-any-offer-changed"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    # Amazon writes JSON numbers; Decimal is serialised as a number by the encoder below.
    return {"Amount": amount, "CurrencyCode": currency}


def _offer(offer: Offer, winner: Offer | None, currency: str) -> dict[str, Any]:
    return {
        "SellerId": offer.seller_id,
        "SubCondition": "new",
        "SellerFeedbackRating": {
            "FeedbackCount": offer.feedback_count,
            "SellerPositiveFeedbackRating": offer.feedback_positive,
        },
        "ShippingTime": {
            "MinimumHours": 0 if offer.fba else 24,
            "MaximumHours": 0 if offer.fba else 48,
            "AvailabilityType": "NOW",
            "AvailableDate": "",
        },
        "ListingPrice": _money(offer.price, currency),
        "Shipping": _money(offer.shipping, currency),
        "IsFulfilledByAmazon": offer.fba,
        "IsBuyBoxWinner": offer is winner,
        "PrimeInformation": {"IsOfferPrime": offer.fba, "IsOfferNationalPrime": offer.fba},
        "IsFeaturedMerchant": offer.featured,
        "ShipsDomestically": True,
    }


def any_offer_changed(
    product: Product,
    *,
    marketplace_id: str,
    currency: str,
    at: datetime,
    change_type: str = "Internal",
    notification_id: str | None = None,
) -> dict[str, Any]:
    """The ``ANY_OFFER_CHANGED`` notification our seller receives for ``product`` at ``at``."""
    offers = sorted(
        (o for o in product.offers() if o.in_stock), key=lambda o: (o.landed, o.seller_id)
    )[:20]
    winner = product.buy_box_winner()
    channels: dict[str, list[Offer]] = {"Amazon": [], "Merchant": []}
    for offer in offers:
        channels["Amazon" if offer.fba else "Merchant"].append(offer)
    summary: dict[str, Any] = {
        "NumberOfOffers": [
            {"Condition": "new", "FulfillmentChannel": ch, "OfferCount": len(group)}
            for ch, group in channels.items() if group
        ],
        "NumberOfBuyBoxEligibleOffers": [
            {
                "Condition": "new", "FulfillmentChannel": ch,
                "OfferCount": sum(1 for o in group if o.featured),
            }
            for ch, group in channels.items() if group
        ],
        "LowestPrices": [
            {
                "Condition": "new",
                "FulfillmentChannel": ch,
                "LandedPrice": _money(min(group, key=lambda o: o.landed).landed, currency),
                "ListingPrice": _money(min(group, key=lambda o: o.landed).price, currency),
                "Shipping": _money(min(group, key=lambda o: o.landed).shipping, currency),
            }
            for ch, group in channels.items() if group
        ],
        "CompetitivePriceThreshold": _money(product.threshold, currency),
    }
    if winner is not None:
        summary["BuyBoxPrices"] = [
            {
                "Condition": "New",
                "LandedPrice": _money(winner.landed, currency),
                "ListingPrice": _money(winner.price, currency),
                "Shipping": _money(winner.shipping, currency),
            }
        ]
    published = at + timedelta(milliseconds=350)
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ANY_OFFER_CHANGED",
        "PayloadVersion": "1.0",
        "EventTime": _iso(at),
        "NotificationMetadata": {
            "ApplicationId": APPLICATION_ID,
            "SubscriptionId": SUBSCRIPTION_ID,
            "PublishTime": _iso(published),
            "NotificationId": notification_id or str(uuid.uuid4()),
        },
        "Payload": {
            "AnyOfferChangedNotification": {
                "SellerId": product.seller_id,
                "OfferChangeTrigger": {
                    "MarketplaceId": marketplace_id,
                    "ASIN": product.asin,
                    "ItemCondition": "new",
                    "TimeOfOfferChange": _iso(at),
                    "OfferChangeType": change_type,
                },
                "Summary": summary,
                "Offers": [_offer(o, winner, currency) for o in offers],
            }
        },
    }


def dumps(notification: dict[str, Any]) -> str:
    """JSON text with Decimal amounts written as JSON numbers, exactly (no float step)."""
    text = json.dumps(
        notification,
        default=lambda o: f"__DEC__{o}__" if isinstance(o, Decimal) else str(o),
        separators=(",", ":"),
    )
    return _DECIMAL.sub(r"\1", text)


_DECIMAL = re.compile(r'"__DEC__(-?[0-9.E+-]+)__"')
