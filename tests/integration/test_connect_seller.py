"""Connecting a seller: notification destination and subscriptions on the fake SP-API,
first sync of GET_MERCHANT_LISTINGS_ALL_DATA into the Listings table (moto), and the whole
path on the in-process local stack: POST /sellers/me/connect → EventBridge →
ConnectSellerFunction → GET /listings.

The SP-API client and the fake server share one ManualClock, so rate-limit waits and
report polling cost no real time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.core.accounts import (
    Account,
    ConnectionStatus,
    RepricerConnection,
    SyncStatus,
    account_id_for_seller,
)
from functions.core.repositories.accounts import AccountRepository
from functions.core.repositories.listings import ListingRepository
from functions.core.repositories.tables import create_tables
from functions.core.spapi import SpApiClient, SpApiServerError, StaticCredentials
from functions.reprice.connect import lambda_handler, parse_request
from functions.reprice.connection import (
    ConnectRequest,
    ConnectSettings,
    SellerConnector,
    Superseded,
    SyncNotFinished,
    processing_directive,
)
from functions.reprice.listings import listing_from_config, state_of
from functions.reprice.logic.listing_config import ListingConfig
from infra.simulator.clock import ManualClock
from infra.simulator.spapi_server import FakeSpApiServer
from infra.template import load_transformed
from tests.integration.test_api_accounts import LambdaContext

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "reprice" / "merchant_listings.txt"
REPORT = FIXTURE.read_text(encoding="utf-8")
SELLER = "A2SELLERUS0001"
OTHER_SELLER = "A3SELLERUS0002"
US = "ATVPDKIKX0DER"
CA = "A2EUQ1WTGCTBG2"
CLIENT_ID = "amzn1.application-oa2-client.connect-test"
CLIENT_SECRET = "connect-test-secret"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:sellerops-PriceNotificationsQueue"
TYPES = {"ANY_OFFER_CHANGED", "B2B_ANY_OFFER_CHANGED", "ORDER_CHANGE"}
SYNCED_SKUS = ["BOOK-ART-U1", "MUG-BLU-12", "MUG-CAMP-16", "MUG-GIFT-BOX", "MUG-RED-12",
               "MUG-VINT-C"]


@dataclass
class World:
    server: FakeSpApiServer
    clock: ManualClock
    client: SpApiClient
    accounts: AccountRepository
    listings: ListingRepository

    @property
    def amazon(self) -> Any:
        return self.server.api

    def connector(self, **options: Any) -> SellerConnector:
        options.setdefault("sleep", self.clock.sleep)
        options.setdefault("clock", self.clock.now)
        settings = ConnectSettings(
            destination_name="sellerops-test-price-notifications",
            queue_arn=QUEUE_ARN,
            poll_seconds=5,
        )
        return SellerConnector(self.client, self.accounts, self.listings, settings, **options)

    def sign_up(self, seller_id: str = SELLER) -> Account:
        now = self.clock.now()
        return self.accounts.create(
            Account(
                account_id=account_id_for_seller(seller_id), seller_id=seller_id, name="Shop",
                language="en", country="US", created_at=now, updated_at=now,
            )
        )

    def connection(self, seller_id: str = SELLER) -> RepricerConnection:
        account = self.accounts.get(account_id_for_seller(seller_id))
        assert account is not None and account.repricer_connection is not None
        return account.repricer_connection

    def skus(self, seller_id: str = SELLER, marketplace_id: str = US) -> list[str]:
        page = self.listings.list_for_marketplace(seller_id, marketplace_id, limit=100)
        return [listing.sku for listing in page.items]


def request(
    seller_id: str = SELLER, *markets: str, request_id: str | None = None
) -> ConnectRequest:
    return ConnectRequest(
        seller_id=seller_id,
        marketplace_ids=markets or (US,),
        request_id=request_id or uuid.uuid4().hex,
    )


@pytest.fixture(scope="module")
def tables() -> Iterator[tuple[Any, dict[str, str]]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        yield client, create_tables(
            client, load_transformed(), only=["AccountsTable", "ListingsTable"]
        )


@pytest.fixture
def world(tables: tuple[Any, dict[str, str]]) -> Iterator[World]:
    client, names = tables
    for name in names.values():
        schema = client.describe_table(TableName=name)["Table"]["KeySchema"]
        keys = [k["AttributeName"] for k in schema]
        for page in client.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                client.delete_item(TableName=name, Key={k: item[k] for k in keys})
    clock = ManualClock(1000.0, epoch=datetime(2025, 10, 1, tzinfo=UTC))
    server = FakeSpApiServer(clock=clock, now=clock.now)
    server.api.register_app(CLIENT_ID, CLIENT_SECRET)
    server.api.register_seller(SELLER, "Atzr|seller-one")
    server.api.register_seller(OTHER_SELLER, "Atzr|seller-two")
    server.api.register_report("GET_MERCHANT_LISTINGS_ALL_DATA", REPORT, seller_id=SELLER,
                               gzip=True)
    with server:
        spapi = SpApiClient(
            StaticCredentials(
                CLIENT_ID, CLIENT_SECRET,
                {SELLER: "Atzr|seller-one", OTHER_SELLER: "Atzr|seller-two",
                 "A9UNAUTHORISED": "Atzr|never-granted"},
            ),
            endpoint=server.url, lwa_endpoint=server.url,
            clock=clock, sleep=clock.sleep, rand=lambda: 1.0,
        )
        yield World(
            server, clock, spapi,
            AccountRepository(names["AccountsTable"], client=client, clock=clock.now),
            ListingRepository(names["ListingsTable"], client=client, clock=clock.now),
        )


# -- subscriptions ------------------------------------------------------------------------------
def test_one_destination_and_three_subscriptions_then_reused(world: World) -> None:
    world.sign_up()
    world.sign_up(OTHER_SELLER)
    connection = world.connector().connect(request())
    assert connection.status == ConnectionStatus.CONNECTED, connection.error

    (destination,) = world.amazon.destinations[CLIENT_ID].values()
    assert destination["resource"] == {"sqs": {"arn": QUEUE_ARN}}
    assert destination["name"] == "sellerops-test-price-notifications"
    subscriptions = {k: v for k, v in world.amazon.subscriptions.items() if k[0] == SELLER}
    assert {k[2] for k in subscriptions} == TYPES
    for (_, app, _type), subscription in subscriptions.items():
        assert app == CLIENT_ID
        assert subscription["destinationId"] == destination["destinationId"]
        assert subscription["payloadVersion"] == "1.0"
    aoc = subscriptions[(SELLER, CLIENT_ID, "ANY_OFFER_CHANGED")]["processingDirective"]
    assert aoc == {"eventFilter": {"eventFilterType": "ANY_OFFER_CHANGED", "marketplaceIds": [US]}}
    assert "processingDirective" not in subscriptions[(SELLER, CLIENT_ID, "B2B_ANY_OFFER_CHANGED")]
    assert connection.subscriptions == {
        f"na:{t}": subscriptions[(SELLER, CLIENT_ID, t)]["subscriptionId"] for t in TYPES
    }

    # A second seller, and the first one again: the destination is reused, and the first
    # seller's subscriptions are found, not created again.
    world.connector().connect(request(OTHER_SELLER))
    again = world.connector().connect(request())
    assert again.status == ConnectionStatus.CONNECTED
    assert len(world.amazon.destinations[CLIENT_ID]) == 1
    assert world.amazon.api_calls("createDestination") == 1
    assert world.amazon.api_calls("createSubscription", seller_id=SELLER) == 3
    assert world.amazon.api_calls("createSubscription", seller_id=OTHER_SELLER) == 3
    assert again.subscriptions == connection.subscriptions


def test_an_existing_destination_and_subscription_are_found(world: World) -> None:
    world.sign_up()
    application = world.client.application("na")
    destination_id = application.create_destination("made-earlier", sqs_arn=QUEUE_ARN)[
        "payload"]["destinationId"]
    seller_api = world.client.seller(SELLER, US)
    existing = seller_api.create_subscription("ORDER_CHANGE", destination_id)["payload"]
    connection = world.connector().connect(request())
    assert connection.status == ConnectionStatus.CONNECTED
    assert world.amazon.api_calls("createDestination") == 1  # the one made above
    assert world.amazon.api_calls("createSubscription") == 3  # above + the two missing
    assert connection.subscriptions["na:ORDER_CHANGE"] == existing["subscriptionId"]


def test_processing_directives_only_where_amazon_supports_them() -> None:
    assert processing_directive("ANY_OFFER_CHANGED", [US, CA], "FiveMinutes") == {
        "eventFilter": {
            "eventFilterType": "ANY_OFFER_CHANGED",
            "marketplaceIds": [US, CA],
            "aggregationSettings": {"aggregationTimePeriod": "FiveMinutes"},
        }
    }
    assert processing_directive("ORDER_CHANGE", [US])["eventFilter"]["eventFilterType"] == (
        "ORDER_CHANGE"
    )
    assert processing_directive("B2B_ANY_OFFER_CHANGED", [US]) is None


# -- first sync ---------------------------------------------------------------------------------
def test_listings_are_synced_unconfigured_with_their_current_price(world: World) -> None:
    world.sign_up()
    connection = world.connector().connect(request())

    (sync,) = connection.syncs
    assert (sync.status, sync.created, sync.existing, sync.skipped) == (SyncStatus.SYNCED, 6, 0, 1)
    assert sync.report_id and sync.finished_at is not None
    assert connection.connected_at is not None
    assert world.skus() == SYNCED_SKUS
    blue = world.listings.get(SELLER, US, "MUG-BLU-12")
    assert blue is not None
    assert blue.strategy == {}  # unconfigured
    assert (blue.asin, blue.condition, blue.fulfillment, blue.currency) == (
        "B0EXMUG001", "new", "FBM", "USD",
    )
    state = state_of(blue)
    assert state.current_price is not None
    assert (state.current_price.amount, state.current_price.currency) == (Decimal("12.99"), "USD")
    assert (blue.paused, blue.dry_run, blue.version) == (False, False, 1)
    red = world.listings.get(SELLER, US, "MUG-RED-12")
    assert red is not None and red.fulfillment == "FBA"
    assert state_of(red).in_stock is None  # FBA rows carry no quantity
    camp = world.listings.get(SELLER, US, "MUG-CAMP-16")
    assert camp is not None and state_of(camp).in_stock is False
    gift = world.listings.get(SELLER, US, "MUG-GIFT-BOX")
    assert gift is not None and state_of(gift).current_price is None
    book = world.listings.get(SELLER, US, "BOOK-ART-U1")
    assert book is not None and book.condition == "used"


def test_an_existing_configured_listing_is_never_touched(world: World) -> None:
    world.sign_up()
    config = ListingConfig.model_validate({
        "sku": "MUG-BLU-12", "asin": "B0EXMUG001", "marketplace_id": US, "condition": "new",
        "fulfillment": "FBM", "strategy": "buybox", "min_price": "10.00",
        "max_price": "18.00", "currency": "USD", "current_price": "11.00",
    })
    mine = world.listings.put_new(listing_from_config(config, SELLER).evolve(paused=True))

    connection = world.connector().connect(request())
    assert (connection.syncs[0].created, connection.syncs[0].existing) == (5, 1)
    assert world.listings.get(SELLER, US, "MUG-BLU-12") == mine


def test_a_second_connection_overwrites_nothing(world: World) -> None:
    world.sign_up()
    world.connector().connect(request())
    before = world.listings.list_for_marketplace(SELLER, US, limit=100).items
    again = world.connector().connect(request())
    assert (again.syncs[0].created, again.syncs[0].existing) == (0, 6)
    assert world.listings.list_for_marketplace(SELLER, US, limit=100).items == before
    assert world.amazon.api_calls("createReport") == 2  # a new request syncs again


def test_nothing_to_report_is_an_empty_sync(world: World) -> None:
    world.sign_up(OTHER_SELLER)  # no report registered for this seller: CANCELLED
    connection = world.connector().connect(request(OTHER_SELLER))
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.syncs[0].status == SyncStatus.SYNCED
    assert world.skus(OTHER_SELLER) == []


# -- retries resume -----------------------------------------------------------------------------
def test_a_retry_resumes_with_the_same_report(world: World) -> None:
    world.sign_up()
    world.amazon.polls_to_done = 6
    connect = request(request_id="req-1")
    with pytest.raises(SyncNotFinished):
        world.connector(time_left=lambda: 20.0).connect(connect)
    midway = world.connection()
    assert midway.status == ConnectionStatus.SYNCING
    assert midway.syncs[0].status == SyncStatus.REQUESTED
    assert len(midway.subscriptions) == 3
    assert world.skus() == []

    done = world.connector().connect(connect)  # Lambda's retry: same event, same request
    assert done.status == ConnectionStatus.CONNECTED
    assert done.syncs[0].report_id == midway.syncs[0].report_id
    assert world.amazon.api_calls("createReport") == 1
    assert world.amazon.api_calls("createSubscription") == 3
    assert world.skus() == SYNCED_SKUS

    # A duplicate delivery after success changes nothing and calls nothing.
    calls = world.amazon.api_calls()
    assert world.connector().connect(connect) == world.connection()
    assert world.amazon.api_calls() == calls


def test_a_transient_failure_is_raised_for_the_retry_and_noted(world: World) -> None:
    world.sign_up()
    world.amazon.inject_fault("createReport", status=503, count=10)
    connect = request(request_id="req-2")
    with pytest.raises(SpApiServerError):
        world.connector().connect(connect)
    noted = world.connection()
    assert noted.status == ConnectionStatus.SYNCING
    assert noted.error and noted.error.startswith("retrying after")
    world.amazon.faults.clear()
    assert world.connector().connect(connect).status == ConnectionStatus.CONNECTED
    assert world.connection().error is None


def test_a_seller_without_authorisation_fails_with_the_reason(world: World) -> None:
    world.sign_up("A9UNAUTHORISED")
    connection = world.connector().connect(request("A9UNAUTHORISED"))
    assert connection.status == ConnectionStatus.FAILED
    assert connection.error and "authorisation" in connection.error
    assert world.skus("A9UNAUTHORISED") == []


def test_a_newer_request_supersedes_a_running_one(world: World) -> None:
    world.sign_up()
    world.amazon.polls_to_done = 6
    old = request(request_id="old")

    def newer_request_arrives(seconds: float) -> None:
        world.clock.sleep(seconds)
        if world.connection().request_id == "old":
            world.connector().connect(request(request_id="new"))

    with pytest.raises(Superseded):
        world.connector(sleep=newer_request_arrives).connect(old)
    assert world.connection().request_id == "new"
    assert world.connection().status == ConnectionStatus.CONNECTED


# -- the handler --------------------------------------------------------------------------------
def _event(detail: Any, detail_type: str = "SellerConnectRequested") -> dict[str, Any]:
    return {
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type, "source": "sellerops.api", "account": "123456789012",
        "time": "2025-10-01T00:00:00Z", "region": "us-east-1", "resources": [],
        "detail": detail,
    }


def test_the_event_names_the_request() -> None:
    parsed = parse_request(_event({"seller_id": SELLER, "marketplace_ids": [US]}))
    assert parsed.request_id == "6a7e8feb-b491-4cf7-a9f1-bf3703467718"  # the event id
    with_id = parse_request(_event({"seller_id": SELLER, "marketplace_ids": [US],
                                    "request_id": "r-9"}))
    assert with_id.request_id == "r-9"


@pytest.mark.parametrize(
    "event",
    [
        _event({"seller_id": SELLER, "marketplace_ids": []}),
        _event({"seller_id": SELLER, "marketplace_ids": ["NOPE"]}),
        _event({"marketplace_ids": [US]}),
        _event({"seller_id": SELLER, "marketplace_ids": [US]}, "SomethingElse"),
        {"not": "an event"},
    ],
)
def test_an_invalid_event_is_dropped(event: dict[str, Any]) -> None:
    assert lambda_handler(event, LambdaContext()) == {"status": "ignored"}


# -- end to end on the local stack --------------------------------------------------------------
def test_connect_on_the_local_stack_syncs_listings_visible_in_the_api() -> None:
    from infra.local.runtime import in_process
    from infra.simulator.sandbox import SimulatedAmazon

    seller = "A1LOCALCONNECT"
    with SimulatedAmazon() as amazon, in_process(parameters=amazon.stack_parameters()) as local:
        secrets = local.stack.aws("secretsmanager")
        amazon.store_app_secret(secrets)
        amazon.authorise_seller(secrets, seller)
        amazon.api.register_report("GET_MERCHANT_LISTINGS_ALL_DATA", REPORT, seller_id=seller)
        token = local.issue_token(seller)
        account = {"name": "Local Shop", "language": "en", "country": "US",
                   "products": ["repricer"], "profile": {"marketplaces": [US]}}
        assert local.request("PUT", "/accounts/me", token=token, json_body=account).status == 201

        accepted = local.request("POST", "/sellers/me/connect", token=token)
        assert accepted.status == 202, accepted.text
        local.drain()  # bus → shadow queue → ConnectSellerFunction

        status = local.request("GET", "/sellers/me/repricer", token=token).json()
        assert status["connection"]["status"] == "connected", status
        assert status["dry_run"] is True  # a newly connected seller starts in dry run
        assert len(status["connection"]["subscriptions"]) == 3
        listed = local.request("GET", f"/listings?marketplace_id={US}", token=token).json()
        assert [i["sku"] for i in listed["items"]] == SYNCED_SKUS
        blue = next(i for i in listed["items"] if i["sku"] == "MUG-BLU-12")
        assert (blue["configured"], blue["current_price"]) == (False, "12.99")
        assert len(amazon.api.destinations[next(iter(amazon.api.destinations))]) == 1
