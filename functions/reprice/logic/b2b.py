"""B2B prices (repricing.md §6.4): the business price and quantity-discount tiers.

Derived from the B2C decision (our current B2C price): business price = B2C − ``b2b_discount``,
tier *q* = B2C − ``b2b_tiers[q]``; a tier we already have but did not configure keeps its
price. Then, per tier (the business price is tier 1), against ``B2B_ANY_OFFER_CHANGED``'s
Buy Box rows: a rival (passing our competitor filters) wins the tier → at most its price
− ``undercut``; below the floor → ``below_floor``; we win the tier → never lower it. Every
price goes through the guardrails (against its own previous price); tiers must fall with
quantity, so a tier not below the one before it is set one tick under it, or dropped when
that is below the floor.
"""

from __future__ import annotations

from datetime import datetime

from functions.core.money import Money

from .decision import B2BPrices, Decision, Tier
from .guardrails import guard
from .listing_config import ListingConfig
from .offers import MarketView, TierPrice
from .state import RepricingState


def _compete(
    target: Money, row: TierPrice | None, ours_before: Money | None, view: MarketView,
    config: ListingConfig, offset: Money,
) -> tuple[Money | None, str]:
    """Adjust a tier's target for its Buy Box winner; (None = keep as before, why)."""
    if row is None:
        return target, "no B2B Buy Box"
    basis = offset if row.landed else Money.zero(config.currency)
    ours = row.seller_id == view.seller_id or (
        row.seller_id is None and ours_before is not None and ours_before + basis <= row.price
    )
    if ours:
        if ours_before is not None and target < ours_before:
            return ours_before, "we win it: kept"
        return target, "we win it"
    if not row.relevant:
        return target, f"winner {row.seller_id} filtered out"
    if target + basis < row.price:
        return target, f"already below {row.seller_id or 'the winner'} at {row.price.to_str()}"
    cut = config.undercut.of(row.price)
    undercut = row.price - cut - basis
    rival = f"{row.seller_id or 'the winner'} at {row.price.to_str()}"
    if undercut < config.floor:
        if config.below_floor == "hold":
            return None, f"{rival}: undercut below the floor, holding"
        return config.floor, f"{rival}: undercut below the floor, at the floor"
    return undercut, f"undercut {rival}"


def decide_b2b(
    view: MarketView, config: ListingConfig, state: RepricingState, now: datetime,
    base: Money | None,
) -> Decision:
    """Business price and tiers for one SKU from a B2B_ANY_OFFER_CHANGED view.

    ``base`` is our current B2C price (the B2C decision the B2B prices derive from).
    """
    offer = view.our_offer
    observed_business = view.our_listing
    observed_tiers = {
        q.quantity_tier: q.listing_price for q in (offer.quantity_discount_price if offer else [])
        if q.listing_price.currency == config.currency
    }
    old_business = state.business_price or observed_business
    old_tiers = dict(state.b2b_tiers) or observed_tiers
    state = state.updated(last_time_of_offer_change=view.time_of_offer_change)

    def decision(action: str, rule: str, reason: str, **kw: object) -> Decision:
        return Decision(action=action, strategy="b2b", rule=rule, reason=reason,
                        old_price=old_business, state=kw.pop("state", state), **kw)

    problem = config.bounds_problem
    if problem:
        return decision("skip", "bounds", problem)
    if base is None:
        return decision("skip", "b2b_no_base", "B2B: no B2C price known to derive the "
                                               "business price from")
    offset = view.our_offset or state.shipping or Money.zero(config.currency)
    rows = {row.quantity: row for row in view.tiers}
    tick = Money._trusted(config.tick, config.currency)
    notes: list[str] = []

    target = base - config.b2b_discount.of(base)
    wanted, why = _compete(target, rows.get(1), old_business, view, config, offset)
    guarded = guard(wanted, old_business, config)
    if guarded.action == "skip":
        return decision("skip", "bounds", guarded.note)
    business = guarded.price if guarded.action == "change" else old_business
    if business is None:
        return decision("hold", "b2b_hold", f"B2B: no business price can be set ({why})")
    notes.append(f"business price {business.to_str()} (B2C {base.to_str()} - "
                 f"{config.b2b_discount}; {why}{'; ' + guarded.note if guarded.note else ''})")

    tiers: list[Tier] = []
    previous = business
    for quantity in sorted((set(config.b2b_tiers) | set(old_tiers)) - {1}):
        before = old_tiers.get(quantity)
        discount = config.b2b_tiers.get(quantity)
        tier_target = base - discount.of(base) if discount is not None else before
        assert tier_target is not None
        wanted, why = _compete(tier_target, rows.get(quantity), before, view, config, offset)
        guarded = guard(wanted, before, config)
        price = guarded.price if guarded.action == "change" else before
        if price is None:
            notes.append(f"tier {quantity}: none ({why})")
            continue
        if price >= previous:
            price = (previous - tick).round_down()
            why += f"; set one tick under the tier before ({previous.to_str()})"
            if price < config.floor:
                notes.append(f"tier {quantity}: dropped (would not fall with quantity above "
                             f"the floor)")
                continue
        tiers.append(Tier(quantity=quantity, price=price))
        notes.append(f"tier {quantity}: {price.to_str()} ({why})")
        previous = price

    new_tiers = {t.quantity: t.price for t in tiers}
    changed = business != old_business or new_tiers != old_tiers
    prices = B2BPrices(business_price=business, tiers=tuple(tiers))
    reason = "B2B: " + "; ".join(notes)
    if not changed:
        return decision("hold", "b2b_hold", reason, new_price=None, b2b=prices)
    new_state = state.updated(business_price=business, b2b_tiers=new_tiers)
    return decision("change", "b2b", reason, new_price=business, b2b=prices, state=new_state)
