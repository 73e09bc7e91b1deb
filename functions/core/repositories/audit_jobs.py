"""AuditJobs table: key ``seller_id`` + ``run_id``; TTL ``expires_at`` (epoch seconds).

One item per seller and audit run (``run_id`` is the run's day, ``2026-11-25``). It is the
guard that makes the daily fan-out idempotent and the record that lets a retried or
timed-out job resume:

- the scheduler creates it ``queued`` (:meth:`AuditJobRepository.enqueue`): a re-fired
  schedule finds it and does not queue the seller again once the job has started;
- the job takes a **lease** on it (:meth:`AuditJobRepository.acquire`): one invocation
  works on a run at a time; a lease runs out with the invocation that held it, so a
  redelivered message can take over after a timeout;
- every report the job requested is recorded (:class:`JobReport`: report id, Amazon's
  ``processingStatus``, document id, data range) the moment Amazon returns its id, so a
  retry polls the same reports instead of asking again;
- progress flags (claims stored, reimbursements settled, alarms published), totals and
  errors.

Writes are optimistic: :meth:`AuditJobRepository.save` succeeds only when the stored
``version`` is the one the caller read (:class:`ConcurrentModification` otherwise), so an
invocation that lost its lease cannot overwrite the new holder's progress. The report
kinds are plain strings here: ``core`` does not depend on ``audit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from functions.core.accounts import MarketplaceId, SellerId, UtcDatetime
from functions.core.repositories.dynamo import (
    DynamoTable,
    from_item,
    reject_floats,
    to_item,
)
from functions.core.repositories.errors import (
    AlreadyExists,
    ConcurrentModification,
    Conflict,
    NotFound,
)
from functions.core.settings import BaseConfig

JOB_RETENTION = timedelta(days=35)  # the run record outlives the reports' 30-day relevance
RUN_ID_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._:-]{0,63}$"


class AuditJobsConfig(BaseConfig):
    """``AUDIT_JOBS_TABLE`` (set by template.yaml Globals)."""

    audit_jobs_table: str


class JobStatus(StrEnum):
    QUEUED = "queued"  # the scheduler put the job on the queue; no invocation started it
    RUNNING = "running"  # an invocation holds (or held) the lease; progress is recorded
    DONE = "done"  # claims stored, reimbursements settled, alarms published
    FAILED = "failed"  # stopped for good (``error`` says why); the next day's run starts anew


class ReportStatus(StrEnum):
    """``PENDING`` (not requested yet), then Amazon's ``processingStatus``."""

    PENDING = "PENDING"
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"  # nothing to report (or a duplicate request): read as empty
    FATAL = "FATAL"

    @property
    def finished(self) -> bool:
        return self in (ReportStatus.DONE, ReportStatus.CANCELLED, ReportStatus.FATAL)


class JobReport(BaseModel):
    """One report a job reads. ``key`` names it within the job (``na:ledger``,
    ``na:settlement:<reportId>``); ``kind`` is the audit's report kind (``ledger``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=64)
    report_type: str = Field(min_length=1, max_length=128)
    region: str = Field(min_length=1, max_length=8)
    marketplace_ids: tuple[MarketplaceId, ...] = ()
    data_start: UtcDatetime | None = None
    data_end: UtcDatetime | None = None
    report_id: str | None = Field(default=None, max_length=128)
    status: ReportStatus = ReportStatus.PENDING
    document_id: str | None = Field(default=None, max_length=256)
    requested_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    polls: int = Field(default=0, ge=0)
    # A DONE report found with getReports after ours was CANCELLED as a duplicate.
    reused_report_id: str | None = Field(default=None, max_length=128)
    error: str | None = Field(default=None, max_length=1000)

    @property
    def requested(self) -> bool:
        return self.report_id is not None

    @property
    def finished(self) -> bool:
        return self.status.finished


JsonMap = Annotated[dict[str, Any], AfterValidator(reject_floats)]


class AuditJob(BaseModel):
    """One seller's audit run. ``version`` counts stored writes (0 = never stored)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: SellerId
    run_id: str = Field(pattern=RUN_ID_PATTERN)
    as_of: date
    marketplace_ids: tuple[MarketplaceId, ...] = Field(min_length=1)
    status: JobStatus = JobStatus.QUEUED
    phase: str = Field(default="queued", max_length=64)
    reports: tuple[JobReport, ...] = ()
    settlements_listed: tuple[str, ...] = ()  # regions whose settlements were looked up
    attempts: int = Field(default=0, ge=0)
    lease_owner: str | None = Field(default=None, max_length=256)
    lease_until: UtcDatetime | None = None
    queued_at: UtcDatetime | None = None
    started_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    claims_stored: bool = False
    claims_settled: bool = False
    alarms_published: tuple[str, ...] = ()
    totals: JsonMap = Field(default_factory=dict)
    errors: tuple[JsonMap, ...] = ()
    error: str | None = Field(default=None, max_length=2000)
    expires_at: int | None = None
    version: int = Field(default=0, ge=0)

    def report(self, key: str) -> JobReport | None:
        return next((r for r in self.reports if r.key == key), None)

    def with_report(self, report: JobReport) -> AuditJob:
        """A copy with ``report`` recorded (replacing the one with the same key)."""
        reports = list(self.reports)
        for index, existing in enumerate(reports):
            if existing.key == report.key:
                reports[index] = report
                break
        else:
            reports.append(report)
        return self.evolve(reports=tuple(reports))

    def evolve(self, **changes: Any) -> AuditJob:
        """A copy with ``changes`` applied and validated again."""
        return type(self).model_validate({**self.model_dump(), **changes})

    def lease_held_by_other(self, owner: str, now: datetime) -> bool:
        return (
            self.lease_owner is not None
            and self.lease_owner != owner
            and self.lease_until is not None
            and self.lease_until > now
        )


class LeaseHeld(Conflict):
    """Another invocation is working on this run right now."""

    def __init__(self, job: AuditJob) -> None:
        until = job.lease_until.isoformat() if job.lease_until else "?"
        super().__init__(
            f"audit job {job.seller_id}/{job.run_id} is held by {job.lease_owner} until {until}"
        )
        self.job = job


def expiry_of(as_of: date) -> int:
    """``expires_at`` of a run: :data:`JOB_RETENTION` after its day, epoch seconds."""
    return int((datetime.combine(as_of, time(), tzinfo=UTC) + JOB_RETENTION).timestamp())


def job_to_item(job: AuditJob) -> dict[str, dict[str, Any]]:
    return to_item(job.model_dump(mode="python", exclude_none=True))


def job_from_image(image: Mapping[str, Mapping[str, Any]]) -> AuditJob:
    return AuditJob.model_validate(from_item(image))


class AuditJobRepository(DynamoTable):
    """Data access for audit runs; ``clock`` stamps ``updated_at`` on every write."""

    settings_class = AuditJobsConfig
    table_setting = "audit_jobs_table"

    @staticmethod
    def _key(seller_id: str, run_id: str) -> dict[str, dict[str, str]]:
        return {"seller_id": {"S": seller_id}, "run_id": {"S": run_id}}

    # -- reads --------------------------------------------------------------------------
    def get(self, seller_id: str, run_id: str) -> AuditJob | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=self._key(seller_id, run_id), ConsistentRead=True
        )
        item = response.get("Item")
        return job_from_image(item) if item else None

    # -- writes -------------------------------------------------------------------------
    def create(self, job: AuditJob) -> AuditJob:
        """Store a new run at version 1; :class:`AlreadyExists` if the run is recorded."""
        now = self._clock()
        stored = job.evolve(
            version=1,
            updated_at=now,
            queued_at=job.queued_at or now,
            expires_at=job.expires_at or expiry_of(job.as_of),
        )
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=job_to_item(stored),
                ConditionExpression="attribute_not_exists(run_id)",
            )
        except Exception as error:
            if self._is_condition_failure(error):
                raise AlreadyExists(
                    "audit job", {"seller_id": job.seller_id, "run_id": job.run_id}
                ) from None
            raise
        return stored

    def enqueue(self, job: AuditJob) -> tuple[AuditJob, bool]:
        """Record a queued run unless one exists; returns (the stored run, created)."""
        try:
            return self.create(job), True
        except AlreadyExists:
            existing = self.get(job.seller_id, job.run_id)
            if existing is None:  # deleted in between (TTL): record it again
                return self.create(job), True
            return existing, False

    def save(self, job: AuditJob) -> AuditJob:
        """Replace the stored run if it is still at ``job.version``; returns it as stored
        (version + 1). :class:`ConcurrentModification` when someone wrote first."""
        stored = job.evolve(version=job.version + 1, updated_at=self._clock())
        key = {"seller_id": job.seller_id, "run_id": job.run_id}
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=job_to_item(stored),
                ConditionExpression="attribute_exists(run_id) AND version = :expected",
                ExpressionAttributeValues={":expected": {"N": str(job.version)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as error:
            if not self._is_condition_failure(error):
                raise
            old = self._old_item(error)
            if old is None:
                raise NotFound("audit job", key) from None
            raise ConcurrentModification(
                "audit job", key, expected_version=job.version,
                actual_version=int(old.get("version", 0)),
            ) from None
        return stored

    def acquire(self, job: AuditJob, *, owner: str, until: datetime) -> AuditJob:
        """Take the lease on ``job``'s run (creating the run from ``job`` if unrecorded).

        Returns the stored run, leased to ``owner`` until ``until`` and ``running`` with
        ``attempts`` counted, or, unchanged, a run that is already ``done``/``failed``.
        Raises :class:`LeaseHeld` while another owner's lease runs.
        """
        now = self._clock()
        for _ in range(3):
            current = self.get(job.seller_id, job.run_id)
            if current is None:
                try:
                    current = self.create(job)
                except AlreadyExists:
                    continue
            if current.status in (JobStatus.DONE, JobStatus.FAILED):
                return current
            if current.lease_held_by_other(owner, now):
                raise LeaseHeld(current)
            leased = current.evolve(
                status=JobStatus.RUNNING,
                lease_owner=owner,
                lease_until=until,
                attempts=current.attempts + 1,
                started_at=current.started_at or now,
            )
            try:
                return self.save(leased)
            except ConcurrentModification:
                continue
        current = self.get(job.seller_id, job.run_id)
        if current is not None and current.lease_held_by_other(owner, now):
            raise LeaseHeld(current)
        raise ConcurrentModification(
            "audit job", {"seller_id": job.seller_id, "run_id": job.run_id},
            expected_version=job.version, actual_version=None if current is None
            else current.version,
        )

    def release(self, job: AuditJob) -> AuditJob:
        """Give the lease up (keeps everything else); returns the stored run."""
        return self.save(job.evolve(lease_owner=None, lease_until=None))
