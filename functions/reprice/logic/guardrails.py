"""Guardrails applied to every strategy's proposal (repricing.md §6.1), in this order:

1. floor = max(min_price, cost_floor); min_price > max_price (or floor > max) → no repricing;
2. the move is at most ``max_change`` of the current price (a current price outside
   [floor, max] goes straight back to the bound instead);
3. clamp to [floor, max];
4. round down to the currency's tick (0.01; JPY 1), never below the floor;
5. a move of less than one tick is no move (hold).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR
from typing import NamedTuple

from functions.core.money import Money

from .listing_config import ListingConfig


class Guarded(NamedTuple):
    """What the guardrails let through (a named tuple: one per decision, made in a
    fraction of a frozen dataclass's time)."""

    action: str  # change | hold | skip
    price: Money | None  # the new price when action == "change"
    note: str  # what the guardrails did, "" when they let the proposal through
    out_of_bounds: bool = False


def max_move(config: ListingConfig, current: Money) -> Money:
    """Largest allowed move from ``current``, rounded down to the tick."""
    limit = config.max_change.of(current)
    return Money._trusted(limit.amount.quantize(config.tick, rounding=ROUND_FLOOR),
                          current.currency)


def guard(target: Money | None, current: Money | None, config: ListingConfig) -> Guarded:
    """Apply the guardrails to ``target`` (None = the strategy holds) from ``current``."""
    problem = config.bounds_problem
    if problem:
        return Guarded("skip", None, problem)
    floor, top = config.floor, config.max
    notes: list[str] = []
    out_of_bounds = False
    if current is not None and (current < floor or current > top):
        out_of_bounds = True
        price = floor if current < floor else top
        side = "below the floor" if current < floor else "above max_price"
        notes.append(f"current price {current.to_str()} is {side}: back to {price.to_str()}")
    elif target is None:
        return Guarded("hold", None, "")
    else:
        price = target
        if current is not None:
            limit = max_move(config, current)
            if price > current + limit:
                price = current + limit
                notes.append(f"rise limited to max_change {config.max_change} "
                             f"({limit.to_str()})")
            elif price < current - limit:
                price = current - limit
                notes.append(f"drop limited to max_change {config.max_change} "
                             f"({limit.to_str()})")
        if price < floor:
            price = floor
            notes.append(f"raised to the floor {floor.to_str()}")
        elif price > top:
            price = top
            notes.append(f"capped at max_price {top.to_str()}")
    price = price.round_down()
    if price < floor:
        price = floor
    note = "; ".join(notes)
    if current is not None and abs(price.amount - current.amount) < config.tick:
        return Guarded("hold", None, _join(note, "less than one tick from the current price"))
    return Guarded("change", price, note, out_of_bounds)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
