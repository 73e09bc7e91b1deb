"""Repositories for the routes, built on first use from the environment.

Routes receive them with ``Depends(accounts_repository)``; importing this module makes
no AWS call and reads no settings. Tests replace a repository with
``app.dependency_overrides[accounts_repository] = lambda: repo`` (or :func:`use`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.core.repositories.accounts import AccountRepository

_accounts: AccountRepository | None = None


def accounts_repository() -> AccountRepository:
    """The accounts repository (``ACCOUNTS_TABLE``), created once per process."""
    global _accounts
    if _accounts is None:
        from functions.core.repositories.accounts import AccountRepository

        _accounts = AccountRepository.from_settings()
    return _accounts


def use(*, accounts: AccountRepository | None = None) -> None:
    """Set (or with ``None``, forget) the process-wide repositories, e.g. for the local stack."""
    global _accounts
    _accounts = accounts
