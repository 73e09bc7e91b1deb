"""The API's request and response models: the contract the OpenAPI document is made from.

They are mapped explicitly to and from the domain models in functions/core, so the
stored shape can change without changing the API (and the other way round). Validators
are shared with the domain (``Language``, ``Country``, ``MarketplaceId``), so the API
rejects exactly what the domain would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.core.accounts import (
    Account,
    CatalogueType,
    ContractStatus,
    Country,
    Language,
    MarketplaceId,
    Product,
    Profile,
)

PlanName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- requests -------------------------------------------------------------------------------
class ProfileIn(_Request):
    """Onboarding facts (all optional)."""

    marketplaces: list[MarketplaceId] = Field(
        default_factory=list, description="Amazon marketplace ids the seller sells on"
    )
    sku_count: int | None = Field(default=None, ge=0, description="number of SKUs")
    catalogue_type: CatalogueType | None = None
    experience_years: int | None = Field(default=None, ge=0, le=100)

    def to_domain(self) -> Profile:
        return Profile(
            marketplaces=tuple(self.marketplaces),
            sku_count=self.sku_count,
            catalogue_type=self.catalogue_type,
            experience_years=self.experience_years,
        )


class AccountPut(_Request):
    """Create or update the caller's own account. The seller id comes from the token."""

    name: str = Field(min_length=1, max_length=200, description="company or shop name")
    language: Language
    country: Country
    products: list[Product] = Field(min_length=1, description="products subscribed to")
    plan: PlanName | None = Field(
        default=None, description="contract plan; a new account starts a 14-day trial on it"
    )
    profile: ProfileIn | None = None
    version: int | None = Field(
        default=None,
        ge=1,
        description="the version last read; the update fails with 409 if the account has "
        "changed since. Omit to create, or to update whatever version is stored.",
    )


# -- responses ------------------------------------------------------------------------------
class ContractOut(_Response):
    plan: str
    status: ContractStatus
    started_at: datetime
    trial_ends_at: datetime | None = None
    renews_at: datetime | None = None
    cancelled_at: datetime | None = None


class ProfileOut(_Response):
    marketplaces: list[str] = Field(default_factory=list)
    sku_count: int | None = None
    catalogue_type: CatalogueType | None = None
    experience_years: int | None = None


class AccountOut(_Response):
    account_id: str
    seller_id: str
    seller_ids: list[str]
    name: str
    language: str = Field(examples=["de", "en-GB"])
    country: str = Field(examples=["DE"])
    products: list[Product]
    contract: ContractOut | None = None
    vip: bool = False
    profile: ProfileOut | None = None
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="pass back as `version` in PUT for a safe update")

    @classmethod
    def from_domain(cls, account: Account) -> AccountOut:
        contract = account.contract
        profile = account.profile
        return cls(
            account_id=account.account_id,
            seller_id=account.seller_id,
            seller_ids=list(account.seller_ids),
            name=account.name,
            language=account.language,
            country=account.country,
            products=list(account.products),
            contract=None
            if contract is None
            else ContractOut(
                plan=contract.plan,
                status=contract.status,
                started_at=contract.started_at,
                trial_ends_at=contract.trial_ends_at,
                renews_at=contract.renews_at,
                cancelled_at=contract.cancelled_at,
            ),
            vip=account.vip,
            profile=None
            if profile is None
            else ProfileOut(
                marketplaces=list(profile.marketplaces),
                sku_count=profile.sku_count,
                catalogue_type=profile.catalogue_type,
                experience_years=profile.experience_years,
            ),
            created_at=account.created_at,
            updated_at=account.updated_at,
            version=account.version,
        )


class AccountPage(_Response):
    items: list[AccountOut]
    next_token: str | None = Field(
        default=None, description="pass as `next_token` for the next page; null on the last"
    )


class Health(_Response):
    status: Literal["ok"] = "ok"


class FieldError(_Response):
    field: str = Field(
        description="the offending field, dotted (`profile.sku_count`, `products[1]`)"
    )
    location: str = Field(description="`body`, `query`, `path` or `header`")
    message: str
    type: str = Field(description="machine-readable error type")


class ErrorResponse(_Response):
    message: str
    errors: list[FieldError] = Field(default_factory=list)
