"""Listings, strategies, bulk import, price history and the seller's Repricer switches,
through ApiFunction's handler on moto tables created from template.yaml.

Events are API Gateway REST proxy events (v1) with the Cognito authorizer's claims, as in
test_api_accounts.py. Every route is checked for tenant isolation: seller B never reads
or changes seller A's data; staff read anyone's and change nobody's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.api import dependencies, handler
from functions.core.repositories.accounts import AccountRepository
from functions.core.repositories.listings import Listing, ListingRepository
from functions.core.repositories.price_history import PriceHistoryRepository
from functions.core.repositories.tables import create_tables
from infra.template import load_transformed
from tests.integration.test_api_accounts import LambdaContext, rest_event

SELLER_A = {"custom:seller_id": "A1SELLERAAAAAA", "sub": "user-a"}
SELLER_B = {"custom:seller_id": "B2SELLERBBBBBB", "sub": "user-b"}
STAFF = {"cognito:groups": "staff", "sub": "user-staff"}
US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"

BUYBOX = {
    "asin": "B0EXMUG001",
    "condition": "new",
    "fulfillment": "FBM",
    "strategy": "buybox",
    "min_price": "10.00",
    "max_price": "18.00",
    "undercut": "0.05",
    "climb_step": "2%",
    "exclude_fbm": True,
}

CSV = (
    "sku,asin,marketplace_id,condition,fulfillment,strategy,min_price,max_price,currency,"
    "fixed_price,push_levels,current_price\n"
    "MUG-BLU-12,B0EXMUG001,ATVPDKIKX0DER,new,FBM,buybox,10.00,18.00,USD,,,12.99\n"
    "MUG-RED-12,B0EXMUG002,ATVPDKIKX0DER,New,FBA,fixed,10.00,20.00,USD,15.00,,\n"
    "\n"
    "TASSE-1,B0EXTASSE1,A1PA6795UKMFR9,new,FBA,push,9.00,19.00,EUR,,9.99|12.99|14.99,\n"
)


@dataclass
class Reply:
    status: int
    body: Any


class FakeEvents:
    """Records what the API puts on the bus."""

    def __init__(self) -> None:
        self.put_events: list[tuple[str, dict[str, Any]]] = []

    def put(self, detail_type: str, detail: Mapping[str, Any]) -> str:
        self.put_events.append((detail_type, dict(detail)))
        return f"event-{len(self.put_events)}"


class Api:
    def call(
        self,
        method: str,
        path: str,
        *,
        claims: dict[str, Any] | None,
        body: Any = None,
        query: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> Reply:
        event = rest_event(method, path, claims=claims, body=body, query=query)
        if content_type is not None:
            event["headers"]["Content-Type"] = content_type
            event["multiValueHeaders"]["Content-Type"] = [content_type]
        response = handler.lambda_handler(event, LambdaContext())
        text = response.get("body")
        return Reply(int(response["statusCode"]), json.loads(text) if text else None)

    def get(self, path: str, claims: dict[str, Any] | None, **query: str) -> Reply:
        return self.call("GET", path, claims=claims, query=query or None)

    def put(self, path: str, body: Any, claims: dict[str, Any] | None) -> Reply:
        return self.call("PUT", path, claims=claims, body=body)

    def post(self, path: str, body: Any, claims: dict[str, Any] | None, **kwargs: Any) -> Reply:
        return self.call("POST", path, claims=claims, body=body, **kwargs)

    def import_csv(self, text: str, claims: dict[str, Any] | None) -> Reply:
        return self.post("/listings/import", text, claims, content_type="text/csv")


@dataclass
class Stores:
    accounts: AccountRepository
    listings: ListingRepository
    history: PriceHistoryRepository
    events: FakeEvents


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        names = create_tables(
            client, load_transformed(),
            only=["AccountsTable", "ListingsTable", "PriceHistoryTable"],
        )
        yield client, names


@pytest.fixture
def stores(aws: Any) -> Iterator[Stores]:
    client, names = aws
    for name in names.values():  # empty the tables between tests
        schema = client.describe_table(TableName=name)["Table"]["KeySchema"]
        key_names = [k["AttributeName"] for k in schema]
        for page in client.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                client.delete_item(TableName=name, Key={k: item[k] for k in key_names})
    stores = Stores(
        AccountRepository(names["AccountsTable"], client=client),
        ListingRepository(names["ListingsTable"], client=client),
        PriceHistoryRepository(names["PriceHistoryTable"], client=client),
        FakeEvents(),
    )
    overrides = handler.app.dependency_overrides
    overrides[dependencies.accounts_repository] = lambda: stores.accounts
    overrides[dependencies.listings_repository] = lambda: stores.listings
    overrides[dependencies.price_history_repository] = lambda: stores.history
    overrides[dependencies.domain_events] = lambda: stores.events
    yield stores
    overrides.clear()


@pytest.fixture
def api(stores: Stores) -> Api:
    return Api()


def fields(reply: Reply) -> set[str]:
    return {e["field"] for e in reply.body["errors"]}


def sign_up(api: Api, claims: dict[str, Any], marketplaces: list[str] | None = None) -> None:
    body = {"name": "Shop", "language": "en", "country": "US", "products": ["repricer"]}
    if marketplaces is not None:
        body["profile"] = {"marketplaces": marketplaces}
    assert api.put("/accounts/me", body, claims).status == 201


# -- configure one SKU ----------------------------------------------------------------------------
def test_configure_a_sku_and_read_it_back(api: Api) -> None:
    created = api.put(f"/listings/{US}/MUG-BLU-12", {**BUYBOX, "dry_run": True}, SELLER_A)
    assert created.status == 201, created.body
    listing = created.body
    assert (listing["seller_id"], listing["marketplace_id"], listing["sku"]) == (
        "A1SELLERAAAAAA", US, "MUG-BLU-12",
    )
    assert (listing["asin"], listing["condition"], listing["fulfillment"], listing["currency"]) == (
        "B0EXMUG001", "new", "FBM", "USD",
    )
    assert listing["configured"] is True
    strategy = listing["strategy"]
    assert strategy["strategy"] == "buybox"
    assert (strategy["min_price"], strategy["max_price"]) == ("10.00", "18.00")
    assert (strategy["undercut"], strategy["climb_step"], strategy["max_change"]) == (
        "0.05", "2%", "20%",  # max_change: the default
    )
    assert strategy["exclude_fbm"] is True
    assert strategy["climb_interval"] == "PT15M"
    assert "sku" not in strategy and "currency" not in strategy
    assert (listing["paused"], listing["dry_run"], listing["version"]) == (False, True, 1)

    read = api.get(f"/listings/{US}/MUG-BLU-12", SELLER_A)
    assert (read.status, read.body) == (200, listing)


def test_replace_a_strategy_with_the_version_read(api: Api) -> None:
    v1 = api.put(f"/listings/{US}/MUG-BLU-12", BUYBOX, SELLER_A).body
    fixed = {"strategy": "fixed", "min_price": "10", "max_price": "20", "fixed_price": 14.5,
             "paused": True, "version": v1["version"]}
    v2 = api.put(f"/listings/{US}/MUG-BLU-12", fixed, SELLER_A)
    assert v2.status == 200, v2.body
    assert v2.body["version"] == 2
    assert v2.body["asin"] == "B0EXMUG001"  # kept from the stored listing
    assert v2.body["strategy"]["fixed_price"] == "14.5"  # a JSON number, read exactly
    assert v2.body["strategy"]["undercut"] == "0.01"  # replaced: back to the default
    assert v2.body["paused"] is True


def test_stale_version_is_409_and_changes_nothing(api: Api) -> None:
    api.put(f"/listings/{US}/MUG-BLU-12", BUYBOX, SELLER_A)
    api.put(f"/listings/{US}/MUG-BLU-12", {**BUYBOX, "max_price": "19.00"}, SELLER_A)  # v2
    stale = api.put(
        f"/listings/{US}/MUG-BLU-12", {**BUYBOX, "max_price": "25.00", "version": 1}, SELLER_A
    )
    assert stale.status == 409
    assert "version" in stale.body["message"]
    read = api.get(f"/listings/{US}/MUG-BLU-12", SELLER_A).body
    assert (read["version"], read["strategy"]["max_price"]) == (2, "19.00")


def test_version_for_a_listing_that_does_not_exist_is_404(api: Api) -> None:
    assert api.put(f"/listings/{US}/NEW-1", {**BUYBOX, "version": 1}, SELLER_A).status == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"min_price": "-1.00"}, "min_price"),
        ({"max_price": "18.001"}, "max_price"),
        ({"strategy": "cheapest"}, "strategy"),
        ({"strategy": "fixed"}, "fixed_price"),
        ({"strategy": "push"}, "push_levels"),
        ({"currency": "EUR"}, "currency"),
        ({"undercut": "five cents"}, "undercut"),
        ({"climb_interval": "soon"}, "climb_interval"),
        ({"push_slow_units": 9}, "push_slow_units"),
        ({"b2b_tiers": {"1": "2%"}}, "b2b_tiers"),
        ({"colour": "blue"}, "colour"),
        ({"fulfillment": "DROPSHIP"}, "fulfillment"),
    ],
)
def test_invalid_strategy_is_422_naming_the_field(
    api: Api, change: dict[str, Any], field: str
) -> None:
    reply = api.put(f"/listings/{US}/MUG-BLU-12", {**BUYBOX, **change}, SELLER_A)
    assert reply.status == 422, reply.body
    assert field in fields(reply), reply.body
    assert api.get(f"/listings/{US}/MUG-BLU-12", SELLER_A).status == 404


def test_creating_needs_identity_and_bounds(api: Api) -> None:
    reply = api.put(f"/listings/{US}/MUG-BLU-12", {"strategy": "buybox"}, SELLER_A)
    assert reply.status == 422
    assert {"asin", "condition", "fulfillment", "min_price", "max_price"} <= fields(reply)


def test_skus_arrive_percent_encoded_in_the_path(api: Api) -> None:
    # API Gateway REST passes the path as sent: "MUG/12 XL" is MUG%2F12%20XL.
    created = api.put(f"/listings/{US}/MUG%2F12%20XL", BUYBOX, SELLER_A)
    assert (created.status, created.body["sku"]) == (201, "MUG/12 XL")
    assert api.get(f"/listings/{US}/MUG%2F12%20XL", SELLER_A).body["sku"] == "MUG/12 XL"
    listed = api.get("/listings", SELLER_A, marketplace_id=US).body["items"]
    assert [i["sku"] for i in listed] == ["MUG/12 XL"]


def test_unknown_marketplace_in_the_path_is_422(api: Api) -> None:
    reply = api.put("/listings/NOTAMARKET/MUG-BLU-12", BUYBOX, SELLER_A)
    assert reply.status == 422
    assert "marketplace_id" in fields(reply)


# -- list -----------------------------------------------------------------------------------------
def test_list_pages_in_sku_order_and_tokens_stay_with_their_seller(
    api: Api, stores: Stores
) -> None:
    for sku in ("C-3", "A-1", "B-2"):
        api.put(f"/listings/{US}/{sku}", BUYBOX, SELLER_A)
    api.put(f"/listings/{DE}/D-1", {**BUYBOX, "min_price": "10", "max_price": "20"}, SELLER_A)

    first = api.get("/listings", SELLER_A, marketplace_id=US, limit="2")
    assert first.status == 200
    assert [i["sku"] for i in first.body["items"]] == ["A-1", "B-2"]
    token = first.body["next_token"]
    second = api.get("/listings", SELLER_A, marketplace_id=US, limit="2", next_token=token)
    assert [i["sku"] for i in second.body["items"]] == ["C-3"]
    assert second.body["next_token"] is None

    assert api.get("/listings", SELLER_B, marketplace_id=US, next_token=token).status == 400
    assert api.get("/listings", SELLER_A).status == 422  # marketplace_id is required


# -- bulk import ----------------------------------------------------------------------------------
def test_import_the_listings_csv(api: Api) -> None:
    reply = api.import_csv(CSV, SELLER_A)
    assert reply.status == 200, reply.body
    assert reply.body == {"created": 3, "updated": 0, "total": 3}

    us = api.get("/listings", SELLER_A, marketplace_id=US).body["items"]
    assert [i["sku"] for i in us] == ["MUG-BLU-12", "MUG-RED-12"]
    blue, red = us
    assert blue["current_price"] == "12.99"  # current_price column: the starting price
    assert red["strategy"]["fixed_price"] == "15.00"
    assert red["condition"] == "new"
    (tasse,) = api.get("/listings", SELLER_A, marketplace_id=DE).body["items"]
    assert tasse["strategy"]["push_levels"] == ["9.99", "12.99", "14.99"]


def test_import_updates_existing_listings_keeping_switches_and_state(api: Api) -> None:
    api.put(f"/listings/{US}/MUG-BLU-12", {**BUYBOX, "paused": True}, SELLER_A)
    reply = api.import_csv(CSV, SELLER_A)
    assert reply.body == {"created": 2, "updated": 1, "total": 3}
    blue = api.get(f"/listings/{US}/MUG-BLU-12", SELLER_A).body
    assert blue["paused"] is True
    assert blue["version"] == 2
    assert blue["strategy"]["undercut"] == "0.01"  # the CSV's strategy replaced the old one


def test_a_bad_csv_names_lines_and_columns_and_imports_nothing(api: Api) -> None:
    bad = (
        CSV
        + "MUG-GRN-12,B0EXMUG009,ATVPDKIKX0DER,new,FBM,buybox,abc,18.00,USD,,,\n"
        + "MUG-YLW-12,B0EXMUG010,ATVPDKIKX0DER,new,FBX,buybox,10.00,18.00,USD,,,\n"
    )
    reply = api.import_csv(bad, SELLER_A)
    assert reply.status == 422, reply.body
    problems = {(e["line"], e["column"]) for e in reply.body["errors"]}
    assert problems == {(6, "min_price"), (7, "fulfillment")}
    assert "nothing was imported" in reply.body["message"]
    assert api.get("/listings", SELLER_A, marketplace_id=US).body["items"] == []
    assert api.get("/listings", SELLER_A, marketplace_id=DE).body["items"] == []


def test_a_bad_header_is_one_problem_on_line_1(api: Api) -> None:
    reply = api.import_csv("sku,asin,colour\nS,B,blue\n", SELLER_A)
    assert reply.status == 422
    columns = {(e["line"], e["column"]) for e in reply.body["errors"]}
    assert (1, "colour") in columns and (1, "marketplace_id") in columns


def test_import_refuses_rows_for_another_seller(api: Api) -> None:
    text = CSV.replace("current_price\n", "current_price,seller_id\n", 1)
    text = text.replace(",12.99\n", ",12.99,B2SELLERBBBBBB\n")
    reply = api.import_csv(text, SELLER_A)
    assert reply.status == 422
    assert {(e["line"], e["column"]) for e in reply.body["errors"]} == {(2, "seller_id")}
    assert api.get("/listings", SELLER_B, marketplace_id=US).body["items"] == []


def test_import_needs_a_csv_body(api: Api) -> None:
    assert api.post("/listings/import", {"sku": "x"}, SELLER_A).status == 415
    empty = api.import_csv("sku,asin,marketplace_id,condition,fulfillment,strategy,"
                           "min_price,max_price,currency\n", SELLER_A)
    assert empty.status == 422


# -- price history --------------------------------------------------------------------------------
def test_price_history_latest_and_range(api: Api, stores: Stores) -> None:
    start = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    for minute in range(5):
        stores.history.append(
            "A1SELLERAAAAAA", US, "MUG-BLU-12", "decision",
            {"action": "change", "new_price": f"12.{minute}0"},
            at=start + timedelta(minutes=minute),
        )
    latest = api.get(f"/listings/{US}/MUG-BLU-12/history", SELLER_A, limit="2")
    assert latest.status == 200
    assert [e["payload"]["new_price"] for e in latest.body["items"]] == ["12.40", "12.30"]
    assert latest.body["items"][0]["kind"] == "decision"

    window = api.get(
        f"/listings/{US}/MUG-BLU-12/history", SELLER_A,
        start="2025-06-01T12:01:00Z", end="2025-06-01T12:03:00Z",
    )
    assert [e["payload"]["new_price"] for e in window.body["items"]] == ["12.10", "12.20", "12.30"]
    naive = api.get(f"/listings/{US}/MUG-BLU-12/history", SELLER_A, start="2025-06-01T12:01:00")
    assert naive.status == 422 and "start" in fields(naive)


# -- seller-wide switches -------------------------------------------------------------------------
def test_a_new_seller_is_in_dry_run_until_switching_it_off(api: Api) -> None:
    assert api.get("/sellers/me/repricer", SELLER_A).status == 404  # no account yet
    sign_up(api, SELLER_A)
    settings = api.get("/sellers/me/repricer", SELLER_A).body
    assert (settings["paused"], settings["dry_run"], settings["kill_switch"]) == (
        False, True, False,
    )
    assert settings["connection"] is None

    live = api.put("/sellers/me/repricer", {"dry_run": False, "version": settings["version"]},
                   SELLER_A)
    assert live.status == 200
    assert (live.body["dry_run"], live.body["paused"]) == (False, False)
    paused = api.put("/sellers/me/repricer", {"paused": True}, SELLER_A).body
    assert (paused["paused"], paused["dry_run"]) == (True, False)

    stale = api.put("/sellers/me/repricer", {"paused": False, "version": 1}, SELLER_A)
    assert stale.status == 409
    assert api.put("/sellers/me/repricer", {}, SELLER_A).status == 422
    # the account itself still reads, and its own PUT keeps the switches
    account = api.get("/accounts/me", SELLER_A).body
    api.put("/accounts/me", {"name": "Shop 2", "language": "en", "country": "US",
                             "products": ["repricer"], "version": account["version"]}, SELLER_A)
    assert api.get("/sellers/me/repricer", SELLER_A).body["paused"] is True


# -- connect --------------------------------------------------------------------------------------
def test_connect_puts_the_request_on_the_bus(api: Api, stores: Stores) -> None:
    sign_up(api, SELLER_A, [US, DE])
    reply = api.post("/sellers/me/connect", None, SELLER_A)
    assert reply.status == 202, reply.body
    connection = reply.body["connection"]
    assert connection["status"] == "requested"
    assert connection["marketplace_ids"] == [US, DE]
    assert [s["status"] for s in connection["syncs"]] == ["pending", "pending"]
    ((detail_type, detail),) = stores.events.put_events
    assert detail_type == "SellerConnectRequested"
    assert detail["seller_id"] == "A1SELLERAAAAAA"
    assert detail["marketplace_ids"] == [US, DE]
    assert detail["request_id"] == connection["request_id"]

    again = api.post("/sellers/me/connect", None, SELLER_A)
    assert again.status == 202
    assert again.body["connection"]["request_id"] == connection["request_id"]
    assert len(stores.events.put_events) == 1  # in progress: no second request

    other = api.post("/sellers/me/connect", {"marketplace_ids": [US]}, SELLER_A)
    assert other.body["connection"]["marketplace_ids"] == [US]
    assert len(stores.events.put_events) == 2


def test_connect_needs_marketplaces_and_an_account(api: Api, stores: Stores) -> None:
    assert api.post("/sellers/me/connect", None, SELLER_A).status == 404
    sign_up(api, SELLER_A)
    reply = api.post("/sellers/me/connect", None, SELLER_A)
    assert reply.status == 422 and "marketplace_ids" in fields(reply)
    bad = api.post("/sellers/me/connect", {"marketplace_ids": ["NOPE"]}, SELLER_A)
    assert bad.status == 422 and "marketplace_ids[0]" in fields(bad)
    assert stores.events.put_events == []


# -- tenant isolation and staff -------------------------------------------------------------------
def test_seller_b_never_reads_seller_a(api: Api, stores: Stores) -> None:
    sign_up(api, SELLER_A, [US])
    api.put(f"/listings/{US}/MUG-BLU-12", BUYBOX, SELLER_A)
    stores.history.append("A1SELLERAAAAAA", US, "MUG-BLU-12", "decision", {"x": "1"})
    a = "A1SELLERAAAAAA"

    assert api.get(f"/listings/{US}/MUG-BLU-12", SELLER_B).status == 404
    assert api.get(f"/listings/{US}/MUG-BLU-12", SELLER_B, seller_id=a).status == 404
    assert api.get("/listings", SELLER_B, marketplace_id=US).body["items"] == []
    assert api.get("/listings", SELLER_B, marketplace_id=US, seller_id=a).status == 404
    history = f"/listings/{US}/MUG-BLU-12/history"
    assert api.get(history, SELLER_B).body["items"] == []
    assert api.get(history, SELLER_B, seller_id=a).status == 404
    assert api.get(f"/sellers/{a}/repricer", SELLER_B).status == 404
    assert api.get("/sellers/me/repricer", SELLER_B).status == 404  # B has no account


def test_seller_b_never_changes_seller_a(api: Api, stores: Stores) -> None:
    sign_up(api, SELLER_A, [US])
    sign_up(api, SELLER_B, [US])
    api.put(f"/listings/{US}/MUG-BLU-12", BUYBOX, SELLER_A)
    before = api.get(f"/listings/{US}/MUG-BLU-12", SELLER_A).body

    # The same SKU written by B is B's own listing.
    b_put = api.put(f"/listings/{US}/MUG-BLU-12", {**BUYBOX, "max_price": "99.00"}, SELLER_B)
    assert (b_put.status, b_put.body["seller_id"]) == (201, "B2SELLERBBBBBB")
    assert api.import_csv(CSV, SELLER_B).body["created"] == 2
    api.put("/sellers/me/repricer", {"paused": True, "dry_run": False}, SELLER_B)
    api.post("/sellers/me/connect", None, SELLER_B)

    assert api.get(f"/listings/{US}/MUG-BLU-12", SELLER_A).body == before
    assert [i["sku"] for i in api.get("/listings", SELLER_A, marketplace_id=US).body["items"]] == [
        "MUG-BLU-12"
    ]
    mine = api.get("/sellers/me/repricer", SELLER_A).body
    assert (mine["paused"], mine["dry_run"], mine["connection"]) == (False, True, None)
    assert [d["seller_id"] for _, d in stores.events.put_events] == ["B2SELLERBBBBBB"]


def test_staff_read_any_seller_and_change_nobody(api: Api, stores: Stores) -> None:
    sign_up(api, SELLER_A, [US])
    api.put(f"/listings/{US}/MUG-BLU-12", BUYBOX, SELLER_A)
    stores.history.append("A1SELLERAAAAAA", US, "MUG-BLU-12", "decision", {"x": "1"})
    a = "A1SELLERAAAAAA"

    assert api.get(f"/listings/{US}/MUG-BLU-12", STAFF, seller_id=a).body["sku"] == "MUG-BLU-12"
    assert len(api.get("/listings", STAFF, marketplace_id=US, seller_id=a).body["items"]) == 1
    assert len(api.get(f"/listings/{US}/MUG-BLU-12/history", STAFF, seller_id=a).body["items"]) == 1
    assert api.get(f"/sellers/{a}/repricer", STAFF).body["dry_run"] is True
    assert api.get("/sellers/B2SELLERBBBBBB/repricer", STAFF).status == 404

    assert api.get("/listings", STAFF, marketplace_id=US).status == 403  # whose?
    assert api.get("/sellers/me/repricer", STAFF).status == 403
    assert api.put(f"/listings/{US}/MUG-BLU-12", BUYBOX, STAFF).status == 403
    assert api.import_csv(CSV, STAFF).status == 403
    assert api.put("/sellers/me/repricer", {"paused": True}, STAFF).status == 403
    assert api.post("/sellers/me/connect", None, STAFF).status == 403
    assert stores.events.put_events == []


def test_a_seller_may_name_themselves(api: Api) -> None:
    api.put(f"/listings/{US}/MUG-BLU-12", BUYBOX, SELLER_A)
    reply = api.get(f"/listings/{US}/MUG-BLU-12", SELLER_A, seller_id="A1SELLERAAAAAA")
    assert reply.status == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/listings?marketplace_id={US}"),
        ("GET", f"/listings/{US}/MUG-BLU-12"),
        ("PUT", f"/listings/{US}/MUG-BLU-12"),
        ("GET", f"/listings/{US}/MUG-BLU-12/history"),
        ("POST", "/listings/import"),
        ("POST", "/sellers/me/connect"),
        ("GET", "/sellers/me/repricer"),
        ("PUT", "/sellers/me/repricer"),
        ("GET", "/sellers/A1SELLERAAAAAA/repricer"),
    ],
)
def test_every_route_needs_an_identity(api: Api, method: str, path: str) -> None:
    # (API Gateway's authorizer turns these away first; the function checks again.)
    route, _, query = path.partition("?")
    params = dict(p.split("=") for p in query.split("&")) if query else None
    body = {"/sellers/me/repricer": {"paused": True}}.get(route, {} if method == "PUT" else None)
    assert api.call(method, route, claims=None, query=params, body=body).status == 401
    assert api.call(method, route, claims={"sub": "x"}, query=params, body=body).status == 401


def test_stored_unconfigured_listing_reads_as_unconfigured(api: Api, stores: Stores) -> None:
    stores.listings.put_new(
        Listing(
            seller_id="A1SELLERAAAAAA", marketplace_id=US, sku="SYNCED-1", asin="B0SYNC0001",
            fulfillment="FBA", currency="USD",
            state={"current_price": {"amount": "21.50", "currency": "USD"}},
        )
    )
    listing = api.get(f"/listings/{US}/SYNCED-1", SELLER_A).body
    assert (listing["configured"], listing["strategy"], listing["current_price"]) == (
        False, None, "21.50",
    )
