"""Login with Amazon (LWA): refresh tokens and client credentials → access tokens.

Seller calls use ``grant_type=refresh_token`` with the seller's refresh token; grantless
calls (notification destinations) use ``grant_type=client_credentials`` with a scope.
Access tokens live an hour; each is cached per seller (or per scope) until
``refresh_margin`` seconds before it expires, so a warm Lambda asks LWA once an hour per
seller. One lock per seller/scope makes concurrent callers share one exchange.

LWA answers errors as ``{"error": "invalid_grant", "error_description": "..."}``. A
rejected credential is re-read once from its source with ``force=True`` (it may have been
rotated in Secrets Manager) before :class:`LwaAuthError` is raised. Throttling and
server errors are retried with the client's :class:`RetryPolicy`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import urllib3

from functions.core import clock as clock_source
from functions.core.marketplaces import LWA_ENDPOINT
from functions.core.spapi.credentials import CredentialSource
from functions.core.spapi.errors import LwaAuthError, SpApiCredentialsError
from functions.core.spapi.transport import (
    RETRYABLE_STATUS,
    USER_AGENT,
    RetryPolicy,
    decode_json,
    new_pool,
    parse_retry_after,
)

logger = logging.getLogger(__name__)

LWA_TOKEN_PATH = "/auth/o2/token"  # noqa: S105 - a URL path, not a password
# LWA codes that mean "this credential is wrong", worth one re-read of the secret.
_CREDENTIAL_ERRORS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


def lwa_token_url(endpoint: str | None) -> str:
    """The token URL for an ``LWA_ENDPOINT`` override.

    A bare origin (``http://127.0.0.1:8123``) gets ``/auth/o2/token`` appended; a URL
    with a path is used as given. None/empty → Amazon's ``https://api.amazon.com/auth/o2/token``.
    """
    if not endpoint:
        return LWA_ENDPOINT
    endpoint = endpoint.rstrip("/")
    return endpoint if urlsplit(endpoint).path else endpoint + LWA_TOKEN_PATH


@dataclass(slots=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float


class LwaAuth:
    """Issues and caches LWA access tokens. Thread-safe.

    ``clock`` (seconds, monotonic) decides expiry; ``sleep`` and ``rand`` drive the retry
    backoff. ``token_requests`` counts exchanges made (for tests and metrics).
    """

    def __init__(
        self,
        credentials: CredentialSource,
        *,
        endpoint: str | None = None,
        http: urllib3.PoolManager | None = None,
        retry: RetryPolicy | None = None,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = clock_source.monotonic,
        sleep: Callable[[float], None] = clock_source.sleep,
        rand: Callable[[], float] = random.random,
        timeout: urllib3.Timeout | float | None = None,
    ) -> None:
        self.credentials = credentials
        self.url = lwa_token_url(endpoint)
        self._http = http or new_pool()
        self._retry = retry or RetryPolicy()
        self._margin = refresh_margin
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._timeout = timeout
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self.token_requests = 0

    # -- public --------------------------------------------------------------------------
    def seller_token(self, seller_id: str) -> str:
        """An access token for calls on behalf of ``seller_id``."""
        return self._token(("seller", seller_id))

    def grantless_token(self, scope: str) -> str:
        """An application token for a grantless ``scope`` (``sellingpartnerapi::notifications``)."""
        return self._token(("scope", scope))

    def invalidate_seller(self, seller_id: str) -> None:
        """Forget a seller's cached token (Amazon rejected it)."""
        self._forget(("seller", seller_id))

    def invalidate_scope(self, scope: str) -> None:
        self._forget(("scope", scope))

    # -- internals -----------------------------------------------------------------------
    def _forget(self, key: tuple[str, str]) -> None:
        with self._guard:
            self._tokens.pop(key, None)

    def _lock_for(self, key: tuple[str, str]) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _cached(self, key: tuple[str, str]) -> str | None:
        with self._guard:
            token = self._tokens.get(key)
        if token is not None and self._clock() < token.expires_at:
            return token.value
        return None

    def _token(self, key: tuple[str, str]) -> str:
        cached = self._cached(key)
        if cached is not None:
            return cached
        with self._lock_for(key):
            cached = self._cached(key)  # another thread may have just fetched it
            if cached is not None:
                return cached
            try:
                value, lifetime = self._exchange(key, force=False)
            except LwaAuthError as error:
                if error.error not in _CREDENTIAL_ERRORS:
                    raise
                # The secret may have been rotated since we cached it: read it again once.
                value, lifetime = self._exchange(key, force=True)
            expires_at = self._clock() + max(lifetime - self._margin, 0.0)
            with self._guard:
                self._tokens[key] = _Token(value, expires_at)
            return value

    def _form(self, key: tuple[str, str], *, force: bool) -> dict[str, str]:
        kind, ident = key
        app = self.credentials.app_credentials(force=force)
        if kind == "seller":
            return {
                "grant_type": "refresh_token",
                "refresh_token": self.credentials.refresh_token(ident, force=force),
                "client_id": app.client_id,
                "client_secret": app.client_secret,
            }
        return {
            "grant_type": "client_credentials",
            "scope": ident,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        }

    def _exchange(self, key: tuple[str, str], *, force: bool) -> tuple[str, float]:
        """POST the token request; return (access token, lifetime in seconds)."""
        kind, ident = key
        subject = f"seller {ident}" if kind == "seller" else f"scope {ident}"
        body = urlencode(self._form(key, force=force))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        attempts = self._retry.max_attempts
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                response = self._http.request(
                    "POST", self.url, body=body, headers=headers, retries=False,
                    **({"timeout": self._timeout} if self._timeout is not None else {}),
                )
            except urllib3.exceptions.HTTPError as error:
                logger.warning(
                    "lwa token request for %s failed: %s (attempt %d)",
                    subject, type(error).__name__, attempt,
                    extra={"operation": "lwaToken", "attempt": attempt},
                )
                if attempt < attempts:
                    self._sleep(self._retry.delay(attempt, rand=self._rand))
                    continue
                raise LwaAuthError(
                    f"LWA unreachable for {subject}: {type(error).__name__}",
                    operation="lwaToken",
                ) from None
            with self._guard:
                self.token_requests += 1
            latency_ms = round((time.perf_counter() - started) * 1000, 1)
            logger.info(
                "lwa token %s status=%d attempt=%d latency_ms=%s",
                subject, response.status, attempt, latency_ms,
                extra={
                    "operation": "lwaToken",
                    "status": response.status,
                    "attempt": attempt,
                    "latency_ms": latency_ms,
                },
            )
            payload = _safe_json(response.data)
            if 200 <= response.status < 300:
                token = payload.get("access_token") if isinstance(payload, dict) else None
                if not isinstance(token, str) or not token:
                    raise LwaAuthError(
                        f"LWA answered without an access token for {subject}",
                        operation="lwaToken", status=response.status,
                    )
                lifetime = payload.get("expires_in", 3600)
                try:
                    lifetime = float(lifetime)
                except (TypeError, ValueError):
                    lifetime = 3600.0
                return token, lifetime
            if response.status in RETRYABLE_STATUS and attempt < attempts:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                self._sleep(self._retry.delay(attempt, retry_after, rand=self._rand))
                continue
            error_code = payload.get("error") if isinstance(payload, dict) else None
            description = (
                payload.get("error_description") if isinstance(payload, dict) else None
            )
            raise LwaAuthError(
                f"LWA refused the token request for {subject}: "
                f"{error_code or 'error'}: {description or ''}".rstrip(": "),
                operation="lwaToken",
                status=response.status,
                error=str(error_code) if error_code else None,
                description=str(description) if description else None,
            )
        raise AssertionError("unreachable")  # pragma: no cover


def _safe_json(data: bytes) -> object:
    try:
        return decode_json(data)
    except ValueError:
        return None


__all__ = ["LwaAuth", "LwaAuthError", "SpApiCredentialsError", "lwa_token_url"]
