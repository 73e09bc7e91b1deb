"""FeedResultsFunction (every five minutes): feed processing reports → PriceHistory,
failed-but-retryable prices → the queue again, due feed buffers → a flush request.

See :class:`~functions.reprice.publishing.FeedTracker` and docs/PUBLISHING.md. A seller
whose SP-API calls are throttled is skipped until the next run; anything else that fails
raises, and the schedule's retry policy (then AsyncEventsDLQ) takes over. Every step is
idempotent: a feed is closed only after its results are recorded and its retries
enqueued (with deterministic deduplication ids).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from functions.core.observability import Counts, metric_name, observability
from functions.core.settings import load_settings
from functions.reprice.publishing import (
    FeedTracker,
    PublishingConfig,
    PublishingPolicy,
    build_tracker,
)

obs = observability("feed-results")
logger, metrics, tracer = obs.logger, obs.metrics, obs.tracer
copy_config_to_registered_loggers(
    source_logger=logger, include={"functions.core.spapi", "functions.reprice.publishing"}
)

_tracker: FeedTracker | None = None
_client: Any = None
_built: tuple[Any, FeedTracker] | None = None


def use(*, tracker: FeedTracker | None = None, client: Any = None) -> None:
    """Set (or with no arguments forget) the process-wide tracker / SP-API client."""
    global _tracker, _client, _built
    _tracker, _client, _built = tracker, client, None


def tracker() -> FeedTracker:
    """Built from the environment on first use and again whenever the settings cache was
    cleared (see :func:`functions.reprice.publisher.publisher`)."""
    global _built
    if _tracker is not None:
        return _tracker
    from functions.core.settings import SpApiConfig, cached_settings

    settings = cached_settings(SpApiConfig)
    if _built is None or _built[0] is not settings:
        client = _client
        if client is None:
            from functions.core.spapi import SpApiClient

            client = SpApiClient.from_settings(settings)
        _built = (settings, build_tracker(client=client))
    return _built[1]


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    service = tracker()
    service.policy = PublishingPolicy.from_config(load_settings(PublishingConfig))
    counts = service.run()
    metrics_counts = Counts()
    for name, value in counts.items():
        metrics_counts.add(metric_name(name), value)
    metrics_counts.flush(metrics)
    logger.info("feed results", extra={"counts": dict(counts)})
    return dict(counts)
