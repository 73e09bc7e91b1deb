"""Audit benchmark: full audit vs. just reading the same files with ``csv``, same run.

    python bench/audit.py [--rows 1000000] [--repeat 3] [--seed 7] [--keep DIR] [--json]

Generates a synthetic seller (deterministic seed) in a temporary folder: an inventory
ledger of ``--rows`` rows (shipments, receipts, customer returns, transfers and
adjustments in realistic proportions, with losses, damages, found units), the matching
reimbursements (full, partial and missing payments, reversals) and customer returns
(some damaged, some never restocked). Then, each in a fresh subprocess, alternately:

* **raw**: read every file with ``csv.reader`` and touch each row (the baseline);
* **audit**: the full audit as ``sellerops audit --json`` runs it (parse → dedupe → all
  detectors → claims → the JSON document), minus printing it.

Each phase reports its wall and CPU time (work only, after imports) and its peak RSS (the
subprocess's own ``ru_maxrss``). The best of ``--repeat`` runs is compared; results are
recorded in docs/PERFORMANCE.md ("Audit"). Targets
(issue 4): audit ≤ 2× raw, peak RSS < 1 GiB, far inside Lambda's 15 minutes.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LEDGER_HEADER = [
    "Date", "FNSKU", "ASIN", "MSKU", "Title", "Event Type", "Reference ID", "Quantity",
    "Fulfillment Center", "Disposition", "Reason", "Country", "Reconciled Quantity",
    "Unreconciled Quantity", "Date and Time",
]
REIMBURSEMENT_HEADER = [
    "approval-date", "reimbursement-id", "case-id", "amazon-order-id", "reason", "sku",
    "fnsku", "asin", "product-name", "condition", "currency-unit", "amount-per-unit",
    "amount-total", "quantity-reimbursed-cash", "quantity-reimbursed-inventory",
    "quantity-reimbursed-total", "original-reimbursement-id", "original-reimbursement-type",
]
RETURNS_HEADER = [
    "return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity",
    "fulfillment-center-id", "detailed-disposition", "reason", "status",
    "license-plate-number", "customer-comments",
]
AS_OF = date(2025, 11, 20)
FCS = ["PHX7", "ONT8", "LGB8", "SBD1", "TEB9", "MDW2", "BFI4", "DFW7"]
DAMAGE_CODES = ["6", "7", "E", "H", "K", "U"]


def generate(folder: Path, rows: int, seed: int) -> dict[str, int]:
    """Write ledger.tsv, reimbursements.tsv, returns.tsv, costs.csv into ``folder``.

    The ledger is chronological, as Amazon delivers it: found units (F) land days after
    their loss, and a few inbound shipments are received at a time.
    """
    rng = random.Random(seed)
    skus = max(200, rows // 500)
    catalog = [(f"X00{n:07d}", f"B0{n:08d}", f"SKU-{n:05d}", f"Product number {n} blue")
               for n in range(skus)]
    cost = {sku: rng.randint(150, 1500) for _f, _a, sku, _t in catalog}  # cents
    start = datetime(2024, 5, 1, 8, tzinfo=UTC)
    span = (datetime(2025, 11, 18, tzinfo=UTC) - start).total_seconds()
    step = span / rows
    reimbursements: list[str] = []
    returns: list[str] = []
    next_id = iter(range(7_000_000_000, 9_000_000_000))
    order_seq = iter(range(10**6, 10**7))
    shipments = [f"FBA{rng.randrange(10**8):08d}" for _ in range(4)]
    later: list[tuple[datetime, int, str, tuple[str, str, str, str]]] = []  # heap: F rows

    def order_id() -> str:
        n = next(order_seq)
        return f"113-{n:07d}-{(n * 7919) % 10**7:07d}"

    def reimburse(when: datetime, reason: str, item: tuple[str, str, str, str], qty: int,
                  order: str = "") -> str:
        rid = str(next(next_id))
        # Most payments are at the seller's manufacturing cost (set in the IDR portal);
        # some at Amazon's own estimate, often lower. Customer returns at a sale value.
        unit = cost[item[2]] if rng.random() < 0.8 else int(cost[item[2]] * rng.uniform(0.6, 1.1))
        if reason == "CustomerReturn":
            unit = int(cost[item[2]] * rng.uniform(1.8, 2.6))
        reimbursements.append("\t".join([
            when.isoformat(), rid, "", order, reason, item[2], item[0], item[1], item[3],
            "New", "USD", f"{unit / 100:.2f}", f"{unit * qty / 100:.2f}", str(qty), "0",
            str(qty), "", ""]))
        return rid

    def stamp(when: datetime) -> tuple[str, str]:
        local = when.astimezone(_PDT)
        return (f"{local.month:02d}/{local.day:02d}/{local.year}",
                local.isoformat(timespec="seconds"))

    with (folder / "ledger.tsv").open("w", encoding="utf-8", newline="") as out:
        out.write("\t".join(LEDGER_HEADER) + "\n")
        write = out.write
        written = 0
        tick = 0
        while written < rows:
            tick += 1
            when = start + timedelta(seconds=tick * step * 0.97)
            while later and later[0][0] <= when and written < rows:
                f_when, _n, reference, item = heapq.heappop(later)
                day, ts = stamp(f_when)
                write(f"{day}\t{item[0]}\t{item[1]}\t{item[2]}\t{item[3]}\tAdjustments\t"
                      f"{reference}\t1\tPHX7\tSELLABLE\tF\tUS\t1\t0\t{ts}\n")
                written += 1
            item = catalog[int(rng.paretovariate(1.2)) % skus]
            fnsku, asin, sku, title = item
            day, ts = stamp(when)
            fc = FCS[rng.randrange(len(FCS))]
            roll = rng.random()
            ref = str(rng.randrange(10**9, 10**10))
            lines: list[tuple[str, ...]] = []
            if roll < 0.72:
                lines.append(("Shipments", ref, "-1", fc, "SELLABLE", "", "", ""))
            elif roll < 0.80:
                if rng.random() < 0.002:
                    shipments[rng.randrange(len(shipments))] = f"FBA{rng.randrange(10**8):08d}"
                lines.append(("Receipts", rng.choice(shipments),
                              str(rng.choice((1, 2, 6, 12, 24))), fc, "SELLABLE", "", "", ""))
            elif roll < 0.86:
                order = order_id()
                disposition = rng.choice(("SELLABLE", "SELLABLE", "CUSTOMER_DAMAGED", "DEFECTIVE"))
                lines.append(("CustomerReturns", order, "1", fc, disposition, "", "", ""))
                damaged = rng.random() < 0.05
                returns.append("\t".join([
                    when.isoformat(), order, sku, asin, fnsku, title, "1", fc,
                    "CARRIER_DAMAGED" if damaged else disposition, "UNWANTED_ITEM",
                    "Unit returned to inventory", f"LPN{rng.randrange(10**9):09d}", ""]))
                if damaged and rng.random() < 0.6:
                    reimburse(when + timedelta(days=rng.randint(3, 20)), "CustomerReturn", item,
                              1, order)
            elif roll < 0.92:
                lines.append(("WhseTransfers", ref, rng.choice(("-1", "1")), fc, "SELLABLE",
                              "", "", ""))
            else:
                kind = rng.random()
                qty = rng.choice((1, 1, 1, 2, 3))
                if kind < 0.15:  # lost: paid in full, in part or not at all; some found
                    paid = rng.choice((0, qty, qty, qty, max(qty - 1, 0)))
                    found = 1 if rng.random() < 0.15 else 0
                    unreconciled = max(qty - paid - found, 0)
                    lines.append(("Adjustments", ref, str(-qty), fc, "SELLABLE",
                                  rng.choice(("M", "5")), str(qty - unreconciled),
                                  str(unreconciled)))
                    if paid:
                        rid = reimburse(when + timedelta(days=rng.randint(1, 30)),
                                        "Lost_Warehouse", item, paid)
                        if rng.random() < 0.05:  # taken back, sometimes without a found unit
                            back = when + timedelta(days=rng.randint(31, 50))
                            reimbursements.append("\t".join([
                                back.isoformat(), str(next(next_id)), "", "",
                                "Reimbursement_Reversal", sku, fnsku, asin, title, "New",
                                "USD", "-4.10", "-4.10", "-1", "0", "-1", rid,
                                "Lost_Warehouse"]))
                    if found:
                        heapq.heappush(later, (
                            when + timedelta(days=rng.randint(1, 20)), tick,
                            str(rng.randrange(10**9, 10**10)), item))
                elif kind < 0.30:  # damaged, with its P pair
                    paid = rng.choice((0, qty, qty, qty))
                    lines.append(("Adjustments", ref, str(-qty), fc, "SELLABLE",
                                  rng.choice(DAMAGE_CODES), str(paid), str(qty - paid)))
                    lines.append(("Adjustments", str(int(ref) + 1), str(qty), fc,
                                  "WAREHOUSE_DAMAGED", "P", "", ""))
                    if paid:
                        reimburse(when + timedelta(days=rng.randint(1, 30)),
                                  "Damaged_Warehouse", item, paid)
                elif kind < 0.75:  # disposition changes Q/P
                    lines.append(("Adjustments", ref, str(-qty), fc, "SELLABLE", "Q", "", ""))
                    lines.append(("Adjustments", str(int(ref) + 1), str(qty), fc,
                                  "CUSTOMER_DAMAGED", "P", "", ""))
                else:  # disposals, corrections
                    lines.append(("Adjustments", ref, str(-qty), fc, "UNSELLABLE",
                                  rng.choice(("D", "G", "O")), "", ""))
            for event, reference, quantity, center, disposition, reason, rec, unrec in lines:
                if written >= rows:
                    break
                write(f"{day}\t{fnsku}\t{asin}\t{sku}\t{title}\t{event}\t{reference}\t"
                      f"{quantity}\t{center}\t{disposition}\t{reason}\tUS\t{rec}\t{unrec}\t"
                      f"{ts}\n")
                written += 1
    # Returns the ledger never took back into inventory.
    for _ in range(max(1, len(returns) // 100)):
        item = catalog[rng.randrange(skus)]
        when = start + timedelta(seconds=rng.randrange(int(span) - 30 * 86400))
        returns.append("\t".join([
            when.isoformat(), order_id(), item[2], item[1], item[0], item[3], "1", "PHX7",
            "SELLABLE", "UNWANTED_ITEM", "Unit returned to inventory",
            f"LPN{rng.randrange(10**9):09d}", ""]))
    reimbursements.sort()  # by approval date, as Amazon lists them
    returns.sort()
    with (folder / "reimbursements.tsv").open("w", encoding="utf-8", newline="") as out:
        out.write("\t".join(REIMBURSEMENT_HEADER) + "\n")
        out.writelines(line + "\n" for line in reimbursements)
    with (folder / "returns.tsv").open("w", encoding="utf-8", newline="") as out:
        out.write("\t".join(RETURNS_HEADER) + "\n")
        out.writelines(line + "\n" for line in returns)
    with (folder / "costs.csv").open("w", encoding="utf-8", newline="") as out:
        out.write("sku,unit_cost,currency\n")
        out.writelines(f"{sku},{cost[sku] / 100:.2f},USD\n" for _f, _a, sku, _t in catalog)
    return {"ledger": rows, "reimbursements": len(reimbursements), "returns": len(returns),
            "skus": skus}


_PDT = timezone(timedelta(hours=-7))


# -- phases (run in a subprocess each) --------------------------------------------------
def phase_raw(folder: Path) -> dict[str, float]:
    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    for path in sorted(folder.iterdir()):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            delimiter = "," if path.suffix == ".csv" else "\t"
            for _row in csv.reader(handle, delimiter=delimiter):
                rows += 1
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "rows": rows}


def phase_audit(folder: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from functions.audit.logic.audit import audit_directory

    started, cpu = time.perf_counter(), time.process_time()
    result = audit_directory(folder, as_of=AS_OF)
    document = json.dumps(result.to_dict())  # what `sellerops audit --json` prints
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "cpu": time.process_time() - cpu,
            "claims": len(result.claims), "errors": len(result.errors),
            "open": result.totals()["open"]["count"],
            "value_usd": result.totals()["open"]["by_currency"].get("USD", "0"),
            "output_bytes": len(document)}


def run_phase(name: str, folder: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--dir", str(folder)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="ledger rows (1000000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase, best kept (3)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (7)")
    parser.add_argument("--keep", metavar="DIR", help="write the files here and keep them")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--phase", choices=("raw", "audit"), help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        result = (phase_raw if args.phase == "raw" else phase_audit)(Path(args.dir))
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory(prefix="sellerops-bench-audit-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        counts = generate(folder, args.rows, args.seed)
        generated = time.perf_counter() - started
        size = sum(p.stat().st_size for p in folder.iterdir())
        runs: dict[str, list[dict[str, float]]] = {"raw": [], "audit": []}
        for _ in range(args.repeat):
            for name in ("raw", "audit"):
                runs[name].append(run_phase(name, folder))
    best = {name: min(results, key=lambda r: r["seconds"]) for name, results in runs.items()}
    ratio = best["audit"]["seconds"] / best["raw"]["seconds"]
    cpu = {name: min(r["cpu"] for r in results) for name, results in runs.items()}
    cpu_ratio = cpu["audit"] / cpu["raw"]
    report = {
        "rows": counts, "bytes": size, "generate_seconds": round(generated, 2),
        "raw_seconds": round(best["raw"]["seconds"], 3),
        "audit_seconds": round(best["audit"]["seconds"], 3),
        "ratio": round(ratio, 2),
        "raw_cpu_seconds": round(cpu["raw"], 3), "audit_cpu_seconds": round(cpu["audit"], 3),
        "cpu_ratio": round(cpu_ratio, 2),
        "raw_peak_rss_mib": round(max(r["peak_rss_mib"] for r in runs["raw"]), 1),
        "audit_peak_rss_mib": round(max(r["peak_rss_mib"] for r in runs["audit"]), 1),
        "claims": best["audit"]["claims"], "open_claims": best["audit"]["open"],
        "errors": best["audit"]["errors"],
        "all_runs": {k: [round(r["seconds"], 3) for r in v] for k, v in runs.items()},
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU, "
                   f"Python {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"synthetic seller: {counts['ledger']:,} ledger rows, {counts['reimbursements']:,} "
          f"reimbursements, {counts['returns']:,} returns, {counts['skus']:,} SKUs "
          f"({size / 2**20:.0f} MiB, generated in {generated:.1f} s)")
    print(f"raw csv read : {report['raw_seconds']:7.3f} s (CPU {cpu['raw']:.3f} s)   peak RSS "
          f"{report['raw_peak_rss_mib']:7.1f} MiB")
    print(f"full audit   : {report['audit_seconds']:7.3f} s (CPU {cpu['audit']:.3f} s)   peak RSS "
          f"{report['audit_peak_rss_mib']:7.1f} MiB   ({report['claims']:,} claims, "
          f"{report['open_claims']:,} open, {report['errors']} errors)")
    print(f"ratio audit/raw: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU (target <= 2x); "
          f"peak RSS target < 1024 MiB; Lambda limit 900 s")
    print(f"runs (s): raw {report['all_runs']['raw']}, audit {report['all_runs']['audit']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
