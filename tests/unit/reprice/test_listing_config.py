"""The Listings CSV (DESIGN.md §3 ★) and the ListingConfig model."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from functions.core.money import Money
from functions.reprice.logic import (
    CSV_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ListingConfig,
    ListingsCsvError,
    Step,
    load_listings_csv,
    parse_listings_csv,
)

HEADER = ",".join(REQUIRED_COLUMNS)
ROW = "SKU-1,B0EXAMPLE01,ATVPDKIKX0DER,New,fba,BuyBox,20.00,30.00,usd"


def problems(text: str) -> list[tuple[int, str | None, str]]:
    with pytest.raises(ListingsCsvError) as caught:
        parse_listings_csv(text)
    return caught.value.problems


def test_the_column_set_is_the_documented_one():
    assert set(REQUIRED_COLUMNS) == {"sku", "asin", "marketplace_id", "condition", "fulfillment",
                                     "strategy", "min_price", "max_price", "currency"}
    assert set(OPTIONAL_COLUMNS) == {"seller_id", "current_price", "cost_floor", "undercut",
                                     "climb_step", "max_change", "fixed_price", "push_levels",
                                     "b2b_discount"}


def test_required_columns_only_gives_the_documented_defaults():
    [config] = parse_listings_csv(f"{HEADER}\n{ROW}\n")
    assert (config.condition, config.fulfillment, config.strategy, config.currency) == (
        "new", "FBA", "buybox", "USD")
    assert config.min == Money.of("20.00", "USD") and config.max == Money.of("30.00", "USD")
    assert config.seller_id is None and config.current_price is None
    assert config.cost_floor is None and config.floor == config.min
    assert config.undercut == Step(Decimal("0.01"))
    assert config.climb_step == Step(Decimal(1), percent=True)
    assert config.max_change == Step(Decimal(20), percent=True)
    assert config.b2b_discount == Step(Decimal(0), percent=True)
    assert config.fixed_price is None and config.push_levels == ()
    # config-only parameters (repricing.md §6)
    assert config.climb_interval == timedelta(minutes=15)
    assert config.confirm_timeout == timedelta(minutes=10)
    assert config.ceiling_ttl == timedelta(hours=24)
    assert (config.below_floor, config.no_competition, config.amazon_mode) == (
        "floor", "max", "compete")
    assert config.push_window == timedelta(hours=24) and config.push_dwell >= config.push_window


def test_every_column_in_any_order_with_bom_and_header_case():
    columns = list(reversed(CSV_COLUMNS))
    values = {
        "sku": "SKU-9", "asin": "B0X", "marketplace_id": "A1PA6795UKMFR9", "condition": "used",
        "fulfillment": "FBM", "strategy": "push", "min_price": "10.00", "max_price": "40.00",
        "currency": "EUR", "seller_id": "A2OURSELLER001", "current_price": "19.99",
        "cost_floor": "12.50", "undercut": "1%", "climb_step": "0.25", "max_change": "5.00",
        "fixed_price": "22.00", "push_levels": "14.99|19.99|24.99", "b2b_discount": "3%",
    }
    text = "\ufeff" + ",".join(c.upper() for c in columns) + "\n" + ",".join(
        values[c] for c in columns) + "\n"
    [config] = parse_listings_csv(text)
    assert config.floor == Money.of("12.50", "EUR")
    assert config.undercut == Step(Decimal(1), percent=True)
    assert config.climb_step.of(Money.of("10", "EUR")) == Money.of("0.25", "EUR")
    assert config.push_levels == (Decimal("14.99"), Decimal("19.99"), Decimal("24.99"))
    assert config.b2b_discount.of(Money.of("200", "EUR")) == Money.of("6", "EUR")
    assert config.seller_id == "A2OURSELLER001"


def test_steps_as_percent_are_of_the_given_price():
    step = Step.parse("2.5%")
    assert step.of(Money.of("40.00", "USD")) == Money.of("1.00", "USD")
    assert str(step) == "2.5%" and Step.parse(str(step)) == step


def test_unknown_column_is_an_error_naming_line_and_column():
    found = problems(f"{HEADER},colour\n{ROW},red\n")
    assert found == [(1, "colour", found[0][2])] and "unknown column" in found[0][2]


def test_missing_required_column_and_empty_required_cell():
    header = ",".join(c for c in REQUIRED_COLUMNS if c != "max_price")
    found = problems(f"{header}\nx\n")
    assert (1, "max_price") in [(line, column) for line, column, _ in found]
    found = problems(f"{HEADER}\n{ROW}\nSKU-2,B0X,ATVPDKIKX0DER,new,FBA,buybox,,30.00,USD\n")
    assert [(line, column) for line, column, _ in found] == [(3, "min_price")]


@pytest.mark.parametrize(
    ("cells", "column", "words"),
    [
        ({"min_price": '"12,99"'}, "min_price", "dot"),
        ({"min_price": "-1"}, "min_price", "amount"),
        ({"max_price": "30.001"}, "max_price", "decimals"),
        ({"min_price": "0"}, "min_price", "greater than zero"),
        ({"fulfillment": "Drone"}, "fulfillment", "FBA"),
        ({"strategy": "guess"}, "strategy", "buybox"),
        ({"currency": "EUR"}, "currency", "marketplace"),
        ({"currency": "XXX"}, "currency", "ISO 4217"),
        ({"marketplace_id": "NOPE"}, "marketplace_id", "unknown"),
        ({"undercut": "1 percent"}, "undercut", "percentage"),
        ({"max_change": "abc%"}, "max_change", "percentage"),
        ({"push_levels": "19.99|17.99"}, "push_levels", "ascending"),
        ({"strategy": "push"}, "push_levels", "required"),
        ({"strategy": "fixed"}, "fixed_price", "required"),
        ({"b2b_discount": "100%"}, "b2b_discount", "below 100%"),
        ({"current_price": "abc"}, "current_price", "amount"),
    ],
)
def test_bad_cells_name_line_and_column(cells, column, words):
    columns = list(REQUIRED_COLUMNS) + [c for c in cells if c not in REQUIRED_COLUMNS]
    base = dict(zip(REQUIRED_COLUMNS, ROW.split(","), strict=True))
    base.update(cells)
    text = ",".join(columns) + "\n" + ROW.replace("SKU-1", "SKU-0") + (
        "," * (len(columns) - len(REQUIRED_COLUMNS))) + "\n" + ",".join(
        base[c] for c in columns) + "\n"
    found = problems(text)
    assert [(line, col) for line, col, _ in found] == [(3, column)]
    assert words.lower() in found[0][2].lower()
    assert f"line 3, column {column}" in str(ListingsCsvError(found))


def test_jpy_prices_have_no_decimals():
    header = HEADER
    row = "SKU-J,B0J,A1VC38T7YXB528,new,FBA,buybox,1500.5,3000,JPY"
    assert problems(f"{header}\n{row}\n")[0][1] == "min_price"
    [config] = parse_listings_csv(f"{header}\n{row.replace('1500.5', '1500')}\n")
    assert config.tick == Decimal(1)


def test_every_bad_line_is_reported():
    text = f"{HEADER}\n{ROW}\nSKU-2,B0X,ATVPDKIKX0DER,new,FBA,buybox,x,30.00,USD\n" \
           f"SKU-3,B0X,ATVPDKIKX0DER,new,FBA,nope,20.00,30.00,USD\n{ROW}\n"
    found = problems(text)
    assert [(line, column) for line, column, _ in found] == [
        (3, "min_price"), (4, "strategy"), (5, "sku")]


def test_blank_lines_are_ignored_and_empty_file_is_an_error():
    assert len(parse_listings_csv(f"\n{HEADER}\n\n{ROW}\n\n")) == 1
    assert problems("")[0][2].startswith("empty file")


def test_too_many_cells_is_an_error():
    assert problems(f"{HEADER}\n{ROW},extra\n")[0][:2] == (2, None)


def test_min_above_max_is_accepted_here_and_skipped_by_the_engine():
    [config] = parse_listings_csv(f"{HEADER}\n{ROW.replace('20.00,30.00', '31.00,30.00')}\n")
    assert config.min > config.max


def test_round_trip_through_json():
    [config] = parse_listings_csv(
        "sku,asin,marketplace_id,condition,fulfillment,strategy,min_price,max_price,currency,"
        "push_levels,undercut\nS,B0X,ATVPDKIKX0DER,new,FBA,push,10.00,20.00,USD,11.00|12.00,2%\n")
    config = config.model_copy(update={"b2b_tiers": {5: Step.parse("3%")}})
    data = config.model_dump(mode="json")
    assert data["undercut"] == "2%" and data["push_levels"] == ["11.00", "12.00"]
    assert ListingConfig.model_validate(data) == config


def test_the_api_model_refuses_floats_and_unknown_fields():
    base = dict(sku="S", asin="B0X", marketplace_id="ATVPDKIKX0DER", condition="new",
                fulfillment="FBA", strategy="buybox", min_price="1.00", max_price="2.00",
                currency="USD")
    with pytest.raises(ValueError, match="decimal strings"):
        ListingConfig.model_validate({**base, "min_price": 1.5})
    with pytest.raises(ValueError, match="extra"):
        ListingConfig.model_validate({**base, "colour": "red"})


def test_load_from_file(tmp_path):
    path = tmp_path / "listings.csv"
    path.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8-sig")
    assert load_listings_csv(str(path))[0].sku == "SKU-1"


# -- derived views, cached per instance ----------------------------------------------------
def _config(**overrides: object) -> ListingConfig:
    base = {"sku": "SKU-1", "asin": "B0EXAMPLE01", "marketplace_id": "ATVPDKIKX0DER",
            "condition": "new", "fulfillment": "FBA", "strategy": "buybox",
            "min_price": "20.00", "max_price": "30.00", "currency": "USD",
            "current_price": "25.00", "cost_floor": "21.00"}
    return ListingConfig.model_validate({**base, **overrides})


def test_derived_views_are_computed_from_the_fields():
    cfg = _config()
    assert cfg.min == Money(Decimal("20.00"), "USD")
    assert cfg.max == Money(Decimal("30.00"), "USD")
    assert cfg.floor == Money(Decimal("21.00"), "USD")  # max(min_price, cost_floor)
    assert cfg.configured_current == Money(Decimal("25.00"), "USD")
    assert cfg.tick == Decimal("0.01")
    assert cfg.key == ("", "ATVPDKIKX0DER", "SKU-1")
    assert cfg.amazon_ids  # Amazon's retail seller id on .com


def test_cached_views_stay_out_of_dumps_and_comparisons():
    cfg = _config()
    fresh = _config()
    _ = (cfg.min, cfg.max, cfg.floor, cfg.tick, cfg.key, cfg.amazon_ids, cfg.configured_current)
    assert cfg.model_dump() == fresh.model_dump()
    assert cfg == fresh and fresh == cfg


def test_model_copy_with_changed_fields_does_not_keep_stale_views():
    cfg = _config()
    _ = (cfg.min, cfg.max, cfg.floor, cfg.tick, cfg.key, cfg.amazon_ids, cfg.configured_current)
    changed = cfg.model_copy(update={
        "min_price": Decimal("22.4"), "max_price": Decimal("40.7"), "cost_floor": None,
        "current_price": None, "currency": "JPY", "sku": "SKU-2",
        "marketplace_id": "A1VC38T7YXB528", "amazon_seller_ids": ("AMAZONJP",),
    })
    assert changed.min == Money(Decimal("22.4"), "JPY")
    assert changed.max == Money(Decimal("40"), "JPY")  # on the yen tick, rounded down
    assert changed.floor == Money(Decimal("23"), "JPY")  # rounded up
    assert changed.tick == Decimal("1")
    assert changed.configured_current is None
    assert changed.key == ("", "A1VC38T7YXB528", "SKU-2")
    assert changed.amazon_ids == frozenset({"AMAZONJP"})
    # the original keeps its own
    assert cfg.max == Money(Decimal("30.00"), "USD") and cfg.key[2] == "SKU-1"
    # a plain copy keeps the views (same fields)
    assert cfg.model_copy().floor == cfg.floor


def test_bounds_problem_is_computed_from_the_copy_not_kept_from_the_original():
    cfg = _config()
    assert cfg.bounds_problem is None
    above = cfg.model_copy(update={"cost_floor": Decimal("45.00")})
    problem = above.bounds_problem
    assert problem is not None
    assert problem.startswith("floor 45.00 ") and problem.endswith("no repricing")
    assert cfg.bounds_problem is None


@pytest.mark.parametrize(("amount", "ok"), [
    ("20.00", True), ("20.000", True), ("20.5", True), ("20", True), ("20.50", True),
    ("20.001", False), ("20.0010", False),
])
def test_trailing_zeros_do_not_count_as_decimals(amount, ok):
    row = f"SKU-1,B0EXAMPLE01,ATVPDKIKX0DER,New,fba,BuyBox,{amount},30.00,usd"
    if ok:
        [config] = parse_listings_csv(f"{HEADER}\n{row}\n")
        assert config.min_price == Decimal(amount)
    else:
        assert problems(f"{HEADER}\n{row}\n")[0][1] == "min_price"


def test_a_step_text_gives_one_shared_immutable_step():
    first = Step.parse("2.5%")
    assert Step.parse("2.5%") is first and first.percent and first.value == Decimal("2.5")
    with pytest.raises(AttributeError):
        first.value = Decimal(3)
    import copy
    import pickle
    assert copy.deepcopy(first) == first == pickle.loads(pickle.dumps(first))
    config = ListingConfig.model_validate({
        "sku": "S", "asin": "B", "marketplace_id": "ATVPDKIKX0DER", "condition": "new",
        "fulfillment": "FBA", "strategy": "buybox", "min_price": "1.00", "max_price": "2.00",
        "currency": "USD", "climb_step": "2.5%"})
    assert config.climb_step is first and config.model_copy(deep=True) == config
