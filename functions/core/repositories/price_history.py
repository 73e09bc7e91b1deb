"""PriceHistory table: what happened to a SKU's price, newest last.

Key ``pk = seller_id#marketplace_id#sku``, sort key ``at`` = fixed-width UTC ISO-8601 time
+ ``#`` + a short random id, so two entries in the same microsecond never overwrite each
other and entries still sort by time. Entries expire through the table's TTL attribute
``expires_at`` (epoch seconds) after ``retention_days``.

Payloads are stored as DynamoDB maps: numbers must be ``Decimal``/``int`` (floats are
refused) and come back as ``Decimal`` without trailing zeros, so keep prices as decimal
strings or :class:`~functions.core.money.Money` in payloads when their text matters.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.core.accounts import MarketplaceId, SellerId, UtcDatetime
from functions.core.repositories.dynamo import (
    DynamoTable,
    Page,
    from_item,
    iso_utc,
    to_item,
    utc_now,
)
from functions.core.settings import TablesConfig

DEFAULT_RETENTION_DAYS = 90
_BATCH = 25
_MAX_BATCH_ATTEMPTS = 6


class HistoryKind(StrEnum):
    """Kinds the services write today; ``kind`` accepts any short snake_case word."""

    NOTIFICATION = "notification"
    DECISION = "decision"
    SUBMISSION = "submission"
    SUBMISSION_RESULT = "submission_result"
    ERROR = "error"


class PriceHistoryConfig(TablesConfig):
    """``PRICE_HISTORY_RETENTION_DAYS`` (default 90): how long entries are kept."""

    price_history_retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, ge=1, le=3650)


class PriceHistoryEntry(BaseModel):
    """One event in a SKU's price history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: SellerId
    marketplace_id: MarketplaceId
    sku: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    at: UtcDatetime
    entry_id: str = Field(pattern=r"^[0-9a-f]{8,32}$")
    payload: dict[str, Any] = Field(default_factory=dict)
    expires_at: int | None = None

    @property
    def pk(self) -> str:
        return history_pk(self.seller_id, self.marketplace_id, self.sku)

    @property
    def sort_key(self) -> str:
        return f"{iso_utc(self.at)}#{self.entry_id}"


def history_pk(seller_id: str, marketplace_id: str, sku: str) -> str:
    return f"{seller_id}#{marketplace_id}#{sku}"


def entry_to_item(entry: PriceHistoryEntry) -> dict[str, dict[str, Any]]:
    return to_item(
        {
            "pk": entry.pk,
            "at": entry.sort_key,
            "seller_id": entry.seller_id,
            "marketplace_id": entry.marketplace_id,
            "sku": entry.sku,
            "kind": entry.kind,
            "entry_id": entry.entry_id,
            "payload": entry.payload,
            "expires_at": entry.expires_at,
        }
    )


def entry_from_item(item: Mapping[str, Mapping[str, Any]]) -> PriceHistoryEntry:
    return _entry(from_item(item))


class PriceHistoryRepository(DynamoTable):
    """Append-only price history per SKU.

    ``retention_days`` sets the TTL of new entries; ``clock`` gives "now" for entries
    without an explicit time; ``id_factory`` makes the unique suffix (8 hex digits).
    """

    settings_class = PriceHistoryConfig
    table_setting = "price_history_table"

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], datetime] = utc_now,
        id_factory: Callable[[], str] = lambda: secrets.token_hex(4),
    ) -> None:
        super().__init__(table_name, client=client, clock=clock)
        if retention_days < 1:
            raise ValueError("retention_days must be at least 1")
        self.retention_days = retention_days
        self._new_id = id_factory

    @classmethod
    def _settings_options(cls, settings: PriceHistoryConfig) -> dict[str, Any]:
        return {"retention_days": settings.price_history_retention_days}

    # -- writes -------------------------------------------------------------------------
    def new_entry(
        self,
        seller_id: str,
        marketplace_id: str,
        sku: str,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        *,
        at: datetime | None = None,
    ) -> PriceHistoryEntry:
        """Build an entry (time, unique id, expiry) without writing it."""
        moment = at if at is not None else self._clock()
        expires = moment + timedelta(days=self.retention_days)
        return PriceHistoryEntry(
            seller_id=seller_id,
            marketplace_id=marketplace_id,
            sku=sku,
            kind=str(kind),
            at=moment,
            entry_id=self._new_id(),
            payload=dict(payload or {}),
            expires_at=int(expires.timestamp()),
        )

    def append(
        self,
        seller_id: str,
        marketplace_id: str,
        sku: str,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        *,
        at: datetime | None = None,
    ) -> PriceHistoryEntry:
        """Write one entry (``at`` defaults to now) and return it."""
        entry = self.new_entry(seller_id, marketplace_id, sku, kind, payload, at=at)
        for _attempt in range(3):
            try:
                self.client.put_item(
                    TableName=self.table_name,
                    Item=entry_to_item(entry),
                    ConditionExpression="attribute_not_exists(pk)",
                )
                return entry
            except Exception as error:
                if not self._is_condition_failure(error):
                    raise
                # Same microsecond and same random suffix: draw another suffix.
                entry = entry.model_copy(update={"entry_id": self._new_id()})
        raise RuntimeError("could not find a free history key after 3 attempts")

    def append_many(self, entries: Iterable[PriceHistoryEntry]) -> None:
        """Write entries built with :meth:`new_entry` in batches of 25 (retrying throttled ones)."""
        requests = [{"PutRequest": {"Item": entry_to_item(e)}} for e in entries]
        for start in range(0, len(requests), _BATCH):
            pending: dict[str, Any] = {self.table_name: requests[start : start + _BATCH]}
            for attempt in range(_MAX_BATCH_ATTEMPTS):
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise RuntimeError("price history: DynamoDB left items unprocessed")

    # -- reads --------------------------------------------------------------------------
    def latest(
        self, seller_id: str, marketplace_id: str, sku: str, *, limit: int = 20
    ) -> list[PriceHistoryEntry]:
        """The ``limit`` newest entries of a SKU, newest first."""
        items, _ = self._query_page(
            {
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {
                    ":pk": {"S": history_pk(seller_id, marketplace_id, sku)}
                },
                "ScanIndexForward": False,
            },
            limit=limit,
            next_token=None,
            key_names=("pk", "at"),
            fixed={},
        )
        return [_entry(item) for item in items]

    def between(
        self,
        seller_id: str,
        marketplace_id: str,
        sku: str,
        start: datetime,
        end: datetime,
        *,
        limit: int = 100,
        next_token: str | None = None,
    ) -> Page[PriceHistoryEntry]:
        """Entries with ``start <= at <= end`` (both aware datetimes), oldest first, paged."""
        if end < start:
            raise ValueError("end is before start")
        pk = history_pk(seller_id, marketplace_id, sku)
        items, token = self._query_page(
            {
                "KeyConditionExpression": "pk = :pk AND #at BETWEEN :start AND :end",
                "ExpressionAttributeNames": {"#at": "at"},
                "ExpressionAttributeValues": {
                    ":pk": {"S": pk},
                    ":start": {"S": iso_utc(start)},
                    # "~" sorts after every suffix character, so entries at `end` count.
                    ":end": {"S": iso_utc(end) + "#~"},
                },
            },
            limit=limit,
            next_token=next_token,
            key_names=("pk", "at"),
            fixed={"pk": pk},
        )
        return Page([_entry(item) for item in items], token)


def _entry(values: dict[str, Any]) -> PriceHistoryEntry:
    moment, _, _ = values.pop("at").partition("#")
    values.pop("pk", None)
    return PriceHistoryEntry.model_validate({**values, "at": moment})
