"""The message on the FIFO price-updates queue: one decided price for one SKU.

Producers (the reprice handler, the Push schedule, reconciliation) send it with
``MessageGroupId`` = seller id, so one publisher at a time spends a seller's SP-API quota,
and ``MessageDeduplicationId`` = :meth:`PriceUpdate.deduplication_id`, so a redelivered
notification never enqueues the same update twice. The publisher coalesces a batch to
the latest update per SKU (``decided_at``, then ``sequence``) before submitting.
"""

from __future__ import annotations

import hashlib

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from functions.core.money import Money


class QuantityTier(BaseModel):
    model_config = ConfigDict(frozen=True)

    quantity: int = Field(ge=2, description="lower bound of the tier (units)")
    price: Money = Field(description="unit price from this quantity on (listing price)")


class PriceUpdate(BaseModel):
    """A price to submit to Amazon. Prices are listing prices in the marketplace currency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: str = Field(min_length=1)
    marketplace_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    price: Money
    min_price: Money = Field(description="mirrored to minimum_seller_allowed_price")
    max_price: Money = Field(description="mirrored to maximum_seller_allowed_price")
    business_price: Money | None = None
    quantity_tiers: tuple[QuantityTier, ...] = ()
    urgent: bool = Field(
        default=False, description="patch at once (Buy Box lost, price was out of bounds)"
    )
    decided_at: AwareDatetime
    source: str = Field(description="notification id, 'push@<hour>' or 'reconcile@<time>'")
    reason: str = ""
    sequence: int = Field(default=0, ge=0, description="listing version that decided it")

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.seller_id, self.marketplace_id, self.sku)

    def deduplication_id(self) -> str:
        """Same source and SKU → same id (SQS FIFO drops the repeat within 5 minutes)."""
        raw = f"{self.source}|{self.seller_id}|{self.marketplace_id}|{self.sku}"
        return hashlib.sha256(raw.encode()).hexdigest()[:64]

    def to_message(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_message(cls, body: str) -> PriceUpdate:
        return cls.model_validate_json(body)


def coalesce(updates: list[PriceUpdate]) -> list[PriceUpdate]:
    """Latest update per SKU wins (by ``decided_at``, then ``sequence``); order kept stable.

    An update marked urgent stays urgent when a later, non-urgent one for the same SKU
    replaces it: the Buy Box was lost in between either way.
    """
    latest: dict[tuple[str, str, str], PriceUpdate] = {}
    urgent: set[tuple[str, str, str]] = set()
    for update in updates:
        if update.urgent:
            urgent.add(update.key)
        current = latest.get(update.key)
        if current is None or (update.decided_at, update.sequence) >= (
            current.decided_at,
            current.sequence,
        ):
            latest[update.key] = update
    result = []
    for key, update in latest.items():
        if key in urgent and not update.urgent:
            update = update.model_copy(update={"urgent": True})
        result.append(update)
    return result

