"""AuditFunction: one audit job per invocation, from the audit-jobs queue.

SQS (AuditJobsQueue, batch size 1, ``ReportBatchItemFailures``) → Powertools
``BatchProcessor`` → :class:`~functions.audit.job.AuditJobRunner` (the work and its
resume semantics are described in ``functions/audit/job.py``). Per record:

- a body that is not a valid :class:`~functions.audit.job.AuditJobMessage` fails the
  record; after the queue's 5 receives it lands in AuditJobsDLQ (alarmed);
- ``done`` / ``skipped`` (run already done, or another invocation holds it) / ``failed``
  (permanent, e.g. the seller revoked the authorisation; the run record says why)
  acknowledge the message;
- :class:`~functions.audit.job.JobNotFinished` (reports still processing when the
  invocation's time ran short) and transient errors (throttling, 5xx, network, AWS)
  fail the record **after the job saved its progress and released its lease**: SQS
  makes the message visible again after the queue's visibility timeout and the next
  invocation resumes the run — the reports already requested are polled, never
  requested again. A Lambda timeout ends the same way (the lease expires with the
  invocation).

The lease owner is the SQS message id, so a redelivered message continues its own run.
Adapters are built per invocation (one job per invocation; nothing stale survives a
changed environment in the local stack). ``DEADLINE_ALARM_DAYS`` (template.yaml) sets
the deadline alarm; ``AUDIT_POLL_SECONDS``, ``AUDIT_RESERVE_SECONDS`` and
``AUDIT_LOOKBACK_DAYS`` are optional tuning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from pydantic import ValidationError

from functions.audit.job import (
    AuditJobMessage,
    AuditJobRunner,
    JobNotFinished,
    JobOutcome,
    JobSettings,
)
from functions.core.observability import Counts, observability, process_sqs_batch
from functions.core.settings import BaseConfig, cached_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

_RECORD_KEYS = ["message_id", "seller_id", "run_id"]

_observability = observability("audit")
logger = _observability.logger
metrics = _observability.metrics
tracer = _observability.tracer
copy_config_to_registered_loggers(
    source_logger=logger,
    include={"functions.core.spapi", "functions.audit.job", "functions.audit.claims_store"},
)

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
counts = Counts()


class AuditConfig(BaseConfig):
    """The function's own environment (template.yaml, AuditFunction)."""

    deadline_alarm_days: int = 7
    audit_poll_seconds: float = 30.0
    audit_reserve_seconds: float = 120.0
    audit_lookback_days: int = 180


def build_runner(context: Any) -> AuditJobRunner:
    """The runner with adapters from the environment (Secrets Manager, DynamoDB, bus)."""
    from functions.audit.alarms import SOURCE
    from functions.audit.claims_store import ClaimsStore
    from functions.core.events import DomainEvents
    from functions.core.repositories.audit_jobs import AuditJobRepository
    from functions.core.repositories.claims import ClaimRepository
    from functions.core.repositories.unit_costs import UnitCostRepository
    from functions.core.spapi import SpApiClient

    config = cached_settings(AuditConfig)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return AuditJobRunner(
        SpApiClient.from_settings(),
        AuditJobRepository.from_settings(),
        ClaimsStore(ClaimRepository.from_settings()),
        DomainEvents.from_settings(SOURCE),
        JobSettings(
            poll_seconds=config.audit_poll_seconds,
            reserve_seconds=config.audit_reserve_seconds,
            lookback_days=config.audit_lookback_days,
            deadline_alarm_days=config.deadline_alarm_days,
        ),
        time_left=(lambda: remaining() / 1000) if callable(remaining) else (lambda: 900.0),
        costs=UnitCostRepository.from_settings(),
    )


def record_handler(record: SQSRecord, lambda_context: Any = None) -> dict[str, Any]:
    logger.remove_keys(_RECORD_KEYS)
    logger.append_keys(message_id=record.message_id)
    try:
        message = AuditJobMessage.from_body(record.body)
    except ValidationError as error:
        counts.add("InvalidAuditJobs")
        logger.error("not an audit job message", error=str(error))
        raise
    logger.append_keys(seller_id=message.seller_id, run_id=message.run_id)
    try:
        outcome = build_runner(lambda_context).run(message, owner=record.message_id)
    except JobNotFinished as error:
        counts.add("AuditJobsUnfinished")
        logger.warning("audit job not finished, progress saved: %s", error,
                       extra={"receive_count": record.attributes.approximate_receive_count})
        raise
    except Exception as error:
        counts.add("AuditJobsInterrupted")
        logger.exception("audit job interrupted, progress saved: %s", error)
        raise
    _report(outcome)
    return {"status": outcome.status, "reason": outcome.reason}


def _report(outcome: JobOutcome) -> None:
    counts.add("AuditJobs", Outcome=outcome.status)
    if outcome.resumed:
        counts.add("AuditJobsResumed")
    totals = outcome.totals
    if outcome.status == "done":
        counts.add("ClaimsFound", int(totals.get("claims", 0)))
        counts.add("ClaimsCreated", int(totals.get("created", 0)))
        counts.add("ClaimsReimbursed", int(totals.get("reimbursed", 0)))
        for alarm in totals.get("alarms", []):
            counts.add("AuditAlarms", AlarmType=str(alarm))
        logger.info("audit job done", totals=totals, resumed=outcome.resumed)
    elif outcome.status == "failed":
        logger.error("audit job failed: %s", outcome.reason)
    else:
        logger.info("audit job skipped: %s", outcome.reason)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_sqs_batch(
        event, context, processor=processor, record_handler=record_handler, counts=counts,
        logger=logger, metrics=metrics, record_keys=_RECORD_KEYS,
    )


_handler = logger.inject_lambda_context(clear_state=True)(_handle)
if tracer is not None:
    _handler = tracer.capture_lambda_handler(_handler)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handler of AuditFunction (template.yaml): an SQS event in, batch item failures out."""
    return _handler(event, context)
