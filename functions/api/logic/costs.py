"""A seller's unit costs as the API sees them: the cost sheet upload and the paged read.

The body of ``PUT /sellers/me/costs`` is the audit's cost sheet (``sku, unit_cost,
currency``, CSV or TSV, header names matched loosely, extra columns ignored), read by
the audit's own parser (:func:`functions.audit.logic.costs.parse_costs`), so the API
accepts exactly what ``sellerops audit --costs`` accepts. All or nothing: any problem
(bad or negative cost, unknown currency, a duplicate SKU/currency, a missing column)
rejects the whole sheet with every problem's line and column, and nothing is written.

Writes act on the caller's own seller; reads default to it, staff name a seller
(``seller_to_read``, the same tenant rule as the listings).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Protocol

from functions.api.identity import Caller
from functions.api.logic.listings import seller_to_read
from functions.audit.logic.costs import parse_costs
from functions.core.money import Money
from functions.core.repositories.dynamo import Page
from functions.core.repositories.unit_costs import CostsWritten, SkuCosts

MAX_COST_ROWS = 10_000
SHEET_NAME = "costs"


class CostStore(Protocol):
    """What the logic needs from storage (``UnitCostRepository`` provides it)."""

    def put_many(self, seller_id: str, costs: Iterable[tuple[str, Money]]) -> CostsWritten: ...

    def list_costs(
        self, seller_id: str, *, limit: int = 100, next_token: str | None = None
    ) -> Page[SkuCosts]: ...


class CostsCsvError(ValueError):
    """The cost sheet is not valid; ``problems`` lists (line, column, message)."""

    def __init__(self, problems: list[tuple[int, str | None, str]]) -> None:
        self.problems = problems
        lines = [
            f"line {line}, column {column}: {message}" if column else f"line {line}: {message}"
            for line, column, message in problems
        ]
        super().__init__("invalid cost sheet:\n  " + "\n  ".join(lines))


def import_costs(store: CostStore, caller: Caller, text: str) -> CostsWritten:
    """Validate the whole sheet, then upsert its costs for the caller's own seller."""
    seller_id = caller.require_seller()
    sheet = parse_costs(io.BytesIO(text.encode("utf-8")), SHEET_NAME)
    problems = [(p.line, p.column, p.message) for p in sheet.problems]
    if not problems and not sheet.costs:
        problems.append((1, None, "no costs: the sheet has a header but no rows"))
    if len(sheet.costs) > MAX_COST_ROWS:
        problems.append((MAX_COST_ROWS + 2, None,
                         f"at most {MAX_COST_ROWS} rows per request; split the sheet"))
    if problems:
        raise CostsCsvError(problems)
    return store.put_many(seller_id, [(cost.sku, cost.cost) for cost in sheet.costs])


def list_costs(
    store: CostStore, caller: Caller, *, limit: int, next_token: str | None,
    seller_id: str | None = None,
) -> Page[SkuCosts]:
    return store.list_costs(seller_to_read(caller, seller_id), limit=limit,
                            next_token=next_token)
