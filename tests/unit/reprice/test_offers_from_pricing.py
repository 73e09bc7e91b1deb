"""getItemOffersBatch answers → the offer-change view the strategies take
(functions/reprice/logic/offers_from_pricing.py).

The response below is hand-made on the documented Product Pricing v0 shape
(``GetItemOffersBatchResponse`` → ``ItemOffersResponse`` {headers, status, body
{payload: GetOffersResult, errors}, request}), with the casing real answers mix: PascalCase
``Summary``/``Offers`` fields, camelCase ``condition``/``fulfillmentChannel``/``minimumHours``,
``MarketplaceID``; our offer flagged ``MyOffer`` without a ``SellerId``; a B2B Buy Box row.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from functions.core.money import Money
from functions.reprice.logic import RepricingState, decide, market_view, match
from functions.reprice.logic.offers_from_pricing import (
    item_condition_param,
    offer_changes_from_batch,
)

from .builders import OUR, RIVAL, US, config

READ_AT = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
RESPONSE = """
{"responses": [
  {"headers": {"x-amzn-RequestId": "3d3e1d1a-0000-4000-8000-000000000001",
               "Date": "Sat, 21 Nov 2026 09:30:00 GMT"},
   "status": {"statusCode": 200, "reasonPhrase": "OK"},
   "body": {"payload": {
     "MarketplaceID": "ATVPDKIKX0DER", "ASIN": "B0EXAMPLE01", "ItemCondition": "New",
     "status": "Success",
     "Identifier": {"MarketplaceId": "ATVPDKIKX0DER", "ASIN": "B0EXAMPLE01",
                    "ItemCondition": "New"},
     "Summary": {
       "TotalOfferCount": 3,
       "NumberOfOffers": [{"condition": "new", "fulfillmentChannel": "Amazon", "OfferCount": 2},
                          {"condition": "new", "fulfillmentChannel": "Merchant",
                           "OfferCount": 1}],
       "LowestPrices": [{"condition": "new", "fulfillmentChannel": "Amazon",
                         "LandedPrice": {"CurrencyCode": "USD", "Amount": 24.49},
                         "ListingPrice": {"CurrencyCode": "USD", "Amount": 24.49},
                         "Shipping": {"CurrencyCode": "USD", "Amount": 0.00}}],
       "BuyBoxPrices": [
         {"condition": "New", "offerType": "B2B", "quantityTier": 1,
          "LandedPrice": {"CurrencyCode": "USD", "Amount": 21.00},
          "ListingPrice": {"CurrencyCode": "USD", "Amount": 21.00},
          "Shipping": {"CurrencyCode": "USD", "Amount": 0.00}, "sellerId": "A5BIZSELLER05"},
         {"condition": "New",
          "LandedPrice": {"CurrencyCode": "USD", "Amount": 24.49},
          "ListingPrice": {"CurrencyCode": "USD", "Amount": 24.49},
          "Shipping": {"CurrencyCode": "USD", "Amount": 0.00}}],
       "BuyBoxEligibleOffers": [{"condition": "new", "fulfillmentChannel": "Amazon",
                                 "OfferCount": 2}],
       "ListPrice": {"CurrencyCode": "USD", "Amount": 34.99},
       "SalesRankings": [{"ProductCategoryId": "kitchen_display_on_website", "Rank": 1187}]},
     "Offers": [
       {"SellerId": "A1COMPETFBA002", "SubCondition": "new",
        "SellerFeedbackRating": {"SellerPositiveFeedbackRating": 98.0, "FeedbackCount": 4210},
        "ShippingTime": {"minimumHours": 0, "maximumHours": 0, "availabilityType": "NOW"},
        "ListingPrice": {"CurrencyCode": "USD", "Amount": 24.49},
        "Shipping": {"CurrencyCode": "USD", "Amount": 0.00},
        "IsFulfilledByAmazon": true, "IsBuyBoxWinner": true, "IsFeaturedMerchant": true,
        "PrimeInformation": {"IsPrime": true, "IsNationalPrime": true}},
       {"MyOffer": true, "SubCondition": "new",
        "SellerFeedbackRating": {"SellerPositiveFeedbackRating": 99.0, "FeedbackCount": 1877},
        "ShippingTime": {"minimumHours": 0, "maximumHours": 0, "availabilityType": "NOW"},
        "ListingPrice": {"CurrencyCode": "USD", "Amount": 24.99},
        "Shipping": {"CurrencyCode": "USD", "Amount": 0.00},
        "IsFulfilledByAmazon": true, "IsBuyBoxWinner": false, "IsFeaturedMerchant": true},
       {"SellerId": "A3COMPETFBM003", "SubCondition": "new",
        "ShippingTime": {"minimumHours": 24, "maximumHours": 48, "availabilityType": "NOW"},
        "ListingPrice": {"CurrencyCode": "USD", "Amount": 21.95},
        "Shipping": {"CurrencyCode": "USD", "Amount": 4.99},
        "ShipsFrom": {"Country": "US"},
        "IsFulfilledByAmazon": false, "IsBuyBoxWinner": false, "IsFeaturedMerchant": true}]}},
   "request": {"MarketplaceId": "ATVPDKIKX0DER", "Asin": "B0EXAMPLE01",
               "ItemCondition": "New", "CustomerType": "Consumer"}},
  {"status": {"statusCode": 400, "reasonPhrase": "Bad Request"},
   "body": {"errors": [{"code": "InvalidInput", "message": "Invalid ASIN B0NOTANASIN"}]},
   "request": {"MarketplaceId": "ATVPDKIKX0DER", "Asin": "B0NOTANASIN",
               "ItemCondition": "New"}},
  {"status": {"statusCode": 200, "reasonPhrase": "OK"},
   "body": {"payload": {"marketplaceId": "ATVPDKIKX0DER", "ASIN": "B0SOLDOUT01",
                        "ItemCondition": "New", "status": "NoBuyableOffers",
                        "Identifier": {"ASIN": "B0SOLDOUT01", "MarketplaceId": "ATVPDKIKX0DER",
                                       "ItemCondition": "New"},
                        "Summary": {"TotalOfferCount": 0}, "Offers": []}},
   "request": {"MarketplaceId": "ATVPDKIKX0DER", "ItemCondition": "New",
               "Asin": "B0SOLDOUT01"}}
]}
"""


def reads():
    return offer_changes_from_batch(json.loads(RESPONSE, parse_float=Decimal),
                                    seller_id=OUR, read_at=READ_AT)


def test_every_entry_is_read_in_order():
    found = reads()
    assert [(r.asin, r.marketplace_id, r.condition) for r in found] == [
        ("B0EXAMPLE01", US, "new"), ("B0NOTANASIN", US, "new"), ("B0SOLDOUT01", US, "new")]
    assert found[0].payload is not None and found[0].problem is None
    assert found[1].payload is None and "status 400" in found[1].problem
    assert "InvalidInput: Invalid ASIN B0NOTANASIN" in found[1].problem
    assert found[2].payload is None and "NoBuyableOffers" in found[2].problem


def test_the_payload_is_the_offer_change_view_of_our_seller_at_the_read_time():
    payload = reads()[0].payload
    assert payload.seller_id == OUR
    assert (payload.asin, payload.marketplace_id, payload.condition) == ("B0EXAMPLE01", US, "new")
    assert payload.time_of_offer_change == READ_AT and payload.change_type is None
    (ours,) = payload.our_offers()
    assert ours.listing_price == Money(Decimal("24.99"), "USD") and ours.channel == "FBA"
    assert [o.seller_id for o in payload.offers] == [RIVAL, OUR, "A3COMPETFBM003"]
    assert payload.offers[0].shipping_time.minimum_hours == 0
    assert payload.offers[0].prime_information.is_offer_prime is True
    # the B2B Buy Box row is not the B2C Buy Box
    assert [r.landed for r in payload.summary.buy_box_prices] == [
        Money(Decimal("24.49"), "USD")]


def test_it_goes_through_matching_and_the_strategy_like_a_notification():
    payload = reads()[0].payload
    cfg = config(seller_id=OUR)
    result = match(payload, [cfg], {cfg.key: RepricingState()})
    (matched,) = result.matched
    view = market_view(payload, cfg, matched.our_offer)
    assert view.rival_winner is not None and view.rival_winner.seller_id == RIVAL
    decision = decide(view, cfg, RepricingState(), READ_AT)
    assert decision.action == "change" and decision.new_price == Money(Decimal("23.75"), "USD")


def test_the_simulators_answer_reads_too():
    from infra.simulator.spapi_server import FakeSellingPartnerApi

    api = FakeSellingPartnerApi(enforce_quotas=False)
    for seller, sku, price in ((RIVAL, "R-1", "23.10"), (OUR, "SKU-1", "24.00")):
        schedule = [{"value_with_tax": Decimal(price)}]
        api.put_listing(seller, sku, marketplace_id=US, asin="B0EXAMPLE01", attributes={
            "purchasable_offer": [{"marketplace_id": US, "currency": "USD", "audience": "ALL",
                                   "our_price": [{"schedule": schedule}]}]})
    payload = api.item_offers(US, "B0EXAMPLE01", "New", "Consumer", my_seller=OUR)
    response = {"responses": [{"status": {"statusCode": 200}, "body": {"payload": payload},
                               "request": {"Asin": "B0EXAMPLE01", "MarketplaceId": US}}]}
    (read,) = offer_changes_from_batch(response, seller_id=OUR, read_at=READ_AT)
    assert read.payload is not None
    assert [o.listing_price.amount for o in read.payload.our_offers()] == [Decimal("24.00")]


def test_garbage_is_a_problem_not_an_exception():
    (read,) = offer_changes_from_batch(
        {"responses": [{"status": {"statusCode": 200},
                        "body": {"payload": {"ASIN": "B0X", "Offers": [
                            {"SellerId": RIVAL, "ListingPrice": {"Amount": "1"}}]}},
                        "request": {"Asin": "B0X", "MarketplaceId": US,
                                    "ItemCondition": "New"}}]},
        seller_id=OUR, read_at=READ_AT)
    assert read.payload is None and "CurrencyCode" in read.problem
    assert offer_changes_from_batch({}, seller_id=OUR, read_at=READ_AT) == []


def test_item_condition_param():
    assert item_condition_param("new") == "New"
    assert item_condition_param("collectible") == "Collectible"
