"""The simulated Amazon the local stack talks to: the fake SP-API on 127.0.0.1, an LWA
application, and sellers whose refresh tokens sit in the local Secrets Manager exactly
where the functions look for them in AWS (``SPAPI_APP_SECRET``,
``SPAPI_SELLER_SECRET_PREFIX`` + seller id).

Quotas, token lifetimes and feed/report progress run on :mod:`functions.core.clock`, so
in a compressed-time run (the demo) Amazon's rate limits hold in simulated time.
"""

from __future__ import annotations

import json
from typing import Any

from functions.core import clock
from functions.core.settings import SpApiConfig
from infra.simulator.spapi_server import FakeSellingPartnerApi, FakeSpApiServer

APP_CLIENT_ID = "amzn1.application-oa2-client.sellerops-local"
APP_CLIENT_SECRET = "sellerops-local-client-secret"  # noqa: S105 - the simulator's own app


def _secret_names() -> tuple[str, str]:
    fields = SpApiConfig.model_fields
    return fields["spapi_app_secret"].default, fields["spapi_seller_secret_prefix"].default


class SimulatedAmazon:
    """Start with :meth:`start` (or ``with``); :attr:`api` is the in-memory marketplace."""

    def __init__(self, *, enforce_quotas: bool = True, polls_to_done: int = 3) -> None:
        self.api = FakeSellingPartnerApi(
            clock=clock.monotonic,
            now=clock.utc_now,
            enforce_quotas=enforce_quotas,
            polls_to_done=polls_to_done,
        )
        self.api.register_app(APP_CLIENT_ID, APP_CLIENT_SECRET)
        self.server = FakeSpApiServer(self.api)
        self.sellers: list[str] = []

    def start(self) -> SimulatedAmazon:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> SimulatedAmazon:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def stack_parameters(self) -> dict[str, str]:
        """template.yaml parameters that point every function at this simulator."""
        return {"SpApiEndpoint": self.url, "LwaEndpoint": self.url}

    def store_app_secret(self, secretsmanager: Any) -> None:
        """The application's LWA credentials, where the functions read them."""
        app_secret, _ = _secret_names()
        _put_secret(
            secretsmanager, app_secret,
            {"client_id": APP_CLIENT_ID, "client_secret": APP_CLIENT_SECRET},
        )

    def authorise_seller(self, secretsmanager: Any, seller_id: str) -> None:
        """What a seller's consent in Seller Central produces: a refresh token, stored in
        Secrets Manager under the seller's name."""
        _, prefix = _secret_names()
        refresh_token = f"Atzr|sim-{seller_id}"
        self.api.register_seller(seller_id, refresh_token, client_id=APP_CLIENT_ID)
        _put_secret(secretsmanager, f"{prefix}{seller_id}", {"refresh_token": refresh_token})
        self.sellers.append(seller_id)


def _put_secret(secretsmanager: Any, name: str, value: dict[str, str]) -> None:
    body = json.dumps(value)
    try:
        secretsmanager.create_secret(Name=name, SecretString=body)
    except secretsmanager.exceptions.ResourceExistsException:
        secretsmanager.put_secret_value(SecretId=name, SecretString=body)
