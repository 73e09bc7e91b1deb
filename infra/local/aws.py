"""boto3 clients for the local stack: moto in-process or moto's server on loopback.

In-process mode (``endpoint_url=None``) relies on an active ``moto.mock_aws()``; server
mode points every client at ``ThreadedMotoServer`` with dummy credentials. Either way
nothing can reach a real AWS account: the credentials are fake and, in server mode, the
endpoint is 127.0.0.1.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account
DUMMY_ACCESS_KEY = "testing"
DUMMY_SECRET_KEY = "testing"  # noqa: S105 - not a secret: moto accepts any key

# botocore ≥ 1.35 builds account-based DynamoDB endpoints when it knows the account id;
# moto (in-process) only intercepts the regional endpoint, so streams calls never reach it.
_ACCOUNT_ID_ENDPOINT_OFF = Config(account_id_endpoint_mode="disabled")


# Creating a client costs ~30 ms; clients are thread-safe and moto intercepts calls of
# clients created before mock_aws() started, so one client per (region, endpoint, service)
# serves every stack of the process.
_CLIENTS: dict[tuple[str, str | None, str], Any] = {}
_CLIENTS_LOCK = threading.Lock()


class AwsClients:
    """One boto3 client per service, all pointed at the same local endpoint."""

    def __init__(self, region: str = DEFAULT_REGION, endpoint_url: str | None = None) -> None:
        self.region = region
        self.endpoint_url = endpoint_url

    def __call__(self, service: str) -> Any:
        key = (self.region, self.endpoint_url, service)
        with _CLIENTS_LOCK:
            client = _CLIENTS.get(key)
            if client is None:
                session = boto3.session.Session(
                    aws_access_key_id=DUMMY_ACCESS_KEY,
                    aws_secret_access_key=DUMMY_SECRET_KEY,
                    region_name=self.region,
                )
                config = (
                    _ACCOUNT_ID_ENDPOINT_OFF if service in ("dynamodb", "dynamodbstreams") else None
                )
                client = session.client(service, endpoint_url=self.endpoint_url, config=config)
                _CLIENTS[key] = client
            return client

    @property
    def in_process(self) -> bool:
        return self.endpoint_url is None

    def function_environment(self) -> dict[str, str | None]:
        """Variables that make code inside a handler talk to this local endpoint.

        ``None`` means "unset while the handler runs" (a laptop's ``AWS_PROFILE`` must not
        leak into a local invocation).
        """
        env: dict[str, str | None] = {
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
            "AWS_SESSION_TOKEN": None,
            "AWS_PROFILE": None,
            "AWS_DEFAULT_PROFILE": None,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        }
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        return env
