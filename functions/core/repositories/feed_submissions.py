"""FeedSubmissions table: the price publisher's feed buffer and the feeds Amazon is processing.

Key ``seller_id`` + ``feed_id`` (the sort key; it names the kind of item):

==================================  ==========================================================
``feed_id``                          item
==================================  ==========================================================
``staged#<marketplace>#<sku>``       a price waiting for the seller's next JSON_LISTINGS_FEED
                                     (latest decision per SKU wins: conditional on
                                     ``decided_key``)
``buffer#<marketplace>``             the buffer's bookkeeping: ``staged_since``,
                                     ``staged_count`` (approximate), ``check_at``
``quota``                            ``last_feed_at``: when the seller's last feed was created
``feed#<amazon feed id>``            a submitted feed: marketplace, document, status, polls,
                                     message count, result summary
``feed#<amazon feed id>#part#NNNN``  its messages (``messageId``, SKU, attempt, the update),
                                     in parts below DynamoDB's 400 KB item limit
==================================  ==========================================================

The sparse index ``Open`` (``open_kind`` + ``check_at``) lists only what the five-minute
schedule must look at: feeds not finished (``open_kind = feed``) and non-empty buffers
(``open_kind = buffer``). Finished feeds leave the index and expire through the TTL
attribute ``expires_at``.

The messages are opaque strings here (the repricer's ``PriceUpdate`` JSON): ``core`` does
not depend on ``reprice``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.core.accounts import MarketplaceId, SellerId, UtcDatetime
from functions.core.repositories.dynamo import (
    DynamoTable,
    from_item,
    iso_utc,
    parse_utc,
    to_item,
)
from functions.core.settings import BaseConfig

OPEN_INDEX = "Open"
OPEN_FEED = "feed"
OPEN_BUFFER = "buffer"
FEED_RETENTION = timedelta(days=14)
STAGED_RETENTION = timedelta(days=7)
_BATCH = 25
_MAX_BATCH_ATTEMPTS = 8
_WORKERS = 8  # parallel BatchWriteItem calls (boto3 clients are thread-safe)
_PART_BYTES = 300_000  # well below DynamoDB's 400 KB item limit


class FeedSubmissionsConfig(BaseConfig):
    """``FEED_SUBMISSIONS_TABLE`` (set by template.yaml Globals)."""

    feed_submissions_table: str


class StagedUpdate(BaseModel):
    """A price waiting for the seller's next feed. ``body`` is the update's JSON;
    ``decided_key`` orders decisions of one SKU (newer sorts higher)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: SellerId
    marketplace_id: MarketplaceId
    sku: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=2)
    decided_key: str = Field(min_length=1)
    staged_at: UtcDatetime


class FeedBuffer(BaseModel):
    """Bookkeeping of one seller × marketplace buffer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: SellerId
    marketplace_id: MarketplaceId
    staged_since: UtcDatetime | None = None
    staged_count: int = 0
    check_at: UtcDatetime | None = None

    @property
    def empty(self) -> bool:
        return self.staged_since is None


class FeedMessage(BaseModel):
    """One message of a submitted feed: ``body`` is the update that was sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: int = Field(ge=1)
    sku: str = Field(min_length=1)
    attempt: int = Field(default=0, ge=0)
    body: str


class FeedSubmission(BaseModel):
    """A JSON_LISTINGS_FEED we created. ``status`` is Amazon's ``processingStatus``
    (``IN_QUEUE`` right after ``createFeed``), ``result`` the report's summary."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: SellerId
    feed_id: str = Field(min_length=1, pattern=r"^[^#]+$")
    marketplace_id: MarketplaceId
    document_id: str = ""
    status: str = "IN_QUEUE"
    submitted_at: UtcDatetime
    message_count: int = Field(ge=0)
    parts: int = Field(default=0, ge=0)
    polls: int = Field(default=0, ge=0)
    checked_at: UtcDatetime | None = None
    check_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    result: dict[str, Any] = Field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.finished_at is None


# -- keys -------------------------------------------------------------------------------------
def staged_key(marketplace_id: str, sku: str) -> str:
    return f"staged#{marketplace_id}#{sku}"


def buffer_key(marketplace_id: str) -> str:
    return f"buffer#{marketplace_id}"


def feed_key(feed_id: str) -> str:
    return f"feed#{feed_id}"


def part_key(feed_id: str, index: int) -> str:
    return f"feed#{feed_id}#part#{index:04d}"


QUOTA_KEY = "quota"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _time(value: Any) -> datetime | None:
    return parse_utc(value) if isinstance(value, str) and value else None


class FeedSubmissionsRepository(DynamoTable):
    """Data access for the feed buffer and submitted feeds (see the module docstring).

    All writes to one seller's buffer happen inside that seller's FIFO message group
    (the publisher), so buffer updates need no locking; closing a feed is conditional so
    two overlapping schedule runs cannot both process its report.
    """

    settings_class = FeedSubmissionsConfig
    table_setting = "feed_submissions_table"

    def _key(self, seller_id: str, sort_key: str) -> dict[str, dict[str, str]]:
        return {"seller_id": {"S": seller_id}, "feed_id": {"S": sort_key}}

    # -- the buffer ---------------------------------------------------------------------
    def stage(
        self, updates: Sequence[StagedUpdate], *, check_at: datetime
    ) -> tuple[list[StagedUpdate], FeedBuffer | None]:
        """Put updates of one seller × marketplace into the buffer (latest decision wins).

        Returns the updates actually stored (an update older than the staged one for its
        SKU is left out) and the buffer's bookkeeping after the write; ``check_at`` is when
        the schedule should flush the buffer if nothing else does (kept if already set).
        """
        if not updates:
            return [], None
        seller_id, marketplace_id = updates[0].seller_id, updates[0].marketplace_id
        stored: list[StagedUpdate] = []
        created = 0
        for update in updates:
            if (update.seller_id, update.marketplace_id) != (seller_id, marketplace_id):
                raise ValueError("stage() takes updates of one seller and marketplace")
            item = to_item(
                {
                    "seller_id": update.seller_id,
                    "feed_id": staged_key(update.marketplace_id, update.sku),
                    "marketplace_id": update.marketplace_id,
                    "sku": update.sku,
                    "body": update.body,
                    "decided_key": update.decided_key,
                    "staged_at": update.staged_at,
                    "expires_at": _epoch(update.staged_at + STAGED_RETENTION),
                }
            )
            try:
                response = self.client.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(feed_id) OR decided_key <= :k",
                    ExpressionAttributeValues={":k": {"S": update.decided_key}},
                    ReturnValues="ALL_OLD",
                )
            except Exception as error:
                if self._is_condition_failure(error):
                    continue  # a newer decision for this SKU is already waiting
                raise
            stored.append(update)
            if not response.get("Attributes"):
                created += 1
        now = self._clock()
        response = self.client.update_item(
            TableName=self.table_name,
            Key=self._key(seller_id, buffer_key(marketplace_id)),
            UpdateExpression=(
                "SET open_kind = :kind, marketplace_id = :mp, "
                "staged_since = if_not_exists(staged_since, :now), "
                "check_at = if_not_exists(check_at, :check) ADD staged_count :n"
            ),
            ExpressionAttributeValues={
                ":kind": {"S": OPEN_BUFFER},
                ":mp": {"S": marketplace_id},
                ":now": {"S": iso_utc(now)},
                ":check": {"S": iso_utc(check_at)},
                ":n": {"N": str(created)},
            },
            ReturnValues="ALL_NEW",
        )
        return stored, _buffer(from_item(response["Attributes"]))

    def drop_staged(
        self, seller_id: str, marketplace_id: str, decided: Mapping[str, str]
    ) -> int:
        """Remove staged updates that a newer (or equal) decision already delivered:
        ``decided`` maps SKU → the ``decided_key`` that went out. Returns how many went."""
        dropped = 0
        for sku, decided_key in decided.items():
            try:
                self.client.delete_item(
                    TableName=self.table_name,
                    Key=self._key(seller_id, staged_key(marketplace_id, sku)),
                    ConditionExpression="decided_key <= :k",
                    ExpressionAttributeValues={":k": {"S": decided_key}},
                )
            except Exception as error:
                if self._is_condition_failure(error):
                    continue  # nothing staged, or a newer decision waits: keep it
                raise
            dropped += 1
        if dropped:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(seller_id, buffer_key(marketplace_id)),
                UpdateExpression="ADD staged_count :n",
                ExpressionAttributeValues={":n": {"N": str(-dropped)}},
            )
        return dropped

    def buffer(self, seller_id: str, marketplace_id: str) -> FeedBuffer:
        response = self.client.get_item(
            TableName=self.table_name,
            Key=self._key(seller_id, buffer_key(marketplace_id)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return FeedBuffer(seller_id=seller_id, marketplace_id=marketplace_id)
        return _buffer(from_item(item))

    def staged(self, seller_id: str, marketplace_id: str, *, limit: int) -> list[StagedUpdate]:
        """Up to ``limit`` staged updates of the buffer, in SKU order (strongly consistent)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "seller_id = :s AND begins_with(feed_id, :p)",
            "ExpressionAttributeValues": {
                ":s": {"S": seller_id},
                ":p": {"S": staged_key(marketplace_id, "")},
            },
            "ConsistentRead": True,
        }
        found: list[StagedUpdate] = []
        while len(found) < limit:
            request["Limit"] = limit - len(found)
            response = self.client.query(**request)
            for raw in response.get("Items", []):
                values = from_item(raw)
                found.append(
                    StagedUpdate(
                        seller_id=values["seller_id"],
                        marketplace_id=values["marketplace_id"],
                        sku=values["sku"],
                        body=values["body"],
                        decided_key=values["decided_key"],
                        staged_at=values["staged_at"],
                    )
                )
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return found

    def unstage(
        self,
        seller_id: str,
        marketplace_id: str,
        skus: Iterable[str],
        *,
        next_check_at: datetime | None,
    ) -> None:
        """Remove staged updates (sent, or dropped) and update the buffer's bookkeeping:
        ``next_check_at`` None = the buffer is now empty (it leaves the ``Open`` index),
        else when the schedule should flush the rest."""
        keys = [staged_key(marketplace_id, sku) for sku in dict.fromkeys(skus)]
        self._delete_many(seller_id, keys)
        key = self._key(seller_id, buffer_key(marketplace_id))
        if next_check_at is None:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression=(
                    "SET staged_count = :zero, marketplace_id = :mp "
                    "REMOVE open_kind, staged_since, check_at"
                ),
                ExpressionAttributeValues={":zero": {"N": "0"}, ":mp": {"S": marketplace_id}},
            )
        else:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression=(
                    "SET open_kind = :kind, check_at = :check, marketplace_id = :mp, "
                    "staged_since = if_not_exists(staged_since, :check) ADD staged_count :n"
                ),
                ExpressionAttributeValues={
                    ":kind": {"S": OPEN_BUFFER},
                    ":check": {"S": iso_utc(next_check_at)},
                    ":mp": {"S": marketplace_id},
                    ":n": {"N": str(-len(keys))},
                },
            )

    # -- the seller's feed quota ----------------------------------------------------------
    def last_feed_at(self, seller_id: str) -> datetime | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=self._key(seller_id, QUOTA_KEY), ConsistentRead=True
        )
        item = response.get("Item")
        return _time(from_item(item).get("last_feed_at")) if item else None

    def set_last_feed_at(self, seller_id: str, moment: datetime) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=to_item(
                {"seller_id": seller_id, "feed_id": QUOTA_KEY, "last_feed_at": moment}
            ),
        )

    # -- submitted feeds ------------------------------------------------------------------
    def save(self, submission: FeedSubmission, messages: Sequence[FeedMessage]) -> FeedSubmission:
        """Store a new feed and its messages; the feed enters the ``Open`` index last, so
        the schedule never sees a feed whose messages are not all written."""
        parts = _parts([[m.message_id, m.sku, m.attempt, m.body] for m in messages])
        expires = _epoch(submission.submitted_at + FEED_RETENTION)
        requests = [
            {
                "PutRequest": {
                    "Item": to_item(
                        {
                            "seller_id": submission.seller_id,
                            "feed_id": part_key(submission.feed_id, index),
                            "messages": text,
                            "expires_at": expires,
                        }
                    )
                }
            }
            for index, text in enumerate(parts)
        ]
        self._write_many(requests)
        stored = submission.model_copy(
            update={"parts": len(parts), "message_count": len(messages)}
        )
        self.client.put_item(TableName=self.table_name, Item=_submission_item(stored))
        return stored

    def get(self, seller_id: str, feed_id: str) -> FeedSubmission | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=self._key(seller_id, feed_key(feed_id)),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _submission(from_item(item)) if item else None

    def messages(self, submission: FeedSubmission) -> list[FeedMessage]:
        """Every message of a feed, by ``messageId``."""
        out: list[FeedMessage] = []
        for index in range(submission.parts):
            response = self.client.get_item(
                TableName=self.table_name,
                Key=self._key(submission.seller_id, part_key(submission.feed_id, index)),
                ConsistentRead=True,
            )
            item = response.get("Item")
            if not item:
                continue
            for message_id, sku, attempt, body in json.loads(from_item(item)["messages"]):
                out.append(
                    FeedMessage(message_id=message_id, sku=sku, attempt=attempt, body=body)
                )
        return sorted(out, key=lambda m: m.message_id)

    def open_feeds(self, *, due_by: datetime, limit: int = 200) -> list[FeedSubmission]:
        """Unfinished feeds whose next check is due, oldest check first."""
        return [_submission(v) for v in self._open(OPEN_FEED, due_by, limit)]

    def due_buffers(self, *, due_by: datetime, limit: int = 500) -> list[FeedBuffer]:
        """Non-empty buffers whose flush is due."""
        return [_buffer(v) for v in self._open(OPEN_BUFFER, due_by, limit)]

    def _open(self, kind: str, due_by: datetime, limit: int) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": OPEN_INDEX,
            "KeyConditionExpression": "open_kind = :kind AND check_at <= :due",
            "ExpressionAttributeValues": {
                ":kind": {"S": kind},
                ":due": {"S": iso_utc(due_by)},
            },
        }
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            request["Limit"] = limit - len(found)
            response = self.client.query(**request)
            found.extend(from_item(item) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return found

    def touch(self, submission: FeedSubmission, *, status: str, check_at: datetime) -> None:
        """Record a poll of an unfinished feed."""
        now = self._clock()
        self.client.update_item(
            TableName=self.table_name,
            Key=self._key(submission.seller_id, feed_key(submission.feed_id)),
            UpdateExpression="SET #st = :st, check_at = :check, checked_at = :now ADD polls :one",
            ConditionExpression="attribute_exists(open_kind)",
            ExpressionAttributeNames={"#st": "status"},
            ExpressionAttributeValues={
                ":st": {"S": status},
                ":check": {"S": iso_utc(check_at)},
                ":now": {"S": iso_utc(now)},
                ":one": {"N": "1"},
            },
        )

    def close(
        self, submission: FeedSubmission, *, status: str, result: dict[str, Any]
    ) -> bool:
        """Mark a feed finished (it leaves the ``Open`` index) and drop its messages.

        Returns False when it was already closed (another run got there first).
        """
        now = self._clock()
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(submission.seller_id, feed_key(submission.feed_id)),
                UpdateExpression=(
                    "SET #st = :st, finished_at = :now, checked_at = :now, #res = :res "
                    "REMOVE open_kind, check_at"
                ),
                ConditionExpression="attribute_exists(open_kind)",
                ExpressionAttributeNames={"#st": "status", "#res": "result"},
                ExpressionAttributeValues={
                    ":st": {"S": status},
                    ":now": {"S": iso_utc(now)},
                    ":res": {"M": to_item(result)},
                },
            )
        except Exception as error:
            if self._is_condition_failure(error):
                return False
            raise
        self._delete_many(
            submission.seller_id,
            [part_key(submission.feed_id, i) for i in range(submission.parts)],
        )
        return True

    # -- batch helpers ------------------------------------------------------------------
    def _delete_many(self, seller_id: str, sort_keys: Sequence[str]) -> None:
        self._write_many(
            [{"DeleteRequest": {"Key": self._key(seller_id, key)}} for key in sort_keys]
        )

    def _write_many(self, requests: Sequence[dict[str, Any]]) -> None:
        """BatchWriteItem in chunks of 25; several chunks go out in parallel (a 25,000
        message feed is 1,000 chunks: sequentially that would eat a Lambda's minute)."""
        chunks = [list(requests[i : i + _BATCH]) for i in range(0, len(requests), _BATCH)]
        if len(chunks) <= 1:
            for chunk in chunks:
                self._write_chunk(chunk)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(_WORKERS, len(chunks))) as pool:
            for _ in pool.map(self._write_chunk, chunks):
                pass

    def _write_chunk(self, chunk: list[dict[str, Any]]) -> None:
        import time

        pending: dict[str, Any] = {self.table_name: chunk}
        for attempt in range(_MAX_BATCH_ATTEMPTS):
            response = self.client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise RuntimeError("feed submissions: DynamoDB left items unprocessed")


# -- mapping ------------------------------------------------------------------------------------
def _parts(rows: Sequence[list[Any]]) -> list[str]:
    """Rows as JSON arrays of at most ``_PART_BYTES`` each (at least one, maybe empty)."""
    parts: list[str] = []
    chunk: list[str] = []
    size = 2
    for row in rows:
        text = json.dumps(row, separators=(",", ":"), ensure_ascii=False)
        if chunk and size + len(text.encode()) + 1 > _PART_BYTES:
            parts.append("[" + ",".join(chunk) + "]")
            chunk, size = [], 2
        chunk.append(text)
        size += len(text.encode()) + 1
    parts.append("[" + ",".join(chunk) + "]")
    return parts


def _submission_item(submission: FeedSubmission) -> dict[str, dict[str, Any]]:
    values = submission.model_dump(mode="python")
    values["feed_id"] = feed_key(submission.feed_id)
    values["amazon_feed_id"] = submission.feed_id
    values["expires_at"] = _epoch(submission.submitted_at + FEED_RETENTION)
    if submission.open:
        values["open_kind"] = OPEN_FEED
        values["check_at"] = submission.check_at or submission.submitted_at
    return to_item(values)


def _submission(values: dict[str, Any]) -> FeedSubmission:
    data = {
        name: values.get(name)
        for name in FeedSubmission.model_fields
        if values.get(name) is not None
    }
    data["feed_id"] = values.get("amazon_feed_id") or str(values["feed_id"]).removeprefix("feed#")
    for name in ("message_count", "parts", "polls"):
        if name in data:
            data[name] = int(data[name])
    return FeedSubmission.model_validate(data)


def _buffer(values: dict[str, Any]) -> FeedBuffer:
    return FeedBuffer(
        seller_id=values["seller_id"],
        marketplace_id=values.get("marketplace_id")
        or str(values["feed_id"]).removeprefix("buffer#"),
        staged_since=_time(values.get("staged_since")),
        staged_count=max(0, int(values.get("staged_count") or 0)),
        check_at=_time(values.get("check_at")),
    )
