"""``sellerops demo``: the whole product on the local stack against a simulated market.

1. The simulated Amazon (fake SP-API on 127.0.0.1) and a seeded market of ASINs with
   competitor bots; each seller's catalogue is listed there.
2. The local stack (template.yaml provisioned in moto); the sellers' SP-API consent goes
   to Secrets Manager; every function runs in-process through its real handler.
3. Each seller signs up through the API (``PUT /accounts/me``), connects
   (``POST /sellers/me/connect`` → notification subscriptions and the first listings sync
   through the Reports API), leaves dry run and uploads its strategies as a Listings CSV
   (``POST /listings/import``).
   Each seller also uploads its unit costs (``PUT /sellers/me/costs``), and the fake
   Amazon holds its FBA history (:mod:`infra.simulator.fulfilment`: reports with planted
   errors, settlements, inbound shipments).
4. Compressed time, hour by hour: bots move, every offer change becomes an
   ``ANY_OFFER_CHANGED`` notification (and, for the SKUs with a business price, a
   ``B2B_ANY_OFFER_CHANGED``) on the price-notifications queue, the schedules fire,
   queues drain (reprice → FIFO → publisher → SP-API), shoppers buy from whoever holds
   the Buy Box at the prices Amazon shows; their orders (whole units of the market's
   fractional sales) reach the stack as ``ORDER_CHANGE`` notifications and the
   fulfilment's ledger.
5. After the last hour the clock runs on to the next 03:00: the daily Lost & Found
   schedule fires (AuditSchedulerFunction → audit-jobs queue → AuditFunction → Reports
   API, Inbound API → Claims table); the claims found are read from the Claims table.
6. The same seeded market replayed with a naive "beat the lowest by 0.01 down to min"
   repricer gives the baseline revenue.

The sellers are split over worker processes (``--workers``; :func:`run_demo`), each running
steps 1–5 for its sellers on its own local stack; their results are added up
(:func:`combine`), which gives the one-process result (docs/SIMULATOR.md, "Workers").

Progress goes to stderr; stdout gets the summary (or, with ``--json``, one JSON document).
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from infra.simulator.fulfilment import Order, SellerFulfilment, fulfilment_for
from infra.simulator.market import CENT, HourResult, Market, Product, Tally, cents
from infra.simulator.notifications import (
    any_offer_changed,
    b2b_any_offer_changed,
    dumps,
    order_change,
)
from infra.simulator.recorder import NotificationRecorder

MARKETPLACE_ID = "A1PA6795UKMFR9"  # amazon.de
CURRENCY = "EUR"
START = datetime(2026, 1, 5, tzinfo=UTC)
LANGUAGES = ("de", "en", "fr", "it", "es")
COUNTRIES = {"de": "DE", "en": "GB", "fr": "FR", "it": "IT", "es": "ES"}
CHARTED = 6  # products with a price chart in the report
B2B_EVERY = 5  # every 5th SKU of a seller has a business price (Amazon Business)
B2B_DISCOUNT = "3%"
BOT_BUSINESS_DISCOUNT = Decimal("0.98")  # FBA competitors' business price vs. their B2C


@dataclass
class DemoResult:
    seed: int
    days: int
    sellers: int
    skus: int
    ours: Tally = field(default_factory=Tally)
    baseline: Tally = field(default_factory=Tally)
    price_changes: int = 0
    notifications_sent: int = 0
    notifications_by_type: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    units_ordered: int = 0
    orders_counted: int = 0
    claims_count: int = 0
    claims_value: Decimal = Decimal(0)
    claims_by_category: dict[str, int] = field(default_factory=dict)
    claims_planted: dict[str, int] = field(default_factory=dict)
    recorded: str | None = None
    api_calls: int = 0
    throttled: int = 0
    accounts: list[dict[str, Any]] = field(default_factory=list)
    series: dict[str, list[tuple[int, str, str | None]]] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self, report: Path) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "days": self.days,
            "sellers": self.sellers,
            "skus": self.skus,
            "currency": CURRENCY,
            "buy_box_share": float(self.ours.buy_box_share),
            "baseline_buy_box_share": float(self.baseline.buy_box_share),
            "revenue": str(cents(self.ours.revenue)),
            "baseline_revenue": str(cents(self.baseline.revenue)),
            "margin": str(cents(self.ours.margin)),
            "baseline_margin": str(cents(self.baseline.margin)),
            "average_price_vs_max": _ratio(self.ours.price_sum, self.ours.max_sum),
            "price_changes": self.price_changes,
            "prices_out_of_bounds": self.ours.out_of_bounds,
            "notifications": self.notifications_sent,
            "notifications_by_type": dict(sorted(self.notifications_by_type.items())),
            "orders": self.orders,
            "units_ordered": self.units_ordered,
            "orders_counted": self.orders_counted,
            "api_calls": self.api_calls,
            "throttled": self.throttled,
            "claims": {
                "count": self.claims_count,
                "value": str(cents(self.claims_value)),
                "by_category": dict(sorted(self.claims_by_category.items())),
            },
            "claims_planted": dict(sorted(self.claims_planted.items())),
            # The notification center joins the demo with its issue.
            "notifications_by_language": {},
            "recorded": self.recorded,
            "accounts": self.accounts,
            "elapsed_seconds": round(self.seconds, 1),
            "report": str(report),
        }


def _ratio(a: Decimal, b: Decimal) -> float:
    return float((a / b).quantize(Decimal("0.0001"))) if b else 0.0


class Progress:
    """A one-line progress bar on stderr (silent when stderr is not a terminal)."""

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total, self.stream, self.enabled = total, stream, enabled
        self.started = time.monotonic()

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(self.total, 1))
        elapsed = time.monotonic() - self.started
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} h "
            f"{elapsed:5.1f}s {note:<40}"
        )
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def seller_ids(count: int) -> list[str]:
    return [f"A{index + 1:02d}SIMSELLER" for index in range(count)]


def b2b_skus(products: list[Product]) -> set[tuple[str, str]]:
    """(seller, SKU) of the products with a business price: every 5th SKU of a seller."""
    found: set[tuple[str, str]] = set()
    index: dict[str, int] = {}
    for p in products:
        n = index.get(p.seller_id, 0)
        index[p.seller_id] = n + 1
        if n % B2B_EVERY == 0:
            found.add((p.seller_id, p.sku))
    return found


def listings_csv(products: list[Product], b2b: set[tuple[str, str]] | None = None) -> str:
    """The sellers' strategies in the Listings CSV format of DESIGN.md §3 (with
    ``seller_id``, so one file can hold every seller: replay reads it too)."""
    b2b = b2b_skus(products) if b2b is None else b2b
    lines = ["seller_id,sku,asin,marketplace_id,condition,fulfillment,strategy,min_price,"
             "max_price,currency,cost_floor,b2b_discount"]
    for p in products:
        discount = B2B_DISCOUNT if (p.seller_id, p.sku) in b2b else ""
        lines.append(
            f"{p.seller_id},{p.sku},{p.asin},{MARKETPLACE_ID},new,FBA,buybox,{p.min_price},"
            f"{p.max_price},{CURRENCY},{cents(p.cost * Decimal('1.15'))},{discount}"
        )
    return "\n".join(lines) + "\n"


def merchant_listings_report(products: list[Product]) -> str:
    """``GET_MERCHANT_LISTINGS_ALL_DATA`` as Amazon writes it (tab-separated)."""
    header = [
        "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity",
        "open-date", "image-url", "item-is-marketplace", "product-id-type",
        "zshop-shipping-fee", "item-note", "item-condition", "zshop-category1",
        "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2", "asin3",
        "will-ship-internationally", "expedited-shipping", "zshop-boldface", "product-id",
        "bid-for-featured-placement", "add-delete", "pending-quantity", "fulfillment-channel",
        "merchant-shipping-group", "status",
    ]
    rows = ["\t".join(header)]
    for i, p in enumerate(products):
        values = {
            "item-name": f"Simulated product {p.asin}", "listing-id": f"0105{i:08d}",
            "seller-sku": p.sku, "price": str(p.ours.price), "quantity": "",
            "open-date": "2025-03-01 10:00:00 MET", "item-is-marketplace": "y",
            "product-id-type": "1", "item-condition": "11", "asin1": p.asin,
            "product-id": p.asin, "fulfillment-channel": "AMAZON_EU", "status": "Active",
        }
        rows.append("\t".join(values.get(name, "") for name in header))
    return "\n".join(rows) + "\n"


def _fake_price(amazon: Any, product: Product) -> Decimal | None:
    """Our live price on the fake Amazon (what shoppers see)."""
    listing = amazon.api.listing(product.seller_id, product.sku)
    offers = (listing.get("attributes") or {}).get("purchasable_offer") or []
    for offer in offers:
        if offer.get("audience", "ALL") != "ALL":
            continue
        for price in offer.get("our_price") or []:
            for entry in price.get("schedule") or []:
                value = entry.get("value_with_tax")
                if value is not None:
                    return Decimal(str(value))
    return None


def run_baseline(seed: int, sellers: list[str], skus: int, hours: int) -> Tally:
    """The naive undercutter on the same seeded market: lowest other landed − 0.01, ≥ min."""
    market = Market(seed, sellers, skus, CURRENCY)
    tally = Tally()
    for _ in range(hours):
        changed = market.move_bots()
        for product in market.products:
            others = [
                o.landed for o in product.offers()
                if o is not product.ours and o.in_stock and o.featured
            ]
            target = min(others) - CENT if others else product.max_price
            product.ours.price = min(product.max_price, max(product.min_price, target))
        tally.add_hour(market, market.sell(changed))
    return tally


def chart_label(product: Product) -> str:
    return f"{product.seller_id} {product.sku}"


def charted(market: Market) -> list[str]:
    """The products the report charts (the first :data:`CHARTED` of the whole run)."""
    return [chart_label(p) for p in market.products[:CHARTED]]


class Demo:
    """One local stack and one simulated Amazon running the sellers of shard ``shard`` of
    ``shards`` (every ``shards``-th seller; all of them by default). Each seller's market,
    fulfilment and notifications are its own, so the shards' results add up to the
    result of one run of all sellers."""

    def __init__(
        self, seed: int, sellers: int, skus: int, days: int, log: TextIO,
        record: str | Path | None = None, *, shard: int = 0, shards: int = 1,
    ) -> None:
        self.result = DemoResult(seed=seed, days=days, sellers=sellers, skus=skus)
        self.all_sellers = seller_ids(sellers)
        self.seller_ids = self.all_sellers[shard::shards]
        self.market = Market(seed, self.all_sellers, skus, CURRENCY)
        self.charted = set(charted(self.market))
        self.market.keep_sellers(self.seller_ids)
        self.b2b = b2b_skus(self.market.products)
        self.fulfilment: dict[str, SellerFulfilment] = fulfilment_for(
            self.market.products, seed=seed, start=START, marketplace_id=MARKETPLACE_ID,
            currency=CURRENCY, seller_order=self.all_sellers)
        self.log = log
        self.record = record
        self.recorder = NotificationRecorder(None)
        self.recorded_by_hour: list[int] = []  # lines recorded by the end of each hour
        self.sequences: dict[str, int] = {}  # notifications sent, per seller
        self.our_changes: set[str] = set()  # ASINs whose price we changed in the last hour

    def say(self, message: str) -> None:
        print(message, file=self.log, flush=True)

    def run(self, progress: Progress) -> DemoResult:
        from infra.local import in_process
        from infra.simulator.sandbox import SimulatedAmazon

        started = time.monotonic()
        hours = self.result.days * 24
        self.recorder = NotificationRecorder(self.record)
        if self.record:
            self.result.recorded = str(Path(self.record).resolve())
        with SimulatedAmazon() as amazon, contextlib.redirect_stdout(self.log), self.recorder:
            for product in self.market.products:
                amazon.api.put_listing(
                    product.seller_id, product.sku, marketplace_id=MARKETPLACE_ID,
                    asin=product.asin, attributes=_offer_attributes(product),
                )
            with in_process(
                parameters=amazon.stack_parameters(), handler_stdout=self.log, clock_start=START
            ) as local:
                amazon.store_app_secret(local.stack.aws("secretsmanager"))
                self.onboard(local, amazon)
                # The hours are whole clock hours from the one after onboarding, however
                # long onboarding and each hour's work took in simulated time (handlers'
                # waits move the clock): a run's timeline is the same however its sellers
                # are split over workers.
                now = local.clock.now()
                first = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
                queue_url = local.stack.queue_url("PriceNotificationsQueue")
                sqs = local.stack.aws("sqs")
                for hour in range(hours):
                    # Top of the hour: bots move; every changed offer (theirs, or ours
                    # from the last hour) reaches us as ANY_OFFER_CHANGED; the stack
                    # reacts within the hour; shoppers buy at the prices that then stand.
                    hour_start = first + timedelta(hours=hour)
                    _advance_to(local, hour_start)
                    changed = self.market.move_bots() | self.our_changes
                    self.send_notifications(sqs, queue_url, changed, hour_start, amazon)
                    _advance_to(local, hour_start + timedelta(hours=1))
                    self.sync_prices(amazon)
                    sold = self.market.sell(changed)
                    self.result.ours.add_hour(self.market, sold)
                    # The hour's orders reach the stack (processed with the next hour's
                    # notifications) and the fulfilment's ledger.
                    self.send_orders(sqs, queue_url, hour_start, sold)
                    self.record_series(hour)
                    self.recorded_by_hour.append(self.recorder.lines)
                    progress.update(hour + 1, f"{len(changed)} offers changed")
                self.audit(local)
            self.result.api_calls = amazon.api.api_calls()
            self.result.throttled = amazon.api.throttled()
        progress.done()
        self.result.seconds = time.monotonic() - started
        return self.result

    def onboard(self, local: Any, amazon: Any) -> None:
        """Each seller: consent → account → connect (subscriptions + first sync) → strategies."""
        secrets = local.stack.aws("secretsmanager")
        for index, seller_id in enumerate(self.all_sellers):
            if seller_id not in self.seller_ids:
                continue  # another shard's
            products = [p for p in self.market.products if p.seller_id == seller_id]
            amazon.authorise_seller(secrets, seller_id)
            amazon.api.register_report(
                "GET_MERCHANT_LISTINGS_ALL_DATA", merchant_listings_report(products),
                seller_id=seller_id,
            )
            fulfilment = self.fulfilment[seller_id]
            fulfilment.register(amazon.api)
            token = local.issue_token(seller_id)
            language = LANGUAGES[index % len(LANGUAGES)]
            account = {
                "name": f"Simulated seller {index + 1}", "language": language,
                "country": COUNTRIES[language], "products": ["repricer", "lost_found"],
            }
            _expect(local.request("PUT", "/accounts/me", token=token, json_body=account), 200, 201)
            _expect(local.request(
                "POST", "/sellers/me/connect", token=token,
                json_body={"marketplace_ids": [MARKETPLACE_ID]},
            ), 202)
            local.drain()
            _expect(local.request(
                "POST", "/listings/import", token=token,
                body=listings_csv(products, self.b2b), headers={"Content-Type": "text/csv"},
            ), 200, 201)
            _expect(local.request(
                "PUT", "/sellers/me/costs", token=token, body=fulfilment.costs_csv(),
                headers={"Content-Type": "text/csv"},
            ), 200, 201)
            _expect(local.request(
                "PUT", "/sellers/me/repricer", token=token,
                json_body={"paused": False, "dry_run": False},
            ), 200)
            self.result.accounts.append({"seller_id": seller_id, "language": language})
            self.say(f"seller {seller_id} ({language}) connected, {len(products)} SKUs configured")

    def sync_prices(self, amazon: Any) -> None:
        """Take our live prices from the fake Amazon; a change is an offer change too."""
        self.our_changes = set()
        for product in self.market.products:
            live = _fake_price(amazon, product)
            if live is not None and live != product.ours.price:
                product.ours.price = live
                self.result.price_changes += 1
                self.our_changes.add(product.asin)

    def _next_id(self, seller_id: str) -> str:
        """Unique in the run: the seller's number and its own sequence."""
        sequence = self.sequences[seller_id] = self.sequences.get(seller_id, 0) + 1
        return (f"sim-{self.result.seed}-{self.all_sellers.index(seller_id) + 1:02d}-"
                f"{sequence:07d}")

    def _send(self, sqs: Any, queue_url: str, bodies: list[dict[str, Any]]) -> None:
        """Onto the price-notifications queue (batches of 10), and into the recording."""
        for start in range(0, len(bodies), 10):
            entries = []
            for body in bodies[start:start + 10]:
                text = dumps(body)
                self.recorder.record(text)
                kind = body["NotificationType"]
                self.result.notifications_by_type[kind] = (
                    self.result.notifications_by_type.get(kind, 0) + 1)
                entries.append({"Id": str(len(entries)), "MessageBody": text})
            sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        self.result.notifications_sent = sum(self.sequences.values())

    def business_prices(self, amazon: Any, product: Product) -> dict[str, Decimal]:
        """Business prices on Amazon Business: ours as the repricer set it (else our B2C
        price), FBA competitors' a little under their B2C price; FBM bots sell no B2B."""
        ours = amazon.api.our_price(product.seller_id, product.sku, audience="B2B")
        prices = {product.seller_id: Decimal(str(ours)) if ours is not None
                  else product.ours.price}
        for bot in product.bots:
            if bot.offer.fba:
                prices[bot.offer.seller_id] = cents(bot.offer.price * BOT_BUSINESS_DISCOUNT)
        return prices

    def send_notifications(
        self, sqs: Any, queue_url: str, asins: set[str], now: datetime, amazon: Any = None,
    ) -> None:
        bodies = []
        for product in self.market.products:
            if product.asin not in asins:
                continue
            bodies.append(any_offer_changed(
                product, marketplace_id=MARKETPLACE_ID, currency=CURRENCY,
                at=now + timedelta(seconds=1), notification_id=self._next_id(product.seller_id),
            ))
            if amazon is not None and (product.seller_id, product.sku) in self.b2b:
                # A separate event a moment later (its TimeOfOfferChange is newer).
                bodies.append(b2b_any_offer_changed(
                    product, self.business_prices(amazon, product),
                    marketplace_id=MARKETPLACE_ID, currency=CURRENCY,
                    at=now + timedelta(seconds=2),
                    notification_id=self._next_id(product.seller_id),
                ))
        self._send(sqs, queue_url, bodies)

    def send_orders(
        self, sqs: Any, queue_url: str, hour_start: datetime, sold: HourResult,
    ) -> None:
        """The hour's whole units become orders: one ORDER_CHANGE (Unshipped) each."""
        bodies = []
        for seller_id, fulfilment in self.fulfilment.items():
            units = sold.units_of_seller(seller_id)
            own = {p.sku: units.get(p.sku, Decimal(0)) for p in fulfilment.products}
            orders: list[Order] = fulfilment.record_hour(hour_start, own)
            for order in orders:
                self.result.orders += 1
                self.result.units_ordered += order.quantity
                bodies.append(order_change(
                    seller_id=seller_id, marketplace_id=MARKETPLACE_ID,
                    amazon_order_id=order.amazon_order_id, order_item_id=order.order_item_id,
                    sku=order.sku, quantity=order.quantity, purchased_at=order.purchased_at,
                    at=order.purchased_at + timedelta(minutes=2),
                    notification_id=self._next_id(seller_id),
                ))
        self._send(sqs, queue_url, bodies)

    def audit(self, local: Any) -> None:
        """Run on to the next 03:00: the daily Lost & Found schedule audits every seller
        through the stack; then read the Claims table and count the orders the Repricer
        recorded."""
        now = local.clock.now()
        due = now.replace(hour=3, minute=0, second=0, microsecond=0)
        if due <= now:
            due += timedelta(days=1)
        local.advance(due - now + timedelta(minutes=1))
        local.drain()
        from functions.core.repositories.claims import ClaimRepository

        dynamo = local.stack.aws("dynamodb")
        claims = ClaimRepository(local.stack.table_name("ClaimsTable"), client=dynamo)
        by_category: dict[str, int] = {}
        planted: dict[str, int] = {}
        for seller_id in self.seller_ids:
            token: str | None = None
            while True:
                page = claims.list_for_seller(seller_id, limit=100, next_token=token)
                for claim in page.items:
                    category = str(claim.category)
                    by_category[category] = by_category.get(category, 0) + 1
                    self.result.claims_count += 1
                    if claim.amount is not None:
                        self.result.claims_value += claim.amount.amount
                token = page.next_token
                if not token:
                    break
            for category, count in self.fulfilment[seller_id].expected_claims().items():
                planted[category] = planted.get(category, 0) + count
        self.result.claims_by_category = by_category
        self.result.claims_planted = planted
        self.result.orders_counted = self.count_orders(dynamo, local)
        self.say(f"audit: {self.result.claims_count} claims, {cents(self.result.claims_value)} "
                 f"{CURRENCY} ({by_category}); planted {planted}")

    def count_orders(self, dynamo: Any, local: Any) -> int:
        """ORDER_CHANGE items the Repricer counted into sales (its ``order`` history).

        One pass over the table (a query per SKU would read it once per SKU locally: moto
        finds a partition's items by walking the whole table)."""
        from functions.core.repositories.price_history import history_pk

        ours = {history_pk(p.seller_id, MARKETPLACE_ID, p.sku) for p in self.market.products}
        scan: dict[str, Any] = {
            "TableName": local.stack.table_name("PriceHistoryTable"),
            "FilterExpression": "#kind = :order",
            "ProjectionExpression": "pk",
            "ExpressionAttributeNames": {"#kind": "kind"},
            "ExpressionAttributeValues": {":order": {"S": "order"}},
        }
        total = 0
        while True:
            page = dynamo.scan(**scan)
            total += sum(1 for item in page.get("Items", []) if item["pk"]["S"] in ours)
            if "LastEvaluatedKey" not in page:
                return total
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def record_series(self, hour: int) -> None:
        for product in self.market.products:
            label = chart_label(product)
            if label not in self.charted:
                continue
            winner = product.buy_box_winner()
            self.result.series.setdefault(label, []).append(
                (hour, str(product.ours.price), str(winner.landed) if winner else None)
            )


def _advance_to(local: Any, moment: datetime) -> None:
    """Run the local stack's clock to ``moment`` (or just drain when it is already there
    or past it)."""
    local.advance(max(moment - local.clock.now(), timedelta(0)))


def _offer_attributes(product: Product) -> dict[str, Any]:
    def value(amount: Decimal) -> list[dict[str, Any]]:
        return [{"schedule": [{"value_with_tax": amount}]}]

    return {
        "item_name": [{"value": f"Simulated product {product.asin}"}],
        "purchasable_offer": [{
            "marketplace_id": MARKETPLACE_ID, "currency": CURRENCY, "audience": "ALL",
            "our_price": value(product.ours.price),
        }],
    }


def _expect(response: Any, *statuses: int) -> Any:
    if response.status not in statuses:
        raise RuntimeError(
            f"demo: the API answered {response.status} where {statuses} was expected: "
            f"{response.text[:300]}"
        )
    return response


def write_report(result: DemoResult, summary: dict[str, Any], out_dir: Path) -> Path:
    """A self-contained HTML page: the summary and price charts (inline SVG) per SKU."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = (out_dir / "report.html").resolve()
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(json.dumps(v))}</td></tr>"
        for k, v in summary.items() if k not in {"accounts"}
    )
    charts = "".join(_chart(sku, points) for sku, points in result.series.items())
    claims = summary.get("claims") or {}
    claim_rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{v}</td>"
        f"<td>{(summary.get('claims_planted') or {}).get(k, 0)}</td></tr>"
        for k, v in (claims.get("by_category") or {}).items())
    path.write_text(
        "<!doctype html><meta charset=utf-8><title>sellerops demo</title>"
        "<style>body{font:14px system-ui;margin:2em}td,th{padding:2px 8px;text-align:left}"
        "svg{border:1px solid #ddd;margin:4px}</style>"
        f"<h1>sellerops demo — seed {result.seed}</h1><table>{rows}</table>"
        f"<h2>Lost &amp; Found: {claims.get('count', 0)} claims worth "
        f"{html.escape(str(claims.get('value', '0.00')))} {CURRENCY}</h2>"
        "<table><tr><th>category</th><th>found</th><th>planted</th></tr>"
        f"{claim_rows}</table>"
        "<h2>Our price (blue) and the Buy Box price (orange), per hour</h2>"
        f"{charts}",
        encoding="utf-8",
    )
    return path


def _chart(sku: str, points: list[tuple[int, str, str | None]]) -> str:
    width, height = 600, 140
    values = [Decimal(p[1]) for p in points] + [Decimal(p[2]) for p in points if p[2]]
    low, high = min(values), max(values)
    span = (high - low) or Decimal(1)
    count = max(len(points) - 1, 1)

    def line(index: int, colour: str) -> str:
        coords = " ".join(
            f"{i * width / count:.1f},{height - 10 - float((Decimal(p[index]) - low) / span) * (height - 20):.1f}"  # noqa: E501
            for i, p in enumerate(points) if p[index]
        )
        return f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{coords}"/>'

    return (
        f'<figure><figcaption>{html.escape(sku)} ({low}–{high} {CURRENCY})</figcaption>'
        f'<svg width="{width}" height="{height}">{line(1, "#1f77b4")}{line(2, "#ff7f0e")}'
        "</svg></figure>"
    )


def print_summary(summary: dict[str, Any], out: TextIO) -> None:
    revenue, baseline = Decimal(summary["revenue"]), Decimal(summary["baseline_revenue"])
    ratio = f"{revenue / baseline:.2f}x" if baseline else "n/a"
    lines = [
        f"sellerops demo: seed {summary['seed']}, {summary['sellers']} sellers x "
        f"{summary['skus']} SKUs, {summary['days']} simulated days "
        f"({summary['elapsed_seconds']} s)",
        f"  Buy Box share        {summary['buy_box_share']:.1%}  "
        f"(naive undercutter {summary['baseline_buy_box_share']:.1%})",
        f"  revenue              {summary['revenue']} {CURRENCY}  "
        f"(naive undercutter {summary['baseline_revenue']}; {ratio})",
        f"  margin over cost     {summary['margin']} {CURRENCY}  "
        f"(naive undercutter {summary['baseline_margin']})",
        f"  average price / max  {summary['average_price_vs_max']:.1%}",
        f"  price changes        {summary['price_changes']} live on Amazon, "
        f"{summary['prices_out_of_bounds']} outside [min, max]",
        f"  notifications        {summary['notifications']} ("
        + ", ".join(f"{v} {k}" for k, v in summary["notifications_by_type"].items()) + ")",
        f"  orders               {summary['orders']} ({summary['units_ordered']} units); "
        f"{summary['orders_counted']} counted into sales by the Repricer",
        f"  SP-API calls         {summary['api_calls']} ({summary['throttled']} throttled, 429)",
        f"  claims found         {summary['claims']['count']} worth "
        f"{summary['claims']['value']} {CURRENCY}: "
        + (", ".join(f"{k} {v}" for k, v in summary["claims"]["by_category"].items())
           or "none")
        + f" (planted: {sum(summary['claims_planted'].values())})",
        "  notifications by language: "
        + (", ".join(f"{k} {v}" for k, v in summary["notifications_by_language"].items())
           or "none yet (notification center joins with its issue)"),
        f"  report               {summary['report']}",
    ]
    if summary.get("recorded"):
        lines.append(f"  notifications recorded to {summary['recorded']} "
                     "(sellerops reprice replay --notifications)")
    print("\n".join(lines), file=out)


@contextlib.contextmanager
def _logging_to(stream: TextIO) -> Any:
    """Every Python log record of the run (handlers, SP-API client) goes to the log file."""
    root = logging.getLogger()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def default_workers(sellers: int) -> int:
    """One worker process per CPU this process may use, at most one per seller."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, sellers))


def combine(parts: list[DemoResult], chart_order: list[str]) -> DemoResult:
    """The workers' results (disjoint sellers) as the result of one run: counts and
    tallies add up, accounts in seller order, charts in ``chart_order``."""
    first = parts[0]
    total = DemoResult(seed=first.seed, days=first.days, sellers=first.sellers,
                       skus=first.skus)
    for part in parts:
        total.ours += part.ours
        for name in ("price_changes", "notifications_sent", "orders", "units_ordered",
                     "orders_counted", "claims_count", "claims_value", "api_calls",
                     "throttled"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        for name in ("notifications_by_type", "claims_by_category", "claims_planted"):
            counts: dict[str, int] = getattr(total, name)
            for key, count in getattr(part, name).items():
                counts[key] = counts.get(key, 0) + count
        total.accounts.extend(part.accounts)
        total.series.update(part.series)
    order = {seller_id: index for index, seller_id in enumerate(seller_ids(first.sellers))}
    total.accounts.sort(key=lambda account: order[account["seller_id"]])
    total.series = {label: total.series[label] for label in chart_order
                    if label in total.series}
    return total


_hours_done: Any = None  # in a worker process: the shared per-worker hour counters


class _WorkerProgress:
    """A worker's progress, written where the parent's progress bar reads it."""

    def __init__(self, shard: int) -> None:
        self.shard = shard

    def update(self, done: int, note: str = "") -> None:
        _hours_done[self.shard] = done

    def done(self) -> None:
        pass


def _init_worker(hours_done: Any) -> None:
    global _hours_done
    _hours_done = hours_done


def _run_shard(
    seed: int, sellers: int, skus: int, days: int, out: Path, record: Path | None,
    shard: int, shards: int,
) -> tuple[DemoResult, list[int]]:
    """A worker process: its sellers on their own local stack and simulated Amazon."""
    with (out / f"handlers.{shard}.log").open("w", encoding="utf-8") as log, \
            _logging_to(log):
        demo = Demo(seed, sellers, skus, days, log, record=record, shard=shard, shards=shards)
        result = demo.run(_WorkerProgress(shard))  # type: ignore[arg-type]
    return result, demo.recorded_by_hour


def _merge_recordings(parts: list[tuple[Path, list[int]]], target: Path) -> None:
    """The workers' recordings as one, hour by hour (workers in order within an hour)."""
    files = [path.open(encoding="utf-8") for path, _ in parts]
    try:
        with target.open("w", encoding="utf-8") as merged:
            for hour in range(len(parts[0][1])):
                for file, (_, ends) in zip(files, parts, strict=True):
                    start = ends[hour - 1] if hour else 0
                    for _ in range(ends[hour] - start):
                        merged.write(file.readline())
    finally:
        for file in files:
            file.close()
    for path, _ in parts:
        path.unlink()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the running workers."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public handle on them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _run_sharded(
    seed: int, sellers: int, skus: int, days: int, out: Path, record: Path | None,
    workers: int, progress: Progress,
) -> DemoResult:
    """The sellers split over ``workers`` processes, each with its own local stack (the
    baseline is computed here meanwhile)."""
    context = multiprocessing.get_context("spawn")
    hours_done = context.Array("i", workers, lock=False)
    parts_of = [None if record is None else record.with_name(f"{record.name}.{shard}")
                for shard in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(hours_done,)) as pool:
        futures = [pool.submit(_run_shard, seed, sellers, skus, days, out, parts_of[shard],
                               shard, workers) for shard in range(workers)]
        baseline = run_baseline(seed, seller_ids(sellers), skus, days * 24)  # meanwhile
        pending: set[Future[Any]] = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
                for future in finished:
                    future.result()  # a worker's error ends the run ...
                progress.update(min(hours_done), f"{workers} workers")
        except BaseException:
            _stop(pool)  # ... without waiting for the others to finish their fortnight
            raise
        outcomes = [future.result() for future in futures]
    progress.done()
    with (out / "handlers.log").open("w", encoding="utf-8") as log:
        for shard in range(workers):
            part = out / f"handlers.{shard}.log"
            log.write(f"# worker {shard + 1} of {workers}: sellers "
                      f"{', '.join(seller_ids(sellers)[shard::workers])}\n")
            with part.open(encoding="utf-8") as text:
                shutil.copyfileobj(text, log)
            part.unlink()
    result = combine([r for r, _ in outcomes],
                     charted(Market(seed, seller_ids(sellers), skus, CURRENCY)))
    result.baseline = baseline
    if record is not None:
        _merge_recordings([(path, hours) for path, (_, hours) in
                           zip(parts_of, outcomes, strict=True) if path is not None], record)
        result.recorded = str(record.resolve())
    return result


def run_demo(
    *, seed: int, sellers: int, skus: int, days: int, as_json: bool, out_dir: str,
    record: str | None = None, workers: int | None = None,
) -> int:
    """The demo; its sellers split over ``workers`` processes (default
    :func:`default_workers`), which gives the same result as one."""
    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "handlers.log"
    workers = default_workers(sellers) if workers is None else max(1, min(workers, sellers))
    progress = Progress(days * 24, sys.stderr, enabled=sys.stderr.isatty())
    if not as_json:
        print(f"sellerops demo: provisioning the local stack, {sellers} sellers x {skus} "
              f"SKUs, {days} days, {workers} worker(s) (log: {log_path})",
              file=sys.stderr, flush=True)
    if workers == 1:
        with log_path.open("w", encoding="utf-8") as log, _logging_to(log):
            result = Demo(seed, sellers, skus, days, log, record=record).run(progress)
        result.baseline = run_baseline(seed, seller_ids(sellers), skus, days * 24)
    else:
        result = _run_sharded(seed, sellers, skus, days, out,
                              Path(record) if record else None, workers, progress)
    result.seconds = time.monotonic() - started
    report = (out / "report.html").resolve()
    summary = result.to_json(report)
    write_report(result, summary, out)
    if as_json:
        print(json.dumps(summary))
    else:
        buffer = io.StringIO()
        print_summary(summary, buffer)
        print(buffer.getvalue(), end="")
    return 0
