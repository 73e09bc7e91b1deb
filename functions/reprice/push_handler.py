"""PushStrategyFunction: the hourly Push decision of every Push SKU (EventBridge schedule).

Which listings: the sellers of the accounts that bought the Repricer (Accounts, a small
table), then one Query per seller × marketplace on the Listings table's partition
``seller_id#marketplace_id`` (:meth:`RepricingService.push
<functions.reprice.service.RepricingService.push>`). A scan of Listings would read every
listing of every seller — most of them Buy Box or unconfigured catalogue synced from
Amazon — every hour; the queries read only the repricer sellers' partitions, and a
marketplace where a seller has no listing costs one empty Query.

Each Push SKU is decided with ``now = utc_now()``, stored with a conditional write and
its change enqueued (source ``push@<hour>``), exactly like a notification's decision.
Retrying the same hour is harmless: the FIFO queue drops an update it has seen within
5 minutes (same source and SKU) and a SKU that moved is within its dwell time. A seller
that fails is logged and the others still run; the invocation then fails so the schedule
retries it. The run stops starting new SKUs ``TIME_MARGIN_MS`` before the timeout.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from functions.core.observability import Counts, observability
from functions.reprice.service import count_outcome, shared_service

TIME_MARGIN_MS = 20_000

_observability = observability("push-strategy")
logger = _observability.logger
metrics = _observability.metrics
tracer = _observability.tracer
copy_config_to_registered_loggers(
    source_logger=logger, include={"functions.reprice.service", "functions.reprice.updates"}
)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    service = shared_service()
    service.forget_switches()  # a paused seller must not wait for a cache to expire

    def deadline() -> bool:
        return context.get_remaining_time_in_millis() < TIME_MARGIN_MS

    counts = Counts()
    failed: list[str] = []
    decided = 0
    try:
        for seller_id, marketplace_id in service.repricer_targets():
            logger.append_keys(seller_id=seller_id)
            try:
                outcome = service.push(seller_id, marketplace_id, deadline=deadline)
            except Exception:
                logger.exception("push failed for %s on %s", seller_id, marketplace_id)
                counts.add("PushFailures")
                failed.append(f"{seller_id}/{marketplace_id}")
                continue
            count_outcome(counts, outcome, unit=None)
            decided += len(outcome.skus)
            for sku in outcome.skus:
                log = logger.info if sku.noteworthy else logger.debug
                log("%s %s: %s", sku.action, sku.sku, sku.reason,
                    extra={**sku.log_fields(), "marketplace_id": marketplace_id})
            if outcome.reason:
                logger.warning(outcome.reason, extra={"marketplace_id": marketplace_id})
                counts.add("PushDeferred")
        logger.remove_keys(["seller_id"])
        counts.add("PushSkusDecided", decided)
    finally:
        counts.flush(metrics)
    if failed:
        raise RuntimeError(f"Push failed for {', '.join(failed)} (the others ran)")
    return {"decided": decided}


_handler = logger.inject_lambda_context(clear_state=True)(_handle)
if tracer is not None:
    _handler = tracer.capture_lambda_handler(_handler)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handler of PushStrategyFunction (template.yaml): a scheduled event in."""
    return _handler(event, context)
