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


def run(out, workers):
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(["demo", "--json", "--sellers", "2", "--skus", "3", "--days", "1",
                     "--seed", "5", "--out", str(out), "--record", str(out / "rec.jsonl"),
                     "--workers", str(workers)])
    return code, buffer.getvalue(), out


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Two worker processes, one seller each."""
    return run(tmp_path_factory.mktemp("demo"), workers=2)


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


def test_one_worker_gives_the_same_result_as_two(demo, tmp_path):
    code, stdout, out = run(tmp_path, workers=1)
    assert code == 0
    one, two = json.loads(stdout), json.loads(demo[1])
    # each worker's stack creates its own notification destination, and the publisher
    # groups a seller's price changes into feeds by the batches it receives
    assert abs(one.pop("api_calls") - two.pop("api_calls")) <= 0.05 * one["price_changes"] + 2
    assert abs(one.pop("throttled") - two.pop("throttled")) <= 2
    for key in ("elapsed_seconds", "report", "recorded"):
        one.pop(key), two.pop(key)
    assert one == two
    lines = (out / "rec.jsonl").read_text(encoding="utf-8").splitlines()
    merged = (demo[2] / "rec.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == sorted(merged)  # the same notifications, each once
    ids = [json.loads(line)["NotificationMetadata"]["NotificationId"] for line in merged]
    assert len(set(ids)) == len(ids)
    assert not list(demo[2].glob("*.0")) and not list(demo[2].glob("handlers.*.log"))
    log = (demo[2] / "handlers.log").read_text(encoding="utf-8")
    assert "# worker 1 of 2: sellers A01SIMSELLER" in log
    assert "# worker 2 of 2: sellers A02SIMSELLER" in log


def test_a_failing_worker_ends_the_run_with_its_error(tmp_path):
    from infra.demo import run_demo

    (tmp_path / "handlers.0.log").mkdir()  # worker 1 cannot open its log
    with pytest.raises(IsADirectoryError):
        run_demo(seed=5, sellers=2, skus=3, days=30, as_json=True, out_dir=str(tmp_path),
                 workers=2)
    assert not (tmp_path / "report.html").exists()
