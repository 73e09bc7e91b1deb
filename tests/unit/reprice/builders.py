"""Builders of SP-API notification dicts, shaped like ../shared/domain/samples/.

PascalCase as Amazon sends ANY_OFFER_CHANGED; amounts are Decimals (as
``json.loads(..., parse_float=Decimal)`` gives them).
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from functions.reprice.logic import ListingConfig

OUR = "A2OURSELLER001"
RIVAL = "A1COMPETFBA002"
RIVAL_FBM = "A3COMPETFBM003"
US = "ATVPDKIKX0DER"
ASIN = "B0EXAMPLE01"
T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)

_ids = itertools.count(1)


def money(amount: Any, currency: str = "USD") -> dict[str, Any]:
    return {"Amount": Decimal(str(amount)), "CurrencyCode": currency}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def offer(
    seller: str, price: Any, *, shipping: Any = "0.00", fba: bool = True, winner: bool = False,
    featured: bool = True, feedback: tuple[int, int] = (1000, 98), currency: str = "USD",
    points: Any = None, tiers: dict[int, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "SellerId": seller,
        "SubCondition": "new",
        "SellerFeedbackRating": {"FeedbackCount": feedback[0],
                                 "SellerPositiveFeedbackRating": feedback[1]},
        "ShippingTime": {"MinimumHours": 0, "MaximumHours": 0, "AvailabilityType": "NOW",
                         "AvailableDate": ""},
        "ListingPrice": money(price, currency),
        "Shipping": money(shipping, currency),
        "IsFulfilledByAmazon": fba,
        "IsBuyBoxWinner": winner,
        "PrimeInformation": {"IsOfferPrime": fba, "IsOfferNationalPrime": fba},
        "IsFeaturedMerchant": featured,
        "ShipsDomestically": True,
    }
    if points is not None:
        data["Points"] = {"PointsNumber": int(Decimal(str(points))),
                          "PointsMonetaryValue": money(points, currency)}
    if tiers:
        data["QuantityDiscountPrice"] = [
            {"QuantityTier": q, "QuantityDiscountType": "QUANTITY_DISCOUNT",
             "ListingPrice": money(p, currency)} for q, p in sorted(tiers.items())
        ]
    return data


def _landed(o: dict[str, Any]) -> Decimal:
    total = o["ListingPrice"]["Amount"] + o["Shipping"]["Amount"]
    if "Points" in o:
        total -= o["Points"]["PointsMonetaryValue"]["Amount"]
    return total


def aoc(
    offers: list[dict[str, Any]], *, seller: str = OUR, asin: str = ASIN,
    marketplace: str = US, condition: str = "new", toc: datetime = T0,
    event_time: datetime | None = None, nid: str | None = None,
    change_type: str | None = "Internal", buy_box: Any = "auto", threshold: Any = None,
    currency: str = "USD",
) -> dict[str, Any]:
    """An ANY_OFFER_CHANGED notification; the Buy Box row follows the flagged winner."""
    event_time = event_time or toc + timedelta(milliseconds=300)
    summary: dict[str, Any] = {
        "NumberOfOffers": [{"Condition": condition, "FulfillmentChannel": "Amazon",
                            "OfferCount": len(offers)}],
        "LowestPrices": [],
        "BuyBoxPrices": [],
    }
    if buy_box == "auto":
        winners = [o for o in offers if o.get("IsBuyBoxWinner")]
        buy_box = min((_landed(o) for o in winners), default=None)
    if buy_box is not None:
        summary["BuyBoxPrices"] = [{"Condition": condition.capitalize(),
                                    "LandedPrice": money(buy_box, currency),
                                    "ListingPrice": money(buy_box, currency),
                                    "Shipping": money(0, currency)}]
    if threshold is not None:
        summary["CompetitivePriceThreshold"] = money(threshold, currency)
    trigger: dict[str, Any] = {"MarketplaceId": marketplace, "ASIN": asin,
                               "ItemCondition": condition, "TimeOfOfferChange": iso(toc)}
    if change_type is not None:
        trigger["OfferChangeType"] = change_type
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ANY_OFFER_CHANGED",
        "PayloadVersion": "1.0",
        "EventTime": iso(event_time),
        "NotificationMetadata": {
            "ApplicationId": "amzn1.sellerapps.app.test",
            "SubscriptionId": "sub-aoc",
            "PublishTime": iso(event_time + timedelta(milliseconds=300)),
            "NotificationId": nid or f"aoc-{next(_ids)}",
        },
        "Payload": {"AnyOfferChangedNotification": {
            "SellerId": seller, "OfferChangeTrigger": trigger, "Summary": summary,
            "Offers": offers,
        }},
    }


def b2b(
    offers: list[dict[str, Any]], tier_winners: dict[int, tuple[str, Any]], *,
    seller: str = OUR, asin: str = ASIN, marketplace: str = US, toc: datetime = T0,
    nid: str | None = None, currency: str = "USD",
) -> dict[str, Any]:
    """A B2B_ANY_OFFER_CHANGED notification; ``tier_winners`` = {tier: (seller, price)}."""
    rows = []
    for tier, (winner, price) in sorted(tier_winners.items()):
        row: dict[str, Any] = {"Condition": "new", "OfferType": "B2B", "QuantityTier": tier,
                               "ListingPrice": money(price, currency), "SellerId": winner}
        if tier == 1:
            row["LandedPrice"] = money(price, currency)
            row["Shipping"] = money(0, currency)
        else:
            row["DiscountType"] = "QUANTITY_DISCOUNT"
        rows.append(row)
    event_time = toc + timedelta(milliseconds=300)
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "B2B_ANY_OFFER_CHANGED",
        "PayloadVersion": "1.0",
        "EventTime": iso(event_time),
        "NotificationMetadata": {"NotificationId": nid or f"b2b-{next(_ids)}",
                                 "PublishTime": iso(event_time)},
        "Payload": {"B2BAnyOfferChangedNotification": {
            "SellerId": seller,
            "OfferChangeTrigger": {"MarketplaceId": marketplace, "ASIN": asin,
                                   "ItemCondition": "new", "TimeOfOfferChange": iso(toc)},
            "Summary": {"BuyBoxEligibleOffers": [], "LowestPrices": [], "BuyBoxPrices": rows},
            "Offers": offers,
        }},
    }


def order_change(
    items: list[tuple[str, str, int]], *, status: str = "Unshipped", seller: str = OUR,
    marketplace: str = US, at: datetime = T0, purchased: datetime | None = None,
    order_id: str = "111-0000000-0000001", nid: str | None = None,
) -> dict[str, Any]:
    """An ORDER_CHANGE notification; ``items`` = [(OrderItemId, SellerSKU, Quantity)]."""
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": iso(at),
        "Payload": {"OrderChangeNotification": {
            "NotificationLevel": "OrderLevel",
            "SellerId": seller,
            "AmazonOrderId": order_id,
            "OrderChangeType": "OrderStatusChange",
            "OrderChangeTrigger": {"TimeOfOrderChange": iso(at),
                                   "ChangeReason": "Order Status Change"},
            "Summary": {
                "MarketplaceId": marketplace, "OrderStatus": status,
                "PurchaseDate": iso(purchased or at), "FulfillmentType": "AFN",
                "OrderType": "StandardOrder",
                "OrderItems": [{"OrderItemId": i, "SellerSKU": s, "SupplySourceId": None,
                                "Quantity": q} for i, s, q in items],
            },
        }},
        "NotificationMetadata": {"NotificationId": nid or f"order-{next(_ids)}",
                                 "PublishTime": iso(at)},
    }


def camel(data: Any) -> Any:
    """The same document with camelCase keys (as PRICING_HEALTH and older B2B docs use)."""
    if isinstance(data, dict):
        return {(k[:1].lower() + k[1:]): camel(v) for k, v in data.items()}
    if isinstance(data, list):
        return [camel(v) for v in data]
    return data


def config(**overrides: Any) -> ListingConfig:
    """A Buy Box listing for the builders' ASIN, seller and marketplace (20.00–30.00 USD)."""
    values: dict[str, Any] = {
        "sku": "SKU-1", "asin": ASIN, "marketplace_id": US, "condition": "new",
        "fulfillment": "FBA", "strategy": "buybox", "min_price": "20.00",
        "max_price": "30.00", "currency": "USD",
    }
    values.update(overrides)
    return ListingConfig.model_validate(values)


def run(data: dict[str, Any], cfg: ListingConfig, state: Any = None, now: datetime | None = None):
    """parse → match → view → decide for the one SKU ``cfg``; returns the Decision."""
    from functions.reprice.logic import (
        RepricingState,
        decide,
        market_view,
        match,
        parse_notification,
    )

    notification = parse_notification(data)
    payload = notification.offer_change
    state = state or RepricingState()
    result = match(payload, [cfg], {cfg.key: state})
    assert len(result.matched) == 1, result
    view = market_view(payload, cfg, result.matched[0].our_offer)
    return decide(view, cfg, state, now or notification.occurred_at)


def to_json(data: Any) -> str:
    """One JSON line as Amazon writes it: amounts as JSON numbers."""
    return json.dumps(data, default=_number, separators=(",", ":"))


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # repr of the float is the decimal text for these amounts
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
