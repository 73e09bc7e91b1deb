"""A fake Selling Partner API on 127.0.0.1, for tests, the local stack and benchmarks.

Two layers:

- :class:`FakeSellingPartnerApi`: the in-memory marketplace state (apps, sellers, access
  tokens, listings, feeds, reports, documents, destinations, subscriptions, offers) and
  one handler method per SP-API operation, named after it in snake case
  (``getListingsItem`` → :meth:`~FakeSellingPartnerApi.get_listings_item`). It speaks
  Amazon's wire formats: the LWA token endpoint and its ``{"error",
  "error_description"}`` bodies, ``x-amz-access-token`` checks (403 ``Unauthorized``),
  ``{"errors": [{"code", "message", "details"}]}`` bodies, per seller × operation quotas
  (429 ``QuotaExceeded``), ``x-amzn-RequestId`` and ``x-amzn-RateLimit-Limit`` headers,
  presigned ``/documents/...`` URLs that expire after five minutes. The marketplace
  simulator subclasses it (override a handler, or :meth:`process_feed`,
  :meth:`item_offers`, :meth:`report_content`) rather than re-implementing HTTP.
- :class:`FakeSpApiServer`: a ``ThreadingHTTPServer`` around it (port 0 → a free port),
  usable as a context manager or with start()/stop(), and as
  ``python -m infra.simulator.spapi_server --port 8123``.

Feeds and reports move IN_QUEUE → IN_PROGRESS → DONE as they are polled
(``polls_to_done`` polls). Tests can inject faults (:meth:`inject_fault`) and count what
happened in the request log (:attr:`calls`, :meth:`api_calls`, :meth:`throttled`).
Routes and default quotas come from :mod:`functions.core.spapi.operations`, the table the
client uses, so the two cannot drift apart.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import logging
import re
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from functions.core.spapi.operations import NOTIFICATIONS_SCOPE, OPERATIONS, Operation
from functions.core.spapi.ratelimit import TokenBucket
from functions.core.spapi.transport import decode_json, encode_json, isoformat_utc

logger = logging.getLogger(__name__)

LWA_PATH = "/auth/o2/token"
DOCUMENTS_PREFIX = "/documents/"
DOCUMENT_URL_TTL = 300.0  # seconds, as Amazon's presigned URLs
GRANTLESS_SCOPES = frozenset(
    {NOTIFICATIONS_SCOPE, "sellingpartnerapi::client_credential:rotation"}
)
# Request-log names of what is not an SP-API operation.
LWA_TOKEN = "lwaToken"  # noqa: S105 - a log name, not a password
DOCUMENT_DOWNLOAD = "documentDownload"
DOCUMENT_UPLOAD = "documentUpload"
# Amazon's 2025 listings-feed limit: 5 feeds per 5 minutes (on top of createFeed's plan).
FEED_LIMIT = (5, 300.0)
# Issue the simulator raises on a listing whose price is outside its seller-allowed range
# (Amazon suppresses such offers; the code is the simulator's own, not Amazon's).
PRICE_RANGE_ISSUE = "PRICE_OUTSIDE_SELLER_ALLOWED_RANGE"


# -- wire types ---------------------------------------------------------------------------
class ApiFailure(Exception):
    """Raised by a handler: becomes Amazon's error body with this status."""

    def __init__(self, status: int, code: str, message: str, details: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"errors": [error]}


@dataclass(slots=True)
class Reply:
    status: int
    body: Any = None  # dict/list → JSON; bytes → as is; None → empty
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    drop_connection: bool = False

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return encode_json(self.body)


@dataclass(slots=True)
class Grant:
    """What an access token stands for."""

    client_id: str
    expires_at: float
    seller_id: str | None = None
    scope: str | None = None

    @property
    def caller(self) -> str:
        return self.seller_id or f"app:{self.client_id}"


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    operation: Operation | None = None
    params: dict[str, str] = field(default_factory=dict)
    grant: Grant | None = None

    @property
    def seller_id(self) -> str | None:
        return self.grant.seller_id if self.grant else None

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def list_arg(self, name: str) -> list[str]:
        return [part for value in self.query.get(name, []) for part in value.split(",") if part]

    def json(self) -> Any:
        try:
            return decode_json(self.body)
        except ValueError:
            raise ApiFailure(400, "InvalidInput", "The request body is not valid JSON.") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise ApiFailure(400, "InvalidInput", "The request body must be a JSON object.")
        return body


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One entry of the request log."""

    operation: str
    seller_id: str | None
    status: int
    at: float
    method: str = ""
    path: str = ""


@dataclass(slots=True)
class Fault:
    status: int
    remaining: int
    retry_after: float | None = None
    code: str | None = None
    message: str | None = None
    drop_connection: bool = False


@dataclass(slots=True)
class Document:
    document_id: str
    owner: str
    content: bytes | None
    content_type: str
    compression: str | None = None  # "GZIP" when content is gzipped
    signatures: dict[str, float] = field(default_factory=dict)  # signature → expires_at


@dataclass(slots=True)
class ReportContent:
    content: bytes | str | Callable[[dict[str, Any]], bytes | str | None]
    gzip: bool = False


_COMPILED: list[tuple[Operation, re.Pattern[str]]] = [
    (op, re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(op.path)) + "$"))
    for op in OPERATIONS.values()
]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _now_utc() -> datetime:
    return datetime.now(UTC)


# -- the fake API -------------------------------------------------------------------------
class FakeSellingPartnerApi:
    """In-memory SP-API. ``clock`` (monotonic seconds) times tokens, quotas and URL
    expiry; ``now`` gives the timestamps written into payloads. Thread-safe (one lock)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _now_utc,
        token_ttl: int = 3600,
        polls_to_done: int = 3,
        enforce_quotas: bool = True,
        base_url: str = "http://127.0.0.1",
        feed_limit: tuple[int, float] | None = FEED_LIMIT,
    ) -> None:
        self.clock = clock
        self.now = now
        self.token_ttl = token_ttl
        self.polls_to_done = polls_to_done
        self.enforce_quotas = enforce_quotas
        self.base_url = base_url
        self.lock = threading.RLock()
        # credentials
        self.apps: dict[str, str] = {}
        self.refresh_tokens: dict[str, tuple[str, str | None]] = {}  # token → (seller, app)
        self.access_tokens: dict[str, Grant] = {}
        # quotas
        self.quotas: dict[str, tuple[float, int]] = {
            name: (op.rate, op.burst) for name, op in OPERATIONS.items()
        }
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        # createFeed's second limit: at most N feeds per window per seller (None = off)
        self.feed_limit = feed_limit
        self._feed_times: dict[str, list[float]] = {}
        # state
        self.listings: dict[tuple[str, str], dict[str, Any]] = {}
        self.feeds: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, Document] = {}
        self.report_contents: dict[tuple[str | None, str], ReportContent] = {}
        self.destinations: dict[str, dict[str, dict[str, Any]]] = {}  # app → id → dest
        self.subscriptions: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.item_offers_payloads: dict[tuple[str, str, str], dict[str, Any]] = {}
        # Fulfillment Inbound v0: seller → shipment id → shipment (with its items)
        self.inbound_shipments: dict[str, dict[str, dict[str, Any]]] = {}
        self.inbound_page_size = 50  # ShipmentData per getShipments page
        self._page_tokens: dict[str, tuple[list[str], int, int]] = {}
        self._ids = 50000000000
        # testing hooks
        self.faults: dict[str, list[Fault]] = {}
        self.message_faults: dict[tuple[str, str], list[Fault]] = {}  # (seller, sku)
        self.calls: list[ApiCall] = []

    # ---------------------------------------------------------------------------------
    # setup
    # ---------------------------------------------------------------------------------
    def register_app(self, client_id: str, client_secret: str) -> None:
        with self.lock:
            self.apps[client_id] = client_secret

    def register_seller(
        self, seller_id: str, refresh_token: str, *, client_id: str | None = None
    ) -> None:
        """Authorise ``seller_id`` with ``refresh_token`` (for ``client_id``, or any app)."""
        with self.lock:
            self.refresh_tokens[refresh_token] = (seller_id, client_id)

    def revoke_access_tokens(self) -> None:
        """Forget every issued access token (next SP-API call gets 403)."""
        with self.lock:
            self.access_tokens.clear()

    def set_quota(self, operation: str, rate: float, burst: int) -> None:
        """Change an operation's usage plan (reported in ``x-amzn-RateLimit-Limit``)."""
        with self.lock:
            self.quotas[operation] = (rate, burst)
            for key in [k for k in self._buckets if k[1] == operation]:
                del self._buckets[key]

    def put_listing(
        self,
        seller_id: str,
        sku: str,
        *,
        marketplace_id: str,
        asin: str,
        product_type: str = "PRODUCT",
        attributes: Mapping[str, Any] | None = None,
        item_name: str | None = None,
        condition_type: str = "new_new",
        status: Iterable[str] = ("BUYABLE", "DISCOVERABLE"),
    ) -> dict[str, Any]:
        """Create or replace a listing; ``attributes`` in Amazon's attribute format."""
        stamp = isoformat_utc(self.now())
        listing = {
            "sku": sku,
            "marketplace_id": marketplace_id,
            "asin": asin,
            "product_type": product_type,
            "condition_type": condition_type,
            "status": list(status),
            "item_name": item_name or sku,
            "attributes": copy.deepcopy(dict(attributes or {})),
            "issues": [],
            "created": stamp,
            "updated": stamp,
        }
        refresh_offer_state(listing)
        with self.lock:
            self.listings[(seller_id, sku)] = listing
        return listing

    def suppressed(self, seller_id: str, sku: str) -> bool:
        """Whether the listing's offer is suppressed for a price outside its bounds."""
        with self.lock:
            return bool(self.listings[(seller_id, sku)].get("price_suppressed"))

    def our_price(
        self, seller_id: str, sku: str, *, audience: str = "ALL"
    ) -> Decimal | None:
        """The listing's ``our_price`` for ``audience`` (None when it has none)."""
        with self.lock:
            listing = self.listings[(seller_id, sku)]
            for entry in listing["attributes"].get("purchasable_offer", []):
                if isinstance(entry, dict) and entry.get("audience", "ALL") == audience:
                    return _our_price(entry)
        return None

    def fail_feed_message(
        self,
        seller_id: str,
        sku: str,
        *,
        code: str = "InternalFailure",
        message: str = "An internal error occurred. Please try again.",
        count: int = 1,
    ) -> None:
        """The next ``count`` feed messages for ``sku`` fail with an ERROR issue
        (default: a transient one) instead of being applied."""
        with self.lock:
            self.message_faults.setdefault((seller_id, sku), []).append(
                Fault(0, count, None, code, message)
            )

    def listing(self, seller_id: str, sku: str) -> dict[str, Any]:
        """A deep copy of the stored listing (KeyError if absent)."""
        with self.lock:
            return copy.deepcopy(self.listings[(seller_id, sku)])

    def register_report(
        self,
        report_type: str,
        content: bytes | str | Callable[[dict[str, Any]], bytes | str | None],
        *,
        seller_id: str | None = None,
        gzip: bool = False,
    ) -> None:
        """What a report of ``report_type`` contains when it completes (for one seller or
        all). ``content`` may be a function of the report request (its dict), returning
        None for "nothing to report" (→ CANCELLED). ``gzip`` serves it compressed."""
        with self.lock:
            self.report_contents[(seller_id, report_type)] = ReportContent(content, gzip)

    def publish_report(
        self,
        seller_id: str,
        report_type: str,
        content: bytes | str,
        *,
        marketplace_ids: list[str],
        created: datetime | None = None,
        data_start: datetime | None = None,
        data_end: datetime | None = None,
    ) -> str:
        """A report Amazon produces on its own schedule (settlements): already DONE, found
        with ``getReports``, never requested. ``created`` defaults to now. Its report id."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        with self.lock:
            report_id = self._next_id()
            stamp = isoformat_utc(created) if created is not None else self._stamp()
            document = self._new_document(
                seller_id, data, "text/tab-separated-values;charset=UTF-8", kind="report")
            report: dict[str, Any] = {
                "reportId": report_id, "reportType": report_type,
                "marketplaceIds": list(marketplace_ids), "createdTime": stamp,
                "processingStartTime": stamp, "processingEndTime": stamp,
                "processingStatus": "DONE", "reportDocumentId": document.document_id,
                "_seller": seller_id, "_polls": 0,
            }
            if data_start is not None:
                report["dataStartTime"] = isoformat_utc(data_start)
            if data_end is not None:
                report["dataEndTime"] = isoformat_utc(data_end)
            self.reports[report_id] = report
            return report_id

    def register_inbound_shipment(self, seller_id: str, shipment: Mapping[str, Any]) -> None:
        """An inbound shipment of ``seller_id``: Amazon's ``ShipmentData`` fields
        (``ShipmentId`` required; ``ShipmentStatus`` default CLOSED), ``LastUpdatedDate``
        (ISO 8601; default now: what ``DATE_RANGE`` queries filter on, not returned, as
        in v0) and ``ItemData`` (the items: ``SellerSKU``, ``FulfillmentNetworkSKU``,
        ``QuantityShipped``, ``QuantityReceived``; ``ShipmentId`` is filled in)."""
        record = copy.deepcopy(dict(shipment))
        shipment_id = str(record["ShipmentId"])
        record.setdefault("ShipmentStatus", "CLOSED")
        record.setdefault("ShipmentName", shipment_id)
        record.setdefault("DestinationFulfillmentCenterId", "PHX7")
        record.setdefault("LabelPrepType", "SELLER_LABEL")
        record.setdefault("LastUpdatedDate", self._stamp())
        record["ItemData"] = [
            {"ShipmentId": shipment_id, "QuantityInCase": 0, **item}
            for item in record.get("ItemData", [])
        ]
        with self.lock:
            self.inbound_shipments.setdefault(seller_id, {})[shipment_id] = record

    def set_item_offers(
        self,
        marketplace_id: str,
        asin: str,
        payload: Mapping[str, Any],
        *,
        item_condition: str = "New",
    ) -> None:
        """The ``getItemOffers`` payload served for an ASIN (else derived from listings)."""
        with self.lock:
            key = (marketplace_id, asin, item_condition.lower())
            self.item_offers_payloads[key] = copy.deepcopy(dict(payload))

    def inject_fault(
        self,
        operation: str,
        *,
        status: int = 503,
        count: int = 1,
        retry_after: float | None = None,
        code: str | None = None,
        message: str | None = None,
        drop_connection: bool = False,
    ) -> None:
        """Fail the next ``count`` calls of ``operation`` (an SP-API name, ``lwaToken``,
        ``documentDownload`` or ``documentUpload``) with ``status`` (Amazon's error body,
        ``Retry-After`` if given) or by closing the connection without an answer."""
        with self.lock:
            self.faults.setdefault(operation, []).append(
                Fault(status, count, retry_after, code, message, drop_connection)
            )

    # ---------------------------------------------------------------------------------
    # request log
    # ---------------------------------------------------------------------------------
    def api_calls(self, operation: str | None = None, seller_id: str | None = None) -> int:
        """SP-API operation calls answered (any status), LWA and documents excluded."""
        with self.lock:
            return sum(
                1
                for c in self.calls
                if c.operation in OPERATIONS
                and (operation is None or c.operation == operation)
                and (seller_id is None or c.seller_id == seller_id)
            )

    def throttled(self, operation: str | None = None, seller_id: str | None = None) -> int:
        """Calls answered 429."""
        with self.lock:
            return sum(
                1
                for c in self.calls
                if c.status == 429
                and (operation is None or c.operation == operation)
                and (seller_id is None or c.seller_id == seller_id)
            )

    def lwa_calls(self, status: int | None = None) -> int:
        with self.lock:
            return sum(
                1
                for c in self.calls
                if c.operation == LWA_TOKEN and (status is None or c.status == status)
            )

    def reset_log(self) -> None:
        with self.lock:
            self.calls.clear()

    # ---------------------------------------------------------------------------------
    # dispatch
    # ---------------------------------------------------------------------------------
    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> Reply:
        """Answer one HTTP request (``target`` = path + query string)."""
        parts = urlsplit(target)
        request = Request(
            method=method.upper(),
            path=unquote(parts.path) if parts.path.startswith(DOCUMENTS_PREFIX) else parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=body,
        )
        with self.lock:
            if request.path == LWA_PATH:
                name = LWA_TOKEN
                reply = self._faulted(name) or self._lwa(request)
            elif request.path.startswith(DOCUMENTS_PREFIX):
                name = DOCUMENT_UPLOAD if request.method == "PUT" else DOCUMENT_DOWNLOAD
                reply = self._faulted(name) or self._document(request)
            else:
                name, reply = self._operation(request)
            self.calls.append(
                ApiCall(
                    name, request.seller_id, reply.status, self.clock(), request.method,
                    request.path,
                )
            )
        return reply

    def _operation(self, request: Request) -> tuple[str, Reply]:
        for op, pattern in _COMPILED:
            if op.method != request.method:
                continue
            match = pattern.match(request.path)
            if match:
                request.operation = op
                request.params = {k: unquote(v) for k, v in match.groupdict().items()}
                break
        else:
            return "unknown", self._error(
                ApiFailure(404, "NotFound", "Resource not found.", request.path)
            )
        op = request.operation
        reply = self._authorize(request, op)
        if reply is None:
            reply = self._faulted(op.name)
        if reply is None:
            reply = self._take_quota(request, op)
        if reply is None:
            try:
                reply = getattr(self, _snake(op.name))(request)
            except ApiFailure as failure:
                reply = self._error(failure)
            except Exception:
                logger.exception("fake SP-API handler %s failed", op.name)
                reply = self._error(
                    ApiFailure(500, "InternalFailure", "We encountered an internal error.")
                )
        reply.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
        rate = self.quotas.get(op.name, (op.rate, op.burst))[0]
        reply.headers.setdefault("x-amzn-RateLimit-Limit", f"{rate:g}")
        return op.name, reply

    def _authorize(self, request: Request, op: Operation) -> Reply | None:
        token = request.headers.get("x-amz-access-token")
        grant = self.access_tokens.get(token) if token else None
        if grant is not None and self.clock() >= grant.expires_at:
            del self.access_tokens[token]  # type: ignore[arg-type]
            grant = None
        if grant is None:
            return self._error(
                ApiFailure(
                    403, "Unauthorized", "Access to requested resource is denied.",
                    "The access token you provided is revoked, malformed or invalid.",
                )
            )
        if op.grantless_scope is not None and grant.scope != op.grantless_scope:
            return self._error(
                ApiFailure(
                    403, "Unauthorized", "Access to requested resource is denied.",
                    f"{op.name} needs a grantless token with scope {op.grantless_scope}.",
                )
            )
        if op.grantless_scope is None and grant.seller_id is None:
            return self._error(
                ApiFailure(
                    403, "Unauthorized", "Access to requested resource is denied.",
                    f"{op.name} needs a selling partner's authorisation.",
                )
            )
        request.grant = grant
        return None

    def _faulted(self, name: str) -> Reply | None:
        queue = self.faults.get(name)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        if fault.drop_connection:
            return Reply(0, drop_connection=True)
        code = fault.code or {
            429: "QuotaExceeded", 500: "InternalFailure", 503: "ServiceUnavailable"
        }.get(fault.status, "InjectedFault")
        message = fault.message or {
            429: "You exceeded your quota for the requested resource.",
            503: "Service temporarily unavailable.",
        }.get(fault.status, "Injected fault.")
        if name == LWA_TOKEN:
            reply = Reply(fault.status, {"error": code, "error_description": message})
        else:
            reply = self._error(ApiFailure(fault.status, code, message))
        if fault.retry_after is not None:
            reply.headers["Retry-After"] = f"{fault.retry_after:g}"
        return reply

    def _take_quota(self, request: Request, op: Operation) -> Reply | None:
        if not self.enforce_quotas:
            return None
        assert request.grant is not None
        key = (request.grant.caller, op.name)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate, burst = self.quotas.get(op.name, (op.rate, op.burst))
            # A client pacing itself exactly at the rate on the same (manual) clock must
            # not be refused by float rounding at the token boundary: a 1e-9 leniency.
            bucket = self._buckets[key] = TokenBucket(
                rate * (1 + 1e-9), burst, clock=self.clock
            )
        if bucket.try_take():
            return None
        return self._error(
            ApiFailure(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
        )

    @staticmethod
    def _error(failure: ApiFailure) -> Reply:
        return Reply(failure.status, failure.body())

    def _next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    def _stamp(self) -> str:
        return isoformat_utc(self.now())

    # ---------------------------------------------------------------------------------
    # LWA
    # ---------------------------------------------------------------------------------
    def _lwa(self, request: Request) -> Reply:
        if request.method != "POST":
            return Reply(405, {"error": "invalid_request", "error_description": "POST only"})
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        client_id = form.get("client_id", "")
        if client_id not in self.apps or self.apps[client_id] != form.get("client_secret"):
            return Reply(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        grant_type = form.get("grant_type")
        expires_at = self.clock() + self.token_ttl
        access_token = "Atza|" + secrets.token_urlsafe(24)
        if grant_type == "refresh_token":
            refresh_token = form.get("refresh_token", "")
            owner = self.refresh_tokens.get(refresh_token)
            if owner is None or (owner[1] is not None and owner[1] != client_id):
                return Reply(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": (
                            "The request has an invalid grant parameter : refresh_token"
                        ),
                    },
                )
            self.access_tokens[access_token] = Grant(client_id, expires_at, seller_id=owner[0])
            return Reply(
                200,
                {
                    "access_token": access_token,
                    "refresh_token": refresh_token,
                    "token_type": "bearer",
                    "expires_in": self.token_ttl,
                },
            )
        if grant_type == "client_credentials":
            scope = form.get("scope", "")
            if scope not in GRANTLESS_SCOPES:
                return Reply(
                    400,
                    {
                        "error": "invalid_scope",
                        "error_description": "An unknown scope was requested",
                    },
                )
            self.access_tokens[access_token] = Grant(client_id, expires_at, scope=scope)
            return Reply(
                200,
                {
                    "access_token": access_token,
                    "scope": scope,
                    "token_type": "bearer",
                    "expires_in": self.token_ttl,
                },
            )
        return Reply(
            400,
            {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"},
        )

    # ---------------------------------------------------------------------------------
    # documents (presigned URLs)
    # ---------------------------------------------------------------------------------
    def _new_document(
        self,
        owner: str,
        content: bytes | None,
        content_type: str,
        *,
        kind: str,
        compression: str | None = None,
    ) -> Document:
        document_id = f"amzn1.tortuga.4.{kind}.{uuid.uuid4()}"
        document = Document(document_id, owner, content, content_type, compression)
        self.documents[document_id] = document
        return document

    def document_url(self, document: Document) -> str:
        """A fresh presigned URL for ``document``, valid :data:`DOCUMENT_URL_TTL` seconds."""
        signature = secrets.token_hex(16)
        document.signatures[signature] = self.clock() + DOCUMENT_URL_TTL
        return (
            f"{self.base_url}{DOCUMENTS_PREFIX}{document.document_id}"
            f"?X-Amz-Expires={int(DOCUMENT_URL_TTL)}&X-Amz-Signature={signature}"
        )

    @staticmethod
    def _s3_error(status: int, code: str, message: str) -> Reply:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>"
        ).encode()
        return Reply(status, body, content_type="application/xml")

    def _document(self, request: Request) -> Reply:
        document_id = request.path[len(DOCUMENTS_PREFIX):]
        document = self.documents.get(document_id)
        if document is None:
            return self._s3_error(404, "NoSuchKey", "The specified key does not exist.")
        expires_at = document.signatures.get(request.arg("X-Amz-Signature") or "")
        if expires_at is None:
            return self._s3_error(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match."
            )
        if self.clock() >= expires_at:
            return self._s3_error(403, "AccessDenied", "Request has expired")
        headers = {"x-amz-request-id": uuid.uuid4().hex[:16].upper()}
        if request.method == "PUT":
            sent = (request.headers.get("Content-Type") or "").replace(" ", "").lower()
            if sent != document.content_type.replace(" ", "").lower():
                return self._s3_error(
                    403, "SignatureDoesNotMatch",
                    "Content-Type differs from the one the URL was signed for.",
                )
            document.content = request.body
            return Reply(200, None, headers)
        if request.method != "GET":
            return self._s3_error(405, "MethodNotAllowed", "Method not allowed.")
        if document.content is None:
            return self._s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return Reply(200, document.content, headers, content_type=document.content_type)

    # ---------------------------------------------------------------------------------
    # Listings Items 2021-08-01
    # ---------------------------------------------------------------------------------
    def _own_listing(self, request: Request) -> tuple[str, str, dict[str, Any]]:
        seller_id, sku = request.params["sellerId"], request.params["sku"]
        if seller_id != request.seller_id:
            raise ApiFailure(
                403, "Unauthorized", "Access to requested resource is denied.",
                "The sellerId does not match the authorised selling partner.",
            )
        markets = request.list_arg("marketplaceIds")
        if not markets:
            raise ApiFailure(400, "InvalidInput", "Missing required parameter marketplaceIds.")
        listing = self.listings.get((seller_id, sku))
        if listing is None or listing["marketplace_id"] not in markets:
            raise ApiFailure(
                404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {','.join(markets)}"
            )
        return seller_id, sku, listing

    def get_listings_item(self, request: Request) -> Reply:
        _, _, listing = self._own_listing(request)
        included = set(request.list_arg("includedData") or ["summaries"])
        return Reply(200, self.render_listing(listing, included))

    def render_listing(self, listing: dict[str, Any], included: set[str]) -> dict[str, Any]:
        """A listing as ``getListingsItem`` shows it, with the sections in ``included``."""
        market = listing["marketplace_id"]
        out: dict[str, Any] = {"sku": listing["sku"]}
        if "summaries" in included:
            out["summaries"] = [
                {
                    "marketplaceId": market,
                    "asin": listing["asin"],
                    "productType": listing["product_type"],
                    "conditionType": listing["condition_type"],
                    "status": list(listing["status"]),
                    "itemName": listing["item_name"],
                    "createdDate": listing["created"],
                    "lastUpdatedDate": listing["updated"],
                }
            ]
        if "attributes" in included:
            out["attributes"] = copy.deepcopy(listing["attributes"])
        if "issues" in included:
            out["issues"] = copy.deepcopy(listing["issues"])
        if "offers" in included:
            offers = []
            for entry in listing["attributes"].get("purchasable_offer", []):
                price = _our_price(entry)
                if price is None:
                    continue
                offers.append(
                    {
                        "marketplaceId": entry.get("marketplace_id", market),
                        "offerType": "B2B" if entry.get("audience") == "B2B" else "B2C",
                        "price": {
                            "currencyCode": entry.get("currency"),
                            "amount": format(price, "f"),
                        },
                    }
                )
            out["offers"] = offers
        if "fulfillmentAvailability" in included:
            out["fulfillmentAvailability"] = [
                {
                    "fulfillmentChannelCode": entry.get("fulfillment_channel_code", "DEFAULT"),
                    "quantity": entry.get("quantity", 0),
                }
                for entry in listing["attributes"].get("fulfillment_availability", [])
            ]
        return out

    def patch_listings_item(self, request: Request) -> Reply:
        _, sku, listing = self._own_listing(request)
        body = request.json_object()
        if not isinstance(body.get("productType"), str) or not body["productType"]:
            raise ApiFailure(400, "InvalidInput", "productType is required.")
        patches = body.get("patches")
        if not isinstance(patches, list) or not patches:
            raise ApiFailure(400, "InvalidInput", "patches must be a non-empty list.")
        markets = request.list_arg("marketplaceIds")
        attributes = copy.deepcopy(listing["attributes"])
        issues = []
        for patch in patches:
            _check_patch(patch)
            issues.extend(offer_patch_issues(patch, markets))
        if issues:
            # Amazon validates synchronously and answers 200 INVALID, changing nothing.
            return Reply(200, {"sku": sku, "status": "INVALID",
                               "submissionId": uuid.uuid4().hex, "issues": issues})
        for patch in patches:
            apply_patch(attributes, patch)
        if request.arg("mode") != "VALIDATION_PREVIEW":
            listing["attributes"] = attributes
            listing["updated"] = self._stamp()
            refresh_offer_state(listing)
        return Reply(
            200,
            {"sku": sku, "status": "ACCEPTED", "submissionId": uuid.uuid4().hex, "issues": []},
        )

    # ---------------------------------------------------------------------------------
    # Feeds 2021-06-30
    # ---------------------------------------------------------------------------------
    def create_feed_document(self, request: Request) -> Reply:
        body = request.json_object()
        content_type = body.get("contentType")
        if not isinstance(content_type, str) or not content_type:
            raise ApiFailure(400, "InvalidInput", "contentType is required.")
        assert request.seller_id is not None
        document = self._new_document(request.seller_id, None, content_type, kind="feed-input")
        return Reply(
            201, {"feedDocumentId": document.document_id, "url": self.document_url(document)}
        )

    def create_feed(self, request: Request) -> Reply:
        body = request.json_object()
        feed_type = body.get("feedType")
        markets = body.get("marketplaceIds")
        document_id = body.get("inputFeedDocumentId")
        if not isinstance(feed_type, str) or not feed_type:
            raise ApiFailure(400, "InvalidInput", "feedType is required.")
        if not isinstance(markets, list) or not markets:
            raise ApiFailure(400, "InvalidInput", "marketplaceIds is required.")
        document = self.documents.get(str(document_id))
        if document is None or document.owner != request.seller_id:
            raise ApiFailure(400, "InvalidInput", f"Invalid inputFeedDocumentId {document_id}.")
        if document.content is None:
            raise ApiFailure(400, "InvalidInput", "The feed document has not been uploaded.")
        self._count_feed(str(request.seller_id))
        feed_id = self._next_id()
        self.feeds[feed_id] = {
            "feedId": feed_id,
            "feedType": feed_type,
            "marketplaceIds": list(markets),
            "createdTime": self._stamp(),
            "processingStatus": "IN_QUEUE",
            "_seller": request.seller_id,
            "_input": document.document_id,
            "_options": body.get("feedOptions") or {},
            "_polls": 0,
        }
        return Reply(202, {"feedId": feed_id})

    def _count_feed(self, seller_id: str) -> None:
        """Amazon's "5 feeds per 5 minutes": 429 beyond it (the feed is not created)."""
        if self.feed_limit is None:
            return
        limit, window = self.feed_limit
        now = self.clock()
        recent = [t for t in self._feed_times.get(seller_id, []) if t > now - window]
        if len(recent) >= limit:
            self._feed_times[seller_id] = recent
            raise ApiFailure(
                429, "QuotaExceeded",
                f"You exceeded {limit} feed submissions per {window:g} seconds.",
            )
        recent.append(now)
        self._feed_times[seller_id] = recent

    def get_feed(self, request: Request) -> Reply:
        feed = self.feeds.get(request.params["feedId"])
        if feed is None or feed["_seller"] != request.seller_id:
            raise ApiFailure(404, "NotFound", "The requested feed was not found.")
        self._advance(feed, self._finish_feed)
        return Reply(200, _public(feed))

    def _finish_feed(self, feed: dict[str, Any]) -> None:
        document = self.documents[feed["_input"]]
        status, report = self.process_feed(feed, document.content or b"")
        feed["processingStatus"] = status
        if report is not None:
            result = self._new_document(
                feed["_seller"], encode_json(report), "application/json", kind="feed-result"
            )
            feed["resultFeedDocumentId"] = result.document_id

    def process_feed(self, feed: dict[str, Any], content: bytes) -> tuple[str, Any]:
        """Apply a completed feed; return (final status, processing report or None).

        ``JSON_LISTINGS_FEED`` messages (PATCH, UPDATE, DELETE) change the listings the
        same way ``patchListingsItem`` does. Other feed types are accepted unread.
        """
        seller_id = feed["_seller"]
        header = {"sellerId": seller_id, "version": "2.0", "feedId": feed["feedId"]}
        if feed["feedType"] != "JSON_LISTINGS_FEED":
            summary = {"errors": 0, "warnings": 0, "messagesProcessed": 0,
                       "messagesAccepted": 0, "messagesInvalid": 0}
            return "DONE", {"header": header, "issues": [], "summary": summary}
        try:
            document = decode_json(content)
            messages = document["messages"]
            if not isinstance(messages, list):
                raise TypeError("messages")
        except (ValueError, KeyError, TypeError):
            issue = {"messageId": 0, "code": "4000003", "severity": "ERROR",
                     "message": "The feed is not valid JSON_LISTINGS_FEED JSON."}
            summary = {"errors": 1, "warnings": 0, "messagesProcessed": 0,
                       "messagesAccepted": 0, "messagesInvalid": 0}
            return "FATAL", {"header": header, "issues": [issue], "summary": summary}
        issues = []
        accepted = 0
        for message in messages:
            found = self._apply_feed_message(seller_id, feed["marketplaceIds"], message)
            if not found:
                accepted += 1
                continue
            for problem in [found] if isinstance(found, str) else found:
                issue = {"messageId": message.get("messageId") if isinstance(message, dict)
                         else None}
                if isinstance(message, dict) and isinstance(message.get("sku"), str):
                    issue["sku"] = message["sku"]
                if isinstance(problem, str):
                    issue.update(code="4000001", severity="ERROR", message=problem)
                else:
                    issue.update(problem)
                issues.append(issue)
        summary = {
            "errors": len(issues),
            "warnings": 0,
            "messagesProcessed": len(messages),
            "messagesAccepted": accepted,
            "messagesInvalid": len(messages) - accepted,
        }
        return "DONE", {"header": header, "issues": issues, "summary": summary}

    def _apply_feed_message(
        self, seller_id: str, markets: list[str], message: Any
    ) -> str | list[dict[str, Any]] | None:
        """Apply one message; None when accepted, else the problem(s) (text or issues)."""
        if not isinstance(message, dict):
            return "message is not an object"
        message_id = message.get("messageId")
        if isinstance(message_id, bool) or not isinstance(message_id, int) or message_id < 1:
            return "messageId must be an integer of at least 1"
        sku = message.get("sku")
        if not isinstance(sku, str) or not sku:
            return "sku is required"
        faults = self.message_faults.get((seller_id, sku))
        if faults:
            fault = faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.pop(0)
            return [{"code": fault.code, "severity": "ERROR", "message": fault.message}]
        operation_type = str(message.get("operationType", "")).upper()
        listing = self.listings.get((seller_id, str(sku)))
        if operation_type == "DELETE":
            if listing is None:
                return f"SKU '{sku}' not found"
            del self.listings[(seller_id, str(sku))]
            return None
        if operation_type == "PATCH":
            if listing is None:
                return f"SKU '{sku}' not found"
            if not isinstance(message.get("productType"), str) or not message["productType"]:
                return "productType is required"
            patches = message.get("patches")
            if not isinstance(patches, list) or not patches:
                return "patches must be a non-empty list"
            attributes = copy.deepcopy(listing["attributes"])
            try:
                issues = []
                for patch in patches:
                    _check_patch(patch)
                    issues.extend(offer_patch_issues(patch, markets))
                if issues:
                    return issues
                for patch in patches:
                    apply_patch(attributes, patch)
            except ApiFailure as failure:
                return failure.message
            listing["attributes"] = attributes
            listing["updated"] = self._stamp()
            refresh_offer_state(listing)
            return None
        if operation_type in {"UPDATE", "PARTIAL_UPDATE"}:
            attributes = message.get("attributes")
            if not isinstance(attributes, dict):
                return "attributes are required"
            if listing is None:
                return f"SKU '{sku}' not found (creating listings is not simulated)"
            if operation_type == "UPDATE":
                listing["attributes"] = copy.deepcopy(attributes)
            else:
                listing["attributes"].update(copy.deepcopy(attributes))
            listing["updated"] = self._stamp()
            refresh_offer_state(listing)
            return None
        return f"unsupported operationType {operation_type!r}"

    def get_feed_document(self, request: Request) -> Reply:
        return self._document_info(request, request.params["feedDocumentId"], "feedDocumentId")

    def _document_info(self, request: Request, document_id: str, id_key: str) -> Reply:
        document = self.documents.get(document_id)
        if document is None or document.owner != request.seller_id or document.content is None:
            raise ApiFailure(404, "NotFound", "The requested document was not found.")
        info: dict[str, Any] = {id_key: document_id, "url": self.document_url(document)}
        if document.compression:
            info["compressionAlgorithm"] = document.compression
        return Reply(200, info)

    def _advance(self, job: dict[str, Any], finish: Callable[[dict[str, Any]], None]) -> None:
        """One poll. The first poll still sees IN_QUEUE, later ones IN_PROGRESS, and poll
        number ``polls_to_done`` finishes the job (DONE, CANCELLED or FATAL)."""
        if job["processingStatus"] not in {"IN_QUEUE", "IN_PROGRESS"}:
            return
        job["_polls"] += 1
        if job["_polls"] >= self.polls_to_done:
            job.setdefault("processingStartTime", self._stamp())
            job["processingEndTime"] = self._stamp()
            finish(job)
        elif job["_polls"] >= 2:
            job["processingStatus"] = "IN_PROGRESS"
            job.setdefault("processingStartTime", self._stamp())

    # ---------------------------------------------------------------------------------
    # Reports 2021-06-30
    # ---------------------------------------------------------------------------------
    def create_report(self, request: Request) -> Reply:
        body = request.json_object()
        report_type = body.get("reportType")
        markets = body.get("marketplaceIds")
        if not isinstance(report_type, str) or not report_type:
            raise ApiFailure(400, "InvalidInput", "reportType is required.")
        if not isinstance(markets, list) or not markets:
            raise ApiFailure(400, "InvalidInput", "marketplaceIds is required.")
        for key in ("dataStartTime", "dataEndTime"):
            if key in body:
                try:
                    datetime.fromisoformat(str(body[key]).replace("Z", "+00:00"))
                except ValueError:
                    raise ApiFailure(400, "InvalidInput", f"{key} is not ISO 8601.") from None
        report_id = self._next_id()
        report = {
            "reportId": report_id,
            "reportType": report_type,
            "marketplaceIds": list(markets),
            "createdTime": self._stamp(),
            "processingStatus": "IN_QUEUE",
            "_seller": request.seller_id,
            "_polls": 0,
        }
        for key in ("dataStartTime", "dataEndTime", "reportOptions"):
            if key in body:
                report[key] = body[key]
        self.reports[report_id] = report
        return Reply(202, {"reportId": report_id})

    def get_report(self, request: Request) -> Reply:
        report = self.reports.get(request.params["reportId"])
        if report is None or report["_seller"] != request.seller_id:
            raise ApiFailure(404, "NotFound", "The requested report was not found.")
        self._advance(report, self._finish_report)
        return Reply(200, _public(report))

    def report_content(self, report: dict[str, Any]) -> tuple[bytes | None, bool]:
        """The document of a completed report and whether to gzip it (None → CANCELLED)."""
        registered = self.report_contents.get(
            (report["_seller"], report["reportType"])
        ) or self.report_contents.get((None, report["reportType"]))
        if registered is None:
            return None, False
        content = registered.content
        if callable(content):
            content = content(_public(report))
        if content is None:
            return None, False
        data = content.encode("utf-8") if isinstance(content, str) else content
        return data, registered.gzip

    def _finish_report(self, report: dict[str, Any]) -> None:
        data, compress = self.report_content(report)
        if data is None:
            report["processingStatus"] = "CANCELLED"
            return
        document = self._new_document(
            report["_seller"],
            gzip.compress(data) if compress else data,
            "application/octet-stream" if compress else "text/tab-separated-values;charset=UTF-8",
            kind="report",
            compression="GZIP" if compress else None,
        )
        report["processingStatus"] = "DONE"
        report["reportDocumentId"] = document.document_id

    def get_reports(self, request: Request) -> Reply:
        token = request.arg("nextToken")
        if token:
            page = self._page_tokens.pop(token, None)
            if page is None:
                raise ApiFailure(400, "InvalidInput", "Invalid nextToken.")
            ids, offset, size = page
        else:
            types = set(request.list_arg("reportTypes"))
            if not types:
                raise ApiFailure(400, "InvalidInput", "reportTypes or nextToken is required.")
            size = int(request.arg("pageSize") or 10)
            if not 1 <= size <= 100:
                raise ApiFailure(400, "InvalidInput", "pageSize must be between 1 and 100.")
            statuses = set(request.list_arg("processingStatuses"))
            markets = set(request.list_arg("marketplaceIds"))
            since = _parse_time(request.arg("createdSince")) or self.now() - timedelta(days=90)
            until = _parse_time(request.arg("createdUntil")) or self.now()
            found = [
                r for r in self.reports.values()
                if r["_seller"] == request.seller_id
                and r["reportType"] in types
                and (not statuses or r["processingStatus"] in statuses)
                and (not markets or markets & set(r["marketplaceIds"]))
                and since <= _parse_time(r["createdTime"]) <= until  # type: ignore[operator]
            ]
            found.sort(key=lambda r: (r["createdTime"], int(r["reportId"])), reverse=True)
            ids, offset = [r["reportId"] for r in found], 0
        chunk = ids[offset:offset + size]
        body: dict[str, Any] = {"reports": [_public(self.reports[i]) for i in chunk]}
        if offset + size < len(ids):
            next_token = secrets.token_urlsafe(12)
            self._page_tokens[next_token] = (ids, offset + size, size)
            body["nextToken"] = next_token
        return Reply(200, body)

    # -- Fulfillment Inbound v0 ------------------------------------------------------------
    _SHIPMENT_STATUSES = frozenset({
        "WORKING", "READY_TO_SHIP", "SHIPPED", "RECEIVING", "CANCELLED", "DELETED", "CLOSED",
        "ERROR", "IN_TRANSIT", "DELIVERED", "CHECKED_IN",
    })

    def get_shipments(self, request: Request) -> Reply:
        if not request.arg("MarketplaceId"):
            raise ApiFailure(400, "InvalidInput", "MarketplaceId is required.")
        query_type = request.arg("QueryType")
        if query_type == "NEXT_TOKEN":
            token = request.arg("NextToken") or ""
            page = self._page_tokens.pop(token, None)
            if page is None:
                raise ApiFailure(400, "InvalidInput", "Invalid NextToken.")
            ids, offset, size = page
        elif query_type in ("SHIPMENT", "DATE_RANGE"):
            statuses = set(request.list_arg("ShipmentStatusList"))
            unknown = statuses - self._SHIPMENT_STATUSES
            if unknown:
                raise ApiFailure(400, "InvalidInput", f"Unknown ShipmentStatus {sorted(unknown)}.")
            wanted_ids = set(request.list_arg("ShipmentIdList"))
            after = _parse_time(request.arg("LastUpdatedAfter"))
            before = _parse_time(request.arg("LastUpdatedBefore"))
            if query_type == "SHIPMENT" and not (statuses or wanted_ids):
                raise ApiFailure(400, "InvalidInput",
                                 "ShipmentStatusList or ShipmentIdList is required.")
            if query_type == "DATE_RANGE" and (after is None or before is None):
                raise ApiFailure(400, "InvalidInput",
                                 "LastUpdatedAfter and LastUpdatedBefore are required.")
            found = []
            for record in self.inbound_shipments.get(request.seller_id or "", {}).values():
                updated = _parse_time(record["LastUpdatedDate"])
                assert updated is not None
                if statuses and record["ShipmentStatus"] not in statuses:
                    continue
                if wanted_ids and record["ShipmentId"] not in wanted_ids:
                    continue
                if query_type == "DATE_RANGE" and not (
                        after <= updated < before):  # type: ignore[operator]
                    continue
                found.append(record)
            found.sort(key=lambda r: (_parse_time(r["LastUpdatedDate"]), r["ShipmentId"]))
            ids, offset, size = [r["ShipmentId"] for r in found], 0, self.inbound_page_size
        else:
            raise ApiFailure(400, "InvalidInput",
                             "QueryType must be SHIPMENT, DATE_RANGE or NEXT_TOKEN.")
        shipments = self.inbound_shipments.get(request.seller_id or "", {})
        chunk = [shipments[i] for i in ids[offset:offset + size] if i in shipments]
        payload: dict[str, Any] = {"ShipmentData": [
            {k: copy.deepcopy(v) for k, v in r.items() if k not in ("ItemData", "LastUpdatedDate")}
            for r in chunk
        ]}
        if offset + size < len(ids):
            next_token = secrets.token_urlsafe(12)
            self._page_tokens[next_token] = (ids, offset + size, size)
            payload["NextToken"] = next_token
        return Reply(200, {"payload": payload})

    def get_shipment_items_by_shipment_id(self, request: Request) -> Reply:
        if not request.arg("MarketplaceId"):
            raise ApiFailure(400, "InvalidInput", "MarketplaceId is required.")
        shipment_id = request.params["shipmentId"]
        record = self.inbound_shipments.get(request.seller_id or "", {}).get(shipment_id)
        if record is None:
            raise ApiFailure(400, "InvalidInput", f"Shipment {shipment_id} not found.")
        return Reply(200, {"payload": {"ItemData": copy.deepcopy(record["ItemData"])}})

    def get_report_document(self, request: Request) -> Reply:
        return self._document_info(
            request, request.params["reportDocumentId"], "reportDocumentId"
        )

    # ---------------------------------------------------------------------------------
    # Notifications v1
    # ---------------------------------------------------------------------------------
    def get_destinations(self, request: Request) -> Reply:
        assert request.grant is not None
        mine = self.destinations.get(request.grant.client_id, {})
        return Reply(200, {"payload": [copy.deepcopy(d) for d in mine.values()]})

    def create_destination(self, request: Request) -> Reply:
        assert request.grant is not None
        body = request.json_object()
        name = body.get("name")
        spec = body.get("resourceSpecification")
        if not isinstance(name, str) or not name or not isinstance(spec, dict):
            raise ApiFailure(400, "InvalidInput", "name and resourceSpecification are required.")
        if isinstance(spec.get("sqs"), dict) and spec["sqs"].get("arn"):
            resource: dict[str, Any] = {"sqs": {"arn": spec["sqs"]["arn"]}}
        elif isinstance(spec.get("eventBridge"), dict):
            bridge = spec["eventBridge"]
            if not bridge.get("region") or not bridge.get("accountId"):
                raise ApiFailure(400, "InvalidInput", "eventBridge needs region and accountId.")
            resource = {
                "eventBridge": {
                    "name": f"aws.partner/sellingpartnerapi.amazon.com/{bridge['accountId']}",
                    "region": bridge["region"],
                    "accountId": bridge["accountId"],
                }
            }
        else:
            raise ApiFailure(400, "InvalidInput", "resourceSpecification needs sqs or eventBridge.")
        mine = self.destinations.setdefault(request.grant.client_id, {})
        for existing in mine.values():
            if _same_resource(existing["resource"], resource):
                raise ApiFailure(
                    409, "Conflict", "A destination with the same resource already exists.",
                    existing["destinationId"],
                )
        destination = {"name": name, "destinationId": str(uuid.uuid4()), "resource": resource}
        mine[destination["destinationId"]] = destination
        return Reply(200, {"payload": copy.deepcopy(destination)})

    def get_subscription(self, request: Request) -> Reply:
        assert request.grant is not None and request.seller_id is not None
        key = (request.seller_id, request.grant.client_id, request.params["notificationType"])
        subscription = self.subscriptions.get(key)
        if subscription is None:
            raise ApiFailure(404, "NotFound", "The subscription was not found.")
        return Reply(200, {"payload": copy.deepcopy(subscription)})

    def create_subscription(self, request: Request) -> Reply:
        assert request.grant is not None and request.seller_id is not None
        notification_type = request.params["notificationType"]
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", notification_type):
            raise ApiFailure(400, "InvalidInput", f"Unknown notificationType {notification_type}.")
        body = request.json_object()
        destination_id = body.get("destinationId")
        if not body.get("payloadVersion"):
            raise ApiFailure(400, "InvalidInput", "payloadVersion is required.")
        if destination_id not in self.destinations.get(request.grant.client_id, {}):
            raise ApiFailure(400, "InvalidInput", f"Invalid destinationId {destination_id}.")
        key = (request.seller_id, request.grant.client_id, notification_type)
        if key in self.subscriptions:
            raise ApiFailure(
                409, "Conflict", "A subscription for this notification type already exists.",
                self.subscriptions[key]["subscriptionId"],
            )
        subscription: dict[str, Any] = {
            "subscriptionId": str(uuid.uuid4()),
            "payloadVersion": body["payloadVersion"],
            "destinationId": destination_id,
        }
        if isinstance(body.get("processingDirective"), dict):
            subscription["processingDirective"] = body["processingDirective"]
        self.subscriptions[key] = subscription
        return Reply(200, {"payload": copy.deepcopy(subscription)})

    # ---------------------------------------------------------------------------------
    # Product Pricing v0 batches
    # ---------------------------------------------------------------------------------
    def get_item_offers_batch(self, request: Request) -> Reply:
        return self._pricing_batch(request, "items", "Asin")

    def get_listing_offers_batch(self, request: Request) -> Reply:
        return self._pricing_batch(request, "listings", "SellerSKU")

    def _pricing_batch(self, request: Request, kind: str, id_key: str) -> Reply:
        body = request.json_object()
        items = body.get("requests")
        if not isinstance(items, list) or not 1 <= len(items) <= 20:
            raise ApiFailure(400, "InvalidInput", "requests must hold 1 to 20 entries.")
        pattern = re.compile(rf"^/products/pricing/v0/{kind}/([^/]+)/offers$")
        responses = []
        for item in items:
            if not isinstance(item, dict):
                raise ApiFailure(400, "InvalidInput", "each request must be an object.")
            match = pattern.match(str(item.get("uri", "")))
            market = item.get("MarketplaceId")
            condition = item.get("ItemCondition")
            customer = item.get("CustomerType", "Consumer")
            ident = unquote(match.group(1)) if match else None
            echo = {"MarketplaceId": market, id_key: ident, "ItemCondition": condition,
                    "CustomerType": customer}
            if not match or item.get("method") != "GET" or not market or not condition:
                status, payload = 400, None
                errors = [{"code": "InvalidInput", "message": "Invalid batch request entry."}]
            elif kind == "items":
                status, errors = 200, None
                payload = self.item_offers(str(market), str(ident), str(condition), str(customer))
            else:
                listing = self.listings.get((str(request.seller_id), str(ident)))
                if listing is None or listing["marketplace_id"] != market:
                    status, payload = 400, None
                    errors = [{
                        "code": "InvalidInput",
                        "message": f"{ident} is an invalid SellerSKU for marketplace {market}",
                    }]
                else:
                    status, errors = 200, None
                    payload = self.item_offers(str(market), listing["asin"], str(condition),
                                               str(customer), my_seller=str(request.seller_id))
                    payload["SKU"] = ident
            entry_body: dict[str, Any] = {"payload": payload} if payload is not None else {}
            if errors:
                entry_body["errors"] = errors
            responses.append({
                "headers": {"x-amzn-RequestId": str(uuid.uuid4())},
                "status": {
                    "statusCode": status,
                    "reasonPhrase": "OK" if status == 200 else "Bad Request",
                },
                "body": entry_body,
                "request": echo,
            })
        return Reply(200, {"responses": responses})

    def item_offers(
        self,
        marketplace_id: str,
        asin: str,
        item_condition: str,
        customer_type: str,
        *,
        my_seller: str | None = None,
    ) -> dict[str, Any]:
        """The ``getItemOffers`` payload: a registered one, else built from the listings
        of every seller with a price for this ASIN (lowest landed price wins the Buy Box)."""
        registered = self.item_offers_payloads.get((marketplace_id, asin, item_condition.lower()))
        if registered is not None:
            return copy.deepcopy(registered)
        offers = []
        for (seller_id, _sku), listing in self.listings.items():
            if listing["asin"] != asin or listing["marketplace_id"] != marketplace_id:
                continue
            for entry in listing["attributes"].get("purchasable_offer", []):
                price = _our_price(entry)
                if price is None or entry.get("audience", "ALL") not in {"ALL", "B2C"}:
                    continue
                currency = entry.get("currency")
                offers.append({
                    "SellerId": seller_id,
                    "MyOffer": seller_id == my_seller,
                    "SubCondition": "new",
                    "ListingPrice": {"CurrencyCode": currency, "Amount": price},
                    "Shipping": {"CurrencyCode": currency, "Amount": Decimal("0.00")},
                    "IsFulfilledByAmazon": False,
                    "IsFeaturedMerchant": True,
                    "ShippingTime": {"minimumHours": 24, "maximumHours": 48,
                                     "availabilityType": "NOW"},
                })
        offers.sort(key=lambda o: o["ListingPrice"]["Amount"])
        if offers:
            offers[0]["IsBuyBoxWinner"] = True
        summary: dict[str, Any] = {
            "TotalOfferCount": len(offers),
            "NumberOfOffers": [{"condition": item_condition.lower(),
                                "fulfillmentChannel": "Merchant", "OfferCount": len(offers)}],
        }
        if offers:
            best = offers[0]
            summary["LowestPrices"] = [{
                "condition": item_condition.lower(), "fulfillmentChannel": "Merchant",
                "LandedPrice": best["ListingPrice"], "ListingPrice": best["ListingPrice"],
                "Shipping": best["Shipping"],
            }]
            summary["BuyBoxPrices"] = [{
                "condition": item_condition.lower(), "LandedPrice": best["ListingPrice"],
                "ListingPrice": best["ListingPrice"], "Shipping": best["Shipping"],
            }]
        return {
            "MarketplaceID": marketplace_id,
            "ASIN": asin,
            "ItemCondition": item_condition,
            "status": "Success",
            "Identifier": {"MarketplaceId": marketplace_id, "ASIN": asin,
                           "ItemCondition": item_condition},
            "Summary": summary,
            "Offers": offers,
        }


# -- listing patches ----------------------------------------------------------------------
_PATCH_OPS = frozenset({"add", "replace", "merge", "delete"})


def _check_patch(patch: Any) -> None:
    if not isinstance(patch, dict):
        raise ApiFailure(400, "InvalidInput", "each patch must be an object.")
    if patch.get("op") not in _PATCH_OPS:
        raise ApiFailure(400, "InvalidInput", f"unsupported patch op {patch.get('op')!r}.")
    path = patch.get("path")
    if not isinstance(path, str) or not re.fullmatch(r"/attributes/[a-z0-9_]+", path):
        raise ApiFailure(400, "InvalidInput", f"unsupported patch path {path!r}.")
    if patch["op"] != "delete" and not isinstance(patch.get("value"), list):
        raise ApiFailure(400, "InvalidInput", f"patch {path}: value must be a list.")


def _entry_key(entry: Any) -> tuple[Any, ...]:
    if not isinstance(entry, dict):
        return (repr(entry),)
    return (entry.get("marketplace_id"), entry.get("audience", "ALL"), entry.get("language_tag"))


def apply_patch(attributes: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Apply one Listings Items patch to an attribute dict (in place).

    ``add``/``replace`` set the attribute; ``merge`` updates the entries that have the
    same marketplace, audience and language (keys not sent are kept) and appends the
    others; ``delete`` removes the matching entries, or the attribute without a value.
    Other attributes are never touched.
    """
    name = str(patch["path"]).removeprefix("/attributes/")
    op = patch["op"]
    value = copy.deepcopy(patch.get("value"))
    if op in {"add", "replace"}:
        attributes[name] = value
    elif op == "merge":
        current = attributes.setdefault(name, [])
        for entry in value or []:
            match = next((e for e in current if _entry_key(e) == _entry_key(entry)), None)
            if match is not None and isinstance(match, dict) and isinstance(entry, dict):
                match.update(entry)
            else:
                current.append(entry)
    elif op == "delete":
        if not value:
            attributes.pop(name, None)
        else:
            drop = {_entry_key(e) for e in value}
            kept = [e for e in attributes.get(name, []) if _entry_key(e) not in drop]
            if kept:
                attributes[name] = kept
            else:
                attributes.pop(name, None)


def _our_price(entry: Any) -> Decimal | None:
    try:
        value = entry["our_price"][0]["schedule"][0]["value_with_tax"]
    except (KeyError, IndexError, TypeError):
        return None
    if isinstance(value, (Decimal, int, str)):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return None
    return None


def _money_value(entry: Any, name: str) -> Any:
    try:
        return entry[name][0]["schedule"][0]["value_with_tax"]
    except (KeyError, IndexError, TypeError):
        return None


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        return None
    return Decimal(value)


_PRICE_NAMES = ("our_price", "minimum_seller_allowed_price", "maximum_seller_allowed_price")


def offer_patch_issues(patch: Mapping[str, Any], markets: list[str]) -> list[dict[str, Any]]:
    """Validation issues of a ``purchasable_offer`` patch (empty when valid), in the shape
    of Amazon's issues: prices must be positive JSON numbers, the entry must name a
    marketplace of the request and a currency, and min ≤ max when both are sent."""
    if patch.get("path") != "/attributes/purchasable_offer" or patch.get("op") == "delete":
        return []
    issues = []

    def issue(message: str, attribute: str) -> None:
        issues.append({"code": "99022", "severity": "ERROR", "message": message,
                       "attributeName": attribute})

    for entry in patch.get("value") or []:
        if not isinstance(entry, dict):
            issue("purchasable_offer entries must be objects.", "purchasable_offer")
            continue
        market = entry.get("marketplace_id")
        if markets and market not in markets:
            issue(f"marketplace_id {market!r} is not a marketplace of this submission.",
                  "purchasable_offer.marketplace_id")
        currency = entry.get("currency")
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
            issue("currency must be an ISO 4217 code.", "purchasable_offer.currency")
        for name in _PRICE_NAMES:
            if name not in entry:
                continue
            value = _amount(_money_value(entry, name))
            if value is None or not value.is_finite() or value <= 0:
                issue(f"The value for '{name}' must be a positive number.",
                      f"purchasable_offer.{name}")
        low = _amount(_money_value(entry, "minimum_seller_allowed_price"))
        high = _amount(_money_value(entry, "maximum_seller_allowed_price"))
        if low is not None and high is not None and low > high:
            issue("minimum_seller_allowed_price is greater than maximum_seller_allowed_price.",
                  "purchasable_offer.minimum_seller_allowed_price")
    return issues


def refresh_offer_state(listing: dict[str, Any]) -> None:
    """Suppress (or restore) the offer after a change: Amazon suppresses an offer whose
    ``our_price`` is outside its minimum/maximum seller-allowed price. Suppressed: the
    status loses ``BUYABLE`` and an issue explains why (getListingsItem shows both)."""
    problems = []
    for entry in listing["attributes"].get("purchasable_offer", []):
        if not isinstance(entry, dict):
            continue
        price = _our_price(entry)
        low = _amount(_money_value(entry, "minimum_seller_allowed_price"))
        high = _amount(_money_value(entry, "maximum_seller_allowed_price"))
        if price is None:
            continue
        if (low is not None and price < low) or (high is not None and price > high):
            audience = entry.get("audience", "ALL")
            problems.append({
                "code": PRICE_RANGE_ISSUE,
                "message": (
                    f"The price {price} ({audience}) is outside the seller-allowed range "
                    f"{low if low is not None else '-'}..{high if high is not None else '-'}; "
                    "the offer is suppressed until it is within the range."
                ),
                "severity": "ERROR",
                "attributeNames": ["purchasable_offer"],
                "categories": ["INVALID_PRICE"],
                "enforcements": {"actions": [{"action": "LISTING_SUPPRESSED"}],
                                 "exemption": {"status": "NOT_EXEMPT"}},
            })
    others = [i for i in listing.get("issues", []) if i.get("code") != PRICE_RANGE_ISSUE]
    listing["issues"] = others + problems
    if problems and not listing.get("price_suppressed"):
        listing["price_suppressed"] = True
        listing["buyable_before"] = "BUYABLE" in listing["status"]
        listing["status"] = [s for s in listing["status"] if s != "BUYABLE"]
    elif not problems and listing.get("price_suppressed"):
        listing["price_suppressed"] = False
        if listing.pop("buyable_before", False) and "BUYABLE" not in listing["status"]:
            listing["status"] = ["BUYABLE", *listing["status"]]


def _same_resource(left: dict[str, Any], right: dict[str, Any]) -> bool:
    if "sqs" in left and "sqs" in right:
        return left["sqs"]["arn"] == right["sqs"]["arn"]
    if "eventBridge" in left and "eventBridge" in right:
        a, b = left["eventBridge"], right["eventBridge"]
        return (a["region"], a["accountId"]) == (b["region"], b["accountId"])
    return False


def _public(job: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in job.items() if not k.startswith("_")}


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiFailure(400, "InvalidInput", f"{text!r} is not ISO 8601.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- HTTP -------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSpApi/1.0"
    timeout = 30
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle + delayed
        # ACK add ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.api.handle(self.command, self.path, self.headers, body)
        if reply.drop_connection:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        payload = reply.payload()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        view = memoryview(payload)
        for start in range(0, len(view), 1 << 16):
            self.wfile.write(view[start:start + (1 << 16)])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        # Never log query strings: document URLs carry their signatures there.
        logger.debug("fake spapi %s %s", self.command, urlsplit(self.path).path)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: FakeSellingPartnerApi) -> None:
        super().__init__(address, _Handler)
        self.api = api


class FakeSpApiServer:
    """The fake SP-API (and LWA, and document storage) over HTTP on loopback.

    ``api`` is the :class:`FakeSellingPartnerApi` to serve (a new one, built from
    ``api_options``, by default). ``port=0`` picks a free port; :attr:`url` is the base
    URL to use as both ``SPAPI_ENDPOINT`` and ``LWA_ENDPOINT``.
    """

    def __init__(
        self,
        api: FakeSellingPartnerApi | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        **api_options: Any,
    ) -> None:
        self.api = api or FakeSellingPartnerApi(**api_options)
        self.host = host
        self._requested_port = port
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def lwa_url(self) -> str:
        return self.url + LWA_PATH

    def start(self) -> FakeSpApiServer:
        if self._httpd is not None:
            return self
        self._httpd = _HttpServer((self.host, self._requested_port), self.api)
        self.api.base_url = self.url
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"fake-spapi-{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def serve_forever(self) -> None:
        """Block until stopped (SIGINT/SIGTERM in the CLI)."""
        if self._thread is None:
            self.start()
        thread = self._thread  # stop() clears the attribute from another thread
        while thread is not None and thread.is_alive():
            thread.join(timeout=0.5)

    def __enter__(self) -> FakeSpApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- command line -----------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.simulator.spapi_server",
        description="Serve a fake SP-API (LWA, Listings, Feeds, Reports, Notifications, "
        "Product Pricing batches) on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123, help="0 picks a free port")
    parser.add_argument("--client-id", default="sellerops-local-client")
    parser.add_argument("--client-secret", default="sellerops-local-secret")
    parser.add_argument(
        "--seller", action="append", default=[], metavar="SELLER_ID=REFRESH_TOKEN",
        help="authorise a seller (repeatable); default A1LOCALSELLER=local-refresh-token",
    )
    parser.add_argument("--polls-to-done", type=int, default=3)
    parser.add_argument("--no-quotas", action="store_true", help="do not enforce quotas")
    args = parser.parse_args(argv)

    api = FakeSellingPartnerApi(
        polls_to_done=args.polls_to_done, enforce_quotas=not args.no_quotas
    )
    api.register_app(args.client_id, args.client_secret)
    for spec in args.seller or ["A1LOCALSELLER=local-refresh-token"]:
        seller_id, sep, refresh_token = spec.partition("=")
        if not sep or not seller_id or not refresh_token:
            parser.error(f"--seller expects SELLER_ID=REFRESH_TOKEN, got {spec!r}")
        api.register_seller(seller_id, refresh_token)
    server = FakeSpApiServer(api, host=args.host, port=args.port).start()

    def _stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"spapi {server.url}", flush=True)
    print("ready", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
