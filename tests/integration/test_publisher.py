"""PublishPricesFunction end to end: SQS FIFO event → handler → moto tables + fake SP-API.

Client, server and handlers share one ManualClock: quota waits and backoff take no time.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.integration.publishing_harness import DE, OTHER_SELLER, SELLER, body_of, schedule

# the fixtures (aws, template, clock, harness)
pytest_plugins = ["tests.integration.publishing_fixtures"]


# -- urgent: patchListingsItem ------------------------------------------------------------------
def test_urgent_update_is_one_merge_patch_that_keeps_the_rest_of_the_listing(harness):
    harness.add_seller()
    harness.add_listing("MUG-1", price="19.90", low="15.00", high="29.00")

    failed = harness.publish(harness.update("MUG-1", "18.90", low="16.00", high="30.00",
                                            urgent=True))

    assert failed == []
    assert harness.api.api_calls("patchListingsItem") == 1
    assert harness.api.api_calls("createFeed") == 0
    listing = harness.api.listing(SELLER, "MUG-1")
    offer = harness.offer("MUG-1")
    assert offer["our_price"] == schedule("18.90")
    assert offer["minimum_seller_allowed_price"] == schedule("16.00")
    assert offer["maximum_seller_allowed_price"] == schedule("30.00")
    assert offer["start_at"] == {"value": "2025-01-01T00:00:00Z"}  # offer keys not sent: kept
    assert listing["attributes"]["item_name"][0]["value"] == "Item MUG-1"  # other attributes
    assert "fulfillment_availability" in listing["attributes"]
    (entry,) = harness.history("MUG-1", "submission")
    assert entry.payload["status"] == "submitted" and entry.payload["via"] == "patch"
    assert entry.payload["amazon_status"] == "ACCEPTED"
    assert entry.payload["request_id"] and entry.payload["submission_id"]
    assert entry.payload["price"] == "18.90" and entry.payload["min_price"] == "16.00"


def test_business_price_and_tiers_reach_the_b2b_offer(harness):
    harness.add_seller()
    harness.add_listing("MUG-1")
    harness.publish(harness.update("MUG-1", "18.90", urgent=True, business="17.90",
                                   tiers={5: "17.00", 10: "16.50"}))
    b2b = harness.offer("MUG-1", audience="B2B")
    assert b2b["our_price"] == schedule("17.90")
    assert b2b["quantity_discount_plan"][0]["schedule"][0]["levels"] == [
        {"lower_bound": 5, "value": Decimal("17.00")},
        {"lower_bound": 10, "value": Decimal("16.50")},
    ]
    assert harness.offer("MUG-1")["our_price"] == schedule("18.90")


# -- the rest: one feed -----------------------------------------------------------------------
def test_non_urgent_updates_go_out_as_one_feed_that_changes_the_listings(harness):
    harness.add_seller()
    for sku in ("A-1", "A-2", "A-3"):
        harness.add_listing(sku)

    failed = harness.publish(*(harness.update(sku, "21.00") for sku in ("A-1", "A-2", "A-3")))

    assert failed == []
    assert harness.api.api_calls("patchListingsItem") == 0
    assert harness.api.api_calls("createFeedDocument") == 1
    assert harness.api.api_calls("createFeed") == 1
    harness.drive_feeds()
    for sku in ("A-1", "A-2", "A-3"):
        assert harness.price(sku) == Decimal("21.00")
        assert harness.offer(sku)["maximum_seller_allowed_price"] == schedule("29.00")
    (feed_id,) = harness.api.feeds
    entry = harness.history("A-2", "submission")[-1]
    assert entry.payload["status"] == "submitted" and entry.payload["via"] == "feed"
    assert entry.payload["feed_id"] == feed_id and entry.payload["message_id"] == 2
    submission = harness.feeds.get(SELLER, feed_id)
    assert submission is not None and submission.message_count == 3
    assert [m.sku for m in harness.feeds.messages(submission)] == ["A-1", "A-2", "A-3"]
    assert harness.feeds.buffer(SELLER, DE).empty


def test_a_busy_seller_gets_one_feed_per_interval_and_nothing_is_lost(harness):
    harness.add_seller()
    for sku in ("B-1", "B-2"):
        harness.add_listing(sku)
    harness.publish(harness.update("B-1", "20.00"))
    harness.clock.advance(30)
    harness.publish(harness.update("B-2", "20.50"))  # staged: the last feed was 30 s ago
    assert harness.api.api_calls("createFeed") == 1
    assert not harness.feeds.buffer(SELLER, DE).empty

    harness.clock.advance(100)  # 130 s after the first feed
    harness.publish(harness.update("B-1", "20.10"))
    assert harness.api.api_calls("createFeed") == 2
    harness.drive_feeds()
    assert harness.price("B-1") == Decimal("20.10")
    assert harness.price("B-2") == Decimal("20.50")
    assert harness.feeds.buffer(SELLER, DE).empty


def test_the_schedule_flushes_a_waiting_buffer_through_the_sellers_fifo_group(
    harness, monkeypatch
):
    monkeypatch.setenv("PUBLISH_FEED_WINDOW_SECONDS", "60")
    harness.add_seller()
    harness.add_listing("C-1")
    harness.publish(harness.update("C-1", "22.00"))
    assert harness.api.api_calls("createFeed") == 0  # waiting for others to batch with

    harness.clock.advance(300)
    counts = harness.feed_results()
    assert counts["flush_requested"] == 1
    (flush,) = harness.queued()
    assert flush["attributes"]["MessageGroupId"] == SELLER
    assert body_of(flush)["kind"] == "flush_feed"

    assert harness.publish(flush) == []
    assert harness.api.api_calls("createFeed") == 1
    harness.drive_feeds()
    assert harness.price("C-1") == Decimal("22.00")


# -- coalescing ---------------------------------------------------------------------------------
def test_three_updates_for_one_sku_become_one_submission_of_the_latest(harness):
    harness.add_seller()
    harness.add_listing("MUG-1")
    first = harness.update("MUG-1", "18.00", urgent=True)
    second = harness.update("MUG-1", "18.50")
    third = harness.update("MUG-1", "18.70")

    assert harness.publish(third, first, second) == []  # arrival order does not matter

    assert harness.api.api_calls("patchListingsItem") == 1  # urgency is kept
    assert harness.api.api_calls("createFeed") == 0
    assert harness.price("MUG-1") == Decimal("18.70")
    assert harness.statuses("MUG-1") == ["submitted"]


def test_a_patch_removes_an_older_price_still_waiting_for_the_feed(harness, monkeypatch):
    monkeypatch.setenv("PUBLISH_FEED_WINDOW_SECONDS", "60")
    harness.add_seller()
    harness.add_listing("W-1")
    harness.add_listing("W-2")
    harness.publish(harness.update("W-1", "20.00"), harness.update("W-2", "20.00"))
    harness.publish(harness.update("W-1", "18.00", urgent=True))  # Buy Box lost meanwhile
    harness.clock.advance(300)
    harness.feed_results()
    harness.publish(*harness.queued())
    harness.drive_feeds()
    assert harness.price("W-1") == Decimal("18.00")  # not undone by the older 20.00
    assert harness.price("W-2") == Decimal("20.00")
    (feed_id,) = harness.api.feeds
    sent = harness.history("W-2", "submission")[-1].payload
    assert sent["feed_id"] == feed_id
    assert harness.statuses("W-1") == ["submitted"]  # only the patch


# -- switches -----------------------------------------------------------------------------------
def test_kill_switch_submits_nothing_records_everything_and_acknowledges(harness, monkeypatch):
    monkeypatch.setenv("REPRICER_KILL_SWITCH", "true")
    harness.add_seller()
    harness.add_listing("MUG-1")
    harness.add_listing("MUG-2")

    failed = harness.publish(harness.update("MUG-1", "18.00", urgent=True),
                             harness.update("MUG-2", "18.00"))

    assert failed == []  # acknowledged: they do not wait in the queue for the switch
    assert harness.api.api_calls() == 0
    assert harness.price("MUG-1") == Decimal("19.90")
    (entry,) = harness.history("MUG-1", "submission")
    assert entry.payload["status"] == "kill_switch"
    assert entry.payload["note"] == "kill switch: not submitted"
    assert harness.statuses("MUG-2") == ["kill_switch"]


def test_kill_switch_also_discards_what_was_waiting_for_a_feed(harness, monkeypatch):
    monkeypatch.setenv("PUBLISH_FEED_WINDOW_SECONDS", "60")
    harness.add_seller()
    harness.add_listing("MUG-1")
    harness.publish(harness.update("MUG-1", "18.00"))
    monkeypatch.setenv("REPRICER_KILL_SWITCH", "true")
    harness.clock.advance(600)
    harness.feed_results()
    (flush,) = harness.queued()
    assert harness.publish(flush) == []
    assert harness.api.api_calls("createFeed") == 0
    assert harness.statuses("MUG-1") == ["kill_switch"]
    assert harness.feeds.buffer(SELLER, DE).empty


@pytest.mark.parametrize("where", ["seller", "listing", "no account"])
def test_dry_run_records_the_price_and_submits_nothing(harness, where):
    if where != "no account":
        harness.add_seller(dry_run=where == "seller")
    harness.add_listing("MUG-1", dry_run=where == "listing")

    assert harness.publish(harness.update("MUG-1", "18.00", urgent=True),
                           harness.update("MUG-1", "18.10")) == []

    assert harness.api.api_calls() == 0
    (entry,) = harness.history("MUG-1", "submission")
    assert entry.payload["status"] == "dry_run" and entry.payload["price"] == "18.10"


def test_dry_run_is_read_at_submission_time(harness):
    harness.add_seller()
    harness.add_listing("MUG-1")
    update = harness.update("MUG-1", "18.00", urgent=True)  # decided while live...
    listing = harness.listings.get(SELLER, DE, "MUG-1")
    harness.listings.save(listing.evolve(dry_run=True), listing.version)  # ...then switched
    harness.publish(update)
    assert harness.api.api_calls() == 0
    assert harness.statuses("MUG-1") == ["dry_run"]


def test_paused_listing_is_not_submitted(harness):
    harness.add_seller()
    harness.add_listing("MUG-1", paused=True)
    harness.publish(harness.update("MUG-1", "18.00", urgent=True))
    assert harness.api.api_calls() == 0
    assert harness.statuses("MUG-1") == ["paused"]


# -- quotas and errors -----------------------------------------------------------------------------
def test_a_burst_of_urgent_changes_and_429s_is_absorbed_without_losing_a_change(harness):
    harness.add_seller()
    skus = [f"U-{i:02d}" for i in range(12)]
    for sku in skus:
        harness.add_listing(sku)
    harness.api.inject_fault("patchListingsItem", status=429, count=3)

    failed = harness.publish(*(harness.update(sku, "17.77", urgent=True) for sku in skus[:10]))
    failed += harness.publish(*(harness.update(sku, "17.77", urgent=True) for sku in skus[10:]))

    assert failed == []
    assert harness.api.throttled("patchListingsItem") == 3  # the injected burst, retried
    assert all(harness.price(sku) == Decimal("17.77") for sku in skus)
    # 12 patches in a 5 rps / burst 5 bucket: the client waited instead of being refused.
    assert harness.clock.slept >= 1.0
    assert all(harness.statuses(sku) == ["submitted"] for sku in skus)


def test_when_the_patch_budget_is_spent_urgent_changes_overflow_into_the_feed(harness):
    from functions.core.spapi import RateLimiter, SpApiClient, StaticCredentials
    from functions.reprice import publisher
    from tests.integration.publishing_harness import CLIENT_ID, CLIENT_SECRET, TOKENS

    # Amazon granted this seller less than the default plan (0.5 rps, burst 2), and, as in
    # Lambda, the limiter may not make a caller wait long (max_wait).
    harness.api.set_quota("patchListingsItem", 0.5, 2)
    client = SpApiClient(
        StaticCredentials(CLIENT_ID, CLIENT_SECRET, TOKENS),
        endpoint=harness.server.url, lwa_endpoint=harness.server.url,
        rate_limiter=RateLimiter({"patchListingsItem": (0.5, 2)}, clock=harness.clock,
                                 sleep=harness.clock.sleep, max_wait=1.0),
        clock=harness.clock, sleep=harness.clock.sleep,
    )
    publisher.use(client=client)
    harness.add_seller()
    skus = [f"V-{i}" for i in range(10)]
    for sku in skus:
        harness.add_listing(sku)

    assert harness.publish(*(harness.update(sku, "17.00", urgent=True) for sku in skus)) == []

    # the burst of 2 was patched; waiting 2 s for a third is over max_wait: to the feed
    patched = harness.api.api_calls("patchListingsItem")
    assert patched == 2 and harness.api.throttled() == 0
    assert harness.api.api_calls("createFeed") == 1
    harness.drive_feeds()
    assert all(harness.price(sku) == Decimal("17.00") for sku in skus)
    vias = [harness.history(sku, "submission")[-1].payload["via"] for sku in skus]
    assert vias.count("patch") == patched and vias.count("feed") == 10 - patched


def test_throttled_after_retries_fails_that_record_and_the_rest_of_its_group(harness):
    harness.add_seller()
    harness.add_seller(OTHER_SELLER)
    for sku in ("T-1", "T-2", "T-3"):
        harness.add_listing(sku)
    harness.add_listing("O-1", seller_id=OTHER_SELLER)
    ok = harness.record(harness.update("T-1", "18.00"))  # for the feed
    harness.api.inject_fault("patchListingsItem", status=429, count=5)  # T-2: every attempt
    throttled = harness.record(harness.update("T-2", "18.00", urgent=True))
    after = harness.record(harness.update("T-3", "18.00", urgent=True))
    other = harness.record(harness.update("O-1", "18.00", seller_id=OTHER_SELLER),
                           group=OTHER_SELLER)

    failed = harness.publish(ok, throttled, after, other)

    assert failed == [throttled["messageId"], after["messageId"]]
    assert harness.api.api_calls("patchListingsItem") == 5  # T-3 not even tried
    assert harness.price("T-2") == Decimal("19.90")
    assert harness.statuses("T-2") == ["retrying"]
    assert harness.statuses("T-3") == ["retrying"]
    assert harness.statuses("T-1") == ["submitted"]  # by feed, before the failure
    assert harness.statuses("O-1") == []  # another seller's group: unaffected
    assert harness.history("O-1", "submission", seller_id=OTHER_SELLER)
    # The queue brings them back: now they go through.
    assert harness.publish(throttled, after) == []
    assert harness.price("T-2") == Decimal("18.00")
    assert harness.price("T-3") == Decimal("18.00")


def test_server_errors_after_retries_are_retried_through_the_queue(harness):
    harness.add_seller()
    harness.add_listing("E-1")
    harness.api.inject_fault("patchListingsItem", status=503, count=5)
    record = harness.record(harness.update("E-1", "18.00", urgent=True))
    assert harness.publish(record) == [record["messageId"]]
    assert harness.publish(record) == []
    assert harness.price("E-1") == Decimal("18.00")


def test_a_4xx_for_one_sku_is_recorded_and_not_retried(harness):
    harness.add_seller()
    harness.add_listing("GONE", on_amazon=False)  # Amazon answers 404
    harness.add_listing("BAD")
    harness.add_listing("FINE")

    failed = harness.publish(
        harness.update("GONE", "18.00", urgent=True),
        harness.update("BAD", "18.00", low="30.00", high="20.00", urgent=True),  # INVALID
        harness.update("FINE", "18.00", urgent=True),
    )

    assert failed == []
    assert harness.statuses("GONE") == ["rejected"]
    (bad,) = harness.history("BAD", "submission")
    assert bad.payload["status"] == "rejected" and bad.payload["amazon_status"] == "INVALID"
    assert "minimum_seller_allowed_price" in bad.payload["issues"][0]["message"]
    assert harness.price("BAD") == Decimal("19.90")
    assert harness.price("FINE") == Decimal("18.00")


def test_a_malformed_record_fails_with_everything_after_it_in_its_group(harness):
    harness.add_seller()
    harness.add_seller(OTHER_SELLER)
    harness.add_listing("M-1")
    harness.add_listing("M-2")
    harness.add_listing("O-1", seller_id=OTHER_SELLER)
    before = harness.record(harness.update("M-1", "18.00", urgent=True))
    broken = harness.record('{"seller_id": "A2SELLERDE01", "price": "cheap"}')
    after = harness.record(harness.update("M-2", "18.00", urgent=True))
    other = harness.record(harness.update("O-1", "18.00", urgent=True,
                                          seller_id=OTHER_SELLER), group=OTHER_SELLER)

    failed = harness.publish(before, broken, after, other)

    assert failed == [broken["messageId"], after["messageId"]]
    assert harness.price("M-1") == Decimal("18.00")
    assert harness.price("M-2") == Decimal("19.90")  # held back behind the broken record
    assert harness.price("O-1", seller_id=OTHER_SELLER) == Decimal("18.00")


# -- suppression ---------------------------------------------------------------------------------
def test_price_outside_amazons_bounds_suppresses_the_offer_and_mirrored_bounds_prevent_it(
    harness,
):
    harness.add_seller()
    harness.add_listing("S-1", price="19.90", low="15.00", high="29.00")
    harness.add_listing("S-2", price="19.90", low="15.00", high="29.00")
    seller = harness.client.seller(SELLER, DE)

    # A repricer that sends only the price (Amazon still holds the old range 15–29).
    seller.patch_listings_item("S-1", [{
        "op": "merge", "path": "/attributes/purchasable_offer",
        "value": [{"marketplace_id": DE, "currency": "EUR", "audience": "ALL",
                   "our_price": schedule("35.00")}]}], product_type="PRODUCT")
    shown = seller.get_listings_item("S-1", included_data=("summaries", "issues"))
    assert "BUYABLE" not in shown["summaries"][0]["status"]
    assert shown["issues"][0]["categories"] == ["INVALID_PRICE"]
    assert harness.api.suppressed(SELLER, "S-1")

    # Ours: the configured range moved to 30–50; the bounds travel with the price.
    harness.publish(harness.update("S-2", "35.00", low="30.00", high="50.00", urgent=True))
    shown = seller.get_listings_item("S-2", included_data=("summaries", "issues"))
    assert "BUYABLE" in shown["summaries"][0]["status"] and shown["issues"] == []
    assert harness.price("S-2") == Decimal("35.00")

    # And fixing S-1 the same way lifts its suppression.
    harness.publish(harness.update("S-1", "35.00", low="30.00", high="50.00", urgent=True))
    assert not harness.api.suppressed(SELLER, "S-1")
    shown = seller.get_listings_item("S-1", included_data=("summaries", "issues"))
    assert "BUYABLE" in shown["summaries"][0]["status"]


def test_feed_quota_state_survives_a_new_container(harness):
    """The last feed time is in DynamoDB, not in memory: a fresh publisher still waits."""
    from functions.reprice import publisher

    harness.add_seller()
    harness.add_listing("Q-1")
    harness.add_listing("Q-2")
    harness.publish(harness.update("Q-1", "20.00"))
    publisher.use(client=harness.client)  # cold start: new publisher, new rate limiter
    harness.clock.advance(10)
    harness.publish(harness.update("Q-2", "20.00"))
    assert harness.api.api_calls("createFeed") == 1
    harness.clock.advance(timedelta(minutes=2).total_seconds())
    harness.publish(harness.update("Q-1", "20.20"))
    assert harness.api.api_calls("createFeed") == 2
    assert harness.api.throttled() == 0
