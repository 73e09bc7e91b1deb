"""Logger, Metrics and (only when tracing is on) Tracer of the API function.

``POWERTOOLS_TRACE_DISABLED`` unset or false (as in AWS) → a Tracer is created; set to
true (tests, local stack) → ``tracer`` is ``None`` and aws_xray_sdk is never imported,
which saves its import time on every cold start that does not trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics

from functions.core.settings import BaseConfig, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.tracing import Tracer


class ObservabilityConfig(BaseConfig):
    powertools_service_name: str = "api"
    powertools_metrics_namespace: str = "sellerops"
    powertools_trace_disabled: bool = False


def _tracer(config: ObservabilityConfig) -> Tracer | None:
    if config.powertools_trace_disabled:
        return None
    from aws_lambda_powertools.tracing import Tracer

    return Tracer(service=config.powertools_service_name)


config = load_settings(ObservabilityConfig)
logger = Logger(service=config.powertools_service_name)
metrics = Metrics(namespace=config.powertools_metrics_namespace)
tracer = _tracer(config)
