"""The seeded market: deterministic per seed, Buy Box and demand rules as documented
(docs/MARKET-MODEL.md, infra/simulator/parameters.py), bots as described."""

from decimal import Decimal

import pytest

from infra.demo import run_baseline
from infra.simulator.market import AMAZON_SELLER_ID, MIXES, Bot, Market, Offer, Product
from infra.simulator.parameters import DEFAULT, FACTS, MarketParameters

D = Decimal


def snapshot(market):
    return [(p.asin, p.ours.price, p.threshold, p.elasticity,
             tuple((b.kind, b.offer.price, b.offer.in_stock) for b in p.bots))
            for p in market.products]


def product(*rivals: Offer, ours: str = "20.00", threshold: str = "30.00",
            parameters: MarketParameters = DEFAULT) -> Product:
    """One ASIN at reference 20.00 with our FBA offer and the given rival offers."""
    p = Product(
        asin="B0TEST", sku="SKU", seller_id="US", reference=D("20.00"), min_price=D("17.00"),
        max_price=D("26.00"), cost=D("12.00"), base_units_per_hour=D("1"),
        ours=Offer("US", D(ours)), elasticity=-1.0, threshold_base=D(threshold),
        parameters=parameters,
    )
    p.bots = [Bot(o, "static", floor=D("1")) for o in rivals]
    return p


def share(p: Product, offer: Offer) -> float:
    return p.share_of(offer)


# -- determinism ------------------------------------------------------------------------


@pytest.mark.parametrize("mix", MIXES)
def test_same_seed_same_market_and_same_hours(mix):
    a, b = Market(7, ["S1", "S2"], 4, mix=mix), Market(7, ["S1", "S2"], 4, mix=mix)
    assert snapshot(a) == snapshot(b)
    for _ in range(48):
        ra, rb = a.step(), b.step()
        assert (ra.revenue, ra.changed, ra.buy_box_hours) == (rb.revenue, rb.changed,
                                                             rb.buy_box_hours)
        assert a.external == b.external
    assert snapshot(a) == snapshot(b)
    assert snapshot(Market(8, ["S1", "S2"], 4, mix=mix)) != snapshot(Market(7, ["S1", "S2"], 4,
                                                                            mix=mix))


def test_outside_events_do_not_depend_on_our_price():
    """Runs with different repricers see the same stock-outs and threshold walks."""
    a, b = Market(3, ["S1"], 6, mix="calm"), Market(3, ["S1"], 6, mix="calm")
    for p in b.products:
        p.ours.price = p.min_price
    for _ in range(72):
        a.step()
        b.step()
        assert [p.threshold for p in a.products] == [p.threshold for p in b.products]
        assert [p.draw for p in a.products] == [p.draw for p in b.products]
        assert [[o.in_stock for o in p.offers()] for p in a.products] == \
            [[o.in_stock for o in p.offers()] for p in b.products]


def test_the_same_seed_gives_the_same_asins_in_every_mix():
    markets = [Market(5, ["S1"], 5, mix=mix) for mix in MIXES]
    first = [(p.asin, p.reference, p.elasticity, p.threshold) for p in markets[0].products]
    for market in markets[1:]:
        assert [(p.asin, p.reference, p.elasticity, p.threshold)
                for p in market.products] == first


def test_mixes_have_their_documented_competitors():
    calm, aggressive, amazon = (Market(2, ["S1"], 20, mix=m) for m in
                                ("calm", "aggressive", "amazon"))
    for p in calm.products:
        kinds = [b.kind for b in p.bots]
        assert "static" in kinds and not {"undercutter", "amazon"} & set(kinds)
    for p in aggressive.products:
        assert [b.kind for b in p.bots].count("undercutter") == 2
    for p in amazon.products:
        assert any(b.offer.seller_id == AMAZON_SELLER_ID and b.offer.amazon for b in p.bots)
    mixed = Market(2, ["S1"], 40)
    assert 0 < sum(any(b.kind == "amazon" for b in p.bots) for p in mixed.products) < 40
    with pytest.raises(ValueError, match="unknown competitor mix"):
        Market(1, ["S1"], 1, mix="wild")


# -- Buy Box rules ----------------------------------------------------------------------


def test_lower_landed_price_wins_more_and_equal_offers_split():
    rival = Offer("R", D("20.00"))
    p = product(rival, ours="19.80")
    assert share(p, p.ours) > 0.5 > share(p, rival)
    p.ours.price = D("20.20")
    assert share(p, p.ours) < 0.5
    ten = product(*(Offer(f"R{i}", D("20.00")) for i in range(9)), ours="20.00")
    assert all(abs(s - 0.1) < 1e-9 for _, s in ten.buy_box_shares())
    # offers ~1 % apart split (rotation_temperature), 5 % apart hardly
    p.ours.price = D("19.80")
    assert 0.6 < share(p, p.ours) < 0.85
    p.ours.price = D("19.00")
    assert share(p, p.ours) > 0.99


def test_landed_price_includes_shipping():
    fbm = Offer("R", D("15.00"), shipping=D("4.99"), fba=False)
    p = product(fbm, ours="19.90")
    assert fbm.landed == D("19.99")
    assert share(p, p.ours) > share(p, fbm)


def test_above_the_threshold_is_ineligible_and_none_eligible_is_suppressed():
    rival = Offer("R", D("21.00"))
    p = product(rival, ours="20.00", threshold="20.50")
    assert share(p, p.ours) == 1.0 and share(p, rival) == 0.0
    p.threshold_now = D("19.99")
    assert p.buy_box_shares() == [] and p.buy_box_winner() is None
    units, _, suppressed = p.demand()
    assert suppressed
    p.threshold_now = D("30.00")
    unsuppressed, _, _ = p.demand()
    assert units < unsuppressed * DEFAULT.suppressed_sales_factor * 1.2


def test_non_featured_weak_feedback_and_out_of_stock_offers_never_win():
    cheap = Offer("R", D("10.00"), featured=False)
    p = product(cheap)
    assert share(p, cheap) == 0 and p.buy_box_winner() is p.ours
    cheap.featured, cheap.feedback_positive = True, DEFAULT.min_feedback_positive - 1
    assert share(p, cheap) == 0
    cheap.feedback_positive, cheap.in_stock = 99, False
    assert share(p, cheap) == 0
    assert p.units_of(cheap) == 0
    cheap.in_stock = True
    assert share(p, cheap) > 0.99


def test_fba_edge_holds_the_buy_box_at_a_slightly_higher_price():
    fbm = Offer("R", D("15.00"), shipping=D("4.80"), fba=False)  # landed 19.80
    p = product(fbm, ours="20.00")  # FBA, 1 % dearer, 2 % edge
    assert share(p, p.ours) > 0.6
    fbm.fba = True
    assert share(p, p.ours) < 0.5


def test_amazon_wins_within_its_edge_and_keeps_it_when_incumbent():
    amazon = Offer(AMAZON_SELLER_ID, D("20.00"), amazon=True, feedback_positive=100)
    p = product(amazon, ours="19.80")  # we are 1 % cheaper
    challenger = share(p, amazon)
    assert challenger > 0.5
    p.amazon_incumbent = True
    assert share(p, amazon) > challenger
    p.ours.price = D("19.00")  # 5 % cheaper beats even an incumbent Amazon
    assert share(p, p.ours) > 0.5


def test_the_notified_winner_is_drawn_from_the_shares():
    rival = Offer("R", D("20.00"))
    p = product(rival, ours="20.00")
    p.draw = 0.0
    assert p.buy_box_winner() is p.ours
    p.draw = 0.999
    assert p.buy_box_winner() is rival


# -- demand -----------------------------------------------------------------------------


def test_demand_falls_with_the_buy_box_price_and_the_winner_sells_bb_share():
    p = product(ours="18.00")
    low = p.units_of(p.ours)
    p.ours.price = D("24.00")
    assert p.units_of(p.ours) < low
    # alone: every unit is ours; the listing's demand follows (price / reference) ^ e
    assert abs(p.units_of(p.ours) - (24 / 20) ** -1.0) < 1e-9
    rival = Offer("R", D("30.00"))  # far dearer: no Buy Box, a small cut of the rest
    p.bots = [Bot(rival, "static", floor=D(1))]
    ours, theirs = p.units_of(p.ours), p.units_of(rival)
    assert ours / (ours + theirs) > DEFAULT.bb_share
    assert theirs < (1 - DEFAULT.bb_share) * (ours + theirs)


def test_market_buy_box_share_is_between_zero_and_one():
    market = Market(4, ["S1"], 10, mix="aggressive")
    for _ in range(24):
        result = market.step()
        assert 0 <= result.buy_box_hours <= result.product_hours


# -- bots -------------------------------------------------------------------------------


def test_undercutter_beats_the_lowest_by_a_cent_down_to_its_floor():
    bot = Bot(Offer("B", D("22.00")), "undercutter", floor=D("18.00"), ceiling=D("25.00"))
    assert bot.act(1, D("21.00"), None, draws=(0.5, 0.5)) and bot.offer.price == D("20.99")
    bot.act(2, D("17.00"), None, draws=(0.5, 0.5))
    assert bot.offer.price == D("18.00")  # stays at its floor
    bot.at_floor = "reset"
    bot.act(3, D("17.00"), None, draws=(0.5, 0.5))
    assert bot.offer.price == D("25.00")  # gives up and resets high


def test_amazon_matches_the_lowest_within_floor_and_list_price():
    bot = Bot(Offer(AMAZON_SELLER_ID, D("21.00"), amazon=True), "amazon", floor=D("19.00"),
              ceiling=D("21.00"), every_hours=2)
    assert not bot.act(1, D("20.00"), None, draws=(0.5, 0.5))  # not its hour
    bot.act(2, D("20.00"), None, draws=(0.5, 0.5))
    assert bot.offer.price == D("20.00")
    bot.act(4, D("15.00"), None, draws=(0.5, 0.5))
    assert bot.offer.price == D("19.00")
    bot.act(6, D("40.00"), None, draws=(0.5, 0.5))
    assert bot.offer.price == D("21.00")


def test_out_of_stock_seller_runs_out_and_comes_back():
    bot = Bot(Offer("B", D("19.00")), "oos", floor=D("15.00"))
    assert bot.act(10, None, None, draws=(0.0, 0.0)) and not bot.offer.in_stock
    back = 10 + DEFAULT.restock_hours_low
    assert not bot.act(back - 1, None, None, draws=(0.9, 0.9))
    assert bot.act(back, None, None, draws=(0.9, 0.9)) and bot.offer.in_stock


def test_threshold_walks_within_its_band_and_is_reported_as_external():
    market = Market(9, ["S1"], 10, mix="calm")
    seen_external = False
    for _ in range(24 * 7):
        market.move_bots()
        seen_external |= bool(market.external)
        for p in market.products:
            assert D("0.9") * p.reference - 1 <= p.threshold <= D("1.5") * p.reference
    assert seen_external


# -- parameters -------------------------------------------------------------------------


def test_every_parameter_has_a_documented_fact_and_range():
    for name, value, fact in DEFAULT.describe():
        assert fact.source and fact.low <= value <= fact.high, name
    assert set(FACTS) == {name for name, _, _ in DEFAULT.describe()}
    assert DEFAULT.replace(bb_share="0.8").bb_share == 0.8
    with pytest.raises(KeyError):
        DEFAULT.replace(nonsense=1)


def test_naive_baseline_never_leaves_bounds():
    tally = run_baseline(3, ["S1"], 10, 48)
    assert tally.out_of_bounds == 0
    assert tally.revenue > 0
    assert 0 < tally.buy_box_share <= 1


# -- running some sellers (the demo's workers) -------------------------------------------
def test_a_kept_sellers_products_behave_as_in_the_whole_market():
    sellers = ["A1", "A2", "A3"]
    whole = Market(11, sellers, 4)
    part = Market(11, sellers, 4)
    part.keep_sellers(["A2"])
    assert {p.seller_id for p in part.products} == {"A2"}
    for _ in range(30):
        moved_whole, moved_part = whole.move_bots(), part.move_bots()
        whole.sell(moved_whole), part.sell(moved_part)
        assert moved_part == {a for a in moved_whole if a.startswith("B0SIM01")}
    assert snapshot(part) == [s for s in snapshot(whole) if s[0].startswith("B0SIM01")]


def test_tallies_of_disjoint_sellers_add_up_to_the_whole():
    from infra.simulator.market import Tally

    def run(keep):
        market = Market(4, ["A1", "A2"], 5)
        if keep:
            market.keep_sellers(keep)
        tally = Tally(price_changes=len(keep))
        for _ in range(24):
            tally.add_hour(market, market.step())
        return tally

    total = run(["A1"]) + run(["A2"])
    whole = run([])
    assert total.revenue == whole.revenue and total.margin == whole.margin
    assert total.buy_box_hours == whole.buy_box_hours
    assert (total.product_hours, total.price_sum, total.max_sum) == (
        whole.product_hours, whole.price_sum, whole.max_sum)
    assert total.price_changes == 2 and total.buy_box_share == whole.buy_box_share


def test_units_sold_are_kept_per_seller_when_skus_have_equal_names():
    market = Market(2, ["A01SIMSELLER", "A02SIMSELLER"], 3)
    assert {p.sku for p in market.products if p.seller_id == "A01SIMSELLER"} == \
        {p.sku for p in market.products if p.seller_id == "A02SIMSELLER"}  # equal names
    totals = {"A01SIMSELLER": D(0), "A02SIMSELLER": D(0)}
    for _ in range(48):
        hour = market.step()
        assert len(hour.units) == 6
        for seller in totals:
            own = hour.units_of_seller(seller)
            assert set(own) == {p.sku for p in market.products if p.seller_id == seller}
            totals[seller] += sum(own.values())
    assert totals["A01SIMSELLER"] != totals["A02SIMSELLER"]
