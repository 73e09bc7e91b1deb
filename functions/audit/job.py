"""One seller's audit run in AWS: Reports API → audit → Claims table → alarms, resumable.

``AuditJobRunner.run(message, owner=...)`` runs the job named by an
:class:`AuditJobMessage` (``seller_id``, ``marketplace_ids``, ``run_id`` = the run's day,
``as_of``). Its progress lives in the AuditJobs table
(:mod:`functions.core.repositories.audit_jobs`), so a retried or timed-out invocation
resumes where the last one stopped:

1. **lease** — the run record is leased to this invocation (``owner`` = the SQS message
   id) until its time runs out. A run already ``done`` or ``failed`` is skipped (a
   re-fired schedule or a duplicate message never audits twice); a run another
   invocation holds is skipped too (that one finishes it, or its own message retries).
2. **plan** — per SP-API region of the seller's marketplaces, one report per kind the
   detectors read (:data:`REQUESTED_KINDS`: ledger detail, reimbursements, customer
   returns, removal order and shipment detail, fee preview), data range
   ``[as_of − lookback, as_of 00:00 UTC)`` (the fee preview is a snapshot: no range);
   the settlements, which cannot be requested, are found with ``getReports`` (every DONE
   V2 flat file of the last :attr:`JobSettings.settlement_lookback_days` days).
3. **request** — ``createReport`` for each planned report not requested yet; its id is
   saved at once, so no report is requested twice for a run.
4. **wait** — ``getReport`` for every unfinished report, sleeping 30 s, then ×1.5 up to
   60 s between rounds, until each is DONE, CANCELLED (nothing to report — unless a
   DONE report of the same type from the last hours exists, which Amazon's duplicate
   cancellation points to: it is used instead) or FATAL (recorded as an error; a FATAL
   reimbursements report fails the run, because without it every paid loss would be
   claimed again). When fewer than ``reserve + next wait`` seconds are left, progress is
   saved and :class:`JobNotFinished` raised: the handler fails the SQS record and the
   redelivered message (after the queue's visibility timeout) continues polling.
5. **audit** — every DONE document is downloaded as delivered (gzip kept) into a
   temporary directory, then ``run_audit`` per region; ledger losses/damages and the
   reimbursements are read once more for the alarms and the settling below.
6. **store** — each claim is upserted (deterministic ids: a re-audit updates, never
   duplicates); then stored claims the run no longer lists are matched against the
   reimbursements (closed as ``reimbursed`` with the amount paid) or expired
   (:class:`~functions.audit.claims_store.ClaimsStore`).
7. **alarms** — ``ClaimDeadlineNear`` and ``DamageSpike`` (:mod:`functions.audit.alarms`)
   are put on the bus, each at most once per run; then the run is ``done`` with its
   totals.

Transient failures (throttling, 5xx, network, AWS errors) save the progress, release the
lease and raise, so the SQS retry resumes. An authorisation the seller revoked fails the
run for good (``failed``, with the reason). Nothing here reads the environment; the
handler builds the adapters.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from functions.audit import inbound
from functions.audit.alarms import (
    DAMAGED,
    LOST,
    Alarm,
    LossEvent,
    SpikeRule,
    damage_spike,
    deadline_near,
)
from functions.audit.claims_store import ClaimsStore
from functions.audit.logic.audit import run_audit
from functions.audit.logic.claims import Claim
from functions.audit.logic.costs import CostBook, UnitCost
from functions.audit.logic.data import DAMAGE_REASONS, LOSS_REASONS
from functions.audit.logic.reports import (
    REPORT_TYPES,
    LedgerEntry,
    Reimbursement,
    ReportError,
    ReportKind,
    read_records,
)
from functions.audit.logic.reports.kinds import ADJUSTMENTS
from functions.core.accounts import MarketplaceId, SellerId
from functions.core.clock import sleep as clock_sleep
from functions.core.clock import utc_now
from functions.core.marketplaces import marketplace
from functions.core.money import Money
from functions.core.repositories.audit_jobs import (
    RUN_ID_PATTERN,
    AuditJob,
    AuditJobRepository,
    JobReport,
    JobStatus,
    LeaseHeld,
    ReportStatus,
)
from functions.core.spapi import (
    LwaAuthError,
    SellerApi,
    SpApiClient,
    SpApiClientError,
    SpApiCredentialsError,
)

logger = logging.getLogger(__name__)

# What the detectors read that the Reports API can produce on request.
REQUESTED_KINDS: tuple[ReportKind, ...] = (
    ReportKind.LEDGER,
    ReportKind.REIMBURSEMENTS,
    ReportKind.CUSTOMER_RETURNS,
    ReportKind.REMOVAL_ORDERS,
    ReportKind.REMOVAL_SHIPMENTS,
    ReportKind.FEE_ESTIMATES,
)
UNDATED_KINDS = frozenset({ReportKind.FEE_ESTIMATES})  # a snapshot of today's fees
# Inbound shipments come from the Fulfillment Inbound API, not a report: one JobReport
# per region records the listing's progress (``polls`` = time slices listed), the closed
# shipments found so far are kept in the totals under INBOUND_PROGRESS until the run is done.
INBOUND = str(ReportKind.INBOUND_SHIPMENTS)
INBOUND_OPERATION = "getShipments"
INBOUND_PROGRESS = "inbound_listed"
# The listing runs while Amazon prepares the reports: it may use the reserve kept for
# auditing (the wait stops short of it anyway), all but the time to save its progress.
INBOUND_MIN_SECONDS = 30.0
INBOUND_SAVE_EVERY = 10  # slices between progress saves (and whenever shipments are found)
SETTLEMENT = ReportKind.SETTLEMENT
MAX_STORED_ERRORS = 50
MAX_LISTED_IDS = 100


class AuditJobMessage(BaseModel):
    """The body of an audit-jobs queue message (the scheduler writes, the job reads)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    seller_id: SellerId
    marketplace_ids: tuple[MarketplaceId, ...] = Field(min_length=1)
    run_id: str = Field(pattern=RUN_ID_PATTERN)
    as_of: date

    @classmethod
    def for_day(cls, seller_id: str, marketplace_ids: Sequence[str], as_of: date
                ) -> AuditJobMessage:
        """The job of ``seller_id`` for the daily run of ``as_of`` (run id = the day)."""
        return cls(seller_id=seller_id, marketplace_ids=tuple(marketplace_ids),
                   run_id=as_of.isoformat(), as_of=as_of)

    def to_body(self) -> str:
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))

    @classmethod
    def from_body(cls, body: str) -> AuditJobMessage:
        return cls.model_validate_json(body)

    def new_job(self) -> AuditJob:
        """The run record of this job, as first stored (``queued``)."""
        return AuditJob(seller_id=self.seller_id, run_id=self.run_id, as_of=self.as_of,
                        marketplace_ids=self.marketplace_ids)


@dataclass(frozen=True, slots=True)
class JobSettings:
    """Tuning of a run; defaults follow domain/fba-audit.md §3 (poll backoff 30–60 s)."""

    poll_seconds: float = 30.0
    max_poll_seconds: float = 60.0
    backoff: float = 1.5
    reserve_seconds: float = 120.0  # kept for downloading, auditing, storing, alarms
    lookback_days: int = 180  # the longest window (120 d) plus room for netting payments
    settlement_lookback_days: int = 90  # Amazon keeps reports 90 days
    max_settlements: int = 12
    duplicate_window: timedelta = timedelta(hours=4)  # FBA reports regenerate ≤ every 4 h
    deadline_alarm_days: int = 7
    spike_rule: SpikeRule = field(default_factory=SpikeRule)
    kinds: tuple[ReportKind, ...] = REQUESTED_KINDS
    inbound_shipments: bool = True  # list closed shipments with the Fulfillment Inbound API
    inbound_daily_days: int = 62  # one-day slices this far back (closed_date to the day)


class EventSink(Protocol):
    """Where alarms go: :class:`functions.core.events.DomainEvents` in Lambda."""

    def put(self, detail_type: str, detail: Any) -> str: ...


class CostSource(Protocol):
    """The seller's unit costs, ``{sku: {currency: Money}}``:
    :class:`functions.core.repositories.unit_costs.UnitCostRepository` in Lambda."""

    def cost_book(self, seller_id: str) -> Mapping[str, Mapping[str, Money]]: ...


class JobNotFinished(Exception):
    """The run stopped with its progress saved; a retry of the message resumes it."""


class JobFailed(Exception):
    """The run cannot succeed (the run record says why); retrying does not help."""


@dataclass(slots=True)
class JobOutcome:
    """How an invocation ended: ``done``, ``skipped`` (already done / held elsewhere) or
    ``failed`` (for good); ``totals`` of a finished run; ``resumed`` when an earlier
    invocation had started it."""

    status: str
    seller_id: str
    run_id: str
    reason: str = ""
    resumed: bool = False
    totals: dict[str, Any] = field(default_factory=dict)


class _OutOfTime(Exception):
    pass


def regions_of(marketplace_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """SP-API region → the seller's marketplaces in it (order kept): reports are
    requested once per region (FBA reports cover a region's marketplaces)."""
    grouped: dict[str, list[str]] = {}
    for marketplace_id in marketplace_ids:
        grouped.setdefault(str(marketplace(marketplace_id).region), []).append(marketplace_id)
    return {region: tuple(ids) for region, ids in grouped.items()}


def data_range(as_of: date, lookback_days: int) -> tuple[datetime, datetime]:
    """``[as_of − lookback, as_of 00:00 UTC)``: whole days up to the audit day."""
    end = datetime.combine(as_of, time(), tzinfo=UTC)
    return end - timedelta(days=lookback_days), end


class AuditJobRunner:
    """Runs audit jobs. Adapters come in (SP-API client, AuditJobs and Claims access,
    the event bus); ``time_left`` (seconds) is the invocation's remaining time."""

    def __init__(
        self,
        spapi: SpApiClient,
        jobs: AuditJobRepository,
        claims: ClaimsStore,
        events: EventSink,
        settings: JobSettings | None = None,
        *,
        time_left: Callable[[], float] = lambda: 900.0,
        sleep: Callable[[float], None] = clock_sleep,
        now: Callable[[], datetime] = utc_now,
        workdir: str | None = None,
        costs: CostSource | None = None,
    ) -> None:
        self.spapi = spapi
        self.costs = costs
        self.jobs = jobs
        self.claims = claims
        self.events = events
        self.settings = settings or JobSettings()
        self.time_left = time_left
        self.sleep = sleep
        self.now = now
        self.workdir = workdir

    # -- the run ------------------------------------------------------------------------
    def run(self, message: AuditJobMessage, *, owner: str) -> JobOutcome:
        """Run (or resume) the job; see the module docstring for what each outcome means.
        Raises :class:`JobNotFinished` (progress saved) or the transient error itself
        after saving progress; the caller lets the message be retried."""
        outcome = JobOutcome("skipped", message.seller_id, message.run_id)
        until = self.now() + timedelta(seconds=max(self.time_left(), 0.0))
        try:
            job = self.jobs.acquire(message.new_job(), owner=owner, until=until)
        except LeaseHeld as held:
            outcome.reason = f"another invocation runs this job ({held.job.lease_owner})"
            return outcome
        if job.status is JobStatus.DONE:
            outcome.reason = "already done"
            outcome.totals = dict(job.totals)
            return outcome
        if job.status is JobStatus.FAILED:
            outcome.reason = f"failed earlier: {job.error}"
            return outcome
        outcome.resumed = job.attempts > 1
        state = _Run(self, job)
        try:
            state.plan()
            state.request()
            state.inbound()
            state.wait()
            state.finish()
        except (LwaAuthError, SpApiCredentialsError) as error:
            state.fail(f"the seller's SP-API authorisation failed: {error}")
            outcome.status, outcome.reason = "failed", state.job.error or ""
            return outcome
        except JobFailed as error:
            state.fail(str(error))
            outcome.status, outcome.reason = "failed", str(error)
            return outcome
        except _OutOfTime as error:
            state.stop(f"time ran out: {error}")
            raise JobNotFinished(
                f"{job.seller_id}/{job.run_id}: {error}; the retry resumes") from None
        except Exception as error:
            state.stop(f"{type(error).__name__}: {error}")
            raise
        outcome.status = "done"
        outcome.totals = dict(state.job.totals)
        return outcome


class _Run:
    """One invocation's work on one run; ``job`` is always the latest stored version."""

    def __init__(self, runner: AuditJobRunner, job: AuditJob) -> None:
        self.runner = runner
        self.settings = runner.settings
        self.job = job
        self._sellers: dict[str, SellerApi] = {}

    # -- bookkeeping --------------------------------------------------------------------
    def save(self, job: AuditJob) -> AuditJob:
        self.job = self.runner.jobs.save(job)
        return self.job

    def seller(self, region: str, marketplace_ids: Sequence[str]) -> SellerApi:
        api = self._sellers.get(region)
        if api is None:
            api = self.runner.spapi.seller(self.job.seller_id, marketplace_ids[0])
            self._sellers[region] = api
        return api

    def stop(self, reason: str) -> None:
        """Save the last error and give the lease up (a retry resumes)."""
        try:
            self.save(self.job.evolve(error=reason[:2000], lease_owner=None, lease_until=None))
        except Exception:  # the lease was lost or DynamoDB fails too: the retry copes
            logger.exception("could not save the progress of %s/%s",
                             self.job.seller_id, self.job.run_id)
        logger.warning("audit job %s/%s stopped: %s", self.job.seller_id, self.job.run_id,
                       reason)

    def fail(self, reason: str) -> None:
        self.save(self.job.evolve(status=JobStatus.FAILED, error=reason[:2000],
                                  finished_at=self.runner.now(), lease_owner=None,
                                  lease_until=None))
        logger.error("audit job %s/%s failed: %s", self.job.seller_id, self.job.run_id,
                     reason)

    # -- 2. plan ------------------------------------------------------------------------
    def plan(self) -> None:
        job = self.job
        start, end = data_range(job.as_of, self.settings.lookback_days)
        for region, markets in regions_of(job.marketplace_ids).items():
            for kind in self.settings.kinds:
                key = f"{region}:{kind}"
                if job.report(key) is not None:
                    continue
                report_type = REPORT_TYPES[kind]
                assert report_type is not None
                undated = kind in UNDATED_KINDS
                job = job.with_report(JobReport(
                    key=key, kind=str(kind), report_type=report_type, region=region,
                    marketplace_ids=markets, data_start=None if undated else start,
                    data_end=None if undated else end))
            if region not in job.settlements_listed:
                job = self._settlements(job, region, markets)
        if job != self.job:
            self.save(job.evolve(phase="requesting"))

    def _settlements(self, job: AuditJob, region: str, markets: Sequence[str]) -> AuditJob:
        """Every DONE settlement flat file (V2) of the last days: they cannot be
        requested, Amazon publishes one per settlement period."""
        report_type = REPORT_TYPES[SETTLEMENT]
        assert report_type is not None
        since = self.runner.now() - timedelta(days=self.settings.settlement_lookback_days)
        found = self.seller(region, markets).get_reports(
            report_types=[report_type], processing_statuses=["DONE"],
            marketplace_ids=list(markets), created_since=since, page_size=100)
        reports = sorted(found.get("reports", []),
                         key=lambda r: (str(r.get("createdTime", "")), str(r["reportId"])),
                         reverse=True)[: self.settings.max_settlements]
        for report in reports:
            job = job.with_report(JobReport(
                key=f"{region}:{SETTLEMENT}:{report['reportId']}", kind=str(SETTLEMENT),
                report_type=report_type, region=region, marketplace_ids=tuple(markets),
                report_id=str(report["reportId"]), status=ReportStatus.DONE,
                document_id=report.get("reportDocumentId"), finished_at=self.runner.now()))
        return job.evolve(settlements_listed=(*job.settlements_listed, region))

    # -- 3. request ---------------------------------------------------------------------
    def request(self) -> None:
        for report in self.job.reports:
            if report.requested or report.finished or report.kind == INBOUND:
                continue
            api = self.seller(report.region, report.marketplace_ids)
            try:
                created = api.create_report(
                    report.report_type, marketplace_ids=list(report.marketplace_ids),
                    data_start_time=report.data_start, data_end_time=report.data_end)
            except SpApiClientError as error:
                # Amazon refused this request (e.g. a report type not offered in the
                # region): the audit goes on without it, the error is recorded.
                self.save(self.job.with_report(report.model_copy(update={
                    "status": ReportStatus.FATAL, "finished_at": self.runner.now(),
                    "error": f"createReport refused: {error}"[:1000]})))
                continue
            # Saved at once: a retry polls this report, it never asks for another.
            self.save(self.job.with_report(report.model_copy(update={
                "report_id": str(created["reportId"]), "status": ReportStatus.IN_QUEUE,
                "requested_at": self.runner.now()})).evolve(phase="waiting"))
            logger.info("requested %s for %s: report %s", report.report_type,
                        self.job.seller_id, created["reportId"])

    # -- 3b. inbound shipments (Fulfillment Inbound API) ---------------------------------
    def inbound(self) -> None:
        """List the closed shipments last updated in the data range, slice by slice
        (:func:`functions.audit.inbound.slices`), per region. Progress is kept in the run
        record, so a retry goes on with the next slice; a refusal (e.g. the seller's
        authorisation lacks the Fulfillment Inbound role) is an error of the run, which
        goes on without inbound shipments."""
        if not self.settings.inbound_shipments:
            return
        start, end = data_range(self.job.as_of, self.settings.lookback_days)
        cuts = inbound.slices(start, end, daily_days=self.settings.inbound_daily_days)
        for region, markets in regions_of(self.job.marketplace_ids).items():
            key = f"{region}:{INBOUND}"
            report = self.job.report(key)
            if report is not None and report.finished:
                continue
            if report is None:
                report = JobReport(
                    key=key, kind=INBOUND, report_type=INBOUND_OPERATION, region=region,
                    marketplace_ids=markets, data_start=start, data_end=end,
                    status=ReportStatus.IN_PROGRESS, requested_at=self.runner.now())
                self.save(self.job.with_report(report))
            api = self.seller(region, markets)
            found = dict(self._inbound_found(region))
            unsaved = 0
            for index in range(report.polls, len(cuts)):
                if self.runner.time_left() < INBOUND_MIN_SECONDS:
                    self.save(self.job)
                    raise _OutOfTime(f"listing inbound shipments of {region}")
                cut = cuts[index]
                before = len(found)
                try:
                    for shipment in api.iter_shipments(
                            query_type="DATE_RANGE", shipment_statuses=[inbound.CLOSED],
                            last_updated_after=cut.start, last_updated_before=cut.end):
                        shipment_id = str(shipment.get("ShipmentId") or "")
                        if (shipment_id and shipment.get("ShipmentStatus") == inbound.CLOSED
                                and shipment_id not in found):
                            found[shipment_id] = inbound.iso(inbound.closed_at(shipment, cut))
                except SpApiClientError as error:
                    report = report.model_copy(update={
                        "status": ReportStatus.FATAL, "finished_at": self.runner.now(),
                        "error": f"getShipments refused: {error}"[:1000]})
                    self.save(self._with_inbound(report, region, found))
                    logger.warning("inbound shipments of %s (%s) refused: %s",
                                   self.job.seller_id, region, error)
                    break
                report = report.model_copy(update={"polls": index + 1})
                # In memory at once (a failure saves it, see stop()); stored now and then.
                self.job = self._with_inbound(report, region, found)
                unsaved += 1
                if len(found) > before or unsaved >= INBOUND_SAVE_EVERY:
                    self.save(self.job)
                    unsaved = 0
            else:
                report = report.model_copy(update={
                    "status": ReportStatus.DONE, "finished_at": self.runner.now()})
                self.save(self._with_inbound(report, region, found))
                logger.info("inbound shipments of %s (%s): %d closed", self.job.seller_id,
                            region, len(found))

    def _inbound_found(self, region: str) -> dict[str, str]:
        """Closed shipments listed so far in ``region``: shipment id → closed_date."""
        progress = self.job.totals.get(INBOUND_PROGRESS) or {}
        return dict(progress.get(region) or {})

    def _with_inbound(self, report: JobReport, region: str, found: dict[str, str]) -> AuditJob:
        progress = dict(self.job.totals.get(INBOUND_PROGRESS) or {})
        progress[region] = dict(sorted(found.items()))
        return self.job.with_report(report).evolve(
            totals={**self.job.totals, INBOUND_PROGRESS: progress})

    # -- 4. wait ------------------------------------------------------------------------
    def wait(self) -> None:
        interval = self.settings.poll_seconds
        while True:
            pending = [r for r in self.job.reports if r.requested and not r.finished]
            if not pending:
                return
            job = self.job
            for report in pending:
                job = job.with_report(self._poll(job, report))
            if job != self.job:
                self.save(job)
            pending = [r for r in self.job.reports if r.requested and not r.finished]
            if not pending:
                return
            if self.runner.time_left() < self.settings.reserve_seconds + interval:
                raise _OutOfTime(
                    f"reports still processing: {', '.join(r.key for r in pending)}")
            self.runner.sleep(interval)
            interval = min(interval * self.settings.backoff, self.settings.max_poll_seconds)

    def _poll(self, job: AuditJob, report: JobReport) -> JobReport:
        assert report.report_id is not None
        api = self.seller(report.region, report.marketplace_ids)
        body = api.get_report(report.report_id)
        status = ReportStatus(str(body.get("processingStatus", "IN_QUEUE")))
        update: dict[str, Any] = {"status": status, "polls": report.polls + 1}
        if status is ReportStatus.DONE:
            update.update(document_id=body.get("reportDocumentId"),
                          finished_at=self.runner.now())
        elif status is ReportStatus.CANCELLED:
            update["finished_at"] = self.runner.now()
            reused = self._recent_done(api, report)
            if reused is not None:
                update.update(status=ReportStatus.DONE,
                              reused_report_id=str(reused["reportId"]),
                              document_id=reused.get("reportDocumentId"))
        elif status is ReportStatus.FATAL:
            update.update(finished_at=self.runner.now(),
                          error="Amazon could not produce the report (FATAL)")
        if status is not report.status:
            logger.info("report %s (%s) of %s: %s", report.report_id, report.key,
                        job.seller_id, status.value)
        return report.model_copy(update=update)

    def _recent_done(self, api: SellerApi, report: JobReport) -> dict[str, Any] | None:
        """A DONE report of the same type created shortly before ours: Amazon cancels a
        request that repeats one it produced within the report's regeneration time."""
        since = (report.requested_at or self.runner.now()) - self.settings.duplicate_window
        found = api.get_reports(
            report_types=[report.report_type], processing_statuses=["DONE"],
            marketplace_ids=list(report.marketplace_ids), created_since=since, page_size=10)
        done = [r for r in found.get("reports", []) if r.get("reportDocumentId")
                and str(r.get("reportId")) != report.report_id]
        if not done:
            return None
        return max(done, key=lambda r: (str(r.get("createdTime", "")), str(r["reportId"])))

    # -- 5–7. audit, store, alarms ------------------------------------------------------
    def finish(self) -> None:
        fatal = [r for r in self.job.reports if r.status is ReportStatus.FATAL]
        if any(r.kind == ReportKind.REIMBURSEMENTS for r in fatal):
            raise JobFailed("the reimbursements report failed (FATAL): without it every "
                            "loss Amazon already paid would be claimed again")
        self.save(self.job.evolve(phase="auditing"))
        with self._workdir() as workdir:
            audit = self._audit(workdir)
        self._store(audit)
        self._settle(audit)
        self._alarms(audit)
        totals = {k: v for k, v in self.job.totals.items() if k != INBOUND_PROGRESS}
        self.save(self.job.evolve(status=JobStatus.DONE, phase="done", error=None,
                                  finished_at=self.runner.now(), lease_owner=None,
                                  lease_until=None, totals=totals))
        logger.info("audit job %s/%s done", self.job.seller_id, self.job.run_id,
                    extra={"totals": self.job.totals})

    @contextmanager
    def _workdir(self) -> Iterator[Path]:
        path = Path(tempfile.mkdtemp(prefix="sellerops-audit-", dir=self.runner.workdir))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def _audit(self, workdir: Path) -> _AuditOutput:
        output = _AuditOutput()
        for report in self.job.reports:
            if report.status is ReportStatus.FATAL:
                output.errors.append(ReportError(report.key, 0, report.error or "FATAL"))
        by_region: dict[str, list[tuple[str, Path]]] = {}
        for report in self.job.reports:
            if report.status is ReportStatus.DONE and report.document_id:
                path = self._download(report, workdir)
                by_region.setdefault(report.region, []).append((path.name, path))
                if report.kind == ReportKind.LEDGER:
                    output.ledgers.append(path)
                elif report.kind == ReportKind.REIMBURSEMENTS:
                    output.reimbursement_files.append(path)
        for report in self.job.reports:
            if report.kind == INBOUND and report.status is ReportStatus.DONE:
                path = self._inbound_file(report, workdir, output)
                by_region.setdefault(report.region, []).append((path.name, path))
        costs = self._cost_book()
        output.unit_costs = len(costs)
        markets = regions_of(self.job.marketplace_ids)
        for region, inputs in sorted(by_region.items()):
            result = run_audit(inputs, as_of=self.job.as_of, costs=costs)
            output.claims.extend(result.claims)
            output.errors.extend(result.errors)
            only = markets.get(region, ())
            marketplace_id = only[0] if len(only) == 1 else None
            output.regions.append((marketplace_id, result.claims))
            for status, total in result.totals().items():
                sums = output.amounts.setdefault(status, {})
                for currency, amount in total["by_currency"].items():
                    sums[currency] = str(Decimal(sums.get(currency, "0")) + Decimal(amount))
        output.losses = list(self._losses(output.ledgers))
        output.reimbursements = self._reimbursements(output.reimbursement_files)
        return output

    def _cost_book(self) -> CostBook:
        """The seller's unit costs (the UnitCosts table); empty without a source."""
        if self.runner.costs is None:
            return CostBook()
        stored = self.runner.costs.cost_book(self.job.seller_id)
        return CostBook(UnitCost("unit-costs", 0, sku, money)
                        for sku, by_currency in stored.items()
                        for money in by_currency.values())

    def _inbound_file(self, report: JobReport, workdir: Path, output: _AuditOutput) -> Path:
        """The inbound-shipments CSV of a region: the items of every closed shipment
        listed (``getShipmentItemsByShipmentId``, one call per shipment)."""
        api = self.seller(report.region, report.marketplace_ids)
        path = workdir / f"{report.region}-{INBOUND}-api.csv"
        rows: list[list[str]] = []
        found = self._inbound_found(report.region)
        for shipment_id, closed in sorted(found.items()):
            try:
                items = api.get_shipment_items(shipment_id)
            except SpApiClientError as error:
                output.errors.append(ReportError(
                    report.key, 0, f"getShipmentItemsByShipmentId {shipment_id}: {error}"))
                continue
            rows += inbound.item_rows(
                shipment_id, closed, (items.get("payload") or {}).get("ItemData") or [])
        with path.open("w", encoding="utf-8", newline="") as out:
            inbound.write_csv(out, rows)
        output.inbound_shipments += len(found)
        return path

    def _download(self, report: JobReport, workdir: Path) -> Path:
        """The document as delivered (still gzipped if it was: the parser recognises gzip
        by its content), streamed to disk; a fresh URL each time (they last 5 min)."""
        assert report.document_id is not None
        api = self.seller(report.region, report.marketplace_ids)
        document = api.get_report_document(report.document_id)
        source_id = report.reused_report_id or report.report_id or report.document_id
        path = workdir / f"{report.region}-{report.kind}-{source_id}.tsv"
        with api.client.open_document(str(document["url"]), binary=True) as stream, \
                path.open("wb") as out:
            shutil.copyfileobj(stream, out, 1024 * 1024)
        return path

    def _losses(self, ledgers: Sequence[Path]) -> Iterator[LossEvent]:
        """Loss and damage adjustments of the ledgers within the alarm's horizon,
        deduplicated as the audit does (one event per ledger row)."""
        rule = self.settings.spike_rule
        oldest = self.job.as_of - timedelta(days=rule.window_days + 7 * rule.baseline_weeks)
        seen: set[tuple[Any, ...]] = set()
        scratch: list[ReportError] = []  # the audit reported these rows already
        for path in ledgers:
            for entry in read_records(path, scratch, expect=ReportKind.LEDGER,
                                      event_types={ADJUSTMENTS},
                                      adjustment_reasons=LOSS_REASONS | DAMAGE_REASONS):
                if not isinstance(entry, LedgerEntry) or entry.quantity >= 0:
                    continue
                if entry.date < oldest:
                    continue
                key = (entry.at, entry.fnsku, entry.reference_id, entry.quantity,
                       entry.fulfillment_center, entry.reason)
                if key in seen:
                    continue
                seen.add(key)
                kind = LOST if entry.reason in LOSS_REASONS else DAMAGED
                yield LossEvent(entry.date, -entry.quantity, kind)

    @staticmethod
    def _reimbursements(files: Sequence[Path]) -> list[Reimbursement]:
        rows: dict[tuple[str, str], Reimbursement] = {}
        scratch: list[ReportError] = []
        for path in files:
            for row in read_records(path, scratch, expect=ReportKind.REIMBURSEMENTS):
                if isinstance(row, Reimbursement):
                    rows.setdefault((row.reimbursement_id, row.fnsku), row)
        return list(rows.values())

    def _store(self, audit: _AuditOutput) -> None:
        if self.job.claims_stored:  # a retry after storing: the totals stand
            return
        created: list[str] = []
        updated: list[str] = []
        kept: list[str] = []
        for marketplace_id, claims in audit.regions:
            stored = self.runner.claims.store(self.job.seller_id, claims,
                                              marketplace_id=marketplace_id)
            created += stored.created
            updated += stored.updated
            kept += stored.kept
        totals = {
            "claims": len(audit.claims),
            "by_status": _count(str(c.status) for c in audit.claims),
            "by_category": _by_category(audit.claims),
            "amounts": audit.amounts,
            "created": len(created),
            "updated": len(updated),
            "status_kept": len(kept),
            "errors": len(audit.errors),
            "reports": _count(str(r.status) for r in self.job.reports),
            "inbound_shipments": audit.inbound_shipments,
            "unit_costs": audit.unit_costs,
        }
        if INBOUND_PROGRESS in self.job.totals:  # a retry of the audit reads it again
            totals[INBOUND_PROGRESS] = self.job.totals[INBOUND_PROGRESS]
        self.save(self.job.evolve(
            claims_stored=True, phase="settling", totals=totals,
            errors=tuple(e.to_dict() for e in audit.errors[:MAX_STORED_ERRORS])))

    def _settle(self, audit: _AuditOutput) -> None:
        if self.job.claims_settled:
            return
        settled = self.runner.claims.settle(
            self.job.seller_id, audit.reimbursements,
            listed={c.claim_id for c in audit.claims}, as_of=self.job.as_of)
        totals = {
            **self.job.totals,
            "reimbursed": len(settled.reimbursed),
            "reimbursed_claims": [s.to_dict() for s in settled.reimbursed[:MAX_LISTED_IDS]],
            "partly_paid": len(settled.partly_paid),
            "expired_unlisted": len(settled.expired),
        }
        self.save(self.job.evolve(claims_settled=True, phase="alarms", totals=totals))

    def _alarms(self, audit: _AuditOutput) -> None:
        job = self.job
        alarms: list[Alarm] = []
        near = deadline_near(job.seller_id, self.runner.claims.claims_of(job.seller_id),
                             as_of=job.as_of, days=self.settings.deadline_alarm_days)
        if near is not None:
            alarms.append(near)
        spike = damage_spike(job.seller_id, audit.losses, as_of=job.as_of,
                             rule=self.settings.spike_rule, claims=audit.claims)
        if spike is not None:
            alarms.append(spike)
        for alarm in alarms:
            if alarm.detail_type in self.job.alarms_published:
                continue  # put by an earlier attempt of this run
            self.runner.events.put(alarm.detail_type, alarm.detail)
            self.save(self.job.evolve(
                alarms_published=(*self.job.alarms_published, alarm.detail_type),
                totals={**self.job.totals, "alarms": [
                    *self.job.totals.get("alarms", []), alarm.detail_type]}))
            logger.info("alarm %s for %s", alarm.detail_type, job.seller_id)


@dataclass(slots=True)
class _AuditOutput:
    claims: list[Claim] = field(default_factory=list)
    regions: list[tuple[str | None, list[Claim]]] = field(default_factory=list)
    errors: list[ReportError] = field(default_factory=list)
    amounts: dict[str, dict[str, str]] = field(default_factory=dict)
    ledgers: list[Path] = field(default_factory=list)
    reimbursement_files: list[Path] = field(default_factory=list)
    losses: list[LossEvent] = field(default_factory=list)
    reimbursements: list[Reimbursement] = field(default_factory=list)
    inbound_shipments: int = 0  # closed shipments whose items were read
    unit_costs: int = 0  # SKUs with a stored unit cost


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _by_category(claims: Iterable[Claim]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for claim in claims:
        row = table.setdefault(str(claim.category), {})
        row[str(claim.status)] = row.get(str(claim.status), 0) + 1
    return dict(sorted(table.items()))
