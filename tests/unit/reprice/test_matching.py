"""Matching a notification to our SKU(s) (repricing.md §3)."""

from __future__ import annotations

from functions.core.money import Money
from functions.reprice.logic import (
    RepricingState,
    decide,
    market_view,
    match,
    match_order,
    parse_notification,
)

from .builders import OUR, RIVAL, aoc, config, offer, order_change


def payload_of(data):
    return parse_notification(data).offer_change


def test_one_listing_one_offer(sample):
    payload = payload_of(sample("any_offer_changed.json"))
    result = match(payload, [config(), config(sku="OTHER", asin="B0OTHER")])
    assert [m.config.sku for m in result.matched] == ["SKU-1"]
    assert result.matched[0].our_offer.seller_id == payload.seller_id


def test_no_listing_is_an_empty_match():
    payload = payload_of(aoc([offer(RIVAL, "20.00", winner=True)]))
    assert match(payload, [config(asin="B0OTHER")]).is_empty
    assert match(payload, [config(condition="used")]).is_empty
    assert match(payload, [config(seller_id="ASOMEONEELSE")]).is_empty
    assert match(payload, [config(marketplace_id="A1PA6795UKMFR9", currency="EUR")]).is_empty
    assert not match(payload, [config(seller_id=OUR)]).is_empty


def test_listing_condition_is_normalised_like_the_notification():
    payload = payload_of(aoc([offer(OUR, "21.00")], condition="New"))
    assert len(match(payload, [config(condition="new_new")]).matched) == 1


def test_channels_pair_separately_and_an_absent_offer_still_matches():
    payload = payload_of(aoc([offer(RIVAL, "20.00", winner=True), offer(OUR, "21.00")]))
    result = match(payload, [config(sku="FBA-1"), config(sku="FBM-1", fulfillment="FBM")])
    found = {m.config.sku: m.our_offer for m in result.matched}
    assert found["FBA-1"] is not None and found["FBM-1"] is None


def test_several_skus_pair_by_last_submitted_price_else_skip_and_flag():
    payload = payload_of(aoc([offer(OUR, "21.00"), offer(OUR, "22.00")]))
    a, b = config(sku="A"), config(sku="B")
    states = {a.key: RepricingState(current_price=Money.of("22.00", "USD")),
              b.key: RepricingState(current_price=Money.of("21.00", "USD"))}
    result = match(payload, [a, b], states)
    paired = {m.config.sku: m.our_offer.listing_price.to_str() for m in result.matched}
    assert paired == {"A": "22.00", "B": "21.00"}
    blind = match(payload, [a, b])
    assert not blind.matched and {u.config.sku for u in blind.unpaired} == {"A", "B"}
    assert all(u.flagged for u in blind.unpaired)
    same = {a.key: states[a.key], b.key: states[a.key]}
    clash = match(payload, [a, b], same)
    assert not clash.matched and "cannot tell" in clash.unpaired[0].reason


def test_real_sample_with_two_offers_of_ours(real_sample):
    payload = payload_of(real_sample("any_offer_changed.peddler.json"))
    cfg = config(asin=payload.asin, min_price="40.00", max_price="90.00")
    blind = match(payload, [cfg])
    assert not blind.matched and blind.unpaired[0].flagged
    winner = next(o for o in payload.our_offers() if o.is_winner)
    other = next(o for o in payload.our_offers() if not o.is_winner)
    for ours, expected_win in ((winner, True), (other, False)):
        state = RepricingState(current_price=ours.listing_price)
        result = match(payload, [cfg], {cfg.key: state})
        assert result.matched[0].our_offer is ours
        view = market_view(payload, cfg, ours)
        assert view.we_win is expected_win
        decision = decide(view, cfg, state, parse_notification(
            real_sample("any_offer_changed.peddler.json")).occurred_at)
        assert cfg.floor <= (decision.new_price or state.current_price) <= cfg.max
        if not expected_win:
            # our other SKU holds the Buy Box: never undercut ourselves
            assert decision.action == "hold" and "another offer of ours" in decision.reason


def test_orders_match_by_sku_marketplace_and_seller():
    order = parse_notification(order_change([("1", "SKU-1", 2), ("2", "NOPE", 1)])).order_change
    found = match_order(order, [config(), config(sku="X"), config(seller_id="AOTHER")])
    assert [(c.sku, [i.order_item_id for i in items]) for c, items in found] == [("SKU-1", ["1"])]
    elsewhere = parse_notification(order_change([("1", "SKU-1", 2)],
                                                marketplace="A1PA6795UKMFR9")).order_change
    assert match_order(elsewhere, [config()]) == []


def test_the_view_derives_our_listing_and_offset_once_from_our_offer():
    payload = payload_of(aoc([offer(OUR, "21.00", shipping="2.50", points="0.50", winner=True),
                              offer(RIVAL, "22.00")]))
    cfg = config()
    ours = payload.our_offers()[0]
    view = market_view(payload, cfg, ours)
    assert view.our_listing == Money.of("21.00", "USD")
    assert view.our_offset == Money.of("2.00", "USD")  # shipping − points
    assert view.our_listing + view.our_offset == ours.landed
    # derived from the offer: the same payload and offer give an equal view
    assert view == market_view(payload, cfg, ours)
    # no offer of ours, or one in another currency: nothing to derive
    absent = market_view(payload, cfg, None)
    assert absent.our_listing is None and absent.our_offset is None
    euro = payload_of(aoc([offer(OUR, "21.00", currency="EUR", winner=True)], currency="EUR"))
    foreign = market_view(euro, cfg, euro.our_offers()[0])
    assert foreign.our_listing is None and foreign.our_offset is None


def test_one_listing_fast_path_pairs_like_the_general_pairing():
    """One candidate listing: its one offer of its channel, none, or (several offers of
    that channel) the general pairing by the last submitted price."""
    one = payload_of(aoc([offer(RIVAL, "20.00", winner=True), offer(OUR, "21.00"),
                          offer(OUR, "19.00", fba=False)]))
    fba = match(one, [config()])
    assert [(m.config.sku, m.our_offer.listing_price.to_str()) for m in fba.matched] == [
        ("SKU-1", "21.00")] and not fba.unpaired
    fbm = match(one, [config(fulfillment="FBM")])
    assert fbm.matched[0].our_offer.listing_price.to_str() == "19.00"
    none = match(payload_of(aoc([offer(RIVAL, "20.00", winner=True)])), [config()])
    assert len(none.matched) == 1 and none.matched[0].our_offer is None
    two = payload_of(aoc([offer(OUR, "21.00"), offer(OUR, "22.00")]))
    cfg = config()
    blind = match(two, [cfg])
    assert not blind.matched and blind.unpaired[0].flagged
    state = {cfg.key: RepricingState(current_price=Money.of("22.00", "USD"))}
    assert match(two, [cfg], state).matched[0].our_offer.listing_price.to_str() == "22.00"


def test_market_view_fills_each_field_with_its_own_value():
    """``market_view`` builds the view positionally: each field holds what its name says."""
    payload = payload_of(aoc([offer(RIVAL, "20.00", winner=True), offer(OUR, "21.00"),
                              offer("A3IGNORED", "1.00")], change_type="External",
                             threshold="19.00"))
    cfg = config()
    ours = payload.our_offers()[0]
    view = market_view(payload, cfg, ours)
    assert (view.seller_id, view.marketplace_id, view.asin, view.condition, view.currency) == (
        payload.seller_id, payload.marketplace_id, payload.asin, payload.condition, "USD")
    assert view.time_of_offer_change == payload.time_of_offer_change
    assert view.change_type == "External" and view.is_b2b is False and view.our_offer is ours
    assert [c.seller_id for c in view.competitors] == [RIVAL]
    assert [seller for seller, _ in view.ignored] == ["A3IGNORED"]
    assert view.we_win is False and view.rival_winner is view.competitors[0]
    assert view.buy_box_landed == Money.of("20.00", "USD")
    assert (view.winner_ignored, view.sibling_wins, view.suppressed) == (False, False, False)
    assert view.threshold == Money.of("19.00", "USD") and view.tiers == ()
