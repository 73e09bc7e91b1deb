"""A SKU's repricing state: what the strategies remember between notifications.

Plain, serialisable data (it is stored in the Listings table next to the config):
``state.model_dump(mode="json")`` gives strings, ISO timestamps and ``{"amount",
"currency"}`` money; ``RepricingState.model_validate(data)`` reads it back. Unknown keys
are ignored so that an older function can read a newer row. Immutable: strategies return
an updated copy inside their :class:`~functions.reprice.logic.decision.Decision`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from functions.core.models import copy_with
from functions.core.money import Money

from .notifications import _to_utc

UtcDateTime = Annotated[datetime, BeforeValidator(_to_utc)]


class Sale(BaseModel):
    """Units of one order item (counted once per OrderItemId) and when they were bought."""

    model_config = ConfigDict(frozen=True)

    at: UtcDateTime
    quantity: int = Field(ge=0)


class RepricingState(BaseModel):
    """Everything a strategy remembers about one SKU. Prices are listing prices."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    # -- our price ------------------------------------------------------------------------
    current_price: Money | None = None  # the price we last set (or were told): our belief
    last_change_at: UtcDateTime | None = None
    live_price: Money | None = None  # our offer's price as last seen in a notification
    live_seen_at: UtcDateTime | None = None
    pending_price: Money | None = None  # submitted, not yet seen live
    pending_since: UtcDateTime | None = None
    needs_reconcile: bool = False  # live price disagrees with ours: re-read it (getPricing)
    shipping: Money | None = None  # our shipping − points as last seen (landed = listing + it)

    # -- Buy Box ------------------------------------------------------------------------
    winning_since: UtcDateTime | None = None
    last_winning_price: Money | None = None
    climbed_from: Money | None = None  # P_w of the last climb
    climbed_to: Money | None = None  # P_c of the last climb
    last_climb_at: UtcDateTime | None = None
    ceiling: Money | None = None  # a climb to here lost the Buy Box
    ceiling_set_at: UtcDateTime | None = None
    last_unsuppressed_price: Money | None = None  # our price when a Buy Box last existed
    last_time_of_offer_change: UtcDateTime | None = None
    war_round: int = 0  # price war: rivals came back under our cut this often in a row
    war_cut_at: UtcDateTime | None = None  # our last undercut (rule 4)
    war_price: Money | None = None  # our landed price after it

    # -- Push -----------------------------------------------------------------------------
    push_level: int | None = None  # index into the usable levels
    push_level_since: UtcDateTime | None = None
    push_last_move: Literal["up", "down"] | None = None
    push_ceiling_level: int | None = None
    push_ceiling_set_at: UtcDateTime | None = None
    push_last_decided_at: UtcDateTime | None = None
    sales: dict[str, Sale] = Field(default_factory=dict)  # OrderItemId → sale
    in_stock: bool | None = None  # None: unknown (treated as in stock)

    # -- B2B ------------------------------------------------------------------------------
    business_price: Money | None = None
    b2b_tiers: dict[int, Money] = Field(default_factory=dict)

    def units_since(self, start: datetime) -> int:
        """Units sold from ``start`` (exclusive) on."""
        return sum(s.quantity for s in self.sales.values() if s.at > start)

    def updated(self, **changes: object) -> RepricingState:
        """A copy with ``changes`` applied (values must already have the field types):
        what ``model_copy(update=changes)`` gives, built directly (the engine makes a few
        copies per decision). Unlike ``model_copy``, a name that is not a field is refused."""
        return copy_with(self, changes)

    def applied(self, price: Money, now: datetime) -> RepricingState:
        """State after ``price`` is taken as live (replay, or a confirmed submission)."""
        return self.updated(
            current_price=price, live_price=price, live_seen_at=now,
            pending_price=None, pending_since=None, needs_reconcile=False,
        )

    def record_sale(
        self, order_item_id: str, quantity: int, at: datetime, now: datetime, *,
        canceled: bool, keep: timedelta,
    ) -> RepricingState:
        """Count an order item once (by OrderItemId); a cancellation removes it.

        ``at`` is when it was bought; sales older than ``keep`` before ``now`` are dropped
        (and a sale that old is not added: it no longer counts).
        """
        oldest = now - keep
        sales = {k: v for k, v in self.sales.items() if v.at > oldest}
        if canceled:
            sales.pop(order_item_id, None)
        elif order_item_id not in sales and at > oldest:
            sales[order_item_id] = Sale(at=at, quantity=quantity)
        return self.updated(sales=sales)
