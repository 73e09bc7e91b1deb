"""LWA credentials from Secrets Manager (moto) through Powertools Parameters."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from functions.core.settings import SpApiConfig
from functions.core.spapi import (
    CredentialSource,
    SecretsManagerCredentials,
    SpApiClient,
    SpApiCredentialsError,
)
from infra.simulator.clock import ManualClock
from infra.simulator.spapi_server import FakeSpApiServer

APP_SECRET = "sellerops/spapi/app"
PREFIX = "sellerops/spapi/sellers/"
SELLER = "A2SELLERDE01"
DE = "A1PA6795UKMFR9"


@pytest.fixture(autouse=True)
def fresh_parameter_cache():
    parameters.clear_caches()
    yield
    parameters.clear_caches()


@pytest.fixture
def secrets_manager():
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(
            Name=APP_SECRET,
            SecretString=json.dumps({"client_id": "app-id", "client_secret": "app-secret"}),
        )
        client.create_secret(
            Name=PREFIX + SELLER, SecretString=json.dumps({"refresh_token": "Atzr|one"})
        )
        yield client


def test_reads_app_and_seller_secrets(secrets_manager):
    source = SecretsManagerCredentials(APP_SECRET, PREFIX)
    assert isinstance(source, CredentialSource)
    app = source.app_credentials()
    assert (app.client_id, app.client_secret) == ("app-id", "app-secret")
    assert source.refresh_token(SELLER) == "Atzr|one"


def test_values_are_cached_until_forced(secrets_manager):
    source = SecretsManagerCredentials(APP_SECRET, PREFIX, max_age=300)
    assert source.refresh_token(SELLER) == "Atzr|one"
    secrets_manager.put_secret_value(
        SecretId=PREFIX + SELLER, SecretString=json.dumps({"refresh_token": "Atzr|two"})
    )
    assert source.refresh_token(SELLER) == "Atzr|one"  # Powertools cache
    assert source.refresh_token(SELLER, force=True) == "Atzr|two"


def test_missing_seller_secret_is_a_credentials_error(secrets_manager):
    source = SecretsManagerCredentials(APP_SECRET, PREFIX)
    with pytest.raises(SpApiCredentialsError, match=PREFIX + "UNKNOWN"):
        source.refresh_token("UNKNOWN")


@pytest.mark.parametrize(
    "value, message",
    [("not json", "not a JSON object"), ('["a"]', "not a JSON object"),
     ('{"client_id": "x"}', "client_secret")],
)
def test_malformed_app_secret_is_named_without_its_value(secrets_manager, value, message):
    secrets_manager.put_secret_value(SecretId=APP_SECRET, SecretString=value)
    with pytest.raises(SpApiCredentialsError, match=message) as caught:
        SecretsManagerCredentials(APP_SECRET, PREFIX).app_credentials()
    assert APP_SECRET in str(caught.value)
    assert "app-secret" not in str(caught.value)


def test_client_from_settings_uses_secrets_and_the_simulator(secrets_manager):
    clock = ManualClock()
    with FakeSpApiServer(clock=clock, now=clock.now) as server:
        server.api.register_app("app-id", "app-secret")
        server.api.register_seller(SELLER, "Atzr|one")
        server.api.put_listing(SELLER, "MUG-1", marketplace_id=DE, asin="B0C1EXAMPL")
        settings = SpApiConfig(
            spapi_app_secret=APP_SECRET,
            spapi_seller_secret_prefix=PREFIX,
            spapi_endpoint=server.url,
            lwa_endpoint=server.url,
        )
        client = SpApiClient.from_settings(settings, clock=clock, sleep=clock.sleep)
        assert client.seller(SELLER, DE).get_listings_item("MUG-1")["sku"] == "MUG-1"
        assert server.api.lwa_calls() == 1


def test_rotated_refresh_token_is_picked_up_after_lwa_rejects_the_cached_one(secrets_manager):
    clock = ManualClock()
    with FakeSpApiServer(clock=clock, now=clock.now) as server:
        server.api.register_app("app-id", "app-secret")
        server.api.register_seller(SELLER, "Atzr|two")  # Amazon already has the new one
        server.api.put_listing(SELLER, "MUG-1", marketplace_id=DE, asin="B0C1EXAMPL")
        source = SecretsManagerCredentials(APP_SECRET, PREFIX)
        source.refresh_token(SELLER)  # caches "Atzr|one"
        secrets_manager.put_secret_value(
            SecretId=PREFIX + SELLER, SecretString=json.dumps({"refresh_token": "Atzr|two"})
        )
        client = SpApiClient(
            source, endpoint=server.url, lwa_endpoint=server.url, clock=clock, sleep=clock.sleep
        )
        assert client.seller(SELLER, DE).get_listings_item("MUG-1")["sku"] == "MUG-1"
        assert [c.status for c in server.api.calls if c.operation == "lwaToken"] == [400, 200]
