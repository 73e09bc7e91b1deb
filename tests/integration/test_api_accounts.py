"""ApiFunction end to end: API Gateway REST proxy events (v1) → lambda_handler → moto.

Events carry identity where API Gateway's Cognito authorizer puts it:
``requestContext.authorizer.claims`` (``custom:seller_id``, ``cognito:groups``, ``sub``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.api import dependencies, handler
from functions.api.identity import caller_from_claims, parse_groups
from functions.core.repositories.accounts import AccountRepository
from functions.core.repositories.tables import create_tables
from functions.core.settings import cached_settings
from infra.template import load_transformed

SELLER_A = {"custom:seller_id": "A1SELLERAAAAAA", "sub": "user-a", "email": "a@example.com"}
SELLER_B = {"custom:seller_id": "B2SELLERBBBBBB", "sub": "user-b", "email": "b@example.com"}
STAFF = {"cognito:groups": "staff", "sub": "user-staff", "email": "csm@example.com"}

NEW_ACCOUNT = {
    "name": "Shop A",
    "language": "de",
    "country": "DE",
    "products": ["repricer", "lost_found"],
    "profile": {
        "marketplaces": ["A1PA6795UKMFR9"],
        "sku_count": 250,
        "catalogue_type": "private_label",
        "experience_years": 1,
    },
}


@dataclass
class LambdaContext:
    function_name: str = "ApiFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


def rest_event(
    method: str,
    path: str,
    *,
    claims: dict[str, Any] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    stage: str = "dev",
) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload v1) as the Cognito authorizer passes it."""
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "abc123",
        "httpMethod": method,
        "path": f"/{stage}{path}",
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "resourcePath": resource or path,
        "stage": stage,
        "identity": {"sourceIp": "192.0.2.1", "userAgent": "pytest"},
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": claims}
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Accept": "application/json"},
        "multiValueHeaders": {
            "Content-Type": ["application/json"],
            "Accept": ["application/json"],
        },
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": request_context,
        "body": text,
        "isBase64Encoded": False,
    }


@dataclass
class Reply:
    status: int
    body: Any


class Api:
    def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        if path.startswith("/accounts/") and path != "/accounts/me":
            kwargs.setdefault("resource", "/accounts/{account_id}")
            kwargs.setdefault("path_parameters", {"account_id": path.rsplit("/", 1)[1]})
        response = handler.lambda_handler(rest_event(method, path, **kwargs), LambdaContext())
        body = json.loads(response["body"]) if response.get("body") else None
        return Reply(int(response["statusCode"]), body)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.call("GET", path, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> Reply:
        return self.call("PUT", path, body=body, **kwargs)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_transformed()


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def accounts_table(aws: Any, template: dict[str, Any]) -> Iterator[str]:
    (name,) = create_tables(aws, template, only=["AccountsTable"]).values()
    yield name
    aws.delete_table(TableName=name)


@pytest.fixture
def api(aws: Any, accounts_table: str) -> Iterator[Api]:
    repo = AccountRepository(accounts_table, client=aws)
    handler.app.dependency_overrides[dependencies.accounts_repository] = lambda: repo
    yield Api()
    handler.app.dependency_overrides.clear()


def field_names(reply: Reply) -> set[str]:
    return {e["field"] for e in reply.body["errors"]}


# -- health and identity ---------------------------------------------------------------------
def test_health_needs_no_identity(api: Api) -> None:
    reply = api.get("/health")
    assert (reply.status, reply.body) == (200, {"status": "ok"})


def test_health_under_the_stage_prefix(api: Api) -> None:
    # API Gateway passes the stage in requestContext.path; the resolver strips it.
    assert api.get("/health", stage="prod").status == 200


@pytest.mark.parametrize(
    "claims",
    [None, {}, {"sub": "user-x"}, {"custom:seller_id": "bad#id"}, {"cognito:groups": "admins"}],
)
def test_missing_or_invalid_identity_is_401(api: Api, claims: dict[str, Any] | None) -> None:
    reply = api.get("/accounts/me", claims=claims)
    assert reply.status == 401
    assert reply.body["message"]


def test_staff_without_a_seller_id_has_no_own_account(api: Api) -> None:
    assert api.get("/accounts/me", claims=STAFF).status == 403


def test_unknown_route_is_404(api: Api) -> None:
    assert api.get("/nothing-here", claims=SELLER_A).status == 404


# -- own account -------------------------------------------------------------------------------
def test_seller_creates_and_reads_own_account(api: Api) -> None:
    assert api.get("/accounts/me", claims=SELLER_A).status == 404

    created = api.put("/accounts/me", NEW_ACCOUNT, claims=SELLER_A)
    assert created.status == 201
    account = created.body
    assert account["seller_id"] == "A1SELLERAAAAAA"
    assert account["seller_ids"] == ["A1SELLERAAAAAA"]
    assert account["products"] == ["lost_found", "repricer"]
    assert account["version"] == 1
    assert account["contract"]["status"] == "trial"
    assert account["contract"]["plan"] == "standard"
    assert account["profile"]["catalogue_type"] == "private_label"
    assert account["vip"] is False

    read = api.get("/accounts/me", claims=SELLER_A)
    assert (read.status, read.body) == (200, account)


def test_seller_id_comes_from_the_token_never_the_body(api: Api) -> None:
    reply = api.put("/accounts/me", {**NEW_ACCOUNT, "seller_id": "B2SELLERBBBBBB"}, claims=SELLER_A)
    assert reply.status == 422
    assert "seller_id" in field_names(reply)
    assert api.get("/accounts/me", claims=SELLER_B).status == 404


def test_update_own_account_with_version(api: Api) -> None:
    v1 = api.put("/accounts/me", NEW_ACCOUNT, claims=SELLER_A).body
    update = {**NEW_ACCOUNT, "name": "Shop A GmbH", "language": "en-gb", "version": 1}

    v2 = api.put("/accounts/me", update, claims=SELLER_A)
    assert v2.status == 200
    assert (v2.body["version"], v2.body["name"], v2.body["language"]) == (2, "Shop A GmbH", "en-GB")
    assert v2.body["account_id"] == v1["account_id"]
    assert v2.body["created_at"] == v1["created_at"]
    assert v2.body["contract"] == v1["contract"]


def test_stale_version_is_409_and_changes_nothing(api: Api) -> None:
    api.put("/accounts/me", NEW_ACCOUNT, claims=SELLER_A)
    first = api.put("/accounts/me", {**NEW_ACCOUNT, "name": "First", "version": 1}, claims=SELLER_A)
    assert first.status == 200

    second = api.put(
        "/accounts/me", {**NEW_ACCOUNT, "name": "Second", "version": 1}, claims=SELLER_A
    )
    assert second.status == 409
    assert "version" in second.body["message"]
    current = api.get("/accounts/me", claims=SELLER_A).body
    assert (current["name"], current["version"]) == ("First", 2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"language": "english"}, "language"),
        ({"language": "en_GB"}, "language"),
        ({"products": ["repricer", "autopilot"]}, "products[1]"),
        ({"products": []}, "products"),
        ({"country": "Germany"}, "country"),
        ({"profile": {"sku_count": -1}}, "profile.sku_count"),
        ({"profile": {"marketplaces": ["NOT-A-MARKETPLACE"]}}, "profile.marketplaces[0]"),
        ({"vip": True}, "vip"),
    ],
)
def test_bad_body_names_the_wrong_field(api: Api, change: dict[str, Any], field: str) -> None:
    reply = api.put("/accounts/me", {**NEW_ACCOUNT, **change}, claims=SELLER_A)
    assert reply.status == 422
    assert field in field_names(reply)
    assert field in reply.body["message"]
    assert api.get("/accounts/me", claims=SELLER_A).status == 404


def test_missing_field_and_unreadable_json(api: Api) -> None:
    body = {k: v for k, v in NEW_ACCOUNT.items() if k != "language"}
    reply = api.put("/accounts/me", body, claims=SELLER_A)
    assert reply.status == 422
    assert "language" in field_names(reply)

    assert api.put("/accounts/me", "{not json", claims=SELLER_A).status == 422


def test_update_of_a_missing_account_at_a_version_is_404(api: Api) -> None:
    reply = api.put("/accounts/me", {**NEW_ACCOUNT, "version": 3}, claims=SELLER_A)
    assert reply.status == 404


# -- tenant isolation and staff ----------------------------------------------------------------
def _two_accounts(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    a = api.put("/accounts/me", NEW_ACCOUNT, claims=SELLER_A).body
    b = api.put(
        "/accounts/me", {**NEW_ACCOUNT, "name": "Shop B", "language": "fr"}, claims=SELLER_B
    ).body
    return a, b


def test_seller_cannot_read_another_sellers_account(api: Api) -> None:
    a, b = _two_accounts(api)

    assert api.get(f"/accounts/{a['account_id']}", claims=SELLER_A).body == a
    other = api.get(f"/accounts/{b['account_id']}", claims=SELLER_A)
    missing = api.get("/accounts/acc-does-not-exist", claims=SELLER_A)
    # Someone else's account looks exactly like one that does not exist.
    assert (other.status, missing.status) == (404, 404)
    assert other.body["message"].replace(b["account_id"], "ID") == missing.body["message"].replace(
        "acc-does-not-exist", "ID"
    )


def test_accounts_list_is_staff_only(api: Api) -> None:
    _two_accounts(api)
    reply = api.get("/accounts", claims=SELLER_A)
    assert reply.status == 403


def test_staff_lists_and_reads_every_account(api: Api) -> None:
    a, b = _two_accounts(api)

    listed = api.get("/accounts", claims=STAFF)
    assert listed.status == 200
    assert {x["seller_id"] for x in listed.body["items"]} == {a["seller_id"], b["seller_id"]}
    assert api.get(f"/accounts/{b['account_id']}", claims=STAFF).body == b

    # One at a time, following next_token.
    first = api.get("/accounts", claims=STAFF, query={"limit": "1"})
    assert len(first.body["items"]) == 1 and first.body["next_token"]
    second = api.get(
        "/accounts", claims=STAFF, query={"limit": "1", "next_token": first.body["next_token"]}
    )
    ids = {first.body["items"][0]["account_id"], second.body["items"][0]["account_id"]}
    assert ids == {a["account_id"], b["account_id"]}


def test_bad_paging_parameters_name_the_field(api: Api) -> None:
    too_big = api.get("/accounts", claims=STAFF, query={"limit": "500"})
    assert too_big.status == 422 and field_names(too_big) == {"limit"}
    forged = api.get("/accounts", claims=STAFF, query={"next_token": "Zm9yZ2Vk"})
    assert forged.status == 400 and field_names(forged) == {"next_token"}


# -- wiring from the environment ---------------------------------------------------------------
def test_repository_is_built_from_the_environment(
    aws: Any, accounts_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ACCOUNTS_TABLE", "LISTINGS_TABLE", "PRICE_HISTORY_TABLE", "CLAIMS_TABLE"):
        monkeypatch.setenv(name, accounts_table if name == "ACCOUNTS_TABLE" else "unused")
    cached_settings.cache_clear()
    dependencies.use(accounts=None)
    try:
        reply = Api().put("/accounts/me", NEW_ACCOUNT, claims=SELLER_A)
        assert reply.status == 201
        assert dependencies.accounts_repository().table_name == accounts_table
    finally:
        dependencies.use(accounts=None)
        cached_settings.cache_clear()


# -- identity parsing --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "groups"),
    [
        ("staff", {"staff"}),
        ("staff,admins", {"staff", "admins"}),
        ("[staff admins]", {"staff", "admins"}),
        (["staff"], {"staff"}),
        (None, set()),
    ],
)
def test_cognito_groups_in_every_shape_api_gateway_sends(value: Any, groups: set[str]) -> None:
    assert parse_groups(value) == groups


def test_caller_from_claims() -> None:
    caller = caller_from_claims({**SELLER_A, "cognito:groups": "[staff]"})
    assert (caller.seller_id, caller.is_staff, caller.subject) == ("A1SELLERAAAAAA", True, "user-a")


# -- cold start ----------------------------------------------------------------------------------
def _import_in_fresh_process(env: dict[str, str]) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    code = (
        "import json, sys; import functions.api.handler as h; "
        "print(json.dumps({'xray': 'aws_xray_sdk' in sys.modules, "
        "'boto3': 'boto3' in sys.modules, 'tracer': h.tracer is not None}))"
    )
    clean = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "PYTHONPATH": str(root), **env},
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_handler_is_cheap_when_tracing_is_off() -> None:
    assert _import_in_fresh_process({"POWERTOOLS_TRACE_DISABLED": "true"}) == {
        "xray": False,
        "boto3": False,
        "tracer": False,
    }


def test_tracer_exists_when_tracing_is_on() -> None:
    assert _import_in_fresh_process({})["tracer"] is True
