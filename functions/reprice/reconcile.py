"""ReconcileFunction: re-read the market of SKUs that heard nothing for a while (schedule).

Notifications come at least once, out of order, and not at all for an offer that is out
of stock or outside the top 20 (repricing.md §2). Every 30 minutes this function picks,
per repricer seller and marketplace, the configured, unpaused, non-Push SKUs whose state
last heard of their market (last ``TimeOfOfferChange`` applied, or our offer last seen)
``RECONCILE_AFTER_MINUTES`` ago or more — or whose live price disagrees with ours — reads
their ASINs with ``getItemOffersBatch`` (20 per call, the longest silent first), turns
each answer into the offer-change view
(:mod:`functions.reprice.logic.offers_from_pricing`) and decides it on the notification
path (source ``reconcile@<time of the read>``).

Quota: getItemOffersBatch allows 0.1 request/s (burst 1) per seller and application. The
SP-API client's token bucket waits for it; calls go round-robin across sellers so their
buckets refill in parallel, and no new call starts ``TIME_MARGIN_MS`` before the timeout
(what is left is due again next run, longest silent first). A seller whose calls fail is
logged, counted and skipped; the others go on.

Credentials: ``SpApiClient.from_settings()`` (Secrets Manager; ``SPAPI_ENDPOINT`` /
``LWA_ENDPOINT`` for the simulator), created on the first call it is needed for. Tests may
install a client with :func:`use_spapi_client`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from pydantic import Field

from functions.core.observability import Counts, observability
from functions.core.settings import BaseConfig, cached_settings
from functions.reprice.service import OffersReader, count_outcome, shared_service

if TYPE_CHECKING:
    from functions.core.spapi import SpApiClient

TIME_MARGIN_MS = 30_000  # one rate-limit wait (10 s) + one slow call + the decisions


class ReconcileConfig(BaseConfig):
    """``RECONCILE_AFTER_MINUTES``: silence after which a SKU's market is read again."""

    reconcile_after_minutes: int = Field(default=360, ge=1)


_observability = observability("reconcile")
logger = _observability.logger
metrics = _observability.metrics
tracer = _observability.tracer
copy_config_to_registered_loggers(
    source_logger=logger,
    include={"functions.reprice.service", "functions.reprice.updates", "functions.core.spapi"},
)

_installed: SpApiClient | None = None
_client: tuple[Any, SpApiClient] | None = None


def use_spapi_client(client: SpApiClient | None) -> None:
    """Use ``client`` instead of ``SpApiClient.from_settings()`` (None: back to settings)."""
    global _installed
    _installed = client


def spapi_client() -> SpApiClient:
    """The process's SP-API client (its token buckets live as long as the container)."""
    global _client
    if _installed is not None:
        return _installed
    from functions.core.settings import SpApiConfig
    from functions.core.spapi import SpApiClient

    settings = cached_settings(SpApiConfig)
    if _client is None or _client[0] is not settings:
        _client = (settings, SpApiClient.from_settings(settings))
    return _client[1]


def reader_for(seller_id: str, marketplace_id: str) -> OffersReader:
    """getItemOffersBatch on behalf of ``seller_id`` (the client is made on first use)."""

    def read(asins: list[str], condition: str) -> Any:
        seller = spapi_client().seller(seller_id, marketplace_id)
        return seller.get_item_offers_batch(asins, item_condition=condition)

    return read


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = cached_settings(ReconcileConfig)
    service = shared_service()
    service.forget_switches()
    counts = Counts()

    def deadline() -> bool:
        return context.get_remaining_time_in_millis() < TIME_MARGIN_MS

    def on_error(seller_id: str, marketplace_id: str, error: Exception) -> None:
        counts.add("ReconcileFailures")
        logger.warning("reconcile failed for %s on %s: %s", seller_id, marketplace_id, error,
                       extra={"seller_id": seller_id, "marketplace_id": marketplace_id,
                              "error": type(error).__name__})

    targets = service.repricer_targets()
    try:
        outcomes = service.reconcile(
            targets, reader_for,
            quiet_for=timedelta(minutes=settings.reconcile_after_minutes),
            deadline=deadline, on_error=on_error,
        )
        for outcome in outcomes:
            count_outcome(counts, outcome, unit="Reads")
            for sku in outcome.skus:
                log = logger.info if sku.noteworthy else logger.debug
                log("%s %s: %s", sku.action, sku.sku, sku.reason,
                    extra={**sku.log_fields(), "seller_id": outcome.seller_id,
                           "asin": outcome.asin, "source": outcome.source})
        counts.add("AsinsReconciled", len(outcomes))
    finally:
        counts.flush(metrics)
    return {"asins": len(outcomes), "enqueued": sum(o.enqueued for o in outcomes)}


_handler = logger.inject_lambda_context(clear_state=True)(_handle)
if tracer is not None:
    _handler = tracer.capture_lambda_handler(_handler)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handler of ReconcileFunction (template.yaml): a scheduled event in."""
    return _handler(event, context)
