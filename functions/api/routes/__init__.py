"""One Powertools ``Router`` per area of the API; functions/api/handler.py includes them.

:func:`responses` documents a route's outcomes for the OpenAPI document: the success
model and the error statuses it can answer with (all in the ``ErrorResponse`` shape that
handler.py produces, including 422 for request validation); :func:`csv_upload` does the same
for a route whose body is a CSV file.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import content_types

from functions.api.models import ErrorResponse

# The Cognito user-pool authorizer in front of every route but /health.
COGNITO = [{"cognito": []}]

ERROR_DESCRIPTIONS = {
    400: "malformed request (e.g. a next_token this API did not issue)",
    401: "missing or invalid identity",
    403: "not allowed for the caller",
    404: "not found, or not visible to the caller",
    409: "conflict: the record changed since it was read (version mismatch)",
    415: "unsupported Content-Type for the request body",
    422: "invalid request; `errors` names each offending field",
}


def responses(
    ok: type | None, *errors: int, ok_status: int = 200, ok_description: str = "success"
) -> dict[int, Any]:
    documented: dict[int, Any] = {}
    if ok is not None:
        documented[ok_status] = {
            "description": ok_description,
            "content": {content_types.APPLICATION_JSON: {"model": ok}},
        }
    for status in sorted({*errors, 422}):
        documented[status] = {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {content_types.APPLICATION_JSON: {"model": ErrorResponse}},
        }
    return documented


def csv_upload(
    ok: type, *errors: int, invalid: str, example: str
) -> dict[str, Any]:
    """``responses`` and ``openapi_extensions`` of a route that takes a CSV body: 200
    "imported", the ``errors``, and 422 as a ``CsvErrorResponse`` (every problem of the
    ``invalid`` file with its line and column); ``example`` is the request body's example.
    """
    from functions.api.repricer_models import CsvErrorResponse

    return {
        "responses": {
            **responses(ok, *errors, ok_description="imported"),
            422: {
                "description": f"{invalid}: every problem with its line and column",
                "content": {content_types.APPLICATION_JSON: {"model": CsvErrorResponse}},
            },
        },
        "openapi_extensions": {
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}, "example": example}},
            }
        },
    }
