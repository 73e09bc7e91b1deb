"""UnitCosts table: a seller's unit (manufacturing) costs; key ``seller_id`` + ``sku``.

One item per SKU: ``costs`` maps each currency to the unit cost (a DynamoDB number, never
rounded), so a SKU sold in several marketplaces may have one cost per currency, as the
cost sheet allows (``functions/audit/logic/costs.py``). ``updated_at`` is stamped on
every write.

- :meth:`UnitCostRepository.put_many` upserts per SKU **and currency**: a cost replaces
  the stored cost of that SKU in that currency; the SKU's other currencies, and SKUs not
  given, are kept. It reads the given SKUs first (``BatchGetItem``) to merge and to count
  what was new, then writes (``BatchWriteItem``, unprocessed items retried). Two uploads
  for the same seller at the same moment may lose one's merge for a SKU they share
  (last writer wins); the API is the only writer, one seller uploads at a time.
- :meth:`UnitCostRepository.list_costs` pages the seller's SKUs in SKU order.
- :meth:`UnitCostRepository.cost_book` reads them all: ``{sku: {currency: Money}}``,
  what ``CostBook`` is built from (``core`` does not depend on ``audit``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from functions.core.money import Money
from functions.core.repositories.dynamo import (
    DynamoTable,
    Page,
    from_item,
    parse_utc,
    to_attribute,
    to_item,
)
from functions.core.settings import BaseConfig

_BATCH_GET = 100  # BatchGetItem's limit
_BATCH_WRITE = 25  # BatchWriteItem's limit
_MAX_ROUNDS = 8  # attempts for unprocessed keys/items before giving up


class UnitCostsConfig(BaseConfig):
    """``UNIT_COSTS_TABLE`` (set by template.yaml Globals)."""

    unit_costs_table: str


@dataclass(frozen=True, slots=True)
class SkuCosts:
    """One stored SKU: its unit cost per currency."""

    seller_id: str
    sku: str
    costs: dict[str, Money]
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CostsWritten:
    """What :meth:`UnitCostRepository.put_many` did, counted per SKU and currency."""

    created: int  # costs the seller did not have
    updated: int  # costs that replaced a stored one (same value or not)
    skus: int  # distinct SKUs written

    @property
    def total(self) -> int:
        return self.created + self.updated


class UnitCostsWriteIncomplete(RuntimeError):
    """DynamoDB kept refusing part of a batch (throttling); part may have been written."""


def _item_of(seller_id: str, sku: str, costs: Mapping[str, Money],
             updated_at: datetime) -> dict[str, dict[str, Any]]:
    values: dict[str, Any] = {
        "seller_id": seller_id,
        "sku": sku,
        "costs": {currency: money.amount for currency, money in sorted(costs.items())},
        "updated_at": updated_at,
    }
    return to_item(values)


def _from_item(item: Mapping[str, Mapping[str, Any]]) -> SkuCosts:
    return _from_plain(from_item(item))


class UnitCostRepository(DynamoTable):
    """Data access for unit costs; ``clock`` stamps ``updated_at``."""

    settings_class = UnitCostsConfig
    table_setting = "unit_costs_table"

    @staticmethod
    def _key(seller_id: str, sku: str) -> dict[str, dict[str, str]]:
        return {"seller_id": {"S": seller_id}, "sku": {"S": sku}}

    # -- writes ---------------------------------------------------------------------------
    def put_many(self, seller_id: str, costs: Iterable[tuple[str, Money]]) -> CostsWritten:
        """Upsert ``(sku, Money)`` pairs (a later pair for the same SKU and currency wins)."""
        wanted: dict[str, dict[str, Money]] = {}
        for sku, money in costs:
            if not sku:
                raise ValueError("sku is required")
            if money.amount < 0:
                raise ValueError(f"{sku}: a unit cost cannot be negative")
            wanted.setdefault(sku, {})[money.currency] = money
        if not wanted:
            return CostsWritten(0, 0, 0)
        stored = self._get_many(seller_id, list(wanted))
        created = updated = 0
        now = self._clock()
        items: list[dict[str, dict[str, Any]]] = []
        for sku, by_currency in wanted.items():
            merged = dict(stored.get(sku, {}))
            for currency, money in by_currency.items():
                if currency in merged:
                    updated += 1
                else:
                    created += 1
                merged[currency] = money
            items.append(_item_of(seller_id, sku, merged, now))
        for start in range(0, len(items), _BATCH_WRITE):
            self._write_batch(items[start:start + _BATCH_WRITE])
        return CostsWritten(created=created, updated=updated, skus=len(wanted))

    def _get_many(self, seller_id: str, skus: list[str]) -> dict[str, dict[str, Money]]:
        found: dict[str, dict[str, Money]] = {}
        for start in range(0, len(skus), _BATCH_GET):
            keys = [self._key(seller_id, sku) for sku in skus[start:start + _BATCH_GET]]
            request: dict[str, Any] = {
                self.table_name: {"Keys": keys, "ConsistentRead": True}}
            for _ in range(_MAX_ROUNDS):
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    stored = _from_item(item)
                    found[stored.sku] = stored.costs
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise UnitCostsWriteIncomplete("DynamoDB kept some keys unprocessed")
        return found

    def _write_batch(self, items: list[dict[str, dict[str, Any]]]) -> None:
        request: dict[str, Any] = {
            self.table_name: [{"PutRequest": {"Item": item}} for item in items]}
        for _ in range(_MAX_ROUNDS):
            response = self.client.batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}
            if not request:
                return
        raise UnitCostsWriteIncomplete(
            "DynamoDB kept some unit costs unprocessed; send the sheet again")

    # -- reads ----------------------------------------------------------------------------
    def get(self, seller_id: str, sku: str) -> SkuCosts | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=self._key(seller_id, sku), ConsistentRead=True)
        item = response.get("Item")
        return _from_item(item) if item else None

    def list_costs(self, seller_id: str, *, limit: int = 100,
                   next_token: str | None = None) -> Page[SkuCosts]:
        """One page of the seller's SKUs in SKU order."""
        items, token = self._query_page(
            {"KeyConditionExpression": "seller_id = :s",
             "ExpressionAttributeValues": {":s": to_attribute(seller_id)}},
            limit=limit, next_token=next_token, key_names=("seller_id", "sku"),
            fixed={"seller_id": seller_id})
        return Page([_from_plain(item) for item in items], token)

    def cost_book(self, seller_id: str) -> dict[str, dict[str, Money]]:
        """Every cost of the seller, ``{sku: {currency: Money}}`` (paged query)."""
        book: dict[str, dict[str, Money]] = {}
        token: str | None = None
        while True:
            page = self.list_costs(seller_id, limit=1000, next_token=token)
            for stored in page.items:
                book[stored.sku] = dict(stored.costs)
            token = page.next_token
            if token is None:
                return book


def _from_plain(plain: Mapping[str, Any]) -> SkuCosts:
    costs = {str(currency): Money(Decimal(amount), str(currency))
             for currency, amount in (plain.get("costs") or {}).items()}
    updated = plain.get("updated_at")
    return SkuCosts(str(plain["seller_id"]), str(plain["sku"]), costs,
                    parse_utc(updated) if updated else None)
