"""The simulator's notifications parse with the Repricer's own parser (Amazon's envelope),
and a recording of them replays without errors."""

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

from functions.reprice.logic.notifications import parse_notification
from functions.reprice.replay import run_replay
from infra.demo import b2b_skus, listings_csv
from infra.simulator.market import Market
from infra.simulator.notifications import (
    any_offer_changed,
    b2b_any_offer_changed,
    dumps,
    order_change,
)
from infra.simulator.recorder import NotificationRecorder

AT = datetime(2026, 1, 5, 10, 0, 1, tzinfo=UTC)
DE = "A1PA6795UKMFR9"


def parsed(body):
    return parse_notification(json.loads(dumps(body), parse_float=Decimal))


def test_b2b_any_offer_changed_parses_with_business_offers_and_a_winner():
    product = Market(1, ["A01SIMSELLER"], 1).products[0]
    prices = {product.seller_id: Decimal("40.00"),
              **{b.offer.seller_id: Decimal("41.00") for b in product.bots}}
    note = parsed(b2b_any_offer_changed(product, prices, marketplace_id=DE, currency="EUR",
                                        at=AT, notification_id="n-1"))
    payload = note.offer_change
    assert note.notification_type == "B2B_ANY_OFFER_CHANGED" and payload.is_b2b
    assert payload.seller_id == product.seller_id and payload.asin == product.asin
    assert payload.our_offers() and payload.our_offers()[0].listing_price.amount == Decimal("40")
    (winner,) = payload.summary.buy_box_prices
    assert (winner.offer_type, winner.tier, winner.seller_id) == ("B2B", 1, product.seller_id)


def test_order_change_parses_as_amazon_sends_it():
    note = parsed(order_change(
        seller_id="A01SIMSELLER", marketplace_id=DE, amazon_order_id="302-0000001-1234567",
        order_item_id="10100000000001", sku="LLER-SKU-0000", quantity=1,
        purchased_at=AT, at=AT, notification_id="n-2"))
    order = note.order_change
    assert note.notification_type == "ORDER_CHANGE" and note.notification_id == "n-2"
    assert (order.seller_id, order.marketplace_id, order.summary.order_status) == (
        "A01SIMSELLER", DE, "Unshipped")
    (item,) = order.summary.order_items
    assert (item.seller_sku, item.quantity) == ("LLER-SKU-0000", 1)


def test_a_recording_replays_line_by_line_without_errors(tmp_path):
    market = Market(2, ["A01SIMSELLER", "A02SIMSELLER"], 6)
    path = tmp_path / "notifications.jsonl"
    b2b = b2b_skus(market.products)
    n = 0
    with NotificationRecorder(path) as recorder:
        for hour in range(3):
            market.move_bots()
            for product in market.products:
                n += 1
                at = AT.replace(hour=10 + hour)
                recorder.record(any_offer_changed(product, marketplace_id=DE, currency="EUR",
                                                  at=at, notification_id=f"n-{n}"))
                if (product.seller_id, product.sku) in b2b:
                    n += 1
                    recorder.record(b2b_any_offer_changed(
                        product, {product.seller_id: product.ours.price}, marketplace_id=DE,
                        currency="EUR", at=at.replace(second=2), notification_id=f"n-{n}"))
                n += 1
                recorder.record(order_change(
                    seller_id=product.seller_id, marketplace_id=DE,
                    amazon_order_id=f"302-{n:07d}-0000000", order_item_id=f"{n:014d}",
                    sku=product.sku, quantity=1, purchased_at=at, at=at.replace(second=5),
                    notification_id=f"n-{n}"))
    assert recorder.lines == n
    listings = tmp_path / "listings.csv"
    listings.write_text(listings_csv(market.products, b2b), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert run_replay(str(listings), str(path), as_json=True, out=out, err=err) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {r["line"] for r in rows} == set(range(1, n + 1))  # every line processed
    assert not [r for r in rows if r["action"] == "error"]
    assert any(r["action"] == "change" for r in rows)
