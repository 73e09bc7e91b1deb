"""Price publishing: decided prices → Amazon, inside the seller's SP-API quotas.

Two services, both called by thin handlers and by the benchmark:

- :class:`Publisher` (``PublishPricesFunction``, one seller's FIFO message group at a
  time): coalesce (latest per SKU), apply the kill switch and the dry-run/paused switches
  (re-read now, not at decision time), send urgent prices at once with
  ``patchListingsItem`` and put the rest into the seller's feed buffer, which is flushed as
  one ``JSON_LISTINGS_FEED`` when it is due and the seller's feed quota allows. Every
  outcome goes to PriceHistory (kind ``submission``).
- :class:`FeedTracker` (``FeedResultsFunction``, every five minutes): poll unfinished
  feeds, read the processing report of finished ones, record per-SKU results (kind
  ``submission_result``), put retryable failures back on the queue (bounded attempts),
  close the feed; and ask the publisher, through the FIFO queue, to flush buffers that
  waited long enough.

Adapters (SP-API, tables, queue) are passed in; the defaults for Lambda are built by
:func:`build_publisher` / :func:`build_tracker`. docs/PUBLISHING.md explains the design.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from functions.core.clock import utc_now
from functions.core.repositories.dynamo import iso_utc, parse_utc
from functions.core.repositories.feed_submissions import (
    FeedBuffer,
    FeedMessage,
    FeedSubmission,
    FeedSubmissionsRepository,
    StagedUpdate,
)
from functions.core.settings import BaseConfig
from functions.core.spapi import (
    JSON_CONTENT_TYPE,
    LwaAuthError,
    SellerApi,
    SpApiClientError,
    SpApiConnectionError,
    SpApiCredentialsError,
    SpApiError,
    SpApiNotFound,
    SpApiResponse,
    SpApiServerError,
    SpApiThrottled,
)
from functions.reprice.logic.submission import (
    FEED_TYPE,
    MAX_FEED_MESSAGES,
    PRODUCT_TYPE,
    as_retry,
    attempt_of,
    build_feeds,
    describe,
    listing_patches,
    next_feed_at,
    parse_processing_report,
)
from functions.reprice.price_update import PriceUpdate, coalesce

logger = logging.getLogger(__name__)

SUBMISSION = "submission"
SUBMISSION_RESULT = "submission_result"
# Errors after which the same request may succeed later: the record goes back to the
# queue. LWA/credential errors are included: a rotated secret or an outage heals, a
# revoked authorisation ends in the DLQ after the queue's retries.
RETRY_LATER = (SpApiThrottled, SpApiServerError, SpApiConnectionError, LwaAuthError,
               SpApiCredentialsError)
FINISHED = frozenset({"DONE", "FATAL", "CANCELLED"})

Key = tuple[str, str, str]  # seller, marketplace, sku


# -- configuration ------------------------------------------------------------------------------
class PublishingConfig(BaseConfig):
    """Environment of the publishing functions (defaults are the documented policy)."""

    repricer_kill_switch: bool = False
    publish_feed_window_seconds: float = Field(default=0, ge=0)
    publish_feed_interval_seconds: float = Field(default=120, ge=0)
    publish_feed_max_messages: int = Field(default=MAX_FEED_MESSAGES, ge=1, le=MAX_FEED_MESSAGES)
    publish_max_attempts: int = Field(default=3, ge=1, le=20)
    publish_patch_max_wait_seconds: float = Field(default=3, ge=0)
    publish_feed_max_age_hours: float = Field(default=24, gt=0)


@dataclass(frozen=True, slots=True)
class PublishingPolicy:
    """The knobs of publishing, as values (see :class:`PublishingConfig`).

    ``feed_window``: how long a non-urgent price may wait to be batched with others;
    ``feed_interval``: at most one feed per seller per interval (≥ 120 s keeps inside
    Amazon's createFeed rate and 5 feeds / 5 min); ``max_attempts``: submissions of one
    price before giving up on a retryable feed failure.
    """

    kill_switch: bool = False
    feed_window: timedelta = timedelta(0)
    feed_interval: timedelta = timedelta(seconds=120)
    feed_max_messages: int = MAX_FEED_MESSAGES
    max_attempts: int = 3
    feed_max_age: timedelta = timedelta(hours=24)

    @classmethod
    def from_config(cls, config: PublishingConfig) -> PublishingPolicy:
        return cls(
            kill_switch=config.repricer_kill_switch,
            feed_window=timedelta(seconds=config.publish_feed_window_seconds),
            feed_interval=timedelta(seconds=config.publish_feed_interval_seconds),
            feed_max_messages=config.publish_feed_max_messages,
            max_attempts=config.publish_max_attempts,
            feed_max_age=timedelta(hours=config.publish_feed_max_age_hours),
        )


# -- the flush request (a control message on the FIFO queue) --------------------------------------
class FlushRequest(BaseModel):
    """"Flush this seller's feed buffer": sent by the schedule into the seller's FIFO
    message group, so feeds are created only by the publisher, one at a time per seller."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["flush_feed"] = "flush_feed"
    seller_id: str = Field(min_length=1)
    marketplace_id: str = Field(min_length=1)
    requested_at: AwareDatetime

    def to_message(self) -> str:
        return self.model_dump_json()

    def deduplication_id(self) -> str:
        minute = self.requested_at.strftime("%Y%m%d%H%M")
        raw = f"flush|{self.seller_id}|{self.marketplace_id}|{minute}"
        return hashlib.sha256(raw.encode()).hexdigest()[:64]


def parse_message(body: str) -> PriceUpdate | FlushRequest:
    """A price-updates queue body: a :class:`PriceUpdate` or a :class:`FlushRequest`.

    Raises ``ValueError`` (pydantic's ``ValidationError`` is one) for anything else.
    """
    if '"flush_feed"' in body:
        try:
            return FlushRequest.model_validate_json(body)
        except ValidationError:
            pass
    return PriceUpdate.from_message(body)


# -- ports -------------------------------------------------------------------------------------
class HistoryLog(Protocol):
    def write(self, records: Sequence[HistoryRecord]) -> None: ...


class Switches(Protocol):
    def seller(self, seller_id: str) -> SellerSwitches: ...

    def listings(
        self, seller_id: str, marketplace_id: str, skus: Sequence[str]
    ) -> Mapping[str, ListingSwitches]: ...


class UpdateQueue(Protocol):
    def send(self, updates: Sequence[PriceUpdate]) -> None: ...

    def request_flush(self, request: FlushRequest) -> None: ...


SellerApis = Callable[[str, str], SellerApi]


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    seller_id: str
    marketplace_id: str
    sku: str
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SellerSwitches:
    """The seller's switches from the Accounts table (``known``: an account exists)."""

    known: bool
    paused: bool = False
    dry_run: bool = True


@dataclass(frozen=True, slots=True)
class ListingSwitches:
    paused: bool = False
    dry_run: bool = False
    last_change_at: datetime | None = None


@dataclass
class PublishResult:
    """What one :meth:`Publisher.publish` call did. ``failed``: update keys whose queue
    records must be returned as failures (they come back through the queue)."""

    failed: set[Key] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    feeds: list[str] = field(default_factory=list)
    submitted: dict[Key, str] = field(default_factory=dict)  # key → "patch" | feed id


# -- the publisher ----------------------------------------------------------------------------
class Publisher:
    """Submits price updates for whatever sellers a batch holds (normally one).

    ``apis(seller_id, marketplace_id)`` gives the SP-API client scoped to a seller;
    ``feeds`` is the FeedSubmissions repository (or a fake with its methods).
    """

    def __init__(
        self,
        *,
        apis: SellerApis,
        feeds: FeedSubmissionsRepository,
        history: HistoryLog,
        switches: Switches,
        policy: PublishingPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.apis = apis
        self.feeds = feeds
        self.history = history
        self.switches = switches
        self.policy = policy or PublishingPolicy()
        self.clock = clock

    def publish(
        self,
        updates: Sequence[PriceUpdate],
        *,
        flush: Iterable[tuple[str, str]] = (),
    ) -> PublishResult:
        """Submit ``updates`` (coalesced first) and flush the buffers named in ``flush``
        (seller id, marketplace id) if the seller's feed quota allows."""
        result = PublishResult()
        groups: dict[tuple[str, str], list[PriceUpdate]] = {}
        for update in coalesce(list(updates)):
            groups.setdefault((update.seller_id, update.marketplace_id), []).append(update)
        flushes = list(dict.fromkeys(flush))
        for key in [*groups, *(k for k in flushes if k not in groups)]:
            self._publish_group(key[0], key[1], groups.get(key, []), key in flushes, result)
        return result

    # -- one seller × marketplace ---------------------------------------------------------
    def _publish_group(
        self,
        seller_id: str,
        marketplace_id: str,
        updates: list[PriceUpdate],
        flush_requested: bool,
        result: PublishResult,
    ) -> None:
        records: list[HistoryRecord] = []
        try:
            sendable = self._screen(seller_id, marketplace_id, updates, records, result)
            urgent = [u for u in sendable if u.urgent]
            later = [u for u in sendable if not u.urgent]
            if urgent:
                overflow = self._patch(seller_id, marketplace_id, urgent, records, result)
                later = overflow + later
                patched = {u.sku: decided_key(u) for u in urgent
                           if result.submitted.get(u.key) == "patch"}
                if patched:
                    # An older price still waiting for a feed must not undo the patch.
                    self.feeds.drop_staged(seller_id, marketplace_id, patched)
            buffer: FeedBuffer | None = None
            if later:
                buffer = self._stage(later, records, result)
            if flush_requested or buffer is not None:
                self._maybe_flush(seller_id, marketplace_id, buffer, flush_requested, result)
        finally:
            if records:
                self.history.write(records)

    def _screen(
        self,
        seller_id: str,
        marketplace_id: str,
        updates: Sequence[PriceUpdate],
        records: list[HistoryRecord],
        result: PublishResult,
    ) -> list[PriceUpdate]:
        """The updates that may be submitted now; the others are recorded with why not.

        Order of the switches: kill switch (stack), seller paused / dry run (account,
        dry run when no account exists), listing paused / dry run, a retry already
        replaced by a newer decision.
        """
        if not updates:
            return []
        if self.policy.kill_switch:
            for update in updates:
                self._not_sent(update, "kill_switch", "kill switch: not submitted",
                               records, result)
            return []
        seller = self.switches.seller(seller_id)
        if not seller.known:
            reason = "no account for this seller: treated as dry run"
            for update in updates:
                self._not_sent(update, "dry_run", reason, records, result)
            return []
        if seller.paused or seller.dry_run:
            status = "paused" if seller.paused else "dry_run"
            for update in updates:
                self._not_sent(update, status, f"seller {status.replace('_', ' ')}",
                               records, result)
            return []
        listings = self.switches.listings(seller_id, marketplace_id, [u.sku for u in updates])
        sendable = []
        for update in updates:
            switches = listings.get(update.sku)
            if switches is None:
                self._not_sent(update, "skipped", "listing not found", records, result)
            elif switches.paused:
                self._not_sent(update, "paused", "listing paused", records, result)
            elif switches.dry_run:
                self._not_sent(update, "dry_run", "listing dry run", records, result)
            elif (
                attempt_of(update) > 0
                and switches.last_change_at is not None
                and switches.last_change_at > update.decided_at
            ):
                self._not_sent(update, "superseded", "a newer decision replaced this retry",
                               records, result)
            else:
                sendable.append(update)
        return sendable

    def _not_sent(
        self,
        update: PriceUpdate,
        status: str,
        reason: str,
        records: list[HistoryRecord],
        result: PublishResult,
    ) -> None:
        result.counts[status] += 1
        records.append(_record(update, SUBMISSION, {"status": status, "note": reason,
                                                    **describe(update)}))

    # -- urgent: patchListingsItem ----------------------------------------------------------
    def _patch(
        self,
        seller_id: str,
        marketplace_id: str,
        updates: Sequence[PriceUpdate],
        records: list[HistoryRecord],
        result: PublishResult,
    ) -> list[PriceUpdate]:
        """Patch each update; returns the overflow: updates left for the feed because the
        seller's patch budget is spent (the client would have had to wait longer than
        its ``max_wait``; nothing was sent to Amazon for them)."""
        api = self.apis(seller_id, marketplace_id)
        stop: SpApiError | None = None
        overflow: list[PriceUpdate] = []
        for update in updates:
            base = {"via": "patch", **describe(update)}
            if overflow:
                overflow.append(update)
                continue
            if stop is not None:
                # The seller's quota or authorisation just failed: the rest would too.
                result.failed.add(update.key)
                result.counts["retrying"] += 1
                records.append(_record(update, SUBMISSION, {
                    "status": "retrying", "error": _error_text(stop), **base}))
                continue
            try:
                response = patch_price(api, update)
            except RETRY_LATER as error:
                if isinstance(error, SpApiThrottled) and error.status is None:
                    overflow.append(update)  # refused by our own limiter: never sent
                    continue
                stop = error
                result.failed.add(update.key)
                result.counts["retrying"] += 1
                records.append(_record(update, SUBMISSION, {
                    "status": "retrying", "error": _error_text(error),
                    "request_id": error.request_id, **base}))
                logger.warning("patch %s deferred: %s", update.sku, error)
                continue
            except SpApiClientError as error:
                result.counts["rejected"] += 1
                records.append(_record(update, SUBMISSION, {
                    "status": "rejected", "error": _error_text(error),
                    "request_id": error.request_id, **base}))
                logger.warning("patch %s rejected: %s", update.sku, error)
                continue
            body = response.json()
            amazon_status = str(body.get("status") or "")
            payload = {"request_id": response.request_id, "amazon_status": amazon_status,
                       "submission_id": body.get("submissionId"), **base}
            if amazon_status == "INVALID":
                result.counts["rejected"] += 1
                payload["status"] = "rejected"
                payload["issues"] = _issues(body.get("issues"))
            else:
                result.counts["patched"] += 1
                result.submitted[update.key] = "patch"
                payload["status"] = "submitted"
            records.append(_record(update, SUBMISSION, payload))
        if overflow:
            result.counts["patch_overflow"] += len(overflow)
            logger.info("patch budget spent: %d urgent update(s) join the feed", len(overflow))
        return overflow

    # -- the rest: the seller's feed buffer ---------------------------------------------------
    def _stage(
        self,
        updates: Sequence[PriceUpdate],
        records: list[HistoryRecord],
        result: PublishResult,
    ) -> FeedBuffer | None:
        now = self.clock()
        staged = [
            StagedUpdate(
                seller_id=u.seller_id, marketplace_id=u.marketplace_id, sku=u.sku,
                body=u.to_message(), decided_key=decided_key(u), staged_at=now,
            )
            for u in updates
        ]
        stored, buffer = self.feeds.stage(staged, check_at=now + self.policy.feed_window)
        kept = {s.sku for s in stored}
        for update in updates:
            if update.sku in kept:
                result.counts["staged"] += 1
            else:
                self._not_sent(update, "superseded", "a newer decision is already waiting",
                               records, result)
        return buffer

    def _maybe_flush(
        self,
        seller_id: str,
        marketplace_id: str,
        buffer: FeedBuffer | None,
        requested: bool,
        result: PublishResult,
    ) -> None:
        now = self.clock()
        if buffer is None:
            buffer = self.feeds.buffer(seller_id, marketplace_id)
        if buffer.empty:
            return
        assert buffer.staged_since is not None
        due = (
            requested
            or buffer.staged_count >= self.policy.feed_max_messages
            or now >= buffer.staged_since + self.policy.feed_window
        )
        if not due:
            return
        allowed_at = next_feed_at(
            self.feeds.last_feed_at(seller_id), min_interval=self.policy.feed_interval
        )
        if allowed_at is not None and now < allowed_at:
            result.counts["flush_waiting_for_quota"] += 1
            return
        self.flush(seller_id, marketplace_id, result)

    def flush(self, seller_id: str, marketplace_id: str, result: PublishResult) -> str | None:
        """Send the buffer as one feed now (quota permitting is the caller's business).

        Returns Amazon's feed id, or None when nothing was sent.
        """
        limit = self.policy.feed_max_messages
        staged = self.feeds.staged(seller_id, marketplace_id, limit=limit + 1)
        remaining = len(staged) > limit
        staged = staged[:limit]
        if not staged:
            self.feeds.unstage(seller_id, marketplace_id, [], next_check_at=None)
            return None
        records: list[HistoryRecord] = []
        updates: list[PriceUpdate] = []
        consumed: list[str] = []
        for item in staged:
            consumed.append(item.sku)
            try:
                updates.append(PriceUpdate.from_message(item.body))
            except ValueError:  # cannot happen for what stage() stored; drop, do not loop
                logger.error("dropping unreadable staged update for %s", item.sku)
        try:
            sendable = self._screen(seller_id, marketplace_id, updates, records, result)
            feed_id = None
            if sendable:
                feeds = build_feeds(sendable, max_messages=limit)
                if len(feeds) > 1:  # over the size limit: the rest waits for the next feed
                    remaining = True
                    later = {u.sku for document in feeds[1:] for u in document.messages}
                    consumed = [sku for sku in consumed if sku not in later]
                feed_id = self._submit_feed(feeds[0], records, result)
                if feed_id is None:
                    return None  # nothing consumed: the buffer stays as it is
            now = self.clock()
            self.feeds.unstage(
                seller_id, marketplace_id, consumed,
                next_check_at=(now + self.policy.feed_interval) if remaining else None,
            )
            return feed_id or None
        finally:
            if records:
                self.history.write(records)

    def _submit_feed(
        self,
        document: Any,
        records: list[HistoryRecord],
        result: PublishResult,
    ) -> str | None:
        seller_id, marketplace_id = document.seller_id, document.marketplace_id
        api = self.apis(seller_id, marketplace_id)
        try:
            created = api.create_feed_document(JSON_CONTENT_TYPE)
            api.upload_feed_document(created["url"], document.content,
                                     content_type=JSON_CONTENT_TYPE)
            response = api.call("createFeed", body={
                "feedType": FEED_TYPE,
                "marketplaceIds": [marketplace_id],
                "inputFeedDocumentId": created["feedDocumentId"],
            })
        except RETRY_LATER as error:
            # Staged updates stay staged; the next flush (or schedule) tries again.
            result.counts["feed_deferred"] += 1
            logger.warning("feed for %s deferred: %s", seller_id, error)
            return None
        except SpApiClientError as error:
            # Amazon refused the feed itself (not one message): sending the same again
            # would fail again. Record every price as rejected and drop them.
            for update in document.messages:
                result.counts["rejected"] += 1
                records.append(_record(update, SUBMISSION, {
                    "status": "rejected", "via": "feed", "error": _error_text(error),
                    "request_id": error.request_id, **describe(update)}))
            logger.error("feed for %s rejected: %s", seller_id, error)
            return ""
        now = self.clock()
        feed_id = str(response.json()["feedId"])
        self.feeds.set_last_feed_at(seller_id, now)
        messages = [
            FeedMessage(message_id=message_id, sku=update.sku, attempt=attempt_of(update),
                        body=update.to_message())
            for message_id, update in document.message_ids().items()
        ]
        self.feeds.save(
            FeedSubmission(
                seller_id=seller_id, feed_id=feed_id, marketplace_id=marketplace_id,
                document_id=created["feedDocumentId"], status="IN_QUEUE",
                submitted_at=now, message_count=len(messages), check_at=now,
            ),
            messages,
        )
        for message_id, update in document.message_ids().items():
            result.counts["fed"] += 1
            result.submitted[update.key] = feed_id
            records.append(_record(update, SUBMISSION, {
                "status": "submitted", "via": "feed", "feed_id": feed_id,
                "message_id": message_id, "request_id": response.request_id,
                **describe(update)}))
        result.feeds.append(feed_id)
        return feed_id


def patch_price(api: SellerApi, update: PriceUpdate) -> SpApiResponse:
    """``patchListingsItem`` with the merge patch of ``update`` (keeps the request id)."""
    return api.call(
        "patchListingsItem",
        path={"sellerId": api.seller_id, "sku": update.sku},
        query={"marketplaceIds": [update.marketplace_id]},
        body={"productType": PRODUCT_TYPE, "patches": listing_patches(update)},
    )


def decided_key(update: PriceUpdate) -> str:
    """Orders decisions of one SKU as text: decision time, then listing version."""
    return f"{iso_utc(update.decided_at)}#{update.sequence:012d}"


# -- the feed tracker -------------------------------------------------------------------------
class FeedTracker:
    """Follows submitted feeds to their processing reports; triggers due buffer flushes."""

    def __init__(
        self,
        *,
        apis: SellerApis,
        feeds: FeedSubmissionsRepository,
        history: HistoryLog,
        queue: UpdateQueue,
        policy: PublishingPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.apis = apis
        self.feeds = feeds
        self.history = history
        self.queue = queue
        self.policy = policy or PublishingPolicy()
        self.clock = clock

    def run(self) -> Counter[str]:
        """One schedule tick. Returns counts of what happened."""
        counts: Counter[str] = Counter()
        now = self.clock()
        throttled_sellers: set[str] = set()
        for submission in self.feeds.open_feeds(due_by=now):
            if submission.seller_id in throttled_sellers:
                counts["feeds_deferred"] += 1
                continue
            try:
                self.check(submission, counts)
            except RETRY_LATER as error:
                throttled_sellers.add(submission.seller_id)
                counts["feeds_deferred"] += 1
                logger.warning("feed %s not checked: %s", submission.feed_id, error)
        for buffer in self.feeds.due_buffers(due_by=now):
            self.queue.request_flush(FlushRequest(
                seller_id=buffer.seller_id, marketplace_id=buffer.marketplace_id,
                requested_at=now,
            ))
            counts["flush_requested"] += 1
        return counts

    def check(self, submission: FeedSubmission, counts: Counter[str]) -> str:
        """Poll one feed; when finished, record its results and close it. Returns the
        processing status seen."""
        now = self.clock()
        api = self.apis(submission.seller_id, submission.marketplace_id)
        too_old = now - submission.submitted_at >= self.policy.feed_max_age
        try:
            feed = api.get_feed(submission.feed_id)
            status = str(feed.get("processingStatus") or "")
        except SpApiNotFound:
            feed, status = {}, "CANCELLED"
        except SpApiClientError as error:
            if not too_old:
                # Odd (our own feed refused): keep it open, try again next run.
                logger.error("feed %s: %s", submission.feed_id, error)
                counts["feeds_error"] += 1
                self.feeds.touch(submission, status=submission.status, check_at=now)
                return submission.status
            feed, status = {}, "CANCELLED"
        if status not in FINISHED:
            if not too_old:
                self.feeds.touch(submission, status=status or submission.status, check_at=now)
                counts["feeds_pending"] += 1
                return status
            status = "CANCELLED"  # no result after a day: treat as lost, send again
        messages = self.feeds.messages(submission)
        report = None
        if status == "DONE" and feed.get("resultFeedDocumentId"):
            try:
                raw = api.get_feed_result(str(feed["resultFeedDocumentId"]))
                report = parse_processing_report(raw, [m.message_id for m in messages])
            except (SpApiClientError, ValueError) as error:
                if not too_old:
                    logger.error("feed %s report unreadable: %s", submission.feed_id, error)
                    counts["feeds_error"] += 1
                    self.feeds.touch(submission, status=status, check_at=now)
                    return status
                report = None  # no report after a day: send every message again
        records: list[HistoryRecord] = []
        retries: list[PriceUpdate] = []
        tally: Counter[str] = Counter()
        for message in messages:
            try:
                update = PriceUpdate.from_message(message.body)
            except ValueError:
                logger.error("feed %s message %s unreadable", submission.feed_id,
                             message.message_id)
                continue
            base = {"feed_id": submission.feed_id, "message_id": message.message_id,
                    "feed_status": status, "attempt": message.attempt + 1,
                    **describe(update)}
            if report is not None:
                outcome = report.result(message.message_id)
                if outcome.accepted:
                    tally["accepted"] += 1
                    payload = {"status": "accepted", **base}
                    if outcome.warnings:
                        payload["warnings"] = [w.as_dict() for w in outcome.warnings]
                    records.append(_record(update, SUBMISSION_RESULT, payload))
                    continue
                retryable = outcome.retryable
                issues = [e.as_dict() for e in outcome.errors]
            else:
                retryable = True
                issues = [{"severity": "ERROR", "message": f"feed {status}"}]
            payload = {"status": "failed", "issues": issues, **base}
            if retryable and message.attempt + 1 < self.policy.max_attempts:
                retries.append(as_retry(update, message.attempt + 1))
                payload["retry"] = True
                tally["retried"] += 1
            else:
                payload["retry"] = False
                if retryable:
                    payload["note"] = f"gave up after {message.attempt + 1} attempts"
                tally["failed"] += 1
            records.append(_record(update, SUBMISSION_RESULT, payload))
        if records:
            self.history.write(records)
        if retries:
            self.queue.send(retries)
        summary = {"accepted": tally["accepted"], "failed": tally["failed"],
                   "retried": tally["retried"], "messages": len(messages)}
        if self.feeds.close(submission, status=status, result=summary):
            counts.update({f"messages_{k}": v for k, v in tally.items()})
            counts[f"feeds_{status.lower()}"] += 1
        return status


# -- adapters for Lambda ------------------------------------------------------------------------
def _record(update: PriceUpdate, kind: str, payload: dict[str, Any]) -> HistoryRecord:
    clean = {k: v for k, v in payload.items() if v is not None}
    return HistoryRecord(update.seller_id, update.marketplace_id, update.sku, kind, clean)


def _error_text(error: BaseException) -> str:
    text = str(error)
    return text[:500]


def _issues(raw: Any) -> list[dict[str, str]]:
    out = []
    for issue in raw or []:
        if isinstance(issue, Mapping):
            out.append({k: str(issue[k])[:300] for k in ("code", "severity", "message")
                        if issue.get(k) is not None})
    return out


class PriceHistoryLog:
    """:class:`HistoryLog` on the PriceHistory repository (batched writes)."""

    def __init__(self, repository: Any) -> None:
        self.repository = repository

    def write(self, records: Sequence[HistoryRecord]) -> None:
        entries = [
            self.repository.new_entry(r.seller_id, r.marketplace_id, r.sku, r.kind,
                                      _no_floats(r.payload))
            for r in records
        ]
        # A feed's worth of entries (up to 25,000) is written by parallel batches.
        _in_parallel(self.repository.append_many,
                     [entries[i:i + 500] for i in range(0, len(entries), 500)])


def _no_floats(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): _no_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_floats(v) for v in value]
    return value


class TableSwitches:
    """:class:`Switches` read from the Accounts and Listings tables, fresh on every call."""

    def __init__(self, accounts: Any, listings: Any) -> None:
        self.accounts = accounts
        self.listings_repository = listings

    def seller(self, seller_id: str) -> SellerSwitches:
        account = self.accounts.get_by_seller(seller_id)
        if account is None:
            return SellerSwitches(known=False)
        # getattr: the switches are newer than the Account model of older deployments.
        return SellerSwitches(
            known=True,
            paused=bool(getattr(account, "repricer_paused", False)),
            dry_run=bool(getattr(account, "repricer_dry_run", True)),
        )

    def listings(
        self, seller_id: str, marketplace_id: str, skus: Sequence[str]
    ) -> dict[str, ListingSwitches]:
        from functions.core.repositories.dynamo import from_item
        from functions.core.repositories.listings import listing_pk, load_json_attribute

        repo = self.listings_repository
        pk = listing_pk(seller_id, marketplace_id)
        wanted = list(dict.fromkeys(skus))
        found: dict[str, ListingSwitches] = {}

        def read(chunk: list[str]) -> None:
            keys = [{"pk": {"S": pk}, "sku": {"S": sku}} for sku in chunk]
            request: dict[str, Any] = {repo.table_name: {
                "Keys": keys,
                "ConsistentRead": True,
                "ProjectionExpression": "sku, paused, dry_run, #st",
                "ExpressionAttributeNames": {"#st": "state"},
            }}
            for _attempt in range(8):
                response = repo.client.batch_get_item(RequestItems=request)
                for raw in response.get("Responses", {}).get(repo.table_name, []):
                    values = from_item(raw)
                    changed = load_json_attribute(values.get("state")).get("last_change_at")
                    found[values["sku"]] = ListingSwitches(
                        paused=bool(values.get("paused", False)),
                        dry_run=bool(values.get("dry_run", False)),
                        last_change_at=_parse_time(changed),
                    )
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    return
                time.sleep(min(0.05 * 2**_attempt, 1.0))
            raise RuntimeError("listings: DynamoDB left keys unprocessed")

        _in_parallel(read, [wanted[i:i + 100] for i in range(0, len(wanted), 100)])
        return found


def _in_parallel(function: Callable[[Any], Any], chunks: Sequence[Any]) -> None:
    """``function(chunk)`` for every chunk; several chunks on a small thread pool."""
    if len(chunks) <= 1:
        for chunk in chunks:
            function(chunk)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(8, len(chunks))) as pool:
        for _ in pool.map(function, chunks):
            pass


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_utc(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class SqsUpdateQueue:
    """:class:`UpdateQueue` on the FIFO price-updates queue (message group = seller).

    Price updates go through the producers' sender (:mod:`functions.reprice.updates`),
    so retries are enqueued exactly like fresh decisions.
    """

    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        from functions.reprice.updates import SqsPriceUpdateSender

        self.sender = SqsPriceUpdateSender(queue_url, client=client)
        self.queue_url = queue_url

    def send(self, updates: Sequence[PriceUpdate]) -> None:
        failed = self.sender.send(updates)
        if failed:
            raise RuntimeError(f"{len(failed)} price update(s) could not be enqueued again")

    def request_flush(self, request: FlushRequest) -> None:
        self.sender.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=request.to_message(),
            MessageGroupId=request.seller_id,
            MessageDeduplicationId=request.deduplication_id(),
        )


class QueueConfig(BaseConfig):
    price_updates_queue_url: str


def seller_apis(client: Any) -> SellerApis:
    """``(seller, marketplace) → SellerApi`` on one shared :class:`SpApiClient`."""
    return client.seller


def build_publisher(
    *, client: Any, policy: PublishingPolicy | None = None
) -> Publisher:
    """The Lambda wiring: tables from the environment, ``client`` the SP-API client."""
    from functions.core.repositories.accounts import AccountRepository
    from functions.core.repositories.listings import ListingRepository
    from functions.core.repositories.price_history import PriceHistoryRepository
    from functions.core.settings import load_settings

    return Publisher(
        apis=seller_apis(client),
        feeds=FeedSubmissionsRepository.from_settings(),
        history=PriceHistoryLog(PriceHistoryRepository.from_settings()),
        switches=TableSwitches(AccountRepository.from_settings(),
                               ListingRepository.from_settings()),
        policy=policy or PublishingPolicy.from_config(load_settings(PublishingConfig)),
    )


def build_tracker(
    *, client: Any, policy: PublishingPolicy | None = None
) -> FeedTracker:
    from functions.core.repositories.price_history import PriceHistoryRepository
    from functions.core.settings import load_settings

    return FeedTracker(
        apis=seller_apis(client),
        feeds=FeedSubmissionsRepository.from_settings(),
        history=PriceHistoryLog(PriceHistoryRepository.from_settings()),
        queue=SqsUpdateQueue(load_settings(QueueConfig).price_updates_queue_url),
        policy=policy or PublishingPolicy.from_config(load_settings(PublishingConfig)),
    )
