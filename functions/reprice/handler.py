"""RepriceFunction: SP-API notifications on PriceNotificationsQueue → price decisions.

An SQS batch (≤ 10, ``ReportBatchItemFailures``) goes through Powertools'
``BatchProcessor``; each record, alone:

1. its body is read as JSON (``parse_float=Decimal``) and parsed with
   :func:`~functions.reprice.logic.parse_notification`. A body that is not JSON or not
   actionable fails this record only (reason logged, ``InvalidNotifications``); after
   the queue's 5 receives SQS moves it to PriceNotificationsDLQ;
2. a ``NotificationType`` the Repricer does not handle is acknowledged, logged and counted
   (``UnhandledNotifications``): Amazon adds types, they must never reach the DLQ;
3. a handled one is applied once per ``NotificationId`` (Powertools idempotency on the
   Idempotency table, :data:`IDEMPOTENCY_TTL` seconds): a repeat gets the stored outcome
   back and changes nothing (``DuplicateNotifications``); one still being applied
   elsewhere fails the record, which SQS retries;
4. :meth:`RepricingService.handle_notification
   <functions.reprice.service.RepricingService.handle_notification>` decides, stores,
   enqueues and records it (see ``functions/reprice/service.py``).

Logs carry ``seller_id``, ``asin``, ``notification_id`` / ``notification_type`` and, per
decision, ``sku``; metrics are EMF (docs/REPRICER-RUNTIME.md lists them).
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

from functions.core.observability import Counts, observability, process_sqs_batch
from functions.reprice.logic import Notification, NotificationError, parse_notification
from functions.reprice.service import (
    Outcome,
    RepricerConfig,
    RepricingService,
    count_outcome,
    shared_service,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

IDEMPOTENCY_TTL = 4 * 24 * 3600  # the queue keeps a message 4 days: a repeat cannot be older
# Records are "<prefix>#<md5 of the NotificationId>": a fixed prefix instead of Powertools'
# default "<function name>.<module>._apply" keeps a NotificationId's record valid when the
# stack renames the function (and spares building that name again for every record).
IDEMPOTENCY_KEY_PREFIX = "reprice.notification"
_RECORD_KEYS = ["message_id", "notification_id", "notification_type", "seller_id", "asin"]

_observability = observability("reprice")
logger = _observability.logger
metrics = _observability.metrics
tracer = _observability.tracer
copy_config_to_registered_loggers(
    source_logger=logger, include={"functions.reprice.service", "functions.reprice.updates"}
)

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
counts = Counts()


def parse_body(body: str) -> Notification:
    """The SQS body → a Notification; :class:`NotificationError` names what is wrong."""
    try:
        data = json.loads(body, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise NotificationError(f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
                                ) from None
    return parse_notification(data)


# -- the runtime, built on the first invocation --------------------------------------------
class _Runtime:
    """The service and the idempotent ``apply``, created lazily (import stays cheap)."""

    def __init__(self, service: RepricingService, persistence_store: Any) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            IdempotencyConfig,
            idempotent_function,
        )

        self.service = service
        # The key is the NotificationId itself, no JMESPath: Powertools hashes the value
        # it is given exactly as it hashed ``notification_id`` picked out of
        # ``{"notification_id": …}`` before (same record ids), without a JMESPath search
        # and a deepcopy of the dict twice per notification.
        self.idempotency = IdempotencyConfig(
            expires_after_seconds=IDEMPOTENCY_TTL,
            raise_on_no_idempotency_key=True,
            response_hook=_replayed,
        )
        self.apply = idempotent_function(
            data_keyword_argument="notification_key",
            persistence_store=persistence_store,
            config=self.idempotency,
            output_serializer=_outcome_serializer(),
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )(_apply)

    @classmethod
    def from_settings(cls, settings: RepricerConfig) -> _Runtime:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return cls(shared_service(),
                   DynamoDBPersistenceLayer(table_name=settings.idempotency_table))


def _apply(*, notification_key: str, notification: Notification,
           service: RepricingService) -> Outcome:
    """Applied once per NotificationId (the idempotency store keeps a summary)."""
    return service.handle_notification(notification)


def _outcome_serializer() -> Any:
    """Stores ``{source, status, enqueued}`` of an Outcome: all a repeat needs to say that
    (and what) it repeats; the full outcome is in PriceHistory already."""
    from aws_lambda_powertools.utilities.idempotency.serialization.base import (
        BaseIdempotencySerializer,
    )

    class OutcomeSummary(BaseIdempotencySerializer):
        def to_dict(self, data: Outcome) -> dict[str, Any]:
            return {"source": data.source, "status": data.status, "enqueued": data.enqueued}

        def from_dict(self, data: dict[str, Any]) -> dict[str, Any]:
            return data

    return OutcomeSummary()


def _replayed(response: dict[str, Any] | None, _record: Any) -> dict[str, Any]:
    return {**(response or {}), "duplicate": True}


_runtime: tuple[RepricerConfig, _Runtime] | None = None
_installed: _Runtime | None = None


def use_runtime(service: RepricingService | None, persistence_store: Any = None) -> None:
    """Run on ``service`` and an idempotency ``persistence_store`` instead of the ones the
    environment names (benchmarks, tests); ``None`` goes back to the environment."""
    global _installed
    _installed = None if service is None else _Runtime(service, persistence_store)


def runtime() -> _Runtime:
    """Built once per process (again when the local stack resets the settings cache)."""
    global _runtime
    if _installed is not None:
        return _installed
    from functions.core.settings import cached_settings

    settings = cached_settings(RepricerConfig)
    if _runtime is None or _runtime[0] is not settings:
        _runtime = (settings, _Runtime.from_settings(settings))
    return _runtime[1]


# -- one record ---------------------------------------------------------------------------
def record_handler(record: SQSRecord) -> str:
    logger.remove_keys(_RECORD_KEYS)
    # The record's log keys go in with one ``append_keys`` (message_id first, as they
    # are logged) once the body is read; a rejected body logs its message_id alone.
    message_id = record.message_id
    try:
        notification = parse_body(record.body)
    except NotificationError as exc:
        logger.append_keys(message_id=message_id)
        counts.add("InvalidNotifications")
        logger.warning(
            "rejected notification: %s", exc,
            extra={"reason": str(exc),
                   "receive_count": record.attributes.approximate_receive_count},
        )
        raise
    kind = notification.notification_type
    counts.add("Notifications", NotificationType=kind)
    keys: dict[str, Any] = {"message_id": message_id,
                            "notification_id": notification.notification_id,
                            "notification_type": kind}
    if not notification.is_handled:
        logger.append_keys(**keys)
        counts.add("UnhandledNotifications")
        logger.info("notification type %s is not handled by the Repricer: acknowledged", kind)
        return "unhandled"
    payload = notification.offer_change
    if payload is not None:
        keys.update(seller_id=payload.seller_id, asin=payload.asin)
    elif notification.order_change is not None:
        keys["seller_id"] = notification.order_change.seller_id
    logger.append_keys(**keys)
    rt = runtime()
    try:
        result = rt.apply(
            notification_key=notification.notification_id,
            notification=notification,
            service=rt.service,
        )
    except Exception as exc:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
        )

        if isinstance(exc, IdempotencyAlreadyInProgressError):
            counts.add("NotificationsInProgress")
            logger.warning("notification is being applied by another invocation: retry later")
        else:
            counts.add("FailedNotifications")
            logger.exception("notification failed: %s", exc)
        raise
    if isinstance(result, dict):  # the stored summary of the first time: a repeat
        # SQS delivers at least once: a repeat is routine (counted; DEBUG, like stale).
        counts.add("DuplicateNotifications")
        if logger.log_level <= logging.DEBUG:
            logger.debug("duplicate NotificationId: applied before (%s), nothing changed",
                         result.get("status"), extra={"first_status": result.get("status")})
        return "duplicate"
    _report(result)
    return result.status


def _report(outcome: Outcome) -> None:
    count_outcome(counts, outcome)
    # Routine outcomes (holds, stale…) are DEBUG lines; at INFO, skip building them. The
    # logger's own level is checked (an explicit INFO or above drops DEBUG for certain).
    debug = logger.log_level <= logging.DEBUG
    if not outcome.skus:
        if outcome.status in ("unhandled", "skipped"):
            logger.info("%s: %s", outcome.status, outcome.reason,
                        extra={"status": outcome.status})
        elif debug:
            logger.debug("%s: %s", outcome.status, outcome.reason,
                         extra={"status": outcome.status})
    for sku in outcome.skus:
        if sku.noteworthy:
            logger.info("%s %s: %s", sku.action, sku.sku, sku.reason,
                        extra={**sku.log_fields(), "status": outcome.status})
        elif debug:
            logger.debug("%s %s: %s", sku.action, sku.sku, sku.reason,
                         extra={**sku.log_fields(), "status": outcome.status})


# -- the entry point -----------------------------------------------------------------------
def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    runtime().idempotency.register_lambda_context(context)
    return process_sqs_batch(
        event, context, processor=processor, record_handler=record_handler, counts=counts,
        logger=logger, metrics=metrics, record_keys=_RECORD_KEYS,
    )


_handler = logger.inject_lambda_context(clear_state=True)(_handle)
if tracer is not None:
    _handler = tracer.capture_lambda_handler(_handler)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handler of RepriceFunction (template.yaml): an SQS event in, batch item failures out."""
    return _handler(event, context)
