"""Accounts: who the customer is, what they bought, and how to talk to them.

An account belongs to one primary seller (``seller_id``, the SP-API selling partner id)
and may group more sellers (``seller_ids``, for agencies). The notification center routes
by ``language`` (BCP-47), the onboarding analysis reads ``profile``, and the contract
drives trial-end and renewal reminders. All timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from functions.core.marketplaces import is_marketplace

TRIAL_DAYS = 14

# -- identifiers and codes ----------------------------------------------------------------
_SELLER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# BCP-47 language tag: language (2-3 letters), optional script, region, variants. Extended
# language subtags, private use and grandfathered tags are not accepted.
_BCP47 = re.compile(
    r"^(?P<language>[A-Za-z]{2,3})"
    r"(?:-(?P<script>[A-Za-z]{4}))?"
    r"(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)$"
)
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")

# Namespace of deterministic account ids (uuid5 of the seller id): two concurrent
# sign-ups of one seller race for the same key, and the conditional create lets one win.
_ACCOUNT_NAMESPACE = uuid.UUID("8f7a1c52-2f0e-4bb4-9d0a-52f2b7f0b0a1")


def validate_seller_id(value: str) -> str:
    """An SP-API selling partner id (letters, digits, ``.``, ``_``, ``-``; no ``#``)."""
    if not _SELLER_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not a seller id (letters and digits, at most 64)")
    return value


def validate_account_id(value: str) -> str:
    if not _ACCOUNT_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not an account id")
    return value


def normalise_language(value: str) -> str:
    """A BCP-47 tag in canonical case: ``de``, ``en-GB``, ``zh-Hant-TW``.

    Raises ``ValueError`` naming the value for anything that is not such a tag
    (``english``, ``en_GB``, ``e``).
    """
    match = _BCP47.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f"{value!r} is not a BCP-47 language tag (examples: 'de', 'en-GB', 'zh-Hant-TW')"
        )
    parts = [match["language"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    if match["variants"]:
        parts.extend(v.lower() for v in match["variants"].split("-") if v)
    return "-".join(parts)


def normalise_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 country code in upper case (``DE``)."""
    if not isinstance(value, str) or not _COUNTRY.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. 'DE')")
    return value.strip().upper()


def validate_marketplace_id(value: str) -> str:
    if not is_marketplace(value):
        raise ValueError(f"{value!r} is not an Amazon marketplace id")
    return value


def account_id_for_seller(seller_id: str) -> str:
    """The id of the account a seller signs up with (deterministic, opaque)."""
    return "acc-" + uuid.uuid5(_ACCOUNT_NAMESPACE, validate_seller_id(seller_id)).hex


SellerId = Annotated[str, AfterValidator(validate_seller_id)]
AccountId = Annotated[str, AfterValidator(validate_account_id)]
Language = Annotated[
    str,
    Field(examples=["de", "en-GB"], description="BCP-47 language tag"),
    AfterValidator(normalise_language),
]
Country = Annotated[
    str,
    Field(examples=["DE"], description="ISO 3166-1 alpha-2 country code"),
    AfterValidator(normalise_country),
]
MarketplaceId = Annotated[str, AfterValidator(validate_marketplace_id)]


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]


# -- value types ----------------------------------------------------------------------------
class Product(StrEnum):
    REPRICER = "repricer"
    LOST_FOUND = "lost_found"


class ContractStatus(StrEnum):
    TRIAL = "trial"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class CatalogueType(StrEnum):
    PRIVATE_LABEL = "private_label"
    BRAND = "brand"
    BOTH = "both"


def _unique_sorted_products(value: list[Product] | tuple[Product, ...]) -> tuple[Product, ...]:
    return tuple(sorted(set(value)))


Products = Annotated[tuple[Product, ...], AfterValidator(_unique_sorted_products)]


class Contract(BaseModel):
    """What the customer pays for and when the trial / term ends."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan: str = Field(min_length=1, max_length=64)
    status: ContractStatus
    started_at: UtcDatetime
    trial_ends_at: UtcDatetime | None = None
    renews_at: UtcDatetime | None = None
    cancelled_at: UtcDatetime | None = None

    @classmethod
    def trial(cls, plan: str, started_at: datetime, days: int = TRIAL_DAYS) -> Contract:
        return cls(
            plan=plan,
            status=ContractStatus.TRIAL,
            started_at=started_at,
            trial_ends_at=started_at + timedelta(days=days),
        )


class Profile(BaseModel):
    """Onboarding facts the customer-success team's analysis uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    marketplaces: tuple[MarketplaceId, ...] = ()
    sku_count: int | None = Field(default=None, ge=0)
    catalogue_type: CatalogueType | None = None
    experience_years: int | None = Field(default=None, ge=0, le=100)

    @field_validator("marketplaces")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))


class ConnectionStatus(StrEnum):
    """Where a seller's Repricer connection stands (``RepricerConnection.status``)."""

    REQUESTED = "requested"  # the API accepted it; ConnectSellerFunction has not started
    SUBSCRIBING = "subscribing"  # notification destination and subscriptions
    SYNCING = "syncing"  # first sync of the listings (Reports API)
    CONNECTED = "connected"  # subscribed and every marketplace synced
    FAILED = "failed"  # stopped; ``error`` says why (a new connect request starts over)


class SyncStatus(StrEnum):
    PENDING = "pending"
    REQUESTED = "requested"  # report requested, ``report_id`` recorded
    SYNCED = "synced"
    FAILED = "failed"


class MarketplaceSync(BaseModel):
    """First sync of one marketplace's listings: the report it reads and what it did."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    marketplace_id: MarketplaceId
    status: SyncStatus = SyncStatus.PENDING
    report_id: str | None = Field(default=None, max_length=128)
    created: int = Field(default=0, ge=0, description="unconfigured listings created")
    existing: int = Field(default=0, ge=0, description="SKUs already stored, left untouched")
    skipped: int = Field(default=0, ge=0, description="report rows that could not be used")
    finished_at: UtcDatetime | None = None
    error: str | None = Field(default=None, max_length=1000)


class RepricerConnection(BaseModel):
    """Progress of connecting a seller to the Repricer, so a retried run resumes.

    ``request_id`` identifies one connect request: a retry of the same request continues
    where it stopped (subscriptions found, reports reused, marketplaces already synced
    skipped); a new request starts the syncs again. ``subscriptions`` maps
    ``region:NOTIFICATION_TYPE`` to Amazon's subscription id.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str = Field(min_length=1, max_length=128)
    status: ConnectionStatus
    marketplace_ids: tuple[MarketplaceId, ...] = Field(min_length=1)
    requested_at: UtcDatetime
    updated_at: UtcDatetime
    connected_at: UtcDatetime | None = None
    subscriptions: dict[str, str] = Field(default_factory=dict)
    syncs: tuple[MarketplaceSync, ...] = ()
    error: str | None = Field(default=None, max_length=1000)

    @field_validator("marketplace_ids")
    @classmethod
    def _unique_marketplaces(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))

    def sync_of(self, marketplace_id: str) -> MarketplaceSync:
        """The sync record of ``marketplace_id`` (a pending one if none is recorded)."""
        for sync in self.syncs:
            if sync.marketplace_id == marketplace_id:
                return sync
        return MarketplaceSync(marketplace_id=marketplace_id)

    def with_sync(self, sync: MarketplaceSync) -> RepricerConnection:
        """A copy with ``sync`` recorded (replacing that marketplace's previous record)."""
        others = tuple(s for s in self.syncs if s.marketplace_id != sync.marketplace_id)
        ordered = sorted((*others, sync), key=lambda s: self._position(s.marketplace_id))
        return self.model_copy(update={"syncs": tuple(ordered)})

    def _position(self, marketplace_id: str) -> int:
        ids = self.marketplace_ids
        return ids.index(marketplace_id) if marketplace_id in ids else len(ids)


class Account(BaseModel):
    """One customer. ``version`` counts stored writes (0 = never stored)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: AccountId
    seller_id: SellerId
    seller_ids: tuple[SellerId, ...] = ()
    name: str = Field(min_length=1, max_length=200)
    language: Language
    country: Country
    products: Products = ()
    contract: Contract | None = None
    vip: bool = False
    profile: Profile | None = None
    # Repricer switches for the whole seller (DESIGN §5.1): ``repricer_paused`` stops every
    # decision; ``repricer_dry_run`` decides and records but never submits. A newly
    # connected seller starts in dry run until they switch it off.
    repricer_paused: bool = False
    repricer_dry_run: bool = True
    repricer_connection: RepricerConnection | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    version: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _primary_seller_first(self) -> Account:
        # seller_ids always lists the primary seller first, without duplicates.
        ids = tuple(dict.fromkeys((self.seller_id, *self.seller_ids)))
        if ids != self.seller_ids:
            object.__setattr__(self, "seller_ids", ids)
        return self

    @property
    def marketplace_ids(self) -> tuple[str, ...]:
        """The marketplaces the account sells on: its profile's and the ones it connected
        (in that order, each once); empty when neither is known."""
        connected = self.repricer_connection.marketplace_ids if self.repricer_connection else ()
        profiled = self.profile.marketplaces if self.profile else ()
        return tuple(dict.fromkeys((*profiled, *connected)))

    def evolve(self, **changes: object) -> Account:
        """A copy with ``changes`` applied and validated again (``model_copy`` does not)."""
        return type(self).model_validate({**self.model_dump(), **changes})

    def belongs_to(self, seller_id: str) -> bool:
        """Whether ``seller_id`` is one of this account's sellers."""
        return seller_id in self.seller_ids
