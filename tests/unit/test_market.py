"""The seeded market: deterministic, Buy Box rule as documented, baseline in bounds."""

from decimal import Decimal

from infra.demo import run_baseline
from infra.simulator.market import Market, Offer


def snapshot(market):
    return [(p.asin, p.ours.price, tuple(b.offer.price for b in p.bots)) for p in market.products]


def test_same_seed_same_market_and_moves():
    a, b = Market(7, ["S1", "S2"], 5), Market(7, ["S1", "S2"], 5)
    assert snapshot(a) == snapshot(b)
    for _ in range(24):
        ra, rb = a.step(), b.step()
        assert ra.revenue == rb.revenue and ra.changed == rb.changed
    assert snapshot(a) == snapshot(b)
    assert snapshot(Market(8, ["S1", "S2"], 5)) != snapshot(Market(7, ["S1", "S2"], 5))


def test_buy_box_goes_to_lowest_landed_featured_offer_under_threshold():
    product = Market(1, ["S1"], 1).products[0]
    product.bots = product.bots[:1]
    rival = product.bots[0].offer
    rival.fba, rival.shipping, rival.featured, rival.in_stock = True, Decimal(0), True, True
    rival.price = product.reference
    product.ours.price = product.reference - Decimal("0.50")
    assert product.buy_box_winner() is product.ours
    product.ours.price = product.reference + Decimal("0.50")
    assert product.buy_box_winner() is rival
    # a non-featured offer never wins, however cheap
    rival.featured = False
    assert product.buy_box_winner() is product.ours
    # above the competitive price threshold nobody wins (suppressed Buy Box)
    product.ours.price = product.threshold + Decimal("0.01")
    assert product.buy_box_winner() is None


def test_fba_edge_beats_a_slightly_cheaper_fbm_offer():
    product = Market(1, ["S1"], 1).products[0]
    product.bots = []
    fbm = Offer("FBM", product.reference - Decimal("0.20"), fba=False)
    product.bots.append(type("B", (), {"offer": fbm})())
    product.ours.price = product.reference
    assert product.buy_box_winner() is product.ours


def test_naive_baseline_never_leaves_bounds():
    tally = run_baseline(3, ["S1"], 10, 48)
    assert tally.out_of_bounds == 0
    assert tally.revenue > 0
    assert 0 < tally.buy_box_share <= 1
