"""A seller's unit (manufacturing) costs: upload the cost sheet, read it back.

The audit values warehouse, inbound and removal losses at these costs (docs/AUDIT.md).
Routes only translate; validation and tenant scoping are in functions/api/logic/costs.py.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.api.cost_models import CostsImported, UnitCostOut, UnitCostPage
from functions.api.dependencies import unit_costs_repository
from functions.api.errors import require_media_type
from functions.api.identity import Caller, current_caller
from functions.api.logic import costs as logic
from functions.api.observability import metrics
from functions.api.routes import COGNITO, csv_upload, responses
from functions.core.repositories.unit_costs import UnitCostRepository

router = Router()

CurrentCaller = Annotated[Caller, Depends(current_caller)]
Costs = Annotated[UnitCostRepository, Depends(unit_costs_repository)]

CSV_MEDIA_TYPES = ("text/csv", "application/csv", "text/plain", "text/tab-separated-values")
_CSV_EXAMPLE = "sku,unit_cost,currency\nMUG-BLU-12,5.00,USD\nMUG-BLU-12,4.60,EUR\n"


@router.put(
    "/sellers/me/costs",
    summary="Upload the caller's unit costs (the cost sheet; all or nothing)",
    description=(
        "Body: the cost sheet, columns `sku, unit_cost, currency` (CSV or TSV, as "
        "`sellerops audit --costs` reads it) with `Content-Type: text/csv`. The whole "
        "sheet is validated first; any problem (a bad or negative cost, an unknown "
        "currency, a SKU given twice in one currency, a missing column) answers 422 with "
        "each line and column, and nothing is written. Otherwise each row sets the SKU's "
        "cost in that currency; the SKU's other currencies and SKUs not in the sheet are "
        f"kept. At most {logic.MAX_COST_ROWS} rows per request."
    ),
    tags=["costs"],
    **csv_upload(CostsImported, 401, 403, 415, invalid="invalid cost sheet", example=_CSV_EXAMPLE),
    security=COGNITO,
)
def put_my_costs(caller: CurrentCaller, costs: Costs) -> CostsImported:
    event = router.current_event
    require_media_type(event.headers, CSV_MEDIA_TYPES, "the cost sheet")
    written = logic.import_costs(costs, caller, event.decoded_body or "")
    metrics.add_metric(name="UnitCostsImported", unit="Count", value=written.total)
    return CostsImported(created=written.created, updated=written.updated,
                         skus=written.skus, total=written.total)


@router.get(
    "/sellers/me/costs",
    summary="The caller's unit costs, in SKU order, one page at a time",
    tags=["costs"],
    responses=responses(UnitCostPage, 400, 401, 403, 404),
    security=COGNITO,
)
def get_my_costs(
    caller: CurrentCaller,
    costs: Costs,
    limit: Annotated[int, Query(ge=1, le=500, description="SKUs per page")] = 100,
    next_token: Annotated[
        str | None, Query(max_length=2048, description="`next_token` of the previous page")
    ] = None,
    seller_id: Annotated[
        str | None,
        Query(
            min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
            description="staff: the seller to read; sellers may only name themselves",
        ),
    ] = None,
) -> UnitCostPage:
    page = logic.list_costs(costs, caller, limit=limit, next_token=next_token,
                            seller_id=seller_id)
    return UnitCostPage(
        items=[row for stored in page.items for row in UnitCostOut.rows_of(stored)],
        next_token=page.next_token,
    )
