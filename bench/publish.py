"""Publishing benchmark: price changes per hour for one seller against Amazon's quotas.

    python bench/publish.py [--skus 100000] [--urgent 0.05] [--seed 1] [--json]

The real publisher (``functions.reprice.publisher.process`` → ``Publisher``), the real
feed tracker and the real SP-API client talk over loopback HTTP to the fake SP-API server
with Amazon's quotas (patchListingsItem 5 rps / burst 5, createFeed 0.0083 rps / burst 15
and 5 feeds per 5 minutes, …). Tables and the queue are in-memory stand-ins with the
repositories' semantics (AWS calls are not what is measured). One seller's FIFO message
group is simulated on a compressed clock: a :class:`ManualClock` shared by client and
server, so quota waits and backoff cost no real time; every invocation's real (wall)
processing time is added to the simulated clock, so our own time counts as it would in
Lambda. The schedule (FeedResultsFunction) runs every five simulated minutes.

Two scenarios on a catalogue of ``--skus`` SKUs:

* **burst** — every SKU changes at once (an hourly Push run, a catalogue-wide move):
  how long until every change is submitted → changes per hour (target ≥ 100,000/h);
* **steady** — every SKU changes once, spread evenly over one hour, ``--urgent`` of them
  urgent (patched): enqueue → submitted for urgent changes, split into our own processing
  time (target: median < 5 s), the quota-induced wait and the FIFO queue wait;
* **urgent** — a market move: 1 % of the catalogue loses the Buy Box within 10 s, all
  urgent, so patchListingsItem's 5 rps is what limits (quota and queue waits show).

Both check at the end that Amazon (the fake) holds every SKU's latest price and count
the 429s the server answered (each retried; a lost change would fail the check).

``publishing_section(**options)`` runs both and returns the numbers (and printable lines)
for ``bench/reprice.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter, deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from functions.core.money import Money  # noqa: E402
from functions.core.repositories.feed_submissions import (  # noqa: E402
    FeedBuffer,
    FeedMessage,
    FeedSubmission,
    StagedUpdate,
)
from functions.core.spapi import SpApiClient, StaticCredentials  # noqa: E402
from functions.reprice.price_update import PriceUpdate  # noqa: E402
from functions.reprice.publisher import process  # noqa: E402
from functions.reprice.publishing import (  # noqa: E402
    FeedTracker,
    FlushRequest,
    HistoryRecord,
    ListingSwitches,
    Publisher,
    PublishingPolicy,
    SellerSwitches,
)
from infra.simulator.clock import ManualClock  # noqa: E402
from infra.simulator.spapi_server import FakeSpApiServer  # noqa: E402

SELLER = "A1BENCHSELLER"
DE = "A1PA6795UKMFR9"
CLIENT_ID, CLIENT_SECRET, REFRESH = "bench-client", "bench-secret", "Atzr|bench"
EPOCH = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
TRACKER_EVERY = 300.0  # seconds: FeedResultsFunction's schedule
TARGET_PER_HOUR = 100_000
TARGET_OWN_SECONDS = 5.0


# -- in-memory stand-ins with the repositories' semantics ------------------------------------
class MemoryFeeds:
    """FeedSubmissionsRepository in memory (same methods, same rules)."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.staged_items: dict[tuple[str, str], dict[str, StagedUpdate]] = {}
        self.buffers: dict[tuple[str, str], FeedBuffer] = {}
        self.quota: dict[str, datetime] = {}
        self.submissions: dict[tuple[str, str], FeedSubmission] = {}
        self.feed_messages: dict[tuple[str, str], list[FeedMessage]] = {}

    def stage(self, updates: Sequence[StagedUpdate], *, check_at: datetime):
        key = (updates[0].seller_id, updates[0].marketplace_id)
        bucket = self.staged_items.setdefault(key, {})
        stored, created = [], 0
        for update in updates:
            old = bucket.get(update.sku)
            if old is not None and old.decided_key > update.decided_key:
                continue
            created += old is None
            bucket[update.sku] = update
            stored.append(update)
        buffer = self.buffer(*key)
        buffer = buffer.model_copy(update={
            "staged_since": buffer.staged_since or self.clock.now(),
            "check_at": buffer.check_at or check_at,
            "staged_count": buffer.staged_count + created,
        })
        self.buffers[key] = buffer
        return stored, buffer

    def drop_staged(self, seller_id, marketplace_id, decided) -> int:
        bucket = self.staged_items.get((seller_id, marketplace_id), {})
        dropped = 0
        for sku, key in decided.items():
            if sku in bucket and bucket[sku].decided_key <= key:
                del bucket[sku]
                dropped += 1
        return dropped

    def buffer(self, seller_id: str, marketplace_id: str) -> FeedBuffer:
        return self.buffers.get((seller_id, marketplace_id)) or FeedBuffer(
            seller_id=seller_id, marketplace_id=marketplace_id)

    def staged(self, seller_id: str, marketplace_id: str, *, limit: int) -> list[StagedUpdate]:
        bucket = self.staged_items.get((seller_id, marketplace_id), {})
        return [bucket[sku] for sku in sorted(bucket)[:limit]]

    def unstage(self, seller_id, marketplace_id, skus, *, next_check_at) -> None:
        key = (seller_id, marketplace_id)
        bucket = self.staged_items.get(key, {})
        removed = 0
        for sku in dict.fromkeys(skus):
            removed += bucket.pop(sku, None) is not None
        buffer = self.buffer(*key)
        if next_check_at is None:
            self.buffers[key] = FeedBuffer(seller_id=seller_id, marketplace_id=marketplace_id)
        else:
            self.buffers[key] = buffer.model_copy(update={
                "check_at": next_check_at,
                "staged_since": buffer.staged_since or next_check_at,
                "staged_count": max(0, buffer.staged_count - removed),
            })

    def last_feed_at(self, seller_id: str) -> datetime | None:
        return self.quota.get(seller_id)

    def set_last_feed_at(self, seller_id: str, moment: datetime) -> None:
        self.quota[seller_id] = moment

    def save(self, submission: FeedSubmission, messages: Sequence[FeedMessage]):
        stored = submission.model_copy(update={"parts": 1, "message_count": len(messages)})
        self.submissions[(submission.seller_id, submission.feed_id)] = stored
        self.feed_messages[(submission.seller_id, submission.feed_id)] = list(messages)
        return stored

    def messages(self, submission: FeedSubmission) -> list[FeedMessage]:
        return list(self.feed_messages.get((submission.seller_id, submission.feed_id), []))

    def open_feeds(self, *, due_by: datetime, limit: int = 200) -> list[FeedSubmission]:
        due = [s for s in self.submissions.values()
               if s.open and (s.check_at or s.submitted_at) <= due_by]
        return due[:limit]

    def due_buffers(self, *, due_by: datetime, limit: int = 500) -> list[FeedBuffer]:
        return [b for b in self.buffers.values()
                if not b.empty and b.check_at is not None and b.check_at <= due_by][:limit]

    def touch(self, submission: FeedSubmission, *, status: str, check_at: datetime) -> None:
        key = (submission.seller_id, submission.feed_id)
        current = self.submissions[key]
        self.submissions[key] = current.model_copy(update={
            "status": status, "check_at": check_at, "polls": current.polls + 1})

    def close(self, submission: FeedSubmission, *, status: str, result: dict) -> bool:
        key = (submission.seller_id, submission.feed_id)
        current = self.submissions[key]
        if not current.open:
            return False
        self.submissions[key] = current.model_copy(update={
            "status": status, "finished_at": self.clock.now(), "result": result})
        self.feed_messages.pop(key, None)
        return True


class MemoryHistory:
    """Counts outcomes; remembers when each SKU was first submitted (simulated time)."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.counts: Counter[tuple[str, str]] = Counter()
        self.submitted_at: dict[str, float] = {}

    def write(self, records: Sequence[HistoryRecord]) -> None:
        now = self.clock()
        for record in records:
            status = str(record.payload.get("status"))
            self.counts[(record.kind, status)] += 1
            if record.kind == "submission" and status == "submitted":
                self.submitted_at.setdefault(record.sku, now)


class AllLive:
    """Every seller and listing live (no dry run, not paused)."""

    def seller(self, seller_id: str) -> SellerSwitches:
        return SellerSwitches(known=True, paused=False, dry_run=False)

    def listings(self, seller_id, marketplace_id, skus) -> dict[str, ListingSwitches]:
        return {sku: ListingSwitches() for sku in skus}


class FifoGroup:
    """One seller's FIFO message group: messages become available at their send time;
    a failed record goes back to the head of the group."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.messages: deque[tuple[float, str, str]] = deque()  # (available_at, id, body)
        self._ids = 0

    def put(self, body: str, at: float | None = None) -> str:
        self._ids += 1
        message_id = f"m{self._ids}"
        self.messages.append((self.clock() if at is None else at, message_id, body))
        return message_id

    # UpdateQueue port (re-enqueued retries and flush requests from the tracker)
    def send(self, updates: Sequence[PriceUpdate]) -> None:
        for update in updates:
            self.put(update.to_message())

    def request_flush(self, request: FlushRequest) -> None:
        self.put(request.to_message())

    def take(self, limit: int = 10) -> list[tuple[float, str, str]]:
        now = self.clock()
        batch = []
        while self.messages and len(batch) < limit and self.messages[0][0] <= now:
            batch.append(self.messages.popleft())
        return batch

    def next_at(self) -> float | None:
        return self.messages[0][0] if self.messages else None


# -- one run ----------------------------------------------------------------------------------
def _listing_attributes(price: str) -> dict[str, Any]:
    def schedule(value: str) -> list[dict[str, Any]]:
        from decimal import Decimal

        return [{"schedule": [{"value_with_tax": Decimal(value)}]}]

    return {"purchasable_offer": [{
        "marketplace_id": DE, "currency": "EUR", "audience": "ALL",
        "our_price": schedule(price), "minimum_seller_allowed_price": schedule("5.00"),
        "maximum_seller_allowed_price": schedule("50.00"),
    }]}


def run_scenario(
    name: str,
    *,
    skus: int,
    spread: float,
    urgent_share: float,
    seed: int,
    changes: int | None = None,
    policy: PublishingPolicy | None = None,
) -> dict[str, Any]:
    """Publish one change for each of ``changes`` SKUs (default: all) of a ``skus``
    catalogue, arriving uniformly over ``spread`` seconds."""
    rng = random.Random(seed)
    clock = ManualClock(0.0, epoch=EPOCH)
    policy = policy or PublishingPolicy()
    server = FakeSpApiServer(clock=clock, now=clock.now, polls_to_done=2)
    api = server.api
    api.register_app(CLIENT_ID, CLIENT_SECRET)
    api.register_seller(SELLER, REFRESH)
    names = [f"SKU-{i:06d}" for i in range(skus)]
    for sku in names:
        api.put_listing(SELLER, sku, marketplace_id=DE, asin="B0BENCH000",
                        attributes=_listing_attributes("20.00"))
    server.start()
    try:
        client = SpApiClient(StaticCredentials(CLIENT_ID, CLIENT_SECRET, {SELLER: REFRESH}),
                             endpoint=server.url, lwa_endpoint=server.url,
                             clock=clock, sleep=clock.sleep)
        feeds = MemoryFeeds(clock)
        history = MemoryHistory(clock)
        group = FifoGroup(clock)
        publisher = Publisher(apis=client.seller, feeds=feeds, history=history,
                              switches=AllLive(), policy=policy, clock=clock.now)
        tracker = FeedTracker(apis=client.seller, feeds=feeds, history=history, queue=group,
                              policy=policy, clock=clock.now)

        # The decisions: one per SKU, in arrival order.
        expected: dict[str, str] = {}
        enqueued_at: dict[str, float] = {}
        arrivals: dict[str, tuple[float, bool]] = {}  # message id → (enqueued at, urgent)
        count = skus if changes is None else min(changes, skus)
        times = sorted(rng.uniform(0, spread) for _ in range(count)) if spread else [0.0] * count
        order = names[:]
        rng.shuffle(order)
        order = order[:count]
        for at, sku in zip(times, order, strict=True):
            price = f"{rng.randint(600, 4900) / 100:.2f}"
            urgent = rng.random() < urgent_share
            update = PriceUpdate(
                seller_id=SELLER, marketplace_id=DE, sku=sku, price=Money.of(price, "EUR"),
                min_price=Money.of("5.00", "EUR"), max_price=Money.of("50.00", "EUR"),
                urgent=urgent, decided_at=EPOCH + timedelta(seconds=at),
                source=f"bench-{sku}", reason="bench",
            )
            expected[sku] = price
            enqueued_at[sku] = at
            message_id = group.put(update.to_message(), at=at)
            arrivals[message_id] = (at, urgent)

        urgent_total, urgent_own, urgent_quota, urgent_queue = [], [], [], []
        invocations = failed_records = 0
        own_wall = 0.0
        next_tick = TRACKER_EVERY
        started = time.perf_counter()

        def run_tracker() -> None:
            nonlocal own_wall
            t0 = time.perf_counter()
            tracker.run()
            wall = time.perf_counter() - t0
            own_wall += wall
            clock.advance(wall)

        while True:
            if clock() >= next_tick:
                run_tracker()
                next_tick += TRACKER_EVERY
                continue
            batch = group.take(10)
            if batch:
                records = [{"messageId": mid, "body": body,
                            "attributes": {"MessageGroupId": SELLER}}
                           for _, mid, body in batch]
                slept_before = clock.slept
                t0 = time.perf_counter()
                failed, _ = process(records, publisher)
                wall = time.perf_counter() - t0
                own_wall += wall
                clock.advance(wall)
                invocations += 1
                quota_wait = clock.slept - slept_before
                done_at = clock()
                failed_ids = set(failed)
                failed_records += len(failed_ids)
                for _at, mid, body in reversed(batch):  # back to the head, in order
                    if mid in failed_ids:
                        group.messages.appendleft((done_at + 1.0, mid, body))
                for _at, mid, _ in batch:
                    if mid in failed_ids or mid not in arrivals:
                        continue
                    enqueued, urgent = arrivals[mid]
                    if urgent:
                        urgent_total.append(done_at - enqueued)
                        urgent_own.append(wall)
                        urgent_quota.append(quota_wait)
                        urgent_queue.append(max(0.0, done_at - enqueued - wall - quota_wait))
                continue
            open_work = (feeds.open_feeds(due_by=EPOCH + timedelta(days=3650))
                         or any(not b.empty for b in feeds.buffers.values()))
            upcoming = group.next_at()
            if upcoming is None and not open_work:
                break
            clock.advance(max(0.0, min(x for x in (upcoming, next_tick) if x is not None)
                              - clock()))
        real_seconds = time.perf_counter() - started

        feed_created = [c.at for c in api.calls if c.operation == "createFeed" and c.status < 300]
        patch_times = [c.at for c in api.calls
                       if c.operation == "patchListingsItem" and c.status < 300]
        submitted_at = history.submitted_at
        last_submission = max(submitted_at.values(), default=0.0)
        lags = [submitted_at[sku] - enqueued_at[sku] for sku in submitted_at]
        lost = [sku for sku in expected
                if format(api.our_price(SELLER, sku), "f") != expected[sku]]
        first = min(enqueued_at.values(), default=0.0)
        span = last_submission - first
        per_hour = len(submitted_at) / span * 3600 if span > 0 else 0.0
        window_max = _max_in_window(feed_created, 300.0)
        return {
            "scenario": name,
            "skus": skus,
            "changes": len(expected),
            "urgent": sum(1 for _, u in arrivals.values() if u),
            "arrival_spread_s": spread,
            "last_submission_s": round(last_submission, 1),
            "changes_per_hour": round(per_hour),
            "target_per_hour": TARGET_PER_HOUR,
            "ratio_to_target": round(per_hour / TARGET_PER_HOUR, 2),
            "submitted": len(submitted_at),
            "lag_median_s": round(statistics.median(lags), 1) if lags else None,
            "lag_p95_s": round(_pct(lags, 0.95), 1) if lags else None,
            "lag_max_s": round(max(lags), 1) if lags else None,
            "feeds": len(feed_created),
            "max_feeds_in_5_min": window_max,
            "patches": len(patch_times),
            "throttled_429": api.throttled(),
            "records_retried": failed_records,
            "lost_changes": len(lost),
            "invocations": invocations,
            "own_processing_s": round(own_wall, 2),
            "real_seconds": round(real_seconds, 1),
            "simulated_seconds": round(clock(), 1),
            "urgent_latency": _latency(urgent_total, urgent_own, urgent_quota, urgent_queue),
            "history": {f"{k}:{s}": v for (k, s), v in sorted(history.counts.items())},
        }
    finally:
        server.stop()


def _max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _latency(total, own, quota, queue) -> dict[str, Any]:
    if not total:
        return {"count": 0}
    return {
        "count": len(total),
        "total_median_s": round(statistics.median(total), 4),
        "total_p95_s": round(_pct(total, 0.95), 4),
        "own_median_s": round(statistics.median(own), 5),
        "own_p95_s": round(_pct(own, 0.95), 5),
        "own_ratio_to_target": round(statistics.median(own) / TARGET_OWN_SECONDS, 5),
        "quota_wait_median_s": round(statistics.median(quota), 3),
        "quota_wait_p95_s": round(_pct(quota, 0.95), 3),
        "queue_wait_median_s": round(statistics.median(queue), 3),
        "queue_wait_p95_s": round(_pct(queue, 0.95), 3),
    }


# -- report ------------------------------------------------------------------------------------
def lines_of(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in results:
        head = (f"{r['scenario']:>6}: {r['changes']:,} changes of {r['skus']:,} SKUs, "
                f"{r['urgent']:,} urgent, arriving "
                + ("at once" if not r["arrival_spread_s"]
                   else f"over {r['arrival_spread_s']:,.0f} s"))
        if r["scenario"] == "steady":  # the rate is the arrival rate: is it kept up?
            rate = r["changes"] / r["arrival_spread_s"] * 3600
            out.append(
                f"{head} ({rate:,.0f}/h) → {r['submitted']:,} submitted, the last "
                f"{r['last_submission_s'] - r['arrival_spread_s']:,.0f} s after the hour"
            )
        elif r["scenario"] == "urgent":  # patchListingsItem's 5 rps is the limit here
            out.append(
                f"{head} → {r['submitted']:,} patched, the last after "
                f"{r['last_submission_s']:,.1f} s ({r['changes_per_hour']:,}/h; Amazon's "
                f"patch quota is 18,000/h)"
            )
        else:
            out.append(
                f"{head} → {r['submitted']:,} submitted, the last after "
                f"{r['last_submission_s']:,.0f} s = {r['changes_per_hour']:,} changes/h "
                f"({r['ratio_to_target']}× the {TARGET_PER_HOUR:,}/h target)"
            )
        out.append(
            f"        enqueue→submitted: median {r['lag_median_s']} s, p95 {r['lag_p95_s']} s, "
            f"max {r['lag_max_s']} s; {r['feeds']} feeds (max {r['max_feeds_in_5_min']} "
            f"per 5 min), {r['patches']:,} patches"
        )
        out.append(
            f"        429s answered {r['throttled_429']} (records re-queued "
            f"{r['records_retried']}), lost changes {r['lost_changes']}; "
            f"{r['invocations']:,} invocations, own time {r['own_processing_s']} s; "
            f"{r['real_seconds']} s real for {r['simulated_seconds']:,} s simulated"
        )
        lat = r["urgent_latency"]
        if lat.get("count"):
            out.append(
                f"        urgent ({lat['count']:,}) enqueue→submitted: median "
                f"{lat['total_median_s']} s (p95 {lat['total_p95_s']} s) = our own "
                f"{lat['own_median_s'] * 1000:.1f} ms (p95 {lat['own_p95_s'] * 1000:.1f} ms; "
                f"{lat['own_ratio_to_target']}× the 5 s target) + quota wait "
                f"{lat['quota_wait_median_s']} s (p95 {lat['quota_wait_p95_s']} s) + FIFO "
                f"queue wait {lat['queue_wait_median_s']} s (p95 {lat['queue_wait_p95_s']} s)"
            )
    return out


def publishing_section(
    *, skus: int = 100_000, urgent: float = 0.05, seed: int = 1
) -> dict[str, Any]:
    """Both scenarios; ``{"results": [...], "lines": [...]}`` (for bench/reprice.py)."""
    results = [
        run_scenario("burst", skus=skus, spread=0.0, urgent_share=0.0, seed=seed),
        run_scenario("steady", skus=skus, spread=3600.0, urgent_share=urgent, seed=seed + 1),
        # A market move: 1 % of the catalogue loses the Buy Box within 10 s (all urgent).
        run_scenario("urgent", skus=skus, spread=10.0, urgent_share=1.0, seed=seed + 2,
                     changes=max(1, skus // 100)),
    ]
    return {"results": results, "lines": lines_of(results)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--urgent", type=float, default=0.05,
                        help="share of urgent changes in the steady scenario")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    section = publishing_section(skus=args.skus, urgent=args.urgent, seed=args.seed)
    if args.json:
        print(json.dumps(section["results"], indent=2))
    else:
        print("Repricer publishing (fake SP-API with Amazon's quotas, compressed clock)")
        for line in section["lines"]:
            print(line)
    burst = next(r for r in section["results"] if r["scenario"] == "burst")
    ok = (all(r["lost_changes"] == 0 and r["submitted"] == r["changes"]
              for r in section["results"])
          and burst["changes_per_hour"] >= TARGET_PER_HOUR)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
