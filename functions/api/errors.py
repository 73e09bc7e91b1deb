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
