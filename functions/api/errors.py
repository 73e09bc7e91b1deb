"""Errors the API's logic raises; functions/api/handler.py maps each to one HTTP status."""

from __future__ import annotations


class ApiError(Exception):
    """Base of the API's own errors."""


class NotAuthenticated(ApiError):
    """No usable identity in the request (HTTP 401)."""


class NotAllowed(ApiError):
    """The caller is known but may not do this (HTTP 403)."""


class AccountNotFound(ApiError, LookupError):
    """No account the caller may see under this id (HTTP 404).

    Also raised for an account that exists but belongs to another seller, so account
    ids cannot be probed.
    """


class NotFoundForCaller(ApiError, LookupError):
    """No listing / seller the caller may see under this key (HTTP 404).

    Also raised for another seller's data, so nothing can be probed across tenants.
    """


class InvalidInput(ApiError, ValueError):
    """The request is well-formed but its content is invalid (HTTP 422).

    ``problems`` lists ``(field, message)``, the field dotted as in request validation.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("invalid request: " + ", ".join(dict.fromkeys(f for f, _ in problems)))


class UnsupportedMediaType(ApiError):
    """The request body's Content-Type is not one the route reads (HTTP 415)."""


def require_media_type(headers: dict[str, str], allowed: tuple[str, ...], what: str) -> None:
    """Raise :class:`UnsupportedMediaType` unless the request's Content-Type (parameters
    such as ``charset`` ignored) is one of ``allowed``; ``what`` names the body expected."""
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in allowed:
        raise UnsupportedMediaType(
            f"send {what} with Content-Type text/csv, not {content_type or 'nothing'}"
        )
