"""What a strategy decides for one SKU, and the proposal it hands to the guardrails."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from functions.core.money import Money

from .state import RepricingState

Action = Literal["change", "hold", "skip"]


class Tier(BaseModel):
    """A B2B quantity-discount tier: unit price from ``quantity`` units on."""

    model_config = ConfigDict(frozen=True)

    quantity: int
    price: Money


class B2BPrices(BaseModel):
    """The business price (tier 1) and the quantity tiers, falling with quantity."""

    model_config = ConfigDict(frozen=True)

    business_price: Money
    tiers: tuple[Tier, ...] = ()


class Decision(BaseModel):
    """The outcome for one SKU.

    ``action``: ``change`` (submit ``new_price``), ``hold`` (keep the price) or ``skip``
    (no repricing: misconfigured, unmatched, duplicate...). ``reason`` is for people,
    ``rule`` a stable code for metrics. ``state`` is the SKU's state to store (also on
    hold and skip: observations are kept). For a B2B decision ``new_price``/``old_price``
    are the business price and ``b2b`` holds every tier. ``urgent`` asks the publisher to
    patch at once (Buy Box lost, price outside the bounds) instead of batching into a feed.
    Serialise with ``model_dump(mode="json")``.
    """

    model_config = ConfigDict(frozen=True)

    action: Action
    strategy: str
    rule: str
    reason: str
    old_price: Money | None = None
    new_price: Money | None = None
    state: RepricingState
    b2b: B2BPrices | None = None
    urgent: bool = False

    @property
    def currency(self) -> str | None:
        price = self.new_price or self.old_price
        return price.currency if price else None


_NO_CHANGES: Mapping[str, object] = MappingProxyType({})


class Proposal(NamedTuple):
    """A strategy's wish before the guardrails: a target listing price, or none (hold).

    ``state`` already carries what the strategy observed; ``on_change`` are the extra
    state updates that apply only if the guarded price really changes (e.g. a climb's
    markers); ``climb`` marks an upward probe while winning. (A named tuple: one per
    decision, immutable, made several times faster than a frozen dataclass.)
    """

    rule: str
    reason: str
    state: RepricingState
    target: Money | None = None
    skip: bool = False
    climb: bool = False
    urgent: bool = False
    on_change: Mapping[str, object] = _NO_CHANGES
