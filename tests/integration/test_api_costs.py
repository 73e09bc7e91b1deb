"""Unit costs through ApiFunction's handler: PUT/GET /sellers/me/costs on a moto table
created from template.yaml (the cost sheet upload is all or nothing, tenants isolated)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.api import dependencies, handler
from functions.core.money import Money
from functions.core.repositories.tables import create_tables
from functions.core.repositories.unit_costs import UnitCostRepository
from infra.template import load_transformed
from tests.integration.test_api_accounts import LambdaContext, rest_event
from tests.integration.test_api_listings import SELLER_A, SELLER_B, STAFF, Reply

SHEET = (
    "sku,unit_cost,currency,note\n"
    "MUG-BLU-12,5.00,USD,mugs\n"
    "MUG-BLU-12,4.60,EUR,\n"
    "\"LAMP, RED\",8.125,USD,\n"
)


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        names = create_tables(client, load_transformed(), only=["UnitCostsTable"])
        yield client, names["UnitCostsTable"]


@pytest.fixture
def costs(aws: Any) -> Iterator[UnitCostRepository]:
    client, name = aws
    for page in client.get_paginator("scan").paginate(TableName=name):
        for item in page["Items"]:
            client.delete_item(TableName=name,
                               Key={"seller_id": item["seller_id"], "sku": item["sku"]})
    repo = UnitCostRepository(name, client=client)
    handler.app.dependency_overrides[dependencies.unit_costs_repository] = lambda: repo
    yield repo
    handler.app.dependency_overrides.clear()


def call(method: str, claims: dict[str, Any] | None, *, body: str | None = None,
         content_type: str = "text/csv", query: dict[str, str] | None = None) -> Reply:
    event = rest_event(method, "/sellers/me/costs", claims=claims, body=body, query=query)
    event["headers"]["Content-Type"] = content_type
    event["multiValueHeaders"]["Content-Type"] = [content_type]
    response = handler.lambda_handler(event, LambdaContext())
    text = response.get("body")
    return Reply(int(response["statusCode"]), json.loads(text) if text else None)


def upload(text: str, claims: dict[str, Any] | None = SELLER_A, **kwargs: Any) -> Reply:
    return call("PUT", claims, body=text, **kwargs)


def rows(reply: Reply) -> list[tuple[str, str, str]]:
    assert reply.status == 200, reply.body
    return [(r["sku"], r["unit_cost"], r["currency"]) for r in reply.body["items"]]


def test_upload_then_read_back_and_upsert(costs: UnitCostRepository) -> None:
    first = upload(SHEET)
    assert first.status == 200, first.body
    assert first.body == {"created": 3, "updated": 0, "skus": 2, "total": 3}
    assert rows(call("GET", SELLER_A)) == [
        ("LAMP, RED", "8.125", "USD"), ("MUG-BLU-12", "4.60", "EUR"),
        ("MUG-BLU-12", "5.00", "USD"),
    ]
    # TSV, header spelled differently: MUG's USD cost replaced, EUR kept, a new SKU added.
    second = upload("SKU\tUnit Cost\tCurrency\nMUG-BLU-12\t5,50\tUSD\nVASE-1\t3\tUSD\n")
    assert second.body == {"created": 1, "updated": 1, "skus": 2, "total": 2}
    assert costs.cost_book(SELLER_A["custom:seller_id"]) == {
        "LAMP, RED": {"USD": Money(Decimal("8.125"), "USD")},
        "MUG-BLU-12": {"USD": Money(Decimal("5.50"), "USD"),
                       "EUR": Money(Decimal("4.60"), "EUR")},
        "VASE-1": {"USD": Money(Decimal("3"), "USD")},
    }


def test_get_pages_by_sku(costs: UnitCostRepository) -> None:
    lines = "".join(f"SKU-{i:02d},{i}.00,USD\n" for i in range(7))
    assert upload("sku,unit_cost,currency\n" + lines).status == 200
    seen: list[str] = []
    token: str | None = None
    while True:
        query = {"limit": "3", **({"next_token": token} if token else {})}
        reply = call("GET", SELLER_A, query=query)
        seen += [sku for sku, _, _ in rows(reply)]
        token = reply.body["next_token"]
        if token is None:
            break
    assert seen == [f"SKU-{i:02d}" for i in range(7)]


def test_a_bad_sheet_names_line_and_column_and_stores_nothing(
        costs: UnitCostRepository) -> None:
    bad = (
        "sku,unit_cost,currency\n"
        "MUG-BLU-12,5.00,USD\n"
        "LAMP-RED-01,-8.00,USD\n"
        "VASE-1,3.00,XYZ\n"
        "MUG-BLU-12,6.00,USD\n"
        "CUP-1,,USD\n"
    )
    reply = upload(bad)
    assert reply.status == 422, reply.body
    assert "nothing was imported" in reply.body["message"]
    problems = [(e["line"], e["column"]) for e in reply.body["errors"]]
    assert problems == [(3, "unit_cost"), (4, "currency"), (5, "sku"), (6, "unit_cost")]
    assert "negative" in reply.body["errors"][0]["message"]
    assert rows(call("GET", SELLER_A)) == []

    missing = upload("sku,cost\nMUG,5\n")
    assert missing.status == 422
    assert missing.body["errors"][0]["line"] == 1
    assert "currency" in missing.body["errors"][0]["message"]
    assert upload("sku,unit_cost,currency\n").status == 422
    assert upload("x", content_type="application/json").status == 415
    assert rows(call("GET", SELLER_A)) == []


def test_tenants_are_isolated(costs: UnitCostRepository) -> None:
    assert upload("sku,unit_cost,currency\nMUG,5.00,USD\n", SELLER_A).status == 200
    assert upload("sku,unit_cost,currency\nMUG,7.00,USD\n", SELLER_B).status == 200
    assert rows(call("GET", SELLER_A)) == [("MUG", "5.00", "USD")]
    assert rows(call("GET", SELLER_B)) == [("MUG", "7.00", "USD")]
    # A seller naming another seller sees nothing; staff read anyone, write nobody's.
    assert call("GET", SELLER_B, query={"seller_id": "A1SELLERAAAAAA"}).status == 404
    assert rows(call("GET", STAFF, query={"seller_id": "A1SELLERAAAAAA"})) == [
        ("MUG", "5.00", "USD")]
    assert upload("sku,unit_cost,currency\nMUG,1.00,USD\n", STAFF).status == 403
    assert call("GET", None).status == 401
    assert costs.cost_book("A1SELLERAAAAAA") == {"MUG": {"USD": Money(Decimal("5.00"), "USD")}}


def test_a_large_sheet_is_written_in_batches(costs: UnitCostRepository) -> None:
    lines = "".join(f"SKU-{i:04d},{i}.25,USD\n" for i in range(260))
    first = upload("sku,unit_cost,currency\n" + lines)
    assert first.body == {"created": 260, "updated": 0, "skus": 260, "total": 260}
    again = upload("sku,unit_cost,currency\n" + lines)
    assert again.body == {"created": 0, "updated": 260, "skus": 260, "total": 260}
    book = costs.cost_book("A1SELLERAAAAAA")
    assert len(book) == 260 and book["SKU-0259"]["USD"] == Money(Decimal("259.25"), "USD")
