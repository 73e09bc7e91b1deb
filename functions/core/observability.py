"""Logger, Metrics and (only when tracing is on) Tracer for a Lambda handler module.

``POWERTOOLS_TRACE_DISABLED`` unset or false (as in AWS) → a Tracer is created; set to
true (tests, local stack) → ``tracer`` is ``None`` and aws_xray_sdk is never imported,
which saves its import time on every cold start that does not trace.

``POWERTOOLS_SERVICE_NAME`` names the service (each function sets its own in
template.yaml); ``default_service`` applies when it is unset.

:class:`Counts` collects the counters of one invocation and writes them as EMF at the end:
plain counters into the function's metric set, counters with one dimension (e.g.
notifications by type) as one EMF document each, so a dimension never leaks onto the
other metrics.

:func:`process_sqs_batch` runs an SQS batch through Powertools' ``BatchProcessor`` for
the queue-driven handlers (partial batch response, ``FailedRecords``, cleanup).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, Metrics, MetricUnit

from functions.core.settings import BaseConfig, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.tracing import Tracer
    from aws_lambda_powertools.utilities.batch import BatchProcessor


class ObservabilityConfig(BaseConfig):
    powertools_service_name: str | None = None
    powertools_metrics_namespace: str = "sellerops"
    powertools_trace_disabled: bool = False


@dataclass(frozen=True)
class Observability:
    logger: Logger
    metrics: Metrics
    tracer: Tracer | None
    service: str


def _tracer(config: ObservabilityConfig, service: str) -> Tracer | None:
    if config.powertools_trace_disabled:
        return None
    from aws_lambda_powertools.tracing import Tracer

    return Tracer(service=service)


def observability(default_service: str) -> Observability:
    """The Logger, Metrics and Tracer (or None) of a handler module, from the environment."""
    config = load_settings(ObservabilityConfig)
    service = config.powertools_service_name or default_service
    return Observability(
        logger=Logger(service=service),
        metrics=Metrics(namespace=config.powertools_metrics_namespace, service=service),
        tracer=_tracer(config, service),
        service=service,
    )


def metric_name(name: str) -> str:
    """A snake_case counter name as a CamelCase metric name (``feeds_closed`` → ``FeedsClosed``)."""
    return "".join(part.capitalize() for part in name.split("_"))


class Counts:
    """Counters of one invocation: ``add("Stale")``, ``add("Decisions", Action="change")``.

    :meth:`flush` writes them through ``metrics`` (EMF on stdout, no API call) and resets.
    """

    def __init__(self) -> None:
        self.plain: Counter[str] = Counter()
        self.dimensioned: Counter[tuple[str, str, str]] = Counter()
        # (namespace, service, default dimensions, dimension, value) → its EMF writer
        self._writers: dict[tuple[Any, ...], EphemeralMetrics] = {}

    def add(self, name: str, value: int = 1, **dimension: str) -> None:
        if len(dimension) > 1:
            raise ValueError("one dimension per counter")
        if dimension:
            ((key, label),) = dimension.items()
            self.dimensioned[(name, key, str(label))] += value
        else:
            self.plain[name] += value

    def get(self, name: str, **dimension: str) -> int:
        if dimension:
            ((key, label),) = dimension.items()
            return self.dimensioned[(name, key, str(label))]
        return self.plain[name]

    def flush(self, metrics: Metrics) -> None:
        """Plain counters as one EMF document of ``metrics``; each dimensioned counter as
        its own document (``metrics``' default dimensions, ``service``, its dimension),
        written by an ``EphemeralMetrics`` kept per dimension value: the same document
        ``single_metric`` writes, without building a new metrics provider each time."""
        for name, value in sorted(self.plain.items()):
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        if metrics.metric_set:
            metrics.flush_metrics()
        for (name, key, label), value in sorted(self.dimensioned.items()):
            writer = self._writer(metrics, key, label)
            writer.add_metric(name=name, unit=MetricUnit.Count, value=value)
            writer.flush_metrics()
        self.plain.clear()
        self.dimensioned.clear()

    def _writer(self, metrics: Metrics, key: str, label: str) -> EphemeralMetrics:
        """The EMF writer of one dimension value; its dimensions are default dimensions,
        which Powertools puts back after every flush."""
        defaults = metrics.default_dimensions
        cache_key = (metrics.namespace, metrics.service, tuple(defaults.items()), key, label)
        writer = self._writers.get(cache_key)
        if writer is None:
            if len(self._writers) >= _WRITERS:
                self._writers.clear()
            writer = EphemeralMetrics(namespace=metrics.namespace)
            writer.set_default_dimensions(
                **{**defaults, "service": metrics.service or "", key: label})
            self._writers[cache_key] = writer
        return writer


_WRITERS = 500  # EMF writers kept (one per dimension value seen)


def process_sqs_batch(
    event: dict[str, Any],
    context: Any,
    *,
    processor: BatchProcessor,
    record_handler: Callable[..., Any],
    counts: Counts,
    logger: Logger,
    metrics: Metrics,
    record_keys: list[str],
) -> dict[str, Any]:
    """An SQS event through ``processor`` and ``record_handler``: the partial batch
    response (``batchItemFailures``), whose failed records are counted as ``FailedRecords``.

    Whatever happens, the per-record log keys ``record_keys`` are removed and ``counts``
    flushed through ``metrics``.
    """
    from aws_lambda_powertools.utilities.batch import process_partial_response

    try:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        failed = len(response.get("batchItemFailures", []))
        if failed:
            counts.add("FailedRecords", failed)
        return response
    finally:
        logger.remove_keys(record_keys)
        counts.flush(metrics)
