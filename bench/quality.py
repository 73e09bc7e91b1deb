"""Repricing quality: our Buy Box strategy vs. a naive undercutter vs. no repricing.

    python bench/quality.py [--seeds 5] [--days 14] [--skus 20] [--mixes calm,aggressive,amazon]
                            [--param NAME=VALUE ...] [--jobs N] [--json]

Every (competitor mix, seed) market of :mod:`infra.simulator.market` is run three times
from the same seed, so every run sees the same ASINs, competitors and outside events
(manual re-prices, stock-outs, threshold walks, Buy Box draws); only the reactions to our
price differ:

1. **ours** — the real strategy engine, in-process and without AWS: each hour, every ASIN
   whose offers (or competitive price threshold) changed, or whose price we changed the
   hour before, becomes the ``ANY_OFFER_CHANGED`` notification Amazon would send
   (``infra.simulator.notifications.any_offer_changed``, serialised to JSON), fed through
   :class:`functions.reprice.replay.Replay` — the ``sellerops reprice replay`` path:
   parsing, matching, ``market_view``, ``decide`` (Buy Box rules + guardrails) with the
   ``RepricingState`` carried per SKU; a ``change`` becomes our live price at once. A
   SKU that heard nothing for 6 hours (and, at the start, every SKU) is decided on the
   current market too, as ReconcileFunction does (``RECONCILE_AFTER_MINUTES`` = 360);
2. **naive** — every hour, the lowest other featured in-stock landed price − 0.01,
   clamped to [min, max] (the demo's baseline);
3. **none** — our starting price (1.05 × reference) all along.

Hour order (as in ``sellerops demo``): bots move and thresholds walk, the repricer reacts,
shoppers buy. Listing configuration as in the demo: FBA, ``buybox``, min = 0.85 ×,
max = 1.30 × reference, cost floor = cost × 1.15, engine defaults otherwise.

Printed per mix × seed: revenue, margin over cost, Buy Box share (expected share of page
views), average price / max price for each run, and ours/naive ratios of revenue and Buy
Box share; then per mix the mean and the worst case, and the overall worst case. The
target (issue #5): revenue ≥ 1.15 × naive with ≥ 90 % of its Buy Box share. Any price
outside [min, max] in any run is reported and makes the exit code 1.
The market's parameters and the facts behind them: infra/simulator/parameters.py;
results: docs/PERFORMANCE.md, "Repricing quality".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from functions.reprice.logic.listing_config import ListingConfig  # noqa: E402
from functions.reprice.replay import Replay  # noqa: E402
from infra.simulator.market import CENT, Market, Product, Tally, cents  # noqa: E402
from infra.simulator.notifications import any_offer_changed, dumps  # noqa: E402
from infra.simulator.parameters import DEFAULT, MarketParameters  # noqa: E402

SELLER = "A01SIMSELLER"
MARKETPLACE_ID = "A1PA6795UKMFR9"  # amazon.de
CURRENCY = "EUR"
START = datetime(2026, 1, 5, tzinfo=UTC)
MODES = ("ours", "naive", "none")
DEFAULT_MIXES = ("calm", "aggressive", "amazon")
RECONCILE_AFTER_HOURS = 6  # ReconcileFunction's RECONCILE_AFTER_MINUTES default (360)
REVENUE_TARGET = 1.15
SHARE_TARGET = 0.90


def summary(tally: Tally) -> dict[str, Any]:
    """One run's figures as printed and written by ``--json``."""
    return {
        "revenue": float(cents(tally.revenue)),
        "margin": float(cents(tally.margin)),
        "buy_box_share": round(float(tally.buy_box_hours / tally.product_hours), 4),
        "price_vs_max": round(float(tally.price_sum / tally.max_sum), 4),
        "price_changes": tally.price_changes,
        "suppressed_share": round(tally.suppressed_hours / tally.product_hours, 4),
        "out_of_bounds": tally.out_of_bounds,
    }


def listing_config(product: Product) -> ListingConfig:
    return ListingConfig(
        sku=product.sku, asin=product.asin, marketplace_id=MARKETPLACE_ID, condition="new",
        fulfillment="FBA", strategy="buybox", currency=CURRENCY, seller_id=product.seller_id,
        min_price=product.min_price, max_price=product.max_price,
        cost_floor=cents(product.cost * Decimal("1.15")),
    )


class OurRepricer:
    """The real engine through the replay path, one notification per changed ASIN."""

    def __init__(self, market: Market) -> None:
        self.replay = Replay([listing_config(p) for p in market.products])
        self.line = 0
        self.ours_changed: set[str] = set()
        self.heard: dict[str, int] = {}  # ASIN → the hour it last heard of its market

    def react(self, market: Market, changed: set[str], tally: Tally) -> None:
        ours_before, self.ours_changed = self.ours_changed, set()
        asins = changed | ours_before
        now = START + timedelta(hours=market.hour, seconds=1)
        for product in market.products:
            heard = self.heard.get(product.asin)
            due = heard is None or market.hour - heard >= RECONCILE_AFTER_HOURS
            if product.asin not in asins and not due:
                continue
            self.heard[product.asin] = market.hour
            self.line += 1
            # only the off-Amazon threshold moved: Amazon says OfferChangeType External
            external = product.asin in market.external and product.asin not in ours_before
            body = any_offer_changed(
                product, marketplace_id=MARKETPLACE_ID, currency=CURRENCY, at=now,
                change_type="External" if external else "Internal",
                notification_id=f"q-{market.seed}-{self.line:08d}",
            )
            for row in self.replay.process(self.line, dumps(body)):
                if row.action == "error":
                    raise RuntimeError(f"{product.sku}: {row.reason}")
                if row.action == "change" and row.new_price is not None:
                    product.ours.price = Decimal(row.new_price)
                    self.ours_changed.add(product.asin)
                    tally.price_changes += 1


def naive(market: Market, tally: Tally) -> None:
    """Beat the lowest other featured in-stock landed price by 0.01, within [min, max]."""
    for product in market.products:
        others = [o.landed for o in product.offers()
                  if o is not product.ours and o.in_stock and o.featured]
        target = min(others) - CENT - product.ours.shipping if others else product.max_price
        price = min(product.max_price, max(product.min_price, target))
        if price != product.ours.price:
            product.ours.price = price
            tally.price_changes += 1


def run(mode: str, mix: str, seed: int, days: int, skus: int,
        parameters: MarketParameters = DEFAULT) -> Tally:
    market = Market(seed, [SELLER], skus, CURRENCY, mix=mix, parameters=parameters)
    tally = Tally()
    ours = OurRepricer(market) if mode == "ours" else None
    for _ in range(days * 24):
        changed = market.move_bots()
        if ours is not None:
            ours.react(market, changed, tally)
        elif mode == "naive":
            naive(market, tally)
        tally.add_hour(market, market.sell(changed))
    return tally


def run_case(args: tuple[str, int, int, int, dict[str, str]]) -> dict[str, Any]:
    mix, seed, days, skus, overrides = args
    parameters = DEFAULT.replace(**overrides)
    result: dict[str, Any] = {"mix": mix, "seed": seed}
    for mode in MODES:
        result[mode] = summary(run(mode, mix, seed, days, skus, parameters))
    ours, base = result["ours"], result["naive"]
    result["revenue_ratio"] = round(ours["revenue"] / base["revenue"], 4) if base["revenue"] \
        else None
    result["margin_ratio"] = round(ours["margin"] / base["margin"], 4) if base["margin"] else None
    result["buy_box_ratio"] = round(ours["buy_box_share"] / base["buy_box_share"], 4) \
        if base["buy_box_share"] else None
    result["meets_target"] = bool(
        result["revenue_ratio"] is not None and result["revenue_ratio"] >= REVENUE_TARGET
        and (result["buy_box_ratio"] is None or result["buy_box_ratio"] >= SHARE_TARGET)
    )
    return result


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def stats(group: list[dict[str, Any]]) -> dict[str, Any]:
        rev = [r["revenue_ratio"] for r in group if r["revenue_ratio"] is not None]
        bb = [r["buy_box_ratio"] for r in group if r["buy_box_ratio"] is not None]
        margin = [r["margin_ratio"] for r in group if r["margin_ratio"] is not None]
        worst = min(group, key=lambda r: r["revenue_ratio"] or 0)
        worst_bb = min(group, key=lambda r: r["buy_box_ratio"] or 0)
        return {
            "runs": len(group),
            "revenue_ratio_mean": round(sum(rev) / len(rev), 4) if rev else None,
            "revenue_ratio_worst": min(rev) if rev else None,
            "worst_revenue_case": f"{worst['mix']} seed {worst['seed']}",
            "margin_ratio_mean": round(sum(margin) / len(margin), 4) if margin else None,
            "buy_box_ratio_mean": round(sum(bb) / len(bb), 4) if bb else None,
            "buy_box_ratio_worst": min(bb) if bb else None,
            "worst_buy_box_case": f"{worst_bb['mix']} seed {worst_bb['seed']}",
            "meeting_target": sum(1 for r in group if r["meets_target"]),
            "out_of_bounds": sum(r[m]["out_of_bounds"] for r in group for m in MODES),
        }

    mixes = sorted({r["mix"] for r in rows}, key=[r["mix"] for r in rows].index)
    return {"per_mix": {m: stats([r for r in rows if r["mix"] == m]) for m in mixes},
            "overall": stats(rows)}


def format_table(rows: list[dict[str, Any]], totals: dict[str, Any]) -> str:
    head = (f"{'mix':<11}{'seed':>5}  {'mode':<6}{'revenue':>11}{'margin':>11}{'bb share':>9}"
            f"{'p/max':>7}{'changes':>8}{'suppr':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        for mode in MODES:
            s = r[mode]
            lines.append(
                f"{r['mix']:<11}{r['seed']:>5}  {mode:<6}{s['revenue']:>11.2f}"
                f"{s['margin']:>11.2f}{s['buy_box_share']:>9.3f}{s['price_vs_max']:>7.3f}"
                f"{s['price_changes']:>8}{s['suppressed_share']:>7.3f}"
            )
        mark = "ok" if r["meets_target"] else "MISS"
        lines.append(
            f"{'':<16} ours/naive: revenue {r['revenue_ratio']:.3f}x, margin "
            f"{r['margin_ratio']:.3f}x, Buy Box share {r['buy_box_ratio']:.3f}x  [{mark}]"
        )
    lines.append("")
    lines.append(f"{'mix':<11}{'runs':>5}{'rev mean':>10}{'rev worst':>10}{'bb mean':>9}"
                 f"{'bb worst':>9}{'margin':>8}{'target':>8}  worst revenue case")
    for name, s in [*totals["per_mix"].items(), ("ALL", totals["overall"])]:
        lines.append(
            f"{name:<11}{s['runs']:>5}{s['revenue_ratio_mean']:>10.3f}"
            f"{s['revenue_ratio_worst']:>10.3f}{s['buy_box_ratio_mean']:>9.3f}"
            f"{s['buy_box_ratio_worst']:>9.3f}{s['margin_ratio_mean']:>8.3f}"
            f"{s['meeting_target']:>5}/{s['runs']:<2}  {s['worst_revenue_case']}"
        )
    lines.append(f"target: revenue >= {REVENUE_TARGET}x naive with Buy Box share >= "
                 f"{SHARE_TARGET:.0%} of naive's; prices outside [min, max]: "
                 f"{totals['overall']['out_of_bounds']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--skus", type=int, default=20)
    parser.add_argument("--mixes", default=",".join(DEFAULT_MIXES))
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a market parameter (infra/simulator/parameters.py)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    overrides = dict(p.split("=", 1) for p in args.param)
    DEFAULT.replace(**overrides)  # fail early on a bad name
    mixes = [m.strip() for m in args.mixes.split(",") if m.strip()]
    cases = [(mix, seed, args.days, args.skus, overrides) for mix in mixes
             for seed in range(args.first_seed, args.first_seed + args.seeds)]
    started = time.monotonic()
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(run_case, cases))
    else:
        rows = [run_case(c) for c in cases]
    totals = aggregate(rows)
    elapsed = time.monotonic() - started
    if args.json:
        print(json.dumps({
            "days": args.days, "skus": args.skus, "seeds": args.seeds, "mixes": mixes,
            "parameters": asdict(DEFAULT.replace(**overrides)), "rows": rows,
            "summary": totals, "elapsed_seconds": round(elapsed, 1),
        }, indent=1))
    else:
        print(f"{len(cases)} markets x 3 runs, {args.skus} SKUs x {args.days} days each "
              f"({elapsed:.0f} s)")
        print(format_table(rows, totals))
    return 1 if totals["overall"]["out_of_bounds"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
