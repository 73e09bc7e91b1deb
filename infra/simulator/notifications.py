"""SP-API notifications as Amazon sends them (the SQS message body: no SNS wrapper).

Built from the simulated market so the repricer reads exactly what it would read in
production: ``ANY_OFFER_CHANGED`` with the envelope, ``Summary`` and up to 20 offers of
the trigger condition, cheapest landed price first; ``B2B_ANY_OFFER_CHANGED`` for the
business offers of an ASIN; ``ORDER_CHANGE`` for each simulated order.
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


def _feedback(offer: Offer) -> dict[str, Any]:
    return {
        "FeedbackCount": offer.feedback_count,
        "SellerPositiveFeedbackRating": offer.feedback_positive,
    }


def _shipping_time(offer: Offer) -> dict[str, Any]:
    """FBA ships now; the simulated FBM sellers within one to two days."""
    return {
        "MinimumHours": 0 if offer.fba else 24,
        "MaximumHours": 0 if offer.fba else 48,
        "AvailabilityType": "NOW",
    }


def _trigger(marketplace_id: str, product: Product, at: datetime) -> dict[str, Any]:
    """The ``OfferChangeTrigger`` both offer-change notifications share (the B2C one adds
    its ``OfferChangeType``)."""
    return {
        "MarketplaceId": marketplace_id,
        "ASIN": product.asin,
        "ItemCondition": "new",
        "TimeOfOfferChange": _iso(at),
    }


def _envelope(
    notification_type: str, subscription_id: str, payload_name: str, payload: dict[str, Any],
    *, at: datetime, notification_id: str | None,
) -> dict[str, Any]:
    """An offer-change notification around its payload (published 350 ms after ``at``)."""
    return {
        "NotificationVersion": "1.0",
        "NotificationType": notification_type,
        "PayloadVersion": "1.0",
        "EventTime": _iso(at),
        "NotificationMetadata": {
            "ApplicationId": APPLICATION_ID,
            "SubscriptionId": subscription_id,
            "PublishTime": _iso(at + timedelta(milliseconds=350)),
            "NotificationId": notification_id or str(uuid.uuid4()),
        },
        "Payload": {payload_name: payload},
    }


def _offer(offer: Offer, winner: Offer | None, currency: str) -> dict[str, Any]:
    return {
        "SellerId": offer.seller_id,
        "SubCondition": "new",
        "SellerFeedbackRating": _feedback(offer),
        "ShippingTime": {**_shipping_time(offer), "AvailableDate": ""},
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
    return _envelope("ANY_OFFER_CHANGED", SUBSCRIPTION_ID, "AnyOfferChangedNotification", {
        "SellerId": product.seller_id,
        "OfferChangeTrigger": {**_trigger(marketplace_id, product, at),
                               "OfferChangeType": change_type},
        "Summary": summary,
        "Offers": [_offer(o, winner, currency) for o in offers],
    }, at=at, notification_id=notification_id)


def dumps(notification: dict[str, Any]) -> str:
    """JSON text with Decimal amounts written as JSON numbers, exactly (no float step)."""
    text = json.dumps(
        notification,
        default=lambda o: f"__DEC__{o}__" if isinstance(o, Decimal) else str(o),
        separators=(",", ":"),
    )
    return _DECIMAL.sub(r"\1", text)


_DECIMAL = re.compile(r'"__DEC__(-?[0-9.E+-]+)__"')


# -- B2B_ANY_OFFER_CHANGED --------------------------------------------------------------


def b2b_any_offer_changed(
    product: Product,
    business_prices: dict[str, Decimal],
    *,
    marketplace_id: str,
    currency: str,
    at: datetime,
    notification_id: str | None = None,
) -> dict[str, Any]:
    """The ``B2B_ANY_OFFER_CHANGED`` notification for ``product`` at ``at``.

    ``business_prices`` maps a seller id to its business (tier-1 B2B) price; only the
    offers named there are B2B offers (Amazon Business shows sellers who set a business
    price). The B2B Buy Box goes to the lowest featured, in-stock business price (FBA
    earns no edge in this simple model). Layout and casing as in
    ``domain/samples/b2b_any_offer_changed.json`` (PascalCase, the schema since 2026-02).
    No quantity tiers: the simulated sellers set none.
    """
    offers = [
        (o, business_prices[o.seller_id]) for o in product.offers()
        if o.in_stock and o.seller_id in business_prices
    ]
    offers.sort(key=lambda pair: (pair[1] + pair[0].shipping, pair[0].seller_id))
    offers = offers[:20]
    eligible = [(o, p) for o, p in offers if o.featured]
    winner = eligible[0][0] if eligible else None
    channels: dict[str, list[tuple[Offer, Decimal]]] = {"Amazon": [], "Merchant": []}
    for offer, price in offers:
        channels["Amazon" if offer.fba else "Merchant"].append((offer, price))

    def row(offer: Offer, price: Decimal) -> dict[str, Any]:
        return {
            "Condition": "new", "OfferType": "B2B", "QuantityTier": 1,
            "LandedPrice": _money(price + offer.shipping, currency),
            "ListingPrice": _money(price, currency),
            "Shipping": _money(offer.shipping, currency),
        }

    summary: dict[str, Any] = {
        "NumberOfOffers": [
            {"Condition": "new", "FulfillmentChannel": ch, "OfferCount": len(group)}
            for ch, group in channels.items() if group
        ],
        "BuyBoxEligibleOffers": [
            {"Condition": "new", "FulfillmentChannel": ch,
             "OfferCount": sum(1 for o, _ in group if o.featured)}
            for ch, group in channels.items() if group
        ],
        "LowestPrices": [
            {"FulfillmentChannel": ch, **row(*group[0])}
            for ch, group in channels.items() if group
        ],
    }
    if winner is not None:
        summary["BuyBoxPrices"] = [
            {**row(winner, business_prices[winner.seller_id]), "SellerId": winner.seller_id}
        ]
    return _envelope(
        "B2B_ANY_OFFER_CHANGED", "sim-subscription-b2b-any-offer-changed",
        "B2BAnyOfferChangedNotification", {
            "SellerId": product.seller_id,
            "OfferChangeTrigger": _trigger(marketplace_id, product, at),
            "Summary": summary,
            "Offers": [
                {
                    "SellerId": o.seller_id,
                    "SubCondition": "new",
                    "SellerFeedbackRating": _feedback(o),
                    "ShippingTime": _shipping_time(o),
                    "ListingPrice": _money(price, currency),
                    "Shipping": _money(o.shipping, currency),
                    "ShipsFrom": {"Country": marketplace_country(marketplace_id)},
                    "IsFulfilledByAmazon": o.fba,
                    "IsBuyBoxWinner": o is winner,
                    "PrimeInformation": {"IsPrime": o.fba, "IsNationalPrime": o.fba},
                    "IsFeaturedMerchant": o.featured,
                }
                for o, price in offers
            ],
        }, at=at, notification_id=notification_id)


_COUNTRIES = {
    "A1PA6795UKMFR9": "DE", "A1F83G8C2ARO7P": "GB", "A13V1IB3VIYZZH": "FR",
    "APJ6JRA9NG5V4": "IT", "A1RKKUPIHCS9HS": "ES", "ATVPDKIKX0DER": "US",
}


def marketplace_country(marketplace_id: str) -> str:
    return _COUNTRIES.get(marketplace_id, "US")


# -- ORDER_CHANGE -----------------------------------------------------------------------


def order_change(
    *,
    seller_id: str,
    marketplace_id: str,
    amazon_order_id: str,
    order_item_id: str,
    sku: str,
    quantity: int,
    purchased_at: datetime,
    at: datetime,
    order_status: str = "Unshipped",
    fulfillment_type: str = "AFN",
    notification_id: str | None = None,
) -> dict[str, Any]:
    """The ``ORDER_CHANGE`` notification (order level) of a one-item order.

    Shape as Amazon sends it (``domain/samples/real/order_change*.json``): the order's
    status after the change, its items with ``SellerSKU`` and ``Quantity``. An FBA order
    is ``AFN``; it turns ``Unshipped`` once paid (``Pending`` before), which is the
    change the simulator emits, one per order.
    """
    published = at + timedelta(milliseconds=1500)
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": _iso(at),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": seller_id,
                "AmazonOrderId": amazon_order_id,
                "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": {
                    "TimeOfOrderChange": _iso(at),
                    "ChangeReason": "Order Status Change",
                },
                "Summary": {
                    "MarketplaceId": marketplace_id,
                    "OrderStatus": order_status,
                    "PurchaseDate": _iso(purchased_at),
                    "DestinationPostalCode": None,
                    "FulfillmentType": fulfillment_type,
                    "OrderType": "StandardOrder",
                    "OrderPrograms": [],
                    "ShippingPrograms": [],
                    "OrderItems": [{
                        "OrderItemId": order_item_id,
                        "SellerSKU": sku,
                        "SupplySourceId": None,
                        "Quantity": quantity,
                    }],
                },
            }
        },
        "NotificationMetadata": {
            "ApplicationId": APPLICATION_ID,
            "SubscriptionId": "sim-subscription-order-change",
            "PublishTime": _iso(published),
            "NotificationId": notification_id or str(uuid.uuid4()),
        },
    }
