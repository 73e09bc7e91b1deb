"""Listings and their strategies: read, configure one SKU, bulk import, price history.

Routes only translate: request model → logic call → response model. Identity and the
repositories arrive through ``Depends``; tenant scoping is in functions/api/logic/
listings.py; errors are mapped to HTTP in handler.py.
"""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from functions.api.dependencies import listings_repository, price_history_repository
from functions.api.errors import InvalidInput, require_media_type
from functions.api.identity import Caller, current_caller
from functions.api.logic import listings as logic
from functions.api.observability import metrics
from functions.api.repricer_models import (
    HistoryEntryOut,
    HistoryPage,
    ImportResult,
    ListingOut,
    ListingPage,
    ListingPut,
    strategy_values,
)
from functions.api.routes import COGNITO, csv_upload, responses
from functions.core.accounts import MarketplaceId
from functions.core.repositories.listings import ListingRepository
from functions.core.repositories.price_history import PriceHistoryRepository
from functions.reprice.logic.listing_config import CSV_COLUMNS

router = Router()

CurrentCaller = Annotated[Caller, Depends(current_caller)]
Listings = Annotated[ListingRepository, Depends(listings_repository)]
History = Annotated[PriceHistoryRepository, Depends(price_history_repository)]
MarketplacePath = Annotated[MarketplaceId, Path(min_length=1, max_length=32)]
SkuPath = Annotated[
    str,
    Path(
        min_length=1, max_length=600,
        description="the SKU, percent-encoded (`MUG%2F12` for `MUG/12`)",
    ),
]
SellerQuery = Annotated[
    str | None,
    Query(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="staff: the seller to read; sellers may only name themselves",
    ),
]
NextToken = Annotated[
    str | None, Query(max_length=2048, description="`next_token` of the previous page")
]

CSV_MEDIA_TYPES = ("text/csv", "application/csv", "text/plain")
_CSV_EXAMPLE = (
    "sku,asin,marketplace_id,condition,fulfillment,strategy,min_price,max_price,currency\n"
    "MUG-BLU-12,B0EXMUG001,ATVPDKIKX0DER,new,FBM,buybox,10.00,18.00,USD\n"
)


@router.get(
    "/listings",
    summary="The seller's listings on one marketplace, in SKU order, one page at a time",
    tags=["listings"],
    responses=responses(ListingPage, 400, 401, 403, 404),
    security=COGNITO,
)
def list_listings(
    caller: CurrentCaller,
    listings: Listings,
    marketplace_id: Annotated[MarketplaceId, Query(description="Amazon marketplace id")],
    limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 50,
    next_token: NextToken = None,
    seller_id: SellerQuery = None,
) -> ListingPage:
    page = logic.list_listings(
        listings, caller, marketplace_id, limit=limit, next_token=next_token, seller_id=seller_id
    )
    return ListingPage(
        items=[ListingOut.from_domain(item) for item in page.items], next_token=page.next_token
    )


@router.post(
    "/listings/import",
    summary="Create or update many listings from the Listings CSV (all or nothing)",
    description=(
        "Body: the Listings CSV (DESIGN.md §3; columns "
        + ", ".join(CSV_COLUMNS)
        + ") with `Content-Type: text/csv`. The whole file is validated first; any problem "
        "answers 422 listing each line and column, and nothing is written. Otherwise each "
        "row creates its listing or replaces the stored strategy (switches and repricing "
        f"state kept). At most {logic.MAX_IMPORT_ROWS} rows per request."
    ),
    tags=["listings"],
    **csv_upload(ImportResult, 401, 403, 409, 415, invalid="invalid CSV", example=_CSV_EXAMPLE),
    security=COGNITO,
)
def import_listings(caller: CurrentCaller, listings: Listings) -> ImportResult:
    event = router.current_event
    require_media_type(event.headers, CSV_MEDIA_TYPES, "the Listings CSV")
    counts = logic.import_listings(listings, caller, event.decoded_body or "")
    metrics.add_metric(name="ListingsImported", unit="Count", value=counts.total)
    return ImportResult(created=counts.created, updated=counts.updated, total=counts.total)


@router.get(
    "/listings/<marketplace_id>/<sku>",
    summary="One listing with its strategy, switches and repricing state",
    tags=["listings"],
    responses=responses(ListingOut, 401, 403, 404),
    security=COGNITO,
)
def get_listing(
    marketplace_id: MarketplacePath,
    sku: SkuPath,
    caller: CurrentCaller,
    listings: Listings,
    seller_id: SellerQuery = None,
) -> ListingOut:
    return ListingOut.from_domain(
        logic.get_listing(listings, caller, marketplace_id, _sku(sku), seller_id)
    )


@router.put(
    "/listings/<marketplace_id>/<sku>",
    summary="Configure a SKU's strategy: create (201) or replace (200)",
    description=(
        "The body is the strategy (ListingConfig's fields; absent or null = the default) "
        "plus the SKU's `paused` / `dry_run` switches. Creating needs `asin`, `condition` "
        "and `fulfillment`; later PUTs keep the stored ones unless given. Send the "
        "`version` you read for a safe update (409 if it changed)."
    ),
    tags=["listings"],
    responses={
        **responses(ListingOut, 401, 403, 404, 409, ok_description="strategy replaced"),
        **responses(ListingOut, ok_status=201, ok_description="listing created"),
    },
    security=COGNITO,
)
def put_listing(
    marketplace_id: MarketplacePath,
    sku: SkuPath,
    body: ListingPut,
    caller: CurrentCaller,
    listings: Listings,
) -> Response[ListingOut]:
    update = logic.StrategyUpdate(
        values=strategy_values(body),
        paused=body.paused,
        dry_run=body.dry_run,
        expected_version=body.version,
    )
    result = logic.put_listing(listings, caller, marketplace_id, _sku(sku), update)
    return Response(
        status_code=HTTPStatus.CREATED if result.created else HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=ListingOut.from_domain(result.listing),
    )


@router.get(
    "/listings/<marketplace_id>/<sku>/history",
    summary="A SKU's price history: the newest entries, or a time range",
    description=(
        "Without `start`/`end`: the `limit` newest entries, newest first. With either: the "
        "entries in [start, end] (default: the beginning / now), oldest first, paged."
    ),
    tags=["listings"],
    responses=responses(HistoryPage, 400, 401, 403, 404),
    security=COGNITO,
)
def get_history(
    marketplace_id: MarketplacePath,
    sku: SkuPath,
    caller: CurrentCaller,
    history: History,
    limit: Annotated[int, Query(ge=1, le=100, description="entries per page")] = 20,
    start: Annotated[datetime | None, Query(description="ISO-8601 with a zone")] = None,
    end: Annotated[datetime | None, Query(description="ISO-8601 with a zone")] = None,
    next_token: NextToken = None,
    seller_id: SellerQuery = None,
) -> HistoryPage:
    page = logic.price_history(
        history, caller, marketplace_id, _sku(sku), limit=limit, start=_aware(start, "start"),
        end=_aware(end, "end"), next_token=next_token, seller_id=seller_id,
    )
    return HistoryPage(
        items=[HistoryEntryOut.from_domain(e) for e in page.items], next_token=page.next_token
    )


def _sku(raw: str) -> str:
    """API Gateway (REST) passes the path still percent-encoded: decode the SKU."""
    sku = unquote(raw)
    if not sku.strip() or len(sku) > 200:
        raise InvalidInput([("sku", "a SKU is 1 to 200 characters")])
    return sku


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise InvalidInput([(name, "give a time zone (e.g. 2025-06-01T00:00:00Z)")])
    return moment
