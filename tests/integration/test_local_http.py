"""The HTTP adapter: API Gateway REST proxy events, routing and the Cognito authorizer."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.local.auth import issuer, sign_token
from infra.local.runtime import LocalStack
from tests.integration.local.support import calls, fixture_stack, reset


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalStack]:
    with fixture_stack() as local:
        yield local


@pytest.fixture
def local(shared: LocalStack) -> LocalStack:
    return reset(shared)


@pytest.fixture(scope="module")
def seller_token(shared: LocalStack) -> str:
    return shared.issue_token("A1SELLER")


def _claims(local: LocalStack, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": issuer("us-east-1", local.stack.user_pool_id()),
        "sub": "0000",
        "aud": local.stack.user_pool_client_id(),
        "token_use": "id",
        "iat": now,
        "exp": now + 600,
        "custom:seller_id": "A1FORGED",
    }
    claims.update(changes)
    return claims


def test_a_valid_token_reaches_the_function_with_its_claims(
    local: LocalStack, seller_token: str
) -> None:
    response = local.request("GET", "/whoami", token=seller_token)
    assert response.status == 200
    claims = response.json()["claims"]
    assert claims["custom:seller_id"] == "A1SELLER"
    assert claims["token_use"] == "id"
    assert claims["aud"] == local.stack.user_pool_client_id()
    assert claims["iss"] == issuer("us-east-1", local.stack.user_pool_id())
    assert claims["email"] == "seller-a1seller@sellerops.local"
    assert all(isinstance(value, str) for value in claims.values())
    time.strptime(claims["exp"], "%a %b %d %H:%M:%S UTC %Y")  # API Gateway's rendering
    assert "cognito:groups" not in claims


def test_staff_groups_arrive_as_a_string(local: LocalStack) -> None:
    token = local.issue_token(staff=True)
    claims = local.request("GET", "/whoami", token=f"Bearer {token}").json()["claims"]
    assert claims["cognito:groups"] == "staff"
    assert "custom:seller_id" not in claims


def _other_pool_token(local: LocalStack) -> str:
    cognito = local.stack.aws("cognito-idp")
    pool = cognito.create_user_pool(PoolName="another-stack")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]
    cognito.admin_create_user(UserPoolId=pool, Username="eve", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="eve", Password="Other-Passw0rd!", Permanent=True
    )
    result = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client["ClientId"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "eve", "PASSWORD": "Other-Passw0rd!"},
    )
    return result["AuthenticationResult"]["IdToken"]


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda local: None, id="no token"),
        pytest.param(lambda local: "not-a-jwt", id="garbage"),
        pytest.param(
            lambda local: sign_token(_claims(local, exp=int(time.time()) - 5)), id="expired"
        ),
        pytest.param(lambda local: sign_token(_claims(local, aud="someone-else")), id="audience"),
        pytest.param(lambda local: sign_token(_claims(local, token_use="access")), id="access"),
        pytest.param(
            lambda local: sign_token(_claims(local, iss=issuer("us-east-1", "us-east-1_nope"))),
            id="issuer",
        ),
        pytest.param(
            lambda local: jwt.encode(
                _claims(local),
                rsa.generate_private_key(public_exponent=65537, key_size=2048),
                algorithm="RS256",
                headers={"kid": "dummy"},
            ),
            id="signature",
        ),
        pytest.param(_other_pool_token, id="other pool"),
    ],
)
def test_bad_tokens_get_401_without_invoking(local: LocalStack, make_token: Any) -> None:
    response = local.request("GET", "/whoami", token=make_token(local))
    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}
    assert calls("api_echo") == []


def test_a_well_formed_token_of_the_pool_is_accepted(local: LocalStack) -> None:
    # proves the 401s above are about the one thing each token gets wrong
    response = local.request("GET", "/whoami", token=sign_token(_claims(local)))
    assert response.status == 200
    assert response.json()["claims"]["custom:seller_id"] == "A1FORGED"


def test_routes_marked_authorizer_none_skip_the_authorizer(local: LocalStack) -> None:
    response = local.request("GET", "/health", token="garbage is not even looked at")
    assert response.status == 200
    assert response.json()["claims"] is None
    (call,) = calls("api_echo")
    assert "authorizer" not in call["event"]["requestContext"]


def test_proxy_event_shape(local: LocalStack, seller_token: str) -> None:
    response = local.request(
        "PATCH",
        "/items/42%20a?tag=a&tag=b&empty=",
        token=seller_token,
        body='{"price": "9.99"}',
        headers={"Content-Type": "application/json", "X-Trace": "t1"},
    )
    assert response.status == 200
    assert response.headers["X-Echo"] == "yes"
    (call,) = calls("api_echo")
    event = call["event"]
    assert event["resource"] == "/items/{item_id}"
    assert event["path"] == "/items/42%20a"
    assert event["httpMethod"] == "PATCH"
    assert event["pathParameters"] == {"item_id": "42 a"}
    assert event["queryStringParameters"] == {"tag": "b", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "empty": [""]}
    assert event["headers"]["X-Trace"] == "t1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t1"]
    assert event["body"] == '{"price": "9.99"}'
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert context["stage"] == "local"
    assert context["resourcePath"] == "/items/{item_id}"
    assert context["httpMethod"] == "PATCH"
    assert context["path"] == "/local/items/42%20a"
    assert context["apiId"] == local.stack.physical_id("Api")
    assert context["accountId"] == "123456789012"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert len(context["requestId"]) == 36
    assert context["authorizer"]["claims"]["custom:seller_id"] == "A1SELLER"


def test_routing_like_api_gateway(local: LocalStack, seller_token: str) -> None:
    greedy = local.request("POST", "/files/a/b/c.csv", token=seller_token)
    assert greedy.status == 201
    assert greedy.json()["pathParameters"] == {"proxy": "a/b/c.csv"}
    assert greedy.json()["resource"] == "/files/{proxy+}"
    staged = local.request("GET", "/local/whoami", token=seller_token)  # stage prefix
    assert staged.json()["resource"] == "/whoami"
    for method, path in (("GET", "/nowhere"), ("GET", "/files/a"), ("DELETE", "/health")):
        response = local.request(method, path, token=seller_token)
        assert response.status == 403, (method, path)
        assert response.json() == {"message": "Missing Authentication Token"}


def test_cors_preflight_is_answered_by_the_mock_integration(local: LocalStack) -> None:
    response = local.request("OPTIONS", "/whoami")
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,PUT,POST,OPTIONS"
    assert calls("api_echo") == []


def test_function_errors_become_502(local: LocalStack, seller_token: str) -> None:
    response = local.request("POST", "/files/boom", token=seller_token)
    assert response.status == 502
    assert response.json() == {"message": "Internal server error"}


def test_over_real_http(local: LocalStack, seller_token: str) -> None:
    server = local.serve_api()
    try:
        request = urllib.request.Request(
            f"{server.url}/items/7?x=1",
            method="PUT",
            data=b'{"a": 1}',
            headers={"Authorization": f"Bearer {seller_token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/json"
            body = json.loads(response.read())
        assert body["claims"]["custom:seller_id"] == "A1SELLER"
        assert body["body"] == '{"a": 1}'
        assert body["query"] == {"x": "1"}
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/whoami", timeout=10)
        assert refused.value.code == 401
        assert json.loads(refused.value.read()) == {"message": "Unauthorized"}
    finally:
        server.stop()
