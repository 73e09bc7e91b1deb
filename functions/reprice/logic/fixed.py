"""The Fixed strategy: the configured ``fixed_price``, inside the guardrails like any other."""

from __future__ import annotations

from functions.core.money import Money

from .decision import Proposal
from .listing_config import ListingConfig
from .state import RepricingState


def decide_fixed(config: ListingConfig, state: RepricingState, current: Money | None) -> Proposal:
    assert config.fixed_price is not None  # ListingConfig requires it for strategy fixed
    target = config.money(config.fixed_price)
    if current is not None and current == target:
        return Proposal("fixed", f"fixed price {target.to_str()}: already there", state)
    return Proposal("fixed", f"fixed price {target.to_str()}", state, target=target)
