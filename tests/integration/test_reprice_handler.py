"""RepriceFunction on the local stack (template.yaml in moto, the real SQS poller).

The price publisher's poller is taken out of the stack so the tests can read what the
decision path put on the FIFO price-updates queue.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from functions.core.accounts import Account, account_id_for_seller
from functions.core.clock import utc_now
from functions.core.money import Money
from functions.core.repositories.accounts import AccountRepository
from functions.core.repositories.listings import ListingRepository
from functions.core.repositories.price_history import PriceHistoryRepository
from functions.reprice.listings import listing_from_config, state_of, with_state
from functions.reprice.logic import RepricingState
from functions.reprice.price_update import PriceUpdate
from infra.local import LocalStack, in_process
from tests.unit.reprice.builders import (
    OUR,
    RIVAL,
    T0,
    US,
    aoc,
    config,
    offer,
    order_change,
    to_json,
)


@dataclass
class Repricer:
    """The local stack plus what the tests read and write."""

    local: LocalStack
    out: io.StringIO

    @property
    def sqs(self) -> Any:
        return self.local.stack.aws("sqs")

    def table(self, name: str) -> str:
        return self.local.stack.table_name(name)

    def listings(self) -> ListingRepository:
        return ListingRepository(self.table("ListingsTable"))

    def history(self) -> PriceHistoryRepository:
        return PriceHistoryRepository(self.table("PriceHistoryTable"))

    def add_account(self, seller: str = OUR, *, dry_run: bool = False) -> None:
        fields = Account.model_fields
        extra: dict[str, Any] = {}
        if "repricer_dry_run" in fields:
            extra["repricer_dry_run"] = dry_run
        now = utc_now()
        AccountRepository(self.table("AccountsTable")).create(Account(
            account_id=account_id_for_seller(seller), seller_id=seller, name="Mug Shop",
            language="en", country="US", products=("repricer",), created_at=now,
            updated_at=now, **extra))

    def add_listing(self, state: RepricingState | None = None, **overrides: Any) -> None:
        listing = listing_from_config(config(**overrides), OUR)
        if state is not None:
            listing = with_state(listing, state)
        self.listings().put_new(listing)

    def notify(self, *bodies: str) -> None:
        url = self.local.stack.queue_url("PriceNotificationsQueue")
        for start in range(0, len(bodies), 10):
            self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": body}
                for i, body in enumerate(bodies[start:start + 10])])

    def drain_queue(self, logical_id: str) -> list[dict[str, Any]]:
        url = self.local.stack.queue_url(logical_id)
        found: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                return found
            found.extend(messages)
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages)])

    def price_updates(self) -> list[tuple[PriceUpdate, dict[str, Any]]]:
        return [(PriceUpdate.from_message(m["Body"]), m["Attributes"])
                for m in self.drain_queue("PriceUpdatesQueue")]

    def metrics(self) -> dict[str, float]:
        """EMF counters the handlers printed, summed by name (and dimension value)."""
        totals: dict[str, float] = {}
        for line in self.out.getvalue().splitlines():
            if not line.startswith('{"_aws"'):
                continue
            doc = json.loads(line)
            for directive in doc["_aws"]["CloudWatchMetrics"]:
                dims = [d for group in directive["Dimensions"] for d in group if d != "service"]
                for metric in directive["Metrics"]:
                    name = metric["Name"] + "".join(f"[{doc[d]}]" for d in dims)
                    totals[name] = totals.get(name, 0) + sum(doc[metric["Name"]])
        return totals


@pytest.fixture
def repricer() -> Iterator[Repricer]:
    out = io.StringIO()
    with in_process(handler_stdout=out) as local:
        # the publisher is another engineer's function: keep its poller off this queue
        local.sources.pollers = [
            p for p in local.sources.pollers
            if getattr(getattr(p, "mapping", None), "function", "") != "PublishPricesFunction"
        ]
        yield Repricer(local, out)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def losing(nid: str, toc) -> str:
    return to_json(aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.99")],
                       nid=nid, toc=toc))


def test_a_batch_with_malformed_duplicate_stale_and_valid_notifications(repricer: Repricer):
    repricer.add_account()
    last_applied = T0 + timedelta(minutes=1)
    repricer.add_listing(RepricingState(current_price=usd("24.99"),
                                        last_time_of_offer_change=last_applied))
    valid = losing("valid-1", T0 + timedelta(minutes=5))
    pricing_health = json.dumps({
        "NotificationVersion": "1.0", "NotificationType": "PRICING_HEALTH",
        "PayloadVersion": "1.0", "EventTime": "2026-11-20T14:05:00Z",
        "NotificationMetadata": {"NotificationId": "ph-1"},
        "Payload": {"issueType": "BuyBoxMissing", "sellerId": OUR}})
    repricer.notify(
        '{"NotificationType": "ANY_OFFER_CHANGED", "Payload": ',  # malformed
        valid,
        valid,  # the same NotificationId again
        losing("stale-1", T0),  # older than the last applied TimeOfOfferChange
        pricing_health,  # a type the Repricer does not handle
    )
    repricer.local.drain()

    # the first invocation got the whole batch; only the malformed record failed
    first = repricer.local.dispatcher.invocations("RepriceFunction")[0]
    assert len(first.event["Records"]) == 5
    failures = first.result["batchItemFailures"]
    assert len(failures) == 1
    malformed_id = failures[0]["itemIdentifier"]
    assert next(r for r in first.event["Records"]
                if r["messageId"] == malformed_id)["body"].endswith('"Payload": ')

    # exactly one price update, grouped by seller, for the valid notification
    ((update, attributes),) = repricer.price_updates()
    assert update.source == "valid-1" and update.sku == "SKU-1"
    assert update.price == usd("23.75") and update.urgent
    assert attributes["MessageGroupId"] == OUR
    assert attributes["MessageDeduplicationId"] == update.deduplication_id()

    # the malformed one is in the DLQ after its retries; nothing is left on the queue
    (dead,) = repricer.drain_queue("PriceNotificationsDLQ")
    assert dead["Body"].endswith('"Payload": ')
    assert repricer.drain_queue("PriceNotificationsQueue") == []
    receives = [i for i in repricer.local.dispatcher.invocations("RepriceFunction")
                if any(r["messageId"] == malformed_id for r in i.event["Records"])]
    assert len(receives) == 5

    # state and history
    stored = repricer.listings().get(OUR, US, "SKU-1")
    assert state_of(stored).current_price == usd("23.75")
    assert state_of(stored).last_time_of_offer_change == T0 + timedelta(minutes=5)
    entries = repricer.history().latest(OUR, US, "SKU-1")
    # one entry per (notification, SKU): the duplicate added none
    decisions = sorted((e.payload["source"], e.payload["action"], e.payload["rule"])
                       for e in entries)
    assert decisions == [("stale-1", "skip", "stale"), ("valid-1", "change", "undercut")]
    assert {e.kind for e in entries} == {"decision"}
    assert all(e.payload["seen"]["notification_type"] == "ANY_OFFER_CHANGED" for e in entries)

    metrics = repricer.metrics()
    assert metrics["DuplicateNotifications"] == 1
    assert metrics["StaleNotifications"] == 1
    assert metrics["UnhandledNotifications"] == 1
    assert metrics["InvalidNotifications"] == 5  # one per receive
    assert metrics["PriceUpdatesEnqueued"] == 1
    assert metrics["Notifications[ANY_OFFER_CHANGED]"] == 3
    assert metrics["Notifications[PRICING_HEALTH]"] == 1
    assert metrics["Decisions[change]"] == 1


def test_a_redelivered_notification_is_applied_once(repricer: Repricer):
    from functions.reprice import handler

    repricer.add_account()
    repricer.add_listing(RepricingState(current_price=usd("24.99")))
    body = losing("n-1", T0)
    # the Logger bound its stream when first imported: point it at this test's output
    # (assigned, not ``setStream``: that flushes the old stream, which may be closed)
    log_handler: Any = handler.logger.registered_handler
    previous = log_handler.stream
    log_handler.stream = repricer.out
    try:
        repricer.notify(body)
        repricer.local.drain()
        repricer.notify(body)  # Amazon delivers it again, later
        repricer.local.drain()
    finally:
        log_handler.stream = previous
    assert len(repricer.price_updates()) == 1
    assert repricer.metrics()["DuplicateNotifications"] == 1
    # the change is an INFO line; the routine repeat is counted, logged at DEBUG only
    logs = [json.loads(line) for line in repricer.out.getvalue().splitlines()
            if line.startswith('{"level"')]
    info = [log["message"] for log in logs
            if log["level"] == "INFO" and log.get("notification_id") == "n-1"]
    assert len(info) == 1 and info[0].startswith("change SKU-1"), info
    idempotency = repricer.local.stack.aws("dynamodb").scan(
        TableName=repricer.table("IdempotencyTable"))["Items"]
    assert [item["status"]["S"] for item in idempotency] == ["COMPLETED"]
    # keyed by the NotificationId under a fixed prefix (not the function's name)
    digest = hashlib.md5(json.dumps("n-1").encode()).hexdigest()
    assert idempotency[0]["id"]["S"] == f"reprice.notification#{digest}"


def test_unconfigured_and_unknown_skus_are_acknowledged(repricer: Repricer):
    repricer.add_account()
    repricer.listings().put_new(listing_from_config(config(), OUR).evolve(strategy={}))
    repricer.notify(losing("n-1", T0), to_json(aoc([offer(RIVAL, "9.99", winner=True)],
                                                   asin="B0NOTOURS01", nid="n-2")))
    repricer.local.drain()
    assert repricer.drain_queue("PriceNotificationsDLQ") == []
    assert repricer.price_updates() == []
    metrics = repricer.metrics()
    assert metrics["UnconfiguredNotifications"] == 1
    assert metrics["UnmatchedNotifications"] == 1
    (entry,) = [e for e in repricer.history().latest(OUR, US, "SKU-1") if e.kind == "decision"]
    assert entry.payload["rule"] == "unconfigured"


def test_a_seller_without_account_is_decided_in_dry_run(repricer: Repricer):
    repricer.add_listing(RepricingState(current_price=usd("24.99")))
    repricer.notify(losing("n-1", T0))
    repricer.local.drain()
    assert repricer.price_updates() == []
    (decision,) = [e for e in repricer.history().latest(OUR, US, "SKU-1")
                   if e.kind == "decision"]
    assert decision.payload["action"] == "change" and decision.payload["submission"] == "dry_run"
    assert state_of(repricer.listings().get(OUR, US, "SKU-1")).current_price == usd("24.99")
    assert repricer.metrics()["ChangesNotSubmitted[dry_run]"] == 1


def test_order_change_counts_units_into_the_listing_state(repricer: Repricer):
    repricer.add_account()
    repricer.add_listing(strategy="push", push_levels="21.00|23.00|25.00", sku="PUSH-1")
    now = repricer.local.clock.now()
    repricer.notify(
        to_json(order_change([("item-1", "PUSH-1", 2), ("item-2", "OTHER", 1)], at=now,
                             nid="o-1")),
        to_json(order_change([("item-1", "PUSH-1", 2)], status="Shipped", at=now, nid="o-2")),
    )
    repricer.local.drain()
    stored = repricer.listings().get(OUR, US, "PUSH-1")
    state = state_of(stored)
    assert set(state.sales) == {"item-1"} and state.sales["item-1"].quantity == 2
    assert stored.version == 2  # the repeat of item-1 wrote nothing
    assert repricer.price_updates() == []
    kinds = [e.kind for e in repricer.history().latest(OUR, US, "PUSH-1")]
    assert kinds == ["order", "order"]
    assert repricer.metrics()["OrderSkusCounted"] == 2
