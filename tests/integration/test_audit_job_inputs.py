"""The audit job's two inputs besides the reports (moto + the fake SP-API, as
test_audit_job.py): the seller's unit costs from the UnitCosts table, and the inbound
shipments from the Fulfillment Inbound API v0 (listed slice by slice, resumable).

With both, the job finds what `sellerops audit` finds on the full hand-made seller,
cost sheet and inbound shipments CSV included (same ids, quantities, amounts, deadlines).
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import boto3
import pytest

from functions.audit.inbound import slices
from functions.audit.job import AuditJobRunner, JobNotFinished, JobSettings, data_range
from functions.audit.logic.audit import audit_directory
from functions.audit.logic.costs import read_costs
from functions.core.events import DomainEvents
from functions.core.money import Money
from functions.core.repositories.audit_jobs import JobStatus, ReportStatus
from functions.core.repositories.unit_costs import UnitCostRepository
from tests.integration.test_audit_job import (
    AS_OF,
    BUS,
    CONTENT,
    FILES,
    FIXTURES,
    SELLER,
    Aws,
    World,
    audit_aws,
    make_world,
)

INBOUND_CSV = FIXTURES / "inbound_shipments.csv"
COSTS_CSV = FIXTURES.parent / "costs.csv"


@pytest.fixture(scope="module")
def aws() -> Iterator[Aws]:
    with audit_aws(["ClaimsTable", "AuditJobsTable", "UnitCostsTable"]) as clients:
        yield clients


@pytest.fixture
def world(aws: Aws, tmp_path: Path) -> Iterator[World]:
    yield from make_world(aws, tmp_path)


def cost_repo(world: World) -> UnitCostRepository:
    return UnitCostRepository(world.aws.names["UnitCostsTable"], client=world.aws.dynamo)


def run(world: World, *, time_left: Any = lambda: 900.0, **options: Any) -> Any:
    from functions.audit.claims_store import ClaimsStore
    from functions.audit.job import AuditJobMessage

    runner = AuditJobRunner(
        world.client, world.jobs, ClaimsStore(world.claims),
        DomainEvents(BUS, "sellerops.audit",
                     client=boto3.client("events", region_name="us-east-1")),
        JobSettings(**options), time_left=time_left, sleep=world.clock.sleep,
        now=world.clock.now, workdir=str(world.workdir), costs=cost_repo(world))
    return runner.run(AuditJobMessage.for_day(SELLER, ["ATVPDKIKX0DER"], AS_OF),
                      owner="message-1")


def register_fixture_shipments(world: World) -> None:
    """The fixture's inbound_shipments.csv as Amazon's inbound shipments: the CLOSED ones
    last updated when they closed; one still RECEIVING."""
    with INBOUND_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            world.amazon.register_inbound_shipment(SELLER, {
                "ShipmentId": row["shipment_id"],
                "ShipmentStatus": row["status"],
                "LastUpdatedDate": row["closed_date"] or "2025-11-18T00:00:00Z",
                "ItemData": [{
                    "SellerSKU": row["sku"], "FulfillmentNetworkSKU": row["fnsku"],
                    "QuantityShipped": int(row["quantity_shipped"]),
                    "QuantityReceived": int(row["quantity_received"])}],
            })


def cli_claims(tmp: Path, *, inbound: bool, costs: bool) -> dict[str, Any]:
    folder = tmp / f"cli-{inbound}-{costs}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for kind, name in FILES.items():
        (folder / name).write_text(CONTENT[kind], encoding="utf-8")
    if inbound:
        shutil.copy(INBOUND_CSV, folder / INBOUND_CSV.name)
    result = audit_directory(folder, as_of=AS_OF,
                             costs=read_costs(COSTS_CSV) if costs else None)
    return {c.claim_id: c for c in result.claims}


def summary(claims: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {cid: (c.quantity, c.amount, c.deadline) for cid, c in claims.items()}


def test_a_lost_unit_is_valued_at_the_stored_unit_cost(world: World) -> None:
    written = cost_repo(world).put_many(SELLER, [
        ("MUG-BLU-12", Money(Decimal("5.00"), "USD")),
        ("LAMP-RED-01", Money(Decimal("8.00"), "USD")),
    ])
    assert written.created == 2
    assert run(world, inbound_shipments=False).status == "done"
    stored = world.stored()
    lost = [c for c in stored.values() if c.category == "lost_warehouse"
            and c.sku == "MUG-BLU-12"]
    assert lost and all(c.amount == Money(Decimal("5.00"), "USD") * Decimal(c.quantity)
                        for c in lost)
    # exactly what the CLI finds with the same costs as a cost sheet
    assert summary(stored) == summary(cli_claims(world.tmp, inbound=False, costs=True))
    assert world.job().totals["unit_costs"] == 2


def test_without_costs_before_order_losses_have_no_amount(world: World) -> None:
    assert run(world, inbound_shipments=False).status == "done"
    lost = [c for c in world.stored().values() if c.category == "lost_warehouse"]
    assert lost and all(c.amount is None for c in lost)


def test_an_inbound_shortfall_is_found_from_the_fulfillment_inbound_api(world: World) -> None:
    register_fixture_shipments(world)
    world.amazon.inbound_page_size = 1  # every page of a slice followed
    cost_repo(world).put_many(SELLER, [("LAMP-RED-01", Money(Decimal("8.00"), "USD")),
                                       ("MUG-BLU-12", Money(Decimal("5.00"), "USD"))])
    outcome = run(world)
    assert outcome.status == "done"
    stored = world.stored()
    shortfalls = {cid: c for cid, c in stored.items() if c.category == "inbound_shortfall"}
    expected = cli_claims(world.tmp, inbound=True, costs=True)
    assert shortfalls and set(shortfalls) == {
        cid for cid, c in expected.items() if str(c.category) == "inbound_shortfall"}
    assert summary(stored) == summary(expected)  # every category, same values
    lamp = next(c for c in shortfalls.values() if c.sku == "LAMP-RED-01")
    # 24 shipped, 18 received (the ledger's Receipts say 20: the larger count wins)
    assert lamp.quantity == 4 and lamp.amount == Money(Decimal("32.00"), "USD")

    job = world.job()
    (report,) = [r for r in job.reports if r.kind == "inbound_shipments"]
    cuts = slices(*data_range(AS_OF, 180), daily_days=62)
    assert report.status is ReportStatus.DONE and report.polls == len(cuts)
    assert world.amazon.api_calls("getShipments") == len(cuts)  # one closed per slice
    assert world.amazon.api_calls("getShipmentItemsByShipmentId") == 3  # the CLOSED ones
    assert job.totals["inbound_shipments"] == 3
    assert "inbound_listed" not in job.totals  # the progress is dropped once done


def test_listing_inbound_shipments_resumes_after_running_out_of_time(world: World) -> None:
    register_fixture_shipments(world)
    cuts = slices(*data_range(AS_OF, 180), daily_days=62)
    calls = world.amazon.api_calls

    def time_left() -> float:  # time runs out 40 slices into the listing
        return 900.0 if calls("getShipments") < 40 else 10.0

    with pytest.raises(JobNotFinished, match="listing inbound shipments"):
        run(world, time_left=time_left)
    job = world.job()
    (report,) = [r for r in job.reports if r.kind == "inbound_shipments"]
    assert job.status is JobStatus.RUNNING and report.status is ReportStatus.IN_PROGRESS
    assert report.polls == 40
    assert set(job.totals["inbound_listed"]["na"]) == {"FBA15ZSHIP3", "FBA15XSHIP1"}

    assert run(world).status == "done"
    assert calls("getShipments") == len(cuts)  # no slice listed twice
    assert summary(world.stored()) == summary(cli_claims(world.tmp, inbound=True, costs=False))


def test_a_refused_inbound_api_is_an_error_and_the_audit_goes_on(world: World) -> None:
    register_fixture_shipments(world)
    world.amazon.inject_fault("getShipments", status=403, code="Unauthorized", count=5,
                              message="Access to requested resource is denied.")
    assert run(world).status == "done"
    job = world.job()
    (report,) = [r for r in job.reports if r.kind == "inbound_shipments"]
    assert report.status is ReportStatus.FATAL and "getShipments refused" in (report.error or "")
    assert any(e["file"] == "na:inbound_shipments" for e in job.errors)
    assert not [c for c in world.stored().values() if c.category == "inbound_shortfall"]
    assert summary(world.stored()) == summary(cli_claims(world.tmp, inbound=False, costs=False))


def test_slices_are_daily_for_the_recent_past() -> None:
    start, end = data_range(date(2025, 11, 20), 180)
    cuts = slices(start, end, daily_days=62)
    assert cuts[0].start == start and cuts[-1].end == end
    assert all(a.end == b.start for a, b in pairwise(cuts))
    daily = [c for c in cuts if (c.end - c.start).days == 1]
    assert len(daily) == 62 and daily[0].start == end - timedelta(days=62)
