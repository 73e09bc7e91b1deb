"""The decision path shared by the handlers (functions/reprice/service.py), on in-memory
fakes of the repositories, the SQS sender and the accounts: no AWS at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from functions.core.money import Money
from functions.core.repositories.dynamo import Page
from functions.core.repositories.errors import ConcurrentModification
from functions.core.repositories.listings import Listing
from functions.core.repositories.price_history import PriceHistoryEntry
from functions.reprice.listings import listing_from_config, state_of, with_state
from functions.reprice.logic import RepricingState, parse_notification
from functions.reprice.service import (
    Outcome,
    RepricingService,
    RetriesExhausted,
    UpdatesNotEnqueued,
    count_outcome,
)
from functions.reprice.updates import InMemoryPriceUpdateSender

from .builders import ASIN, OUR, RIVAL, T0, US, aoc, b2b, config, offer, order_change

NOW = T0 + timedelta(seconds=2)


# -- fakes ----------------------------------------------------------------------------------
class FakeListings:
    """ListingRepository in memory, with optimistic locking and a hook to lose a race."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], Listing] = {}
        self.saves = 0
        self.before_save: list[Any] = []  # callables run (once each) before the next save

    def put(self, listing: Listing) -> Listing:
        stored = listing.evolve(version=max(listing.version, 1))
        self.rows[(stored.seller_id, stored.marketplace_id, stored.sku)] = stored
        return stored

    def find_by_asin(self, seller_id: str, marketplace_id: str, asin: str) -> list[Listing]:
        return sorted((r for (s, m, _), r in self.rows.items()
                       if s == seller_id and m == marketplace_id and r.asin == asin),
                      key=lambda r: r.sku)

    def get(self, seller_id: str, marketplace_id: str, sku: str) -> Listing | None:
        return self.rows.get((seller_id, marketplace_id, sku))

    def save(self, listing: Listing, expected_version: int) -> Listing:
        if self.before_save:
            self.before_save.pop(0)()
        key = (listing.seller_id, listing.marketplace_id, listing.sku)
        current = self.rows.get(key)
        if current is None or current.version != expected_version:
            raise ConcurrentModification(
                "listing", {"sku": listing.sku}, expected_version=expected_version,
                actual_version=current.version if current else None)
        stored = listing.evolve(version=expected_version + 1)
        self.rows[key] = stored
        self.saves += 1
        return stored

    def save_state(self, listing: Listing, state: dict[str, Any],
                   expected_version: int) -> Listing:
        return self.save(listing.evolve(state=state), expected_version)

    def list_for_marketplace(self, seller_id: str, marketplace_id: str, *, limit: int = 100,
                             next_token: str | None = None) -> Page[Listing]:
        rows = sorted((r for (s, m, _), r in self.rows.items()
                       if s == seller_id and m == marketplace_id), key=lambda r: r.sku)
        start = int(next_token or 0)
        end = start + limit
        return Page(rows[start:end], str(end) if end < len(rows) else None)


class FakeHistory:
    def __init__(self) -> None:
        self.entries: list[PriceHistoryEntry] = []
        self._ids = iter(range(1, 10**9))

    def new_entry(self, seller_id, marketplace_id, sku, kind, payload=None, *, at=None):
        return PriceHistoryEntry(seller_id=seller_id, marketplace_id=marketplace_id, sku=sku,
                                 kind=kind, at=at, entry_id=f"{next(self._ids):08x}",
                                 payload=dict(payload or {}))

    def append_many(self, entries) -> None:
        self.entries.extend(entries)

    def of(self, sku: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [e.payload for e in self.entries if e.sku == sku and kind in (None, e.kind)]

    def kinds(self, sku: str) -> list[str]:
        return [e.kind for e in sorted(self.entries, key=lambda e: e.sort_key) if e.sku == sku]


def account(seller: str = OUR, *, paused: bool = False, dry_run: bool = False,
            products: tuple[str, ...] = ("repricer",),
            marketplaces: tuple[str, ...] = ()) -> SimpleNamespace:
    """An account as the service reads it (the switches are read with getattr)."""
    return SimpleNamespace(seller_id=seller, seller_ids=(seller,), products=products,
                           repricer_paused=paused, repricer_dry_run=dry_run,
                           marketplace_ids=marketplaces)


class FakeAccounts:
    def __init__(self, *accounts: Any) -> None:
        self.accounts = {a.seller_id: a for a in accounts}
        self.lookups = 0

    def get_by_seller(self, seller_id: str) -> Any:
        self.lookups += 1
        return self.accounts.get(seller_id)

    def list_accounts(self, *, limit: int = 50, next_token: str | None = None) -> Page[Any]:
        rows = list(self.accounts.values())
        start = int(next_token or 0)
        return Page(rows[start:start + limit],
                    str(start + limit) if start + limit < len(rows) else None)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    listings: FakeListings = field(default_factory=FakeListings)
    history: FakeHistory = field(default_factory=FakeHistory)
    sender: InMemoryPriceUpdateSender = field(default_factory=InMemoryPriceUpdateSender)
    accounts: FakeAccounts = field(default_factory=lambda: FakeAccounts(account()))
    clock: Clock = field(default_factory=Clock)
    kill_switch: bool = False

    @property
    def service(self) -> RepricingService:
        return RepricingService(self.listings, self.history, self.sender, self.accounts,
                                self.clock, kill_switch=self.kill_switch)

    def add(self, *, state: RepricingState | None = None, paused: bool = False,
            dry_run: bool = False, **overrides: Any) -> Listing:
        listing = listing_from_config(config(**overrides), OUR)
        if state is not None:
            listing = with_state(listing, state)
        return self.listings.put(listing.evolve(paused=paused, dry_run=dry_run))

    def stored(self, sku: str = "SKU-1") -> Listing:
        listing = self.listings.get(OUR, US, sku)
        assert listing is not None
        return listing


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def losing(nid: str = "n-1", toc: datetime = T0, **kwargs: Any):
    """A rival wins the Buy Box at 24.49; we offer 24.99 (→ undercut by the 3 % lead to 23.75)."""
    return parse_notification(aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.99")],
                                  nid=nid, toc=toc, **kwargs))


@pytest.fixture
def world() -> World:
    return World()


# -- offer changes ----------------------------------------------------------------------------
def test_a_change_is_stored_enqueued_and_recorded(world: World):
    world.add()
    outcome = world.service.handle_notification(losing())

    assert outcome.status == "decided" and outcome.conflicts == 0
    (sku,) = outcome.skus
    assert (sku.action, sku.old_price, sku.new_price, sku.submission) == (
        "change", "24.99", "23.75", "enqueued")
    stored = world.stored()
    assert stored.version == 2
    assert state_of(stored).current_price == usd("23.75")
    assert state_of(stored).last_time_of_offer_change == T0

    (update,) = world.sender.sent
    assert (update.seller_id, update.marketplace_id, update.sku) == (OUR, US, "SKU-1")
    assert update.price == usd("23.75")
    assert (update.min_price, update.max_price) == (usd("20.00"), usd("30.00"))
    assert update.source == "n-1" and update.sequence == 2 and update.urgent
    assert update.decided_at == NOW and "undercut" in update.reason

    (decision,) = world.history.of("SKU-1")  # one entry: what was seen and decided
    assert world.history.kinds("SKU-1") == ["decision"]
    assert decision["source"] == "n-1" and decision["action"] == "change"
    assert decision["submission"] == "enqueued" and decision["reason"].startswith(RIVAL)
    assert decision["new_price"] == "23.75" and decision["version"] == 2
    seen = decision["seen"]
    assert seen["notification_type"] == "ANY_OFFER_CHANGED"
    assert seen["buy_box_price"] == "24.49" and seen["our_price"] == "24.99"
    assert seen["time_of_offer_change"] == "2026-11-20T14:00:00.000000Z"


def test_a_hold_stores_what_was_seen_and_enqueues_nothing(world: World):
    world.add(state=RepricingState(current_price=usd("24.99"), last_change_at=T0))
    we_win = aoc([offer(OUR, "24.99", winner=True), offer(RIVAL, "26.00")], nid="n-win")
    outcome = world.service.handle_notification(parse_notification(we_win))
    assert [s.action for s in outcome.skus] == ["hold"]
    assert world.sender.sent == []
    assert state_of(world.stored()).winning_since == NOW  # the observation is kept


def test_a_stale_notification_changes_nothing_but_is_recorded(world: World):
    world.add(state=RepricingState(current_price=usd("24.99"),
                                   last_time_of_offer_change=T0 + timedelta(minutes=1)))
    before = world.stored()
    outcome = world.service.handle_notification(losing(toc=T0))
    assert outcome.status == "stale"
    assert outcome.skus[0].rule == "stale" and "not newer" in outcome.skus[0].reason
    assert world.stored() == before and world.sender.sent == []
    (decision,) = world.history.of("SKU-1", "decision")
    assert decision["action"] == "skip" and decision["rule"] == "stale"
    # the same time as the last applied one is stale too (DESIGN.md §3: "not newer")
    same = world.service.handle_notification(losing(nid="n-2", toc=T0 + timedelta(minutes=1)))
    assert same.status == "stale"


def test_an_unconfigured_sku_is_acknowledged_and_counted(world: World):
    world.listings.put(Listing(seller_id=OUR, marketplace_id=US, sku="SYNCED-1", asin=ASIN,
                               condition="new_new", fulfillment="FBA", currency="USD"))
    outcome = world.service.handle_notification(losing())
    assert outcome.status == "unconfigured"
    assert outcome.skus[0].rule == "unconfigured"
    assert world.listings.saves == 0 and world.sender.sent == []
    assert world.history.of("SYNCED-1", "decision")[0]["rule"] == "unconfigured"


def test_an_invalid_stored_strategy_is_skipped_not_failed(world: World):
    listing = world.add()
    world.listings.put(listing.evolve(strategy={**listing.strategy, "min_price": "-1"}))
    outcome = world.service.handle_notification(losing())
    assert outcome.skus[0].rule == "invalid_config"
    assert "does not validate" in outcome.skus[0].reason


def test_a_notification_for_no_listing_of_ours_is_unmatched(world: World):
    world.add(asin="B0OTHER0001")
    world.add(sku="USED-1", condition="used")
    outcome = world.service.handle_notification(losing())
    assert outcome.status == "unmatched" and outcome.skus == ()
    assert world.history.entries == []


def test_a_paused_seller_takes_no_decision(world: World):
    world.accounts = FakeAccounts(account(paused=True))
    world.add()
    outcome = world.service.handle_notification(losing())
    assert outcome.status == "paused"
    assert world.listings.saves == 0 and world.sender.sent == []
    assert "seller paused" in world.history.of("SKU-1", "decision")[0]["reason"]


def test_a_paused_sku_takes_no_decision_its_sibling_does(world: World):
    world.add(paused=True)
    world.add(sku="SKU-FBM", fulfillment="FBM")
    outcome = world.service.handle_notification(losing())
    rules = {s.sku: s.rule for s in outcome.skus}
    assert rules["SKU-1"] == "paused" and rules["SKU-FBM"] != "paused"
    assert outcome.status == "decided"


@pytest.mark.parametrize("where", ["sku", "seller", "no_account"])
def test_dry_run_decides_and_records_but_never_submits(world: World, where: str):
    if where == "seller":
        world.accounts = FakeAccounts(account(dry_run=True))
    elif where == "no_account":
        world.accounts = FakeAccounts()
    world.add(dry_run=where == "sku")
    outcome = world.service.handle_notification(losing())
    (sku,) = outcome.skus
    assert (sku.action, sku.new_price, sku.submission) == ("change", "23.75", "dry_run")
    assert world.sender.sent == []
    assert world.history.of("SKU-1", "decision")[0]["submission"] == "dry_run"
    state = state_of(world.stored())
    # the state keeps what is live on Amazon: switching dry run off starts from the truth
    assert state.current_price == usd("24.99") and state.pending_price is None
    assert state.last_time_of_offer_change == T0  # but what was seen is kept


def test_the_kill_switch_withholds_every_change(world: World):
    world.kill_switch = True
    world.add()
    outcome = world.service.handle_notification(losing())
    assert outcome.skus[0].submission == "kill_switch" and world.sender.sent == []
    assert state_of(world.stored()).current_price == usd("24.99")


def test_seller_switches_are_read_once_per_batch(world: World):
    world.add()
    service = world.service
    for i in range(3):
        service.handle_notification(losing(nid=f"n-{i}", toc=T0 + timedelta(seconds=i)))
    assert world.accounts.lookups == 1


# -- lost races -------------------------------------------------------------------------------
def test_a_lost_race_re_reads_and_decides_again(world: World):
    world.add()

    def another_writer() -> None:  # set our price to 23.70 between our read and our write
        other = world.stored()
        world.listings.rows[(OUR, US, "SKU-1")] = with_state(
            other, RepricingState(current_price=usd("23.70"))).evolve(version=other.version + 1)

    world.listings.before_save.append(another_writer)
    outcome = world.service.handle_notification(losing())
    assert outcome.conflicts == 1
    (sku,) = outcome.skus
    # decided again from the fresh state: 23.70 is already the lead below the Buy Box → hold
    assert sku.action == "hold" and sku.old_price == "23.70"
    assert world.sender.sent == [] and world.stored().version == 3


def test_a_lost_race_against_the_same_notification_ends_stale(world: World):
    world.add()

    def same_notification_elsewhere() -> None:
        other = world.stored()
        state = state_of(other).updated(last_time_of_offer_change=T0,
                                        current_price=usd("24.48"))
        world.listings.rows[(OUR, US, "SKU-1")] = with_state(other, state).evolve(
            version=other.version + 1)

    world.listings.before_save.append(same_notification_elsewhere)
    outcome = world.service.handle_notification(losing())
    assert outcome.conflicts == 1 and outcome.status == "stale"
    assert world.sender.sent == []


def test_retries_are_bounded(world: World):
    world.add()

    def bump() -> None:
        other = world.stored()
        world.listings.rows[(OUR, US, "SKU-1")] = other.evolve(version=other.version + 1)

    world.listings.before_save.extend([bump] * 5)
    with pytest.raises(RetriesExhausted):
        world.service.handle_notification(losing())
    assert world.sender.sent == []


def test_a_listing_deleted_during_the_race_is_skipped(world: World):
    world.add()
    world.listings.before_save.append(lambda: world.listings.rows.clear())
    outcome = world.service.handle_notification(losing())
    assert outcome.skus[0].rule == "deleted" and world.sender.sent == []


# -- SQS refusing ------------------------------------------------------------------------------
def test_an_update_sqs_refuses_is_undone_and_the_notification_retried(world: World):
    world.sender = InMemoryPriceUpdateSender(fail_skus=["SKU-1"])
    before = world.add()
    with pytest.raises(UpdatesNotEnqueued) as raised:
        world.service.handle_notification(losing())
    assert raised.value.skus == ("SKU-1",)
    restored = world.stored()
    assert state_of(restored) == state_of(before)  # written back as it was
    assert world.history.of("SKU-1", "decision")[0]["submission"] == "failed"
    # the retry (SQS redelivers) decides it again: not stale, since the state was undone
    world.sender.fail_skus.clear()
    outcome = world.service.handle_notification(losing())
    assert outcome.skus[0].submission == "enqueued" and len(world.sender.sent) == 1


# -- matching ---------------------------------------------------------------------------------
def test_two_skus_that_cannot_be_paired_are_flagged(world: World):
    world.add(sku="A")
    world.add(sku="B")
    data = aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.99"), offer(OUR, "25.99")])
    outcome = world.service.handle_notification(parse_notification(data))
    assert outcome.status == "flagged"
    assert all(s.reason.startswith("flagged:") for s in outcome.skus)
    assert world.sender.sent == []


def test_b2b_change_carries_the_business_price_and_tiers(world: World):
    world.add(b2b_discount="2%", b2b_tiers={5: "4%"},
              state=RepricingState(current_price=usd("25.00")))
    data = b2b([offer(OUR, "25.00")], {1: (RIVAL, "24.00")}, nid="b2b-1")
    outcome = world.service.handle_notification(parse_notification(data))
    assert outcome.skus[0].action == "change"
    (update,) = world.sender.sent
    assert update.price == usd("25.00")  # the B2C price, unchanged
    assert update.business_price is not None and update.business_price < usd("24.00")
    assert [t.quantity for t in update.quantity_tiers] == [5]


# -- orders -----------------------------------------------------------------------------------
def test_orders_count_each_item_once_and_drop_cancellations(world: World):
    world.add(strategy="push", push_levels="21.00|23.00|25.00")
    service = world.service
    first = service.handle_notification(parse_notification(
        order_change([("item-1", "SKU-1", 2)], nid="o-1")))
    assert first.status == "counted" and world.stored().version == 2
    assert "2 unit(s) in the last 24 h" in first.skus[0].reason
    again = service.handle_notification(parse_notification(
        order_change([("item-1", "SKU-1", 2)], status="Shipped", nid="o-2")))
    assert "already counted" in again.skus[0].reason
    assert world.stored().version == 2  # nothing new to write
    canceled = service.handle_notification(parse_notification(
        order_change([("item-1", "SKU-1", 2)], status="Canceled", nid="o-3")))
    assert "0 unit(s)" in canceled.skus[0].reason
    assert state_of(world.stored()).sales == {}
    assert world.sender.sent == []
    assert world.history.kinds("SKU-1") == ["order"] * 3
    assert world.history.of("SKU-1")[0]["seen"]["amazon_order_id"] == "111-0000000-0000001"


def test_an_order_for_unknown_or_unconfigured_skus(world: World):
    world.listings.put(Listing(seller_id=OUR, marketplace_id=US, sku="SYNCED-1", asin=ASIN,
                               fulfillment="FBA", currency="USD"))
    unknown = world.service.handle_notification(parse_notification(
        order_change([("i-1", "NOPE", 1)])))
    assert unknown.status == "unmatched" and "NOPE" in unknown.reason
    unconfigured = world.service.handle_notification(parse_notification(
        order_change([("i-2", "SYNCED-1", 1)])))
    assert unconfigured.status == "unconfigured"


def test_an_unhandled_type_is_reported_unhandled(world: World):
    notification = parse_notification({
        "NotificationType": "PRICING_HEALTH", "NotificationMetadata": {"NotificationId": "p-1"},
        "Payload": {}})
    assert world.service.handle_notification(notification).status == "unhandled"


# -- Push -------------------------------------------------------------------------------------
def push_listing(world: World, sku: str = "PUSH-1", **overrides: Any) -> Listing:
    values = {"strategy": "push", "push_levels": "21.00|23.00|25.00", "max_change": "50%",
              "push_window": "PT2H", "push_dwell": "PT2H", "push_fast_units": 2,
              "current_price": "22.00"}
    values.update(overrides)
    return world.add(sku=sku, **values)


def test_push_decides_push_skus_only_and_enqueues_with_the_hour(world: World):
    push_listing(world)
    push_listing(world, sku="PUSH-PAUSED", paused=True)
    world.add(sku="BB-1")
    world.clock.now = datetime.fromisoformat("2026-11-20T15:07:00+00:00")
    outcome = world.service.push(OUR, US)
    by_sku = {s.sku: s for s in outcome.skus}
    assert set(by_sku) == {"PUSH-1", "PUSH-PAUSED"}
    assert by_sku["PUSH-PAUSED"].rule == "paused"
    assert by_sku["PUSH-1"].action == "change" and by_sku["PUSH-1"].new_price == "21.00"
    (update,) = world.sender.sent
    assert update.source == "push@2026-11-20T15:00Z" and not update.urgent
    assert world.history.kinds("PUSH-1") == ["decision"]
    assert "seen" not in world.history.of("PUSH-1")[0]
    assert world.history.of("PUSH-PAUSED") == []  # no hourly noise for paused SKUs


def test_push_moves_up_after_fast_sales_and_back_after_a_slow_window(world: World):
    push_listing(world)
    service = world.service
    service.push(OUR, US)  # start: level 1 (21.00)
    world.clock.now += timedelta(hours=1)
    for i in range(2):
        service.handle_notification(parse_notification(order_change(
            [(f"item-{i}", "PUSH-1", 1)], at=world.clock.now, nid=f"o-{i}")))
    world.clock.now += timedelta(hours=1)
    up = service.push(OUR, US)
    assert up.skus[0].rule == "push_up" and up.skus[0].new_price == "23.00"
    world.clock.now += timedelta(hours=2)
    back = service.push(OUR, US)
    assert back.skus[0].rule == "push_back" and back.skus[0].new_price == "21.00"
    assert [u.price for u in world.sender.sent] == [usd("21.00"), usd("23.00"), usd("21.00")]


def test_push_of_a_paused_seller_does_nothing(world: World):
    world.accounts = FakeAccounts(account(paused=True))
    push_listing(world)
    assert world.service.push(OUR, US).status == "paused"
    assert world.sender.sent == []


def test_push_stops_at_the_deadline(world: World):
    push_listing(world, sku="P-1")
    push_listing(world, sku="P-2")
    calls = iter([False, True])
    outcome = world.service.push(OUR, US, deadline=lambda: next(calls))
    assert [s.sku for s in outcome.skus] == ["P-1"]
    assert "1 Push SKU(s) left" in outcome.reason


def test_repricer_targets_are_the_marketplaces_of_accounts_with_the_product(world: World):
    from functions.core.marketplaces import MARKETPLACES

    de = "A1PA6795UKMFR9"
    world.accounts = FakeAccounts(account("A1", marketplaces=(US, de)),
                                  account("A2", products=("lost_found",), marketplaces=(US,)),
                                  account("A3"))
    targets = list(world.service.repricer_targets())
    assert targets[:2] == [("A1", US), ("A1", de)]
    # an account that names no marketplace is looked for everywhere
    assert {m for s, m in targets if s == "A3"} == set(MARKETPLACES)
    assert not any(s == "A2" for s, _ in targets)


# -- reconciliation -----------------------------------------------------------------------------
def pricing_response(asins: list[str], *, rival: str = "24.49", ours: str = "24.99") -> dict:
    """A getItemOffersBatch answer (Product Pricing v0 shape) for ``asins``."""
    entries = []
    for asin in asins:
        entries.append({
            "status": {"statusCode": 200, "reasonPhrase": "OK"},
            "body": {"payload": {
                "ASIN": asin, "status": "Success", "ItemCondition": "New",
                "Identifier": {"MarketplaceId": US, "ASIN": asin, "ItemCondition": "New"},
                "Summary": {"TotalOfferCount": 2, "BuyBoxPrices": [{
                    "condition": "New", "LandedPrice": {"CurrencyCode": "USD", "Amount": rival},
                    "ListingPrice": {"CurrencyCode": "USD", "Amount": rival},
                    "Shipping": {"CurrencyCode": "USD", "Amount": "0.00"}}]},
                "Offers": [
                    {"SellerId": RIVAL, "IsBuyBoxWinner": True, "IsFeaturedMerchant": True,
                     "IsFulfilledByAmazon": True,
                     "ListingPrice": {"CurrencyCode": "USD", "Amount": rival},
                     "Shipping": {"CurrencyCode": "USD", "Amount": "0.00"}},
                    {"MyOffer": True, "IsBuyBoxWinner": False, "IsFeaturedMerchant": True,
                     "IsFulfilledByAmazon": True,
                     "ListingPrice": {"CurrencyCode": "USD", "Amount": ours},
                     "Shipping": {"CurrencyCode": "USD", "Amount": "0.00"}},
                ]}},
            "request": {"MarketplaceId": US, "Asin": asin, "ItemCondition": "New"},
        })
    return {"responses": entries}


def test_due_for_reconcile_picks_silent_configured_unpaused_non_push_skus(world: World):
    quiet = timedelta(hours=6)
    world.add(sku="NEVER")  # never heard: due first
    world.add(sku="OLD", asin="B0OLD000001",
              state=RepricingState(last_time_of_offer_change=NOW - timedelta(hours=7)))
    world.add(sku="FRESH", asin="B0FRESH0001",
              state=RepricingState(last_time_of_offer_change=NOW - timedelta(hours=1)))
    world.add(sku="DISAGREES", asin="B0DISAGR001",
              state=RepricingState(live_seen_at=NOW - timedelta(minutes=5),
                                   needs_reconcile=True))
    world.add(sku="PAUSED", asin="B0PAUSED001", paused=True)
    push_listing(world, sku="PUSH")
    world.listings.put(Listing(seller_id=OUR, marketplace_id=US, sku="SYNCED", asin="B0SYNC",
                               fulfillment="FBA", currency="USD"))
    due = [listing.sku for listing in world.service.due_for_reconcile(OUR, US, quiet_for=quiet)]
    assert due == ["NEVER", "OLD", "DISAGREES"]


def test_reconcile_reads_in_batches_of_20_and_decides_like_a_notification(world: World):
    for i in range(23):
        world.add(sku=f"S-{i:02d}", asin=f"B0ASIN{i:05d}")
    calls: list[tuple[str, list[str], str]] = []

    def reader_for(seller: str, market: str):
        def read(asins: list[str], condition: str) -> dict:
            calls.append((seller, asins, condition))
            return pricing_response(asins)
        return read

    outcomes = world.service.reconcile([(OUR, US)], reader_for, quiet_for=timedelta(hours=6))
    assert [len(asins) for _, asins, _ in calls] == [20, 3]
    assert {c for _, _, c in calls} == {"New"}
    assert len(outcomes) == 23 and all(o.status == "decided" for o in outcomes)
    assert len(world.sender.sent) == 23
    assert {u.source for u in world.sender.sent} == {f"reconcile@{NOW:%Y-%m-%dT%H:%M:%S}.000000Z"}
    (entry,) = world.history.of("S-00")
    assert entry["seen"]["notification_type"] == "reconcile" and entry["action"] == "change"
    # heard now: not due again
    assert world.service.due_for_reconcile(OUR, US, quiet_for=timedelta(hours=6)) == []


def test_reconcile_goes_round_robin_isolates_failures_and_stops_at_the_deadline(world: World):
    world.accounts = FakeAccounts(account(OUR), account("A9BROKEN"), account("A8OTHER"))
    for i in range(25):
        world.add(sku=f"S-{i:02d}", asin=f"B0ASIN{i:05d}")
    for seller in ("A9BROKEN", "A8OTHER"):
        world.listings.put(listing_from_config(config(sku="X-1"), seller))
    order: list[str] = []
    errors: list[str] = []

    def reader_for(seller: str, market: str):
        def read(asins: list[str], condition: str) -> dict:
            order.append(seller)
            if seller == "A9BROKEN":
                raise RuntimeError("quota")
            return pricing_response(asins)
        return read

    targets = [(OUR, US), ("A9BROKEN", US), ("A8OTHER", US)]
    world.service.reconcile(targets, reader_for, quiet_for=timedelta(hours=6),
                            on_error=lambda s, m, e: errors.append(s))
    assert order == [OUR, "A9BROKEN", "A8OTHER", OUR]  # round robin, not OUR twice first
    assert errors == ["A9BROKEN"]
    stop = iter([False, True])
    more = world.service.reconcile(targets, reader_for, quiet_for=timedelta(0),
                                   deadline=lambda: next(stop))
    assert len(more) == 20


def test_reconcile_of_an_unreadable_entry_is_reported(world: World):
    world.add()

    def reader_for(seller: str, market: str):
        return lambda asins, condition: {"responses": [{
            "status": {"statusCode": 400}, "body": {"errors": [
                {"code": "InvalidInput", "message": "bad ASIN"}]},
            "request": {"Asin": asins[0], "MarketplaceId": US}}]}

    (outcome,) = world.service.reconcile([(OUR, US)], reader_for, quiet_for=timedelta(hours=1))
    assert outcome.status == "unreadable" and "InvalidInput" in outcome.reason
    assert world.sender.sent == []


# -- outcomes and metrics -----------------------------------------------------------------------
def test_outcomes_round_trip_and_become_metrics(world: World):
    world.add()
    outcome = world.service.handle_notification(losing())
    assert Outcome.from_dict(outcome.as_dict()) == outcome

    class Sink:
        def __init__(self) -> None:
            self.seen: dict[tuple, int] = {}

        def add(self, name: str, value: int = 1, **dimension: str) -> None:
            key = (name, *dimension.items())
            self.seen[key] = self.seen.get(key, 0) + value

    sink = Sink()
    count_outcome(sink, outcome)
    stale = world.service.handle_notification(losing(nid="n-2"))
    count_outcome(sink, stale)
    assert sink.seen == {
        ("Decisions", ("Action", "change")): 1, ("PriceUpdatesEnqueued",): 1,
        ("StaleNotifications",): 1, ("Decisions", ("Action", "skip")): 1,
        ("Skips", ("Rule", "stale")): 1,
    }


def test_the_stored_state_reads_back_as_the_state_decided(world: World):
    """States are stored without their defaults and kept per SKU with their version: both
    must give exactly what a fresh read gives."""
    world.add(state=RepricingState(current_price=usd("24.99")))
    service = world.service
    service.handle_notification(losing())
    stored = world.stored()
    version, cached, json_form = service._states[(OUR, US, "SKU-1")]
    assert version == stored.version and cached == state_of(stored)
    assert json_form == stored.state  # the JSON this process wrote is what was stored
    first_version = version
    # a second decision serialises only the fields it changed: still exactly a full dump
    world.clock.now += timedelta(minutes=5)
    service.handle_notification(parse_notification(aoc(
        [offer(OUR, "24.48", winner=True), offer(RIVAL, "24.49")],
        nid="n-2", toc=T0 + timedelta(minutes=5))))
    stored = world.stored()
    version, cached, json_form = service._states[(OUR, US, "SKU-1")]
    assert version > first_version and json_form == stored.state
    assert stored.state == cached.model_dump(mode="json", exclude_defaults=True)
    assert "needs_reconcile" not in stored.state and "sales" not in stored.state


def test_a_withheld_b2b_change_keeps_the_live_business_price(world: World):
    world.accounts = FakeAccounts(account(dry_run=True))
    world.add(b2b_discount="2%", state=RepricingState(current_price=usd("25.00"),
                                                      business_price=usd("24.90")))
    data = b2b([offer(OUR, "25.00")], {1: (RIVAL, "24.00")}, nid="b2b-1")
    outcome = world.service.handle_notification(parse_notification(data))
    assert outcome.skus[0].action == "change" and outcome.skus[0].submission == "dry_run"
    assert state_of(world.stored()).business_price == usd("24.90")
    assert world.history.of("SKU-1")[0]["b2b"]["business_price"]["amount"] != "24.90"


def test_the_validated_config_is_kept_while_the_stored_strategy_stays_equal(world: World):
    """``_config`` keeps a SKU's ListingConfig while its stored strategy is the same dict
    or an equal one, and validates again when the strategy or the identity changes."""
    listing = world.add()
    service = world.service
    first, _ = service._config(listing)
    assert first is not None
    assert service._config(listing)[0] is first  # the same strategy dict
    equal = listing.evolve(strategy=dict(listing.strategy))
    assert service._config(equal)[0] is first  # an equal copy (a re-read)
    changed = listing.evolve(strategy={**listing.strategy, "max_price": "31.00"})
    again, _ = service._config(changed)
    assert again is not first and again.max_price == Decimal("31.00")
    moved = changed.evolve(asin="B0MOVED001")
    assert service._config(moved)[0].asin == "B0MOVED001"
