"""Connecting a seller to the Repricer: notifications wiring, then the first listings sync.

``SellerConnector.connect(request)`` runs the whole connection for one
``SellerConnectRequested`` event, recording its progress on the seller's account
(``Account.repricer_connection``) after every step, so a retried run resumes:

1. **Destination** — one SQS destination per SP-API region for the stack's
   price-notifications queue, with the application's grantless token
   (``sellingpartnerapi::notifications``). Looked up first; created when missing; a 409
   from a concurrent run is answered by looking it up again.
2. **Subscriptions** — one per seller × region × type for ``ANY_OFFER_CHANGED``,
   ``B2B_ANY_OFFER_CHANGED`` and ``ORDER_CHANGE``, with the seller's own token,
   ``payloadVersion`` 1.0. An existing subscription is reused (``getSubscription``
   first; 409 → read it). ``ANY_OFFER_CHANGED`` is filtered to the connected
   marketplaces (optionally aggregated), ``ORDER_CHANGE`` to order status changes: the
   only types whose ``processingDirective`` Amazon supports.
3. **First sync** — per marketplace a ``GET_MERCHANT_LISTINGS_ALL_DATA`` report, polled
   until done (its id is recorded, so a retry polls the same report instead of asking for
   another), streamed row by row into the Listings table as *unconfigured* listings (no
   strategy) with the current price in their repricing state. A SKU that is already
   stored is never touched — configured or not — and every write is conditional on the
   SKU not existing, so a run racing the API cannot overwrite a strategy.

Permanent failures (no authorisation for the seller, Amazon refusing a request) end the
connection as ``failed`` with the reason; transient ones (throttling, 5xx, network) and
a report still in progress when the invocation's time runs out raise, and the retried
invocation continues where this one stopped.

AWS and SP-API access come in as adapters (:class:`SpApiClient`, the two repositories);
time and sleeping are injectable (by default :mod:`functions.core.clock`, so the local
stack's simulated time makes report polling free).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.core.accounts import (
    Account,
    ConnectionStatus,
    MarketplaceId,
    MarketplaceSync,
    RepricerConnection,
    SellerId,
    SyncStatus,
    UtcDatetime,
    account_id_for_seller,
)
from functions.core.clock import sleep as clock_sleep
from functions.core.clock import utc_now
from functions.core.marketplaces import Region, marketplace
from functions.core.money import Money
from functions.core.repositories.errors import AlreadyExists, ConcurrentModification
from functions.core.repositories.listings import Listing
from functions.core.spapi import (
    LwaAuthError,
    SpApiClientError,
    SpApiConflict,
    SpApiCredentialsError,
    SpApiNotFound,
)
from functions.reprice.logic.merchant_listings import (
    REPORT_TYPE,
    MerchantListing,
    parse_merchant_listings,
)
from functions.reprice.logic.state import RepricingState

logger = logging.getLogger(__name__)

NOTIFICATION_TYPES: tuple[str, ...] = ("ANY_OFFER_CHANGED", "B2B_ANY_OFFER_CHANGED", "ORDER_CHANGE")
PAYLOAD_VERSION = "1.0"
DETAIL_TYPE = "SellerConnectRequested"
EVENT_SOURCE = "sellerops.api"
_FINISHED = {"DONE", "CANCELLED", "FATAL"}
_SAVE_ATTEMPTS = 5


class ConnectRequest(BaseModel):
    """Detail of a ``SellerConnectRequested`` event (source ``sellerops.api``).

    ``request_id`` names the request (a retry carries the same one); without it the
    EventBridge event id is used.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    seller_id: SellerId
    marketplace_ids: tuple[MarketplaceId, ...] = Field(min_length=1)
    request_id: str | None = Field(default=None, min_length=1, max_length=128)
    requested_at: UtcDatetime | None = None


@dataclass(frozen=True, slots=True)
class ConnectSettings:
    """``destination_name``/``queue_arn``: the notifications destination (the stack's
    price-notifications queue). ``aggregation``: ``FiveMinutes``/``TenMinutes`` to
    aggregate ``ANY_OFFER_CHANGED``, None for every change. ``poll_seconds``: first wait
    between report polls (doubling up to ``max_poll_seconds``). ``reserve_seconds``: time
    kept back from the invocation's remaining time to save progress and return."""

    destination_name: str
    queue_arn: str
    aggregation: str | None = None
    poll_seconds: float = 10.0
    max_poll_seconds: float = 60.0
    reserve_seconds: float = 30.0
    write_batch: int = 200
    write_workers: int = 8


class AccountMissing(LookupError):
    """The seller has no account: nothing to record the connection on."""


class Superseded(RuntimeError):
    """A newer connect request replaced this one: this run stops, the newer one goes on."""


class SyncNotFinished(RuntimeError):
    """Time ran out before the sync finished; progress is saved and a retry resumes."""


class _Permanent(Exception):
    """A failure a retry cannot fix (recorded as the connection's ``error``)."""


class AccountStore(Protocol):
    def get(self, account_id: str) -> Account | None: ...

    def get_by_seller(self, seller_id: str) -> Account | None: ...

    def update(self, account: Account, expected_version: int) -> Account: ...


class ListingStore(Protocol):
    def list_for_marketplace(
        self, seller_id: str, marketplace_id: str, *, limit: int = 100,
        next_token: str | None = None,
    ) -> Any: ...

    def put_new(self, listing: Listing) -> Listing: ...


@dataclass(slots=True)
class SyncCounts:
    created: int = 0
    existing: int = 0
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def find_account(store: AccountStore, seller_id: str) -> Account | None:
    """The account the seller signed up with, else the one naming them as primary seller."""
    account = store.get(account_id_for_seller(seller_id))
    if account is not None and account.belongs_to(seller_id):
        return account
    return store.get_by_seller(seller_id)


def regions_of(marketplace_ids: Iterable[str]) -> dict[Region, list[str]]:
    """Marketplaces grouped by SP-API region, in the order given."""
    grouped: dict[Region, list[str]] = {}
    for marketplace_id in marketplace_ids:
        grouped.setdefault(marketplace(marketplace_id).region, []).append(marketplace_id)
    return grouped


def processing_directive(
    notification_type: str, marketplace_ids: list[str], aggregation: str | None = None
) -> dict[str, Any] | None:
    """The ``processingDirective`` of a subscription (only AOC and ORDER_CHANGE take one)."""
    if notification_type == "ANY_OFFER_CHANGED":
        event_filter: dict[str, Any] = {
            "eventFilterType": "ANY_OFFER_CHANGED",
            "marketplaceIds": list(marketplace_ids),
        }
        if aggregation:
            event_filter["aggregationSettings"] = {"aggregationTimePeriod": aggregation}
        return {"eventFilter": event_filter}
    if notification_type == "ORDER_CHANGE":
        return {
            "eventFilter": {
                "eventFilterType": "ORDER_CHANGE",
                "orderChangeTypes": ["OrderStatusChange"],
            }
        }
    return None


def unconfigured_listing(seller_id: str, marketplace_id: str, row: MerchantListing) -> Listing:
    """A synced listing: identity from the report, no strategy, current price in state."""
    currency = marketplace(marketplace_id).currency
    state = RepricingState(
        current_price=None if row.price is None else Money(row.price, currency),
        in_stock=row.in_stock,
    )
    return Listing(
        seller_id=seller_id,
        marketplace_id=marketplace_id,
        sku=row.sku,
        asin=row.asin,
        condition=row.condition,
        fulfillment=row.fulfillment,
        currency=currency,
        strategy={},
        state=state.model_dump(mode="json", exclude_defaults=True),
    )


class SellerConnector:
    """Runs connections. ``spapi``: an :class:`~functions.core.spapi.SpApiClient`;
    ``time_left()``: seconds the invocation may still run (Lambda's remaining time)."""

    def __init__(
        self,
        spapi: Any,
        accounts: AccountStore,
        listings: ListingStore,
        settings: ConnectSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = clock_sleep,
        time_left: Callable[[], float] = lambda: math.inf,
    ) -> None:
        self.spapi = spapi
        self.accounts = accounts
        self.listings = listings
        self.settings = settings
        self._clock = clock
        self._sleep = sleep
        self._time_left = time_left
        self._request_id: str | None = None  # the request this run works for

    # -- the flow ---------------------------------------------------------------------
    def connect(self, request: ConnectRequest) -> RepricerConnection:
        """Connect ``request.seller_id``; returns the connection as recorded.

        Raises :class:`AccountMissing`, :class:`Superseded` (a newer request took over),
        :class:`SyncNotFinished` (retry to resume) and
        transient SP-API/AWS errors (retry to resume); permanent failures are recorded
        and returned with status ``failed``.
        """
        seller_id = request.seller_id
        connection = self._start(request)
        self._request_id = connection.request_id
        if connection.status == ConnectionStatus.CONNECTED:
            logger.info("connection %s already complete", connection.request_id)
            return connection
        try:
            connection = self._subscribe(seller_id, connection)
            for marketplace_id in connection.marketplace_ids:
                connection = self._sync(seller_id, connection, marketplace_id)
        except _Permanent as error:
            failure = {"status": ConnectionStatus.FAILED, "error": str(error)[:1000]}
            return self._save(seller_id, lambda c: c.model_copy(update=failure))
        except (SyncNotFinished, Superseded):
            raise
        except Exception as error:
            # Transient: note it for whoever looks at the status, then let the retry resume.
            note = {"error": f"retrying after {type(error).__name__}: {error}"[:1000]}
            self._save(seller_id, lambda c: c.model_copy(update=note))
            raise
        failed = [s for s in connection.syncs if s.status == SyncStatus.FAILED]
        final = {
            "status": ConnectionStatus.FAILED if failed else ConnectionStatus.CONNECTED,
            "error": "; ".join(f"{s.marketplace_id}: {s.error}" for s in failed)[:1000] or None,
            "connected_at": None if failed else self._clock(),
        }
        return self._save(seller_id, lambda c: c.model_copy(update=final))

    def _start(self, request: ConnectRequest) -> RepricerConnection:
        request_id = request.request_id or uuid.uuid4().hex
        now = self._clock()

        def start(current: RepricerConnection | None) -> RepricerConnection:
            if current is not None and current.request_id == request_id:
                if current.status == ConnectionStatus.CONNECTED:
                    return current
                # A retry (or the record the API wrote): keep what is done, go on.
                return current.model_copy(
                    update={"status": ConnectionStatus.SUBSCRIBING, "error": None}
                )
            return RepricerConnection(
                request_id=request_id,
                status=ConnectionStatus.SUBSCRIBING,
                marketplace_ids=request.marketplace_ids,
                requested_at=request.requested_at or now,
                updated_at=now,
                subscriptions=dict(current.subscriptions) if current else {},
                syncs=tuple(MarketplaceSync(marketplace_id=m) for m in request.marketplace_ids),
            )

        return self._save(request.seller_id, start)

    def _subscribe(self, seller_id: str, connection: RepricerConnection) -> RepricerConnection:
        subscriptions = dict(connection.subscriptions)
        for region, marketplace_ids in regions_of(connection.marketplace_ids).items():
            destination_id = self._destination(region)
            seller_api = self.spapi.seller(seller_id, marketplace_ids[0])
            for notification_type in NOTIFICATION_TYPES:
                subscriptions[f"{region.value}:{notification_type}"] = self._subscription(
                    seller_api, notification_type, destination_id, marketplace_ids
                )
        return self._save(seller_id, lambda c: c.model_copy(update={
            "subscriptions": subscriptions, "status": ConnectionStatus.SYNCING,
        }))

    def _destination(self, region: Region) -> str:
        application = self.spapi.application(region)
        try:
            for destination in application.get_destinations().get("payload") or []:
                sqs = (destination.get("resource") or {}).get("sqs") or {}
                if sqs.get("arn") == self.settings.queue_arn:
                    return str(destination["destinationId"])
            # 409 (a concurrent run created it meanwhile) is looked up inside.
            return application.ensure_sqs_destination(
                self.settings.destination_name, self.settings.queue_arn
            )
        except (LwaAuthError, SpApiCredentialsError) as error:
            raise _Permanent(f"application credentials: {error}") from error
        except SpApiClientError as error:
            raise _Permanent(f"notification destination ({region.value}): {error}") from error

    def _subscription(
        self,
        seller_api: Any,
        notification_type: str,
        destination_id: str,
        marketplace_ids: list[str],
    ) -> str:
        try:
            existing = self._existing_subscription(seller_api, notification_type, destination_id)
            if existing is not None:
                return existing
            try:
                created = seller_api.create_subscription(
                    notification_type,
                    destination_id,
                    payload_version=PAYLOAD_VERSION,
                    processing_directive=processing_directive(
                        notification_type, marketplace_ids, self.settings.aggregation
                    ),
                )
                return str(created["payload"]["subscriptionId"])
            except SpApiConflict:
                again = self._existing_subscription(seller_api, notification_type, destination_id)
                if again is None:
                    raise
                return again
        except (LwaAuthError, SpApiCredentialsError) as error:
            raise _Permanent(f"seller authorisation: {error}") from error
        except SpApiClientError as error:
            raise _Permanent(f"{notification_type} subscription: {error}") from error

    @staticmethod
    def _existing_subscription(
        seller_api: Any, notification_type: str, destination_id: str
    ) -> str | None:
        try:
            payload = seller_api.get_subscription(notification_type).get("payload") or {}
        except SpApiNotFound:
            return None
        if payload.get("destinationId") not in (None, destination_id):
            # Subscribed by another deployment of this application: notifications go
            # there, not here. Amazon allows one subscription per type, so say so.
            logger.warning(
                "%s subscription %s delivers to destination %s, not this stack's %s",
                notification_type, payload.get("subscriptionId"),
                payload.get("destinationId"), destination_id,
            )
        subscription_id = payload.get("subscriptionId")
        return str(subscription_id) if subscription_id else None

    # -- first sync -------------------------------------------------------------------
    def _sync(
        self, seller_id: str, connection: RepricerConnection, marketplace_id: str
    ) -> RepricerConnection:
        sync = connection.sync_of(marketplace_id)
        if sync.status == SyncStatus.SYNCED:
            return connection
        seller_api = self.spapi.seller(seller_id, marketplace_id)
        try:
            if sync.report_id is None or sync.status == SyncStatus.FAILED:
                report_id = str(
                    seller_api.create_report(REPORT_TYPE, marketplace_ids=[marketplace_id])[
                        "reportId"
                    ]
                )
                sync = MarketplaceSync(
                    marketplace_id=marketplace_id, status=SyncStatus.REQUESTED, report_id=report_id
                )
                connection = self._save(seller_id, lambda c: c.with_sync(sync))
            report = self._wait_for_report(seller_api, str(sync.report_id))
            status = report.get("processingStatus")
            if status == "DONE":
                counts = self._import(
                    seller_id, marketplace_id, seller_api, str(report["reportDocumentId"])
                )
                done = sync.model_copy(update={
                    "status": SyncStatus.SYNCED, "created": counts.created,
                    "existing": counts.existing, "skipped": counts.skipped,
                    "finished_at": self._clock(), "error": None,
                })
                logger.info(
                    "synced %s %s: %d created, %d existing, %d skipped %s",
                    seller_id, marketplace_id, counts.created, counts.existing,
                    counts.skipped, counts.reasons or "",
                )
            elif status == "CANCELLED":
                # Amazon cancels a report that has nothing in it: no listings there.
                done = sync.model_copy(update={
                    "status": SyncStatus.SYNCED, "finished_at": self._clock(), "error": None,
                })
            else:
                done = sync.model_copy(update={
                    "status": SyncStatus.FAILED, "finished_at": self._clock(),
                    "error": f"Amazon could not produce report {sync.report_id} ({status})",
                })
        except (LwaAuthError, SpApiCredentialsError) as error:
            raise _Permanent(f"seller authorisation: {error}") from error
        except SpApiClientError as error:
            done = sync.model_copy(update={
                "status": SyncStatus.FAILED, "finished_at": self._clock(),
                "error": f"listings report: {error}"[:1000],
            })
        return self._save(seller_id, lambda c: c.with_sync(done))

    def _wait_for_report(self, seller_api: Any, report_id: str) -> dict[str, Any]:
        wait = self.settings.poll_seconds
        while True:
            report = seller_api.get_report(report_id)
            if report.get("processingStatus") in _FINISHED:
                return report
            if self._time_left() < wait + self.settings.reserve_seconds:
                status = report.get("processingStatus")
                raise SyncNotFinished(f"report {report_id} is still {status}")
            self._sleep(wait)
            wait = min(max(wait * 2, 1.0), self.settings.max_poll_seconds)

    def _known_skus(self, seller_id: str, marketplace_id: str) -> set[str]:
        skus: set[str] = set()
        token: str | None = None
        while True:
            page = self.listings.list_for_marketplace(
                seller_id, marketplace_id, limit=1000, next_token=token
            )
            skus.update(listing.sku for listing in page.items)
            token = page.next_token
            if not token:
                return skus

    def _import(
        self, seller_id: str, marketplace_id: str, seller_api: Any, document_id: str
    ) -> SyncCounts:
        counts = SyncCounts()
        known = self._known_skus(seller_id, marketplace_id)
        currency = marketplace(marketplace_id).currency
        batch: list[Listing] = []
        with (
            ThreadPoolExecutor(max_workers=self.settings.write_workers) as pool,
            seller_api.open_report_document(document_id) as stream,
        ):
            for row in parse_merchant_listings(stream, currency=currency):
                if not isinstance(row, MerchantListing):
                    counts.skip(row.reason)
                    continue
                if row.sku in known:
                    counts.existing += 1
                    continue
                try:
                    batch.append(unconfigured_listing(seller_id, marketplace_id, row))
                except (ValidationError, ValueError) as error:
                    counts.skip(_first_line(error))
                    continue
                known.add(row.sku)
                if len(batch) >= self.settings.write_batch:
                    self._write(pool, batch, counts)
                    batch = []
            self._write(pool, batch, counts)
        return counts

    def _write(self, pool: ThreadPoolExecutor, batch: list[Listing], counts: SyncCounts) -> None:
        if self._time_left() < self.settings.reserve_seconds:
            # What is written stays; the retry skips it (known SKUs) and writes the rest.
            raise SyncNotFinished("time ran out while writing listings")
        for created in pool.map(self._put_new, batch):
            if created:
                counts.created += 1
            else:
                counts.existing += 1

    def _put_new(self, listing: Listing) -> bool:
        try:
            self.listings.put_new(listing)
        except AlreadyExists:
            return False  # created meanwhile (the API, a concurrent run): never overwrite
        return True

    # -- progress ---------------------------------------------------------------------
    def _save(
        self,
        seller_id: str,
        change: Callable[[Any], RepricerConnection],
    ) -> RepricerConnection:
        """Apply ``change`` to the stored connection (``None`` if none) and write it back,
        re-reading on a concurrent write."""
        for attempt in range(_SAVE_ATTEMPTS):
            account = find_account(self.accounts, seller_id)
            if account is None:
                raise AccountMissing(f"seller {seller_id} has no account")
            current = account.repricer_connection
            if self._request_id is not None and (
                current is None or current.request_id != self._request_id
            ):
                raise Superseded(f"connect request {self._request_id} was replaced")
            changed = change(current)
            if current is not None and changed == current:
                return current
            changed = changed.model_copy(update={"updated_at": self._clock()})
            try:
                self.accounts.update(
                    account.evolve(repricer_connection=changed), account.version
                )
                return changed
            except ConcurrentModification:
                if attempt == _SAVE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")


def _first_line(error: Exception) -> str:
    """A short reason for a row that did not make a valid listing."""
    if isinstance(error, ValidationError):
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
    text = str(error).strip().splitlines()
    return text[0].strip() if text else type(error).__name__
