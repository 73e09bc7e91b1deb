"""Price submissions as data: the merge patch, feed documents and their limits, reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from functions.core.money import Money
from functions.reprice.logic.submission import (
    MAX_FEED_BYTES,
    MAX_FEED_MESSAGES,
    as_retry,
    attempt_of,
    build_feeds,
    feed_message,
    listing_patches,
    next_feed_at,
    parse_processing_report,
)
from functions.reprice.price_update import PriceUpdate, QuantityTier

DE = "A1PA6795UKMFR9"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def update(sku="MUG-1", price="18.90", low="15.00", high="29.00", **extra) -> PriceUpdate:
    values = {
        "seller_id": "A2SELLERDE01", "marketplace_id": DE, "sku": sku,
        "price": Money.of(price, "EUR"), "min_price": Money.of(low, "EUR"),
        "max_price": Money.of(high, "EUR"), "decided_at": T0, "source": "n-1",
    }
    values.update(extra)
    return PriceUpdate(**values)


def test_patch_is_a_merge_of_purchasable_offer_with_price_and_mirrored_bounds():
    # repricing.md §4.1, value for value.
    assert json.loads(json.dumps(listing_patches(update()), default=str)) == [
        {"op": "merge", "path": "/attributes/purchasable_offer", "value": [
            {"marketplace_id": DE, "currency": "EUR", "audience": "ALL",
             "our_price": [{"schedule": [{"value_with_tax": "18.90"}]}],
             "minimum_seller_allowed_price": [{"schedule": [{"value_with_tax": "15.00"}]}],
             "maximum_seller_allowed_price": [{"schedule": [{"value_with_tax": "29.00"}]}]},
        ]},
    ]


def test_business_price_adds_a_b2b_entry_with_a_fixed_quantity_discount_plan():
    patch = listing_patches(update(
        business_price=Money.of("17.50", "EUR"),
        quantity_tiers=(
            QuantityTier(quantity=10, price=Money.of("16.00", "EUR")),
            QuantityTier(quantity=5, price=Money.of("16.80", "EUR")),
        ),
    ))[0]
    consumer, business = patch["value"]
    assert consumer["audience"] == "ALL" and "quantity_discount_plan" not in consumer
    assert business["audience"] == "B2B"
    assert business["our_price"] == [{"schedule": [{"value_with_tax": Decimal("17.50")}]}]
    assert business["minimum_seller_allowed_price"] == consumer["minimum_seller_allowed_price"]
    assert business["quantity_discount_plan"] == [{"schedule": [{
        "discount_type": "fixed",
        "levels": [{"lower_bound": 5, "value": Decimal("16.80")},
                   {"lower_bound": 10, "value": Decimal("16.00")}],
    }]}]


def test_no_business_price_leaves_the_b2b_entry_alone():
    assert [e["audience"] for e in listing_patches(update())[0]["value"]] == ["ALL"]


def test_mixed_currencies_are_refused():
    with pytest.raises(ValueError, match="currencies"):
        listing_patches(update(min_price=Money.of("15", "USD")))


def test_feed_message_shape():
    message = feed_message(update(), 7)
    assert {k: v for k, v in message.items() if k != "patches"} == {
        "messageId": 7, "sku": "MUG-1", "operationType": "PATCH", "productType": "PRODUCT",
    }
    assert message["patches"] == listing_patches(update())
    with pytest.raises(ValueError):
        feed_message(update(), 0)


def test_feed_document_carries_decimals_exactly():
    tricky = update(price="0.1", low="0.05", high="12345678901234567890.123456789")
    (feed,) = build_feeds([tricky])
    text = feed.content.decode()
    assert '"value_with_tax":0.1}' in text
    assert "12345678901234567890.123456789" in text
    document = json.loads(feed.content, parse_float=Decimal)
    assert document["header"] == {"sellerId": "A2SELLERDE01", "version": "2.0",
                                  "issueLocale": "en_US"}
    offer = document["messages"][0]["patches"][0]["value"][0]
    assert offer["our_price"][0]["schedule"][0]["value_with_tax"] == Decimal("0.1")
    assert feed.message_ids() == {1: tricky}


def test_feeds_split_on_message_count_with_ids_restarting():
    updates = [update(sku=f"S{i}") for i in range(7)]
    feeds = build_feeds(updates, max_messages=3)
    assert [len(f.messages) for f in feeds] == [3, 3, 1]
    assert [u for f in feeds for u in f.messages] == updates
    for feed in feeds:
        ids = [m["messageId"] for m in json.loads(feed.content)["messages"]]
        assert ids == list(range(1, len(feed.messages) + 1))


def test_feeds_split_below_the_size_limit():
    updates = [update(sku=f"SKU-{i:05d}") for i in range(60)]
    one = len(build_feeds(updates[:1])[0].content)
    limit = one * 10
    feeds = build_feeds(updates, max_bytes=limit)
    assert len(feeds) > 1
    assert all(len(f.content) < limit for f in feeds)
    assert sum(len(f.messages) for f in feeds) == 60
    for feed in feeds:  # each is a complete, valid document
        assert len(json.loads(feed.content)["messages"]) == len(feed.messages)


def test_amazon_limits_cap_what_callers_ask_for():
    assert MAX_FEED_MESSAGES == 25_000 and MAX_FEED_BYTES == 10 * 1024 * 1024
    feeds = build_feeds([update(sku=f"S{i}") for i in range(3)], max_messages=10**9)
    assert len(feeds) == 1
    with pytest.raises(ValueError, match="size limit"):
        build_feeds([update()], max_bytes=100)
    with pytest.raises(ValueError, match="one seller"):
        build_feeds([update(), update(marketplace_id="A13V1IB3VIYZZH")])
    assert build_feeds([]) == []


def test_processing_report_per_message():
    # Shape of listings-feed-processing-report-schema-v2 (amzn/selling-partner-api-models).
    report = {
        "header": {"sellerId": "A2SELLERDE01", "version": "2.0", "feedId": "123"},
        "issues": [
            {"messageId": 2, "sku": "B", "code": "99022", "severity": "ERROR",
             "message": "The value for 'our_price' must be a positive number.",
             "attributeName": "purchasable_offer.our_price"},
            {"messageId": 3, "sku": "C", "code": "InternalFailure", "severity": "ERROR",
             "message": "An internal error occurred. Please try again."},
            {"messageId": 1, "sku": "A", "code": "18448", "severity": "WARNING",
             "message": "relevant attributes incomplete"},
        ],
        "summary": {"errors": 2, "warnings": 1, "messagesProcessed": 3,
                    "messagesAccepted": 1, "messagesInvalid": 2},
    }
    parsed = parse_processing_report(report, [1, 2, 3, 4])
    assert parsed.result(1).accepted and parsed.result(1).warnings
    assert not parsed.result(2).accepted and not parsed.result(2).retryable
    assert parsed.result(2).errors[0].attribute == "purchasable_offer.our_price"
    assert not parsed.result(3).accepted and parsed.result(3).retryable
    assert parsed.result(4).accepted


def test_feed_level_error_fails_every_message():
    report = {"header": {}, "issues": [{"code": "4000003", "severity": "ERROR",
                                        "message": "The feed is not valid JSON."}],
              "summary": {"messagesAccepted": 0}}
    parsed = parse_processing_report(report, [1, 2])
    assert not parsed.result(1).accepted and not parsed.result(2).accepted
    with pytest.raises(ValueError):
        parse_processing_report([], [1])


def test_retry_source_counts_attempts_and_keeps_the_decision():
    fresh = update()
    assert attempt_of(fresh) == 0
    again = as_retry(as_retry(fresh, 1), 2)
    assert again.source == "n-1|retry2" and attempt_of(again) == 2
    assert again.decided_at == fresh.decided_at and again.price == fresh.price
    assert again.deduplication_id() != fresh.deduplication_id()


def test_one_feed_per_interval():
    assert next_feed_at(None, min_interval=timedelta(seconds=120)) is None
    assert next_feed_at(T0, min_interval=timedelta(seconds=120)) == T0 + timedelta(minutes=2)
