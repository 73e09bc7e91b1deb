"""The SP-API client against the fake SP-API server over real HTTP on loopback.

Client and server share one ManualClock, so token expiry, quota refill, backoff and
rate-limit waits happen in simulated time: nothing here really sleeps.
"""

from __future__ import annotations

import logging
import socket
import threading
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import urllib3

from functions.core.marketplaces import SPAPI_ENDPOINTS, Region
from functions.core.settings import SpApiConfig
from functions.core.spapi import (
    LwaAuthError,
    RateLimiter,
    RetryPolicy,
    SpApiClient,
    SpApiClientError,
    SpApiConflict,
    SpApiConnectionError,
    SpApiNotFound,
    SpApiServerError,
    SpApiThrottled,
    StaticCredentials,
)
from infra.simulator.clock import ManualClock
from infra.simulator.spapi_server import FakeSpApiServer

SELLER = "A2SELLERDE01"
DE = "A1PA6795UKMFR9"
CLIENT_ID = "amzn1.application-oa2-client.0123456789"
CLIENT_SECRET = "amzn1.oa2-cs.v1.CLIENT-SECRET-VALUE-42"
REFRESH_TOKEN = "Atzr|IwEB-REFRESH-TOKEN-VALUE-42"
D15, D29 = Decimal("15.00"), Decimal("29.00")
LEDGER_HEADER = "Date\tFNSKU\tASIN\tMSKU\tTitle\tEvent Type\tQuantity"


def purchasable_offer(price: str, **extra: object) -> dict:
    entry = {
        "marketplace_id": DE,
        "currency": "EUR",
        "audience": "ALL",
        "our_price": [{"schedule": [{"value_with_tax": Decimal(price)}]}],
    }
    entry.update(extra)
    return entry


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0, epoch=datetime(2025, 10, 1, tzinfo=UTC))


@pytest.fixture
def server(clock):
    srv = FakeSpApiServer(clock=clock, now=clock.now)
    srv.api.register_app(CLIENT_ID, CLIENT_SECRET)
    srv.api.register_seller(SELLER, REFRESH_TOKEN)
    srv.api.put_listing(
        SELLER, "MUG-BLU-12", marketplace_id=DE, asin="B0C1EXAMPL", item_name="Blue Mug",
        attributes={
            "item_name": [{"value": "Blaue Tasse", "language_tag": "de_DE", "marketplace_id": DE}],
            "purchasable_offer": [
                purchasable_offer(
                    "19.90",
                    minimum_seller_allowed_price=[{"schedule": [{"value_with_tax": D15}]}],
                    maximum_seller_allowed_price=[{"schedule": [{"value_with_tax": D29}]}],
                )
            ],
            "fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
        },
    )
    with srv:
        yield srv


def make_client(server, clock, **options) -> SpApiClient:
    options.setdefault("clock", clock)
    options.setdefault("sleep", clock.sleep)
    options.setdefault("rand", lambda: 1.0)  # deterministic backoff: the full ceiling
    return SpApiClient(
        StaticCredentials(CLIENT_ID, CLIENT_SECRET, {SELLER: REFRESH_TOKEN}),
        endpoint=server.url,
        lwa_endpoint=server.url,
        **options,
    )


@pytest.fixture
def client(server, clock) -> SpApiClient:
    return make_client(server, clock)


@pytest.fixture
def seller(client):
    return client.seller(SELLER, DE)


def poll(get, job_id, key="processingStatus"):
    statuses = []
    for _ in range(10):
        job = get(job_id)
        statuses.append(job[key])
        if job[key] not in {"IN_QUEUE", "IN_PROGRESS"}:
            return job, statuses
    raise AssertionError(f"never finished: {statuses}")


# -- LWA -----------------------------------------------------------------------------------
def test_one_token_exchange_serves_many_calls_until_expiry(server, client, seller, clock):
    for _ in range(5):
        seller.get_listings_item("MUG-BLU-12")
    assert server.api.lwa_calls() == 1
    clock.advance(3600 - 61)  # still inside the refresh margin
    seller.get_listings_item("MUG-BLU-12")
    assert server.api.lwa_calls() == 1
    clock.advance(2)  # now within 60 s of expiry: refreshed before Amazon would refuse it
    seller.get_listings_item("MUG-BLU-12")
    assert server.api.lwa_calls() == 2
    assert client.auth.token_requests == 2


def test_concurrent_first_calls_share_one_token_exchange(server, client):
    seller = client.seller(SELLER, DE)
    errors = []

    def work():
        try:
            seller.get_listings_item("MUG-BLU-12")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert server.api.lwa_calls() == 1
    assert server.api.api_calls("getListingsItem") == 8


def test_revoked_access_token_is_replaced_once(server, seller):
    seller.get_listings_item("MUG-BLU-12")
    server.api.revoke_access_tokens()
    assert seller.get_listings_item("MUG-BLU-12")["sku"] == "MUG-BLU-12"
    assert server.api.lwa_calls() == 2
    assert [c.status for c in server.api.calls if c.operation == "getListingsItem"] == [
        200, 403, 200,
    ]


def test_wrong_refresh_token_raises_lwa_error(server, clock):
    client = SpApiClient(
        StaticCredentials(CLIENT_ID, CLIENT_SECRET, {SELLER: "Atzr|WRONG"}),
        endpoint=server.url, lwa_endpoint=server.url, clock=clock, sleep=clock.sleep,
    )
    with pytest.raises(LwaAuthError) as caught:
        client.seller(SELLER, DE).get_listings_item("MUG-BLU-12")
    assert caught.value.error == "invalid_grant"
    assert caught.value.status == 400
    assert server.api.lwa_calls(400) == 2  # the secret is re-read once before giving up
    assert server.api.api_calls() == 0


def test_wrong_client_secret_raises_lwa_error(server, clock):
    client = SpApiClient(
        StaticCredentials(CLIENT_ID, "nope", {SELLER: REFRESH_TOKEN}),
        endpoint=server.url, lwa_endpoint=server.url, clock=clock, sleep=clock.sleep,
    )
    with pytest.raises(LwaAuthError) as caught:
        client.seller(SELLER, DE).get_listings_item("MUG-BLU-12")
    assert (caught.value.error, caught.value.status) == ("invalid_client", 401)


def test_lwa_outage_is_retried(server, seller):
    server.api.inject_fault("lwaToken", status=503, count=2)
    seller.get_listings_item("MUG-BLU-12")
    assert server.api.lwa_calls() == 3


# -- retries and typed errors --------------------------------------------------------------
def test_429_backs_off_then_succeeds(server, seller, clock):
    server.api.inject_fault("getListingsItem", status=429, count=2)
    assert seller.get_listings_item("MUG-BLU-12")["sku"] == "MUG-BLU-12"
    assert server.api.throttled("getListingsItem") == 2
    assert server.api.api_calls("getListingsItem") == 3
    # Backoff 0.5 then 1.0 s (rand=1); after each 429 the bucket was also drained.
    assert clock.slept >= 1.5


def test_retry_after_is_honoured(server, seller, clock):
    server.api.inject_fault("patchListingsItem", status=429, count=1, retry_after=7)
    seller.patch_listings_item(
        "MUG-BLU-12",
        [{"op": "merge", "path": "/attributes/purchasable_offer",
          "value": [purchasable_offer("18.90")]}],
        product_type="PRODUCT",
    )
    assert 7 in clock.sleeps


def test_5xx_is_retried(server, seller):
    server.api.inject_fault("getFeed", status=503, count=1)
    server.api.inject_fault("getListingsItem", status=500, count=3)
    seller.get_listings_item("MUG-BLU-12")
    assert [c.status for c in server.api.calls if c.operation == "getListingsItem"] == [
        500, 500, 500, 200,
    ]


def test_throttled_after_retries_exhausted(server, clock):
    client = make_client(server, clock, retry=RetryPolicy(max_attempts=3))
    server.api.inject_fault("getListingsItem", status=429, count=99)
    with pytest.raises(SpApiThrottled) as caught:
        client.seller(SELLER, DE).get_listings_item("MUG-BLU-12")
    error = caught.value
    assert (error.status, error.code, error.operation) == (429, "QuotaExceeded", "getListingsItem")
    assert error.request_id
    assert server.api.api_calls("getListingsItem") == 3


def test_server_error_after_retries_exhausted(server, clock):
    client = make_client(server, clock, retry=RetryPolicy(max_attempts=2))
    server.api.inject_fault("getReport", status=500, count=99)
    with pytest.raises(SpApiServerError) as caught:
        client.seller(SELLER, DE).get_report("1")
    assert (caught.value.status, caught.value.code) == (500, "InternalFailure")
    assert server.api.api_calls("getReport") == 2


def test_dropped_connection_is_retried(server, seller):
    server.api.inject_fault("getListingsItem", drop_connection=True, count=1)
    assert seller.get_listings_item("MUG-BLU-12")["sku"] == "MUG-BLU-12"
    assert server.api.api_calls("getListingsItem") == 2


def test_unreachable_endpoint_raises_connection_error(server, clock):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    client = SpApiClient(
        StaticCredentials(CLIENT_ID, CLIENT_SECRET, {SELLER: REFRESH_TOKEN}),
        endpoint=dead, lwa_endpoint=server.url, clock=clock, sleep=clock.sleep,
        retry=RetryPolicy(max_attempts=2),
    )
    with pytest.raises(SpApiConnectionError):
        client.seller(SELLER, DE).get_listings_item("MUG-BLU-12")
    assert len(clock.sleeps) == 1


def test_4xx_surfaces_amazons_error_without_retry(server, seller):
    with pytest.raises(SpApiNotFound) as caught:
        seller.get_listings_item("NO-SUCH-SKU")
    error = caught.value
    assert isinstance(error, SpApiClientError)
    assert error.status == 404
    assert error.code == "NOT_FOUND"
    assert "NO-SUCH-SKU" in error.errors[0].message
    assert error.request_id and error.request_id in str(error)
    assert server.api.api_calls("getListingsItem") == 1

    with pytest.raises(SpApiClientError) as caught:
        seller.patch_listings_item(
            "MUG-BLU-12", [{"op": "explode", "path": "/attributes/x", "value": []}],
            product_type="PRODUCT",
        )
    assert (caught.value.status, caught.value.code) == (400, "InvalidInput")


# -- Listings ------------------------------------------------------------------------------
def test_merge_patch_changes_the_price_and_keeps_everything_else(server, seller):
    result = seller.patch_listings_item(
        "MUG-BLU-12",
        [{"op": "merge", "path": "/attributes/purchasable_offer",
          "value": [purchasable_offer("18.90")]}],
        product_type="PRODUCT",
    )
    assert result["status"] == "ACCEPTED"
    listing = seller.get_listings_item(
        "MUG-BLU-12", included_data=["summaries", "attributes", "offers", "fulfillmentAvailability"]
    )
    attributes = listing["attributes"]
    offer = attributes["purchasable_offer"][0]
    assert offer["our_price"][0]["schedule"][0]["value_with_tax"] == Decimal("18.90")
    # Keys of the same entry that were not sent, and other attributes, are kept.
    assert offer["minimum_seller_allowed_price"][0]["schedule"][0]["value_with_tax"] == Decimal(
        "15.00"
    )
    assert attributes["item_name"][0]["value"] == "Blaue Tasse"
    assert listing["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "DEFAULT", "quantity": 7}
    ]
    assert listing["offers"][0]["price"] == {"currencyCode": "EUR", "amount": "18.90"}
    assert listing["summaries"][0]["asin"] == "B0C1EXAMPL"


def test_replace_patch_overwrites_the_attribute(server, seller):
    seller.patch_listings_item(
        "MUG-BLU-12",
        [{"op": "replace", "path": "/attributes/purchasable_offer",
          "value": [purchasable_offer("21.00")]}],
        product_type="PRODUCT",
    )
    offer = server.api.listing(SELLER, "MUG-BLU-12")["attributes"]["purchasable_offer"][0]
    assert "minimum_seller_allowed_price" not in offer


def test_sku_with_special_characters_round_trips(server, seller):
    server.api.put_listing(SELLER, "MUG/BLU 12+ä", marketplace_id=DE, asin="B0C1EXAMP2")
    assert seller.get_listings_item("MUG/BLU 12+ä")["sku"] == "MUG/BLU 12+ä"


# -- Feeds ---------------------------------------------------------------------------------
def test_json_listings_feed_round_trip(server, seller):
    feed = {
        "header": {"sellerId": SELLER, "version": "2.0"},
        "messages": [
            {"messageId": 1, "sku": "MUG-BLU-12", "operationType": "PATCH",
             "productType": "PRODUCT",
             "patches": [{"op": "merge", "path": "/attributes/purchasable_offer",
                          "value": [purchasable_offer("17.50")]}]},
            {"messageId": 2, "sku": "NOT-MINE", "operationType": "PATCH",
             "productType": "PRODUCT", "patches": []},
        ],
    }
    from functions.core.spapi.transport import encode_json

    feed_id = seller.submit_feed("JSON_LISTINGS_FEED", encode_json(feed))
    done, statuses = poll(seller.get_feed, feed_id)
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    assert done["feedType"] == "JSON_LISTINGS_FEED"
    report = seller.get_feed_result(done["resultFeedDocumentId"])
    assert report["summary"]["messagesAccepted"] == 1
    assert report["summary"]["messagesInvalid"] == 1
    assert report["issues"][0]["messageId"] == 2
    offer = server.api.listing(SELLER, "MUG-BLU-12")["attributes"]["purchasable_offer"][0]
    assert offer["our_price"][0]["schedule"][0]["value_with_tax"] == Decimal("17.50")
    assert "minimum_seller_allowed_price" in offer
    assert server.api.api_calls("createFeedDocument") == 1
    assert server.api.api_calls("createFeed") == 1


def test_feed_upload_needs_the_signed_content_type(server, seller):
    document = seller.create_feed_document("application/json; charset=UTF-8")
    with pytest.raises(SpApiClientError) as caught:
        seller.upload_feed_document(document["url"], b"{}", content_type="text/plain")
    assert caught.value.status == 403
    assert caught.value.code == "SignatureDoesNotMatch"


def test_feed_without_upload_is_rejected(server, seller):
    document = seller.create_feed_document()
    with pytest.raises(SpApiClientError, match="not been uploaded"):
        seller.create_feed("JSON_LISTINGS_FEED", document["feedDocumentId"])


# -- Reports -------------------------------------------------------------------------------
LEDGER = (
    LEDGER_HEADER + "\n"
    "10/02/2025\tX002ABCD12\tB0C1EXAMPL\tMUG-BLU-12\tTasse für Kaffee\tAdjustments\t-3\n"
    "10/09/2025\tX002ABCD12\tB0C1EXAMPL\tMUG-BLU-12\tTasse für Kaffee\tAdjustments\t1\n"
)


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_report_round_trip(server, seller, compressed):
    server.api.register_report("GET_LEDGER_DETAIL_VIEW_DATA", LEDGER, gzip=compressed)
    created = seller.create_report(
        "GET_LEDGER_DETAIL_VIEW_DATA",
        data_start_time=datetime(2025, 9, 1, tzinfo=UTC),
        data_end_time=datetime(2025, 10, 1, tzinfo=UTC),
        report_options={"eventType": "Adjustments"},
    )
    done, statuses = poll(seller.get_report, created["reportId"])
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    assert done["dataStartTime"] == "2025-09-01T00:00:00Z"
    document = seller.get_report_document(done["reportDocumentId"])
    assert document.get("compressionAlgorithm") == ("GZIP" if compressed else None)
    with seller.open_report_document(done["reportDocumentId"]) as lines:
        rows = [line.rstrip("\n").split("\t") for line in lines]
    assert rows[0] == LEDGER_HEADER.split("\t")
    assert rows[1][4] == "Tasse für Kaffee"
    assert len(rows) == 3


def test_report_with_nothing_to_report_is_cancelled(server, seller):
    created = seller.create_report("GET_FBA_REIMBURSEMENTS_DATA")
    done, _ = poll(seller.get_report, created["reportId"])
    assert done["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in done


def test_report_content_can_depend_on_the_request(server, seller):
    server.api.register_report(
        "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
        lambda report: f"settlement-id\n{report['reportId']}\n",
    )
    created = seller.create_report("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2")
    done, _ = poll(seller.get_report, created["reportId"])
    with seller.open_report_document(done["reportDocumentId"]) as lines:
        assert list(lines)[1].strip() == created["reportId"]


def test_get_reports_pages_through_everything(server, seller):
    ids = [seller.create_report("GET_FBA_REIMBURSEMENTS_DATA")["reportId"] for _ in range(5)]
    page = seller.get_reports(report_types=["GET_FBA_REIMBURSEMENTS_DATA"], page_size=2)
    assert len(page["reports"]) == 2 and page["nextToken"]
    found = list(
        seller.iter_reports(report_types=["GET_FBA_REIMBURSEMENTS_DATA"], page_size=2)
    )
    assert sorted(r["reportId"] for r in found) == sorted(ids)
    assert server.api.api_calls("getReports") == 4


def test_large_gzip_report_is_streamed_not_loaded(server, seller):
    line = "2025-10-02T09:14:07-07:00\tX002ABCD12\tB0C1EXAMPL\tMUG-BLU-12\tAdjustments\t-3\n"
    lines = 200_000  # ~15 MB uncompressed
    server.api.register_report(
        "GET_LEDGER_DETAIL_VIEW_DATA", LEDGER_HEADER + "\n" + line * lines, gzip=True
    )
    created = seller.create_report("GET_LEDGER_DETAIL_VIEW_DATA")
    done, _ = poll(seller.get_report, created["reportId"])
    tracemalloc.start()
    try:
        with seller.open_report_document(done["reportDocumentId"]) as stream:
            count = sum(1 for _ in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == lines + 1
    assert peak < 4_000_000, f"peak {peak} bytes: the document was not streamed"


def test_expired_document_url_is_a_client_error(server, client, seller, clock):
    server.api.register_report("GET_LEDGER_DETAIL_VIEW_DATA", LEDGER)
    report_id = seller.create_report("GET_LEDGER_DETAIL_VIEW_DATA")["reportId"]
    done, _ = poll(seller.get_report, report_id)
    document = seller.get_report_document(done["reportDocumentId"])
    clock.advance(301)  # presigned URLs live 5 minutes
    with pytest.raises(SpApiClientError) as caught, client.open_document(document):
        pass
    assert (caught.value.status, caught.value.code) == (403, "AccessDenied")


# -- Notifications -------------------------------------------------------------------------
def test_destination_and_subscription_flow(server, client, seller):
    app = client.application(Region.EUROPE)
    arn = "arn:aws:sqs:eu-west-1:123456789012:PriceNotificationsQueue"
    created = app.create_destination("sellerops", sqs_arn=arn)["payload"]
    with pytest.raises(SpApiConflict) as caught:
        app.create_destination("sellerops-again", sqs_arn=arn)
    assert caught.value.status == 409
    assert app.ensure_sqs_destination("sellerops", arn) == created["destinationId"]
    assert [d["destinationId"] for d in app.get_destinations()["payload"]] == [
        created["destinationId"]
    ]

    with pytest.raises(SpApiNotFound):
        seller.get_subscription("ANY_OFFER_CHANGED")
    subscription = seller.create_subscription(
        "ANY_OFFER_CHANGED", created["destinationId"],
        processing_directive={"eventFilter": {"eventFilterType": "ANY_OFFER_CHANGED",
                                              "marketplaceIds": [DE],
                                              "aggregationSettings": {
                                                  "aggregationTimePeriod": "FiveMinutes"}}},
    )["payload"]
    assert seller.get_subscription("ANY_OFFER_CHANGED")["payload"] == subscription
    with pytest.raises(SpApiConflict):
        seller.create_subscription("ANY_OFFER_CHANGED", created["destinationId"])
    # One seller token and one grantless (client_credentials) token.
    assert server.api.lwa_calls() == 2
    grants = list(server.api.access_tokens.values())
    assert {g.scope for g in grants} == {None, "sellingpartnerapi::notifications"}


def test_server_checks_which_kind_of_token_an_operation_needs(server, client):
    seller_token = client.auth.seller_token(SELLER)
    app_token = client.auth.grantless_token("sellingpartnerapi::notifications")
    http = urllib3.PoolManager()
    cases = [
        ("/notifications/v1/destinations", seller_token, 403),
        ("/notifications/v1/destinations", app_token, 200),
        ("/notifications/v1/subscriptions/ANY_OFFER_CHANGED", app_token, 403),
        ("/notifications/v1/subscriptions/ANY_OFFER_CHANGED", None, 403),
        ("/notifications/v1/subscriptions/ANY_OFFER_CHANGED", "Atza|forged", 403),
    ]
    for path, token, status in cases:
        headers = {"x-amz-access-token": token} if token else {}
        response = http.request("GET", server.url + path, headers=headers)
        assert response.status == status, (path, status)
        assert response.headers["x-amzn-RequestId"]
        if status == 403:
            assert response.json()["errors"][0]["code"] == "Unauthorized"


# -- Product Pricing -----------------------------------------------------------------------
def test_item_offers_batch(server, seller):
    server.api.put_listing("A3RIVAL", "RIVAL-1", marketplace_id=DE, asin="B0C1EXAMPL",
                           attributes={"purchasable_offer": [purchasable_offer("18.49")]})
    server.api.set_item_offers(DE, "B0REGISTER", {"ASIN": "B0REGISTER", "Offers": []})
    result = seller.get_item_offers_batch(["B0C1EXAMPL", "B0REGISTER"])
    first, second = result["responses"]
    assert first["status"]["statusCode"] == 200
    assert first["request"]["Asin"] == "B0C1EXAMPL"
    offers = first["body"]["payload"]["Offers"]
    assert [o["SellerId"] for o in offers] == ["A3RIVAL", SELLER]
    assert offers[0]["ListingPrice"] == {"CurrencyCode": "EUR", "Amount": Decimal("18.49")}
    assert offers[0]["IsBuyBoxWinner"] is True
    assert second["body"]["payload"] == {"ASIN": "B0REGISTER", "Offers": []}


def test_listing_offers_batch_marks_our_offer_and_reports_bad_skus(server, seller):
    result = seller.get_listing_offers_batch(["MUG-BLU-12", "NOPE"])
    ours, bad = result["responses"]
    assert ours["body"]["payload"]["Offers"][0]["MyOffer"] is True
    assert ours["body"]["payload"]["SKU"] == "MUG-BLU-12"
    assert bad["status"]["statusCode"] == 400
    assert bad["body"]["errors"][0]["code"] == "InvalidInput"
    with pytest.raises(ValueError):
        seller.get_listing_offers_batch([f"SKU-{i}" for i in range(21)])


# -- rate limits ---------------------------------------------------------------------------
def test_client_waits_for_its_quota_instead_of_spending_429s(server, seller, clock):
    start = clock()
    for _ in range(4):
        seller.get_item_offers_batch(["B0C1EXAMPL"])  # 0.1 rps, burst 1
    assert server.api.throttled() == 0
    assert clock() - start == pytest.approx(30.0)


def test_without_client_limiting_the_server_quota_answers_429(server, clock):
    limiter = RateLimiter(clock=clock, sleep=clock.sleep, enabled=False)
    client = make_client(server, clock, rate_limiter=limiter,
                         retry=RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=20))
    seller = client.seller(SELLER, DE)
    seller.get_item_offers_batch(["B0C1EXAMPL"])
    seller.get_item_offers_batch(["B0C1EXAMPL"])  # 429s until 10 s have passed
    assert server.api.throttled("getItemOffersBatch") >= 1
    assert clock.slept >= 10


def test_rate_limit_header_resizes_the_client_bucket(server, client, seller):
    server.api.set_quota("getListingsItem", rate=1, burst=10)
    seller.get_listings_item("MUG-BLU-12")
    bucket = client.rate_limiter.bucket(SELLER, "getListingsItem")
    assert (bucket.rate, bucket.burst) == (1.0, 10)


def test_max_wait_raises_instead_of_sleeping(server, clock):
    limiter = RateLimiter(clock=clock, sleep=clock.sleep, max_wait=5)
    client = make_client(server, clock, rate_limiter=limiter)
    seller = client.seller(SELLER, DE)
    seller.get_item_offers_batch(["B0C1EXAMPL"])
    with pytest.raises(SpApiThrottled) as caught:
        seller.get_item_offers_batch(["B0C1EXAMPL"])
    assert caught.value.retry_after == pytest.approx(10.0)
    assert server.api.api_calls("getItemOffersBatch") == 1


# -- regions and endpoints -----------------------------------------------------------------
class RecordingPool:
    """Stands in for urllib3's pool: records URLs, answers 200 without any network."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def request(self, method, url, **kwargs):
        self.urls.append(url)
        body = b'{"access_token": "Atza|x", "expires_in": 3600}' if "/auth/o2/" in url else b"{}"
        return urllib3.HTTPResponse(body=body, status=200, headers={"x-amzn-RequestId": "r"})


@pytest.mark.parametrize(
    "marketplace_id, region",
    [("ATVPDKIKX0DER", Region.NORTH_AMERICA), ("A1PA6795UKMFR9", Region.EUROPE),
     ("A1F83G8C2ARO7P", Region.EUROPE), ("A1VC38T7YXB528", Region.FAR_EAST)],
)
def test_region_follows_the_sellers_marketplace(marketplace_id, region):
    pool = RecordingPool()
    client = SpApiClient(StaticCredentials("id", "secret", {"S": "rt"}), http=pool)
    client.seller("S", marketplace_id).get_feed("42")
    lwa_url, api_url = pool.urls
    assert lwa_url == "https://api.amazon.com/auth/o2/token"
    assert api_url == f"{SPAPI_ENDPOINTS[region]}/feeds/2021-06-30/feeds/42"


def test_endpoint_overrides_from_settings_reach_the_simulator(server, clock):
    settings = SpApiConfig(spapi_endpoint=server.url, lwa_endpoint=server.url)
    client = SpApiClient.from_settings(
        settings,
        credentials=StaticCredentials(CLIENT_ID, CLIENT_SECRET, {SELLER: REFRESH_TOKEN}),
        clock=clock, sleep=clock.sleep,
    )
    assert client.endpoint_for(Region.FAR_EAST) == server.url
    # A US marketplace would normally go to the NA endpoint; the override wins.
    server.api.put_listing(SELLER, "US-1", marketplace_id="ATVPDKIKX0DER", asin="B0US")
    assert client.seller(SELLER, "ATVPDKIKX0DER").get_listings_item("US-1")["sku"] == "US-1"


def test_empty_overrides_mean_amazon(monkeypatch):
    monkeypatch.setenv("SPAPI_ENDPOINT", "")
    monkeypatch.setenv("LWA_ENDPOINT", "")
    client = SpApiClient.from_settings(
        SpApiConfig(), credentials=StaticCredentials("id", "secret")
    )
    assert client.endpoint_for("eu") == SPAPI_ENDPOINTS[Region.EUROPE]
    assert client.auth.url == "https://api.amazon.com/auth/o2/token"


# -- no secrets in logs --------------------------------------------------------------------
def test_no_secret_reaches_the_logs(server, clock, caplog):
    caplog.set_level(logging.DEBUG)  # root: every logger, every level
    client = make_client(server, clock)
    seller = client.seller(SELLER, DE)
    seller.get_listings_item("MUG-BLU-12")
    server.api.inject_fault("getListingsItem", status=503, count=1)
    seller.get_listings_item("MUG-BLU-12")
    server.api.register_report("GET_LEDGER_DETAIL_VIEW_DATA", LEDGER, gzip=True)
    report_id = seller.create_report("GET_LEDGER_DETAIL_VIEW_DATA")["reportId"]
    done, _ = poll(seller.get_report, report_id)
    with seller.open_report_document(done["reportDocumentId"]) as lines:
        list(lines)
    seller.submit_feed("JSON_LISTINGS_FEED", b'{"header": {}, "messages": []}')
    client.application("eu").create_destination("d", sqs_arn="arn:aws:sqs:eu-west-1:1:q")
    with pytest.raises(SpApiNotFound) as not_found:
        seller.get_listings_item("NO-SUCH-SKU")
    bad = SpApiClient(
        StaticCredentials(CLIENT_ID, CLIENT_SECRET, {SELLER: "Atzr|ANOTHER-SECRET-REFRESH"}),
        endpoint=server.url, lwa_endpoint=server.url, clock=clock, sleep=clock.sleep,
    )
    with pytest.raises(LwaAuthError) as lwa_error:
        bad.seller(SELLER, DE).get_listings_item("MUG-BLU-12")

    secrets = {CLIENT_SECRET, REFRESH_TOKEN, "Atzr|ANOTHER-SECRET-REFRESH"}
    secrets |= set(server.api.access_tokens)  # every access token issued
    secrets |= {s for d in server.api.documents.values() for s in d.signatures}  # URL signatures
    assert len(secrets) > 6
    records = [
        record.getMessage() + " " + " ".join(str(v) for v in vars(record).values())
        for record in caplog.records
    ]
    assert any("getListingsItem" in text for text in records)  # the calls were logged
    assert any("status=503" in text for text in records)
    for secret in secrets:
        for text in [*records, str(not_found.value), str(lwa_error.value), repr(client.auth)]:
            assert secret not in text
