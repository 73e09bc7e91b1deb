"""`sellerops demo --workers`: the workers' results add up to one run's."""

from decimal import Decimal as D

from infra.demo import DemoResult, combine, seller_ids
from infra.simulator.market import Tally


def test_workers_results_combine_in_seller_order():
    ids = seller_ids(120)
    parts = []
    for shard in range(3):
        part = DemoResult(seed=1, days=1, sellers=120, skus=1,
                          ours=Tally(revenue=D(shard + 1), product_hours=24))
        part.accounts = [{"seller_id": s} for s in ids[shard::3]]
        part.notifications_by_type = {"ORDER_CHANGE": shard, "ANY_OFFER_CHANGED": 1}
        part.claims_value, part.api_calls = D("1.50"), 10
        part.series = {f"chart {shard}": [(0, "1.00", None)]}
        parts.append(part)
    total = combine(parts, ["chart 2", "chart 0", "chart 9"])
    assert [a["seller_id"] for a in total.accounts] == ids  # A100… after A99…, not A10…
    assert total.ours.revenue == D(6) and total.ours.product_hours == 72
    assert total.notifications_by_type == {"ORDER_CHANGE": 3, "ANY_OFFER_CHANGED": 3}
    assert (total.claims_value, total.api_calls) == (D("4.50"), 30)
    assert list(total.series) == ["chart 2", "chart 0"]
