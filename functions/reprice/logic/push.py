"""The Push strategy (repricing.md §6.3): price levels moved by sales velocity.

Decided hourly (the schedule), not per notification. The usable levels are the
configured ``push_levels`` inside [floor, max]; the state's ``push_level`` indexes them.

- first decision: ``push_start_level`` if set, else the highest level at or below the
  current price (the lowest level when no price is known);
- out of stock, or within ``push_dwell`` of the last level change → hold (the price still
  converges to the level when ``max_change`` made it stop short);
- units sold in the last ``push_window`` ≥ ``push_fast_units`` → up one level, unless that
  level is a remembered ceiling; ≤ ``push_slow_units`` → down one level (never below the
  lowest usable level); a slow window right after a rise goes back and remembers the level
  that failed as a ceiling for ``ceiling_ttl``;
- in between → hold.
"""

from __future__ import annotations

from datetime import datetime

from functions.core.money import Money

from .decision import Proposal
from .listing_config import ListingConfig
from .state import RepricingState


def usable_levels(config: ListingConfig) -> list[Money]:
    """The configured levels inside [floor, max], ascending."""
    floor, top = config.floor, config.max
    return [lvl for lvl in (config.money(v) for v in config.push_levels) if floor <= lvl <= top]


def _start_level(config: ListingConfig, levels: list[Money], current: Money | None) -> int:
    if config.push_start_level is not None:
        return min(config.push_start_level, len(levels) - 1)
    if current is None:
        return 0
    below = [i for i, level in enumerate(levels) if level <= current]
    return below[-1] if below else 0


def decide_push(
    config: ListingConfig, state: RepricingState, now: datetime, current: Money | None
) -> Proposal:
    """The hourly Push decision for one SKU."""
    levels = usable_levels(config)
    if not levels:
        return Proposal("push_no_levels", "push: no push level inside [floor, max]", state,
                        skip=True)
    count = len(levels)
    state = state.updated(push_last_decided_at=now)
    if state.push_ceiling_set_at is not None and now - state.push_ceiling_set_at >= \
            config.ceiling_ttl:
        state = state.updated(push_ceiling_level=None, push_ceiling_set_at=None)

    if state.push_level is None:
        start = _start_level(config, levels, current)
        state = state.updated(push_level=start, push_level_since=now, push_last_move=None)
        return Proposal("push_start", f"push: start at level {start + 1}/{count} "
                                      f"({levels[start].to_str()})", state, target=levels[start])

    level = min(state.push_level, count - 1)
    price = levels[level]
    where = f"level {level + 1}/{count} ({price.to_str()})"
    if state.in_stock is False:
        return Proposal("push_out_of_stock", f"push: out of stock, holding {where}", state)
    since = state.push_level_since or now
    if now - since < config.push_dwell:
        until = (since + config.push_dwell).strftime("%Y-%m-%d %H:%M UTC")
        if current is not None and current != price:
            return Proposal("push_converge", f"push: moving to {where}", state, target=price)
        return Proposal("push_dwell", f"push: at {where}, dwell until {until}", state)

    units = state.units_since(now - config.push_window)
    window = _hours(config)
    if units >= config.push_fast_units:
        up = level + 1
        if up >= count:
            return Proposal("push_top", f"push: {units} units in {window} h (fast >= "
                                        f"{config.push_fast_units}) but already at the top "
                                        f"{where}", state)
        ceiling = state.push_ceiling_level
        if ceiling is not None and up >= ceiling:
            return Proposal("push_ceiling", f"push: {units} units in {window} h but level "
                                            f"{ceiling + 1} failed before (ceiling): holding "
                                            f"{where}", state)
        state = state.updated(push_level=up, push_level_since=now, push_last_move="up")
        return Proposal("push_up", f"push: {units} units in {window} h (fast >= "
                                   f"{config.push_fast_units}): up to level {up + 1}/{count}",
                        state, target=levels[up])
    if units <= config.push_slow_units:
        if state.push_last_move == "up" and level > 0:
            state = state.updated(push_level=level - 1, push_level_since=now,
                                  push_last_move="down", push_ceiling_level=level,
                                  push_ceiling_set_at=now)
            return Proposal("push_back", f"push: only {units} units in {window} h after rising "
                                         f"to {where}: back to level {level}/{count}, level "
                                         f"{level + 1} is a ceiling for "
                                         f"{config.ceiling_ttl.total_seconds() / 3600:g} h",
                            state, target=levels[level - 1])
        if level == 0:
            state = state.updated(push_last_move=None)
            return Proposal("push_bottom", f"push: {units} units in {window} h (slow <= "
                                           f"{config.push_slow_units}) but already at the "
                                           f"lowest {where}", state)
        state = state.updated(push_level=level - 1, push_level_since=now, push_last_move="down")
        return Proposal("push_down", f"push: {units} units in {window} h (slow <= "
                                     f"{config.push_slow_units}): down to level {level}/{count}",
                        state, target=levels[level - 1])
    state = state.updated(push_last_move=None)
    return Proposal("push_hold", f"push: {units} units in {window} h, between slow "
                                 f"{config.push_slow_units} and fast {config.push_fast_units}: "
                                 f"holding {where}", state,
                    target=price if current is not None and current != price else None)


def _hours(config: ListingConfig) -> str:
    return f"{config.push_window.total_seconds() / 3600:g}"
