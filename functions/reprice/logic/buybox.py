"""The Buy Box strategy (repricing.md §6.2).

Rules, first match (landed prices compared; the target converted back to a listing
price with our shipping − points):

1. *Pending*: our last change is not yet seen live. Within ``confirm_timeout`` react only
   to a Buy Box below the pending price; past it, stop waiting and flag for reconciliation.
   ``External`` triggers (an off-Amazon price crossed the threshold) check suppression only.
2. *No competitor* → ``no_competition``: ``max`` steps toward max_price, ``hold`` holds.
   (No competitor and no Buy Box at all: we alone are suppressed → rule 6.)
3. *Lost after a climb*: we won at P_w, climbed to P_c and a rival now wins at ≥ P_w →
   back to P_w and remember P_c as a ceiling (relaxing linearly to max over ``ceiling_ttl``).
4. *Rival wins* → its Buy Box price − the cut (``amazon_mode`` match_only: no undercut
   against Amazon); below the floor → ``below_floor`` (floor or hold). Already below the
   Buy Box by at least the cut and still losing → hold (lowering would not win it).
   The cut is max(``undercut``, ``buybox_lead`` × the rival's landed price), here and in
   rule 5: the Buy Box rotates among near-equal offers, so a one-tick lead buys about
   half of it; the default 3 % lead takes most of it, also against Amazon's edge.
   *Price-war guard*: a rival back under our last cut within ``price_war_window`` is
   one more round of a price war; after ``price_war_rounds`` rounds each round halves
   the lead (down to ``undercut``), so a war against a rival whose floor is under ours
   is fought in small steps instead of reaching our floor within hours.
5. *We win* → never lower. Shown as the winner while a competitor is as cheap or cheaper
   (a rotation draw, not the Buy Box) → hold, no climb. After ``climb_interval`` since our
   last change:
   min(max(current + climb_step, next rival above − cut), ceiling − tick, max);
   when a full step would overtake the next rival and we have no fulfilment edge over it
   (it is FBA/Prime like us, or Amazon), only to just under it (a step past it only hands
   it the Buy Box: the 'climb, lose, come back' oscillation).
   Climbs (here and in rule 2) also stay under the competitive price threshold when the
   notification gives one (above it the offer loses Buy Box eligibility).
6. *Suppressed* (no Buy Box at all) → threshold − tick, else our last price that had a
   Buy Box.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from functions.core.money import Money

from .decision import Proposal
from .listing_config import ListingConfig
from .offers import Competitor, MarketView
from .state import RepricingState

_MICROSECOND = timedelta(microseconds=1)


def effective_ceiling(state: RepricingState, config: ListingConfig, now: datetime) -> Money | None:
    """The remembered ceiling, relaxed linearly toward max_price over ``ceiling_ttl``."""
    if state.ceiling is None or state.ceiling_set_at is None:
        return None
    elapsed = now - state.ceiling_set_at
    ttl = config.ceiling_ttl
    if ttl.total_seconds() <= 0 or elapsed >= ttl:
        return None
    if elapsed.total_seconds() <= 0:
        return state.ceiling
    fraction = Decimal(elapsed // _MICROSECOND) / Decimal(ttl // _MICROSECOND)
    top = config.max
    if state.ceiling >= top:
        return state.ceiling
    return state.ceiling + (top - state.ceiling) * fraction


class _Pricing:
    """Landed ↔ listing conversion with our shipping − points."""

    def __init__(self, view: MarketView, state: RepricingState, config: ListingConfig):
        offset = view.our_offset or state.shipping
        self.offset = offset if offset is not None and offset.currency == config.currency \
            else Money.zero(config.currency)

    def landed(self, listing: Money) -> Money:
        return listing + self.offset

    def listing(self, landed: Money) -> Money:
        return landed - self.offset


def _undercut(config: ListingConfig, rival: Competitor, base: Money, war_round: int = 0) -> Money:
    """How far under ``rival`` (landed): ``undercut`` (of ``base``, our price), at least
    ``buybox_lead`` of the rival's landed price — halved for each round of a price war past
    ``price_war_rounds``; none against Amazon in match_only."""
    if config.amazon_mode == "match_only" and rival.is_amazon:
        return Money.zero(config.currency)
    lead = config.buybox_lead.of(rival.landed)
    halvings = war_round - config.price_war_rounds
    if halvings > 0:
        lead = (lead * (Decimal(1) / (1 << halvings))).quantize()
    return max(config.undercut.of(base), lead)


def _war_round(config: ListingConfig, state: RepricingState, rival: Competitor,
               now: datetime) -> int:
    """The price-war round a rival win is (rule 4): 0 unless we undercut within
    ``price_war_window``; one more each time a rival comes back under our last cut."""
    cut_at, our_price = state.war_cut_at, state.war_price
    if cut_at is None or our_price is None or now - cut_at > config.price_war_window:
        return 0
    if rival.landed < our_price:
        return state.war_round + 1
    return state.war_round


def decide_buybox(
    view: MarketView, config: ListingConfig, state: RepricingState, now: datetime,
    current: Money | None,
) -> Proposal:
    """Propose a listing price for a Buy Box SKU (see the module doc for the rules)."""
    pricing = _Pricing(view, state, config)
    prefix = ""

    # 1. pending
    if state.pending_price is not None and state.pending_since is not None:
        pending = state.pending_price
        age = now - state.pending_since
        if age > config.confirm_timeout:
            state = state.updated(pending_price=None, pending_since=None, needs_reconcile=True)
            prefix = (f"our price {pending.to_str()} not seen live after "
                      f"{_minutes(age)} min (flagged for reconciliation); ")
        else:
            rival = view.rival_winner
            if rival is None or rival.landed >= pricing.landed(pending):
                return Proposal(
                    "pending", f"waiting for our price {pending.to_str()} to go live "
                               f"(submitted {_minutes(age)} min ago)", state)
            lost = _lost_after_climb(view, config, state, now, current, pricing)
            if lost is not None:
                return lost
            return _rival_wins(view, config, state, current, pricing, rival, prefix, now)

    if view.is_external:
        if view.suppressed:
            return _suppressed(view, config, state, current, pricing, prefix + "External: ")
        return Proposal("external", prefix + "External (off-Amazon) price change and the "
                                             "Buy Box is not suppressed: nothing to do", state)

    # 2. no competitor (a suppressed Buy Box with nobody else: rule 6, never climb)
    if not view.competitors and view.rival_winner is None:
        if view.sibling_wins:
            return Proposal("sibling_wins", prefix + "the Buy Box is held by another offer "
                                                     "of ours; no competitor", state)
        if view.suppressed and not view.we_win and view.our_offer is not None:
            return _suppressed(view, config, state, current, pricing, prefix)
        return _no_competition(view, config, state, now, current, prefix, pricing)

    # 3. lost after a climb
    lost = _lost_after_climb(view, config, state, now, current, pricing)
    if lost is not None:
        return lost

    # 4. a rival wins
    if not view.we_win:
        rival = view.rival_winner
        if rival is None and view.winner_ignored and view.competitors:
            rival = view.competitors[0]
        if rival is not None:
            return _rival_wins(view, config, state, current, pricing, rival, prefix, now)

    # 5. we win
    if view.we_win:
        return _we_win(view, config, state, now, current, pricing, prefix)

    # 6. suppressed
    if view.suppressed:
        return _suppressed(view, config, state, current, pricing, prefix)
    if view.sibling_wins:
        return Proposal("sibling_wins", prefix + "the Buy Box is held by another offer of ours",
                        state)
    return Proposal("no_rule", prefix + "no Buy Box rule applies", state)


def _threshold_cap(view: MarketView, config: ListingConfig, pricing: _Pricing) -> Money | None:
    """Highest listing price that stays under the competitive price threshold, if known."""
    if view.threshold is None:
        return None
    return pricing.listing(view.threshold - Money._trusted(config.tick, config.currency))


def _no_competition(
    view: MarketView, config: ListingConfig, state: RepricingState, now: datetime,
    current: Money | None, prefix: str, pricing: _Pricing,
) -> Proposal:
    if config.no_competition == "hold":
        return Proposal("no_competition", prefix + "no competitor: holding "
                                                   "(no_competition hold)", state)
    top, what = config.max, "max_price"
    cap = _threshold_cap(view, config, pricing)
    if cap is not None and cap < top:
        top, what = cap, "the competitive price threshold"
    if current is None:
        return Proposal("no_competition", prefix + f"no competitor: to {what}", state,
                        target=top)
    if current >= top:
        return Proposal("no_competition", prefix + f"no competitor and already at {what}",
                        state)
    waited = _climb_wait(config, state, now)
    if waited is not None:
        return Proposal("no_competition", prefix + f"no competitor; next step up after {waited}",
                        state)
    target = min(current + config.climb_step.of(current), top)
    return Proposal(
        "no_competition",
        prefix + f"no competitor: step up {config.climb_step} toward {what} "
                 f"{top.round_down().to_str()}",
        state, target=target, climb=True,
    )


def _lost_after_climb(
    view: MarketView, config: ListingConfig, state: RepricingState, now: datetime,
    current: Money | None, pricing: _Pricing,
) -> Proposal | None:
    won_at, climbed_to, rival = state.climbed_from, state.climbed_to, view.rival_winner
    if won_at is None or climbed_to is None or rival is None or view.we_win:
        return None
    if current is None or current != climbed_to or rival.landed < pricing.landed(won_at):
        return None
    state = state.updated(ceiling=climbed_to, ceiling_set_at=now, climbed_from=None,
                          climbed_to=None)
    return Proposal(
        "lost_after_climb",
        f"lost the Buy Box after climbing {won_at.to_str()} -> {climbed_to.to_str()} "
        f"({rival.seller_id} wins at {rival.landed.to_str()} landed): back to "
        f"{won_at.to_str()}, ceiling {climbed_to.to_str()} for {_hours(config)} h",
        state, target=won_at, urgent=True,
    )


def _rival_wins(
    view: MarketView, config: ListingConfig, state: RepricingState, current: Money | None,
    pricing: _Pricing, rival: Competitor, prefix: str, now: datetime,
) -> Proposal:
    who = f"{rival.seller_id} {'wins the Buy Box' if rival.is_winner else 'is the lowest'}" \
          f" at {rival.landed.to_str()} landed"
    if not rival.is_winner:
        who = "the Buy Box holder is filtered out; " + who
    base = current if current is not None else pricing.listing(rival.landed)
    war_round = _war_round(config, state, rival, now)
    cut = _undercut(config, rival, base, war_round)
    if current is not None and pricing.landed(current) < rival.landed and \
            pricing.landed(current) <= rival.landed - cut:
        return Proposal("below_buy_box", prefix + f"{who}; we are already below it "
                                                  f"({pricing.landed(current).to_str()}) by "
                                                  f"at least {cut.round_down().to_str()}: "
                                                  "holding", state)
    target = pricing.listing(rival.landed - cut)
    how = "match Amazon (amazon_mode match_only)" if cut.is_zero() else \
        f"undercut by {cut.round_down().to_str()}"
    if war_round > config.price_war_rounds and not cut.is_zero():
        how += f" (price war round {war_round}: a smaller lead)"
    if target < config.floor:
        if config.below_floor == "hold":
            return Proposal("below_floor", prefix + f"{who}; {how} would be below the floor "
                                                    f"{config.floor.to_str()}: holding "
                                                    "(below_floor hold)", state)
        return Proposal("below_floor", prefix + f"{who}; {how} would be below the floor: "
                                                f"at the floor {config.floor.to_str()}",
                        state, target=config.floor, urgent=True)
    return Proposal("undercut", prefix + f"{who}: {how}", state, target=target, urgent=True,
                    on_change={"war_round": war_round, "war_cut_at": now,
                               "war_price": (rival.landed - cut).quantize()})


def _we_win(
    view: MarketView, config: ListingConfig, state: RepricingState, now: datetime,
    current: Money | None, pricing: _Pricing, prefix: str,
) -> Proposal:
    if current is None:
        return Proposal("winning", prefix + "we win the Buy Box (our price unknown): holding",
                        state)
    state = state.updated(last_winning_price=current)
    waited = _climb_wait(config, state, now)
    if waited is not None:
        return Proposal("winning", prefix + f"we win the Buy Box at {current.to_str()}; next "
                                            f"climb after {waited}", state)
    cheapest = view.competitors[0] if view.competitors else None
    if cheapest is not None and cheapest.landed <= pricing.landed(current):
        # The Buy Box rotates among near-equal offers: shown as the winner while a rival
        # is as cheap or cheaper, we hold a share of it, not the Buy Box; a climb would
        # only hand the rival more of it.
        return Proposal("winning", prefix + f"we win the Buy Box at {current.to_str()}, but "
                                            f"{cheapest.seller_id} is at "
                                            f"{cheapest.landed.to_str()} landed (not above "
                                            "us): holding, no climb", state)
    step_to = current + config.climb_step.of(current)
    candidate, toward = step_to, f"one climb_step ({config.climb_step})"
    above = view.cheapest_above(pricing.landed(current))
    if above is not None:
        under_next = pricing.listing(above.landed - _undercut(config, above, current))
        if under_next > step_to:
            candidate = under_next
            toward = f"just under {above.seller_id} at {above.landed.to_str()} landed"
        elif _no_edge_over(view, config, above):
            # A full step would overtake a rival we have no fulfilment edge over and hand
            # it the Buy Box for nothing: climb only to just under it.
            candidate = under_next
            toward = (f"just under {above.seller_id} at {above.landed.to_str()} landed "
                      "(no edge over it to climb past)")
        else:
            toward += f"; next rival {above.seller_id} at {above.landed.to_str()} landed"
    cap, capped_by = config.max, "max_price"
    ceiling = effective_ceiling(state, config, now)
    if ceiling is not None and ceiling - Money._trusted(config.tick, config.currency) < cap:
        cap, capped_by = ceiling - Money._trusted(config.tick, config.currency), "the ceiling"
    if state.ceiling is not None and ceiling is None:
        state = state.updated(ceiling=None, ceiling_set_at=None)
    threshold_cap = _threshold_cap(view, config, pricing)
    if threshold_cap is not None and threshold_cap < cap:
        cap, capped_by = threshold_cap, "the competitive price threshold"
    target = min(candidate, cap)
    if candidate <= current:
        return Proposal("winning", prefix + f"we win the Buy Box at {current.to_str()}; "
                                            f"already {toward}: holding", state)
    if target <= current:
        return Proposal("winning", prefix + f"we win the Buy Box at {current.to_str()}; at "
                                            f"{capped_by}: holding", state)
    if target < candidate:
        toward += f", capped by {capped_by} {cap.round_down().to_str()}"
    return Proposal(
        "climb", prefix + f"we win the Buy Box at {current.to_str()}: climb {toward}",
        state, target=target, climb=True,
    )


def _no_edge_over(view: MarketView, config: ListingConfig, rival: Competitor) -> bool:
    """True when our offer has no fulfilment edge over ``rival`` (§5: FBA / Prime can hold
    the Buy Box at higher prices than FBM; Amazon retail usually dominates)."""
    if rival.is_amazon:
        return True
    ours = view.our_offer
    our_fba = bool(ours.is_fulfilled_by_amazon) if ours is not None and \
        ours.is_fulfilled_by_amazon is not None else config.fulfillment == "FBA"
    return rival.fba or not our_fba


def _suppressed(
    view: MarketView, config: ListingConfig, state: RepricingState, current: Money | None,
    pricing: _Pricing, prefix: str,
) -> Proposal:
    tick = Money._trusted(config.tick, config.currency)
    if view.threshold is not None:
        if current is not None and pricing.landed(current) < view.threshold:
            return Proposal("suppressed", prefix + "Buy Box suppressed; we are already below "
                                                   f"the competitive price threshold "
                                                   f"{view.threshold.to_str()}: holding", state)
        return Proposal("suppressed", prefix + "Buy Box suppressed: just under the competitive "
                                               f"price threshold {view.threshold.to_str()}",
                        state, target=pricing.listing(view.threshold - tick), urgent=True)
    if state.last_unsuppressed_price is not None:
        last = state.last_unsuppressed_price
        return Proposal("suppressed", prefix + "Buy Box suppressed, no threshold given: back to "
                                               f"our last price with a Buy Box {last.to_str()}",
                        state, target=last, urgent=True)
    return Proposal("suppressed", prefix + "Buy Box suppressed; no threshold and no earlier "
                                           "Buy Box price known: holding", state)


def _climb_wait(config: ListingConfig, state: RepricingState, now: datetime) -> str | None:
    """When the next climb is allowed ("HH:MM UTC"), or None if it is allowed now."""
    last = state.last_change_at
    if last is None or now - last >= config.climb_interval:
        return None
    return (last + config.climb_interval).strftime("%H:%M UTC")


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _hours(config: ListingConfig) -> str:
    hours = config.ceiling_ttl.total_seconds() / 3600
    return f"{hours:g}"
