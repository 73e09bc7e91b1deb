"""A seller's Repricer: seller-wide switches and the connection to Amazon.

The switches (``paused``, ``dry_run``) and the connection's progress live on the
seller's account (``Account.repricer_*``). Connecting records a ``requested`` connection
and puts ``SellerConnectRequested`` on the bus; ConnectSellerFunction does the work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from functions.api.errors import AccountNotFound, InvalidInput, NotFoundForCaller
from functions.api.identity import Caller
from functions.api.logic.accounts import AccountStore, find_own_account, get_own_account
from functions.core.accounts import (
    Account,
    ConnectionStatus,
    MarketplaceSync,
    RepricerConnection,
)
from functions.core.repositories.dynamo import utc_now
from functions.core.repositories.errors import ConcurrentModification

CONNECT_DETAIL_TYPE = "SellerConnectRequested"
# A connection still "in progress" after this long without progress is taken as dead,
# and a new connect request starts over instead of returning it.
STALE_AFTER = timedelta(minutes=15)
_IN_PROGRESS = {ConnectionStatus.REQUESTED, ConnectionStatus.SUBSCRIBING, ConnectionStatus.SYNCING}
_ATTEMPTS = 3


class EventPublisher(Protocol):
    def put(self, detail_type: str, detail: Mapping[str, Any]) -> str: ...


def repricer_account(store: AccountStore, caller: Caller, seller_id: str | None = None) -> Account:
    """The account whose Repricer settings a read returns: own, or (staff) the named seller's.

    Another seller's → 404, like a seller without an account.
    """
    if seller_id is None or seller_id == caller.seller_id:
        return get_own_account(store, caller)
    if not caller.is_staff:
        raise NotFoundForCaller("not found")
    account = find_own_account(store, seller_id)
    if account is None:
        raise AccountNotFound(f"seller {seller_id!r} has no account")
    return account


def set_switches(
    store: AccountStore,
    caller: Caller,
    *,
    paused: bool | None,
    dry_run: bool | None,
    expected_version: int | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Account:
    """Set the seller-wide switches on the caller's own account.

    With ``expected_version`` a mismatch answers 409. Without it the switches are set on
    whatever is stored: a concurrent write (e.g. the connection recording its progress)
    makes it read again and retry rather than fail.
    """
    for attempt in range(_ATTEMPTS):
        account = get_own_account(store, caller)
        changes: dict[str, Any] = {"updated_at": clock()}
        if paused is not None:
            changes["repricer_paused"] = paused
        if dry_run is not None:
            changes["repricer_dry_run"] = dry_run
        expected = expected_version if expected_version is not None else account.version
        try:
            return store.update(account.evolve(**changes), expected)
        except ConcurrentModification:
            if expected_version is not None or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def request_connection(
    store: AccountStore,
    events: EventPublisher,
    caller: Caller,
    marketplace_ids: list[str] | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> tuple[Account, bool]:
    """Ask for the caller's seller to be connected; returns (account, event put).

    The marketplaces default to the account profile's. A connection already in progress
    (and not stale) is returned as it is, without a second event, so a double click does
    not request every report twice.
    """
    seller_id = caller.require_seller()
    for _attempt in range(_ATTEMPTS):
        account = get_own_account(store, caller)
        markets = list(marketplace_ids or (account.profile.marketplaces if account.profile else ()))
        if not markets:
            raise InvalidInput([(
                "marketplace_ids",
                "name the marketplaces to connect (the account profile lists none)",
            )])
        now = clock()
        current = account.repricer_connection
        if (
            current is not None
            and current.status in _IN_PROGRESS
            and now - current.updated_at < STALE_AFTER
            and list(current.marketplace_ids) == list(dict.fromkeys(markets))
        ):
            return account, False
        connection = RepricerConnection(
            request_id=new_id(),
            status=ConnectionStatus.REQUESTED,
            marketplace_ids=tuple(markets),
            requested_at=now,
            updated_at=now,
            subscriptions=dict(current.subscriptions) if current else {},
            syncs=tuple(MarketplaceSync(marketplace_id=m) for m in dict.fromkeys(markets)),
        )
        try:
            stored = store.update(
                account.evolve(repricer_connection=connection, updated_at=now), account.version
            )
        except ConcurrentModification:
            continue
        events.put(
            CONNECT_DETAIL_TYPE,
            {
                "seller_id": seller_id,
                "marketplace_ids": list(connection.marketplace_ids),
                "request_id": connection.request_id,
                "requested_at": connection.requested_at.isoformat(),
            },
        )
        return stored, True
    raise ConcurrentModification(
        "account", {"seller_id": seller_id}, expected_version=0, actual_version=None
    )
