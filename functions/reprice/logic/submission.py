"""Price submissions to Amazon as data: listing patches, JSON_LISTINGS_FEED documents,
processing reports. Pure: no AWS, no HTTP, no clock.

Every submission is a JSON **merge** patch of ``/attributes/purchasable_offer`` (repricing.md
§4.1), never a replace, so the listing's other attributes and the offer's other keys stay
as they are. The consumer (``audience: ALL``) entry always carries the configured bounds as
``minimum_seller_allowed_price`` / ``maximum_seller_allowed_price`` next to ``our_price``:
Amazon suppresses an offer whose price is outside the bounds it holds, so the bounds travel
with every price instead of being synchronised separately. A business price adds the
``audience: B2B`` entry (same bounds; quantity tiers as a fixed-price
``quantity_discount_plan``).

Prices are :class:`~decimal.Decimal` all the way: :func:`encode_feed` writes them as JSON
numbers with their exact digits (``18.90`` stays ``18.90``), never through ``float``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from functions.core.money import Money
from functions.core.spapi.transport import encode_json
from functions.reprice.price_update import PriceUpdate

PURCHASABLE_OFFER_PATH = "/attributes/purchasable_offer"
# Offer-only changes do not depend on the item's real product type; Amazon accepts the
# generic "PRODUCT" for them (repricing.md §4.1).
PRODUCT_TYPE = "PRODUCT"
FEED_TYPE = "JSON_LISTINGS_FEED"
FEED_VERSION = "2.0"
FEED_ISSUE_LOCALE = "en_US"
# Amazon's limits for one JSON_LISTINGS_FEED (repricing.md §4.2, changelog 2025-05-06).
MAX_FEED_MESSAGES = 25_000
MAX_FEED_BYTES = 10 * 1024 * 1024  # the document must stay *below* 10 MiB
# quantity_discount_plan levels accepted per schedule (repricing.md §4.1, unverified).
MAX_DISCOUNT_LEVELS = 5


# -- patches ------------------------------------------------------------------------------
def _schedule(amount: Decimal) -> list[dict[str, Any]]:
    return [{"schedule": [{"value_with_tax": amount}]}]


def _entry(update: PriceUpdate, audience: str, price: Money) -> dict[str, Any]:
    _check_currency(update, price)
    return {
        "marketplace_id": update.marketplace_id,
        "currency": price.currency,
        "audience": audience,
        "our_price": _schedule(price.amount),
        "minimum_seller_allowed_price": _schedule(update.min_price.amount),
        "maximum_seller_allowed_price": _schedule(update.max_price.amount),
    }


def _check_currency(update: PriceUpdate, price: Money) -> None:
    currencies = {price.currency, update.min_price.currency, update.max_price.currency}
    if len(currencies) != 1:
        raise ValueError(
            f"{update.sku}: price and bounds in different currencies {sorted(currencies)}"
        )


def purchasable_offer(update: PriceUpdate) -> list[dict[str, Any]]:
    """The ``purchasable_offer`` entries of a price update (B2C first, then B2B if any).

    Quantity tiers become a ``fixed`` discount plan (``value`` = the unit price from
    ``lower_bound`` units on), lowest quantities first, at most
    :data:`MAX_DISCOUNT_LEVELS` levels.
    """
    entries = [_entry(update, "ALL", update.price)]
    if update.business_price is not None:
        b2b = _entry(update, "B2B", update.business_price)
        tiers = sorted(update.quantity_tiers, key=lambda t: t.quantity)[:MAX_DISCOUNT_LEVELS]
        if tiers:
            for tier in tiers:
                _check_currency(update, tier.price)
            b2b["quantity_discount_plan"] = [
                {
                    "schedule": [
                        {
                            "discount_type": "fixed",
                            "levels": [
                                {"lower_bound": tier.quantity, "value": tier.price.amount}
                                for tier in tiers
                            ],
                        }
                    ]
                }
            ]
        entries.append(b2b)
    return entries


def listing_patches(update: PriceUpdate) -> list[dict[str, Any]]:
    """The ``patches`` of ``patchListingsItem`` / a feed message: one merge patch."""
    return [{"op": "merge", "path": PURCHASABLE_OFFER_PATH, "value": purchasable_offer(update)}]


def feed_message(update: PriceUpdate, message_id: int) -> dict[str, Any]:
    """One ``PATCH`` message of a JSON_LISTINGS_FEED (``messageId`` ≥ 1, unique per feed)."""
    if message_id < 1:
        raise ValueError("messageId must be at least 1")
    return {
        "messageId": message_id,
        "sku": update.sku,
        "operationType": "PATCH",
        "productType": PRODUCT_TYPE,
        "patches": listing_patches(update),
    }


# -- feed documents -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FeedDocument:
    """One JSON_LISTINGS_FEED ready to upload: its bytes and which update each message is.

    ``messages[i]`` is the update sent as ``messageId`` ``i + 1``.
    """

    seller_id: str
    marketplace_id: str
    content: bytes
    messages: tuple[PriceUpdate, ...]

    def message_ids(self) -> dict[int, PriceUpdate]:
        return {index + 1: update for index, update in enumerate(self.messages)}


class _ExactJson:
    """Compact UTF-8 JSON with Decimals as exact numbers, for many documents at once.

    Same technique as :func:`functions.core.spapi.transport.encode_json` (Decimals written
    as nonce-tagged strings, then unquoted), with the pattern compiled once: a 25,000
    message feed would otherwise compile 25,000 regular expressions.
    """

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(8)
        self.pattern = re.compile(f'"{self.nonce}(-?[0-9]+(?:\\.[0-9]+)?)"')

    def _default(self, obj: Any) -> Any:
        if isinstance(obj, Decimal):
            if not obj.is_finite():
                raise ValueError(f"cannot send non-finite number {obj} as JSON")
            return f"{self.nonce}{format(obj, 'f')}"
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    def __call__(self, value: Any) -> bytes:
        text = json.dumps(value, default=self._default, separators=(",", ":"),
                          ensure_ascii=False)
        return self.pattern.sub(r"\1", text).encode("utf-8")


def _header(seller_id: str) -> dict[str, Any]:
    return {"sellerId": seller_id, "version": FEED_VERSION, "issueLocale": FEED_ISSUE_LOCALE}


def encode_feed(seller_id: str, messages: Sequence[Mapping[str, Any]]) -> bytes:
    """The feed document (UTF-8 JSON, Decimals exact)."""
    return encode_json({"header": _header(seller_id), "messages": list(messages)})


def build_feeds(
    updates: Sequence[PriceUpdate],
    *,
    max_messages: int = MAX_FEED_MESSAGES,
    max_bytes: int = MAX_FEED_BYTES,
) -> list[FeedDocument]:
    """Split updates of one seller and marketplace into feeds within Amazon's limits.

    Each feed holds at most ``max_messages`` messages (≤ 25,000) and stays below
    ``max_bytes`` (< 10 MiB); order is kept and every update is in exactly one feed.
    Raises ``ValueError`` for mixed sellers/marketplaces or a single message that could
    never fit.
    """
    if not updates:
        return []
    max_messages = min(max_messages, MAX_FEED_MESSAGES)
    max_bytes = min(max_bytes, MAX_FEED_BYTES)
    if max_messages < 1:
        raise ValueError("max_messages must be at least 1")
    seller_id, marketplace_id = updates[0].seller_id, updates[0].marketplace_id
    for update in updates:
        if (update.seller_id, update.marketplace_id) != (seller_id, marketplace_id):
            raise ValueError("one feed is for one seller and one marketplace")
    encode = _ExactJson()
    overhead = len(encode({"header": _header(seller_id), "messages": []}))
    feeds: list[FeedDocument] = []
    chunk: list[bytes] = []
    members: list[PriceUpdate] = []
    size = overhead

    def close() -> None:
        nonlocal chunk, members, size
        content = encode_feed_parts(seller_id, chunk)
        feeds.append(FeedDocument(seller_id, marketplace_id, content, tuple(members)))
        chunk, members, size = [], [], overhead

    for update in updates:
        # Message ids restart at 1 in every feed, so a message is encoded with its id.
        encoded = encode(feed_message(update, len(members) + 1))
        if members and (
            len(members) >= max_messages or size + len(encoded) + 1 >= max_bytes
        ):
            close()
            encoded = encode(feed_message(update, 1))
        if overhead + len(encoded) >= max_bytes:
            raise ValueError(f"{update.sku}: one message alone exceeds the feed size limit")
        chunk.append(encoded)
        members.append(update)
        size += len(encoded) + 1  # + the separating comma
    close()
    return feeds


def encode_feed_parts(seller_id: str, encoded_messages: Sequence[bytes]) -> bytes:
    """Assemble a feed from already encoded messages (saves re-encoding large feeds)."""
    head = encode_json({"header": _header(seller_id), "messages": []})
    assert head.endswith(b"[]}")
    return head[:-3] + b"[" + b",".join(encoded_messages) + b"]}"


# -- processing reports ---------------------------------------------------------------------
# Issue texts that name a passing condition on Amazon's side (heuristic: Amazon documents
# no list of transient processing-report codes). Everything else is a property of the
# message itself (a validation error) and would fail the same way again.
_TRANSIENT = re.compile(
    r"internal (server )?error|try again|temporar|throttl|timed? ?out|unavailable", re.I
)
TRANSIENT_CODES = frozenset({"InternalFailure", "ServiceUnavailable", "4000000"})


@dataclass(frozen=True, slots=True)
class MessageIssue:
    code: str | None
    severity: str
    message: str
    attribute: str | None = None

    @property
    def transient(self) -> bool:
        return (self.code in TRANSIENT_CODES) or bool(_TRANSIENT.search(self.message))

    def as_dict(self) -> dict[str, str]:
        out = {"severity": self.severity, "message": self.message[:500]}
        if self.code:
            out["code"] = self.code
        if self.attribute:
            out["attribute"] = self.attribute
        return out


@dataclass(frozen=True, slots=True)
class MessageResult:
    """What the processing report says about one message of a feed."""

    message_id: int
    accepted: bool
    errors: tuple[MessageIssue, ...] = ()
    warnings: tuple[MessageIssue, ...] = ()

    @property
    def retryable(self) -> bool:
        """A rejected message whose every error is transient (worth sending again)."""
        return not self.accepted and bool(self.errors) and all(e.transient for e in self.errors)


@dataclass(frozen=True, slots=True)
class ProcessingReport:
    """A JSON_LISTINGS_FEED processing report, per message.

    ``feed_errors`` are issues without a ``messageId`` (the feed as a whole).
    """

    results: dict[int, MessageResult]
    feed_errors: tuple[MessageIssue, ...] = ()
    summary: dict[str, Any] = field(default_factory=dict)

    def result(self, message_id: int) -> MessageResult:
        return self.results.get(message_id) or MessageResult(message_id, accepted=True)


def _issue(raw: Mapping[str, Any]) -> MessageIssue:
    code = raw.get("code")
    attribute = raw.get("attributeName")
    if attribute is None and isinstance(raw.get("attributeNames"), list):
        attribute = ",".join(str(a) for a in raw["attributeNames"]) or None
    return MessageIssue(
        code=str(code) if code is not None else None,
        severity=str(raw.get("severity") or "ERROR").upper(),
        message=str(raw.get("message") or ""),
        attribute=str(attribute) if attribute is not None else None,
    )


def parse_processing_report(report: Any, message_ids: Iterable[int]) -> ProcessingReport:
    """Read Amazon's processing report (listings-feed-processing-report-schema-v2).

    A message with an ``ERROR`` issue was not applied; one with only warnings or no issue
    was accepted. ``message_ids`` are the ids the feed sent (each gets a result).
    Feed-level errors (no ``messageId``) with no accepted message at all fail every
    message.
    """
    if not isinstance(report, Mapping):
        raise ValueError("processing report is not a JSON object")
    errors: dict[int, list[MessageIssue]] = {}
    warnings: dict[int, list[MessageIssue]] = {}
    feed_errors: list[MessageIssue] = []
    for raw in report.get("issues") or []:
        if not isinstance(raw, Mapping):
            continue
        issue = _issue(raw)
        message_id = raw.get("messageId")
        try:
            key = int(message_id) if message_id is not None else None
        except (TypeError, ValueError):
            key = None
        if key is None:
            if issue.severity == "ERROR":
                feed_errors.append(issue)
            continue
        (errors if issue.severity == "ERROR" else warnings).setdefault(key, []).append(issue)
    summary = report.get("summary") if isinstance(report.get("summary"), Mapping) else {}
    whole_feed_failed = bool(feed_errors) and not summary.get("messagesAccepted")
    results = {}
    for message_id in message_ids:
        own = tuple(errors.get(message_id, ()))
        if not own and whole_feed_failed:
            own = tuple(feed_errors)
        results[message_id] = MessageResult(
            message_id, accepted=not own, errors=own,
            warnings=tuple(warnings.get(message_id, ())),
        )
    return ProcessingReport(results, tuple(feed_errors), dict(summary or {}))


# -- retries --------------------------------------------------------------------------------
_RETRY = re.compile(r"\|retry(\d+)$")


def attempt_of(update: PriceUpdate) -> int:
    """How many times this update was submitted before (0 for a fresh decision)."""
    found = _RETRY.search(update.source)
    return int(found.group(1)) if found else 0


def as_retry(update: PriceUpdate, attempt: int) -> PriceUpdate:
    """The update to enqueue again after ``attempt`` failed submissions.

    Same price, bounds and ``decided_at`` (so a newer decision still wins coalescing); a
    new ``source`` (``<original>|retry<n>``) so the FIFO queue does not drop it as a
    duplicate and the publisher knows the attempt count.
    """
    base = _RETRY.sub("", update.source)
    return update.model_copy(update={"source": f"{base}|retry{attempt}"})


def next_feed_at(
    last_feed_at: datetime | None, *, min_interval: timedelta
) -> datetime | None:
    """When the seller's next feed may be created (None: now).

    One feed per ``min_interval`` per seller keeps inside both of Amazon's feed limits,
    createFeed's 0.0083 rps (burst 15) and 5 feeds per 5 minutes, for ``min_interval`` ≥
    120 s (repricing.md §4.3).
    """
    return None if last_feed_at is None else last_feed_at + min_interval


def describe(update: PriceUpdate) -> dict[str, Any]:
    """The prices of an update as history payload (decimal strings, exact)."""
    out: dict[str, Any] = {
        "price": format(update.price.amount, "f"),
        "currency": update.price.currency,
        "min_price": format(update.min_price.amount, "f"),
        "max_price": format(update.max_price.amount, "f"),
        "urgent": update.urgent,
        "source": update.source,
        "decided_at": update.decided_at.isoformat(),
    }
    if update.business_price is not None:
        out["business_price"] = format(update.business_price.amount, "f")
    if update.quantity_tiers:
        out["quantity_tiers"] = [
            {"quantity": t.quantity, "price": format(t.price.amount, "f")}
            for t in update.quantity_tiers
        ]
    if update.reason:
        out["reason"] = update.reason[:300]
    return out


def dumps(value: Any) -> str:
    """Compact JSON text with Decimals exact (for storing feed parts)."""
    return encode_json(value).decode("utf-8")


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)
