"""Deciding a SKU's price: route to its strategy, then apply the guardrails.

The three entry points the handlers (and the replay CLI) call, all pure:

- :func:`decide` — an offer-change notification for one matched SKU
  (``ANY_OFFER_CHANGED`` → the SKU's strategy; ``B2B_ANY_OFFER_CHANGED`` → B2B prices);
- :func:`decide_push` — the hourly Push decision for one SKU;
- :func:`record_order` — an ``ORDER_CHANGE`` counted into a SKU's sales.

Each returns the new :class:`RepricingState` (inside the Decision for the first two); the
caller stores it whatever the action, and submits ``new_price`` when ``action == "change"``.
"""

from __future__ import annotations

from datetime import datetime

from functions.core.money import Money

from .b2b import decide_b2b
from .buybox import decide_buybox
from .decision import Decision, Proposal
from .fixed import decide_fixed
from .guardrails import guard
from .listing_config import ListingConfig
from .notifications import AnyOfferChanged, OrderChange
from .offers import MarketView
from .push import decide_push as _push_proposal
from .state import RepricingState


def _require_utc(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime (UTC)")


def is_stale(payload: AnyOfferChanged, last_applied: datetime | None) -> bool:
    """DESIGN §3: a TimeOfOfferChange not newer than the last applied one for the same
    (seller, marketplace, ASIN, condition) — ``payload.staleness_key()`` — is stale."""
    return last_applied is not None and payload.time_of_offer_change <= last_applied


def observe(
    view: MarketView, config: ListingConfig, state: RepricingState, now: datetime
) -> tuple[RepricingState, Money | None]:
    """Fold what a (B2C) notification shows about our offer into the state.

    Returns the state and our current price: the state's (the price we last set), else
    our offer's price in the notification, else the configured ``current_price``.
    A pending price seen live is confirmed; a live price that disagrees with ours (and no
    change pending) sets ``needs_reconcile``.
    """
    observed = view.our_listing
    changes: dict[str, object] = {"last_time_of_offer_change": view.time_of_offer_change}
    # A price equal to the one remembered keeps the remembered object: the stored state
    # then has fewer changed fields to write (see ``_changed_fields`` in the service).
    if observed is not None:
        if observed != state.live_price:
            changes["live_price"] = observed
        changes["live_seen_at"] = now
    offset = view.our_offset
    if offset is not None and offset != state.shipping:
        changes["shipping"] = offset
    current = state.current_price or observed or config.configured_current
    if state.current_price is None and current is not None:
        changes["current_price"] = current
    pending = state.pending_price
    if pending is not None and observed is not None and observed == pending:
        changes.update(pending_price=None, pending_since=None, needs_reconcile=False)
    elif pending is None and observed is not None and current is not None:
        changes["needs_reconcile"] = observed != current
    changes["winning_since"] = (state.winning_since or now) if view.we_win else None
    if not view.suppressed and current is not None and current != state.last_unsuppressed_price:
        changes["last_unsuppressed_price"] = current
    return state.updated(**changes), current


def finish(
    proposal: Proposal, config: ListingConfig, current: Money | None, now: datetime,
    strategy: str,
) -> Decision:
    """Apply the guardrails to a strategy's proposal and build the Decision."""
    if proposal.skip:
        return Decision(action="skip", strategy=strategy, rule=proposal.rule,
                        reason=proposal.reason, old_price=current, state=proposal.state)
    guarded = guard(proposal.target, current, config)
    note = guarded.note
    reason = f"{proposal.reason}; {note}" if note and proposal.reason else \
        proposal.reason or note
    if guarded.action == "skip":
        return Decision(action="skip", strategy=strategy, rule="bounds", reason=guarded.note,
                        old_price=current, state=proposal.state)
    if guarded.action == "hold" or guarded.price is None:
        return Decision(action="hold", strategy=strategy, rule=proposal.rule, reason=reason,
                        old_price=current, state=proposal.state)
    new = guarded.price
    changes = {**proposal.on_change, "current_price": new, "last_change_at": now,
               "pending_price": new, "pending_since": now}
    if proposal.climb and current is not None and new > current and not guarded.out_of_bounds:
        changes.update(climbed_from=current, climbed_to=new, last_climb_at=now)
    state = proposal.state.updated(**changes)
    return Decision(
        action="change", strategy=strategy, rule=proposal.rule if not guarded.out_of_bounds
        else "out_of_bounds", reason=reason, old_price=current, new_price=new, state=state,
        urgent=proposal.urgent or guarded.out_of_bounds,
    )


def decide(
    view: MarketView, config: ListingConfig, state: RepricingState, now: datetime
) -> Decision:
    """Decide one matched SKU's price for an offer-change notification.

    ``view`` comes from :func:`~functions.reprice.logic.offers.market_view` (built from
    the payload, the config and the offer matching found ours); ``now`` is tz-aware UTC.
    """
    _require_utc(now)
    if view.is_b2b:
        base = state.current_price or config.configured_current
        return decide_b2b(view, config, state, now, base)
    state, current = observe(view, config, state, now)
    problem = config.bounds_problem
    if problem:
        return Decision(action="skip", strategy=config.strategy, rule="bounds", reason=problem,
                        old_price=current, state=state)
    if config.strategy == "buybox":
        proposal = decide_buybox(view, config, state, now, current)
    elif config.strategy == "fixed":
        proposal = decide_fixed(config, state, current)
    else:
        proposal = Proposal("push_scheduled", "push: prices move on the hourly schedule, not on "
                                              "offer changes", state)
    return finish(proposal, config, current, now, config.strategy)


def decide_push(config: ListingConfig, state: RepricingState, now: datetime) -> Decision:
    """The hourly Push decision for one SKU (call it for ``strategy == "push"`` SKUs)."""
    _require_utc(now)
    current = state.current_price or config.configured_current
    if state.current_price is None and current is not None:
        state = state.updated(current_price=current)
    if config.strategy != "push":
        return Decision(action="skip", strategy=config.strategy, rule="not_push",
                        reason=f"strategy {config.strategy} is not push", old_price=current,
                        state=state)
    problem = config.bounds_problem
    if problem:
        return Decision(action="skip", strategy="push", rule="bounds", reason=problem,
                        old_price=current, state=state)
    return finish(_push_proposal(config, state, now, current), config, current, now, "push")


def record_order(
    order: OrderChange, config: ListingConfig, state: RepricingState, now: datetime
) -> tuple[RepricingState, int]:
    """Count an ORDER_CHANGE's items of this SKU into its sales (each OrderItemId once,
    ``Canceled`` removes it). Returns the state and the units now in the Push window."""
    _require_utc(now)
    at = order.summary.purchase_date or now
    for item in order.summary.order_items:
        if item.seller_sku != config.sku:
            continue
        state = state.record_sale(item.order_item_id, item.quantity, at, now,
                                  canceled=order.is_canceled, keep=config.push_window)
    return state, state.units_since(now - config.push_window)
