"""The audit job (functions/audit/job.py) on moto + the fake SP-API on loopback.

The fake server serves the hand-made seller of tests/fixtures/audit/seller/ as its
Reports API documents (settlements published the way Amazon does: findable with
getReports, never requested by the job). The SP-API client, the fake server, the job and
the repositories share one ManualClock, so report polling and rate-limit waits cost no
real time. What is checked:

- the claims in the Claims table are exactly those `sellerops audit` finds on the same
  files (same ids), every report requested once, the job record complete;
- resume: a job whose time runs out (or that hits a transient failure) after requesting
  its reports saves its progress; the retry polls the same reports and never calls
  createReport again (the fake server's request log);
- re-running: the same day is skipped, the next day updates the same claims (property:
  any subset, order and duplication of report rows → no second claim);
- reimbursements close stored claims with the amount paid; alarms reach the bus.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from functions.audit.claims_store import AUDIT_DETAILS, ClaimsStore, from_stored, to_stored
from functions.audit.job import (
    AuditJobMessage,
    AuditJobRunner,
    JobNotFinished,
    JobOutcome,
    JobSettings,
)
from functions.audit.logic.audit import audit_directory
from functions.audit.logic.reports import REPORT_TYPES, ReportKind
from functions.core.events import DomainEvents
from functions.core.money import Money
from functions.core.repositories.audit_jobs import (
    AuditJob,
    AuditJobRepository,
    JobStatus,
    LeaseHeld,
    ReportStatus,
)
from functions.core.repositories.claims import ClaimRepository, ClaimStatus
from functions.core.repositories.errors import ConcurrentModification
from functions.core.repositories.tables import create_tables
from functions.core.spapi import SpApiClient, SpApiServerError, StaticCredentials
from infra.simulator.clock import ManualClock
from infra.simulator.spapi_server import FakeSpApiServer
from infra.template import load_transformed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "audit" / "seller"
FILES: dict[ReportKind, str] = {
    ReportKind.LEDGER: "Inventory_Ledger_Detail.txt",
    ReportKind.REIMBURSEMENTS: "reimbursements.tsv",
    ReportKind.CUSTOMER_RETURNS: "customer_returns.tsv",
    ReportKind.REMOVAL_ORDERS: "removal_order_detail.tsv",
    ReportKind.REMOVAL_SHIPMENTS: "removal_shipment_detail.tsv",
    ReportKind.FEE_ESTIMATES: "fba_fee_preview.txt",
    ReportKind.SETTLEMENT: "settlement.tsv",
}
CONTENT = {kind: (FIXTURES / name).read_text(encoding="utf-8") for kind, name in FILES.items()}
SETTLEMENT_TYPE = REPORT_TYPES[ReportKind.SETTLEMENT]
SELLER = "A1AUDITJOB0001"
REFRESH = "Atzr|audit-job-seller"
US = "ATVPDKIKX0DER"
CLIENT_ID = "amzn1.application-oa2-client.audit-test"
CLIENT_SECRET = "audit-test-secret"
AS_OF = date(2025, 11, 20)
RUN_AT = datetime(2025, 11, 20, 3, 0, tzinfo=UTC)
BUS = "audit-test-bus"
# Payments Amazon makes after the first audit: the damaged unit (4.00) and the
# carrier-damaged return, under-paid (10.00 of 13.77).
LATER_PAYMENTS = (
    "2025-11-20T08:00:00+00:00\t9877100001\t\t\tDamaged_Warehouse\tMUG-BLU-12\tX002ABCD12\t"
    "B0C1EXAMPL\tBlue Mug\tNew\tUSD\t4.00\t4.00\t1\t0\t1\t\t\n"
    "2025-11-20T09:00:00+00:00\t9877100002\t\t113-9990001-2223334\tCustomerReturn\t"
    "MUG-BLU-12\tX002ABCD12\tB0C1EXAMPL\tBlue Mug\tNew\tUSD\t10.00\t10.00\t1\t0\t1\t\t\n"
)
DAMAGED_CLAIM = "damaged_warehouse-a551dda9254bc2c018933097"
RETURN_CLAIM = "return_not_restocked-2fa1c28fc9d77278a14f2fef"


def expected_claims(tmp: Path, as_of: date = AS_OF,
                    content: dict[ReportKind, str] | None = None) -> dict[str, Any]:
    """What `sellerops audit` finds on the files the fake Amazon serves (no inbound
    shipments CSV: the job has no Fulfillment Inbound API; no cost sheet in AWS)."""
    folder = tmp / f"cli-{as_of.isoformat()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for kind, name in FILES.items():
        (folder / name).write_text((content or CONTENT)[kind], encoding="utf-8")
    result = audit_directory(folder, as_of=as_of)
    return {claim.claim_id: claim for claim in result.claims}


# -- the world ----------------------------------------------------------------------------
@dataclass
class Aws:
    dynamo: Any
    names: dict[str, str]
    sqs: Any
    alarm_queue: str


@contextlib.contextmanager
def audit_aws(tables: list[str]) -> Iterator[Aws]:
    """moto with ``tables`` of the template, the event bus and an alarm queue on it."""
    with mock_aws():
        dynamo = boto3.client("dynamodb", region_name="us-east-1")
        names = create_tables(dynamo, load_transformed(), only=tables)
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name=BUS)
        queue_url = sqs.create_queue(QueueName="audit-alarms")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="audit-alarms", EventBusName=BUS,
                        EventPattern=json.dumps({"source": ["sellerops.audit"]}))
        events.put_targets(Rule="audit-alarms", EventBusName=BUS,
                           Targets=[{"Id": "alarms", "Arn": queue_arn}])
        yield Aws(dynamo, names, sqs, queue_url)


@pytest.fixture(scope="module")
def aws() -> Iterator[Aws]:
    with audit_aws(["ClaimsTable", "AuditJobsTable"]) as clients:
        yield clients


@dataclass
class World:
    aws: Aws
    server: FakeSpApiServer
    clock: ManualClock
    client: SpApiClient
    jobs: AuditJobRepository
    claims: ClaimRepository
    tmp: Path

    @property
    def amazon(self) -> Any:
        return self.server.api

    def serve(self, kind: ReportKind, content: str | Callable[[dict[str, Any]], Any] | None,
              *, gzip: bool = False) -> None:
        report_type = REPORT_TYPES[kind]
        assert report_type is not None
        if content is None:
            self.amazon.report_contents.pop((SELLER, report_type), None)
            return
        self.amazon.register_report(report_type, content, seller_id=SELLER, gzip=gzip)

    def publish_settlement(self, content: str) -> str:
        """Amazon generating a settlement report (the job can only find it)."""
        self.serve(ReportKind.SETTLEMENT, content)
        api = self.client.seller(SELLER, US)
        report_id = api.create_report(SETTLEMENT_TYPE)["reportId"]
        while api.get_report(report_id)["processingStatus"] != "DONE":
            self.clock.advance(60)
        self.clock.advance(600)
        return str(report_id)

    def runner(self, *, time_left: Callable[[], float] = lambda: 900.0,
               **options: Any) -> AuditJobRunner:
        return AuditJobRunner(
            self.client, self.jobs, ClaimsStore(self.claims),
            DomainEvents(BUS, "sellerops.audit",
                         client=boto3.client("events", region_name="us-east-1")),
            JobSettings(**options), time_left=time_left, sleep=self.clock.sleep,
            now=self.clock.now, workdir=str(self.workdir))

    @property
    def workdir(self) -> Path:
        path = self.tmp / "work"
        path.mkdir(exist_ok=True)
        return path

    def run(self, as_of: date = AS_OF, *, owner: str = "message-1",
            time_left: Callable[[], float] = lambda: 900.0, **options: Any) -> JobOutcome:
        message = AuditJobMessage.for_day(SELLER, [US], as_of)
        return self.runner(time_left=time_left, **options).run(message, owner=owner)

    def stored(self) -> dict[str, Any]:
        page = self.claims.list_for_seller(SELLER, limit=500)
        assert page.next_token is None
        return {claim.claim_id: claim for claim in page.items}

    def job(self, as_of: date = AS_OF) -> AuditJob:
        job = self.jobs.get(SELLER, as_of.isoformat())
        assert job is not None
        return job

    def next_day(self) -> date:
        self.clock.advance(24 * 3600)
        return self.clock.now().date()

    def alarms(self) -> list[dict[str, Any]]:
        events = []
        while True:
            got = self.aws.sqs.receive_message(QueueUrl=self.aws.alarm_queue,
                                               MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                self.aws.sqs.delete_message(QueueUrl=self.aws.alarm_queue,
                                            ReceiptHandle=message["ReceiptHandle"])


def _clear(aws: Aws) -> None:
    for name in aws.names.values():
        keys = [k["AttributeName"] for k in
                aws.dynamo.describe_table(TableName=name)["Table"]["KeySchema"]]
        for page in aws.dynamo.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                aws.dynamo.delete_item(TableName=name, Key={k: item[k] for k in keys})
    while messages := aws.sqs.receive_message(
            QueueUrl=aws.alarm_queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            aws.sqs.delete_message(QueueUrl=aws.alarm_queue,
                                   ReceiptHandle=message["ReceiptHandle"])


def make_world(aws: Aws, tmp: Path, *, serve_all: bool = True) -> Iterator[World]:
    _clear(aws)
    clock = ManualClock(1000.0, epoch=RUN_AT - timedelta(hours=1))
    server = FakeSpApiServer(clock=clock, now=clock.now)
    server.api.register_app(CLIENT_ID, CLIENT_SECRET)
    server.api.register_seller(SELLER, REFRESH)
    with server:
        client = SpApiClient(
            StaticCredentials(CLIENT_ID, CLIENT_SECRET, {SELLER: REFRESH}),
            endpoint=server.url, lwa_endpoint=server.url, clock=clock, sleep=clock.sleep,
            rand=lambda: 1.0)
        world = World(
            aws, server, clock, client,
            AuditJobRepository(aws.names["AuditJobsTable"], client=aws.dynamo, clock=clock.now),
            ClaimRepository(aws.names["ClaimsTable"], client=aws.dynamo, clock=clock.now),
            tmp)
        if serve_all:
            world.publish_settlement(CONTENT[ReportKind.SETTLEMENT])
            for kind in FILES:
                if kind is not ReportKind.SETTLEMENT:
                    world.serve(kind, CONTENT[kind], gzip=kind is ReportKind.LEDGER)
        clock.advance((RUN_AT - clock.now()).total_seconds())
        yield world


@pytest.fixture
def world(aws: Aws, tmp_path: Path) -> Iterator[World]:
    yield from make_world(aws, tmp_path)


# -- a run --------------------------------------------------------------------------------
def test_the_job_stores_what_the_cli_finds_requesting_each_report_once(world: World) -> None:
    requested_before = world.amazon.api_calls("createReport")
    outcome = world.run()
    assert (outcome.status, outcome.resumed) == ("done", False), outcome.reason

    expected = expected_claims(world.tmp)
    stored = world.stored()
    assert sorted(stored) == sorted(expected) and len(stored) == 11
    for claim_id, claim in expected.items():
        row = stored[claim_id]
        assert row.status == (ClaimStatus.DETECTED if str(claim.status) == "open"
                              else ClaimStatus.EXPIRED)
        assert (row.quantity, row.amount, row.deadline) == (
            claim.quantity, claim.amount, claim.deadline)
        assert (row.category, row.sku, row.fnsku, row.marketplace_id) == (
            str(claim.category), claim.sku, claim.fnsku, US)
        # evidence row for row; only the file names differ (the job names documents)
        assert [(e.report, e.line, e.fields) for e in from_stored(row).evidence] == [
            (e.report, e.line, e.fields) for e in claim.evidence]
        assert from_stored(row).facts == claim.facts

    # six reports requested once each, the settlement found, not requested
    assert world.amazon.api_calls("createReport") - requested_before == 6
    assert world.amazon.api_calls("getReports") == 1
    job = world.job()
    assert (job.status, job.phase, job.attempts) == (JobStatus.DONE, "done", 1)
    assert job.lease_owner is None and job.claims_stored and job.claims_settled
    assert {r.key for r in job.reports} >= {
        "na:ledger", "na:reimbursements", "na:customer_returns", "na:removal_orders",
        "na:removal_shipments", "na:fee_estimates"}
    assert all(r.status is ReportStatus.DONE and (r.document_id or r.kind == "inbound_shipments")
               for r in job.reports)
    (settlement,) = [r for r in job.reports if r.kind == "settlement"]
    assert settlement.report_type == SETTLEMENT_TYPE and settlement.requested_at is None
    ledger = job.report("na:ledger")
    assert ledger is not None
    requested = world.amazon.reports[ledger.report_id]
    assert requested["dataEndTime"] == "2025-11-20T00:00:00Z"
    assert requested["dataStartTime"] == "2025-05-24T00:00:00Z"  # 180 days
    assert requested["marketplaceIds"] == [US]
    fees = world.amazon.reports[job.report("na:fee_estimates").report_id]
    assert "dataStartTime" not in fees  # a snapshot
    assert job.totals["claims"] == 11 and job.totals["created"] == 11
    assert job.totals["by_status"] == {"expired": 2, "open": 9}
    assert job.totals["by_category"]["removal_lost"] == {"open": 2}
    assert job.totals["amounts"] == {"open": {"USD": "53.91"}, "expired": {"USD": "4.36"}}
    assert job.totals["errors"] == 0 and job.errors == ()
    assert job.expires_at == int(datetime(2025, 12, 25, tzinfo=UTC).timestamp())
    assert list(world.workdir.iterdir()) == []  # downloads cleaned up


def test_deadline_alarm_reaches_the_bus(world: World) -> None:
    assert world.run().status == "done"
    (event,) = world.alarms()
    assert (event["source"], event["detail-type"]) == ("sellerops.audit", "ClaimDeadlineNear")
    detail = event["detail"]
    # the carrier-damaged return is due 2025-11-27, within 7 days; the lost units
    # (2025-11-29) are not yet
    assert detail["claim_ids"] == [RETURN_CLAIM]
    assert detail["deadline"] == "2025-11-27"
    assert detail["counts"] == {"claims": 1, "without_amount": 0,
                                "by_category": {"return_not_restocked": 1}}
    assert detail["amounts"] == {"USD": "13.77"}
    assert world.job().alarms_published == ("ClaimDeadlineNear",)

    # the next day, nine days ahead: both, the lost units without a value (no cost sheet)
    day = world.next_day()
    assert world.run(day, deadline_alarm_days=9).status == "done"
    (event,) = world.alarms()
    assert event["detail"]["claim_ids"] == [
        RETURN_CLAIM, "lost_warehouse-79bc4b130e57fbc9434a354d"]
    assert event["detail"]["counts"]["without_amount"] == 1


def test_a_damage_spike_reaches_the_bus(world: World) -> None:
    rows = "".join(
        f"11/{d}/2025\tX002ABCD12\tB0C1EXAMPL\tMUG-BLU-12\tBlue Mug\tAdjustments\t79900{d}\t-2\t"
        f"PHX7\tSELLABLE\t6\tUS\t0\t2\t2025-11-{d}T10:00:00-07:00\n" for d in (14, 16, 18))
    world.serve(ReportKind.LEDGER, CONTENT[ReportKind.LEDGER] + rows)
    assert world.run().status == "done"
    spikes = [e for e in world.alarms() if e["detail-type"] == "DamageSpike"]
    (spike,) = spikes
    detail = spike["detail"]
    assert detail["seller_id"] == SELLER and detail["kinds"] == ["damaged"]
    assert detail["counts"]["damaged"]["units"] == 6
    assert detail["counts"]["damaged"]["baseline_weeks"][4] == 1  # the 2025-10-11 damage
    assert len(detail["claim_ids"]) == 3
    assert all(i.startswith("damaged_warehouse-") for i in detail["claim_ids"])
    assert set(detail["claim_ids"]) <= set(world.stored())


# -- resume ---------------------------------------------------------------------------------
def test_a_job_out_of_time_resumes_without_requesting_again(world: World) -> None:
    before = world.amazon.api_calls("createReport")
    with pytest.raises(JobNotFinished, match="reports still processing"):
        world.run(time_left=lambda: 100.0)  # less than reserve (120 s) + one wait
    job = world.job()
    assert job.status is JobStatus.RUNNING and job.lease_owner is None
    assert "time ran out" in (job.error or "")
    requested = {r.key: r.report_id for r in job.reports if r.requested}
    assert len(requested) == 7 and all(requested.values())
    assert world.amazon.api_calls("createReport") - before == 6
    assert world.stored() == {}

    outcome = world.run(owner="message-1")  # the redelivered message
    assert (outcome.status, outcome.resumed) == ("done", True)
    assert world.amazon.api_calls("createReport") - before == 6  # nothing requested again
    job = world.job()
    assert {r.key: r.report_id for r in job.reports if r.requested} == requested
    assert job.attempts == 2 and job.error is None
    assert sorted(world.stored()) == sorted(expected_claims(world.tmp))


def test_a_transient_failure_saves_progress_and_the_retry_resumes(world: World) -> None:
    before = world.amazon.api_calls("createReport")
    world.amazon.inject_fault("getReport", status=503, count=5)  # every retry of one call
    with pytest.raises(SpApiServerError):
        world.run()
    job = world.job()
    assert job.lease_owner is None and "SpApiServerError" in (job.error or "")
    assert all(r.report_id for r in job.reports if r.kind != "inbound_shipments")
    assert world.run().status == "done"
    assert world.amazon.api_calls("createReport") - before == 6
    assert len(world.stored()) == 11


def test_a_run_held_by_another_invocation_is_skipped(world: World) -> None:
    message = AuditJobMessage.for_day(SELLER, [US], AS_OF)
    calls = world.amazon.api_calls()
    world.jobs.acquire(message.new_job(), owner="other-message",
                       until=world.clock.now() + timedelta(minutes=15))
    outcome = world.run(owner="message-2")
    assert outcome.status == "skipped" and "another invocation" in outcome.reason
    assert world.amazon.api_calls() == calls  # not one SP-API call
    with pytest.raises(LeaseHeld):
        world.jobs.acquire(message.new_job(), owner="message-3",
                           until=world.clock.now() + timedelta(minutes=1))
    world.clock.advance(16 * 60)  # the holder's invocation is over: its lease ran out
    assert world.run(owner="message-2").status == "done"


def test_fatal_reimbursements_fail_the_run_other_fatal_reports_are_errors(world: World) -> None:
    with pytest.raises(JobNotFinished):
        world.run(time_left=lambda: 100.0)
    job = world.job()
    shipments = job.report("na:removal_shipments")
    with world.amazon.lock:
        world.amazon.reports[shipments.report_id]["processingStatus"] = "FATAL"
    assert world.run().status == "done"
    job = world.job()
    assert job.report("na:removal_shipments").status is ReportStatus.FATAL
    assert job.totals["reports"]["FATAL"] == 1
    assert {"file": "na:removal_shipments", "line": 0,
            "reason": "Amazon could not produce the report (FATAL)"} in job.errors

    day = world.next_day()
    with pytest.raises(JobNotFinished):
        world.run(day, time_left=lambda: 100.0)
    reimbursements = world.job(day).report("na:reimbursements")
    with world.amazon.lock:
        world.amazon.reports[reimbursements.report_id]["processingStatus"] = "FATAL"
    outcome = world.run(day)
    assert outcome.status == "failed" and "reimbursements report failed" in outcome.reason
    assert world.job(day).status is JobStatus.FAILED
    assert world.run(day, owner="another-message").status == "skipped"


def test_nothing_to_report_is_empty_and_a_duplicate_cancellation_reuses_the_report(
    world: World,
) -> None:
    world.serve(ReportKind.REMOVAL_SHIPMENTS, None)  # CANCELLED: nothing to report
    served = {"count": 0}

    def returns_once(_report: dict[str, Any]) -> str | None:
        # Amazon cancels a repeat of a report it produced within its regeneration time
        served["count"] += 1
        return CONTENT[ReportKind.CUSTOMER_RETURNS] if served["count"] == 1 else None

    world.serve(ReportKind.CUSTOMER_RETURNS, returns_once)
    api = world.client.seller(SELLER, US)
    earlier = api.create_report(REPORT_TYPES[ReportKind.CUSTOMER_RETURNS])["reportId"]
    while api.get_report(earlier)["processingStatus"] != "DONE":
        world.clock.advance(30)

    assert world.run().status == "done"
    job = world.job()
    assert job.report("na:removal_shipments").status is ReportStatus.CANCELLED
    returns = job.report("na:customer_returns")
    assert (returns.status, returns.reused_report_id) == (ReportStatus.DONE, earlier)
    expected = expected_claims(world.tmp, content={
        **CONTENT, ReportKind.REMOVAL_SHIPMENTS: CONTENT[ReportKind.REMOVAL_SHIPMENTS]
        .splitlines(keepends=True)[0]})
    assert sorted(world.stored()) == sorted(expected)


# -- re-running -----------------------------------------------------------------------------
def test_the_same_day_again_is_skipped_and_the_next_day_adds_no_claim(world: World) -> None:
    assert world.run().status == "done"
    first = world.stored()
    calls = world.amazon.api_calls()
    again = world.run(owner="duplicate-message")
    assert (again.status, again.reason) == ("skipped", "already done")
    assert world.amazon.api_calls() == calls  # not one SP-API call

    day = world.next_day()
    assert world.run(day, owner="message-day-2").status == "done"
    second = world.stored()
    assert sorted(second) == sorted(first)
    assert all(claim.seen_count == 2 for claim in second.values())
    job = world.job(day)
    assert (job.totals["created"], job.totals["updated"]) == (0, 11)
    assert world.amazon.api_calls("createReport") == 1 + 6 + 6  # settlement + 2 runs


def test_reimbursed_claims_are_closed_with_the_amount_paid(world: World) -> None:
    assert world.run().status == "done"
    before = world.stored()
    assert before[DAMAGED_CLAIM].status is ClaimStatus.DETECTED
    world.claims.transition(SELLER, RETURN_CLAIM, "filed", case_id="CASE-1")

    world.serve(ReportKind.REIMBURSEMENTS, CONTENT[ReportKind.REIMBURSEMENTS] + LATER_PAYMENTS)
    day = world.next_day()
    assert world.run(day).status == "done"
    after = world.stored()
    damaged, returned = after[DAMAGED_CLAIM], after[RETURN_CLAIM]
    assert damaged.status is ClaimStatus.REIMBURSED
    assert damaged.reimbursed_amount == Money.of("4.00", "USD")
    assert "9877100001" in damaged.timeline[-1].note
    assert returned.status is ClaimStatus.REIMBURSED  # filed → reimbursed
    assert returned.case_id == "CASE-1"
    assert returned.reimbursed_amount == Money.of("10.00", "USD")
    assert "under-paid by 3.77 USD" in returned.timeline[-1].note
    # the audit core records the difference as its own claim
    (underpaid,) = [c for c in after.values() if c.category == "reimbursement_underpaid"]
    assert underpaid.amount == Money.of("3.77", "USD")
    assert underpaid.claim_id not in before
    job = world.job(day)
    assert job.totals["reimbursed"] == 2
    shortfalls = {s["claim_id"]: s["shortfall"] for s in job.totals["reimbursed_claims"]}
    assert shortfalls == {DAMAGED_CLAIM: None,
                          RETURN_CLAIM: {"amount": "3.77", "currency": "USD"}}
    untouched = set(before) - {DAMAGED_CLAIM, RETURN_CLAIM}
    assert all(after[i].status == before[i].status for i in untouched)


# -- property: re-running never creates a second claim ---------------------------------------
def _shuffled(text: str, rng: random.Random, keep: float, duplicate: float) -> str:
    """Header kept; a subset of the rows, shuffled, some twice (overlapping downloads).
    A settlement's totals row stays first, as Amazon writes it."""
    lines = text.splitlines(keepends=True)
    fixed = 2 if lines[0].startswith("settlement-id") else 1
    rows = [r for r in lines[fixed:] if rng.random() < keep]
    rows += [r for r in rows if rng.random() < duplicate]
    rng.shuffle(rows)
    return "".join(lines[:fixed] + rows)


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), keep=st.floats(0.5, 1.0),
       duplicate=st.floats(0.0, 0.5), days=st.integers(0, 3))
def test_rerunning_an_audit_never_creates_a_second_claim(
    aws: Aws, tmp_path_factory: pytest.TempPathFactory, seed: int, keep: float,
    duplicate: float, days: int,
) -> None:
    rng = random.Random(seed)
    tmp = tmp_path_factory.mktemp("property")
    subset = {kind: _shuffled(text, rng, keep, 0.0) for kind, text in CONTENT.items()}
    for world in make_world(aws, tmp, serve_all=False):
        world.publish_settlement(subset[ReportKind.SETTLEMENT])
        for kind in FILES:
            if kind is not ReportKind.SETTLEMENT:
                world.serve(kind, subset[kind])
        assert world.run().status == "done"
        first = world.stored()
        assert sorted(first) == sorted(expected_claims(tmp, content=subset))

        # the same rows again, in another order, duplicated, some days later
        again = {kind: _shuffled(text, rng, 1.0, duplicate) for kind, text in subset.items()}
        for kind in FILES:
            if kind is not ReportKind.SETTLEMENT:
                world.serve(kind, again[kind], gzip=rng.random() < 0.5)
        world.clock.advance(days * 24 * 3600)
        day = world.next_day()
        assert world.run(day, owner=f"day-{day}").status == "done"
        second = world.stored()
        later = expected_claims(tmp, as_of=day, content=subset)
        # every claim of the first run is the same item; new ones only for windows
        # that opened since (never a second claim for the same evidence)
        assert set(first) <= set(second)
        assert set(second) == set(first) | set(later)
        assert world.job(day).totals["created"] == len(set(later) - set(first))


# -- the mapping and the repository -------------------------------------------------------------
def test_stored_claims_map_back_to_the_audit_claims(tmp_path: Path) -> None:
    for claim in expected_claims(tmp_path).values():
        stored = to_stored(SELLER, claim, marketplace_id=US)
        assert stored.evidence[0]["report"] == AUDIT_DETAILS
        back = from_stored(stored)
        assert back == claim
    legacy = to_stored(SELLER, next(iter(expected_claims(tmp_path).values())))
    legacy = legacy.model_copy(update={"evidence": legacy.evidence[1:]})
    back = from_stored(legacy)  # stored by something else: anchor from the deadline
    assert back.anchor == back.deadline - timedelta(days=58) and back.facts == ()


def test_the_job_record_is_optimistic_and_the_scheduler_guard_idempotent(world: World) -> None:
    message = AuditJobMessage.for_day(SELLER, [US], AS_OF)
    job, created = world.jobs.enqueue(message.new_job())
    assert created and job.status is JobStatus.QUEUED and job.version == 1
    again, created = world.jobs.enqueue(message.new_job())
    assert not created and again == job
    world.jobs.save(job.evolve(phase="x"))
    with pytest.raises(ConcurrentModification):
        world.jobs.save(job.evolve(phase="y"))  # stale version
    leased = world.jobs.acquire(message.new_job(), owner="m", until=world.clock.now())
    assert (leased.status, leased.attempts, leased.lease_owner) == (JobStatus.RUNNING, 1, "m")
    assert world.jobs.release(leased).lease_owner is None


# -- the handler's mapping of outcomes to the SQS batch response ---------------------------------
class _Context:
    function_name = "AuditFunction"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:AuditFunction"
    aws_request_id = "00000000-0000-0000-0000-000000000001"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": f"m-{i}", "receiptHandle": f"r-{i}", "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0",
                       "SenderId": "x", "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:AuditJobsQueue",
        "awsRegion": "us-east-1"} for i, body in enumerate(bodies)]}


def test_the_handler_fails_only_unfinished_and_invalid_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.audit import handler

    class Runner:
        def __init__(self, context: Any) -> None:
            assert context.get_remaining_time_in_millis() == 900_000

        def run(self, message: AuditJobMessage, *, owner: str) -> JobOutcome:
            if message.seller_id == "A1UNFINISHED":
                raise JobNotFinished("reports still processing")
            return JobOutcome("done", message.seller_id, message.run_id,
                              totals={"claims": 3, "created": 1, "alarms": ["DamageSpike"]})

    monkeypatch.setattr(handler, "build_runner", Runner)
    done = AuditJobMessage.for_day("A1DONE", [US], AS_OF).to_body()
    unfinished = AuditJobMessage.for_day("A1UNFINISHED", [US], AS_OF).to_body()
    response = handler.lambda_handler(
        _sqs_event(done, unfinished, '{"seller_id": "A1"}', "not json"), _Context())
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == [
        "m-1", "m-2", "m-3"]
