"""Logger, Metrics and (only when tracing is on) Tracer of the API function.

Built by :func:`functions.core.observability.observability`: ``POWERTOOLS_TRACE_DISABLED``
set to true (tests, local stack) → ``tracer`` is ``None`` and aws_xray_sdk is never imported.
"""

from __future__ import annotations

from functions.core.observability import observability

_observability = observability("api")
logger = _observability.logger
metrics = _observability.metrics
tracer = _observability.tracer
