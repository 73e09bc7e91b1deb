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
                     "--seed", "5", "--out", str(out)])
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
