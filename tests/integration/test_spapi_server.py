"""The fake SP-API server on its own: quotas, request log, command line."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
import urllib3

from functions.core.spapi import SpApiClient, SpApiClientError, StaticCredentials
from infra.simulator.clock import ManualClock
from infra.simulator.spapi_server import (
    ApiFailure,
    FakeSellingPartnerApi,
    FakeSpApiServer,
    apply_patch,
)

SELLER = "A1LOCALSELLER"
DE = "A1PA6795UKMFR9"


def lwa_token(http: urllib3.PoolManager, url: str, refresh_token: str) -> str:
    response = http.request(
        "POST", url + "/auth/o2/token",
        fields={"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": "cid", "client_secret": "secret"},
        encode_multipart=False,
    )
    assert response.status == 200, response.data
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    return body["access_token"]


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def server(clock):
    with FakeSpApiServer(clock=clock, now=clock.now) as srv:
        srv.api.register_app("cid", "secret")
        srv.api.register_seller(SELLER, "rt")
        srv.api.register_seller("A1OTHER", "rt-2")
        yield srv


def test_quota_is_enforced_per_seller_with_amazons_429(server, clock):
    http = urllib3.PoolManager()
    tokens = {s: lwa_token(http, server.url, rt) for s, rt in [(SELLER, "rt"), ("A1OTHER", "rt-2")]}
    body = b'{"requests": [{"uri": "/products/pricing/v0/items/B0X/offers", "method": "GET",' \
           b' "MarketplaceId": "A1PA6795UKMFR9", "ItemCondition": "New"}]}'

    def call(seller):
        return http.request(
            "POST", server.url + "/batches/products/pricing/v0/itemOffers", body=body,
            headers={"x-amz-access-token": tokens[seller], "Content-Type": "application/json"},
        )

    first, second, other = call(SELLER), call(SELLER), call("A1OTHER")
    assert (first.status, second.status, other.status) == (200, 429, 200)
    assert second.json() == {"errors": [{
        "code": "QuotaExceeded",
        "message": "You exceeded your quota for the requested resource.",
    }]}
    assert first.headers["x-amzn-RateLimit-Limit"] == "0.1"
    assert second.headers["x-amzn-RequestId"] != first.headers["x-amzn-RequestId"]
    clock.advance(10)
    assert call(SELLER).status == 200
    assert server.api.api_calls("getItemOffersBatch") == 4
    assert server.api.api_calls(seller_id=SELLER) == 3
    assert server.api.throttled() == 1


def test_lwa_refuses_bad_credentials_with_lwa_error_bodies(server):
    http = urllib3.PoolManager()
    bad_grant = http.request(
        "POST", server.url + "/auth/o2/token", encode_multipart=False,
        fields={"grant_type": "refresh_token", "refresh_token": "nope",
                "client_id": "cid", "client_secret": "secret"},
    )
    assert bad_grant.status == 400
    assert bad_grant.json()["error"] == "invalid_grant"
    bad_client = http.request(
        "POST", server.url + "/auth/o2/token", encode_multipart=False,
        fields={"grant_type": "client_credentials", "scope": "sellingpartnerapi::notifications",
                "client_id": "cid", "client_secret": "wrong"},
    )
    assert (bad_client.status, bad_client.json()["error"]) == (401, "invalid_client")
    assert server.api.lwa_calls() == 2 and server.api.lwa_calls(status=200) == 0


def test_access_tokens_expire(server, clock):
    http = urllib3.PoolManager()
    token = lwa_token(http, server.url, "rt")
    server.api.put_listing(SELLER, "S", marketplace_id=DE, asin="B0X")
    url = f"{server.url}/listings/2021-08-01/items/{SELLER}/S?marketplaceIds={DE}"
    assert http.request("GET", url, headers={"x-amz-access-token": token}).status == 200
    clock.advance(3600)
    expired = http.request("GET", url, headers={"x-amz-access-token": token})
    assert expired.status == 403
    assert expired.json()["errors"][0]["code"] == "Unauthorized"


def test_unknown_route_is_404_in_amazons_format(server):
    response = urllib3.PoolManager().request("GET", server.url + "/orders/v0/orders")
    assert response.status == 404
    assert response.json()["errors"][0]["code"] == "NotFound"


def test_apply_patch_semantics():
    de = {"marketplace_id": DE, "currency": "EUR", "our_price": 1, "minimum": 2}
    b2b = {"marketplace_id": DE, "audience": "B2B", "our_price": 3}
    attributes = {"purchasable_offer": [dict(de), dict(b2b)], "item_name": ["x"]}
    apply_patch(attributes, {"op": "merge", "path": "/attributes/purchasable_offer",
                             "value": [{"marketplace_id": DE, "our_price": Decimal("9.99")}]})
    assert attributes["purchasable_offer"][0] == {**de, "our_price": Decimal("9.99")}
    assert attributes["purchasable_offer"][1] == b2b
    apply_patch(attributes, {"op": "delete", "path": "/attributes/purchasable_offer",
                             "value": [{"marketplace_id": DE, "audience": "B2B"}]})
    assert len(attributes["purchasable_offer"]) == 1
    apply_patch(attributes, {"op": "delete", "path": "/attributes/item_name"})
    assert "item_name" not in attributes


def test_simulator_subclass_can_override_a_handler(clock):
    class Outage(FakeSellingPartnerApi):
        def get_feed(self, request):
            raise ApiFailure(400, "InvalidInput", "feeds are closed today")

    api = Outage(clock=clock)
    api.register_app("cid", "secret")
    api.register_seller(SELLER, "rt")
    with FakeSpApiServer(api) as server:
        client = SpApiClient(StaticCredentials("cid", "secret", {SELLER: "rt"}),
                             endpoint=server.url, lwa_endpoint=server.url,
                             clock=clock, sleep=clock.sleep)
        with pytest.raises(SpApiClientError, match="feeds are closed today"):
            client.seller(SELLER, DE).get_feed("1")


def test_command_line_serves_until_terminated():
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.simulator.spapi_server", "--port", "0",
         "--seller", f"{SELLER}=rt-cli"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().split()
        assert first[0] == "spapi"
        assert process.stdout.readline().strip() == "ready"
        url = first[1]
        client = SpApiClient(
            StaticCredentials("sellerops-local-client", "sellerops-local-secret",
                              {SELLER: "rt-cli"}),
            endpoint=url, lwa_endpoint=url,
        )
        assert client.seller(SELLER, DE).get_reports(report_types=["X"]) == {"reports": []}
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
