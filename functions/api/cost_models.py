"""Response models of the unit-cost routes (``/sellers/me/costs``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from functions.core.repositories.unit_costs import SkuCosts


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


class CostsImported(_Response):
    created: int = Field(description="SKU/currency costs the seller did not have")
    updated: int = Field(description="stored SKU/currency costs replaced")
    skus: int = Field(description="distinct SKUs in the sheet")
    total: int = Field(description="rows of the sheet (created + updated)")


class UnitCostOut(_Response):
    sku: str
    unit_cost: str = Field(description="decimal string, in `currency`")
    currency: str
    updated_at: datetime | None = None

    @classmethod
    def rows_of(cls, stored: SkuCosts) -> list[UnitCostOut]:
        return [
            cls(sku=stored.sku, unit_cost=format(money.amount, "f"), currency=currency,
                updated_at=stored.updated_at)
            for currency, money in sorted(stored.costs.items())
        ]


class UnitCostPage(_Response):
    items: list[UnitCostOut] = Field(
        description="one row per SKU and currency; a page holds `limit` SKUs")
    next_token: str | None = Field(
        default=None, description="pass as `next_token` for the next page; null on the last"
    )
