from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from functions.core.money import CurrencyMismatch, Money, tick


def test_amounts_from_strings_keep_exact_value():
    assert Money.of("19.99", "EUR").amount == Decimal("19.99")
    assert Money.of(5, "usd").currency == "USD"


@pytest.mark.parametrize("bad", [19.99, True, None, "abc", "NaN", "Infinity", [1]])
def test_rejects_floats_and_non_numbers(bad):
    with pytest.raises(ValueError):
        Money.of(bad, "EUR")


@pytest.mark.parametrize("bad", ["EU", "EUT", "", 978])
def test_rejects_unknown_currencies(bad):
    with pytest.raises(ValueError, match="currency"):
        Money.of("1", bad)


def test_arithmetic_refuses_mixed_currencies():
    with pytest.raises(CurrencyMismatch):
        _ = Money.of("1", "EUR") + Money.of("1", "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money.of("1", "EUR") < Money.of("2", "GBP")
    euro = Money.of("1", "EUR")
    euro.check_currency(Money.of("5", "EUR"))  # the same check, callable on its own
    with pytest.raises(CurrencyMismatch, match="EUR and USD"):
        euro.check_currency(Money.of("1", "USD"))
    with pytest.raises(TypeError):
        euro.check_currency(Decimal(1))  # type: ignore[arg-type]


@pytest.mark.parametrize("op", ["+", "-", "<", "<=", ">", ">="])
def test_every_operator_refuses_another_currency_and_a_plain_number(op):
    """Each operator checks the currency itself (inline, ``check_currency`` when the other
    side is not a Money of the same currency): the same errors for all of them."""
    import operator

    apply = {"+": operator.add, "-": operator.sub, "<": operator.lt, "<=": operator.le,
             ">": operator.gt, ">=": operator.ge}[op]
    euro = Money.of("1", "EUR")
    with pytest.raises(CurrencyMismatch, match="EUR and USD"):
        apply(euro, Money.of("1", "USD"))
    with pytest.raises(TypeError):
        apply(euro, Decimal(1))
    apply(euro, Money.of("2", "EUR"))  # the same currency passes


def test_arithmetic_and_comparison():
    a, b = Money.of("10.00", "EUR"), Money.of("0.01", "EUR")
    assert a - b == Money.of("9.99", "EUR")
    assert (a + b).to_str() == "10.01"
    assert a * Decimal("1.5") == Money.of("15", "EUR")
    assert b < a and a >= b
    with pytest.raises(TypeError):
        _ = a * 1.5


def test_currency_precision():
    assert tick("JPY") == Decimal(1)
    assert tick("EUR") == Decimal("0.01")
    assert Money.of("1234.6", "JPY").round_down().to_str() == "1234"
    assert Money.of("18.999", "EUR").round_down() == Money.of("18.99", "EUR")
    assert Money.of("0.125", "EUR").quantize().to_str() == "0.12"  # banker's rounding


def test_from_spapi_reads_amazon_money_in_any_casing():
    assert Money.from_spapi({"Amount": Decimal("18.9"), "CurrencyCode": "EUR"}) == Money.of(
        "18.90", "EUR"
    )
    # json.loads without parse_float=Decimal gives floats: the shortest repr is exact.
    assert Money.from_spapi({"amount": 0.1, "currencyCode": "USD"}).amount == Decimal("0.1")
    with pytest.raises(ValueError, match="CurrencyCode"):
        Money.from_spapi({"Amount": "1"})


def test_pydantic_field_round_trip():
    class Offer(BaseModel):
        price: Money

    offer = Offer.model_validate({"price": {"Amount": Decimal("7.5"), "CurrencyCode": "GBP"}})
    assert offer.price == Money.of("7.50", "GBP")
    dumped = offer.model_dump(mode="json")
    assert dumped == {"price": {"amount": "7.50", "currency": "GBP"}}
    assert Offer.model_validate(dumped) == offer


@given(
    st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False),
    st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False),
)
def test_addition_is_exact_and_reversible(x, y):
    a, b = Money(x, "EUR"), Money(y, "EUR")
    assert (a + b) - b == a
    assert (a + b).amount == x + y


def test_arithmetic_results_are_real_money():
    a = Money.of("10.00", "EUR")
    for result in (a + a, a - a, a * 3, -a, a.quantize(), a.round_down()):
        assert isinstance(result, Money) and result.currency == "EUR"
        assert isinstance(result.amount, Decimal) and result.amount.is_finite()
    with pytest.raises(ValueError):
        _ = a * Decimal("NaN")
