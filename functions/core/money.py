"""Money: a Decimal amount with its ISO 4217 currency.

Prices never pass through ``float``: a float handed to :class:`Money` is an error,
because 19.99 as a float is already a different number. Amounts keep the precision
they were given; :meth:`Money.quantize` rounds to the currency's minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

# Minor units per ISO 4217 for the currencies of Amazon's marketplaces (and a few
# more a seller may report costs in). Anything not listed has two decimals.
_MINOR_UNITS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "HUF": 2,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}

# Currencies that an Amazon marketplace or a cost sheet can plausibly carry. Unknown
# three-letter codes are rejected so that a typo ("EUT") fails loudly, not silently.
KNOWN_CURRENCIES: frozenset[str] = frozenset(
    {
        "AED", "AUD", "BHD", "BRL", "CAD", "CHF", "CLP", "CNY", "CZK", "DKK", "EGP", "EUR",
        "GBP", "HKD", "HUF", "INR", "JOD", "JPY", "KRW", "KWD", "MXN", "NOK", "NZD", "OMR",
        "PLN", "RON", "SAR", "SEK", "SGD", "TND", "TRY", "USD", "ZAR",
    }
)


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


def minor_units(currency: str) -> int:
    """Number of decimals of ``currency``'s minor unit (EUR 2, JPY 0)."""
    return _MINOR_UNITS.get(currency, 2)


def tick(currency: str) -> Decimal:
    """Smallest price step in ``currency`` (0.01 EUR, 1 JPY)."""
    # Looked up on every rounding and every ``to_str``: keep one Decimal per currency.
    step = _TICKS.get(currency)
    if step is None:
        step = _TICKS[currency] = Decimal(1).scaleb(-minor_units(currency))
    return step


_TICKS: dict[str, Decimal] = {}
_ZERO = Decimal(0)


def parse_amount(value: Any, *, field: str = "amount") -> Decimal:
    """Turn a decimal string, int or Decimal into a finite Decimal.

    Floats are refused: they cannot represent most prices exactly.
    """
    if isinstance(value, bool):
        raise ValueError(f"{field}: expected a decimal amount, got a boolean")
    if isinstance(value, float):
        raise ValueError(f"{field}: floats are not accepted for money, pass a decimal string")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{field}: {value!r} is not a decimal number") from None
    else:
        raise ValueError(f"{field}: expected a decimal string, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{field}: {value!r} is not a finite number")
    return result


def parse_currency(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"currency: expected an ISO 4217 code, got {type(value).__name__}")
    code = value.strip().upper()
    if code not in KNOWN_CURRENCIES:
        raise ValueError(f"currency: {value!r} is not a supported ISO 4217 code")
    return code


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one currency. Arithmetic across currencies raises CurrencyMismatch."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", parse_amount(self.amount))
        object.__setattr__(self, "currency", parse_currency(self.currency))

    # -- construction -----------------------------------------------------------------
    @classmethod
    def of(cls, amount: Any, currency: str) -> Money:
        return cls(parse_amount(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls._trusted(_ZERO, parse_currency(currency))

    @classmethod
    def from_spapi(cls, data: dict[str, Any]) -> Money:
        """Read SP-API's ``{"Amount": 12.5, "CurrencyCode": "EUR"}`` (any key casing).

        SP-API serialises amounts as JSON numbers; parse the JSON with
        ``parse_float=Decimal`` so they arrive here exactly.
        """
        lowered = {k.lower(): v for k, v in data.items()}
        amount = lowered.get("amount")
        currency = lowered.get("currencycode", lowered.get("currency"))
        if amount is None or currency is None:
            raise ValueError(f"money: expected Amount and CurrencyCode, got keys {sorted(data)}")
        if isinstance(amount, float):
            # JSON parsed without parse_float=Decimal: take the shortest repr, which is
            # what Amazon wrote (json floats round-trip through repr exactly).
            amount = repr(amount)
        return cls(parse_amount(amount), currency)

    @classmethod
    def _trusted(cls, amount: Decimal, currency: str) -> Money:
        """A Money from an already validated Decimal and currency (arithmetic results):
        skips re-validation, which dominated the strategy engine's profile."""
        money = _new(cls)
        _set_amount(money, amount)
        _set_currency(money, currency)
        return money

    # -- arithmetic ---------------------------------------------------------------------
    def check_currency(self, other: Money) -> None:
        """Raise unless ``other`` is Money of this currency (TypeError / CurrencyMismatch):
        the check every arithmetic operation and comparison makes (they call it only when
        ``other`` is not plainly a Money of this currency: a call less on the hot path)."""
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        if type(other) is not Money or other.currency != self.currency:
            self.check_currency(other)
        return Money._trusted(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if type(other) is not Money or other.currency != self.currency:
            self.check_currency(other)
        return Money._trusted(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, (float, bool)) or not isinstance(factor, (Decimal, int)):
            raise TypeError("Money can only be multiplied by a Decimal or an int")
        if isinstance(factor, Decimal) and not factor.is_finite():
            raise ValueError(f"cannot multiply money by {factor}")
        return Money._trusted(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money._trusted(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        if type(other) is not Money or other.currency != self.currency:
            self.check_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        if type(other) is not Money or other.currency != self.currency:
            self.check_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        if type(other) is not Money or other.currency != self.currency:
            self.check_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        if type(other) is not Money or other.currency != self.currency:
            self.check_currency(other)
        return self.amount >= other.amount

    def __eq__(self, other: object) -> bool:
        if type(other) is not Money and not isinstance(other, Money):
            return NotImplemented
        return self.currency == other.currency and self.amount == other.amount

    def __hash__(self) -> int:
        return hash((self.amount.normalize(), self.currency))

    # -- rounding and display -----------------------------------------------------------
    @property
    def tick(self) -> Decimal:
        return tick(self.currency)

    def quantize(self, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Round to the currency's minor unit (banker's rounding unless told otherwise)."""
        return Money._trusted(self.amount.quantize(tick(self.currency), rounding=rounding),
                              self.currency)

    def round_down(self) -> Money:
        """Round toward zero to the minor unit: a price never rounds up past a bound."""
        return self.quantize(ROUND_DOWN)

    def is_zero(self) -> bool:
        return self.amount == 0

    def to_str(self) -> str:
        """The amount as a plain decimal string at the currency's precision ("12.30")."""
        return format(self.amount.quantize(tick(self.currency), rounding=ROUND_HALF_EVEN), "f")

    def to_dict(self) -> dict[str, str]:
        # ``to_str`` inlined: this is the serialiser of every Money field of a stored state.
        amount = format(self.amount.quantize(tick(self.currency), rounding=ROUND_HALF_EVEN), "f")
        return {"amount": amount, "currency": self.currency}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Money:
        return cls(parse_amount(data.get("amount")), data.get("currency"))

    def __str__(self) -> str:
        return f"{self.to_str()} {self.currency}"

    def __repr__(self) -> str:
        return f"Money({format(self.amount, 'f')!r}, {self.currency!r})"

    # -- pydantic v2 integration: Money fields validate from {amount, currency} or
    # SP-API's {Amount, CurrencyCode} and serialise as {"amount": "12.30", "currency": ...}.
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        def validate(value: Any) -> Money:
            if isinstance(value, Money):
                return value
            if isinstance(value, dict):
                keys = {k.lower() for k in value}
                if "currencycode" in keys:
                    return cls.from_spapi(value)
                return cls.from_dict(value)
            raise ValueError("money: expected an object with amount and currency")

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                cls.to_dict, when_used="always"
            ),
            json_schema_input_schema=core_schema.typed_dict_schema(
                {
                    "amount": core_schema.typed_dict_field(core_schema.str_schema()),
                    "currency": core_schema.typed_dict_field(core_schema.str_schema()),
                }
            ),
        )


# ``Money._trusted`` sets the two slots through their descriptors (what the frozen
# dataclass's ``__init__`` does via ``object.__setattr__``, in about half the time).
_new = object.__new__
_set_amount = Money.amount.__set__  # type: ignore[attr-defined]
_set_currency = Money.currency.__set__  # type: ignore[attr-defined]
