"""The Push strategy (repricing.md §6.3) and sales counting from ORDER_CHANGE."""

from __future__ import annotations

from datetime import timedelta

from functions.core.money import Money
from functions.reprice.logic import RepricingState, decide_push, parse_notification, record_order

from .builders import T0, config, order_change

LEVELS = "21.00|23.00|25.00|27.00"


def push(**overrides):
    return config(strategy="push", push_levels=LEVELS, max_change="50%", **overrides)


def usd(amount) -> Money:
    return Money.of(str(amount), "USD")


def level_state(level, *, hours_ago=25, units=0, last_move=None, **extra) -> RepricingState:
    cfg = push()
    state = RepricingState(current_price=cfg.money(cfg.push_levels[level]), push_level=level,
                           push_level_since=T0 - timedelta(hours=hours_ago),
                           push_last_move=last_move, **extra)
    for i in range(units):
        state = state.record_sale(f"item-{i}", 1, T0 - timedelta(hours=1), T0, canceled=False,
                                  keep=cfg.push_window)
    return state


def test_first_decision_starts_at_the_level_at_or_below_the_current_price():
    decision = decide_push(push(current_price="24.00"), RepricingState(), T0)
    assert decision.action == "change" and decision.new_price == usd("23.00")
    assert decision.state.push_level == 1 and decision.state.push_level_since == T0
    assert decide_push(push(), RepricingState(), T0).new_price == usd("21.00")
    started = decide_push(push(push_start_level=2), RepricingState(), T0)
    assert started.new_price == usd("25.00")


def test_fast_sales_move_one_level_up():
    cfg = push()
    decision = decide_push(cfg, level_state(1, units=cfg.push_fast_units), T0)
    assert decision.rule == "push_up" and decision.new_price == usd("25.00")
    assert decision.state.push_level == 2 and decision.state.push_last_move == "up"


def test_slow_sales_move_one_level_down_but_not_below_the_lowest():
    cfg = push()
    decision = decide_push(cfg, level_state(2, units=cfg.push_slow_units), T0)
    assert decision.rule == "push_down" and decision.new_price == usd("23.00")
    bottom = decide_push(cfg, level_state(0), T0)
    assert bottom.action == "hold" and "lowest" in bottom.reason


def test_in_between_holds():
    cfg = push(push_fast_units=5, push_slow_units=1)
    decision = decide_push(cfg, level_state(1, units=3), T0)
    assert decision.action == "hold" and decision.rule == "push_hold"


def test_dwell_and_out_of_stock_hold():
    cfg = push()
    within = decide_push(cfg, level_state(1, hours_ago=2, units=cfg.push_fast_units), T0)
    assert within.action == "hold" and "dwell" in within.reason
    out = decide_push(cfg, level_state(1, units=9, in_stock=False), T0)
    assert out.action == "hold" and "out of stock" in out.reason


def test_a_slow_window_after_a_rise_goes_back_and_remembers_the_ceiling():
    cfg = push()
    decision = decide_push(cfg, level_state(2, last_move="up"), T0)
    assert decision.rule == "push_back" and decision.new_price == usd("23.00")
    assert decision.state.push_ceiling_level == 2
    # selling fast again: not above the remembered ceiling while it lasts
    later = decision.state.updated(push_level_since=T0 - timedelta(hours=30))
    for i in range(cfg.push_fast_units):
        later = later.record_sale(f"new-{i}", 1, T0 + timedelta(hours=1), T0 + timedelta(hours=2),
                                  canceled=False, keep=cfg.push_window)
    held = decide_push(cfg, later, T0 + timedelta(hours=2))
    assert held.action == "hold" and "ceiling" in held.reason
    expired = decide_push(cfg, later, T0 + cfg.ceiling_ttl + timedelta(minutes=30))
    assert expired.rule == "push_up"


def test_levels_outside_the_bounds_are_not_used():
    cfg = config(strategy="push", push_levels="15.00|21.00|35.00")
    decision = decide_push(cfg, RepricingState(), T0)
    assert decision.new_price == usd("21.00")
    none = config(strategy="push", push_levels="15.00|35.00")
    assert decide_push(none, RepricingState(), T0).action == "skip"


def test_push_converges_to_its_level_when_max_change_stopped_it_short():
    cfg = config(strategy="push", push_levels="21.00|29.00", max_change="10%")
    state = RepricingState(current_price=usd("21.00"), push_level=1, push_level_since=T0)
    decision = decide_push(cfg, state, T0 + timedelta(hours=1))
    assert decision.action == "change" and usd("21.00") < decision.new_price < usd("29.00")


def test_not_a_push_sku():
    assert decide_push(config(), RepricingState(), T0).action == "skip"


def test_order_items_count_once_and_cancellations_remove_them():
    cfg = push()
    shipped = parse_notification(order_change([("oi-1", "SKU-1", 3), ("oi-2", "OTHER", 9)],
                                              at=T0)).order_change
    state, units = record_order(shipped, cfg, RepricingState(), T0)
    assert units == 3
    state, units = record_order(shipped, cfg, state, T0 + timedelta(minutes=5))
    assert units == 3  # the same OrderItemId again (e.g. Shipped after Unshipped)
    canceled = parse_notification(order_change([("oi-1", "SKU-1", 3)], status="Canceled",
                                               at=T0)).order_change
    state, units = record_order(canceled, cfg, state, T0 + timedelta(minutes=6))
    assert units == 0


def test_sales_leave_the_window():
    cfg = push()
    old = parse_notification(order_change([("oi-1", "SKU-1", 2)], at=T0)).order_change
    state, _ = record_order(old, cfg, RepricingState(), T0)
    assert state.units_since(T0 + timedelta(hours=25) - cfg.push_window) == 0
    late = parse_notification(order_change([("oi-1", "SKU-1", 2)],
                                           at=T0 + timedelta(days=3),
                                           purchased=T0)).order_change
    state, units = record_order(late, cfg, state, T0 + timedelta(days=3))
    assert units == 0 and state.sales == {}


def test_real_order_change_counts_for_its_sku(real_sample):
    data = real_sample("order_change.peddler.json")
    order = parse_notification(data).order_change
    item = order.summary.order_items[0]
    cfg = config(sku=item.seller_sku, marketplace_id=order.marketplace_id, currency="BRL",
                 strategy="push", push_levels="21.00|23.00")
    _, units = record_order(order, cfg, RepricingState(), order.summary.purchase_date)
    assert units == item.quantity
