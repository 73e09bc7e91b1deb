"""Listings and strategies as the API sees them: tenant-scoped reads, strategy writes, the
Listings CSV bulk import, price history.

Tenant scoping lives here. Writes always act on the caller's own seller (the token's
``custom:seller_id``), never on a seller named in a request. Reads default to the
caller's seller; staff name the seller they look at (``seller_id``), a seller naming
another seller gets 404, the same answer as for a SKU that does not exist, so nothing
can be probed across tenants.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from functions.api.errors import InvalidInput, NotAllowed, NotFoundForCaller
from functions.api.identity import Caller
from functions.core.marketplaces import marketplace
from functions.core.repositories.dynamo import Page, utc_now
from functions.core.repositories.errors import (
    AlreadyExists,
    ConcurrentModification,
)
from functions.core.repositories.listings import Listing
from functions.core.repositories.price_history import PriceHistoryEntry
from functions.reprice.listings import listing_from_config, with_config
from functions.reprice.logic.listing_config import (
    ListingConfig,
    ListingsCsvError,
    parse_listings_csv,
)

MAX_IMPORT_ROWS = 1000
_IMPORT_WORKERS = 8
_UPSERT_ATTEMPTS = 3
HISTORY_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class ListingStore(Protocol):
    """What the logic needs from storage (``ListingRepository`` provides it)."""

    def get(self, seller_id: str, marketplace_id: str, sku: str) -> Listing | None: ...

    def list_for_marketplace(
        self, seller_id: str, marketplace_id: str, *, limit: int = 100,
        next_token: str | None = None,
    ) -> Page[Listing]: ...

    def put_new(self, listing: Listing) -> Listing: ...

    def save(self, listing: Listing, expected_version: int) -> Listing: ...


class HistoryStore(Protocol):
    def latest(
        self, seller_id: str, marketplace_id: str, sku: str, *, limit: int = 20
    ) -> list[PriceHistoryEntry]: ...

    def between(
        self, seller_id: str, marketplace_id: str, sku: str, start: datetime, end: datetime,
        *, limit: int = 100, next_token: str | None = None,
    ) -> Page[PriceHistoryEntry]: ...


# -- whose data -----------------------------------------------------------------------------
def seller_to_read(caller: Caller, seller_id: str | None) -> str:
    """The seller whose data a read returns: the caller's own, or (staff) the one named.

    A seller naming another seller gets :class:`NotFoundForCaller`; staff without a
    seller id of their own must name one (:class:`NotAllowed`).
    """
    if seller_id is None or seller_id == caller.seller_id:
        if caller.seller_id is None:
            raise NotAllowed("staff: name the seller with the seller_id query parameter")
        return caller.seller_id
    if caller.is_staff:
        return seller_id
    raise NotFoundForCaller("not found")


def get_listing(
    store: ListingStore, caller: Caller, marketplace_id: str, sku: str,
    seller_id: str | None = None,
) -> Listing:
    listing = store.get(seller_to_read(caller, seller_id), marketplace_id, sku)
    if listing is None:
        raise NotFoundForCaller(f"no listing {sku!r} on {marketplace_id}")
    return listing


def list_listings(
    store: ListingStore, caller: Caller, marketplace_id: str, *, limit: int,
    next_token: str | None, seller_id: str | None = None,
) -> Page[Listing]:
    return store.list_for_marketplace(
        seller_to_read(caller, seller_id), marketplace_id, limit=limit, next_token=next_token
    )


# -- one SKU's strategy ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StrategyUpdate:
    """A PUT: the strategy fields given (validated by ListingConfig) and the switches."""

    values: dict[str, Any]
    paused: bool | None = None
    dry_run: bool | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class PutResult:
    listing: Listing
    created: bool


def config_problems(error: ValidationError) -> list[tuple[str, str]]:
    """ListingConfig's errors as (field, message), the field dotted (``b2b_tiers.5``)."""
    problems: list[tuple[str, str]] = []
    for item in error.errors(include_url=False):
        ctx = item.get("ctx") or {}
        if item["type"] == "listing_config" and ctx.get("column"):
            field = str(ctx["column"])
        else:
            field = ".".join(str(part) for part in item.get("loc", ())) or "body"
        message = "required" if item["type"] == "missing" else str(item["msg"])
        problems.append((field, message.removeprefix("Value error, ")))
    return problems


def build_config(identity: dict[str, Any], values: dict[str, Any]) -> ListingConfig:
    """ListingConfig from the path/stored identity and the request's fields; 422 on error."""
    try:
        return ListingConfig.model_validate({**identity, **values})
    except ValidationError as error:
        raise InvalidInput(config_problems(error)) from None


def put_listing(
    store: ListingStore, caller: Caller, marketplace_id: str, sku: str, update: StrategyUpdate
) -> PutResult:
    """Create or replace a SKU's strategy (and switches) for the caller's own seller.

    With ``expected_version`` the write only applies to that version (else 409); without,
    to the version just read, and a racing write still answers 409.
    """
    seller_id = caller.require_seller()
    current = store.get(seller_id, marketplace_id, sku)
    values = dict(update.values)
    if current is None and update.expected_version is not None:
        raise NotFoundForCaller("no listing to update at that version: omit version to create")
    if current is not None and update.expected_version not in (None, current.version):
        raise ConcurrentModification(
            "listing", {"pk": current.pk, "sku": sku},
            expected_version=int(update.expected_version or 0),
            actual_version=current.version,
        )
    identity: dict[str, Any] = {
        "sku": sku,
        "marketplace_id": marketplace_id,
        "seller_id": seller_id,
        "currency": values.pop("currency", None) or marketplace(marketplace_id).currency,
    }
    for name in ("asin", "condition", "fulfillment"):
        given = values.pop(name, None)
        stored = getattr(current, name) if current is not None else None
        if given is not None or stored is not None:
            identity[name] = given if given is not None else stored
    config = build_config(identity, values)
    switches = {
        name: value
        for name, value in (("paused", update.paused), ("dry_run", update.dry_run))
        if value is not None
    }
    if current is None:
        listing = listing_from_config(config, seller_id).evolve(**switches)
        return PutResult(store.put_new(listing), created=True)
    listing = with_config(current, config).evolve(**switches)
    return PutResult(store.save(listing, current.version), created=False)


# -- bulk import ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ImportCounts:
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


def _data_lines(text: str) -> list[int]:
    """Line numbers of the CSV's non-blank data rows, in order (as parse_listings_csv reads)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    lines = [reader.line_num for row in reader if any(cell.strip() for cell in row)]
    return lines[1:]


def import_listings(
    store: ListingStore,
    caller: Caller,
    text: str,
    *,
    max_rows: int = MAX_IMPORT_ROWS,
    workers: int = _IMPORT_WORKERS,
) -> ImportCounts:
    """Upsert the Listings CSV (DESIGN.md §3) for the caller's own seller.

    All or nothing: the whole file is validated first — every problem with its line and
    column, plus rows naming another ``seller_id`` — and nothing is written unless it is
    all valid. Then each row creates its listing (unconfigured defaults for the switches,
    ``current_price`` as its starting price) or replaces the stored strategy, keeping the
    listing's switches and repricing state. Raises :class:`ListingsCsvError`.
    """
    seller_id = caller.require_seller()
    configs = parse_listings_csv(text)
    lines = _data_lines(text)
    problems: list[tuple[int, str | None, str]] = []
    if len(configs) > max_rows:
        problems.append((lines[max_rows], None,
                         f"at most {max_rows} listings per import: split the file"))
    for line, config in zip(lines, configs, strict=False):
        if config.seller_id not in (None, seller_id):
            problems.append((line, "seller_id", f"{config.seller_id!r} is not your seller id "
                                                f"({seller_id}); leave it empty"))
    if not configs:
        problems.append((1, None, "no listings in the file"))
    if problems:
        raise ListingsCsvError(problems)
    # The first row alone: it creates the store's lazily built client before threads share it.
    results = [_upsert(store, seller_id, configs[0])]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results += pool.map(lambda c: _upsert(store, seller_id, c), configs[1:])
    created = sum(1 for r in results if r)
    return ImportCounts(created=created, updated=len(results) - created)


def _upsert(store: ListingStore, seller_id: str, config: ListingConfig) -> bool:
    """Create (True) or update (False) one listing, re-reading on a concurrent write."""
    for attempt in range(_UPSERT_ATTEMPTS):
        current = store.get(seller_id, config.marketplace_id, config.sku)
        try:
            if current is None:
                store.put_new(listing_from_config(config, seller_id))
                return True
            store.save(with_config(current, config), current.version)
            return False
        except (AlreadyExists, ConcurrentModification):
            if attempt == _UPSERT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


# -- price history --------------------------------------------------------------------------
def price_history(
    store: HistoryStore,
    caller: Caller,
    marketplace_id: str,
    sku: str,
    *,
    limit: int,
    start: datetime | None = None,
    end: datetime | None = None,
    next_token: str | None = None,
    seller_id: str | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Page[PriceHistoryEntry]:
    """The ``limit`` newest entries (newest first), or with ``start``/``end``/``next_token``
    the entries in that range (oldest first, paged)."""
    seller = seller_to_read(caller, seller_id)
    if start is None and end is None and next_token is None:
        return Page(store.latest(seller, marketplace_id, sku, limit=limit))
    low = start or HISTORY_EPOCH
    high = end or clock()
    if high < low:
        raise InvalidInput([("end", "end is before start")])
    return store.between(
        seller, marketplace_id, sku, low, high, limit=limit, next_token=next_token
    )
