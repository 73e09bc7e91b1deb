"""``sellerops reprice replay`` through the CLI (DESIGN.md §3 ★ replay semantics/output).

The fixtures in tests/fixtures/reprice/ describe each line's intent; expected prices are
derived from the fixture's own notification, not written down here.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from functions.core.money import tick
from functions.reprice.replay import ROW_KEYS, Replay
from infra.cli import main

from .builders import OUR, RIVAL, T0, aoc, config, offer, order_change, to_json

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reprice"
LISTINGS = FIXTURES / "listings.csv"
NOTIFICATIONS = FIXTURES / "notifications.jsonl"


def replay_json(capsys, listings=LISTINGS, notifications=NOTIFICATIONS) -> list[dict]:
    code = main(["reprice", "replay", "--listings", str(listings), "--notifications",
                 str(notifications), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]  # nothing but JSON lines


def fixture_line(number: int) -> dict:
    text = NOTIFICATIONS.read_text(encoding="utf-8").splitlines()[number - 1]
    return json.loads(text, parse_float=Decimal)


def offers_of(notification: dict) -> list[dict]:
    payload = notification["Payload"]
    return next(iter(payload.values()))["Offers"]


def winner_price(notification: dict) -> Decimal:
    winner = next(o for o in offers_of(notification) if o["IsBuyBoxWinner"])
    return winner["ListingPrice"]["Amount"] + winner["Shipping"]["Amount"]


def test_every_line_has_exactly_the_contract_keys(capsys):
    rows = replay_json(capsys)
    assert rows and all(tuple(row) == ROW_KEYS for row in rows)
    assert all(row["action"] in {"change", "hold", "skip", "error"} for row in rows)
    for row in rows:
        for key in ("old_price", "new_price"):
            assert row[key] is None or isinstance(row[key], str)


def test_the_fixture_replays_as_designed(capsys):
    rows = replay_json(capsys)
    by_line: dict[int, list[dict]] = {}
    for row in rows:
        by_line.setdefault(row["line"], []).append(row)
    assert 14 not in by_line  # blank line ignored

    # 1: a rival holds the Buy Box → undercut by the default lead (3 % of its landed price)
    [first] = by_line[1]
    notification = fixture_line(1)
    ours = next(o for o in offers_of(notification) if o["SellerId"] == OUR)
    assert first["action"] == "change" and first["sku"] == "BB-1"
    assert first["notification_id"] == notification["NotificationMetadata"]["NotificationId"]
    assert Decimal(first["old_price"]) == ours["ListingPrice"]["Amount"]
    winner = winner_price(notification)
    assert Decimal(first["new_price"]) == (winner * Decimal("0.97")).quantize(
        Decimal("0.01"), rounding="ROUND_DOWN")
    assert first["currency"] == "USD"

    # 2: same NotificationId → duplicate; 3: older TimeOfOfferChange → stale
    assert [(r["action"], r["reason"], r["sku"]) for r in by_line[2]] == [
        ("skip", "duplicate", "BB-1")]
    assert [(r["action"], r["reason"]) for r in by_line[3]] == [("skip", "stale")]
    # the duplicate and the stale line change nothing: the applied price is still current
    assert by_line[2][0]["old_price"] == by_line[3][0]["old_price"] == first["new_price"]

    # 4: no listing → one skip line with sku null
    [nomatch] = by_line[4]
    assert nomatch["action"] == "skip" and nomatch["sku"] is None
    assert nomatch["asin"] == "B0UNKNOWN1"

    # 5: unreadable → error with its line number, and the run went on
    assert [(r["action"], r["line"]) for r in by_line[5]] == [("error", 5)]

    # 6: we win, but within climb_interval of our last change → hold
    [hold] = by_line[6]
    assert hold["action"] == "hold" and hold["new_price"] is None
    assert hold["old_price"] == first["new_price"]  # the change was taken as applied

    # 7: we still win after climb_interval, but the next rival (FBA like us) is one cent
    # above: a full climb_step would overtake it for nothing → stay just under it (hold)
    [climb] = by_line[7]
    assert climb["action"] == "hold" and "no edge over it" in climb["reason"]

    # 8: B2B: business price derived from the B2C price minus b2b_discount (2%)
    [business] = by_line[8]
    b2c = Decimal(climb["old_price"])
    assert business["action"] == "change" and business["sku"] == "BB-1"
    expected = (b2c * Decimal("0.98")).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    assert Decimal(business["new_price"]) == expected
    assert business["reason"].startswith("B2B")

    # 9: a type the Repricer does not handle
    assert by_line[9][0]["action"] == "skip" and by_line[9][0]["sku"] is None

    # 10: fixed price
    [fixed] = by_line[10]
    assert (fixed["sku"], fixed["action"], fixed["new_price"]) == ("FIX-1", "change", "17.50")

    # 11/12: ORDER_CHANGE counts sales for the Push SKU; decided at most hourly
    [start] = by_line[11]
    assert start["sku"] == "PUSH-1" and start["action"] == "change"
    [later] = by_line[12]
    assert later["action"] == "hold" and "3 units" in later["reason"]

    # 13: JPY moves in whole yen
    [yen] = by_line[13]
    assert yen["currency"] == "JPY"
    yen_winner = winner_price(fixture_line(13))
    assert Decimal(yen["new_price"]) == (yen_winner * Decimal("0.97")).quantize(
        tick("JPY"), rounding="ROUND_DOWN")

    # 15: same ASIN, another condition → no match; 16: no NotificationId → error
    assert by_line[15][0]["sku"] is None and by_line[15][0]["action"] == "skip"
    assert by_line[16][0]["action"] == "error" and "NotificationId" in by_line[16][0]["reason"]


def test_without_json_prints_a_table_and_summary(capsys):
    code = main(["reprice", "replay", "--listings", str(LISTINGS), "--notifications",
                 str(NOTIFICATIONS)])
    out = capsys.readouterr().out
    assert code == 0
    rows = replay_json(capsys)
    counts = {a: sum(r["action"] == a for r in rows) for a in ("change", "hold", "skip", "error")}
    last = out.strip().splitlines()[-1]
    for action, count in counts.items():
        assert f"{count} {action}" in last
    assert "BB-1" in out and "duplicate" in out


def test_bad_listings_csv_exits_2_naming_line_and_column(tmp_path, capsys):
    bad = tmp_path / "listings.csv"
    bad.write_text(LISTINGS.read_text().replace("20.00,30.00", "20.00,thirty", 1))
    code = main(["reprice", "replay", "--listings", str(bad), "--notifications",
                 str(NOTIFICATIONS), "--json"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert "line 2, column max_price" in captured.err


def test_unknown_csv_column_exits_2(tmp_path, capsys):
    bad = tmp_path / "listings.csv"
    lines = LISTINGS.read_text().splitlines()
    bad.write_text("\n".join([lines[0] + ",colour", *(line + ",red" for line in lines[1:])]))
    code = main(["reprice", "replay", "--listings", str(bad), "--notifications",
                 str(NOTIFICATIONS)])
    assert code == 2 and "column colour" in capsys.readouterr().err


def test_missing_notifications_file_exits_2(tmp_path, capsys):
    code = main(["reprice", "replay", "--listings", str(LISTINGS), "--notifications",
                 str(tmp_path / "nope.jsonl"), "--json"])
    assert code == 2 and capsys.readouterr().out == ""


def test_invalid_utf8_line_is_an_error_line(tmp_path, capsys):
    path = tmp_path / "n.jsonl"
    good = to_json(aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.99")])).encode()
    path.write_bytes(b"\xff\xfe{not utf-8}\n" + good + b"\n")
    rows = replay_json(capsys, notifications=path)
    assert rows[0]["action"] == "error" and rows[0]["line"] == 1
    assert rows[1]["action"] == "change" and rows[1]["line"] == 2


def test_push_sku_on_offer_changes_is_decided_once_an_hour():
    cfg = config(strategy="push", push_levels="21.00|23.00|25.00", current_price="23.00")
    replay = Replay([cfg])
    times = [T0, T0.replace(minute=30), T0.replace(hour=T0.hour + 1, minute=5)]
    actions = []
    for number, moment in enumerate(times, start=1):
        line = to_json(aoc([offer(RIVAL, "20.00", winner=True), offer(OUR, "23.00")],
                           toc=moment))
        [row] = replay.process(number, line)
        actions.append((row.action, row.reason.split(";")[0]))
    assert actions[0][0] == "hold" and "start at level 2/3" in actions[0][1]
    assert "decided hourly" in actions[1][1]
    assert "dwell" in actions[2][1]  # a decision again after an hour (still in dwell)


def test_orders_for_a_sku_of_another_strategy_are_skipped():
    replay = Replay([config()])
    [row] = replay.process(1, to_json(order_change([("1", "SKU-1", 1)])))
    assert row.action == "skip" and "does not use sales" in row.reason
    [row] = replay.process(2, to_json(order_change([("2", "NOPE", 1)])))
    assert row.action == "skip" and row.sku is None


def test_several_skus_of_one_asin_give_one_line_each():
    a = config(sku="A", current_price="22.00")
    b = config(sku="B", current_price="21.00")
    c = config(sku="C", fulfillment="FBM")
    data = aoc([offer(RIVAL, "20.50", winner=True), offer(OUR, "21.00"), offer(OUR, "22.00")])
    rows = Replay([a, b, c]).process(1, to_json(data))
    assert [(r.sku, r.action) for r in rows] == [("A", "change"), ("B", "change"),
                                                 ("C", "change")]
    blind = Replay([config(sku="A"), config(sku="B")]).process(1, to_json(data))
    assert [(r.sku, r.action) for r in blind] == [("A", "skip"), ("B", "skip")]
    assert all(r.reason.startswith("flagged") for r in blind)


@pytest.mark.parametrize("as_json", [True, False])
def test_real_samples_replay_without_errors(tmp_path, capsys, real_sample, as_json):
    names = ["any_offer_changed.peddler.json", "b2b_any_offer_changed.peddler.json",
             "order_change.peddler.json", "order_change_shipped.spapi-samples.json",
             "listings_item_status_change.peddler.json"]
    documents = [real_sample(name) for name in names]
    notifications = tmp_path / "real.jsonl"
    notifications.write_text("\n".join(to_json(d) for d in documents) + "\n")
    aoc_payload = documents[0]["Payload"]["AnyOfferChangedNotification"]
    ours = next(o for o in aoc_payload["Offers"]
                if o["SellerId"] == aoc_payload["SellerId"] and o["IsBuyBoxWinner"])
    listings = tmp_path / "listings.csv"
    listings.write_text(
        "sku,asin,marketplace_id,condition,fulfillment,strategy,min_price,max_price,currency,"
        "current_price\n"
        f"REAL-1,{aoc_payload['OfferChangeTrigger']['ASIN']},ATVPDKIKX0DER,new,FBA,buybox,"
        f"40.00,90.00,USD,{ours['ListingPrice']['Amount']}\n")
    if not as_json:
        assert main(["reprice", "replay", "--listings", str(listings), "--notifications",
                     str(notifications)]) == 0
        assert "0 error" in capsys.readouterr().out
        return
    rows = replay_json(capsys, listings, notifications)
    assert not [r for r in rows if r["action"] == "error"]
    first = [r for r in rows if r["line"] == 1]
    assert first[0]["sku"] == "REAL-1" and first[0]["action"] in {"change", "hold"}
