"""Listings table: one item per SKU, key ``pk = seller_id#marketplace_id`` + ``sku``.

GSI ``ByAsin`` (``asin_key = seller_id#marketplace_id#asin``, sort ``sku``) finds the SKUs a
price notification is about. Every item carries a numeric ``version``: the repricer reads
a listing, decides, and writes back with :meth:`ListingRepository.save` conditional on the
version it read, so two workers deciding for the same SKU at once cannot both win.

The strategy configuration and the repricing state are the repricer's models
(``functions.reprice.logic.listing_config.ListingConfig`` and
``functions.reprice.logic.state.RepricingState``); this record stores them as their JSON
form (``model_dump(mode="json")``: amounts and steps as decimal strings, times as
ISO-8601), so the table never rounds a price, new fields need no change here, and
``core`` does not depend on ``reprice``. Floats are refused anywhere in them.

Both are stored as one JSON text attribute each (compact; ``Decimal`` as its
exact decimal string, ``int`` as a JSON integer), not as nested maps: a SKU's state holds
dozens of values (and its recent sales), and every nested attribute value costs parsing
time in the SDK on every read — the repricer reads a SKU on every notification and pages
through a seller's catalogue for reconciliation and Push. Rows written as maps by earlier
versions are still read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, NoReturn

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from functions.core.accounts import MarketplaceId, SellerId, UtcDatetime
from functions.core.models import copy_with
from functions.core.money import parse_currency
from functions.core.repositories.dynamo import (
    DynamoTable,
    Page,
    from_item,
    iso_utc,
    reject_floats,
    to_item,
)
from functions.core.repositories.errors import AlreadyExists, ConcurrentModification, NotFound

BY_ASIN_INDEX = "ByAsin"
_AT_VERSION = "attribute_exists(pk) AND version = :expected"  # optimistic locking


def _token(value: str) -> str:
    text = value.strip()
    if not text or "#" in text:
        raise ValueError(f"{value!r}: must be non-empty and contain no '#'")
    return text


JsonMapping = Annotated[dict[str, Any], AfterValidator(reject_floats)]


class Listing(BaseModel):
    """One SKU of one seller on one marketplace. ``version`` 0 = not stored yet.

    ``strategy`` is a ``ListingConfig`` in JSON form, ``state`` a ``RepricingState`` in
    JSON form (see the module docstring); numbers in them may be decimal strings,
    ``Decimal`` or ``int`` (they come back as ``Decimal``), never ``float``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: SellerId
    marketplace_id: MarketplaceId
    sku: str = Field(min_length=1, max_length=200)
    asin: Annotated[str, AfterValidator(_token)] = Field(max_length=20)
    condition: Annotated[str, AfterValidator(_token)] = "new"
    fulfillment: Literal["FBA", "FBM"]
    currency: Annotated[str, AfterValidator(parse_currency)]
    strategy: JsonMapping = Field(default_factory=dict)
    paused: bool = False
    dry_run: bool = False
    state: JsonMapping = Field(default_factory=dict)
    version: int = Field(default=0, ge=0)
    updated_at: UtcDatetime | None = None

    @property
    def pk(self) -> str:
        return listing_pk(self.seller_id, self.marketplace_id)

    @property
    def asin_key(self) -> str:
        return asin_key(self.seller_id, self.marketplace_id, self.asin)

    def evolve(self, **changes: Any) -> Listing:
        """A copy with ``changes`` applied and validated again (``model_copy`` does not)."""
        return type(self).model_validate({**self.model_dump(), **changes})


def listing_pk(seller_id: str, marketplace_id: str) -> str:
    return f"{seller_id}#{marketplace_id}"


def asin_key(seller_id: str, marketplace_id: str, asin: str) -> str:
    return f"{seller_id}#{marketplace_id}#{asin}"


# -- storage mapping ------------------------------------------------------------------------
JSON_ATTRIBUTES = ("strategy", "state")


def listing_to_item(listing: Listing) -> dict[str, dict[str, Any]]:
    """The DynamoDB item: keys, scalars, and strategy/state as JSON text."""
    values = listing.model_dump(mode="python")
    values["pk"] = listing.pk
    values["asin_key"] = listing.asin_key
    for name in JSON_ATTRIBUTES:
        values[name] = dump_json_attribute(values[name])
    return to_item(values)


def listing_from_item(item: Mapping[str, Mapping[str, Any]]) -> Listing:
    return _listing(from_item(item))


def dump_json_attribute(value: Mapping[str, Any]) -> str:
    """``strategy`` / ``state`` as stored: compact JSON, decimals as exact strings."""
    return json.dumps(value, default=_json_value, separators=(",", ":"), ensure_ascii=False)


def load_json_attribute(stored: Any) -> dict[str, Any]:
    """What :func:`dump_json_attribute` stored (or a map an earlier version stored)."""
    if stored is None:
        return {}
    if isinstance(stored, str):
        value = json.loads(stored)
        if not isinstance(value, dict):
            raise ValueError(f"stored JSON attribute is a {type(value).__name__}, not an object")
        return value
    return dict(stored)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot store {value!r}: not a finite number")
        return format(value, "f")
    if isinstance(value, datetime):
        return iso_utc(value)
    raise TypeError(f"cannot store a {type(value).__name__} in a listing's JSON")


def _listing(values: dict[str, Any]) -> Listing:
    """A Listing from a plain item (keys stripped, JSON attributes decoded)."""
    values = _strip_keys(values)
    for name in JSON_ATTRIBUTES:
        if name in values:
            values[name] = load_json_attribute(values[name])
    return Listing.model_validate(values)


class ListingRepository(DynamoTable):
    """Data access for listings with optimistic locking on ``version``.

    ``client`` is a boto3 DynamoDB client (created on first use when omitted); ``clock``
    stamps ``updated_at`` on every write.
    """

    table_setting = "listings_table"

    @staticmethod
    def _key(seller_id: str, marketplace_id: str, sku: str) -> dict[str, dict[str, str]]:
        return {"pk": {"S": listing_pk(seller_id, marketplace_id)}, "sku": {"S": sku}}

    # -- reads --------------------------------------------------------------------------
    def get(self, seller_id: str, marketplace_id: str, sku: str) -> Listing | None:
        """The listing (strongly consistent read), or ``None``."""
        response = self.client.get_item(
            TableName=self.table_name,
            Key=self._key(seller_id, marketplace_id, sku),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return listing_from_item(item) if item else None

    def find_by_asin(self, seller_id: str, marketplace_id: str, asin: str) -> list[Listing]:
        """Every SKU of the seller for ``asin`` on the marketplace, by SKU.

        Reads the ``ByAsin`` index, which is eventually consistent: re-read a listing with
        :meth:`get` before deciding on it if its version matters.
        """
        items = self._query_all(
            {
                "IndexName": BY_ASIN_INDEX,
                "KeyConditionExpression": "asin_key = :key",
                "ExpressionAttributeValues": {
                    ":key": {"S": asin_key(seller_id, marketplace_id, asin.strip())}
                },
            }
        )
        return [_listing(item) for item in items]

    def list_for_marketplace(
        self,
        seller_id: str,
        marketplace_id: str,
        *,
        limit: int = 100,
        next_token: str | None = None,
    ) -> Page[Listing]:
        """One page of the seller's listings on a marketplace, in SKU order."""
        pk = listing_pk(seller_id, marketplace_id)
        items, token = self._query_page(
            {
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
                "ConsistentRead": True,
            },
            limit=limit,
            next_token=next_token,
            key_names=("pk", "sku"),
            fixed={"pk": pk},
        )
        return Page([_listing(i) for i in items], token)

    # -- writes -------------------------------------------------------------------------
    def put_new(self, listing: Listing) -> Listing:
        """Store a listing that must not exist yet; returns it at version 1.

        Raises :class:`AlreadyExists` when the SKU is already stored.
        """
        stored = listing.evolve(version=1, updated_at=self._clock())
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=listing_to_item(stored),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except Exception as error:
            if self._is_condition_failure(error):
                raise AlreadyExists("listing", _plain_key(listing)) from None
            raise
        return stored

    def save(self, listing: Listing, expected_version: int) -> Listing:
        """Replace the stored listing if it is still at ``expected_version``.

        Returns the listing as stored, at ``expected_version + 1``. Raises
        :class:`ConcurrentModification` if another writer saved first (re-read, decide
        again), :class:`NotFound` if the listing is gone.
        """
        stored = listing.evolve(version=expected_version + 1, updated_at=self._clock())
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=listing_to_item(stored),
                ConditionExpression=_AT_VERSION,
                ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as error:
            self._raise_write_conflict(error, listing, expected_version)
        return stored

    def save_state(
        self, listing: Listing, state: Mapping[str, Any], expected_version: int
    ) -> Listing:
        """Write a new ``state`` (a RepricingState's JSON form) of a listing still at
        ``expected_version``: an UpdateItem of ``state``, ``version`` and ``updated_at``
        only. The repricer writes a SKU's state on every notification; the rest of the
        item (strategy, identity) is neither sent nor validated again.

        ``state`` is kept as given in the returned listing (do not change it afterwards).
        Same result and errors as :meth:`save`.
        """
        reject_floats(state, "state")
        now = self._clock()
        version = expected_version + 1
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(listing.seller_id, listing.marketplace_id, listing.sku),
                UpdateExpression="SET #state = :state, version = :version, updated_at = :at",
                ConditionExpression=_AT_VERSION,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":state": {"S": dump_json_attribute(state)},
                    ":version": {"N": str(version)},
                    ":at": {"S": iso_utc(now)},
                    ":expected": {"N": str(expected_version)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as error:
            self._raise_write_conflict(error, listing, expected_version)
        return copy_with(listing, {"state": state, "version": version, "updated_at": now})

    def _raise_write_conflict(
        self, error: Exception, listing: Listing, expected_version: int
    ) -> NoReturn:
        """``error`` of a write conditional on ``expected_version``, as the repository's
        error: NotFound (gone), ConcurrentModification (another writer won), or itself."""
        if not self._is_condition_failure(error):
            raise error
        old = self._old_item(error)
        if old is None:
            raise NotFound("listing", _plain_key(listing)) from None
        raise ConcurrentModification(
            "listing",
            _plain_key(listing),
            expected_version=expected_version,
            actual_version=int(old.get("version", 0)),
        ) from None

    def delete(self, seller_id: str, marketplace_id: str, sku: str) -> bool:
        """Remove a listing; ``True`` if it existed."""
        response = self.client.delete_item(
            TableName=self.table_name,
            Key=self._key(seller_id, marketplace_id, sku),
            ReturnValues="ALL_OLD",
        )
        return bool(response.get("Attributes"))


def _strip_keys(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in ("pk", "asin_key")}


def _plain_key(listing: Listing) -> dict[str, str]:
    return {"pk": listing.pk, "sku": listing.sku}
