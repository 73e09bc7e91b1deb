"""Where LWA credentials come from: a small protocol and two sources.

- :class:`SecretsManagerCredentials` (AWS): the application's ``{"client_id",
  "client_secret"}`` in the secret named by ``SPAPI_APP_SECRET`` and each seller's
  ``{"refresh_token"}`` in ``SPAPI_SELLER_SECRET_PREFIX + seller_id``, read through
  Powertools Parameters (cached ``max_age`` seconds). Powertools, and with it boto3, is
  imported on the first fetch only, so importing the client stays cheap.
- :class:`StaticCredentials`: values handed over directly (tests, the local stack, the
  simulator).

No secret value ever appears in a ``repr``, a log line or an error message.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from functions.core.spapi.errors import SpApiCredentialsError

if TYPE_CHECKING:
    from functions.core.settings import SpApiConfig


@dataclass(frozen=True, slots=True)
class AppCredentials:
    """The LWA client of the SP-API application."""

    client_id: str
    client_secret: str = field(repr=False)


@runtime_checkable
class CredentialSource(Protocol):
    """What the LWA token exchange needs. ``force`` bypasses any cache (used once after
    LWA rejected a credential, in case it was rotated meanwhile)."""

    def app_credentials(self, *, force: bool = False) -> AppCredentials: ...

    def refresh_token(self, seller_id: str, *, force: bool = False) -> str: ...


class StaticCredentials:
    """Credentials given in code. ``refresh_tokens`` maps seller id → refresh token."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_tokens: Mapping[str, str] | None = None,
    ) -> None:
        self._app = AppCredentials(client_id, client_secret)
        self._tokens = dict(refresh_tokens or {})
        self._lock = threading.Lock()

    def add_seller(self, seller_id: str, refresh_token: str) -> None:
        with self._lock:
            self._tokens[seller_id] = refresh_token

    def app_credentials(self, *, force: bool = False) -> AppCredentials:
        return self._app

    def refresh_token(self, seller_id: str, *, force: bool = False) -> str:
        with self._lock:
            token = self._tokens.get(seller_id)
        if not token:
            raise SpApiCredentialsError(f"no refresh token for seller {seller_id}")
        return token

    def __repr__(self) -> str:
        return f"StaticCredentials(client_id={self._app.client_id!r}, sellers={len(self._tokens)})"


class SecretsManagerCredentials:
    """Credentials from AWS Secrets Manager via Powertools Parameters (cached).

    ``app_secret`` is the secret's name (``SPAPI_APP_SECRET``); the seller's secret is
    ``seller_secret_prefix + seller_id``. ``max_age`` is the Powertools cache lifetime in
    seconds; a refresh token rotated in Secrets Manager is seen after at most that long
    (or at once after LWA rejects the old one, see ``force``).
    """

    def __init__(
        self,
        app_secret: str,
        seller_secret_prefix: str,
        *,
        max_age: int = 300,
    ) -> None:
        self.app_secret = app_secret
        self.seller_secret_prefix = seller_secret_prefix
        self.max_age = max_age

    @classmethod
    def from_settings(
        cls, settings: SpApiConfig, *, max_age: int = 300
    ) -> SecretsManagerCredentials:
        return cls(
            settings.spapi_app_secret, settings.spapi_seller_secret_prefix, max_age=max_age
        )

    def app_credentials(self, *, force: bool = False) -> AppCredentials:
        data = self._fetch(self.app_secret, force=force)
        client_id = data.get("client_id")
        client_secret = data.get("client_secret")
        if not isinstance(client_id, str) or not client_id:
            raise SpApiCredentialsError(f"secret {self.app_secret}: missing key client_id")
        if not isinstance(client_secret, str) or not client_secret:
            raise SpApiCredentialsError(f"secret {self.app_secret}: missing key client_secret")
        return AppCredentials(client_id, client_secret)

    def refresh_token(self, seller_id: str, *, force: bool = False) -> str:
        name = f"{self.seller_secret_prefix}{seller_id}"
        token = self._fetch(name, force=force).get("refresh_token")
        if not isinstance(token, str) or not token:
            raise SpApiCredentialsError(f"secret {name}: missing key refresh_token")
        return token

    def _fetch(self, name: str, *, force: bool) -> Mapping[str, Any]:
        # Imported here: Powertools Parameters imports boto3, which the client itself
        # never needs unless credentials actually come from Secrets Manager.
        from aws_lambda_powertools.utilities import parameters

        try:
            value = parameters.get_secret(
                name, transform="json", max_age=self.max_age, force_fetch=force
            )
        except parameters.TransformParameterError:
            raise SpApiCredentialsError(f"secret {name}: not a JSON object") from None
        except parameters.GetParameterError as error:
            # Powertools' message names the secret and the AWS error, not its value.
            raise SpApiCredentialsError(f"secret {name}: cannot be read ({error})") from None
        if not isinstance(value, Mapping):
            raise SpApiCredentialsError(f"secret {name}: not a JSON object")
        return value

    def __repr__(self) -> str:
        return (
            f"SecretsManagerCredentials(app_secret={self.app_secret!r}, "
            f"seller_secret_prefix={self.seller_secret_prefix!r})"
        )
