"""The daily fan-out (functions/audit/scheduler.py) on moto, and Lost & Found end to end
on the in-process local stack: the 03:00 schedule → AuditSchedulerFunction → audit-jobs
queue → AuditFunction → Reports API on the simulated Amazon → Claims table and alarms on
the stack's bus, through the real template and handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.audit.job import AuditJobMessage
from functions.audit.logic.reports import REPORT_TYPES, ReportKind
from functions.audit.scheduler import AuditScheduler, JobQueue, audit_marketplaces, run_day
from functions.core.accounts import (
    Account,
    ConnectionStatus,
    Contract,
    ContractStatus,
    Profile,
    RepricerConnection,
    account_id_for_seller,
)
from functions.core.repositories.accounts import AccountRepository
from functions.core.repositories.audit_jobs import AuditJobRepository, JobStatus
from functions.core.repositories.claims import ClaimRepository
from functions.core.repositories.tables import create_tables
from infra.template import load_transformed
from tests.integration.test_audit_job import CONTENT, FILES, expected_claims

US, CA, DE = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1PA6795UKMFR9"
AS_OF = date(2025, 11, 20)
NOW = datetime(2025, 11, 20, 3, 0, tzinfo=UTC)


def account(seller_id: str, *, products: tuple[str, ...] = ("lost_found",),
            country: str = "US", **fields: Any) -> Account:
    return Account(account_id=account_id_for_seller(seller_id), seller_id=seller_id,
                   name=f"Shop {seller_id}", language="en", country=country,
                   products=products, created_at=NOW, updated_at=NOW, **fields)


@pytest.fixture
def fanout() -> Iterator[tuple[AuditScheduler, Any, str, AccountRepository,
                               AuditJobRepository]]:
    with mock_aws():
        dynamo = boto3.client("dynamodb", region_name="us-east-1")
        names = create_tables(dynamo, load_transformed(),
                              only=["AccountsTable", "AuditJobsTable"])
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="audit-jobs")["QueueUrl"]
        accounts = AccountRepository(names["AccountsTable"], client=dynamo)
        jobs = AuditJobRepository(names["AuditJobsTable"], client=dynamo, clock=lambda: NOW)
        scheduler = AuditScheduler(accounts, jobs, JobQueue(queue_url, client=sqs),
                                   page_size=4)
        yield scheduler, sqs, queue_url, accounts, jobs


def queued(sqs: Any, queue_url: str) -> list[AuditJobMessage]:
    messages: list[AuditJobMessage] = []
    while got := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10
                                     ).get("Messages", []):
        for message in got:
            messages.append(AuditJobMessage.from_body(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def test_one_job_per_lost_and_found_seller_and_a_refired_schedule_adds_none(fanout) -> None:
    scheduler, sqs, queue_url, accounts, jobs = fanout
    accounts.create(account("A1PROFILE", profile=Profile(marketplaces=(US, CA))))
    accounts.create(account("A1REPRICERONLY", products=("repricer",)))
    accounts.create(account("A1CANCELLED", contract=Contract(
        plan="basic", status=ContractStatus.CANCELLED, started_at=NOW)))
    accounts.create(account("A1TRIAL", contract=Contract.trial("basic", NOW)))
    accounts.create(account("A1AGENCY", country="DE", seller_ids=("A1AGENCY", "A1CLIENT")))
    accounts.create(account("A1CONNECTED", products=("lost_found", "repricer"),
                            repricer_connection=RepricerConnection(
                                request_id="r1", status=ConnectionStatus.CONNECTED,
                                marketplace_ids=(CA,), requested_at=NOW, updated_at=NOW)))
    for n in range(10):  # more than one SQS batch, several account pages
        accounts.create(account(f"A1BULK{n:02d}"))

    result = scheduler.schedule(AS_OF)
    messages = {m.seller_id: m for m in queued(sqs, queue_url)}
    expected = {"A1PROFILE", "A1TRIAL", "A1AGENCY", "A1CLIENT", "A1CONNECTED",
                *(f"A1BULK{n:02d}" for n in range(10))}
    assert set(messages) == expected and sorted(result.queued) == sorted(expected)
    assert result.not_subscribed == 2 and result.refused == []
    assert messages["A1PROFILE"].marketplace_ids == (US, CA)
    assert messages["A1AGENCY"].marketplace_ids == messages["A1CLIENT"].marketplace_ids == (DE,)
    assert messages["A1CONNECTED"].marketplace_ids == (CA,)
    assert {(m.run_id, m.as_of) for m in messages.values()} == {("2025-11-20", AS_OF)}
    record = jobs.get("A1AGENCY", "2025-11-20")
    assert record is not None and record.status is JobStatus.QUEUED

    # The schedule fires again the same day: jobs that started are not queued again;
    # one still waiting is sent again (its message may be lost); the job skips duplicates.
    for seller in expected - {"A1TRIAL"}:
        job = jobs.get(seller, "2025-11-20")
        jobs.save(job.evolve(status=JobStatus.DONE if seller != "A1AGENCY"
                             else JobStatus.RUNNING))
    again = scheduler.schedule(AS_OF)
    assert [m.seller_id for m in queued(sqs, queue_url)] == ["A1TRIAL"]
    assert (again.queued, again.requeued) == ([], ["A1TRIAL"])
    assert len(again.already_started) == len(expected) - 1

    # The next day is a new run for everyone.
    assert len(scheduler.schedule(AS_OF + timedelta(days=1)).queued) == len(expected)


def test_marketplaces_and_the_run_day() -> None:
    assert audit_marketplaces(account("A1GB", country="GB")) == ("A1F83G8C2ARO7P",)
    assert run_day({"time": "2025-11-20T03:00:00Z", "detail-type": "Scheduled Event"}) == AS_OF
    assert run_day({"time": "2025-11-20T23:30:00-05:00"}) == date(2025, 11, 21)
    assert run_day({"as_of": "2025-10-01"}) == date(2025, 10, 1)


# -- end to end on the local stack ---------------------------------------------------------
SELLER = "A1LOCALAUDIT01"


def _amazon_side(amazon: Any) -> Any:
    """A client acting as the seller, to have Amazon publish a settlement report."""
    from functions.core.spapi import SpApiClient, StaticCredentials
    from infra.simulator.sandbox import APP_CLIENT_ID, APP_CLIENT_SECRET

    return SpApiClient(
        StaticCredentials(APP_CLIENT_ID, APP_CLIENT_SECRET, {SELLER: f"Atzr|sim-{SELLER}"}),
        endpoint=amazon.url, lwa_endpoint=amazon.url).seller(SELLER, US)


def test_lost_and_found_end_to_end_on_the_local_stack(tmp_path: Path) -> None:
    from infra.local.runtime import in_process
    from infra.simulator.sandbox import SimulatedAmazon

    start = datetime(2025, 11, 20, 2, 59, tzinfo=UTC)
    with SimulatedAmazon() as amazon, in_process(
            parameters=amazon.stack_parameters(), clock_start=start) as local:
        stack = local.stack
        amazon.store_app_secret(stack.aws("secretsmanager"))
        amazon.authorise_seller(stack.aws("secretsmanager"), SELLER)
        api = amazon.api
        for kind in FILES:
            api.register_report(REPORT_TYPES[kind], CONTENT[kind], seller_id=SELLER,
                                gzip=kind is ReportKind.LEDGER)
        seller_api = _amazon_side(amazon)
        settlement = seller_api.create_report(REPORT_TYPES[ReportKind.SETTLEMENT])["reportId"]
        while seller_api.get_report(settlement)["processingStatus"] != "DONE":
            pass
        dynamo = stack.aws("dynamodb")
        AccountRepository(stack.table_name("AccountsTable"), client=dynamo).create(
            account(SELLER, profile=Profile(marketplaces=(US,))))
        # alarms: a rule on the stack's bus into a queue of our own
        events, sqs = stack.aws("events"), stack.aws("sqs")
        capture = sqs.create_queue(QueueName="captured-audit-alarms")["QueueUrl"]
        capture_arn = sqs.get_queue_attributes(
            QueueUrl=capture, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = stack.event_bus_name("DomainEventBus")
        events.put_rule(Name="capture-audit", EventBusName=bus,
                        EventPattern=json.dumps({"source": ["sellerops.audit"]}))
        events.put_targets(Rule="capture-audit", EventBusName=bus,
                           Targets=[{"Id": "capture", "Arn": capture_arn}])
        # Amazon answers getReport with 503s after the reports were requested: the first
        # invocation saves its progress and fails the record; SQS redelivers; the retry
        # resumes polling the same reports.
        api.inject_fault("getReport", status=503, count=5)
        requested = api.api_calls("createReport")

        local.advance(timedelta(minutes=1))  # 03:00: the daily schedule fires

        audits = [i for i in local.dispatcher.history if i.function == "AuditFunction"]
        assert len(audits) == 2
        assert audits[0].result["batchItemFailures"]  # interrupted, progress saved
        assert audits[1].ok and not audits[1].result["batchItemFailures"]
        assert api.api_calls("createReport") - requested == 6  # never requested again
        jobs = AuditJobRepository(stack.table_name("AuditJobsTable"), client=dynamo)
        job = jobs.get(SELLER, "2025-11-20")
        assert job is not None and (job.status, job.attempts) == (JobStatus.DONE, 2)

        claims = ClaimRepository(stack.table_name("ClaimsTable"), client=dynamo)
        stored = {c.claim_id: c for c in claims.list_for_seller(SELLER, limit=500).items}
        expected = expected_claims(tmp_path, AS_OF)
        assert sorted(stored) == sorted(expected)  # what `sellerops audit` finds

        def alarms() -> list[dict[str, Any]]:
            got = sqs.receive_message(QueueUrl=capture, MaxNumberOfMessages=10)
            for message in got.get("Messages", []):
                sqs.delete_message(QueueUrl=capture, ReceiptHandle=message["ReceiptHandle"])
            return [json.loads(m["Body"]) for m in got.get("Messages", [])]

        (alarm,) = alarms()
        assert alarm["detail-type"] == "ClaimDeadlineNear"
        assert alarm["detail"]["seller_id"] == SELLER
        assert alarm["detail"]["claim_ids"] == [
            "return_not_restocked-2fa1c28fc9d77278a14f2fef"]

        # The schedule fires again for the same day: the run record stops it.
        calls = api.api_calls()
        scheduled = {"version": "0", "id": "again", "detail-type": "Scheduled Event",
                     "source": "aws.events", "time": "2025-11-20T03:00:00Z", "detail": {}}
        refired = local.invoke("AuditSchedulerFunction", scheduled)
        assert (refired["queued"], refired["already_started"]) == (0, 1)
        local.drain()
        assert api.api_calls() == calls

        # The next day's run audits again and updates the same claims. (Time skips to
        # it without firing the stack's other schedules 288 times; the daily event is
        # what the schedule would deliver.)
        local.clock.skip((datetime(2025, 11, 21, 3, 0, tzinfo=UTC) - local.clock.now())
                         .total_seconds())
        local.invoke("AuditSchedulerFunction", {**scheduled, "id": "day-2",
                                                "time": "2025-11-21T03:00:00Z"})
        local.drain()
        second = {c.claim_id: c for c in claims.list_for_seller(SELLER, limit=500).items}
        assert sorted(second) == sorted(stored)
        assert {c.seen_count for c in second.values()} == {2}
        day2 = jobs.get(SELLER, "2025-11-21")
        assert day2 is not None and day2.status is JobStatus.DONE
        assert day2.totals["created"] == 0
        assert api.api_calls("createReport") - requested == 12
