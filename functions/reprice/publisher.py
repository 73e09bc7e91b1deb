"""PublishPricesFunction: the FIFO price-updates queue → Amazon (docs/PUBLISHING.md).

SQS FIFO event, batch ≤ 10, ``ReportBatchItemFailures``. A batch holds records of one or
more message groups (group = seller), each group in queue order. Per group:

- records are parsed in order (a :class:`PriceUpdate`, or a flush request from the
  schedule); the first unreadable one stops the group: it and every later record of its
  group are reported as failures, as AWS requires for FIFO queues (later records must not
  overtake it). The unreadable record reaches the DLQ after the queue's retries and the
  group moves on;
- the readable prefix goes to :meth:`Publisher.publish` (coalesce, switches, patch or
  feed buffer). Updates that must be retried (throttled or 5xx after the client's own
  retries) fail their earliest record and every later record of the group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from functions.core.observability import Counts, metric_name, observability
from functions.core.settings import load_settings
from functions.reprice.price_update import PriceUpdate
from functions.reprice.publishing import (
    FlushRequest,
    Publisher,
    PublishingConfig,
    PublishingPolicy,
    build_publisher,
    parse_message,
)

obs = observability("publish-prices")
logger, metrics, tracer = obs.logger, obs.metrics, obs.tracer
# The SP-API client's and the service's log lines go out in the Powertools JSON format.
copy_config_to_registered_loggers(
    source_logger=logger, include={"functions.core.spapi", "functions.reprice.publishing"}
)

_publisher: Publisher | None = None
_client: Any = None
_built: tuple[Any, Publisher] | None = None


def use(*, publisher: Publisher | None = None, client: Any = None) -> None:
    """Set (or with no arguments forget) the process-wide publisher / SP-API client."""
    global _publisher, _client, _built
    _publisher, _client, _built = publisher, client, None


def publisher() -> Publisher:
    """The publisher, built from the environment on first use and again whenever the
    settings cache was cleared (the local stack does when it switches stacks; Lambda never)."""
    global _built
    if _publisher is not None:
        return _publisher
    from functions.core.settings import SpApiConfig, cached_settings

    settings = cached_settings(SpApiConfig)
    if _built is None or _built[0] is not settings:
        client = _client
        if client is None:
            from functions.core.spapi import RateLimiter, SpApiClient

            config = load_settings(PublishingConfig)
            # A Lambda should rather hand a record back to the queue than sleep long
            # for a token: waits beyond this raise SpApiThrottled (→ retried).
            client = SpApiClient.from_settings(
                settings,
                rate_limiter=RateLimiter(max_wait=config.publish_patch_max_wait_seconds),
            )
        _built = (settings, build_publisher(client=client))
    return _built[1]


def process(records: Sequence[Mapping[str, Any]], service: Publisher) -> tuple[list[str], Counts]:
    """Publish a batch of SQS records; returns the ids of records that failed."""
    counts = Counts()
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        group = str((record.get("attributes") or {}).get("MessageGroupId") or "")
        groups.setdefault(group, []).append(record)
    failed: list[str] = []
    readable: dict[str, list[tuple[str, PriceUpdate | FlushRequest]]] = {}
    for group, members in groups.items():
        ok = readable.setdefault(group, [])
        for position, record in enumerate(members):
            try:
                ok.append((str(record["messageId"]), parse_message(str(record["body"]))))
            except (KeyError, TypeError, ValueError) as error:
                later = [str(r.get("messageId")) for r in members[position:]]
                logger.warning(
                    "unreadable price update: failing it and the rest of its group",
                    extra={"message_id": record.get("messageId"), "group": group,
                           "error": str(error)[:500], "held_back": len(later) - 1},
                )
                counts.add("Malformed")
                failed.extend(later)
                break
    items = [item for members in readable.values() for _, item in members]
    updates = [i for i in items if isinstance(i, PriceUpdate)]
    flushes = [(i.seller_id, i.marketplace_id) for i in items if isinstance(i, FlushRequest)]
    counts.add("PriceUpdates", len(updates))
    result = service.publish(updates, flush=flushes)
    for members in readable.values():
        for position, (_, item) in enumerate(members):
            if isinstance(item, PriceUpdate) and item.key in result.failed:
                failed.extend(message_id for message_id, _ in members[position:])
                break
    for status, value in result.counts.items():
        counts.add(metric_name(status), value)
    counts.add("FeedsCreated", len(result.feeds))
    counts.add("RecordsFailed", len(failed))
    return list(dict.fromkeys(failed)), counts


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    service = publisher()
    # Re-read the switches of the environment on every invocation (cheap): the kill
    # switch must act on the next batch, also where a process outlives a config change
    # (the local stack).
    service.policy = PublishingPolicy.from_config(load_settings(PublishingConfig))
    failed, counts = process(event.get("Records") or [], service)
    counts.flush(metrics)
    if failed:
        logger.info("records returned to the queue", extra={"failed": len(failed)})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
