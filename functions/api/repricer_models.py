"""Request and response models of the Repricer routes: sellers' switches and connection,
listings and their strategies, price history.

The strategy fields of ``PUT /listings/{marketplace_id}/{sku}`` are generated from
:class:`~functions.reprice.logic.listing_config.ListingConfig`, the one model of a
SKU's strategy, so the API cannot drift from what the engine reads: every field is
optional here (``null`` or absent = the documented default) and the full validation —
bounds, currency precision, what each strategy needs — is ListingConfig's, with its
errors naming the field.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from functions.core.accounts import (
    Account,
    ConnectionStatus,
    MarketplaceId,
    RepricerConnection,
    SyncStatus,
)
from functions.core.repositories.listings import Listing
from functions.core.repositories.price_history import PriceHistoryEntry
from functions.reprice.listings import config_of, state_of
from functions.reprice.logic.listing_config import ListingConfig


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- sellers: switches and connection ----------------------------------------------------------
class ConnectIn(_Request):
    """Which marketplaces to connect (default: the account profile's marketplaces)."""

    marketplace_ids: list[MarketplaceId] | None = Field(
        default=None, min_length=1, description="Amazon marketplace ids, e.g. ATVPDKIKX0DER"
    )


class RepricerPut(_Request):
    """Seller-wide switches. Omitted switches keep their value."""

    paused: bool | None = Field(default=None, description="true: no repricing decisions at all")
    dry_run: bool | None = Field(
        default=None, description="true: decide and record, never submit prices to Amazon"
    )
    version: int | None = Field(
        default=None, ge=1, description="the account version last read; 409 if it changed"
    )

    @model_validator(mode="after")
    def _something_to_change(self) -> RepricerPut:
        if self.paused is None and self.dry_run is None:
            raise ValueError("give paused and/or dry_run")
        return self


class MarketplaceSyncOut(_Response):
    marketplace_id: str
    status: SyncStatus
    report_id: str | None = None
    created: int = Field(description="unconfigured listings created from the report")
    existing: int = Field(description="SKUs already stored, left untouched")
    skipped: int = Field(description="report rows that could not be used")
    finished_at: datetime | None = None
    error: str | None = None


class ConnectionOut(_Response):
    request_id: str
    status: ConnectionStatus
    marketplace_ids: list[str]
    requested_at: datetime
    updated_at: datetime
    connected_at: datetime | None = None
    subscriptions: dict[str, str] = Field(
        description="`region:NOTIFICATION_TYPE` → Amazon's subscription id"
    )
    syncs: list[MarketplaceSyncOut]
    error: str | None = None

    @classmethod
    def from_domain(cls, connection: RepricerConnection) -> ConnectionOut:
        return cls(
            request_id=connection.request_id,
            status=connection.status,
            marketplace_ids=list(connection.marketplace_ids),
            requested_at=connection.requested_at,
            updated_at=connection.updated_at,
            connected_at=connection.connected_at,
            subscriptions=dict(connection.subscriptions),
            syncs=[MarketplaceSyncOut(**s.model_dump()) for s in connection.syncs],
            error=connection.error,
        )


class RepricerOut(_Response):
    seller_id: str
    account_id: str
    paused: bool = Field(description="seller-wide: no repricing decisions")
    dry_run: bool = Field(description="seller-wide: decide and record, never submit")
    kill_switch: bool = Field(
        description="stack-wide REPRICER_KILL_SWITCH: no submissions for anyone"
    )
    connection: ConnectionOut | None = None
    version: int = Field(description="pass back as `version` in PUT for a safe update")

    @classmethod
    def from_domain(cls, account: Account, *, kill_switch: bool) -> RepricerOut:
        connection = account.repricer_connection
        return cls(
            seller_id=account.seller_id,
            account_id=account.account_id,
            paused=account.repricer_paused,
            dry_run=account.repricer_dry_run,
            kill_switch=kill_switch,
            connection=None if connection is None else ConnectionOut.from_domain(connection),
            version=account.version,
        )


# -- listings ----------------------------------------------------------------------------------
# ListingConfig fields a request never sets: identity comes from the path and the token;
# current_price is observed (repricing state), not configured.
_NOT_IN_BODY = ("sku", "marketplace_id", "seller_id", "current_price")
# Fields ListingConfig normalises leniently ("BuyBox", "fba", "New"): accepted as text.
_AS_TEXT = {"strategy", "fulfillment", "condition", "currency", "asin"}

STRATEGY_FIELD_DESCRIPTIONS: dict[str, str] = {
    "asin": "the ASIN (required to create a listing; default: the stored one)",
    "condition": "SP-API item condition, e.g. new (default: the stored one, else required)",
    "fulfillment": "FBA or FBM (default: the stored one, else required)",
    "currency": "ISO 4217; must be the marketplace's (default: the marketplace's)",
    "strategy": "buybox, push or fixed (required)",
    "min_price": "lowest listing price, a decimal string (required)",
    "max_price": "highest listing price, a decimal string (required)",
    "cost_floor": "absolute lowest price; floor = max(min_price, cost_floor)",
    "fixed_price": "the price of the fixed strategy (required for fixed)",
    "push_levels": "ascending price levels of the push strategy (required for push)",
    "undercut": "amount (0.01) or percentage (0.5%) below the Buy Box; default one tick",
    "climb_step": "step up while winning the Buy Box; default 1%",
    "max_change": "largest move per decision; default 20%",
    "b2b_discount": "business price below the B2C price; default 0%",
    "buybox_lead": "buybox: least lead over a rival we undercut, % of its landed price or "
                   "an amount; default 3%",
    "price_war_window": "buybox: a rival back under our cut within this time is one more "
                        "round of a price war (ISO-8601 duration); default PT6H",
    "price_war_rounds": "buybox: price-war rounds fought with the full lead; each further "
                        "round halves it (down to undercut); default 2",
    "climb_interval": "minimum time between climbs (ISO-8601 duration); default PT15M",
    "confirm_timeout": "how long a submitted price may stay unseen; default PT10M",
    "ceiling_ttl": "how long a lost-Buy-Box ceiling lasts; default P1D",
    "below_floor": "rival below the floor: floor (sit at it) or hold; default floor",
    "no_competition": "no competitor: max (step toward max) or hold; default max",
    "min_feedback": "ignore competitors under this % positive feedback; default 0",
    "min_feedback_count": "ignore competitors with fewer ratings; default 0",
    "exclude_fbm": "ignore merchant-fulfilled competitors; default false",
    "amazon_mode": "Amazon retail as competitor: compete, match_only or ignore",
    "amazon_seller_ids": "seller ids treated as Amazon (default: the marketplace's)",
    "include_sellers": "non-empty: only these sellers count as competitors",
    "exclude_sellers": "these sellers never count as competitors",
    "push_window": "push: sales window; default P1D",
    "push_fast_units": "push: units in the window at/above which a level goes up; default 5",
    "push_slow_units": "push: units at/below which a level goes down; default 0",
    "push_dwell": "push: minimum time on a level (≥ push_window); default P1D",
    "push_start_level": "push: first level (0-based); default from the current price",
    "b2b_tiers": "quantity tier → discount off the B2C price, e.g. {\"5\": \"3%\"}",
}


def _strategy_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, info in ListingConfig.model_fields.items():
        if name in _NOT_IN_BODY:
            continue
        annotation: Any = str if name in _AS_TEXT else info.annotation
        fields[name] = (
            annotation | None,
            Field(default=None, description=STRATEGY_FIELD_DESCRIPTIONS.get(name)),
        )
    return fields


ListingPut = create_model(  # type: ignore[call-overload]
    "ListingPut",
    __base__=_Request,
    __doc__=(
        "A SKU's strategy (replaces the stored one; absent or null = the default) and its "
        "switches. Amounts are decimal strings (\"12.99\"); steps an amount or a percentage."
    ),
    **_strategy_fields(),
    paused=(bool | None, Field(default=None, description="no decisions for this SKU")),
    dry_run=(bool | None, Field(default=None, description="decide, never submit, this SKU")),
    version=(
        int | None,
        Field(default=None, ge=1, description="the version last read; 409 if it changed"),
    ),
)

SWITCH_FIELDS = ("paused", "dry_run", "version")


def strategy_values(body: BaseModel) -> dict[str, Any]:
    """The strategy fields a request set (nulls dropped: null means the default)."""
    values = body.model_dump(exclude_unset=True, exclude=set(SWITCH_FIELDS))
    return {name: value for name, value in values.items() if value is not None}


_IDENTITY_OUT = {"sku", "asin", "marketplace_id", "condition", "fulfillment", "currency",
                 "seller_id", "current_price"}


class ListingOut(_Response):
    seller_id: str
    marketplace_id: str
    sku: str
    asin: str
    condition: str
    fulfillment: Literal["FBA", "FBM"]
    currency: str
    configured: bool = Field(description="false: synced from Amazon, no strategy yet")
    strategy: dict[str, Any] | None = Field(
        default=None,
        description="the strategy's fields (amounts as strings, durations ISO-8601); "
        "null when unconfigured",
    )
    paused: bool
    dry_run: bool
    current_price: Decimal | None = Field(default=None, description="our price, as we know it")
    state: dict[str, Any] = Field(description="the repricer's state for this SKU")
    version: int = Field(description="pass back as `version` in PUT for a safe update")
    updated_at: datetime | None = None

    @classmethod
    def from_domain(cls, listing: Listing) -> ListingOut:
        # Through the repricer's own models, so stored numbers read back in their JSON
        # form (DynamoDB returns every number as a Decimal).
        config = config_of(listing)
        strategy = None
        if config is not None:
            dumped = config.model_dump(mode="json")
            strategy = {k: v for k, v in dumped.items() if k not in _IDENTITY_OUT}
        state = state_of(listing)
        return cls(
            seller_id=listing.seller_id,
            marketplace_id=listing.marketplace_id,
            sku=listing.sku,
            asin=listing.asin,
            condition=listing.condition,
            fulfillment=listing.fulfillment,
            currency=listing.currency,
            configured=bool(listing.strategy),
            strategy=strategy,
            paused=listing.paused,
            dry_run=listing.dry_run,
            current_price=None if state.current_price is None else state.current_price.amount,
            state=state.model_dump(mode="json", exclude_defaults=True),
            version=listing.version,
            updated_at=listing.updated_at,
        )


class ListingPage(_Response):
    items: list[ListingOut]
    next_token: str | None = Field(
        default=None, description="pass as `next_token` for the next page; null on the last"
    )


class ImportResult(_Response):
    created: int = Field(description="listings that did not exist")
    updated: int = Field(description="existing listings whose strategy was replaced")
    total: int


class CsvProblem(_Response):
    line: int | None = Field(description="line of the CSV (1 = the header)")
    column: str | None = Field(description="the column, when the problem is in one")
    field: str = Field(description="the column, or `body` for the file as a whole")
    location: str = "body"
    message: str
    type: str = "csv"


class CsvErrorResponse(_Response):
    message: str
    errors: list[CsvProblem]


class HistoryEntryOut(_Response):
    at: datetime
    kind: str = Field(description="notification, decision, submission, submission_result, ...")
    payload: dict[str, Any]

    @classmethod
    def from_domain(cls, entry: PriceHistoryEntry) -> HistoryEntryOut:
        return cls(at=entry.at, kind=entry.kind, payload=dict(entry.payload))


class HistoryPage(_Response):
    items: list[HistoryEntryOut]
    next_token: str | None = Field(
        default=None, description="range queries: pass back for the next page"
    )

