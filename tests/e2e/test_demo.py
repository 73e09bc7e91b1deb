"""`sellerops demo --json`: the main job end to end on the local stack (a short run)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from infra.cli import main

CONTRACT_KEYS = {
    "seed", "days", "sellers", "skus", "currency", "buy_box_share", "revenue",
    "baseline_revenue", "price_changes", "prices_out_of_bounds", "api_calls", "throttled",
    "claims", "notifications_by_language", "report",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(["demo", "--json", "--sellers", "2", "--skus", "3", "--days", "1",
                     "--seed", "5", "--out", str(out), "--record", str(out / "rec.jsonl")])
    return code, buffer.getvalue(), out


def test_prints_one_json_document_with_the_contract_keys(demo):
    code, stdout, _ = demo
    assert code == 0
    summary = json.loads(stdout)  # the whole of stdout is one document
    assert CONTRACT_KEYS <= set(summary)
    assert (summary["seed"], summary["days"], summary["sellers"], summary["skus"]) == (5, 1, 2, 3)
    assert summary["currency"] == "EUR"
    assert set(summary["claims"]) == {"count", "value", "by_category"}
    Decimal(summary["revenue"]), Decimal(summary["baseline_revenue"])  # decimal strings


def test_prices_moved_through_the_real_stack_and_never_left_their_bounds(demo):
    summary = json.loads(demo[1])
    assert summary["prices_out_of_bounds"] == 0
    assert summary["price_changes"] > 0  # decided, published and live on the fake Amazon
    assert summary["api_calls"] > summary["price_changes"] / 10
    assert 0 <= summary["buy_box_share"] <= 1
    assert Decimal(summary["revenue"]) > 0


def test_writes_the_html_report_and_handler_log(demo):
    summary = json.loads(demo[1])
    report = Path(summary["report"])
    assert report.is_absolute() and report.exists()
    page = report.read_text(encoding="utf-8")
    assert "<svg" in page and "buy_box_share" in page
    assert (demo[2] / "handlers.log").stat().st_size > 0


def test_lost_and_found_finds_the_planted_errors_through_the_stack(demo):
    summary = json.loads(demo[1])
    claims = summary["claims"]
    assert claims["count"] > 0 and Decimal(claims["value"]) > 0
    assert claims["by_category"] == summary["claims_planted"]  # exactly what was planted
    assert set(claims["by_category"]) == {
        "lost_warehouse", "damaged_warehouse", "return_not_received", "inbound_shortfall",
        "fee_overcharge"}


def test_orders_reach_the_repricer_as_order_change_and_b2b_offers_too(demo):
    summary = json.loads(demo[1])
    by_type = summary["notifications_by_type"]
    assert by_type["ORDER_CHANGE"] == summary["orders"] > 0
    assert summary["orders_counted"] == summary["orders"]  # every order counted as sales
    assert by_type["B2B_ANY_OFFER_CHANGED"] > 0 and by_type["ANY_OFFER_CHANGED"] > 0
    assert sum(by_type.values()) == summary["notifications"]


def test_the_recording_replays_without_errors(demo, tmp_path):
    from functions.reprice.replay import run_replay
    from infra.demo import CURRENCY, b2b_skus, listings_csv, seller_ids
    from infra.simulator.market import Market

    summary = json.loads(demo[1])
    recording = Path(summary["recorded"])
    lines = recording.read_text(encoding="utf-8").splitlines()
    assert len(lines) == summary["notifications"]
    market = Market(5, seller_ids(2), 3, CURRENCY)
    listings = tmp_path / "listings.csv"
    listings.write_text(listings_csv(market.products, b2b_skus(market.products)))
    import io

    out = io.StringIO()
    assert run_replay(str(listings), str(recording), as_json=True, out=out,
                      err=io.StringIO()) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {r["line"] for r in rows} == set(range(1, len(lines) + 1))
    assert not [r for r in rows if r["action"] == "error"]
