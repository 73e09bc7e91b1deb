"""Property: the same evidence always gives the same claims, with the same ids.

Re-running an audit, shuffling the rows of its reports, duplicating rows and splitting
the reports into overlapping downloads (what a job that re-pulls old months produces)
never creates a second claim for the same evidence, nor changes any claim."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.audit.logic.audit import AuditResult, audit_directory
from functions.audit.logic.costs import CostBook
from functions.core.money import Money

from .builders import LEDGER_HEADER, REIMBURSEMENT_HEADER, RETURNS_HEADER

BASE = date(2025, 8, 1)
ITEMS = [("X00A000001", "B0A0000001", "SKU-A"), ("X00B000002", "B0B0000002", "SKU-B")]
COSTS = CostBook.of({"SKU-A": Money.of("5.00", "USD"), "SKU-B": Money.of("7.50", "USD")})

ledger_event = st.tuples(
    st.sampled_from(["M", "5", "F", "E", "K", "Q", "CustomerReturns", "Shipments"]),
    st.integers(0, 1),  # item
    st.integers(0, 60),  # day
    st.integers(1, 3),  # units
    st.one_of(st.none(), st.integers(0, 3)),  # unreconciled
)
payment = st.tuples(
    st.sampled_from(["Lost_Warehouse", "Damaged_Warehouse", "CustomerReturn"]),
    st.integers(0, 1), st.integers(0, 70), st.integers(1, 3),
    st.sampled_from(["3.00", "5.00", "7.50", "9.99"]),
    st.booleans(),  # reversed later
)
customer_return = st.tuples(
    st.integers(0, 5),  # order
    st.sampled_from(["SELLABLE", "DAMAGED", "CARRIER_DAMAGED", "CUSTOMER_DAMAGED"]),
    st.integers(0, 60),
)


def _day(offset: int) -> date:
    return BASE + timedelta(days=offset)


def _ledger_rows(events: list[tuple[object, ...]]) -> list[list[str]]:
    rows = []
    for n, (kind, item, day, units, unreconciled) in enumerate(events):
        fnsku, asin, sku = ITEMS[item]  # type: ignore[index]
        d = _day(day)  # type: ignore[arg-type]
        if kind in ("CustomerReturns", "Shipments"):
            event, reason, quantity = kind, "", units if kind == "CustomerReturns" else -1
            reference = f"113-0000000-{n % 6:07d}"
        else:
            event, reason = "Adjustments", kind
            quantity = units if kind == "F" else -units  # type: ignore[operator]
            reference = str(780000000 + n)
        rows.append([
            d.strftime("%m/%d/%Y"), fnsku, asin, sku, "Item", str(event), reference,
            str(quantity), "PHX7", "SELLABLE", str(reason), "US",
            "" if unreconciled is None else "0",
            "" if unreconciled is None else str(unreconciled),
            f"{d.isoformat()}T{8 + n % 10:02d}:00:00-07:00",
        ])
    return rows


def _payment_rows(payments: list[tuple[object, ...]]) -> list[list[str]]:
    rows = []
    for n, (reason, item, day, units, per_unit, reversed_later) in enumerate(payments):
        fnsku, asin, sku = ITEMS[item]  # type: ignore[index]
        rid = str(9_000_000_000 + n)
        order = f"113-0000000-{n % 6:07d}" if reason == "CustomerReturn" else ""
        total = f"{float(per_unit) * units:.2f}"  # type: ignore[arg-type]
        rows.append([f"{_day(day).isoformat()}T07:00:00+00:00", rid, "", order, str(reason),  # type: ignore[arg-type]
                     sku, fnsku, asin, "Item", "New", "USD", str(per_unit), total, str(units),
                     "0", str(units), "", ""])
        if reversed_later:
            rows.append([f"{_day(day + 20).isoformat()}T07:00:00+00:00",  # type: ignore[operator]
                         str(9_100_000_000 + n), "", order, "Reimbursement_Reversal", sku,
                         fnsku, asin, "Item", "New", "USD", f"-{per_unit}", f"-{per_unit}",
                         "-1", "0", "-1", rid, str(reason)])
    return rows


def _return_rows(returns: list[tuple[object, ...]]) -> list[list[str]]:
    rows = []
    for n, (order, disposition, day) in enumerate(returns):
        fnsku, asin, sku = ITEMS[n % 2]
        rows.append([f"{_day(day).isoformat()}T11:00:00+00:00", f"113-0000000-{order:07d}",  # type: ignore[arg-type]
                     sku, asin, fnsku, "Item", "1", "PHX7", str(disposition), "DEFECTIVE",
                     "Unit returned to inventory", f"LPN{n:08d}", ""])
    return rows


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")


def _summary(result: AuditResult) -> list[tuple[object, ...]]:
    ids = [c.claim_id for c in result.claims]
    assert len(ids) == len(set(ids)), "a claim id appears twice"
    return sorted((c.claim_id, c.status, c.quantity, c.amount, c.deadline)
                  for c in result.claims)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    events=st.lists(ledger_event, max_size=14),
    payments=st.lists(payment, max_size=8),
    returns=st.lists(customer_return, max_size=6),
    as_of_days=st.integers(0, 200),
    seed=st.integers(0, 2**32 - 1),
)
def test_shuffled_duplicated_and_split_reports_give_the_same_claims(
        tmp_path_factory: object, events: list[tuple[object, ...]],
        payments: list[tuple[object, ...]], returns: list[tuple[object, ...]],
        as_of_days: int, seed: int) -> None:
    root: Path = tmp_path_factory.mktemp("audit")  # type: ignore[attr-defined]
    tables = [
        ("ledger", LEDGER_HEADER, _ledger_rows(events)),
        ("reimbursements", REIMBURSEMENT_HEADER, _payment_rows(payments)),
        ("returns", RETURNS_HEADER, _return_rows(returns)),
    ]
    as_of = _day(as_of_days)

    plain = root / "plain"
    plain.mkdir()
    for name, header, rows in tables:
        _write(plain / f"{name}.tsv", header, rows)
    first = audit_directory(plain, as_of=as_of, costs=COSTS)
    assert first.errors == []

    rng = random.Random(seed)
    messy = root / "messy"
    messy.mkdir()
    for name, header, rows in tables:
        shuffled = rows[:]
        rng.shuffle(shuffled)
        duplicated = shuffled + rng.sample(shuffled, k=len(shuffled) // 2)
        rng.shuffle(duplicated)
        cut = rng.randint(0, len(duplicated))
        overlap = rng.randint(0, cut)
        # Two overlapping downloads: rows[:cut] and rows[overlap:], in other file names.
        _write(messy / f"{name}-part1.txt", header, duplicated[:cut])
        _write(messy / f"{name}-part2.txt", header, duplicated[overlap:])
    second = audit_directory(messy, as_of=as_of, costs=COSTS)
    assert second.errors == []

    assert _summary(second) == _summary(first)
    assert _summary(audit_directory(plain, as_of=as_of, costs=COSTS)) == _summary(first)
