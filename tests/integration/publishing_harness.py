"""Test harness of the price publisher: moto (tables from template.yaml, the FIFO queue),
the fake SP-API server on loopback, one ManualClock for client, server and handlers.

Used by test_publisher.py and test_feed_results.py; the pytest fixtures are in
publishing_fixtures.py (loaded with ``pytest_plugins``).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from functions.core.accounts import Account, account_id_for_seller
from functions.core.clock import clock_installed
from functions.core.money import Money
from functions.core.repositories.accounts import AccountRepository
from functions.core.repositories.feed_submissions import FeedSubmissionsRepository
from functions.core.repositories.listings import Listing, ListingRepository
from functions.core.repositories.price_history import PriceHistoryEntry, PriceHistoryRepository
from functions.core.spapi import SpApiClient
from functions.reprice import feed_results, publisher
from functions.reprice.price_update import PriceUpdate, QuantityTier
from infra.simulator.clock import ManualClock
from infra.simulator.spapi_server import FakeSpApiServer

SELLER = "A2SELLERDE01"
OTHER_SELLER = "A3SELLERDE02"
DE = "A1PA6795UKMFR9"
CLIENT_ID = "amzn1.application-oa2-client.publisher"
CLIENT_SECRET = "publisher-client-secret"
TOKENS = {SELLER: "Atzr|seller-1", OTHER_SELLER: "Atzr|seller-2"}
EPOCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TABLES = {
    "AccountsTable": "ACCOUNTS_TABLE",
    "ListingsTable": "LISTINGS_TABLE",
    "PriceHistoryTable": "PRICE_HISTORY_TABLE",
    "FeedSubmissionsTable": "FEED_SUBMISSIONS_TABLE",
}


def schedule(value: str) -> list[dict[str, Any]]:
    return [{"schedule": [{"value_with_tax": Decimal(value)}]}]


def amazon_offer(price: str, low: str | None = None, high: str | None = None,
                 **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"marketplace_id": DE, "currency": "EUR", "audience": "ALL",
                             "our_price": schedule(price)}
    if low is not None:
        entry["minimum_seller_allowed_price"] = schedule(low)
    if high is not None:
        entry["maximum_seller_allowed_price"] = schedule(high)
    entry.update(extra)
    return entry


@dataclass
class Context:
    """The parts of Lambda's context object Powertools reads."""

    function_name: str = "PublishPricesFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:publish"
    aws_request_id: str = "req-1"


class Harness:
    def __init__(self, *, clock: ManualClock, server: FakeSpApiServer, client: SpApiClient,
                 dynamodb: Any, sqs: Any, queue_url: str) -> None:
        self.clock = clock
        self.server = server
        self.api = server.api
        self.client = client
        self.dynamodb = dynamodb
        self.sqs = sqs
        self.queue_url = queue_url
        self.accounts = AccountRepository("AccountsTable", client=dynamodb)
        self.listings = ListingRepository("ListingsTable", client=dynamodb)
        self.history_repo = PriceHistoryRepository("PriceHistoryTable", client=dynamodb)
        self.feeds = FeedSubmissionsRepository("FeedSubmissionsTable", client=dynamodb)
        self._ids = itertools.count(1)
        self._decided = itertools.count(1)

    # -- setup ----------------------------------------------------------------------------
    def add_seller(self, seller_id: str = SELLER, *, dry_run: bool = False,
                   paused: bool = False) -> None:
        now = self.clock.now()
        self.accounts.create(Account(
            account_id=account_id_for_seller(seller_id), seller_id=seller_id, name="Shop",
            language="de", country="DE", created_at=now, updated_at=now,
            repricer_dry_run=dry_run, repricer_paused=paused,
        ))

    def add_listing(self, sku: str, *, seller_id: str = SELLER, price: str = "19.90",
                    low: str | None = "15.00", high: str | None = "29.00",
                    on_amazon: bool = True, dry_run: bool = False, paused: bool = False,
                    state: dict[str, Any] | None = None) -> None:
        self.listings.put_new(Listing(
            seller_id=seller_id, marketplace_id=DE, sku=sku, asin="B0TESTASIN",
            fulfillment="FBA", currency="EUR", dry_run=dry_run, paused=paused,
            state=state or {},
        ))
        if on_amazon:
            self.api.put_listing(seller_id, sku, marketplace_id=DE, asin="B0TESTASIN",
                                 attributes={
                "item_name": [{"value": f"Item {sku}", "language_tag": "de_DE",
                               "marketplace_id": DE}],
                "purchasable_offer": [amazon_offer(price, low, high, start_at={
                    "value": "2025-01-01T00:00:00Z"})],
                "fulfillment_availability": [{"fulfillment_channel_code": "AMAZON_EU"}],
            })

    def update(self, sku: str, price: str, *, seller_id: str = SELLER, low: str = "15.00",
               high: str = "29.00", urgent: bool = False, at: datetime | None = None,
               business: str | None = None, tiers: dict[int, str] | None = None,
               source: str | None = None) -> PriceUpdate:
        decided = at or (self.clock.now() + timedelta(microseconds=next(self._decided)))
        return PriceUpdate(
            seller_id=seller_id, marketplace_id=DE, sku=sku, price=Money.of(price, "EUR"),
            min_price=Money.of(low, "EUR"), max_price=Money.of(high, "EUR"),
            business_price=Money.of(business, "EUR") if business else None,
            quantity_tiers=tuple(QuantityTier(quantity=q, price=Money.of(p, "EUR"))
                                 for q, p in (tiers or {}).items()),
            urgent=urgent, decided_at=decided, source=source or f"n-{next(self._ids)}",
            reason="test",
        )

    # -- events -----------------------------------------------------------------------------
    def record(self, body: str | PriceUpdate, *, group: str = SELLER) -> dict[str, Any]:
        text = body.to_message() if isinstance(body, PriceUpdate) else body
        return {
            "messageId": f"m-{next(self._ids)}", "receiptHandle": "rh", "body": text,
            "attributes": {"MessageGroupId": group, "ApproximateReceiveCount": "1"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:updates.fifo",
            "awsRegion": "us-east-1",
        }

    def publish(self, *bodies: str | PriceUpdate | dict[str, Any]) -> list[str]:
        """Invoke the handler with one batch; returns the failed message ids."""
        records = [b if isinstance(b, dict) else self.record(b) for b in bodies]
        with clock_installed(self.clock.now):
            response = publisher.lambda_handler({"Records": records}, Context())
        return [f["itemIdentifier"] for f in response["batchItemFailures"]]

    def feed_results(self) -> dict[str, int]:
        with clock_installed(self.clock.now):
            return feed_results.lambda_handler(
                {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}},
                Context(function_name="FeedResultsFunction"),
            )

    def queued(self) -> list[dict[str, Any]]:
        """Receive (and delete) everything on the price-updates queue, as SQS records."""
        out = []
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                AttributeNames=["All"], WaitTimeSeconds=0,
            )
            messages = response.get("Messages", [])
            if not messages:
                return out
            for message in messages:
                out.append({"messageId": message["MessageId"], "body": message["Body"],
                            "attributes": message.get("Attributes", {})})
                self.sqs.delete_message(QueueUrl=self.queue_url,
                                        ReceiptHandle=message["ReceiptHandle"])

    # -- inspection ------------------------------------------------------------------------
    def history(self, sku: str, kind: str | None = None,
                seller_id: str = SELLER) -> list[PriceHistoryEntry]:
        entries = list(reversed(self.history_repo.latest(seller_id, DE, sku, limit=100)))
        return [e for e in entries if kind is None or e.kind == kind]

    def statuses(self, sku: str, kind: str = "submission") -> list[str]:
        return [e.payload["status"] for e in self.history(sku, kind)]

    def offer(self, sku: str, seller_id: str = SELLER, audience: str = "ALL") -> dict[str, Any]:
        entries = self.api.listing(seller_id, sku)["attributes"]["purchasable_offer"]
        return next(e for e in entries if e.get("audience", "ALL") == audience)

    def price(self, sku: str, seller_id: str = SELLER) -> Decimal | None:
        return self.api.our_price(seller_id, sku)

    def drive_feeds(self) -> None:
        """Poll every feed on the fake server until processed (as Amazon would, later)."""
        for feed_id, feed in list(self.api.feeds.items()):
            seller = self.client.seller(feed["_seller"], DE)
            for _ in range(5):
                if seller.get_feed(feed_id)["processingStatus"] in {"DONE", "FATAL",
                                                                    "CANCELLED"}:
                    break


def body_of(record: dict[str, Any]) -> dict[str, Any]:
    return json.loads(record["body"])
