"""Unit costs: what before-order losses are worth (Amazon pays manufacturing cost).

The cost sheet is a CSV (or TSV) with the columns ``sku, unit_cost, currency`` (DESIGN.md
§3), header names matched like report headers, extra columns ignored. A SKU may have one
cost per currency (a seller selling in several marketplaces); a loss is valued in the
currency of its marketplace when the sheet has one, else in the SKU's only currency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

from functions.core.money import Money, parse_currency

from .reports.fields import RowError, normalize_header, parse_decimal
from .reports.kinds import Builder, Columns, ReportKind
from .reports.reader import ReportError, open_report

_COLUMNS = ("sku", "unit_cost", "currency")


@dataclass(slots=True)
class UnitCost:
    file: str
    line: int
    sku: str
    cost: Money


class CostsError(ValueError):
    """The cost sheet cannot be used; the message names the file, line and column."""


def build_unit_cost(c: Columns, file: str) -> Builder:
    i_sku, i_cost, i_currency = c("sku"), c("unitcost"), c("currency")
    t_sku, t_cost, t_currency = c.title("sku"), c.title("unitcost"), c.title("currency")

    def build(row: list[str], line: int) -> UnitCost:
        sku = row[i_sku].strip()
        if not sku:
            raise RowError(f"column {t_sku!r} is empty")
        text = row[i_cost].strip()
        if not text:
            raise RowError(f"column {t_cost!r} is empty")
        amount = parse_decimal(text, t_cost)
        if amount < 0:
            raise RowError(f"column {t_cost!r}: {text!r} is negative")
        try:
            currency = parse_currency(row[i_currency])
        except ValueError:
            raise RowError(
                f"column {t_currency!r}: {row[i_currency].strip()!r} is not a known ISO 4217 "
                "currency") from None
        return UnitCost(file, line, sku, Money(amount, currency))

    return build


class CostBook:
    """Unit costs by SKU (and currency)."""

    def __init__(self, costs: Iterable[UnitCost] = ()) -> None:
        self._by_sku: dict[str, dict[str, Money]] = {}
        for cost in costs:
            self.add(cost)

    @classmethod
    def of(cls, costs: Mapping[str, Money]) -> CostBook:
        """From ``{sku: Money}`` (tests, and costs kept elsewhere, e.g. a table)."""
        return cls(UnitCost("", 0, sku, money) for sku, money in costs.items())

    def add(self, cost: UnitCost) -> None:
        self._by_sku.setdefault(cost.sku, {})[cost.cost.currency] = cost.cost

    def merge(self, other: CostBook) -> CostBook:
        """A new book: ``other``'s costs win where both have one."""
        merged = CostBook()
        for book in (self, other):
            for sku, by_currency in book._by_sku.items():
                merged._by_sku.setdefault(sku, {}).update(by_currency)
        return merged

    def __len__(self) -> int:
        return len(self._by_sku)

    def __bool__(self) -> bool:
        return bool(self._by_sku)

    def unit_cost(self, sku: str, currency: str | None = None) -> Money | None:
        """The SKU's cost in ``currency`` if the sheet has it, else its only cost, else None."""
        by_currency = self._by_sku.get(sku)
        if not by_currency:
            return None
        if currency is not None and currency in by_currency:
            return by_currency[currency]
        if len(by_currency) == 1:
            return next(iter(by_currency.values()))
        return None

    def value(self, sku: str, quantity: int, currency: str | None = None) -> Money | None:
        cost = self.unit_cost(sku, currency)
        return None if cost is None else cost * Decimal(quantity)


@dataclass(frozen=True, slots=True)
class CostProblem:
    """One reason a cost sheet cannot be used: its line (1 = the header), the column when
    the problem is in one (the header's own spelling), and why."""

    line: int
    column: str | None
    message: str


@dataclass(slots=True)
class CostSheet:
    """A cost sheet read strictly: its rows in file order and every problem found."""

    name: str
    costs: list[UnitCost]
    problems: list[CostProblem]

    @property
    def book(self) -> CostBook:
        return CostBook(self.costs)


_COLUMN_IN_REASON = re.compile(r"^column '([^']*)'")


def parse_costs(source: str | Path | IO[bytes], name: str | None = None) -> CostSheet:
    """Read a cost sheet, collecting every problem (bad rows, negative costs, unknown
    currencies, a duplicate SKU/currency, a missing column) with line and column; the
    caller decides whether any problem rejects the sheet (:func:`read_costs` does)."""
    with open_report(source, name) as sheet:
        if sheet.kind is not ReportKind.COSTS:
            present = {normalize_header(t) for t in sheet.titles}
            missing = [c for c in _COLUMNS if normalize_header(c) not in present]
            if not sheet.titles:
                problem = CostProblem(
                    1, None, f"empty file, expected the header {', '.join(_COLUMNS)}")
            else:
                problem = CostProblem(
                    1, missing[0] if len(missing) == 1 else None,
                    f"missing column(s) {', '.join(missing)} (expected {', '.join(_COLUMNS)})")
            return CostSheet(sheet.name, [], [problem])
        errors: list[ReportError] = []
        costs: list[UnitCost] = []
        problems: list[CostProblem] = []
        seen: dict[tuple[str, str], int] = {}
        sku_title = next(t for t in sheet.titles if normalize_header(t) == "sku")
        for cost in sheet.records(errors):
            assert isinstance(cost, UnitCost)
            key = (cost.sku, cost.cost.currency)
            if key in seen:
                errors.append(ReportError(
                    sheet.name, cost.line,
                    f"column {sku_title!r}: sku {cost.sku!r} has a {cost.cost.currency} cost "
                    f"already (line {seen[key]})"))
                continue
            seen[key] = cost.line
            costs.append(cost)
        for error in sorted(errors, key=lambda e: e.line):
            found = _COLUMN_IN_REASON.match(error.reason)
            problems.append(CostProblem(error.line, found.group(1) if found else None,
                                        error.reason))
        return CostSheet(sheet.name, costs, problems)


def read_costs(source: str | Path | IO[bytes], name: str | None = None) -> CostBook:
    """Read a cost sheet strictly: any bad row, a duplicate or a missing column raises
    :class:`CostsError` naming file, line and column."""
    sheet = parse_costs(source, name)
    if sheet.problems:
        first = sheet.problems[0]
        more = f" (and {len(sheet.problems) - 1} more)" if len(sheet.problems) > 1 else ""
        raise CostsError(f"{sheet.name} line {first.line}: {first.message}{more}")
    return sheet.book


__all__ = [
    "CostBook",
    "CostProblem",
    "CostSheet",
    "CostsError",
    "UnitCost",
    "build_unit_cost",
    "parse_costs",
    "read_costs",
]
