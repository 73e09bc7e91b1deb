"""`sellerops audit`: audit downloaded report files, no AWS (DESIGN.md §3).

    sellerops audit --reports DIR [--as-of YYYY-MM-DD] [--costs COSTS.csv] [--json]

Exit status: 0 when the audit ran (whatever it found; unreadable rows are listed as
errors), 2 for bad arguments (no such folder, a bad date, an unusable cost sheet).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from .logic.audit import AuditResult

_PROG = "sellerops audit"


def add_audit_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommand's options (kept here so infra/cli.py only wires it in)."""
    parser.add_argument("--reports", required=True, metavar="DIR",
                        help="folder with the report files (any names; .txt/.tsv/.csv, .gz)")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", default=None,
                        help="audit date: windows are judged on this day (today, UTC)")
    parser.add_argument("--costs", metavar="COSTS.csv", default=None,
                        help="unit costs (columns sku, unit_cost, currency) that "
                        "before-order losses are valued at")
    parser.add_argument("--json", action="store_true", help="print one JSON document only")


def run_audit_command(
    args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    from .logic.audit import audit_directory
    from .logic.costs import CostsError, read_costs

    def fail(message: str) -> int:
        print(f"{_PROG}: error: {message}", file=err)
        return 2

    reports = Path(args.reports)
    if not reports.exists():
        return fail(f"--reports: no such folder: {args.reports}")
    if not reports.is_dir():
        return fail(f"--reports: not a folder: {args.reports}")
    if args.as_of is None:
        as_of = datetime.now(UTC).date()
    else:
        try:
            as_of = date.fromisoformat(args.as_of.strip())
        except ValueError:
            return fail(f"--as-of: {args.as_of!r} is not a date (YYYY-MM-DD)")
    costs = None
    if args.costs is not None:
        path = Path(args.costs)
        if not path.is_file():
            return fail(f"--costs: no such file: {args.costs}")
        try:
            costs = read_costs(path, name=args.costs)
        except CostsError as exc:
            return fail(f"--costs: {exc}")
        except OSError as exc:
            return fail(f"--costs: cannot read {args.costs}: {exc.strerror or exc}")

    result = audit_directory(reports, as_of=as_of, costs=costs)
    if args.json:
        json.dump(result.to_dict(), out, indent=2)
        out.write("\n")
    else:
        print_listing(result, reports, out)
    return 0


def print_listing(result: AuditResult, reports: Path, out: TextIO) -> None:
    """A readable listing: claims by category, totals by status and currency, errors."""
    from .logic.claims import Category

    totals = result.totals()
    count = len(result.claims)
    print(f"Lost & Found audit of {reports} as of {result.as_of.isoformat()}: "
          f"{count} claim(s), {totals['open']['count']} open, "
          f"{totals['expired']['count']} expired", file=out)
    read = [f"{name} ({kind})" for name, kind in sorted(result.files.items()) if kind]
    print(f"Read {len(read)} report file(s): {', '.join(read) or 'none'}", file=out)
    for category in Category:
        claims = [c for c in result.claims if c.category is category]
        if not claims:
            continue
        print(f"\n{category} ({len(claims)})", file=out)
        for claim in claims:
            amount = f"{claim.amount}" if claim.amount is not None else "amount unknown"
            ids = claim.sku or "-"
            if claim.fnsku:
                ids += f" / {claim.fnsku}"
            print(f"  {claim.status:<8} deadline {claim.deadline.isoformat()}  {ids}  "
                  f"qty {claim.quantity}  {amount}", file=out)
            print(f"           {claim.reason}", file=out)
            print(f"           id {claim.claim_id}; evidence: " + ", ".join(
                f"{e.file}:{e.line}" for e in claim.evidence), file=out)
    print("\nTotals", file=out)
    for status, total in totals.items():
        money = ", ".join(f"{amount} {cur}" for cur, amount in total["by_currency"].items())
        unvalued = sum(1 for c in result.claims if str(c.status) == status and c.amount is None)
        line = f"  {status:<8} {total['count']} claim(s)"
        if money:
            line += f"  {money}"
        if unvalued:
            line += f"  ({unvalued} without a value: no unit cost or sale price known)"
        print(line, file=out)
    if result.errors:
        print(f"\nErrors ({len(result.errors)}): rows and files that were skipped", file=out)
        for error in result.errors:
            print(f"  {error.file}:{error.line}: {error.reason}", file=out)
    else:
        print("\nErrors: none", file=out)
