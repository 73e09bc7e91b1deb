"""Token-bucket maths and the per seller × operation limiter, on a fake clock."""

from __future__ import annotations

import threading

import pytest

from functions.core.spapi.errors import SpApiThrottled
from functions.core.spapi.operations import OPERATIONS
from functions.core.spapi.ratelimit import RateLimiter, TokenBucket, parse_rate_limit


class FakeClock:
    """Monotonic seconds that only move when someone sleeps (or the test advances)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- TokenBucket -------------------------------------------------------------------------
def test_bucket_starts_full_and_allows_a_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=5, clock=clock)
    assert [bucket.try_take() for _ in range(6)] == [True] * 5 + [False]


def test_bucket_refills_at_rate_and_caps_at_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=5, clock=clock)
    for _ in range(5):
        bucket.try_take()
    clock.advance(1.0)  # 2 tokens
    assert bucket.tokens == pytest.approx(2.0)
    clock.advance(100)
    assert bucket.tokens == pytest.approx(5.0)


def test_reserve_queues_callers_one_period_apart():
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, burst=1, clock=clock)  # one every 2 s
    waits = [bucket.reserve()[1] for _ in range(4)]
    assert waits == pytest.approx([0.0, 2.0, 4.0, 6.0])
    assert bucket.tokens == pytest.approx(-3.0)
    clock.advance(8.0)
    assert bucket.tokens == pytest.approx(1.0)


def test_reserve_over_max_wait_takes_nothing():
    clock = FakeClock()
    bucket = TokenBucket(rate=0.1, burst=1, clock=clock)
    assert bucket.reserve(max_wait=1.0) == (True, 0.0)
    reserved, wait = bucket.reserve(max_wait=1.0)
    assert not reserved
    assert wait == pytest.approx(10.0)
    assert bucket.tokens == pytest.approx(0.0)  # nothing was taken


def test_resize_keeps_earned_tokens_and_caps_at_new_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=1, burst=10, clock=clock)
    bucket.resize(5, burst=3)
    assert (bucket.rate, bucket.burst, bucket.tokens) == (5, 3, 3)
    for _ in range(3):
        bucket.try_take()
    clock.advance(0.2)
    assert bucket.tokens == pytest.approx(1.0)


def test_resize_refills_at_the_old_rate_up_to_the_change():
    clock = FakeClock()
    bucket = TokenBucket(rate=1, burst=10, clock=clock)
    for _ in range(10):
        bucket.try_take()
    clock.advance(2)  # 2 tokens at rate 1
    bucket.resize(100)
    assert bucket.tokens == pytest.approx(2.0)


def test_drain_empties_the_bucket_so_the_next_wait_is_a_full_period():
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, burst=15, clock=clock)
    bucket.drain()
    assert bucket.wait_time() == pytest.approx(2.0)


@pytest.mark.parametrize("rate, burst", [(0, 1), (-1, 1), (float("inf"), 1), (1, 0)])
def test_bucket_rejects_nonsense_plans(rate, burst):
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


def test_bucket_is_thread_safe():
    clock = FakeClock()
    bucket = TokenBucket(rate=1, burst=100, clock=clock)
    taken = []

    def worker():
        taken.extend(bucket.try_take() for _ in range(50))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert taken.count(True) == 100


# -- RateLimiter ---------------------------------------------------------------------------
def test_limiter_uses_documented_plans():
    limiter = RateLimiter(clock=FakeClock())
    bucket = limiter.bucket("S1", "getItemOffersBatch")
    assert (bucket.rate, bucket.burst) == (0.1, 1)
    bucket = limiter.bucket("S1", "patchListingsItem")
    assert (bucket.rate, bucket.burst) == (5, 5)


def test_limiter_waits_with_the_injected_sleep():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire("S1", "getListingOffersBatch")  # 0.5 rps, burst 1
    assert clock.sleeps == pytest.approx([2.0, 2.0])
    assert clock.now == pytest.approx(1004.0)


def test_buckets_are_per_seller_and_per_operation():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limiter.acquire("S1", "getItemOffersBatch")
    limiter.acquire("S2", "getItemOffersBatch")
    limiter.acquire("S1", "getListingOffersBatch")
    assert clock.sleeps == []
    limiter.acquire("S1", "getItemOffersBatch")
    assert clock.sleeps == pytest.approx([10.0])


def test_limiter_plan_override_and_unknown_operation_default():
    limiter = RateLimiter({"getFeed": (10, 2)}, clock=FakeClock())
    assert limiter.plan("getFeed") == (10, 2)
    assert limiter.plan("somethingNew") == (1.0, 1)


def test_limiter_max_wait_raises_throttled_with_retry_after():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep, max_wait=5)
    limiter.acquire("S1", "createReport")  # burst 15: free
    for _ in range(14):
        limiter.acquire("S1", "createReport")
    with pytest.raises(SpApiThrottled) as caught:
        limiter.acquire("S1", "createReport")  # 0.0167 rps → ~60 s
    assert caught.value.retry_after == pytest.approx(1 / 0.0167)
    assert clock.sleeps == []


def test_disabled_limiter_never_waits():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep, enabled=False)
    for _ in range(10):
        limiter.acquire("S1", "getItemOffersBatch")
    assert clock.sleeps == []


def test_rate_limit_header_resizes_the_bucket_keeping_burst():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    assert limiter.observe_limit("S1", "getListingsItem", "20.0") == 20.0
    bucket = limiter.bucket("S1", "getListingsItem")
    assert (bucket.rate, bucket.burst) == (20.0, 10)
    for _ in range(11):
        limiter.acquire("S1", "getListingsItem")
    assert clock.sleeps == pytest.approx([0.05])


def test_missing_or_bad_header_leaves_the_bucket_alone():
    limiter = RateLimiter(clock=FakeClock())
    for header in (None, "", "abc", "0", "-1", "nan"):
        assert limiter.observe_limit("S1", "getFeed", header) is None
    assert limiter.bucket("S1", "getFeed").rate == 2


def test_throttled_drains_the_bucket():
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limiter.throttled("S1", "getFeed")  # 2 rps, burst 15
    limiter.acquire("S1", "getFeed")
    assert clock.sleeps == pytest.approx([0.5])


@pytest.mark.parametrize(
    "header, expected",
    [("5", 5.0), (" 0.0167 ", 0.0167), ("0.5,2", 0.5), (None, None), ("x", None)],
)
def test_parse_rate_limit(header, expected):
    assert parse_rate_limit(header) == expected


def test_every_operation_has_a_positive_plan():
    for op in OPERATIONS.values():
        assert op.rate > 0 and op.burst >= 1, op.name
