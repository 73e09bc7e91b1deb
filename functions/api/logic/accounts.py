"""Accounts as the API sees them: own account, tenant-scoped reads, staff listing.

Tenant scoping lives here, not in the routes: a seller reads only an account that lists
their seller id; anyone else's account is reported as not found (never "forbidden"), so
account ids cannot be probed. Staff read every account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from functions.api.errors import AccountNotFound
from functions.api.identity import Caller
from functions.core.accounts import (
    Account,
    Contract,
    Product,
    Profile,
    account_id_for_seller,
)
from functions.core.repositories.dynamo import Page, utc_now

DEFAULT_PLAN = "standard"


class AccountStore(Protocol):
    """What the logic needs from storage (``AccountRepository`` provides it)."""

    def get(self, account_id: str) -> Account | None: ...

    def get_by_seller(self, seller_id: str) -> Account | None: ...

    def create(self, account: Account) -> Account: ...

    def update(self, account: Account, expected_version: int) -> Account: ...

    def list_accounts(self, *, limit: int, next_token: str | None) -> Page[Account]: ...


@dataclass(frozen=True, slots=True)
class AccountDetails:
    """What a seller may set on their own account (validated by the request model)."""

    name: str
    language: str
    country: str
    products: tuple[Product, ...]
    plan: str | None = None
    profile: Profile | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class PutResult:
    account: Account
    created: bool


def find_own_account(store: AccountStore, seller_id: str) -> Account | None:
    """The account the seller signed up with, else the one naming them as primary seller."""
    account = store.get(account_id_for_seller(seller_id))
    if account is not None and account.belongs_to(seller_id):
        return account
    return store.get_by_seller(seller_id)


def get_own_account(store: AccountStore, caller: Caller) -> Account:
    seller_id = caller.require_seller()
    account = find_own_account(store, seller_id)
    if account is None:
        raise AccountNotFound("you have no account yet: create it with PUT /accounts/me")
    return account


def put_own_account(
    store: AccountStore,
    caller: Caller,
    details: AccountDetails,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> PutResult:
    """Create the caller's account (trial contract) or update it.

    The seller id always comes from the caller's identity. With
    ``details.expected_version`` the update only applies to that version; without it,
    to the version just read. Either way a concurrent write raises
    ``ConcurrentModification`` (HTTP 409) instead of being overwritten.
    """
    seller_id = caller.require_seller()
    now = clock()
    current = find_own_account(store, seller_id)
    if current is None:
        if details.expected_version is not None:
            raise AccountNotFound("no account to update at that version: omit version to create")
        account = Account(
            account_id=account_id_for_seller(seller_id),
            seller_id=seller_id,
            name=details.name,
            language=details.language,
            country=details.country,
            products=details.products,
            contract=Contract.trial(details.plan or DEFAULT_PLAN, now),
            profile=details.profile,
            created_at=now,
            updated_at=now,
        )
        return PutResult(store.create(account), created=True)

    expected = details.expected_version if details.expected_version is not None else current.version
    contract = current.contract
    if details.plan is not None:
        contract = (
            Contract.trial(details.plan, now)
            if contract is None
            else Contract.model_validate({**contract.model_dump(), "plan": details.plan})
        )
    changed = current.evolve(
        name=details.name,
        language=details.language,
        country=details.country,
        products=details.products,
        contract=contract,
        profile=details.profile if details.profile is not None else current.profile,
        updated_at=now,
    )
    return PutResult(store.update(changed, expected), created=False)


def get_account(store: AccountStore, caller: Caller, account_id: str) -> Account:
    """An account by id: staff see all; a seller only an account that lists them."""
    account = store.get(account_id)
    if account is None:
        raise AccountNotFound(f"account {account_id!r} not found")
    if caller.is_staff:
        return account
    if caller.seller_id is None or not account.belongs_to(caller.seller_id):
        raise AccountNotFound(f"account {account_id!r} not found")
    return account


def list_accounts(
    store: AccountStore, caller: Caller, *, limit: int, next_token: str | None
) -> Page[Account]:
    """One page of every account; staff only."""
    caller.require_staff()
    return store.list_accounts(limit=limit, next_token=next_token)
