"""What the repositories raise. Callers (logic, API) depend on these, never on botocore."""

from __future__ import annotations

from typing import Any


class RepositoryError(Exception):
    """Base of every error a repository raises on purpose."""


def describe(what: str, key: dict[str, Any]) -> str:
    """``listing S1#A1PA6795UKMFR9/sku-1``: the record's kind and key values."""
    return f"{what} {'/'.join(str(v) for v in key.values())}"


class NotFound(RepositoryError, LookupError):
    """The record to update does not exist."""

    def __init__(self, what: str, key: dict[str, Any]) -> None:
        super().__init__(f"{describe(what, key)} does not exist")
        self.what = what
        self.key = key


class Conflict(RepositoryError):
    """The write lost against the record's current state (HTTP 409)."""


class AlreadyExists(Conflict):
    """A create found a record with the same key."""

    def __init__(self, what: str, key: dict[str, Any]) -> None:
        super().__init__(f"{describe(what, key)} already exists")
        self.what = what
        self.key = key


class ConcurrentModification(Conflict):
    """Optimistic locking: the stored version is not the one the writer read.

    ``actual_version`` is the stored version when known (``None`` if the record is gone).
    """

    def __init__(
        self,
        what: str,
        key: dict[str, Any],
        *,
        expected_version: int,
        actual_version: int | None,
    ) -> None:
        found = "is gone" if actual_version is None else f"is at version {actual_version}"
        super().__init__(f"{describe(what, key)} {found}, expected version {expected_version}")
        self.what = what
        self.key = key
        self.expected_version = expected_version
        self.actual_version = actual_version


class InvalidTransition(Conflict):
    """A status change that the record's current status does not allow."""

    def __init__(self, what: str, key: dict[str, Any], current: str, requested: str) -> None:
        super().__init__(f"{describe(what, key)}: cannot go from {current!r} to {requested!r}")
        self.what = what
        self.key = key
        self.current = current
        self.requested = requested


class InvalidPageToken(RepositoryError, ValueError):
    """A pagination token that this query did not issue (tampered, or for another query)."""
