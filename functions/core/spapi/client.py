"""The SP-API client: one per process, shared by every seller.

    client = SpApiClient.from_settings()                 # AWS: secrets, regional endpoints
    seller = client.seller("A1SELLER", "A1PA6795UKMFR9")  # seller + home marketplace
    seller.patch_listings_item("MUG-1", patches, product_type="PRODUCT")
    with seller.open_report_document(doc_id) as lines:   # streamed, gunzipped
        for line in lines: ...

Every call: wait for a token of the seller × operation bucket, attach an LWA access token
(``x-amz-access-token``), send, log operation/status/request id/attempt/latency, re-size
the bucket from ``x-amzn-RateLimit-Limit``, retry 429/5xx/connection errors with
jittered backoff (``Retry-After`` honoured), re-authorise once on 403, and raise a typed
:mod:`~functions.core.spapi.errors` error when it cannot succeed. Bodies are JSON with
exact Decimals both ways.

The region comes from the seller's marketplace (NA/EU/FE); an ``endpoint`` override
(``SPAPI_ENDPOINT``) replaces every region, which is how the local simulator is reached.
boto3 is never imported here; Secrets Manager is reached only through
:class:`~functions.core.spapi.credentials.SecretsManagerCredentials`, on first use.
"""

from __future__ import annotations

import gzip
import io
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from urllib.parse import quote, urlencode, urlsplit

import urllib3

from functions.core import clock as clock_source
from functions.core.marketplaces import SPAPI_ENDPOINTS, Region, marketplace
from functions.core.spapi.auth import LwaAuth
from functions.core.spapi.credentials import CredentialSource, SecretsManagerCredentials
from functions.core.spapi.errors import (
    ApiErrorDetail,
    SpApiClientError,
    SpApiConflict,
    SpApiConnectionError,
    SpApiError,
    SpApiServerError,
    SpApiThrottled,
    client_error_for,
)
from functions.core.spapi.operations import Operation, operation
from functions.core.spapi.ratelimit import RateLimiter
from functions.core.spapi.transport import (
    RETRYABLE_STATUS,
    USER_AGENT,
    RetryPolicy,
    decode_json,
    encode_json,
    isoformat_utc,
    new_pool,
    parse_retry_after,
    strip_query,
)

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
MAX_PRICING_BATCH = 20
# Rate-limit key of grantless calls: Amazon meters them per application.
APPLICATION_KEY = "application"


@dataclass(frozen=True, slots=True)
class SpApiResponse:
    """A successful (2xx) SP-API response; ``body`` is the parsed JSON (Decimals)."""

    operation: str
    status: int
    body: Any
    request_id: str | None
    attempts: int
    headers: Mapping[str, str]

    def json(self) -> dict[str, Any]:
        """The body as a dict (``{}`` for an empty body)."""
        return self.body if isinstance(self.body, dict) else {}


class SpApiClient:
    """Shared HTTP pool, LWA token cache, rate limiter and retry policy.

    ``credentials``: any :class:`CredentialSource`. ``endpoint`` / ``lwa_endpoint``:
    overrides (simulator). ``clock``/``sleep``/``rand`` are injectable so that backoff and
    rate-limit waits are instant in tests. ``rate_limiter``/``auth``/``http`` may be
    passed to share them or to observe them.
    """

    def __init__(
        self,
        credentials: CredentialSource,
        *,
        endpoint: str | None = None,
        lwa_endpoint: str | None = None,
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        auth: LwaAuth | None = None,
        http: urllib3.PoolManager | None = None,
        timeout: urllib3.Timeout | float | None = None,
        clock: Callable[[], float] = clock_source.monotonic,
        sleep: Callable[[float], None] = clock_source.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.http = http or new_pool()
        self.retry = retry or RetryPolicy()
        self.rate_limiter = rate_limiter or RateLimiter(clock=clock, sleep=sleep)
        self.auth = auth or LwaAuth(
            credentials,
            endpoint=lwa_endpoint,
            http=self.http,
            retry=self.retry,
            clock=clock,
            sleep=sleep,
            rand=rand,
            timeout=timeout,
        )
        self.endpoint_override = endpoint.rstrip("/") if endpoint else None
        self._timeout = timeout
        self._sleep = sleep
        self._rand = rand

    @classmethod
    def from_settings(
        cls,
        settings: Any = None,
        *,
        credentials: CredentialSource | None = None,
        **kwargs: Any,
    ) -> SpApiClient:
        """Build from :class:`~functions.core.settings.SpApiConfig` (the environment):
        Secrets Manager credentials unless ``credentials`` is given, endpoint overrides
        from ``SPAPI_ENDPOINT``/``LWA_ENDPOINT`` when set (empty = Amazon's)."""
        if settings is None:
            from functions.core.settings import SpApiConfig, cached_settings

            settings = cached_settings(SpApiConfig)
        return cls(
            credentials or SecretsManagerCredentials.from_settings(settings),
            endpoint=settings.spapi_endpoint or None,
            lwa_endpoint=settings.lwa_endpoint or None,
            **kwargs,
        )

    # -- scoping -------------------------------------------------------------------------
    def endpoint_for(self, region: Region | str) -> str:
        """Base URL for a region (``na``/``eu``/``fe``), or the override when set."""
        if self.endpoint_override:
            return self.endpoint_override
        return SPAPI_ENDPOINTS[Region(region)]

    def seller(self, seller_id: str, marketplace_id: str) -> SellerApi:
        """Operations on behalf of ``seller_id``; ``marketplace_id`` picks the region and
        is the default ``marketplaceIds``."""
        return SellerApi(self, seller_id, marketplace_id)

    def application(self, region: Region | str = Region.NORTH_AMERICA) -> ApplicationApi:
        """Grantless operations of the application itself in ``region``."""
        return ApplicationApi(self, Region(region))

    # -- the call ------------------------------------------------------------------------
    def call(
        self,
        operation_name: str,
        *,
        region: Region | str,
        seller_id: str | None = None,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> SpApiResponse:
        """Send one operation with rate limiting, auth and retries; 2xx or a typed error."""
        op = operation(operation_name)
        if op.grantless:
            key = APPLICATION_KEY
        elif seller_id:
            key = seller_id
        else:
            raise ValueError(f"{op.name} needs a seller_id")
        url = self.endpoint_for(region) + op.render(**(path or {}))
        query_string = encode_query(query or {})
        if query_string:
            url = f"{url}?{query_string}"
        data = encode_json(body) if body is not None else None
        who = key
        reauthorised = False
        attempts = self.retry.max_attempts
        attempt = 0
        while True:
            attempt += 1
            self.rate_limiter.acquire(key, op.name)
            token = self._access_token(op, seller_id)
            headers = {
                "x-amz-access-token": token,
                "x-amz-date": clock_source.utc_now().strftime("%Y%m%dT%H%M%SZ"),
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
            if data is not None:
                headers["Content-Type"] = JSON_CONTENT_TYPE
            started = time.perf_counter()
            try:
                response = self.http.request(
                    op.method, url, body=data, headers=headers, retries=False,
                    **self._timeout_kwargs(),
                )
            except urllib3.exceptions.HTTPError as error:
                latency_ms = _ms(started)
                _log_call(op.name, who, None, None, attempt, latency_ms, error=error)
                if attempt < attempts:
                    self._sleep(self.retry.delay(attempt, rand=self._rand))
                    continue
                raise SpApiConnectionError(
                    f"{op.name}: no response after {attempt} attempts ({type(error).__name__})",
                    operation=op.name,
                ) from None
            latency_ms = _ms(started)
            status = response.status
            request_id = response.headers.get("x-amzn-RequestId")
            _log_call(op.name, who, status, request_id, attempt, latency_ms)
            self.rate_limiter.observe_limit(
                key, op.name, response.headers.get("x-amzn-RateLimit-Limit")
            )
            parsed = _parse_body(response.data)
            if 200 <= status < 300:
                return SpApiResponse(
                    op.name, status, parsed, request_id, attempt, dict(response.headers)
                )
            errors = ApiErrorDetail.from_body(parsed)
            if status == 403 and not reauthorised:
                # An access token can be revoked or expire early: get a new one, once.
                reauthorised = True
                self._invalidate(op, seller_id)
                continue
            if status in RETRYABLE_STATUS:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if status == 429:
                    self.rate_limiter.throttled(key, op.name)
                if attempt < attempts:
                    self._sleep(self.retry.delay(attempt, retry_after, rand=self._rand))
                    continue
                summary = _summary(errors, response.data)
                if status == 429:
                    raise SpApiThrottled(
                        f"{op.name} throttled after {attempt} attempts: {summary}",
                        operation=op.name, status=status, request_id=request_id,
                        errors=errors, retry_after=retry_after,
                    )
                raise SpApiServerError(
                    f"{op.name} failed after {attempt} attempts: {summary}",
                    operation=op.name, status=status, request_id=request_id, errors=errors,
                )
            if 400 <= status < 500:
                raise client_error_for(status)(
                    f"{op.name} rejected: {_summary(errors, response.data)}",
                    operation=op.name, status=status, request_id=request_id, errors=errors,
                )
            raise SpApiError(
                f"{op.name}: unexpected HTTP status {status}",
                operation=op.name, status=status, request_id=request_id, errors=errors,
            )

    def _access_token(self, op: Operation, seller_id: str | None) -> str:
        if op.grantless_scope is not None:
            return self.auth.grantless_token(op.grantless_scope)
        assert seller_id is not None
        return self.auth.seller_token(seller_id)

    def _invalidate(self, op: Operation, seller_id: str | None) -> None:
        if op.grantless_scope is not None:
            self.auth.invalidate_scope(op.grantless_scope)
        elif seller_id is not None:
            self.auth.invalidate_seller(seller_id)

    def _timeout_kwargs(self) -> dict[str, Any]:
        return {"timeout": self._timeout} if self._timeout is not None else {}

    # -- documents (presigned URLs: no SP-API auth, no SP-API quota) ----------------------
    @contextmanager
    def open_document(
        self,
        document: str | Mapping[str, Any],
        *,
        compression: str | None = None,
        encoding: str | None = None,
        errors: str = "strict",
        newline: str | None = "",
        binary: bool = False,
    ) -> Iterator[IO[Any]]:
        """Stream a feed/report document; yields a text file (iterate it for lines) or,
        with ``binary=True``, a bytes file. Never reads the whole document into memory.

        ``document`` is the presigned URL or the dict of ``getReportDocument`` /
        ``getFeedDocument`` (``url`` + ``compressionAlgorithm``). GZIP documents are
        gunzipped on the fly. ``encoding`` defaults to the charset of the response's
        Content-Type, else UTF-8 (a BOM is dropped). ``newline=""`` suits the csv module.
        """
        if isinstance(document, Mapping):
            url = str(document["url"])
            compression = compression or document.get("compressionAlgorithm")
        else:
            url = document
        response = self._transfer("GET", url, operation_name="downloadDocument", stream=True)
        try:
            response.auto_close = False  # let io wrappers see EOF instead of a closed file
            stream: IO[bytes] = io.BufferedReader(response, buffer_size=256 * 1024)  # type: ignore[arg-type]
            transfer_encoding = (response.headers.get("Content-Encoding") or "").lower()
            if (compression or "").upper() == "GZIP" and "gzip" not in transfer_encoding:
                stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
            if binary:
                yield stream
                return
            charset = encoding or charset_of(response.headers.get("Content-Type")) or "utf-8"
            if charset.lower().replace("_", "-") in {"utf-8", "utf8"}:
                charset = "utf-8-sig"
            yield io.TextIOWrapper(stream, encoding=charset, errors=errors, newline=newline)
        finally:
            response.close()
            response.release_conn()

    def upload_document(
        self, url: str, content: bytes | str, *, content_type: str = JSON_CONTENT_TYPE
    ) -> None:
        """PUT a feed document to its presigned URL (no auth header: the URL is the auth).

        ``content_type`` must equal the one given to ``createFeedDocument``.
        """
        data = content.encode("utf-8") if isinstance(content, str) else content
        response = self._transfer(
            "PUT", url, operation_name="uploadDocument", body=data,
            headers={"Content-Type": content_type},
        )
        response.release_conn()

    def _transfer(
        self,
        method: str,
        url: str,
        *,
        operation_name: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> urllib3.BaseHTTPResponse:
        parts = urlsplit(url)
        where = f"{parts.netloc}{parts.path}"
        attempts = self.retry.max_attempts
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                response = self.http.request(
                    method, url, body=body, headers=dict(headers or {}), retries=False,
                    preload_content=not stream, **self._timeout_kwargs(),
                )
            except urllib3.exceptions.HTTPError as error:
                _log_call(operation_name, where, None, None, attempt, _ms(started), error=error)
                if attempt < attempts:
                    self._sleep(self.retry.delay(attempt, rand=self._rand))
                    continue
                raise SpApiConnectionError(
                    f"{operation_name} {strip_query(url)}: no response ({type(error).__name__})",
                    operation=operation_name,
                ) from None
            status = response.status
            request_id = response.headers.get("x-amz-request-id") or response.headers.get(
                "x-amzn-RequestId"
            )
            _log_call(operation_name, where, status, request_id, attempt, _ms(started))
            if 200 <= status < 300:
                return response
            text = response.read(4096) if stream else response.data
            if stream:
                response.close()  # unread rest: do not hand a dirty connection back
            response.release_conn()
            code = _xml_code(text)
            errors = (ApiErrorDetail(code, "document transfer failed"),) if code else ()
            if status in RETRYABLE_STATUS and attempt < attempts:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                self._sleep(self.retry.delay(attempt, retry_after, rand=self._rand))
                continue
            kind: type[SpApiError]
            if status == 429:
                kind = SpApiThrottled
            elif status >= 500:
                kind = SpApiServerError
            else:
                kind = client_error_for(status) if status >= 400 else SpApiError
            # A 403 here usually means the presigned URL expired (5 minutes): ask for the
            # document again to get a fresh URL.
            raise kind(
                f"{operation_name} {where}: HTTP {status}" + (f" {code}" if code else ""),
                operation=operation_name, status=status, request_id=request_id, errors=errors,
            )
        raise AssertionError("unreachable")  # pragma: no cover


class SellerApi:
    """The supported operations on behalf of one seller. Methods return Amazon's JSON
    as dicts (numbers as Decimal); SP-API names are in each docstring."""

    def __init__(self, client: SpApiClient, seller_id: str, marketplace_id: str) -> None:
        self.client = client
        self.seller_id = seller_id
        self.marketplace_id = marketplace_id
        self.region = marketplace(marketplace_id).region

    def __repr__(self) -> str:
        return f"SellerApi({self.seller_id!r}, {self.marketplace_id!r})"

    def call(
        self,
        operation_name: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> SpApiResponse:
        return self.client.call(
            operation_name, region=self.region, seller_id=self.seller_id,
            path=path, query=query, body=body,
        )

    def _markets(self, marketplace_ids: Sequence[str] | None) -> list[str]:
        return list(marketplace_ids) if marketplace_ids else [self.marketplace_id]

    # -- Listings Items 2021-08-01 -------------------------------------------------------
    def get_listings_item(
        self,
        sku: str,
        *,
        included_data: Sequence[str] = ("summaries",),
        marketplace_ids: Sequence[str] | None = None,
        issue_locale: str | None = None,
    ) -> dict[str, Any]:
        """``getListingsItem``: the listing of ``sku`` (sections per ``included_data``:
        summaries, attributes, issues, offers, fulfillmentAvailability …)."""
        return self.call(
            "getListingsItem",
            path={"sellerId": self.seller_id, "sku": sku},
            query={
                "marketplaceIds": self._markets(marketplace_ids),
                "includedData": list(included_data),
                "issueLocale": issue_locale,
            },
        ).json()

    def patch_listings_item(
        self,
        sku: str,
        patches: Sequence[Mapping[str, Any]],
        *,
        product_type: str,
        marketplace_ids: Sequence[str] | None = None,
        included_data: Sequence[str] | None = None,
        mode: str | None = None,
        issue_locale: str | None = None,
    ) -> dict[str, Any]:
        """``patchListingsItem``: apply JSON patches (``op`` add/replace/merge/delete,
        ``path`` ``/attributes/<name>``). Prices as Decimal. Returns ``{sku, status
        (ACCEPTED|INVALID), submissionId, issues}``; ACCEPTED is not yet live."""
        return self.call(
            "patchListingsItem",
            path={"sellerId": self.seller_id, "sku": sku},
            query={
                "marketplaceIds": self._markets(marketplace_ids),
                "includedData": list(included_data) if included_data else None,
                "mode": mode,
                "issueLocale": issue_locale,
            },
            body={"productType": product_type, "patches": list(patches)},
        ).json()

    # -- Feeds 2021-06-30 ----------------------------------------------------------------
    def create_feed_document(self, content_type: str = JSON_CONTENT_TYPE) -> dict[str, Any]:
        """``createFeedDocument``: ``{feedDocumentId, url}`` to upload the feed to."""
        return self.call("createFeedDocument", body={"contentType": content_type}).json()

    def upload_feed_document(
        self, url: str, content: bytes | str, *, content_type: str = JSON_CONTENT_TYPE
    ) -> None:
        """PUT the feed content to the presigned ``url`` of :meth:`create_feed_document`."""
        self.client.upload_document(url, content, content_type=content_type)

    def create_feed(
        self,
        feed_type: str,
        input_feed_document_id: str,
        *,
        marketplace_ids: Sequence[str] | None = None,
        feed_options: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """``createFeed``: ``{feedId}``."""
        body: dict[str, Any] = {
            "feedType": feed_type,
            "marketplaceIds": self._markets(marketplace_ids),
            "inputFeedDocumentId": input_feed_document_id,
        }
        if feed_options:
            body["feedOptions"] = dict(feed_options)
        return self.call("createFeed", body=body).json()

    def submit_feed(
        self,
        feed_type: str,
        content: bytes | str,
        *,
        content_type: str = JSON_CONTENT_TYPE,
        marketplace_ids: Sequence[str] | None = None,
        feed_options: Mapping[str, str] | None = None,
    ) -> str:
        """createFeedDocument → upload → createFeed; returns the feed id."""
        document = self.create_feed_document(content_type)
        self.upload_feed_document(document["url"], content, content_type=content_type)
        created = self.create_feed(
            feed_type, document["feedDocumentId"],
            marketplace_ids=marketplace_ids, feed_options=feed_options,
        )
        return str(created["feedId"])

    def get_feed(self, feed_id: str) -> dict[str, Any]:
        """``getFeed``: ``processingStatus`` IN_QUEUE|IN_PROGRESS|DONE|CANCELLED|FATAL and,
        when done, ``resultFeedDocumentId``."""
        return self.call("getFeed", path={"feedId": feed_id}).json()

    def get_feed_document(self, feed_document_id: str) -> dict[str, Any]:
        """``getFeedDocument``: ``{feedDocumentId, url, compressionAlgorithm?}``."""
        return self.call("getFeedDocument", path={"feedDocumentId": feed_document_id}).json()

    @contextmanager
    def open_feed_document(self, feed_document_id: str, **options: Any) -> Iterator[IO[Any]]:
        """getFeedDocument + streamed download (see :meth:`SpApiClient.open_document`)."""
        document = self.get_feed_document(feed_document_id)
        with self.client.open_document(document, **options) as stream:
            yield stream

    def get_feed_result(self, feed_document_id: str) -> Any:
        """The processing report of a JSON feed, parsed (numbers as Decimal)."""
        with self.open_feed_document(feed_document_id, binary=True) as stream:
            return decode_json(stream.read())

    # -- Reports 2021-06-30 --------------------------------------------------------------
    def create_report(
        self,
        report_type: str,
        *,
        marketplace_ids: Sequence[str] | None = None,
        data_start_time: datetime | None = None,
        data_end_time: datetime | None = None,
        report_options: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """``createReport``: ``{reportId}``. Times must be timezone-aware."""
        body: dict[str, Any] = {
            "reportType": report_type,
            "marketplaceIds": self._markets(marketplace_ids),
        }
        if data_start_time is not None:
            body["dataStartTime"] = isoformat_utc(data_start_time)
        if data_end_time is not None:
            body["dataEndTime"] = isoformat_utc(data_end_time)
        if report_options:
            body["reportOptions"] = dict(report_options)
        return self.call("createReport", body=body).json()

    def get_report(self, report_id: str) -> dict[str, Any]:
        """``getReport``: ``processingStatus`` and, when DONE, ``reportDocumentId``."""
        return self.call("getReport", path={"reportId": report_id}).json()

    def get_reports(
        self,
        *,
        report_types: Sequence[str] | None = None,
        processing_statuses: Sequence[str] | None = None,
        marketplace_ids: Sequence[str] | None = None,
        page_size: int | None = None,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """``getReports``: one page ``{reports, nextToken?}``. With ``next_token`` Amazon
        takes no other filter, so the others are not sent."""
        if next_token:
            query: dict[str, Any] = {"nextToken": next_token}
        else:
            query = {
                "reportTypes": list(report_types) if report_types else None,
                "processingStatuses": list(processing_statuses) if processing_statuses else None,
                "marketplaceIds": list(marketplace_ids) if marketplace_ids else None,
                "pageSize": page_size,
                "createdSince": created_since,
                "createdUntil": created_until,
            }
        return self.call("getReports", query=query).json()

    def iter_reports(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every report matching ``filters`` (as :meth:`get_reports`), following pages."""
        page = self.get_reports(**filters)
        while True:
            yield from page.get("reports", [])
            token = page.get("nextToken")
            if not token:
                return
            page = self.get_reports(next_token=token)

    def get_report_document(self, report_document_id: str) -> dict[str, Any]:
        """``getReportDocument``: ``{reportDocumentId, url, compressionAlgorithm?}``; the
        url is valid for 5 minutes."""
        return self.call(
            "getReportDocument", path={"reportDocumentId": report_document_id}
        ).json()

    @contextmanager
    def open_report_document(
        self, report_document_id: str, **options: Any
    ) -> Iterator[IO[Any]]:
        """getReportDocument + streamed, gunzipped download; iterate for lines."""
        document = self.get_report_document(report_document_id)
        with self.client.open_document(document, **options) as stream:
            yield stream

    # -- Fulfillment Inbound v0 -----------------------------------------------------------
    def get_shipments(
        self,
        *,
        query_type: str = "SHIPMENT",
        shipment_statuses: Sequence[str] | None = None,
        shipment_ids: Sequence[str] | None = None,
        last_updated_after: datetime | None = None,
        last_updated_before: datetime | None = None,
        next_token: str | None = None,
        marketplace_id: str | None = None,
    ) -> dict[str, Any]:
        """``getShipments``: one page, ``{"payload": {"ShipmentData": [...], "NextToken"?}}``.

        ``query_type`` ``SHIPMENT`` (by status and/or ids) or ``DATE_RANGE`` (by
        ``LastUpdatedAfter``/``Before``, both required by Amazon, with or without statuses);
        with ``next_token`` the query is ``NEXT_TOKEN`` and no other filter is sent."""
        query: dict[str, Any] = {"MarketplaceId": marketplace_id or self.marketplace_id}
        if next_token:
            query.update(QueryType="NEXT_TOKEN", NextToken=next_token)
        else:
            if query_type not in ("SHIPMENT", "DATE_RANGE"):
                raise ValueError(f"getShipments: unsupported QueryType {query_type!r}")
            if query_type == "DATE_RANGE" and (
                    last_updated_after is None or last_updated_before is None):
                raise ValueError("getShipments DATE_RANGE needs last_updated_after and _before")
            query.update(
                QueryType=query_type,
                ShipmentStatusList=list(shipment_statuses) if shipment_statuses else None,
                ShipmentIdList=list(shipment_ids) if shipment_ids else None,
                LastUpdatedAfter=last_updated_after,
                LastUpdatedBefore=last_updated_before,
            )
        return self.call("getShipments", query=query).json()

    def iter_shipments(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every shipment matching ``filters`` (as :meth:`get_shipments`), following pages."""
        marketplace_id = filters.get("marketplace_id")
        page = self.get_shipments(**filters)
        while True:
            payload = page.get("payload") or {}
            yield from payload.get("ShipmentData") or []
            token = payload.get("NextToken")
            if not token:
                return
            page = self.get_shipments(next_token=token, marketplace_id=marketplace_id)

    def get_shipment_items(
        self, shipment_id: str, *, marketplace_id: str | None = None
    ) -> dict[str, Any]:
        """``getShipmentItemsByShipmentId``: ``{"payload": {"ItemData": [{ShipmentId,
        SellerSKU, FulfillmentNetworkSKU, QuantityShipped, QuantityReceived, ...}]}}``."""
        return self.call(
            "getShipmentItemsByShipmentId", path={"shipmentId": shipment_id},
            query={"MarketplaceId": marketplace_id or self.marketplace_id},
        ).json()

    # -- Notifications v1 (seller-authorised part) ---------------------------------------
    def get_subscription(
        self, notification_type: str, *, payload_version: str | None = None
    ) -> dict[str, Any]:
        """``getSubscription``: ``{payload: {subscriptionId, destinationId, …}}``;
        :class:`SpApiNotFound` when the seller has none."""
        return self.call(
            "getSubscription",
            path={"notificationType": notification_type},
            query={"payloadVersion": payload_version},
        ).json()

    def create_subscription(
        self,
        notification_type: str,
        destination_id: str,
        *,
        payload_version: str = "1.0",
        processing_directive: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``createSubscription``: ``{payload: {subscriptionId, …}}``;
        :class:`SpApiConflict` when it exists already."""
        body: dict[str, Any] = {"payloadVersion": payload_version, "destinationId": destination_id}
        if processing_directive:
            body["processingDirective"] = dict(processing_directive)
        return self.call(
            "createSubscription", path={"notificationType": notification_type}, body=body
        ).json()

    # -- Product Pricing v0 batches ------------------------------------------------------
    def get_item_offers_batch(
        self,
        asins: Iterable[str],
        *,
        item_condition: str = "New",
        customer_type: str = "Consumer",
        marketplace_id: str | None = None,
    ) -> dict[str, Any]:
        """``getItemOffersBatch`` for ≤ 20 ASINs: ``{responses: [{status, body, request}]}``."""
        return self._offers_batch(
            "getItemOffersBatch", "items", asins, item_condition=item_condition,
            customer_type=customer_type, marketplace_id=marketplace_id,
        )

    def get_listing_offers_batch(
        self,
        skus: Iterable[str],
        *,
        item_condition: str = "New",
        customer_type: str = "Consumer",
        marketplace_id: str | None = None,
    ) -> dict[str, Any]:
        """``getListingOffersBatch`` for ≤ 20 of our SKUs (our offer and competitors')."""
        return self._offers_batch(
            "getListingOffersBatch", "listings", skus, item_condition=item_condition,
            customer_type=customer_type, marketplace_id=marketplace_id,
        )

    def _offers_batch(
        self,
        operation_name: str,
        resource: str,
        ids: Iterable[str],
        *,
        item_condition: str,
        customer_type: str,
        marketplace_id: str | None,
    ) -> dict[str, Any]:
        """A Product Pricing v0 offers batch: one ``GET …/{resource}/{id}/offers`` per id."""
        market = marketplace_id or self.marketplace_id
        requests = [
            {
                "uri": f"/products/pricing/v0/{resource}/{quote(item_id, safe='')}/offers",
                "method": "GET",
                "MarketplaceId": market,
                "ItemCondition": item_condition,
                "CustomerType": customer_type,
            }
            for item_id in ids
        ]
        _check_batch(requests)
        return self.call(operation_name, body={"requests": requests}).json()


class ApplicationApi:
    """Grantless operations (application token, no seller): notification destinations."""

    def __init__(self, client: SpApiClient, region: Region) -> None:
        self.client = client
        self.region = region

    def call(self, operation_name: str, *, body: Any = None) -> SpApiResponse:
        return self.client.call(operation_name, region=self.region, body=body)

    def get_destinations(self) -> dict[str, Any]:
        """``getDestinations``: ``{payload: [{name, destinationId, resource}]}``."""
        return self.call("getDestinations").json()

    def create_destination(
        self,
        name: str,
        *,
        sqs_arn: str | None = None,
        event_bridge: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """``createDestination`` for an SQS queue (``sqs_arn``) or EventBridge
        (``{"region", "accountId"}``): ``{payload: {name, destinationId, resource}}``;
        :class:`SpApiConflict` when one exists for the resource."""
        if (sqs_arn is None) == (event_bridge is None):
            raise ValueError("give exactly one of sqs_arn and event_bridge")
        spec: dict[str, Any] = (
            {"sqs": {"arn": sqs_arn}} if sqs_arn else {"eventBridge": dict(event_bridge or {})}
        )
        return self.call(
            "createDestination", body={"name": name, "resourceSpecification": spec}
        ).json()

    def ensure_sqs_destination(self, name: str, sqs_arn: str) -> str:
        """The destination id for ``sqs_arn``, created if missing (409 → look it up)."""
        try:
            created = self.create_destination(name, sqs_arn=sqs_arn)
            return str(created["payload"]["destinationId"])
        except SpApiConflict:
            for destination in self.get_destinations().get("payload") or []:
                resource = destination.get("resource") or {}
                if (resource.get("sqs") or {}).get("arn") == sqs_arn:
                    return str(destination["destinationId"])
            raise


# -- helpers -----------------------------------------------------------------------------
def encode_query(params: Mapping[str, Any]) -> str:
    """SP-API query string: lists comma-joined, datetimes ISO UTC, None dropped."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            text = isoformat_utc(value)
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            if not value:
                continue
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        pairs.append((name, text))
    return urlencode(pairs, quote_via=quote, safe=",")


def charset_of(content_type: str | None) -> str | None:
    """``text/plain;charset=Cp1252`` → ``cp1252`` (with Java-style aliases mapped)."""
    if not content_type:
        return None
    match = re.search(r"charset=\"?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    if not match:
        return None
    name = match.group(1).lower()
    return {"windows-31j": "cp932", "ms932": "cp932"}.get(name, name)


def _check_batch(requests: list[dict[str, Any]]) -> None:
    if not requests:
        raise ValueError("a pricing batch needs at least one item")
    if len(requests) > MAX_PRICING_BATCH:
        raise ValueError(f"a pricing batch takes at most {MAX_PRICING_BATCH} items")


def _parse_body(data: bytes) -> Any:
    try:
        return decode_json(data)
    except ValueError:
        return None


def _summary(errors: tuple[ApiErrorDetail, ...], raw: bytes) -> str:
    if errors:
        return "; ".join(f"{e.code}: {e.message}" for e in errors)
    text = raw[:200].decode("utf-8", "replace").strip() if raw else ""
    return text or "no error body"


def _xml_code(raw: bytes) -> str | None:
    match = re.search(rb"<Code>([^<]{1,64})</Code>", raw or b"")
    return match.group(1).decode("ascii", "replace") if match else None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _log_call(
    operation_name: str,
    who: str,
    status: int | None,
    request_id: str | None,
    attempt: int,
    latency_ms: float,
    *,
    error: BaseException | None = None,
) -> None:
    """One line per HTTP exchange. Never a token, secret or query string."""
    level = logging.INFO if status is not None and status < 400 else logging.WARNING
    outcome = f"status={status}" if status is not None else f"error={type(error).__name__}"
    logger.log(
        level,
        "spapi %s %s %s attempt=%d request_id=%s latency_ms=%s",
        operation_name, who, outcome, attempt, request_id, latency_ms,
        extra={
            "operation": operation_name,
            "caller": who,
            "status": status,
            "request_id": request_id,
            "attempt": attempt,
            "latency_ms": latency_ms,
        },
    )


__all__ = [
    "APPLICATION_KEY",
    "JSON_CONTENT_TYPE",
    "ApplicationApi",
    "SellerApi",
    "SpApiClient",
    "SpApiClientError",
    "SpApiResponse",
    "charset_of",
    "encode_query",
]
