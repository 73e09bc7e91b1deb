"""A SKU's repricing configuration and the Listings CSV (DESIGN.md §3 ★).

:class:`ListingConfig` is the one model of a listing's strategy configuration: the
Listings CSV (replay input, the API's bulk import) fills the CSV's columns, the API and
the Listings table can set the rest (config-only parameters, all with defaults).

The CSV accepts exactly :data:`CSV_COLUMNS`: header row required, column order free,
names case-insensitive, an unknown column is an error, an empty cell means the default.
Amounts are decimal strings with a dot (``12.99``); a step (``undercut``,
``climb_step``, ``max_change``, ``b2b_discount``) may instead end in ``%`` (of the
current price). Errors name the line and the column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError, core_schema

from functions.core.marketplaces import UnknownMarketplace, marketplace
from functions.core.money import KNOWN_CURRENCIES, Money, minor_units, tick

from .notifications import normalise_condition

Strategy = Literal["buybox", "push", "fixed"]
Fulfillment = Literal["FBA", "FBM"]
BelowFloor = Literal["floor", "hold"]
NoCompetition = Literal["max", "hold"]
AmazonMode = Literal["compete", "match_only", "ignore"]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "sku", "asin", "marketplace_id", "condition", "fulfillment", "strategy",
    "min_price", "max_price", "currency",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "seller_id", "current_price", "cost_floor", "undercut", "climb_step", "max_change",
    "fixed_price", "push_levels", "b2b_discount",
)
CSV_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Amazon's own seller ids (the retail business) per marketplace, used by ``amazon_mode``
# when ``amazon_seller_ids`` is empty. *(unverified: public seller-forum knowledge)*
AMAZON_RETAIL_SELLER_IDS: dict[str, str] = {
    "ATVPDKIKX0DER": "ATVPDKIKX0DER",  # US
    "A2EUQ1WTGCTBG2": "A3DWYIK6Y9EEQB",  # CA
    "A1F83G8C2ARO7P": "A3P5ROKL5A1OLE",  # GB
    "A1PA6795UKMFR9": "A3JWKAKR8XB7XF",  # DE
    "A13V1IB3VIYZZH": "A1X6FK5RDHNB96",  # FR
    "APJ6JRA9NG5V4": "A11IL2PNWYJU7H",  # IT
    "A1RKKUPIHCS9HS": "A1AT7YVPFBWXBL",  # ES
    "A1VC38T7YXB528": "AN1VRQENFRJN5",  # JP
}

_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
_HUNDRED = Decimal(100)


class Step:
    """A price step: an amount (``0.05``) or a percentage of the current price (``1%``)."""

    __slots__ = ("percent", "value")

    def __init__(self, value: Decimal, percent: bool = False):
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise ValueError(f"a step must be a non-negative decimal, got {value!r}")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "percent", percent)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Step cannot be changed (instances are shared)")

    def __reduce__(self) -> tuple[type[Step], tuple[Decimal, bool]]:
        return (Step, (self.value, self.percent))  # copy, deepcopy and pickle

    @classmethod
    def parse(cls, text: Any) -> Step:
        if type(text) is str:
            # Steps are never changed after they are made: one per text is shared (a
            # catalogue's configs repeat a handful of them).
            known = _STEPS.get(text)
            if known is not None:
                return known
            step = cls._parse(text)
            if len(_STEPS) < _STEPS_KEPT:
                _STEPS[text] = step
            return step
        return cls._parse(text)

    @classmethod
    def _parse(cls, text: Any) -> Step:
        if isinstance(text, Step):
            return text
        if isinstance(text, bool) or isinstance(text, float):
            raise ValueError("a step is a decimal string (0.05) or a percentage (1%)")
        if isinstance(text, int | Decimal):
            return cls(Decimal(text))
        if not isinstance(text, str):
            raise ValueError("a step is a decimal string (0.05) or a percentage (1%)")
        raw = text.strip()
        percent = raw.endswith("%")
        number = raw[:-1].strip() if percent else raw
        if not _AMOUNT.match(number):
            raise ValueError(
                f"{text!r} is not an amount with a dot (0.05) or a percentage (1%)"
            )
        return cls(Decimal(number), percent)

    def of(self, base: Money) -> Money:
        """The step as money: a percentage of ``base``, or the amount in its currency."""
        # ``base`` is a Money and ``value`` was checked finite when the step was made.
        if self.percent:
            return Money._trusted(base.amount * self.value / _HUNDRED, base.currency)
        return Money._trusted(self.value, base.currency)

    def __str__(self) -> str:
        return f"{format(self.value, 'f')}%" if self.percent else format(self.value, "f")

    def __repr__(self) -> str:
        return f"Step({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Step) and self.percent == other.percent and self.value == other.value
        )

    def __hash__(self) -> int:
        return hash((self.value, self.percent))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        return core_schema.no_info_plain_validator_function(
            cls.parse,
            serialization=core_schema.plain_serializer_function_ser_schema(str),
            json_schema_input_schema=core_schema.str_schema(),
        )


_STEPS: dict[str, Step] = {}
_STEPS_KEPT = 1024


def _amount(value: Any) -> Any:
    """A positive decimal amount: Decimal, int, or a string with a dot. No floats."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("amounts are decimal strings with a dot (12.99), not numbers")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if not _AMOUNT.match(text):
            raise ValueError(f"{value!r} is not an amount with a dot (e.g. 12.99)")
        return Decimal(text)
    raise ValueError(f"expected an amount, got {type(value).__name__}")


def _err(column: str, message: str) -> PydanticCustomError:
    return PydanticCustomError("listing_config", "{message}", {"column": column,
                                                                "message": message})


class ListingConfig(BaseModel):
    """How one SKU is repriced. Prices are listing prices (what we submit) in ``currency``.

    Serialise with ``model_dump(mode="json")`` (amounts and steps as strings, durations
    ISO-8601); read back with ``model_validate``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- identity (CSV) -------------------------------------------------------------------
    sku: str = Field(min_length=1)
    asin: str = Field(min_length=1)
    marketplace_id: str
    condition: str
    fulfillment: Fulfillment
    strategy: Strategy
    currency: str
    seller_id: str | None = None

    # -- bounds and prices (CSV) ----------------------------------------------------------
    min_price: Decimal
    max_price: Decimal
    cost_floor: Decimal | None = None
    current_price: Decimal | None = None
    fixed_price: Decimal | None = None
    push_levels: tuple[Decimal, ...] = ()

    # -- steps (CSV) ----------------------------------------------------------------------
    undercut: Step = Step(Decimal("0.01"))  # default: one tick of the currency (JPY 1)
    climb_step: Step = Step(Decimal(1), percent=True)
    max_change: Step = Step(Decimal(20), percent=True)
    b2b_discount: Step = Step(Decimal(0), percent=True)

    # -- Buy Box (config-only) ------------------------------------------------------------
    # Least lead over a rival we undercut (a % of its landed price): the Buy Box rotates
    # among near-equal offers, so a one-tick lead buys about half of it (docs/REPRICING.md,
    # rule 4). The cut is max(undercut, buybox_lead); 0% gives the plain tick undercut.
    buybox_lead: Step = Step(Decimal(3), percent=True)
    # Price-war guard (rule 4): a rival back under our cut within price_war_window is one
    # more round of a war; past price_war_rounds rounds each round halves the lead, so a
    # war against a rival whose floor is under ours is fought in small steps.
    price_war_window: timedelta = timedelta(hours=6)
    price_war_rounds: int = Field(default=2, ge=0)
    climb_interval: timedelta = timedelta(minutes=15)
    confirm_timeout: timedelta = timedelta(minutes=10)
    ceiling_ttl: timedelta = timedelta(hours=24)
    below_floor: BelowFloor = "floor"
    no_competition: NoCompetition = "max"

    # -- competitor filters (config-only) -------------------------------------------------
    min_feedback: Decimal = Decimal(0)  # % positive over 365 days
    min_feedback_count: int = Field(default=0, ge=0)
    exclude_fbm: bool = False
    amazon_mode: AmazonMode = "compete"
    amazon_seller_ids: tuple[str, ...] = ()  # empty: the marketplace's known Amazon id
    include_sellers: tuple[str, ...] = ()  # non-empty: only these sellers compete
    exclude_sellers: tuple[str, ...] = ()

    # -- Push (config-only) ---------------------------------------------------------------
    push_window: timedelta = timedelta(hours=24)
    push_fast_units: int = Field(default=5, ge=1)
    push_slow_units: int = Field(default=0, ge=0)
    push_dwell: timedelta = timedelta(hours=24)
    push_start_level: int | None = Field(default=None, ge=0)

    # -- B2B (config-only): quantity tier → discount off the B2C price -------------------
    b2b_tiers: dict[int, Step] = Field(default_factory=dict)

    # -- validation -----------------------------------------------------------------------
    @model_validator(mode="before")
    @classmethod
    def _default_undercut(cls, data: Any) -> Any:
        # The default undercut is one tick: 0.01, or 1 in a currency without decimals.
        if isinstance(data, dict) and data.get("undercut") in (None, ""):
            currency = str(data.get("currency", "")).strip().upper()
            data = {**data, "undercut": Step(tick(currency))}
        return data

    @field_validator("min_price", "max_price", "cost_floor", "current_price", "fixed_price",
                     mode="before")
    @classmethod
    def _amounts(cls, value: Any) -> Any:
        return _amount(None if value == "" else value)

    @field_validator("push_levels", mode="before")
    @classmethod
    def _levels(cls, value: Any) -> Any:
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            value = [part for part in value.split("|")]
        return tuple(_amount(v.strip() if isinstance(v, str) else v) for v in value)

    @field_validator("condition", mode="before")
    @classmethod
    def _condition(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("an SP-API item condition (e.g. new) is required")
        return normalise_condition(value)

    @field_validator("fulfillment", mode="before")
    @classmethod
    def _fulfillment(cls, value: Any) -> Any:
        text = str(value).strip().upper()
        return {"AFN": "FBA", "MFN": "FBM"}.get(text, text)

    @field_validator("strategy", mode="before")
    @classmethod
    def _strategy(cls, value: Any) -> Any:
        return str(value).strip().lower().replace("-", "").replace("_", "")

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> Any:
        code = str(value).strip().upper()
        if code not in KNOWN_CURRENCIES:
            raise ValueError(f"{value!r} is not a supported ISO 4217 currency code")
        return code

    @field_validator("sku", "asin", "marketplace_id", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("seller_id", mode="before")
    @classmethod
    def _seller(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("marketplace_id")
    @classmethod
    def _marketplace(cls, value: str) -> str:
        try:
            marketplace(value)
        except UnknownMarketplace:
            raise ValueError(f"unknown marketplace_id {value!r}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ListingConfig:
        expected = marketplace(self.marketplace_id).currency
        if self.currency != expected:
            raise _err("currency", f"{self.currency} is not the currency of marketplace "
                                   f"{self.marketplace_id} ({expected})")
        decimals = minor_units(self.currency)
        for column in ("min_price", "max_price", "cost_floor", "current_price", "fixed_price"):
            value = getattr(self, column)
            if value is None:
                continue
            if value <= 0:
                raise _err(column, f"{value} must be greater than zero")
            if _too_precise(value, decimals):
                raise _err(column, f"{value} has more decimals than {self.currency} allows "
                                   f"({decimals})")
        for level in self.push_levels:
            if level <= 0 or _too_precise(level, decimals):
                raise _err("push_levels", f"level {level} is not a positive {self.currency} "
                                          f"price with at most {decimals} decimals")
        if list(self.push_levels) != sorted(set(self.push_levels)):
            raise _err("push_levels", "levels must be strictly ascending (e.g. 19.99|22.99|24.99)")
        for column in ("undercut", "climb_step", "max_change", "b2b_discount", "buybox_lead"):
            step: Step = getattr(self, column)
            if not step.percent and _too_precise(step.value, decimals):
                raise _err(column, f"{step} has more decimals than {self.currency} allows "
                                   f"({decimals})")
        if self.b2b_discount.percent and self.b2b_discount.value >= 100:
            raise _err("b2b_discount", "a discount must be below 100%")
        if self.buybox_lead.percent and self.buybox_lead.value >= 100:
            raise _err("buybox_lead", "a lead must be below 100%")
        if self.strategy == "fixed" and self.fixed_price is None:
            raise _err("fixed_price", "required when strategy is fixed")
        if self.strategy == "push" and not self.push_levels:
            raise _err("push_levels", "required when strategy is push (e.g. 19.99|22.99)")
        if self.push_slow_units >= self.push_fast_units:
            raise _err("push_slow_units", "must be below push_fast_units")
        if self.push_dwell < self.push_window:
            raise _err("push_dwell", "must be at least push_window")
        for quantity, discount in self.b2b_tiers.items():
            if quantity < 2:
                raise _err("b2b_tiers", f"quantity tier {quantity}: tiers start at 2")
            if discount.percent and discount.value >= 100:
                raise _err("b2b_tiers", f"quantity tier {quantity}: discount must be below 100%")
        return self

    # -- money views ----------------------------------------------------------------------
    # The views below are derived from fields only, and the model is frozen: each is
    # computed on first use and kept in the instance (``cached_property``; pydantic leaves
    # such names out of the fields, dumps and comparisons). The Repricer keeps one config
    # per SKU while its stored strategy stays the same, and the engine reads these several
    # times per decision. :meth:`model_copy` drops them when fields change. They read
    # fields this model validated (positive finite Decimals, a known currency), so their
    # Money skips re-validation.
    def money(self, amount: Decimal) -> Money:
        return Money(amount, self.currency)

    @cached_property
    def tick(self) -> Decimal:
        return tick(self.currency)

    @cached_property
    def min(self) -> Money:
        return Money._trusted(self.min_price, self.currency)

    @cached_property
    def max(self) -> Money:
        """Highest price, on the currency's tick (rounded down)."""
        return Money._trusted(self.max_price.quantize(self.tick, rounding=ROUND_FLOOR),
                              self.currency)

    @cached_property
    def floor(self) -> Money:
        """Lowest price: max(min_price, cost_floor), on the tick (rounded up)."""
        lowest = max(self.min_price, self.cost_floor or self.min_price)
        return Money._trusted(lowest.quantize(self.tick, rounding=ROUND_CEILING), self.currency)

    @cached_property
    def bounds_problem(self) -> str | None:
        """Why this config cannot be repriced at all (min above max, or the floor above
        max), or None; the guardrails read it on every decision."""
        if self.min_price > self.max_price:
            return (f"min_price {self.min.to_str()} is above max_price "
                    f"{self.money(self.max_price).to_str()}: no repricing")
        if self.floor > self.max:
            return (f"floor {self.floor.to_str()} (max of min_price and cost_floor) is "
                    f"above max_price {self.max.to_str()}: no repricing")
        return None

    @cached_property
    def configured_current(self) -> Money | None:
        if self.current_price is None:
            return None
        return Money._trusted(self.current_price, self.currency)

    @cached_property
    def amazon_ids(self) -> frozenset[str]:
        if self.amazon_seller_ids:
            return frozenset(self.amazon_seller_ids)
        known = AMAZON_RETAIL_SELLER_IDS.get(self.marketplace_id)
        return frozenset({known} if known else ())

    @cached_property
    def key(self) -> tuple[str, str, str]:
        """(seller_id or "", marketplace_id, sku): unique per seller account."""
        return (self.seller_id or "", self.marketplace_id, self.sku)

    def model_copy(self, *, update: Mapping[str, Any] | None = None,
                   deep: bool = False) -> ListingConfig:
        """``BaseModel.model_copy``, without the derived views computed for the original
        when ``update`` changes fields (they are computed again from the copy's)."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            for name in _DERIVED:
                copied.__dict__.pop(name, None)
        return copied


_DERIVED = tuple(name for name, value in vars(ListingConfig).items()
                 if isinstance(value, cached_property))


def _too_precise(value: Decimal, decimals: int) -> bool:
    """More significant decimals than ``decimals`` (``18.00`` has none: trailing zeros do
    not count)? Written with at most ``decimals`` places is never too precise (the usual
    case, answered without normalising)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -decimals:
        return False
    exponent = value.normalize().as_tuple().exponent
    return isinstance(exponent, int) and -exponent > decimals


# -- the CSV --------------------------------------------------------------------------


class ListingsCsvError(ValueError):
    """The Listings CSV is not valid; ``problems`` lists (line, column, message)."""

    def __init__(self, problems: list[tuple[int, str | None, str]]):
        self.problems = problems
        lines = [
            f"line {line}, column {column}: {message}" if column else f"line {line}: {message}"
            for line, column, message in problems
        ]
        super().__init__("invalid listings CSV:\n  " + "\n  ".join(lines))


def _problems_of(error: ValidationError) -> list[tuple[str | None, str]]:
    found: list[tuple[str | None, str]] = []
    for item in error.errors(include_url=False):
        ctx = item.get("ctx") or {}
        column = ctx.get("column") if item["type"] == "listing_config" else None
        if column is None and item["loc"]:
            column = str(item["loc"][0])
        message = item["msg"]
        if item["type"] == "missing":
            message = "required"
        elif item["type"] == "literal_error":
            message = f"{item.get('input')!r} is not one of {message.split('Input should be ')[-1]}"
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
        found.append((column, message))
    return found


def parse_listings_csv(text: str) -> list[ListingConfig]:
    """Parse the Listings CSV text; raises :class:`ListingsCsvError` naming line and column."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[tuple[int, str | None, str]] = []
    header: list[str] | None = None
    configs: list[ListingConfig] = []
    seen: dict[tuple[str, str, str], int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            for position, name in enumerate(header):
                if name not in CSV_COLUMNS:
                    problems.append((line, name or f"#{position + 1}",
                                     "unknown column (allowed: " + ", ".join(CSV_COLUMNS) + ")"))
                elif header.index(name) != position:
                    problems.append((line, name, "column given twice"))
            for name in REQUIRED_COLUMNS:
                if name not in header:
                    problems.append((line, name, "required column missing from the header"))
            if problems:
                raise ListingsCsvError(problems)
            continue
        if len(row) > len(header):
            problems.append((line, None, f"{len(row)} cells but the header has {len(header)}"))
            continue
        values: dict[str, Any] = {}
        for name, cell in zip(header, row, strict=False):
            text_value = cell.strip()
            if text_value == "":
                if name in REQUIRED_COLUMNS:
                    problems.append((line, name, "required"))
                continue
            values[name] = text_value
        if any(p[0] == line for p in problems):
            continue
        try:
            config = ListingConfig.model_validate(values)
        except ValidationError as exc:
            problems.extend((line, column, message) for column, message in _problems_of(exc))
            continue
        if config.key in seen:
            problems.append((line, "sku", f"{config.sku!r} repeats line {seen[config.key]} "
                                          "(same seller_id and marketplace_id)"))
            continue
        seen[config.key] = line
        configs.append(config)
    if header is None:
        problems.append((1, None, "empty file: a header row is required"))
    if problems:
        raise ListingsCsvError(problems)
    return configs


def load_listings_csv(path: str) -> list[ListingConfig]:
    """Read a Listings CSV file (UTF-8, with or without BOM)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return parse_listings_csv(handle.read())


def listings_by_asin(configs: Iterable[ListingConfig]) -> dict[str, list[ListingConfig]]:
    index: dict[str, list[ListingConfig]] = {}
    for config in configs:
        index.setdefault(config.asin, []).append(config)
    return index

