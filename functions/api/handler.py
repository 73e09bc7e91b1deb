"""ApiFunction: API Gateway REST (v1 proxy events) → Powertools resolver → routes.

Every error becomes an HTTP response here, in one place:

=====================================  =====  ==========================================
error                                   HTTP   body
=====================================  =====  ==========================================
NotAuthenticated (no/invalid claims)    401    ``{"message", "errors": []}``
NotAllowed (e.g. non-staff)             403
AccountNotFound, NotFound,              404
NotFoundForCaller (other tenants' data)
Conflict (version mismatch, exists)     409
UnsupportedMediaType                    415
RequestValidationError (Powertools),    422    ``errors: [{"field", "location", ...}]``
InvalidInput (e.g. a strategy's rules)
ListingsCsvError (bulk import),        422    ``errors: [{"line", "column", ...}]``
CostsCsvError (cost sheet upload)
InvalidPageToken                        400    ``errors: [{"field": "next_token", ...}]``
anything else                           500    ``{"message": "internal error"}``, logged
=====================================  =====  ==========================================
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths

from functions.api.errors import (
    AccountNotFound,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
    NotFoundForCaller,
    UnsupportedMediaType,
)
from functions.api.identity import caller_from_claims, claims_of
from functions.api.logic.costs import CostsCsvError
from functions.api.models import ErrorResponse, FieldError
from functions.api.observability import logger, metrics, tracer
from functions.api.repricer_models import CsvErrorResponse, CsvProblem
from functions.api.routes import accounts, costs, health, listings, sellers
from functions.core.repositories.errors import Conflict, InvalidPageToken, NotFound
from functions.reprice.logic.listing_config import ListingsCsvError

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(health.router)
app.include_router(accounts.router)
app.include_router(sellers.router)
app.include_router(listings.router)
app.include_router(costs.router)


# -- errors → HTTP, the one place -------------------------------------------------------------
def _error(status: HTTPStatus, message: str, errors: Sequence[FieldError] = ()) -> Response:
    body = ErrorResponse(message=message, errors=list(errors))
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
    )


def _field_name(loc: Sequence[Any]) -> tuple[str, str]:
    """Pydantic's ``("body", "profile", "sku_count")`` → (``profile.sku_count``, ``body``)."""
    location = str(loc[0]) if loc else "body"
    name = ""
    for part in loc[1:]:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or location, location


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response:
    details = []
    for item in error.errors():
        field, location = _field_name(item.get("loc", ()))
        # Pydantic's messages name the rule, not the input; the input is not echoed back.
        details.append(
            FieldError(
                field=field,
                location=location,
                message=str(item.get("msg", "invalid value")),
                type=str(item.get("type", "value_error")),
            )
        )
    fields = ", ".join(dict.fromkeys(d.field for d in details))
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, f"invalid request: {fields}", details)


@app.exception_handler(InvalidInput)
def _invalid_input(error: InvalidInput) -> Response:
    details = [
        FieldError(field=field, location="body", message=message, type="value_error")
        for field, message in error.problems
    ]
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, str(error), details)


def _csv_problems(what: str, found: Sequence[tuple[int, str | None, str]]) -> Response:
    """422 listing every problem of an uploaded CSV (``what``: how the file is called)."""
    problems = [
        CsvProblem(line=line, column=column, field=column or "body", message=message)
        for line, column, message in found
    ]
    body = CsvErrorResponse(
        message=f"invalid {what} ({len(problems)} problem{'s' if len(problems) != 1 else ''}"
        "): nothing was imported",
        errors=problems,
    )
    return Response(
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
    )


@app.exception_handler(ListingsCsvError)
def _invalid_csv(error: ListingsCsvError) -> Response:
    return _csv_problems("listings CSV", error.problems)


@app.exception_handler(CostsCsvError)
def _invalid_costs(error: CostsCsvError) -> Response:
    return _csv_problems("cost sheet", error.problems)


@app.exception_handler(UnsupportedMediaType)
def _unsupported_media_type(error: UnsupportedMediaType) -> Response:
    return _error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, str(error))


@app.exception_handler(InvalidPageToken)
def _invalid_token(error: InvalidPageToken) -> Response:
    detail = FieldError(field="next_token", location="query", message=str(error), type="token")
    return _error(HTTPStatus.BAD_REQUEST, str(error), [detail])


@app.exception_handler(NotAuthenticated)
def _not_authenticated(error: NotAuthenticated) -> Response:
    return _error(HTTPStatus.UNAUTHORIZED, str(error))


@app.exception_handler(NotAllowed)
def _not_allowed(error: NotAllowed) -> Response:
    return _error(HTTPStatus.FORBIDDEN, str(error))


@app.exception_handler([AccountNotFound, NotFound, NotFoundForCaller])
def _not_found(error: Exception) -> Response:
    return _error(HTTPStatus.NOT_FOUND, str(error))


@app.exception_handler(Conflict)
def _conflict(error: Conflict) -> Response:
    metrics.add_metric(name="WriteConflicts", unit="Count", value=1)
    return _error(HTTPStatus.CONFLICT, f"{error}; read it again and retry")


@app.not_found
def _no_route(_: Exception) -> Response:
    return _error(HTTPStatus.NOT_FOUND, "no such route")


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response:
    logger.exception("unhandled error")
    metrics.add_metric(name="UnhandledErrors", unit="Count", value=1)
    return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")


# -- entry point -------------------------------------------------------------------------------
def _resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        seller_id = caller_from_claims(claims_of(event)).seller_id
    except NotAuthenticated:
        seller_id = None
    if seller_id:
        logger.append_keys(seller_id=seller_id)
    try:
        return app.resolve(event, context)
    finally:
        # Flush only what was recorded: most requests record no metric, and
        # Metrics.log_metrics would warn about that on every invocation.
        if metrics.metric_set:
            metrics.flush_metrics()


_handler = logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)(_resolve)
if tracer is not None:
    _handler = tracer.capture_lambda_handler(_handler)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handler of ApiFunction (template.yaml): an API Gateway REST proxy event in, response out."""
    return _handler(event, context)
