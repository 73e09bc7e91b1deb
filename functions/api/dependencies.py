"""Repositories (and the event bus) for the routes, built on first use from the environment.

Routes receive them with ``Depends(accounts_repository)``; importing this module makes
no AWS call and reads no settings. Tests replace one with
``app.dependency_overrides[accounts_repository] = lambda: repo`` (or :func:`use`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.core.events import DomainEvents
    from functions.core.repositories.accounts import AccountRepository
    from functions.core.repositories.listings import ListingRepository
    from functions.core.repositories.price_history import PriceHistoryRepository
    from functions.core.repositories.unit_costs import UnitCostRepository

API_EVENT_SOURCE = "sellerops.api"

_accounts: AccountRepository | None = None
_listings: ListingRepository | None = None
_history: PriceHistoryRepository | None = None
_events: DomainEvents | None = None
_unit_costs: UnitCostRepository | None = None


def accounts_repository() -> AccountRepository:
    """The accounts repository (``ACCOUNTS_TABLE``), created once per process."""
    global _accounts
    if _accounts is None:
        from functions.core.repositories.accounts import AccountRepository

        _accounts = AccountRepository.from_settings()
    return _accounts


def listings_repository() -> ListingRepository:
    """The listings repository (``LISTINGS_TABLE``), created once per process."""
    global _listings
    if _listings is None:
        from functions.core.repositories.listings import ListingRepository

        _listings = ListingRepository.from_settings()
    return _listings


def price_history_repository() -> PriceHistoryRepository:
    """The price history repository (``PRICE_HISTORY_TABLE``), created once per process."""
    global _history
    if _history is None:
        from functions.core.repositories.price_history import PriceHistoryRepository

        _history = PriceHistoryRepository.from_settings()
    return _history


def unit_costs_repository() -> UnitCostRepository:
    """The unit costs repository (``UNIT_COSTS_TABLE``), created once per process."""
    global _unit_costs
    if _unit_costs is None:
        from functions.core.repositories.unit_costs import UnitCostRepository

        _unit_costs = UnitCostRepository.from_settings()
    return _unit_costs


def domain_events() -> DomainEvents:
    """Publisher of the API's events (source ``sellerops.api``) on ``EVENT_BUS_NAME``."""
    global _events
    if _events is None:
        from functions.core.events import DomainEvents

        _events = DomainEvents.from_settings(API_EVENT_SOURCE)
    return _events


def use(
    *,
    accounts: AccountRepository | None = None,
    listings: ListingRepository | None = None,
    history: PriceHistoryRepository | None = None,
    events: DomainEvents | None = None,
    unit_costs: UnitCostRepository | None = None,
) -> None:
    """Set (or with ``None``, forget) the process-wide repositories, e.g. for the local stack."""
    global _accounts, _listings, _history, _events, _unit_costs
    _accounts = accounts
    _listings = listings
    _history = history
    _events = events
    _unit_costs = unit_costs
