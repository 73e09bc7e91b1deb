"""Parsing SP-API notifications leniently (repricing.md §1.6) — on the documented samples,
the real ones (read in place, skipped when absent) and hand-built variants."""

from __future__ import annotations

import copy
import json
from datetime import UTC
from decimal import Decimal

import pytest

from functions.core.money import CurrencyMismatch, Money
from functions.reprice.logic import (
    ANY_OFFER_CHANGED,
    AnyOfferChanged,
    B2BAnyOfferChanged,
    NotificationError,
    OrderChange,
    parse_notification,
)
from functions.reprice.logic.notifications import Points, landed, normalise_condition

from .builders import aoc, camel, money, offer


def test_any_offer_changed_sample(sample):
    n = parse_notification(sample("any_offer_changed.json"))
    assert n.notification_type == ANY_OFFER_CHANGED and n.is_handled
    assert n.notification_id == "b7e4a1c2-9d3f-4e8a-a6b5-1c2d3e4f5a6b"
    assert n.event_time is not None and n.event_time.tzinfo == UTC
    p = n.offer_change
    assert isinstance(p, AnyOfferChanged) and not p.is_b2b
    assert (p.seller_id, p.asin, p.marketplace_id, p.condition) == (
        "A2OURSELLER001", "B0EXAMPLE01", "ATVPDKIKX0DER", "new")
    assert p.change_type == "Internal"
    # "New" in BuyBoxPrices is lower-cased like the other conditions
    assert [row.condition for row in p.summary.buy_box_prices] == ["new"]
    assert p.summary.competitive_price_threshold == Money.of("25.97", "USD")
    ours = p.our_offers()
    assert len(ours) == 1 and ours[0].channel == "FBA" and ours[0].is_winner is False
    fbm = p.offers[3]
    # landed = listing + shipping, exact decimals
    assert fbm.landed == Money.of("21.95", "USD") + Money.of("4.99", "USD")
    assert fbm.channel == "FBM"
    assert p.offers[2].is_featured_merchant is False


def test_sqs_event_body_parses_to_the_same_notification(sample):
    event = sample("sqs_event_any_offer_changed.json")
    body = json.loads(event["Records"][0]["body"], parse_float=Decimal)
    assert parse_notification(body) == parse_notification(sample("any_offer_changed.json"))


def test_camel_case_keys_parse_like_pascal_case(sample):
    data = sample("any_offer_changed.json")
    assert parse_notification(camel(data)).offer_change == parse_notification(data).offer_change


def test_floats_still_give_exact_amounts(sample):
    data = sample("any_offer_changed.json")
    as_floats = json.loads(json.dumps(data, default=float))
    parsed = parse_notification(as_floats).offer_change
    assert parsed.offers[0].listing_price.amount == Decimal("24.49")


def test_b2b_sample(sample):
    n = parse_notification(sample("b2b_any_offer_changed.json"))
    p = n.offer_change
    assert isinstance(p, B2BAnyOfferChanged) and p.is_b2b
    tiers = {row.tier: (row.seller_id, row.listing_price.amount)
             for row in p.summary.buy_box_prices}
    assert tiers[10][0] == p.seller_id  # we win tier 10
    assert {q for q, (s, _) in tiers.items() if s != p.seller_id} == {1, 5, 20}
    assert all(row.offer_type == "B2B" for row in p.summary.buy_box_prices)
    ours = p.our_offers()[0]
    assert [q.quantity_tier for q in ours.quantity_discount_price] == [10]
    # B2B spells Prime "IsPrime": read as is_offer_prime
    assert ours.prime_information.is_offer_prime is True
    assert len(p.summary.buy_box_eligible_offers) == 2


def test_pricing_health_is_kept_as_an_unhandled_type(sample):
    n = parse_notification(sample("pricing_health.json"))
    assert n.notification_type == "PRICING_HEALTH"
    assert not n.is_handled and n.payload is None
    assert n.notification_id == "e1d2c3b4-a596-4877-8a6b-5c4d3e2f1a0b"
    assert n.raw_payload["issueType"] == "BuyBoxDisqualification"


def test_real_any_offer_changed(real_sample):
    n = parse_notification(real_sample("any_offer_changed.peddler.json"))
    p = n.offer_change
    assert p.asin == "B0TEST1234" and len(p.offers) == 7
    # the receiving seller has two offers of this ASIN here (one winning)
    assert len(p.our_offers()) == 2
    assert sum(o.is_winner for o in p.our_offers()) == 1
    assert {row.condition for row in p.summary.buy_box_prices} == {"new", "used"}
    assert p.offers[3].shipping_time.available_date == "2024-12-23T19:12:00.000Z"
    assert p.offers[0].shipping_time.available_date is None  # "" is no date


def test_real_b2b_with_points_number_only(real_sample):
    p = parse_notification(real_sample("b2b_any_offer_changed.peddler.json")).offer_change
    assert p.is_b2b and p.offers[0].points.points_number == 50
    row = p.summary.buy_box_prices[0]
    assert row.landed == Money.of("8188.72", "USD")  # LandedPrice given wins
    assert [r.tier for r in p.summary.buy_box_prices] == [1, 20, 30]


@pytest.mark.parametrize("name", ["order_change.peddler.json",
                                  "order_change_shipped.spapi-samples.json"])
def test_real_order_change(real_sample, name):
    data = real_sample(name)
    n = parse_notification(data)
    order = n.order_change
    assert isinstance(order, OrderChange)
    item = data["Payload"]["OrderChangeNotification"]["Summary"]["OrderItems"][0]
    assert order.summary.order_items[0].seller_sku == item["SellerSKU"]
    assert order.summary.order_items[0].quantity == item["Quantity"]
    assert order.summary.purchase_date.tzinfo == UTC
    assert not order.is_canceled


@pytest.mark.parametrize("name", ["listings_item_status_change.peddler.json",
                                  "report_processing_finished.peddler.json",
                                  "feed_processing_finished.peddler.json"])
def test_real_unhandled_types(real_sample, name):
    n = parse_notification(real_sample(name))
    assert not n.is_handled and n.notification_id


def test_jp_points_lower_the_landed_price():
    data = aoc([offer("R1", "1500", shipping="0", points="15", currency="JPY", winner=True)],
               marketplace="A1VC38T7YXB528", currency="JPY")
    rival = parse_notification(data).offer_change.offers[0]
    assert rival.landed == Money.of("1485", "JPY")


def test_landed_adds_shipping_subtracts_points_and_refuses_mixed_currencies():
    eur = Money.of("20.00", "EUR")
    assert landed(eur, Money.of("3.49", "EUR"), None) == Money.of("23.49", "EUR")
    assert landed(eur, None, None) == eur
    assert landed(None, Money.of("3.49", "EUR"), None) is None
    points = Points(points_number=2, points_monetary_value=Money.of("0.50", "EUR"))
    assert landed(eur, Money.of("1.00", "EUR"), points) == Money.of("20.50", "EUR")
    with pytest.raises(CurrencyMismatch):
        landed(eur, Money.of("3.49", "USD"), None)
    with pytest.raises(CurrencyMismatch):
        landed(eur, None, Points(points_monetary_value=Money.of("1", "USD")))


def test_unknown_enum_values_and_extra_fields_are_kept_or_ignored():
    data = aoc([offer("R1", "21.00", winner=True)], change_type="SomethingNew")
    data["Payload"]["AnyOfferChangedNotification"]["Offers"][0]["Brand New Field"] = {"x": 1}
    data["Payload"]["AnyOfferChangedNotification"]["Offers"][0]["FulfillmentChannel"] = "Drone"
    p = parse_notification(data).offer_change
    assert p.change_type == "SomethingNew"


def test_empty_offer_change_type_is_none():
    p = parse_notification(aoc([], change_type="")).offer_change
    assert p.change_type is None and p.offers == []


def _without(data, *path):
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return data


_AOC = ("Payload", "AnyOfferChangedNotification")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("NotificationMetadata", "NotificationId"), "NotificationMetadata.NotificationId"),
        (("NotificationType",), "NotificationType"),
        ((*_AOC, "SellerId"), "SellerId"),
        ((*_AOC, "OfferChangeTrigger", "ASIN"), "OfferChangeTrigger.ASIN"),
        ((*_AOC, "OfferChangeTrigger", "TimeOfOfferChange"),
         "OfferChangeTrigger.TimeOfOfferChange"),
        ((*_AOC, "OfferChangeTrigger", "MarketplaceId"), "OfferChangeTrigger.MarketplaceId"),
        ((*_AOC, "Offers", 0, "ListingPrice", "CurrencyCode"), "Offers.0.ListingPrice"),
        (("Payload", "AnyOfferChangedNotification"), "Payload.AnyOfferChangedNotification"),
    ],
)
def test_what_cannot_be_acted_on_is_rejected_naming_the_field(path, field):
    data = _without(aoc([offer("R1", "21.00", winner=True)]), *path)
    with pytest.raises(NotificationError) as caught:
        parse_notification(data)
    assert caught.value.field.endswith(field)
    assert field in str(caught.value)


def test_money_without_currency_says_so():
    data = aoc([offer("R1", "21.00", winner=True)])
    data["Payload"]["AnyOfferChangedNotification"]["Offers"][0]["Shipping"] = {"Amount": 1}
    with pytest.raises(NotificationError, match="money without CurrencyCode"):
        parse_notification(data)


def test_mixed_currencies_in_one_offer_are_rejected():
    data = aoc([offer("R1", "21.00", winner=True)])
    data["Payload"]["AnyOfferChangedNotification"]["Offers"][0]["Shipping"] = money(1, "EUR")
    with pytest.raises(NotificationError, match="different currencies"):
        parse_notification(data)


@pytest.mark.parametrize("bad", [[], "text", None, 3])
def test_non_objects_are_rejected(bad):
    with pytest.raises(NotificationError):
        parse_notification(bad)


def test_bad_timestamp_is_rejected():
    data = aoc([])
    data["Payload"]["AnyOfferChangedNotification"]["OfferChangeTrigger"][
        "TimeOfOfferChange"] = "yesterday"
    with pytest.raises(NotificationError, match="TimeOfOfferChange"):
        parse_notification(data)


def test_unhandled_type_needs_no_id():
    n = parse_notification({"NotificationType": "FBA_INVENTORY_AVAILABILITY_CHANGES",
                            "Payload": {"x": 1}})
    assert not n.is_handled and n.notification_id is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("New", "new"), ("new_new", "new"), ("UsedLikeNew", "used"), ("used_very_good", "used"),
     ("Collectible", "collectible"), ("club_club", "club"), ("  REFURBISHED ", "refurbished"),
     ("mystery", "mystery"), ("", None), (None, None)],
)
def test_conditions_normalise(raw, expected):
    assert normalise_condition(raw) == expected


def test_unhandled_type_of_any_shape_is_acknowledged_not_rejected():
    n = parse_notification({"notificationType": "Some_New_Type", "eventTime": "not a time",
                            "payload": [1, 2], "notificationMetadata": {"notificationId": "n1"}})
    assert (n.notification_type, n.notification_id, n.is_handled) == ("SOME_NEW_TYPE", "n1",
                                                                      False)
