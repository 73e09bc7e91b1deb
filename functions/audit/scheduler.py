"""AuditSchedulerFunction: the daily schedule → one audit job per Lost & Found seller.

The EventBridge schedule (template.yaml, ``cron(0 3 * * ? *)``) invokes it with a
scheduled event; the run's day (``as_of``, and ``run_id`` = ``YYYY-MM-DD``) is the event's
``time`` (UTC), so a retried or re-fired invocation names the same run. A manual
invocation may pass ``{"as_of": "YYYY-MM-DD"}``.

For every account (paged scan of the Accounts table) with the product ``lost_found`` and
a contract that is not cancelled or expired, each of its sellers gets a job message
(:class:`~functions.audit.job.AuditJobMessage`: seller, marketplaces, run id, as_of) on
``AUDIT_JOBS_QUEUE_URL``, sent in batches of 10. The marketplaces are the account's
profile marketplaces, else those of its Repricer connection, else its country's.

Idempotent per day: the run record in AuditJobs is the guard. It is created ``queued``
before the message is sent; a seller whose run already exists and has started (running,
done, failed) is not queued again. A run still ``queued`` is sent again (its first
message may not have gone out); the job itself skips a run that is done or in progress,
so a duplicate message never audits twice. Failed sends raise after the rest went out,
so the schedule's retry sends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from functions.audit.job import AuditJobMessage
from functions.core.accounts import Account, ContractStatus, Product
from functions.core.clock import utc_now
from functions.core.marketplaces import MARKETPLACES
from functions.core.observability import Counts, observability
from functions.core.repositories.accounts import AccountRepository
from functions.core.repositories.audit_jobs import AuditJobRepository, JobStatus
from functions.core.settings import BaseConfig, cached_settings

_observability = observability("audit-scheduler")
logger = _observability.logger
metrics = _observability.metrics
tracer = _observability.tracer

SQS_BATCH = 10
_INACTIVE = frozenset({ContractStatus.CANCELLED, ContractStatus.EXPIRED})


class SchedulerConfig(BaseConfig):
    """``AUDIT_JOBS_QUEUE_URL`` (set by template.yaml Globals)."""

    audit_jobs_queue_url: str


# -- which sellers, which marketplaces ----------------------------------------------------
def wants_audit(account: Account) -> bool:
    """Lost & Found bought, contract (if any) not cancelled or expired."""
    if Product.LOST_FOUND not in account.products:
        return False
    return account.contract is None or account.contract.status not in _INACTIVE


def audit_marketplaces(account: Account) -> tuple[str, ...]:
    """Profile marketplaces, else the Repricer connection's, else the account country's."""
    if account.profile is not None and account.profile.marketplaces:
        return tuple(account.profile.marketplaces)
    if account.repricer_connection is not None:
        return tuple(account.repricer_connection.marketplace_ids)
    return tuple(m.marketplace_id for m in MARKETPLACES.values()
                 if m.country == account.country)[:1]


# -- the queue ----------------------------------------------------------------------------
class QueueSendError(RuntimeError):
    """SQS refused some messages (after the others were sent)."""


class JobQueue:
    """Sends job messages to the audit-jobs queue (boto3 SQS, created on first use)."""

    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        self.queue_url = queue_url
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        return self._client

    def send(self, messages: Sequence[AuditJobMessage]) -> list[str]:
        """Send in batches of 10; returns the seller ids SQS refused."""
        refused: list[str] = []
        for start in range(0, len(messages), SQS_BATCH):
            chunk = messages[start:start + SQS_BATCH]
            response = self.client.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "MessageBody": m.to_body()} for i, m in enumerate(chunk)],
            )
            for failure in response.get("Failed", []):
                refused.append(chunk[int(failure["Id"])].seller_id)
        return refused


# -- the fan-out --------------------------------------------------------------------------
@dataclass(slots=True)
class ScheduleResult:
    run_id: str
    queued: list[str] = field(default_factory=list)
    already_started: list[str] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)  # still queued from an earlier firing
    not_subscribed: int = 0
    no_marketplace: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class AuditScheduler:
    """Puts one job per Lost & Found seller on the queue for a day's run."""

    def __init__(self, accounts: AccountRepository, jobs: AuditJobRepository,
                 queue: JobQueue, *, page_size: int = 100) -> None:
        self.accounts = accounts
        self.jobs = jobs
        self.queue = queue
        self.page_size = page_size

    def schedule(self, as_of: date) -> ScheduleResult:
        result = ScheduleResult(run_id=as_of.isoformat())
        outbox: list[AuditJobMessage] = []
        seen: set[str] = set()
        for account in self._accounts():
            if not wants_audit(account):
                result.not_subscribed += 1
                continue
            markets = audit_marketplaces(account)
            if not markets:
                result.no_marketplace.append(account.account_id)
                continue
            for seller_id in account.seller_ids:
                if seller_id in seen:
                    continue
                seen.add(seller_id)
                message = AuditJobMessage.for_day(seller_id, markets, as_of)
                job, created = self.jobs.enqueue(message.new_job())
                if not created and job.status is not JobStatus.QUEUED:
                    result.already_started.append(seller_id)
                    continue
                (result.queued if created else result.requeued).append(seller_id)
                outbox.append(message)
                if len(outbox) >= SQS_BATCH:
                    result.refused += self.queue.send(outbox)
                    outbox = []
        if outbox:
            result.refused += self.queue.send(outbox)
        return result

    def _accounts(self) -> Iterable[Account]:
        token: str | None = None
        while True:
            page = self.accounts.list_accounts(limit=self.page_size, next_token=token)
            yield from page.items
            token = page.next_token
            if not token:
                return


def run_day(event: Any) -> date:
    """The day a scheduled event names (its ``time``, UTC), or ``as_of`` of a manual
    invocation, else today."""
    if isinstance(event, dict):
        manual = event.get("as_of") or (event.get("detail") or {}).get("as_of")
        if manual:
            return date.fromisoformat(str(manual))
        moment = event.get("time")
        if moment:
            parsed = datetime.fromisoformat(str(moment).replace("Z", "+00:00"))
            if parsed.tzinfo is None:  # EventBridge writes UTC with a Z; be lenient
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC).date()
    return utc_now().date()


def build_scheduler() -> AuditScheduler:
    return AuditScheduler(
        AccountRepository.from_settings(),
        AuditJobRepository.from_settings(),
        JobQueue(cached_settings(SchedulerConfig).audit_jobs_queue_url),
    )


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    counts = Counts()
    as_of = run_day(event)
    logger.append_keys(run_id=as_of.isoformat())
    try:
        result = build_scheduler().schedule(as_of)
        counts.add("AuditJobsQueued", len(result.queued) + len(result.requeued))
        counts.add("AuditJobsAlreadyStarted", len(result.already_started))
        logger.info(
            "audit jobs scheduled",
            queued=len(result.queued), requeued=len(result.requeued),
            already_started=len(result.already_started),
            not_subscribed=result.not_subscribed, no_marketplace=result.no_marketplace,
            refused=result.refused,
        )
        if result.refused:
            counts.add("AuditJobsRefused", len(result.refused))
            raise QueueSendError(
                f"SQS refused the jobs of {len(result.refused)} seller(s): "
                f"{', '.join(result.refused[:20])}; the retry sends them")
        return {"run_id": result.run_id, "queued": len(result.queued) + len(result.requeued),
                "already_started": len(result.already_started)}
    finally:
        counts.flush(metrics)


_handler = logger.inject_lambda_context(clear_state=True)(_handle)
if tracer is not None:
    _handler = tracer.capture_lambda_handler(_handler)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handler of AuditSchedulerFunction (template.yaml)."""
    return _handler(event, context)
