"""Run the whole audit: read report files → deduplicated data → every detector → result.

    result = audit_directory(Path("reports"), as_of=date(2025, 11, 20), costs=book)
    print(json.dumps(result.to_dict()))

or, from a job that downloads report documents itself::

    result = run_audit([("ledger.tsv", stream), ...], as_of=today, costs=book)

Nothing here touches AWS or the environment; files are read one at a time, streamed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from functions.core.money import Money

from .claims import Category, Claim, ClaimStatus
from .costs import CostBook, UnitCost
from .data import ADJUSTMENT_REASONS_AUDITED, LEDGER_EVENTS_AUDITED, AuditData
from .detectors import detect_all
from .reports.kinds import ReportKind
from .reports.reader import ReportError, open_report

ReportInput = str | Path | tuple[str, IO[bytes]]

_CATEGORY_ORDER = {category: index for index, category in enumerate(Category)}


@dataclass(slots=True)
class AuditResult:
    """Claims (open and expired), the unreadable rows and files, and what was read."""

    as_of: date
    claims: list[Claim]
    errors: list[ReportError]
    files: dict[str, str | None] = field(default_factory=dict)  # file → kind (None: unknown)

    def totals(self) -> dict[str, dict[str, Any]]:
        """``{"open"|"expired": {"count": n, "by_currency": {CUR: "amount"}}}``; claims
        without an amount are counted but add no money."""
        totals: dict[str, dict[str, Any]] = {}
        for status in ClaimStatus:
            chosen = [c for c in self.claims if c.status is status]
            sums: dict[str, Money] = {}
            for claim in chosen:
                if claim.amount is not None:
                    currency = claim.amount.currency
                    sums[currency] = sums.get(currency, Money.zero(currency)) + claim.amount
            totals[str(status)] = {
                "count": len(chosen),
                "by_currency": {cur: sums[cur].to_str() for cur in sorted(sums)},
            }
        return totals

    def to_dict(self) -> dict[str, Any]:
        """The document `sellerops audit --json` prints (DESIGN.md §3, "Audit output")."""
        return {
            "as_of": self.as_of.isoformat(),
            "claims": [claim.to_dict() for claim in self.claims],
            "totals": self.totals(),
            "errors": [error.to_dict() for error in self.errors],
        }


def read_reports(
    inputs: Iterable[ReportInput], errors: list[ReportError],
    files: dict[str, str | None] | None = None,
) -> tuple[AuditData, CostBook]:
    """Stream every input into one :class:`AuditData`. Unrecognised files and unreadable
    rows go to ``errors``; a cost sheet among the inputs is returned as a CostBook."""
    data = AuditData()
    costs = CostBook()
    for item in inputs:
        if isinstance(item, tuple):
            name, stream = item
            report = open_report(stream, name)
        else:
            report = open_report(item, _display_name(item))
        with report:
            kind = report.kind
            if files is not None:
                files[report.name] = None if kind is None else str(kind)
            if kind is None:
                errors.append(ReportError(report.name, 1, report.unrecognised_reason()))
                continue
            data.kinds_seen.add(kind)
            if kind is ReportKind.COSTS:
                for cost in report.records(errors):
                    assert isinstance(cost, UnitCost)
                    costs.add(cost)
                continue
            add = None
            last_type: type | None = None
            for record in report.records(errors, event_types=LEDGER_EVENTS_AUDITED,
                                         adjustment_reasons=ADJUSTMENT_REASONS_AUDITED):
                if type(record) is not last_type:
                    last_type = type(record)
                    add = data.adder(last_type)
                add(record)  # type: ignore[misc]
    return data, costs


def run_audit(
    inputs: Iterable[ReportInput], *, as_of: date, costs: CostBook | None = None,
) -> AuditResult:
    """Audit report files (paths, or ``(name, binary stream)`` pairs) as of ``as_of``.

    ``costs`` (unit costs by SKU) values before-order losses; a cost sheet found among the
    inputs is used too, ``costs`` winning where both have a SKU.
    """
    errors: list[ReportError] = []
    files: dict[str, str | None] = {}
    with _collector_paused():
        data, found_costs = read_reports(inputs, errors, files)
        book = found_costs.merge(costs) if costs is not None else found_costs
        claims = detect_all(data, costs=book, as_of=as_of)
        del data
    claims.sort(key=lambda c: (_CATEGORY_ORDER[c.category], c.deadline, c.claim_id))
    _check_unique(claims)
    return AuditResult(as_of=as_of, claims=claims, errors=errors, files=files)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while the audit runs.

    The audit allocates millions of small acyclic objects (records, keys) and keeps a few
    hundred thousand alive; the collector would rescan those over and over (measured:
    20–30 % of the run). Reference counting still frees everything; the collector's
    state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def report_files(directory: Path) -> list[Path]:
    """Every regular, non-hidden file under ``directory`` (recursively), sorted by path."""
    return sorted(
        path for path in directory.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in
                                      path.relative_to(directory).parts)
    )


def audit_directory(
    directory: Path, *, as_of: date, costs: CostBook | None = None,
) -> AuditResult:
    """Audit every file in ``directory``; files are named relative to it."""
    inputs = [(path.relative_to(directory).as_posix(), path) for path in report_files(directory)]
    return run_audit(_opened(inputs), as_of=as_of, costs=costs)


def _opened(inputs: list[tuple[str, Path]]) -> Iterable[tuple[str, IO[bytes]]]:
    for name, path in inputs:
        with path.open("rb") as handle:
            yield name, handle


def _display_name(item: str | Path) -> str:
    return str(item)


def _check_unique(claims: list[Claim]) -> None:
    seen: set[str] = set()
    for claim in claims:
        if claim.claim_id in seen:
            raise AssertionError(f"two claims with id {claim.claim_id}")  # a detector bug
        seen.add(claim.claim_id)


def total_amount(claims: Iterable[Claim], currency: str) -> Money:
    amount = sum((c.amount.amount for c in claims
                  if c.amount is not None and c.amount.currency == currency), Decimal(0))
    return Money(amount, currency)
