"""Cognito tokens for the local stack, and the check API Gateway's Cognito authorizer makes.

Tokens come from moto's Cognito itself (``admin_initiate_auth`` → ``IdToken``): moto signs
them with the RSA key it ships in ``moto/cognitoidp/resources/`` and includes the user's
``custom:*`` attributes and ``cognito:groups``. The authorizer verifies what API Gateway
verifies: the RS256 signature against that JWKS, ``exp``, ``iss`` (one of the user pools
named by the authorizer), ``token_use`` (``id``; ``access`` when the method requires
OAuth scopes) and ``aud`` (an app client of that pool). Because every moto pool signs with
the same published key, a token of another pool is told apart by its issuer — exactly the
check that matters here — and nothing signed locally is a secret.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jwt

from infra.local.provision import Authorizer, Stack

LOCAL_PASSWORD = "Local-Passw0rd!"  # noqa: S105 - password of local demo users in moto
EMAIL_DOMAIN = "sellerops.local"
STAFF_GROUP = "staff"


class Unauthorized(Exception):
    """The request carries no acceptable token (API Gateway answers 401)."""


@lru_cache(maxsize=1)
def moto_jwks() -> dict[str, Any]:
    """The public JWKS moto signs Cognito tokens with."""
    from moto.utilities.utils import load_resource

    return load_resource("cognitoidp/resources/jwks-public.json")


@lru_cache(maxsize=1)
def moto_private_jwk() -> dict[str, Any]:
    """moto's (published) private signing key, for tests that forge or expire tokens."""
    from moto.utilities.utils import load_resource

    return load_resource("cognitoidp/resources/jwks-private.json")


def sign_token(claims: dict[str, Any], *, kid: str = "dummy") -> str:
    """An RS256 token signed with moto's Cognito key (tests: expired or altered tokens)."""
    key = jwt.PyJWK.from_dict(moto_private_jwk(), algorithm="RS256")
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": kid})


def issuer(region: str, pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"


def verify_token(
    token: str,
    *,
    issuers: Iterable[str],
    audiences: Iterable[str] | None,
    use: str = "id",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The verified claims of ``token``; :class:`Unauthorized` when anything does not hold."""
    try:
        header = jwt.get_unverified_header(token)
        keys = {k["kid"]: k for k in moto_jwks()["keys"]}
        jwk = keys.get(header.get("kid"))
        if jwk is None or header.get("alg") != "RS256":
            raise Unauthorized("unknown signing key")
        key = jwt.PyJWK.from_dict(jwk, algorithm="RS256")
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            options={
                "require": ["exp", "iss", "token_use"],
                "verify_aud": False,
                "verify_exp": now is None,
            },
        )
    except jwt.PyJWTError as error:
        raise Unauthorized(str(error)) from None
    if now is not None and claims["exp"] <= now.timestamp():
        raise Unauthorized("token expired")
    if claims["iss"] not in set(issuers):
        raise Unauthorized("token issued by another user pool")
    if claims.get("token_use") != use:
        raise Unauthorized(f"token_use is not {use}")
    audience = claims.get("aud") if use == "id" else claims.get("client_id")
    if audiences is not None and audience not in set(audiences):
        raise Unauthorized("token issued to another app client")
    return claims


def _claim_time(value: Any) -> str:
    stamp = datetime.fromtimestamp(int(value), UTC)
    return stamp.strftime("%a %b %d %H:%M:%S UTC %Y")


def gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway (REST, Cognito authorizer) passes them: every value a string.

    ``exp``/``iat`` become ``"Tue Apr 04 18:39:39 UTC 2023"``; lists (``cognito:groups``)
    are joined with ``,``; numbers and booleans become their JSON text.
    """
    shaped: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat") and isinstance(value, int | float):
            shaped[name] = _claim_time(value)
        elif isinstance(value, list):
            shaped[name] = ",".join(str(v) for v in value)
        elif isinstance(value, str):
            shaped[name] = value
        else:
            shaped[name] = json.dumps(value)
    return shaped


class CognitoAuthorizer:
    """Verifies the token of a request the way a ``COGNITO_USER_POOLS`` authorizer does."""

    def __init__(self, stack: Stack, spec: Authorizer) -> None:
        self.stack = stack
        self.spec = spec
        self.pool_ids = tuple(arn.rsplit("/", 1)[-1] for arn in spec.user_pool_arns)
        self._clients: dict[str, set[str]] = {}

    def _client_ids(self, pool_id: str, *, refresh: bool = False) -> set[str]:
        if refresh or pool_id not in self._clients:
            cognito = self.stack.aws("cognito-idp")
            ids: set[str] = set()
            for page in cognito.get_paginator("list_user_pool_clients").paginate(
                UserPoolId=pool_id, MaxResults=60
            ):
                ids.update(c["ClientId"] for c in page["UserPoolClients"])
            self._clients[pool_id] = ids
        return self._clients[pool_id]

    def authorize(
        self, header_value: str | None, scopes: tuple[str, ...] = (), now: datetime | None = None
    ) -> dict[str, str]:
        """API Gateway's ``requestContext.authorizer.claims`` for a valid token."""
        if not header_value:
            raise Unauthorized("no token")
        token = header_value.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        use = "access" if scopes else "id"
        issuers = {issuer(self.stack.region, pool_id): pool_id for pool_id in self.pool_ids}
        claims = verify_token(token, issuers=issuers, audiences=None, use=use, now=now)
        pool_id = issuers[claims["iss"]]
        audience = claims.get("aud") if use == "id" else claims.get("client_id")
        if audience not in self._client_ids(pool_id) and audience not in self._client_ids(
            pool_id, refresh=True
        ):
            raise Unauthorized("token issued to another app client")
        if scopes:
            granted = set(str(claims.get("scope", "")).split())
            if not granted & set(scopes):
                raise Unauthorized("token lacks the method's scopes")
        return gateway_claims(claims)


def issue_token(
    stack: Stack,
    seller_id: str | None = None,
    staff: bool = False,
    *,
    email: str | None = None,
    pool: str | None = None,
    client: str | None = None,
) -> str:
    """An ID token from the stack's user pool for a local user (created on first use).

    The user is ``seller-<seller_id>@sellerops.local`` (``staff@sellerops.local`` for staff
    without a seller), with ``custom:seller_id`` set when ``seller_id`` is given and
    membership of the ``staff`` group when ``staff`` is true.
    """
    cognito = stack.aws("cognito-idp")
    pool_id = stack.user_pool_id(pool)
    client_id = stack.user_pool_client_id(client, pool_id=None if client else pool_id)
    if email is None:
        local_part = f"seller-{seller_id}" if seller_id else "user"
        local_part = "staff" if staff and not seller_id else local_part
        local_part += "-staff" if staff and seller_id else ""
        email = f"{local_part}@{EMAIL_DOMAIN}".lower()
    attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
    if seller_id:
        attributes.append({"Name": "custom:seller_id", "Value": seller_id})
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=email)
        cognito.admin_update_user_attributes(
            UserPoolId=pool_id, Username=email, UserAttributes=attributes
        )
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            UserAttributes=attributes,
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=email, Password=LOCAL_PASSWORD, Permanent=True
        )
    if staff:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=STAFF_GROUP)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": LOCAL_PASSWORD},
    )
    return result["AuthenticationResult"]["IdToken"]
