"""The bridge between a stored :class:`Listing` and the repricer's models.

The Listings table keeps the strategy configuration and the repricing state in their
JSON form; this module is the one place that turns them into ``ListingConfig`` and
``RepricingState`` and back. A listing with an empty ``strategy`` is *unconfigured*
(synced from Amazon, not repriced until its seller sets a strategy).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from functions.core.money import Money
from functions.core.repositories.listings import Listing
from functions.reprice.logic.listing_config import ListingConfig
from functions.reprice.logic.state import RepricingState


def config_of(listing: Listing) -> ListingConfig | None:
    """The listing's strategy configuration, or None when it has none yet.

    Identity fields come from the listing itself, so a stored strategy can never point
    at another SKU, seller or marketplace.
    """
    if not listing.strategy:
        return None
    data: dict[str, Any] = {
        **listing.strategy,
        "sku": listing.sku,
        "asin": listing.asin,
        "marketplace_id": listing.marketplace_id,
        "condition": listing.condition,
        "fulfillment": listing.fulfillment,
        "currency": listing.currency,
        "seller_id": listing.seller_id,
    }
    return ListingConfig.model_validate(data)


def state_of(listing: Listing) -> RepricingState:
    return RepricingState.model_validate(listing.state or {})


def with_config(listing: Listing, config: ListingConfig | None) -> Listing:
    """``listing`` with ``config`` stored (None = unconfigured). Identity must match."""
    if config is None:
        return listing.evolve(strategy={})
    mismatched = [
        name
        for name, value in (
            ("sku", listing.sku),
            ("marketplace_id", listing.marketplace_id),
            ("currency", listing.currency),
        )
        if getattr(config, name) != value
    ]
    if config.seller_id not in (None, listing.seller_id):
        mismatched.append("seller_id")
    if mismatched:
        raise ValueError(f"strategy does not belong to this listing: {', '.join(mismatched)}")
    return listing.evolve(
        strategy=config.model_dump(mode="json"),
        asin=config.asin,
        condition=config.condition,
        fulfillment=config.fulfillment,
    )


# ``state_json``: each field's default (``exclude_defaults`` compares with it), its place
# in the field order, the fields whose default is None, and the fields left to pydantic
# (the dict fields, made by a factory; their default is empty)
_STATE_FIELDS = tuple(RepricingState.model_fields)
_STATE_INDEX = {name: index for index, name in enumerate(_STATE_FIELDS)}
_STATE_DEFAULTS = {name: field.default for name, field in RepricingState.model_fields.items()
                   if field.default_factory is None}
_NONE_DEFAULT = frozenset(name for name, default in _STATE_DEFAULTS.items() if default is None)
_BY_PYDANTIC = frozenset(name for name in _STATE_FIELDS if name not in _STATE_DEFAULTS)
_PLAIN = (bool, int, str)


def state_json(
    state: RepricingState, include: Collection[str] | None = None,
    earlier: tuple[RepricingState, Mapping[str, Any]] | None = None, *, ordered: bool = True,
) -> dict[str, Any]:
    """``state.model_dump(mode="json", exclude_defaults=True, include=include)``: the same
    dict, keys in field order, built directly for the usual values (Money, UTC datetimes,
    booleans, integers, strings); anything else (a non-empty dict field, a datetime in
    another zone) is dumped by pydantic. A value object that fills several fields (a
    decision's new price is its current and pending price, ``now`` its change and pending
    times) is serialised once.

    ``earlier``: another state and exactly its JSON as this function gave it; a Money
    field equal to that state's (same currency, same amount and sign: the same text) takes
    its JSON from there (a decision often sees the same live price, shipping… again).
    ``ordered=False`` leaves ``include``'s names in the order given (for a caller that
    merges the result into another dict, where the order is lost anyway)."""
    values = state.__dict__
    if include is None:
        names: Collection[str] = _STATE_FIELDS
    elif ordered and len(include) > 1:
        names = sorted(include, key=_STATE_INDEX.__getitem__)
    else:
        names = include
    before_values: dict[str, Any] | None = None
    before_json: Mapping[str, Any] = {}
    if earlier is not None:
        before_values, before_json = earlier[0].__dict__, earlier[1]
    out: dict[str, Any] = {}
    done: dict[int, Any] = {}  # id(value) → its JSON, for this call
    rest: list[str] = []
    for name in names:
        value = values[name]
        if value is None and name in _NONE_DEFAULT:
            continue
        kind = type(value)
        if kind is Money:
            json_value = done.get(id(value))
            if json_value is not None:
                out[name] = dict(json_value)  # no dict shared between two keys
                continue
            if before_values is not None:
                old = before_values[name]
                if type(old) is Money and old == value \
                        and old.amount.is_signed() == value.amount.is_signed():
                    earlier_json = before_json.get(name)
                    if earlier_json is not None:
                        out[name] = done[id(value)] = dict(earlier_json)
                        continue
            out[name] = done[id(value)] = value.to_dict()
        elif kind is datetime and value.tzinfo is UTC:
            text = done.get(id(value))
            if text is None:
                text = done[id(value)] = value.isoformat()[:-6] + "Z"  # pydantic's "…Z"
            out[name] = text
        elif kind in _PLAIN:
            if value != _STATE_DEFAULTS[name]:
                out[name] = value
        elif name in _BY_PYDANTIC and not value:
            continue  # an empty dict: the default
        else:
            rest.append(name)
            out[name] = None  # its place in the order
    if rest:
        dumped = state.model_dump(mode="json", exclude_defaults=True, include=set(rest))
        for name in rest:
            if name in dumped:
                out[name] = dumped[name]
            else:
                del out[name]
    return out


def with_state(listing: Listing, state: RepricingState) -> Listing:
    return listing.evolve(state=state.model_dump(mode="json"))


def listing_from_config(config: ListingConfig, seller_id: str) -> Listing:
    """A new (version 0) listing for ``config`` of ``seller_id``."""
    if config.seller_id not in (None, seller_id):
        raise ValueError(f"seller_id {config.seller_id!r} is not {seller_id!r}")
    listing = Listing(
        seller_id=seller_id,
        marketplace_id=config.marketplace_id,
        sku=config.sku,
        asin=config.asin,
        condition=config.condition,
        fulfillment=config.fulfillment,
        currency=config.currency,
    )
    state = RepricingState()
    if config.current_price is not None:
        state = state.model_copy(
            update={"current_price": Money.of(config.current_price, config.currency)}
        )
    return with_state(with_config(listing, config), state)
