"""FeedResultsFunction: processing reports → PriceHistory, retryable failures → the queue."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.publishing_harness import DE, SELLER, body_of

# the fixtures (aws, template, clock, harness)
pytest_plugins = ["tests.integration.publishing_fixtures"]


def results(harness, sku):
    return [(e.payload["status"], e.payload.get("retry")) for e in
            harness.history(sku, "submission_result")]


def test_report_is_recorded_per_sku_and_a_transient_failure_is_enqueued_again(harness):
    harness.add_seller()
    harness.add_listing("OK-1")
    harness.add_listing("FLAKY")
    harness.api.fail_feed_message(SELLER, "FLAKY")  # "An internal error occurred. Try again"
    harness.publish(harness.update("OK-1", "21.00"), harness.update("FLAKY", "21.50"))
    (feed_id,) = harness.api.feeds

    first = harness.feed_results()  # the fake needs two polls: still in progress
    assert first.get("feeds_pending") == 1 and harness.queued() == []
    harness.clock.advance(300)
    second = harness.feed_results()

    assert second["feeds_done"] == 1
    assert second["messages_accepted"] == 1 and second["messages_retried"] == 1
    assert harness.price("OK-1") == Decimal("21.00")
    assert harness.price("FLAKY") == Decimal("19.90")
    assert results(harness, "OK-1") == [("accepted", None)]
    (failed,) = harness.history("FLAKY", "submission_result")
    assert failed.payload["status"] == "failed" and failed.payload["retry"] is True
    assert failed.payload["feed_id"] == feed_id and failed.payload["issues"][0]["message"]
    submission = harness.feeds.get(SELLER, feed_id)
    assert submission.status == "DONE" and not submission.open
    assert submission.result == {"accepted": 1, "failed": 0, "retried": 1, "messages": 2}
    assert harness.feeds.open_feeds(due_by=harness.clock.now()) == []

    # The retry is an ordinary price update on the seller's FIFO group, same decision.
    (retry,) = harness.queued()
    assert retry["attributes"]["MessageGroupId"] == SELLER
    body = body_of(retry)
    assert body["sku"] == "FLAKY" and body["price"]["amount"] == "21.50"
    assert body["source"].endswith("|retry1")

    assert harness.publish(retry) == []  # 5 minutes later: the feed quota allows it
    assert harness.api.api_calls("createFeed") == 2
    for _ in range(2):
        harness.clock.advance(300)
        harness.feed_results()
    assert harness.price("FLAKY") == Decimal("21.50")
    assert results(harness, "FLAKY") == [("failed", True), ("accepted", None)]
    attempt = harness.history("FLAKY", "submission_result")[-1].payload["attempt"]
    assert attempt == 2


def test_an_invalid_message_is_recorded_and_not_retried(harness):
    harness.add_seller()
    harness.add_listing("BAD")
    harness.add_listing("GOOD")
    harness.publish(harness.update("BAD", "21.00", low="40.00", high="30.00"),
                    harness.update("GOOD", "21.00"))
    harness.drive_feeds()
    counts = harness.feed_results()
    assert counts["messages_failed"] == 1 and counts["messages_accepted"] == 1
    (entry,) = harness.history("BAD", "submission_result")
    assert entry.payload["retry"] is False
    assert entry.payload["issues"][0]["code"] == "99022"
    assert harness.queued() == []
    assert harness.price("GOOD") == Decimal("21.00")


def test_retries_are_bounded(harness):
    harness.add_seller()
    harness.add_listing("NEVER")
    harness.api.fail_feed_message(SELLER, "NEVER", count=99)
    harness.publish(harness.update("NEVER", "21.00"))
    for _ in range(5):
        harness.drive_feeds()
        harness.feed_results()
        queued = harness.queued()
        if not queued:
            break
        harness.clock.advance(130)
        harness.publish(*queued)
    assert harness.api.api_calls("createFeed") == 3  # PUBLISH_MAX_ATTEMPTS default
    statuses = results(harness, "NEVER")
    assert statuses == [("failed", True), ("failed", True), ("failed", False)]
    last = harness.history("NEVER", "submission_result")[-1].payload
    assert last["note"] == "gave up after 3 attempts"


def test_a_cancelled_feed_sends_all_its_prices_again(harness):
    harness.add_seller()
    harness.add_listing("C-1")
    harness.add_listing("C-2")
    harness.publish(harness.update("C-1", "21.00"), harness.update("C-2", "22.00"))
    (feed_id,) = harness.api.feeds
    harness.api.feeds[feed_id]["processingStatus"] = "CANCELLED"

    counts = harness.feed_results()

    assert counts["feeds_cancelled"] == 1 and counts["messages_retried"] == 2
    queued = harness.queued()
    assert sorted(body_of(r)["sku"] for r in queued) == ["C-1", "C-2"]
    harness.clock.advance(130)
    harness.publish(*queued)
    harness.drive_feeds()
    harness.feed_results()
    assert harness.price("C-1") == Decimal("21.00")
    assert harness.price("C-2") == Decimal("22.00")


def test_a_retry_overtaken_by_a_newer_decision_is_dropped(harness):
    harness.add_seller()
    harness.add_listing("R-1")
    harness.api.fail_feed_message(SELLER, "R-1")
    harness.publish(harness.update("R-1", "21.00"))
    harness.drive_feeds()
    harness.feed_results()
    (retry,) = harness.queued()

    # Meanwhile the repricer decided again and that price went out by patch.
    newer = harness.update("R-1", "23.00", urgent=True)
    listing = harness.listings.get(SELLER, DE, "R-1")
    harness.listings.save(listing.evolve(state={"last_change_at": newer.decided_at.isoformat()}),
                          listing.version)
    harness.publish(newer)
    harness.clock.advance(130)
    assert harness.publish(retry) == []

    assert harness.price("R-1") == Decimal("23.00")
    assert harness.statuses("R-1")[-1] == "superseded"
