"""The simulated fulfilment's reports: the audit (the `sellerops audit` path) finds exactly
the planted errors, and nothing for what Amazon already made good."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from functions.audit.logic.audit import audit_directory
from infra.simulator.fulfilment import CATEGORIES, fulfilment_for
from infra.simulator.market import Market

START = datetime(2026, 1, 5, tzinfo=UTC)
DE = "A1PA6795UKMFR9"


def world(seed: int, sellers: int, skus: int, hours: int = 24):
    market = Market(seed, [f"A{i + 1:02d}SIMSELLER" for i in range(sellers)], skus)
    sellers_ = fulfilment_for(market.products, seed=seed, start=START, marketplace_id=DE,
                              currency="EUR")
    for hour in range(hours):
        sold = market.step()
        for seller_id, fulfilment in sellers_.items():
            fulfilment.record_hour(START + timedelta(hours=hour), sold.units_of_seller(seller_id))
    return market, sellers_


@pytest.mark.parametrize(("seed", "sellers", "skus"), [(1, 2, 10), (5, 2, 3), (2, 1, 1)])
@pytest.mark.parametrize("as_of", [date(2026, 1, 5), date(2026, 1, 20)])
def test_the_audit_finds_exactly_the_planted_errors(tmp_path, seed, sellers, skus, as_of):
    _, sellers_ = world(seed, sellers, skus)
    for seller_id, fulfilment in sellers_.items():
        folder = fulfilment.write_reports(tmp_path / seller_id, as_of=as_of)
        result = audit_directory(folder, as_of=as_of)
        assert result.errors == []
        found = Counter(str(c.category) for c in result.claims)
        assert found == fulfilment.expected_claims()
        assert set(found) == set(CATEGORIES)
        assert {str(c.status) for c in result.claims} == {"open"}
        assert all(c.amount is not None and c.amount.amount > 0 for c in result.claims)
        by_key = {(str(c.category), c.sku): c.quantity for c in result.claims}
        for planted in fulfilment.planted:
            assert by_key[(planted.category, planted.sku)] == planted.quantity, planted


def test_made_good_events_are_in_the_reports_but_not_claimed(tmp_path):
    _, sellers_ = world(1, 1, 10)
    fulfilment = next(iter(sellers_.values()))
    assert {m.category for m in fulfilment.made_good} == {
        "lost_warehouse", "damaged_warehouse", "inbound_shortfall", "return_not_received"}
    assert "Lost_Inbound" in fulfilment.reimbursements()
    assert "CustomerReturns" in fulfilment.ledger()


def test_sales_become_whole_orders_deterministically():
    _, sellers_ = world(3, 2, 5, hours=48)
    _, again = world(3, 2, 5, hours=48)
    for seller_id, fulfilment in sellers_.items():
        twin = again[seller_id]
        assert [o.amazon_order_id for o in fulfilment.orders] == [
            o.amazon_order_id for o in twin.orders]
        assert fulfilment.ledger() == twin.ledger()
        assert all(Decimal(0) <= left < 1 for left in fulfilment.pending.values())
    ids = [o.amazon_order_id for f in sellers_.values() for o in f.orders]
    assert len(ids) == len(set(ids))


def test_reports_are_served_with_the_requested_data_range():
    from infra.simulator.spapi_server import FakeSellingPartnerApi

    _, sellers_ = world(1, 1, 4)
    fulfilment = next(iter(sellers_.values()))
    api = FakeSellingPartnerApi()
    fulfilment.register(api)
    content = api.report_contents[(fulfilment.seller_id, "GET_LEDGER_DETAIL_VIEW_DATA")]
    ranged = content.content({"dataStartTime": "2025-12-01T00:00:00Z",
                              "dataEndTime": "2025-12-20T00:00:00Z"})
    rows = ranged.splitlines()[1:]
    assert rows and all(r.split("\t")[0].startswith("12/") for r in rows)
    settlements = [r for r in api.reports.values()
                   if r["reportType"] == "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"]
    assert len(settlements) == 2 and {r["processingStatus"] for r in settlements} == {"DONE"}
    assert len(api.inbound_shipments[fulfilment.seller_id]) == 2 * 4
