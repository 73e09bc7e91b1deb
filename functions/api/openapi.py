"""The API's OpenAPI document, generated from the routes and models (docs/openapi.json)."""

from __future__ import annotations

OPENAPI_TITLE = "sellerops API"
OPENAPI_VERSION = "0.1.0"


def openapi_json() -> str:
    """The OpenAPI 3.1 document as JSON text (stable: same code → same text)."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from functions.api.handler import app

    return app.get_openapi_json_schema(
        title=OPENAPI_TITLE,
        version=OPENAPI_VERSION,
        description=(
            "Accounts of the sellerops stack. Every route except /health needs a Cognito "
            "ID token (API Gateway's user-pool authorizer); the caller's seller id is the "
            "token's custom:seller_id claim and the staff group is cognito:groups=staff."
        ),
        security_schemes={
            "cognito": HTTPBearer(bearerFormat="JWT", description="Cognito user-pool ID token")
        },
    )
