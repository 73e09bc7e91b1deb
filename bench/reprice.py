"""Repricer benchmark: notifications per second through RepriceFunction's decision path.

    python bench/reprice.py [--notifications 3000] [--skus 500] [--repeat 5] [--chunk 50]
                            [--json] [--no-publishing]

**Decisions.** The real ``functions.reprice.handler.lambda_handler`` is invoked with SQS
events of 10 records: Powertools' BatchProcessor, JSON + pydantic parsing, Powertools
idempotency, matching, the strategies, the guardrails, the conditional write of the state,
the PriceHistory entry and the FIFO message, INFO logs and EMF metrics (written to
/dev/null). AWS is stubbed in memory two ways, both measured:

- ``memory`` (the target's measurement): in-memory fakes behind the stores' interfaces —
  the repositories, the price-update sender and Powertools' idempotency persistence layer
  (:class:`MemoryListings`, :class:`MemoryHistory`, :class:`MemoryAccounts`,
  ``InMemoryPriceUpdateSender``, :class:`MemoryIdempotency`);
- ``boto3`` (for information): the real repositories, SQS sender and Powertools'
  ``DynamoDBPersistenceLayer`` over in-memory boto3 clients (:class:`MemoryDynamoDB`,
  :class:`MemorySqs`), so DynamoDB item marshalling and record validation are measured too.

The same notification bodies are only parsed — ``json.loads(parse_float=Decimal)`` +
``parse_notification`` (the pydantic models) — in the same run: every ``--chunk``
notifications the bench parses them alone, then hands them to the handler, so both
measurements share the machine's conditions. The ratio of the times is printed (target: the
handler takes ≤ 3× the parse-only time); the median over ``--repeat`` fresh stacks.

The workload: one seller, ``--skus`` Buy Box SKUs (one ASIN each, FBA), and a stream of
ANY_OFFER_CHANGED notifications with moving rival prices (each newer than the last for
its ASIN), plus 5 % redelivered duplicates, 5 % stale ones, 2 % ORDER_CHANGE and 1 % of a
type the Repricer does not handle.

**Publishing** (price changes per hour against the fake SP-API) is the other half of the
issue's benchmark: :func:`publishing_section` runs ``bench/publish.py`` when it exists.
Numbers and analysis: docs/PERFORMANCE.md, "Repricer decisions".
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_LAMBDA_FUNCTION_NAME": "bench-RepriceFunction",
    "POWERTOOLS_SERVICE_NAME": "reprice", "POWERTOOLS_METRICS_NAMESPACE": "sellerops",
    "POWERTOOLS_LOG_LEVEL": "INFO", "POWERTOOLS_TRACE_DISABLED": "true",
    "ACCOUNTS_TABLE": "Accounts", "LISTINGS_TABLE": "Listings",
    "PRICE_HISTORY_TABLE": "PriceHistory", "CLAIMS_TABLE": "Claims",
    "IDEMPOTENCY_TABLE": "Idempotency",
    "PRICE_UPDATES_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/updates.fifo",
    "REPRICER_KILL_SWITCH": "false",
}
for _key, _value in _ENV.items():
    os.environ.setdefault(_key, _value)

from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: E402
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import (  # noqa: E402
    STATUS_CONSTANTS,
    BasePersistenceLayer,
    DataRecord,
)
from botocore.exceptions import ClientError  # noqa: E402

SELLER = "A2BENCHSELLER1"
RIVAL = "A1BENCHRIVAL02"
MARKETPLACE = "ATVPDKIKX0DER"
T0 = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


# -- in-memory AWS ----------------------------------------------------------------------------
class ConditionalCheckFailedException(ClientError):
    def __init__(self, item: dict[str, Any] | None = None) -> None:
        response: dict[str, Any] = {"Error": {"Code": "ConditionalCheckFailedException",
                                              "Message": "The conditional request failed"}}
        if item is not None:
            response["Item"] = item
        super().__init__(response, "PutItem")  # type: ignore[arg-type]


class _Exceptions:
    ConditionalCheckFailedException = ConditionalCheckFailedException


_KEYS = {  # table → (partition, sort)
    "Accounts": ("account_id", None), "Listings": ("pk", "sku"),
    "PriceHistory": ("pk", "at"), "Idempotency": ("id", None),
}
_INDEXES = {"ByAsin": "asin_key", "BySeller": "seller_id"}


@functools.lru_cache(maxsize=64)
def _assignments(update_expression: str) -> tuple[tuple[str, str], ...]:
    """``SET #a = :a, #b = :b`` → ((#a, :a), (#b, :b)), parsed once per expression (the
    stub's own cost is not the handler's: a real client sends the string as it is)."""
    pairs = []
    for assignment in update_expression.removeprefix("SET ").split(","):
        name, value = (part.strip() for part in assignment.split("="))
        pairs.append((name, value))
    return tuple(pairs)


def _check_version(condition: str, old: dict[str, Any] | None, values: dict[str, Any]) -> None:
    """The listings' optimistic lock (``attribute_exists(pk) AND version = :expected``) of a
    PutItem or UpdateItem, against the stored item ``old``."""
    if condition.startswith("attribute_exists(pk) AND version = :expected") and (
            old is None or old["version"]["N"] != values[":expected"]["N"]):
        raise ConditionalCheckFailedException(old)


class MemoryDynamoDB:
    """The boto3 DynamoDB client calls the repositories and Powertools idempotency make,
    on dicts (conditions: the handful of expressions they use)."""

    exceptions = _Exceptions

    def __init__(self) -> None:
        self.tables: dict[str, dict[tuple[str, str | None], dict[str, Any]]] = {
            name: {} for name in _KEYS}
        # attribute name → value → keys, for the Query key conditions the code uses
        self.index: dict[str, dict[str, dict[str, set[tuple[str, str | None]]]]] = {
            name: {} for name in _KEYS}
        self.calls = 0
        self.repeats = 0  # Powertools idempotency puts refused: a NotificationId seen before

    def _store(self, table: str, key: tuple[str, str | None], item: dict[str, Any]) -> None:
        self.tables[table][key] = item
        for attribute in ("pk", *_INDEXES.values()):
            value = item.get(attribute, {}).get("S")
            if value is not None:
                self.index[table].setdefault(attribute, {}).setdefault(value, set()).add(key)

    def _key(self, table: str, item: dict[str, Any]) -> tuple[str, str | None]:
        part, sort = _KEYS[table]
        return item[part]["S"], item[sort]["S"] if sort else None

    def get_item(self, *, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.calls += 1
        item = self.tables[TableName].get(self._key(TableName, Key))
        return {"Item": item} if item is not None else {}

    def put_item(self, *, TableName: str, Item: dict[str, Any],
                 ConditionExpression: str | None = None,
                 ExpressionAttributeValues: dict[str, Any] | None = None,
                 **_: Any) -> dict[str, Any]:
        self.calls += 1
        table = self.tables[TableName]
        key = self._key(TableName, Item)
        old = table.get(key)
        condition = ConditionExpression or ""
        values = ExpressionAttributeValues or {}
        if condition.startswith("attribute_not_exists(#id)"):  # Powertools idempotency
            now = int(values[":now"]["N"])
            expired = old is not None and int(old["expiration"]["N"]) < now
            if old is not None and not expired:
                self.repeats += 1
                raise ConditionalCheckFailedException(old)
        elif condition.startswith("attribute_not_exists"):
            if old is not None:
                raise ConditionalCheckFailedException()
        else:
            _check_version(condition, old, values)
        self._store(TableName, key, Item)
        return {}

    def update_item(self, *, TableName: str, Key: dict[str, Any], UpdateExpression: str,
                    ExpressionAttributeNames: dict[str, str],
                    ExpressionAttributeValues: dict[str, Any],
                    ConditionExpression: str | None = None, **_: Any) -> dict[str, Any]:
        self.calls += 1
        key = self._key(TableName, Key)
        old = self.tables[TableName].get(key)
        _check_version(ConditionExpression or "", old, ExpressionAttributeValues)
        item = dict(old or Key)
        for name, value in _assignments(UpdateExpression):
            item[ExpressionAttributeNames.get(name, name)] = ExpressionAttributeValues[value]
        self._store(TableName, key, item)
        return {}

    def delete_item(self, *, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.calls += 1
        self.tables[TableName].pop(self._key(TableName, Key), None)
        return {}

    def query(self, *, TableName: str, KeyConditionExpression: str,
              ExpressionAttributeValues: dict[str, Any], IndexName: str | None = None,
              **_: Any) -> dict[str, Any]:
        self.calls += 1
        name, _, placeholder = (p.strip() for p in KeyConditionExpression.partition("="))
        wanted = ExpressionAttributeValues[placeholder]["S"]
        keys = self.index[TableName].get(name, {}).get(wanted, ())
        table = self.tables[TableName]
        return {"Items": [table[key] for key in sorted(keys, key=str) if key in table]}

    def batch_write_item(self, *, RequestItems: dict[str, list[dict[str, Any]]]) -> dict:
        self.calls += 1
        for table, requests in RequestItems.items():
            for request in requests:
                item = request["PutRequest"]["Item"]
                self._store(table, self._key(table, item), item)
        return {"UnprocessedItems": {}}


class MemorySqs:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> dict:
        self.messages.extend(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


class Context:
    function_name = "bench-RepriceFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 512
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


# -- the workload ---------------------------------------------------------------------------------
def _money(amount: Decimal) -> dict[str, Any]:
    return {"Amount": float(amount), "CurrencyCode": "USD"}


def _offer(seller: str, price: Decimal, *, winner: bool) -> dict[str, Any]:
    return {
        "SellerId": seller, "SubCondition": "new",
        "SellerFeedbackRating": {"FeedbackCount": 1520, "SellerPositiveFeedbackRating": 97},
        "ShippingTime": {"MinimumHours": 0, "MaximumHours": 0, "AvailabilityType": "NOW"},
        "ListingPrice": _money(price), "Shipping": _money(Decimal("0.00")),
        "IsFulfilledByAmazon": True, "IsBuyBoxWinner": winner, "IsFeaturedMerchant": True,
        "PrimeInformation": {"IsOfferPrime": True, "IsOfferNationalPrime": True},
        "ShipsDomestically": True,
    }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def asin_of(i: int) -> str:
    return f"B0BENCH{i:04d}"


def offer_change(nid: str, asin: str, toc: datetime, ours: Decimal, rival: Decimal) -> str:
    we_win = ours <= rival
    offers = sorted([_offer(RIVAL, rival, winner=not we_win),
                     _offer(SELLER, ours, winner=we_win)],
                    key=lambda o: o["ListingPrice"]["Amount"])
    offers += [_offer(f"A9OTHER{n:07d}", rival + Decimal(n), winner=False) for n in (1, 2, 3)]
    buy_box = min(ours, rival)
    return json.dumps({
        "NotificationVersion": "1.0", "NotificationType": "ANY_OFFER_CHANGED",
        "PayloadVersion": "1.0", "EventTime": _iso(toc + timedelta(milliseconds=300)),
        "NotificationMetadata": {"ApplicationId": "amzn1.sellerapps.app.bench",
                                 "SubscriptionId": "sub-bench", "NotificationId": nid,
                                 "PublishTime": _iso(toc + timedelta(milliseconds=600))},
        "Payload": {"AnyOfferChangedNotification": {
            "SellerId": SELLER,
            "OfferChangeTrigger": {"MarketplaceId": MARKETPLACE, "ASIN": asin,
                                   "ItemCondition": "new", "TimeOfOfferChange": _iso(toc),
                                   "OfferChangeType": "Internal"},
            "Summary": {
                "NumberOfOffers": [{"Condition": "new", "FulfillmentChannel": "Amazon",
                                    "OfferCount": len(offers)}],
                "LowestPrices": [{"Condition": "new", "FulfillmentChannel": "Amazon",
                                  "LandedPrice": _money(buy_box), "ListingPrice": _money(buy_box),
                                  "Shipping": _money(Decimal("0.00"))}],
                "BuyBoxPrices": [{"Condition": "New", "LandedPrice": _money(buy_box),
                                  "ListingPrice": _money(buy_box),
                                  "Shipping": _money(Decimal("0.00"))}],
                "CompetitivePriceThreshold": _money(Decimal("39.00")),
            },
            "Offers": offers,
        }},
    })


def order(nid: str, sku: str, item: str, at: datetime) -> str:
    return json.dumps({
        "NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0", "EventTime": _iso(at),
        "NotificationMetadata": {"NotificationId": nid, "PublishTime": _iso(at)},
        "Payload": {"OrderChangeNotification": {
            "SellerId": SELLER, "AmazonOrderId": f"111-{nid}",
            "Summary": {"MarketplaceId": MARKETPLACE, "OrderStatus": "Unshipped",
                        "PurchaseDate": _iso(at),
                        "OrderItems": [{"OrderItemId": item, "SellerSKU": sku,
                                        "Quantity": 1}]}}},
    })


def workload(count: int, skus: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    bodies: list[str] = []
    last: dict[str, datetime] = {}
    for n in range(count):
        roll = rng.random()
        moment = T0 + timedelta(seconds=n)
        if roll < 0.05 and bodies:
            bodies.append(rng.choice(bodies))  # redelivered: same NotificationId
            continue
        i = rng.randrange(skus)
        asin = asin_of(i)
        if roll < 0.10 and asin in last:  # stale: older than the last change applied
            toc = last[asin] - timedelta(minutes=5)
        elif roll < 0.12:
            bodies.append(order(f"o-{n}", f"SKU-{i:04d}", f"item-{n}", moment))
            continue
        elif roll < 0.13:
            bodies.append(json.dumps({"NotificationType": "PRICING_HEALTH",
                                      "NotificationMetadata": {"NotificationId": f"p-{n}"},
                                      "Payload": {"issueType": "BuyBoxMissing"}}))
            continue
        else:
            toc = moment
            last[asin] = toc
        ours = Decimal("24.99") - Decimal(rng.randrange(0, 300)) / 100
        rival = Decimal("22.00") + Decimal(rng.randrange(0, 600)) / 100
        bodies.append(offer_change(f"n-{n}", asin, toc, ours, rival))
    return bodies


# -- in-memory repositories (the decision path's own measurement) -------------------------------
class MemoryListings:
    """ListingRepository's interface on a dict: optimistic locking, no marshalling."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], Any] = {}
        self.by_asin: dict[tuple[str, str, str], list[tuple[str, str, str]]] = {}

    def put(self, listing: Any) -> None:
        key = (listing.seller_id, listing.marketplace_id, listing.sku)
        self.rows[key] = listing.model_copy(update={"version": 1})
        self.by_asin.setdefault((*key[:2], listing.asin), []).append(key)

    def find_by_asin(self, seller_id: str, marketplace_id: str, asin: str) -> list[Any]:
        return [self.rows[k] for k in self.by_asin.get((seller_id, marketplace_id, asin), ())]

    def get(self, seller_id: str, marketplace_id: str, sku: str) -> Any:
        return self.rows.get((seller_id, marketplace_id, sku))

    def save(self, listing: Any, expected_version: int) -> Any:
        return self._write(listing, {}, expected_version)

    def save_state(self, listing: Any, state: Any, expected_version: int) -> Any:
        """``ListingRepository.save_state``: the state and the version, conditionally."""
        return self._write(listing, {"state": state}, expected_version)

    def _write(self, listing: Any, changes: dict[str, Any], expected_version: int) -> Any:
        from functions.core.models import copy_with
        from functions.core.repositories.errors import ConcurrentModification

        key = (listing.seller_id, listing.marketplace_id, listing.sku)
        current = self.rows.get(key)
        if current is None or current.version != expected_version:
            raise ConcurrentModification("listing", {"sku": listing.sku},
                                         expected_version=expected_version,
                                         actual_version=current.version if current else None)
        # the stub's copy (what DynamoDB stores) is made as the repository makes it
        stored = copy_with(listing, {**changes, "version": expected_version + 1})
        self.rows[key] = stored
        return stored

    def list_for_marketplace(self, seller_id: str, marketplace_id: str, *, limit: int = 100,
                             next_token: str | None = None) -> Any:
        from functions.core.repositories.dynamo import Page

        return Page([r for k, r in self.rows.items() if k[:2] == (seller_id, marketplace_id)])


class MemoryHistory:
    def __init__(self) -> None:
        self.entries: list[tuple[Any, ...]] = []

    def new_entry(self, seller_id: str, marketplace_id: str, sku: str, kind: str,
                  payload: Any = None, *, at: Any = None) -> tuple[Any, ...]:
        return (seller_id, marketplace_id, sku, kind, at, payload)

    def append_many(self, entries: Any) -> None:
        self.entries.extend(entries)


class MemoryAccounts:
    def __init__(self, *accounts: Any) -> None:
        self.accounts = {a.seller_id: a for a in accounts}

    def get_by_seller(self, seller_id: str) -> Any:
        return self.accounts.get(seller_id)

    def list_accounts(self, *, limit: int = 50, next_token: str | None = None) -> Any:
        from functions.core.repositories.dynamo import Page

        return Page(list(self.accounts.values()))


class MemoryIdempotency(BasePersistenceLayer):
    """Powertools' idempotency persistence on a dict: the layer's four storage methods with
    DynamoDBPersistenceLayer's conditions (a put succeeds when the key is new, its record
    expired, or an in-progress record's Lambda timed out), as :class:`MemoryListings`
    stands for ListingRepository."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}
        self.repeats = 0  # puts refused: a NotificationId seen before

    def _get_record(self, idempotency_key: str) -> DataRecord:
        record = self.records.get(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return record

    def _put_record(self, data_record: DataRecord) -> None:
        old = self.records.get(data_record.idempotency_key)
        if old is not None:
            now = time.time()
            timed_out = (old.status == STATUS_CONSTANTS["INPROGRESS"]
                         and old.in_progress_expiry_timestamp is not None
                         and old.in_progress_expiry_timestamp < now * 1000)
            if not (old.expiry_timestamp < now or timed_out):
                self.repeats += 1
                raise IdempotencyItemAlreadyExistsError(old_data_record=old)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)

# -- the measurements ---------------------------------------------------------------------------
STORAGE = ("memory", "boto3")
CHUNK = 50  # notifications handled, then parsed alone, in turn (:func:`run_decisions`)


def setup(skus: int, storage: str = "memory") -> tuple[Callable[[dict[str, Any]], Any], Any, Any]:
    """The real handler with ``skus`` listings and the seller's account, on

    - ``memory``: in-memory fakes behind each store's interface — the repositories, the
      sender and Powertools' idempotency persistence layer (the brief's "AWS calls
      stubbed in memory"); or
    - ``boto3``: the real repositories, SQS sender and Powertools'
      ``DynamoDBPersistenceLayer`` over in-memory boto3 clients, so DynamoDB item
      marshalling and record validation are measured too.

    Returns the invoke function, the price updates sent (a list that fills up) and the
    idempotency store (``repeats``: NotificationIds it refused as seen before).
    """
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from functions.core.accounts import Account, account_id_for_seller
    from functions.core.repositories.accounts import AccountRepository
    from functions.core.repositories.listings import ListingRepository
    from functions.core.settings import cached_settings
    from functions.reprice import handler
    from functions.reprice.listings import listing_from_config
    from functions.reprice.logic import ListingConfig
    from functions.reprice.service import (
        RepricerConfig,
        RepricingService,
        service_from_settings,
    )
    from functions.reprice.updates import InMemoryPriceUpdateSender

    extra: dict[str, Any] = {}
    if "repricer_dry_run" in Account.model_fields:
        extra["repricer_dry_run"] = False
    account = Account(
        account_id=account_id_for_seller(SELLER), seller_id=SELLER, name="Bench",
        language="en", country="US", products=("repricer",), created_at=T0, updated_at=T0,
        **extra)
    listings = [
        listing_from_config(ListingConfig.model_validate({
            "sku": f"SKU-{i:04d}", "asin": asin_of(i), "marketplace_id": MARKETPLACE,
            "condition": "new", "fulfillment": "FBA", "strategy": "buybox",
            "min_price": "18.00", "max_price": "34.99", "currency": "USD",
            "current_price": "24.99", "climb_interval": "PT0S"}), SELLER)
        for i in range(skus)
    ]
    dynamodb = MemoryDynamoDB()
    sent: list[Any]
    if storage == "memory":
        store = MemoryListings()
        for listing in listings:
            store.put(listing)
        sender = InMemoryPriceUpdateSender()
        sent = sender.sent
        service = RepricingService(store, MemoryHistory(), sender, MemoryAccounts(account),
                                   lambda: T0 + timedelta(days=1))
        idempotency: Any = MemoryIdempotency()
        layer: Any = idempotency
    else:
        repository = ListingRepository("Listings", client=dynamodb)
        for listing in listings:
            repository.put_new(listing)
        AccountRepository("Accounts", client=dynamodb).create(account)
        sqs = MemorySqs()
        sent = sqs.messages
        service = service_from_settings(cached_settings(RepricerConfig), client=dynamodb,
                                        sqs_client=sqs)
        idempotency = dynamodb  # counts the idempotency puts it refuses
        layer = DynamoDBPersistenceLayer(table_name="Idempotency", boto3_client=dynamodb)
    handler.use_runtime(service, layer)

    def invoke(event: dict[str, Any]) -> Any:
        return handler.lambda_handler(event, Context())

    return invoke, sent, idempotency


def events(bodies: list[str]) -> Iterator[dict[str, Any]]:
    for start in range(0, len(bodies), 10):
        yield {"Records": [{
            "messageId": f"m-{start + i}", "receiptHandle": "r", "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:notifications",
            "awsRegion": "us-east-1"} for i, body in enumerate(bodies[start:start + 10])]}


def run_decisions(bodies: list[str], skus: int, storage: str, chunk: int = CHUNK,
                  ) -> tuple[float, float, dict[str, int]]:
    """``bodies`` through the handler (a fresh in-memory stack), alternating with parsing
    the same bodies alone: each slice of ``chunk`` notifications is parsed only, then
    handled. Returns (parse-only seconds, handler seconds, counters).

    Alternating in slices of a few batches puts both measurements under the same machine
    conditions: on a shared machine, a burst of noise lasting a second otherwise lands on
    whichever of the two whole runs happens to be going on."""
    invoke, sent, idempotency = setup(skus, storage)
    batches = list(events(bodies))
    per_slice = max(1, chunk // 10)
    failed = 0
    parse_time = handler_time = 0.0
    for start in range(0, len(batches), per_slice):
        part = batches[start:start + per_slice]
        parse_time += run_parse([record["body"] for event in part for record in event["Records"]])
        started = time.perf_counter()
        for event in part:
            failed += len(invoke(event)["batchItemFailures"])
        handler_time += time.perf_counter() - started
    return parse_time, handler_time, {"failed_records": failed, "price_updates": len(sent),
                                      "repeats": idempotency.repeats}


def run_parse(bodies: list[str]) -> float:
    from functions.reprice.logic import parse_notification

    started = time.perf_counter()
    for body in bodies:
        parse_notification(json.loads(body, parse_float=Decimal))
    return time.perf_counter() - started


# -- publishing (the other half of the benchmark) ----------------------------------------
def publishing_section(**options: Any) -> dict[str, Any] | None:
    """HOOK — the publishing half of the issue's benchmark, filled by ``bench/publish.py``.

    When that file exists, its ``publishing_section(**options)`` (``skus``, ``urgent``,
    ``seed``) is run and its printable ``lines`` are printed; the result
    (``{"results": [...], "lines": [...]}``) is returned. Otherwise this prints
    ``publishing: see bench/publish.py`` and returns None.
    """
    path = Path(__file__).with_name("publish.py")
    if not path.exists():
        print("publishing: see bench/publish.py")
        return None
    spec = importlib.util.spec_from_file_location("bench_publish", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_publish", module)
    spec.loader.exec_module(module)
    section = getattr(module, "publishing_section", None)
    if section is None:
        print("publishing: see bench/publish.py")
        return None
    result = section(**options)
    print("repricer publishing (bench/publish.py: fake SP-API with Amazon's quotas, "
          "compressed clock)")
    for line in result.get("lines", []):
        print(line)
    return result


# -- main ---------------------------------------------------------------------------------------
def measure(bodies: list[str], skus: int, repeat: int, chunk: int = CHUNK) -> dict[str, Any]:
    """Each stack ``repeat`` times, its handler time against the parse-only time of the
    same notifications measured alongside (:func:`run_decisions`); medians."""
    ratios: dict[str, list[float]] = {mode: [] for mode in STORAGE}
    handler: dict[str, list[float]] = {mode: [] for mode in STORAGE}
    parse: list[float] = []
    counters: dict[str, dict[str, int]] = {}
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        # the handler's Logger binds stdout when it is imported: import it in here
        import functions.reprice.handler  # noqa: F401

        warm = bodies[: min(200, len(bodies))]
        for mode in STORAGE:
            run_decisions(warm, skus, mode, chunk)
        for _ in range(repeat):
            for mode in STORAGE:
                parsed, handled, counters[mode] = run_decisions(bodies, skus, mode, chunk)
                ratios[mode].append(handled / parsed)
                handler[mode].append(handled)
                if mode == "memory":
                    parse.append(parsed)
    median = statistics.median
    return {"seconds": {"parse": median(parse), **{m: median(t) for m, t in handler.items()}},
            "ratios": {m: median(r) for m, r in ratios.items()},
            "counters": counters, "ratio_runs": sorted(round(r, 2) for r in ratios["memory"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--notifications", type=int, default=3000)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=CHUNK,
                        help="notifications handled and parsed alone in turn (default "
                             f"{CHUNK}; --chunk 3000: two whole runs, one after the other)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--no-publishing", action="store_true",
                        help="skip the publishing section (bench/publish.py)")
    args = parser.parse_args(argv)

    bodies = workload(args.notifications, args.skus)
    measured = measure(bodies, args.skus, args.repeat, args.chunk)
    seconds, counters = measured["seconds"], measured["counters"]
    count = len(bodies)
    result: dict[str, Any] = {
        "notifications": count, "skus": args.skus, "repeat": args.repeat, "chunk": args.chunk,
        "python": sys.version.split()[0],
        "parse_only_per_second": round(count / seconds["parse"]),
        "decisions_per_second": round(count / seconds["memory"]),
        "ratio": round(measured["ratios"]["memory"], 2),
        "ratio_runs": measured["ratio_runs"],
        "target_ratio": 3.0,
        "with_repositories_per_second": round(count / seconds["boto3"]),
        "with_repositories_ratio": round(measured["ratios"]["boto3"], 2),
        "price_updates": counters["memory"]["price_updates"],
        "failed_records": counters["memory"]["failed_records"],
        "repeats": counters["memory"]["repeats"],
        # both stacks must have decided the same: same updates, failures and repeats
        "same_outcomes": counters["memory"] == counters["boto3"],
    }
    if args.json:
        print(json.dumps(result))
        return 0
    verdict = "ok" if result["ratio"] <= 3.0 else "ABOVE TARGET"
    print(f"repricer decisions: {count} notifications for {args.skus} SKUs, median of "
          f"{args.repeat} runs (Python {result['python']})")
    print(f"  parse only (json + pydantic models)            "
          f"{result['parse_only_per_second']:>8,} notifications/s")
    print(f"  handler, repositories + sender in memory       "
          f"{result['decisions_per_second']:>8,} notifications/s   "
          f"{result['ratio']:.2f}x parse time (target <= 3x: {verdict})")
    runs = result["ratio_runs"]
    print(f"    the {args.repeat} runs: {runs[0]:.2f}x to {runs[-1]:.2f}x (handled and parsed "
          f"alone in turns of {args.chunk} notifications)")
    print(f"  handler, real repositories on in-memory boto3  "
          f"{result['with_repositories_per_second']:>8,} notifications/s   "
          f"{result['with_repositories_ratio']:.2f}x parse time (item marshalling included)")
    print(f"  price updates enqueued {result['price_updates']}, failed records "
          f"{result['failed_records']}, repeated NotificationIds refused "
          f"{result['repeats']} (both stacks alike: {result['same_outcomes']})")
    if not args.no_publishing:
        publishing_section()
    return 0


if __name__ == "__main__":
    sys.exit(main())
