"""Typed SP-API errors.

Every error carries what is needed to act on it and to find the call in Amazon's logs
(operation, HTTP status, ``x-amzn-RequestId``) and never a credential: messages are built
from Amazon's error bodies, which do not echo tokens, and from our own wording.

Hierarchy::

    SpApiError
    ├── SpApiClientError        4xx other than 429: fix the request, do not retry
    │   ├── SpApiNotFound       404
    │   └── SpApiConflict       409 (e.g. the notification destination already exists)
    ├── SpApiThrottled          429 after every retry, or a rate-limit wait over the budget
    ├── SpApiServerError        5xx after every retry
    ├── SpApiConnectionError    no HTTP response after every retry
    ├── LwaAuthError            Login with Amazon refused or failed the token exchange
    └── SpApiCredentialsError   a credential secret is missing or malformed
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ApiErrorDetail:
    """One entry of Amazon's ``{"errors": [{"code", "message", "details"}]}`` body."""

    code: str
    message: str
    details: str | None = None

    @classmethod
    def from_body(cls, body: Any) -> tuple[ApiErrorDetail, ...]:
        """Read the ``errors`` list of a parsed response body; tolerant of odd shapes."""
        if not isinstance(body, Mapping):
            return ()
        raw = body.get("errors")
        if isinstance(raw, Mapping):
            raw = [raw]
        if not isinstance(raw, Iterable) or isinstance(raw, (str, bytes)):
            return ()
        found = []
        for entry in raw:
            if not isinstance(entry, Mapping):
                continue
            details = entry.get("details")
            found.append(
                cls(
                    code=str(entry.get("code", "")),
                    message=str(entry.get("message", "")),
                    details=None if details is None else str(details),
                )
            )
        return tuple(found)


class SpApiError(Exception):
    """Base of every SP-API failure raised by :mod:`functions.core.spapi`."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        errors: tuple[ApiErrorDetail, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.status = status
        self.request_id = request_id
        self.errors = errors

    @property
    def code(self) -> str | None:
        """Amazon's first error code (``InvalidInput``, ``QuotaExceeded`` …), if any."""
        return self.errors[0].code if self.errors else None

    def __str__(self) -> str:
        parts = [self.message]
        if self.operation:
            parts.append(f"operation={self.operation}")
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)


class SpApiClientError(SpApiError):
    """Amazon rejected the request (4xx other than 429). Retrying will not help."""


class SpApiNotFound(SpApiClientError):
    """404: the listing, report, feed, subscription … does not exist."""


class SpApiConflict(SpApiClientError):
    """409: the resource already exists (destinations, subscriptions)."""


class SpApiThrottled(SpApiError):
    """429 after every retry, or a local rate-limit wait longer than allowed.

    ``retry_after`` is the number of seconds after which a new attempt is likely to be
    accepted (from ``Retry-After`` or the token bucket), when known.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class SpApiServerError(SpApiError):
    """Amazon answered 5xx on every attempt."""


class SpApiConnectionError(SpApiError):
    """No HTTP response (connection refused or reset, timeout) on every attempt."""


class LwaAuthError(SpApiError):
    """Login with Amazon refused the token request.

    ``error`` is LWA's code (``invalid_grant`` = refresh token revoked or wrong,
    ``invalid_client`` = wrong client id/secret, ``unauthorized_client`` …).
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.error = error
        self.description = description

    @property
    def code(self) -> str | None:
        return self.error


class SpApiCredentialsError(SpApiError):
    """A credential secret is missing or does not have the expected keys."""


def client_error_for(status: int) -> type[SpApiClientError]:
    """The most specific :class:`SpApiClientError` subclass for a 4xx status."""
    return {404: SpApiNotFound, 409: SpApiConflict}.get(status, SpApiClientError)
