"""The Repricer's decision path in Lambda, shared by its three entry points.

``RepriceFunction`` (notifications), ``PushStrategyFunction`` (hourly) and
``ReconcileFunction`` (competitive data read back) all end here, so a SKU is decided,
stored, enqueued and recorded the same way whatever woke it up::

    service = RepricingService(listings, history, updates, accounts)
    outcome = service.handle_notification(notification)      # parsed SQS body
    outcome = service.push(seller_id, marketplace_id)        # hourly Push for one seller
    outcomes = service.reconcile(targets, reader_for, quiet_for=timedelta(hours=6))

For every SKU concerned:

1. **skip** without a decision (nothing stored): no strategy (*unconfigured*), a stored
   strategy that does not validate (*invalid_config*), *paused* (seller:
   ``Account.repricer_paused``; SKU: ``Listing.paused``), *stale* (DESIGN.md §3: a
   ``TimeOfOfferChange`` not newer than the last one applied to the SKU), *flagged*
   (several SKUs/offers of ours that cannot be paired);
2. **decide** with the pure engine (``decide``, ``decide_push``, ``record_order``) at
   ``now`` = the injected clock (``functions.core.clock.utc_now`` in Lambda);
3. **store** the new state with a conditional write on the version read; a lost race
   (:class:`~functions.core.repositories.errors.ConcurrentModification`) re-reads the
   listing and decides again, at most ``max_attempts`` times in all;
4. **enqueue** a :class:`~functions.reprice.price_update.PriceUpdate` for a ``change`` —
   unless the SKU or its seller is in *dry run* (``Listing.dry_run``,
   ``Account.repricer_dry_run``; a seller without an account counts as dry run) or the
   stack's kill switch is on: then the decision is recorded as not submitted and the
   stored state keeps the price that is really live, so switching dry run off starts from
   the truth. Updates go out after the writes; one SQS refuses is undone (the listing
   is written back as it was) and :class:`UpdatesNotEnqueued` is raised so the source is
   retried;
5. **record** to PriceHistory one entry per (source, SKU): kind ``decision`` (``order``
   for ORDER_CHANGE) with ``source``, what the source showed (``seen``) and what was
   decided (action, rule, reason, prices, urgent, submission, version). Push decisions
   and skips of paused SKUs on a schedule are recorded without ``seen`` / not at all.

Each call returns an :class:`Outcome` (JSON-safe with :meth:`Outcome.as_dict`) that the
handlers turn into logs and metrics. Nothing here imports boto3 or reads the environment:
the adapters are passed in (:func:`service_from_settings` builds the AWS ones).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from functions.core.clock import monotonic as clock_monotonic
from functions.core.clock import utc_now
from functions.core.marketplaces import MARKETPLACES
from functions.core.repositories.dynamo import iso_utc
from functions.core.repositories.errors import ConcurrentModification
from functions.core.repositories.listings import Listing
from functions.core.repositories.price_history import PriceHistoryConfig
from functions.reprice.listings import config_of, state_json, state_of
from functions.reprice.logic import (
    AnyOfferChanged,
    Decision,
    ListingConfig,
    Notification,
    OrderChange,
    RepricingState,
    decide,
    decide_push,
    is_stale,
    market_view,
    match,
    match_order,
    normalise_condition,
    record_order,
)
from functions.reprice.logic.offers_from_pricing import (
    item_condition_param,
    offer_changes_from_batch,
)
from functions.reprice.price_update import PriceUpdate, QuantityTier
from functions.reprice.updates import PriceUpdateSender

if TYPE_CHECKING:
    from functions.core.accounts import Account
    from functions.core.repositories.dynamo import Page
    from functions.core.repositories.price_history import PriceHistoryEntry

logger = logging.getLogger(__name__)

PAGE = 100  # listings per query page (push, reconcile)
CONFIG_CACHE = 20_000  # SKUs whose validated strategy is kept (a few MB)
BATCH_ASINS = 20  # getItemOffersBatch maximum

# What a withheld (dry run / kill switch) change must not leave in the state: the price
# belief and the marks of a submission. The SKU keeps the price that is really live.
_B2C_SUBMISSION_FIELDS = (
    "current_price", "last_change_at", "pending_price", "pending_since",
    "climbed_from", "climbed_to", "last_climb_at",
    "push_level", "push_level_since", "push_last_move", "push_ceiling_level",
    "push_ceiling_set_at",
)
_B2B_SUBMISSION_FIELDS = ("business_price", "b2b_tiers")


# -- the adapters -------------------------------------------------------------------------
class ListingStore(Protocol):
    """:class:`~functions.core.repositories.listings.ListingRepository` or a fake."""

    def find_by_asin(self, seller_id: str, marketplace_id: str, asin: str) -> list[Listing]: ...

    def get(self, seller_id: str, marketplace_id: str, sku: str) -> Listing | None: ...

    def save(self, listing: Listing, expected_version: int) -> Listing: ...

    def save_state(
        self, listing: Listing, state: Mapping[str, Any], expected_version: int,
    ) -> Listing: ...

    def list_for_marketplace(
        self, seller_id: str, marketplace_id: str, *, limit: int = ...,
        next_token: str | None = ...,
    ) -> Page[Listing]: ...


class HistoryStore(Protocol):
    """:class:`~functions.core.repositories.price_history.PriceHistoryRepository` or a fake."""

    def new_entry(
        self, seller_id: str, marketplace_id: str, sku: str, kind: str,
        payload: Mapping[str, Any] | None = ..., *, at: datetime | None = ...,
    ) -> PriceHistoryEntry: ...

    def append_many(self, entries: Sequence[PriceHistoryEntry]) -> None: ...


class AccountLookup(Protocol):
    """:class:`~functions.core.repositories.accounts.AccountRepository` or a fake."""

    def get_by_seller(self, seller_id: str) -> Account | None: ...

    def list_accounts(self, *, limit: int = ..., next_token: str | None = ...) -> Page[Account]: ...


OffersReader = Callable[[list[str], str], Mapping[str, Any]]
"""``(asins ≤ 20, item condition "New") → getItemOffersBatch response`` of one seller."""


class UpdatesNotEnqueued(RuntimeError):
    """SQS refused some price updates; their listings were written back as they were."""

    def __init__(self, skus: Sequence[str]):
        self.skus = tuple(skus)
        super().__init__(f"price updates not enqueued for {', '.join(self.skus)}")


class RetriesExhausted(RuntimeError):
    """A listing kept changing under us (``max_attempts`` conditional writes lost)."""


_NOTEWORTHY_RULES = frozenset({"flagged", "invalid_config", "deleted"})


# -- outcomes -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SkuOutcome:
    """What happened to one SKU.

    ``action``: ``change`` | ``hold`` | ``skip`` (a decision) or ``counted`` (an order's
    units). ``rule``: the engine's rule, or why it was skipped (``stale``, ``paused``,
    ``unconfigured``, ``invalid_config``, ``flagged``, ``deleted``). ``submission``:
    ``enqueued`` | ``dry_run`` | ``kill_switch`` | ``failed`` for a change, else None.
    """

    sku: str
    action: str
    rule: str
    reason: str
    old_price: str | None = None
    new_price: str | None = None
    currency: str | None = None
    submission: str | None = None
    urgent: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku, "action": self.action, "rule": self.rule, "reason": self.reason,
            "old_price": self.old_price, "new_price": self.new_price, "currency": self.currency,
            "submission": self.submission, "urgent": self.urgent,
        }

    @property
    def noteworthy(self) -> bool:
        """Worth an INFO log line (a change, or something a person should look at); the
        rest is in PriceHistory anyway and logged at DEBUG."""
        return self.action == "change" or self.rule in _NOTEWORTHY_RULES

    def log_fields(self) -> dict[str, Any]:
        return {"sku": self.sku, "action": self.action, "rule": self.rule,
                "old_price": self.old_price, "new_price": self.new_price,
                "submission": self.submission}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SkuOutcome:
        return cls(**{name: data.get(name) for name in cls.__slots__ if name in data})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one notification (or one Push / reconciliation pass) did.

    ``status``: ``decided`` (at least one SKU decided), ``counted`` (an order's units
    counted), ``unmatched`` (no listing of ours), ``unconfigured`` (only SKUs without a
    strategy), ``stale``, ``paused``, ``flagged`` (every SKU that remained was skipped for
    that reason), ``skipped`` (skipped for mixed reasons), ``unhandled`` (a type the
    Repricer does not handle), ``unreadable`` (reconciliation: an entry without data).
    """

    source: str
    kind: str
    status: str
    reason: str = ""
    seller_id: str | None = None
    marketplace_id: str | None = None
    asin: str | None = None
    skus: tuple[SkuOutcome, ...] = ()
    conflicts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "kind": self.kind, "status": self.status,
            "reason": self.reason, "seller_id": self.seller_id,
            "marketplace_id": self.marketplace_id, "asin": self.asin,
            "skus": [s.as_dict() for s in self.skus], "conflicts": self.conflicts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        """Read back :meth:`as_dict` (e.g. the idempotency store's copy)."""
        return cls(
            source=data["source"], kind=data["kind"], status=data["status"],
            reason=data.get("reason") or "", seller_id=data.get("seller_id"),
            marketplace_id=data.get("marketplace_id"), asin=data.get("asin"),
            skus=tuple(SkuOutcome.from_dict(s) for s in data.get("skus") or ()),
            conflicts=int(data.get("conflicts") or 0),
        )

    @property
    def enqueued(self) -> int:
        return sum(1 for s in self.skus if s.submission == "enqueued")


@dataclass(frozen=True, slots=True)
class SellerSwitches:
    """A seller's switches from its account (no account: dry run, to be safe)."""

    paused: bool = False
    dry_run: bool = True
    known: bool = False

    @classmethod
    def of(cls, account: Account | None) -> SellerSwitches:
        if account is None:
            return cls()
        return cls(
            paused=bool(getattr(account, "repricer_paused", False)),
            dry_run=bool(getattr(account, "repricer_dry_run", True)),
            known=True,
        )


# -- one unit of work ---------------------------------------------------------------------
class _Evaluation(NamedTuple):
    """A decision about to be stored, or a skip (``decision`` None, ``rule`` + ``reason``).
    A named tuple: one per SKU decided, made faster than a frozen dataclass."""

    config: ListingConfig | None = None
    prior: RepricingState | None = None
    decision: Decision | None = None
    state: RepricingState | None = None  # for orders: the state to store
    outcome: SkuOutcome | None = None  # ready-made (orders, skips)
    history: bool = True  # write a decision entry for a skip


@dataclass
class _Applied:
    before: Listing
    stored: Listing
    outcome: SkuOutcome
    payload: dict[str, Any]
    update: PriceUpdate | None = None


@dataclass
class _Run:
    """The writes of one source (a notification, a page of Push, one reconciled ASIN):
    collected while deciding, then enqueued and recorded by :meth:`RepricingService._commit`."""

    source: str
    kind: str
    now: datetime
    seen: dict[str, Any] | None = None  # what the source showed, kept with each decision
    applied: list[_Applied] = field(default_factory=list)
    skipped: list[tuple[Listing, SkuOutcome, bool]] = field(default_factory=list)
    outcomes: list[SkuOutcome] = field(default_factory=list)
    conflicts: int = 0


def _price(money: Any) -> str | None:
    return money.to_str() if money is not None else None


def _latest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def last_heard(state: RepricingState) -> datetime | None:
    """When the SKU last heard about its market: the latest offer change applied or the
    last time our offer was seen in a notification."""
    return _latest(state.last_time_of_offer_change, state.live_seen_at)


def unsubmitted_state(prior: RepricingState, decision: Decision) -> RepricingState:
    """The state to store for a ``change`` that is not submitted (dry run, kill switch):
    everything observed and remembered, but the price fields stay what is live."""
    fields = _B2B_SUBMISSION_FIELDS if decision.b2b is not None else _B2C_SUBMISSION_FIELDS
    restored: dict[str, Any] = {name: getattr(prior, name) for name in fields}
    if decision.b2b is None and prior.current_price is None:
        restored["current_price"] = decision.old_price
    return decision.state.updated(**restored)


def _changed_fields(prior: RepricingState, state: RepricingState) -> set[str]:
    """The fields of ``state`` that are not the very same objects as ``prior``'s (a
    decision changes a handful of the ~30)."""
    before = prior.__dict__
    return {name for name, value in state.__dict__.items() if value is not before[name]}


def _same_values(prior: RepricingState, state: RepricingState, names: Iterable[str]) -> bool:
    """``state == prior`` when only ``names`` (:func:`_changed_fields`) can differ."""
    before, after = prior.__dict__, state.__dict__
    for name in names:
        if not after[name] == before[name]:
            return False
    return True


def _state_json(
    state: RepricingState, prior: RepricingState, prior_json: dict[str, Any] | None,
    changed: set[str],
) -> dict[str, Any]:
    """``state`` in its stored JSON form, defaults left out (every default of
    ``RepricingState`` is what a missing key reads back as, so this is lossless and the
    stored map stays small). Not validated again here: the JSON form holds no float by
    construction (the repository checks that too).

    ``prior_json``, when known, is exactly that JSON form of ``prior`` (this process wrote
    it): only ``changed`` (:func:`_changed_fields`: the fields of ``state`` that are not
    the very same objects as ``prior``'s) are serialised again, the rest is taken over.
    Serialising Money is most of the dump's cost."""
    if prior_json is None:
        return state_json(state)
    json_form = dict(prior_json)
    if changed:
        for name in changed:
            json_form.pop(name, None)
        json_form.update(state_json(state, changed, (prior, prior_json), ordered=False))
    return json_form


def _status(outcomes: Sequence[SkuOutcome], *, empty: str) -> str:
    if not outcomes:
        return empty
    counted = False
    for outcome in outcomes:
        if outcome.action in ("change", "hold"):
            return "decided"
        if outcome.action == "counted":
            counted = True
    if counted:
        return "counted"
    rules = {o.rule for o in outcomes}
    if len(rules) == 1:
        (rule,) = rules
        if rule in ("stale", "paused", "unconfigured", "flagged"):
            return rule
    return "skipped"


# -- the service --------------------------------------------------------------------------
class RepricingService:
    """The decision path (see the module doc).

    ``clock`` gives "now" (aware UTC); ``kill_switch`` (REPRICER_KILL_SWITCH) withholds
    every change; ``max_attempts`` bounds the conditional writes per SKU; seller switches
    are cached ``switches_ttl`` seconds (``monotonic``: the core clock's, simulated time on
    the local stack) so a batch of one seller's notifications reads its account once.
    """

    def __init__(
        self,
        listings: ListingStore,
        history: HistoryStore,
        updates: PriceUpdateSender,
        accounts: AccountLookup,
        clock: Callable[[], datetime] = utc_now,
        *,
        kill_switch: bool = False,
        max_attempts: int = 3,
        switches_ttl: float = 30.0,
        monotonic: Callable[[], float] = clock_monotonic,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.listings = listings
        self.history = history
        self.updates = updates
        self.accounts = accounts
        self.clock = clock
        self.kill_switch = kill_switch
        self.max_attempts = max_attempts
        self.switches_ttl = switches_ttl
        self._monotonic = monotonic
        self._switches: dict[str, tuple[float, SellerSwitches]] = {}
        self._configs: dict[tuple[str, str, str], tuple[Any, Any, ListingConfig]] = {}
        # (SKU) → (version, its state, the state's JSON as this process wrote it or None)
        self._states: dict[
            tuple[str, str, str], tuple[int, RepricingState, dict[str, Any] | None]] = {}

    # -- seller switches ----------------------------------------------------------------
    def switches(self, seller_id: str) -> SellerSwitches:
        """The seller's ``repricer_paused`` / ``repricer_dry_run`` (cached briefly)."""
        moment = self._monotonic()
        cached = self._switches.get(seller_id)
        if cached is not None and moment - cached[0] < self.switches_ttl:
            return cached[1]
        switches = SellerSwitches.of(self.accounts.get_by_seller(seller_id))
        self._switches[seller_id] = (moment, switches)
        return switches

    def forget_switches(self) -> None:
        self._switches.clear()

    # -- notifications ------------------------------------------------------------------
    def handle_notification(self, notification: Notification) -> Outcome:
        """Route a parsed notification: offer changes are decided, orders counted."""
        source = notification.notification_id or notification.notification_type
        kind = notification.notification_type
        if notification.offer_change is not None:
            return self.handle_offer_change(notification.offer_change, source=source, kind=kind)
        if notification.order_change is not None:
            return self.handle_order(notification.order_change, source=source, kind=kind)
        return Outcome(source=source, kind=kind, status="unhandled",
                       reason=f"notification type {kind} is not handled by the Repricer")

    def handle_offer_change(
        self, payload: AnyOfferChanged, *, source: str, kind: str = "ANY_OFFER_CHANGED",
    ) -> Outcome:
        """Decide every SKU of ours an offer change (or a reconciliation read) is about."""
        now = self.clock()
        seller, market, asin = payload.seller_id, payload.marketplace_id, payload.asin
        run = _Run(source, kind, now, self._seen(payload, kind))
        found = [
            listing for listing in self.listings.find_by_asin(seller, market, asin)
            if normalise_condition(listing.condition) == payload.condition
        ]
        if not found:
            return Outcome(source, kind, "unmatched", seller_id=seller, marketplace_id=market,
                           asin=asin, reason=f"no listing for ASIN {asin} ({payload.condition}) "
                                             f"of seller {seller} on {market}")
        switches = self.switches(seller)
        configured: list[tuple[Listing, ListingConfig]] = []
        for listing in found:
            config, problem = self._config(listing)
            if config is None:
                self._skip(run, listing, problem or "unconfigured", history=True)
            else:
                configured.append((listing, config))
        active: list[tuple[Listing, ListingConfig]] = []
        states: dict[tuple[str, str, str], RepricingState] = {}
        for listing, config in configured:
            state = self._state(listing)
            skipped = self._offer_gate(payload, listing, state, switches)
            if skipped is not None:
                run.skipped.append((listing, skipped, True))
                run.outcomes.append(skipped)
            else:
                active.append((listing, config))
                states[config.key] = state
        if active:
            by_key = {config.key: listing for listing, config in active}
            result = match(payload, [config for _, config in active], states)
            for unpaired in result.unpaired:
                listing = by_key[unpaired.config.key]
                self._skip(run, listing, "flagged", f"flagged: {unpaired.reason}",
                           price=states[unpaired.config.key].current_price)
            for matched in result.matched:
                first = (matched.config, matched.our_offer, states[matched.config.key])

                def evaluate(listing: Listing, attempt: int, first: Any = first) -> _Evaluation:
                    return self._evaluate_offer(payload, listing, switches, now,
                                                first if attempt == 0 else None)

                self._decide(run, by_key[matched.config.key], evaluate, switches)
        return self._commit(run, seller, market, asin, empty="unmatched")

    def _offer_gate(
        self, payload: AnyOfferChanged, listing: Listing, state: RepricingState,
        switches: SellerSwitches,
    ) -> SkuOutcome | None:
        """Why a configured SKU takes no decision on ``payload`` (paused, stale), or None."""
        paused = self._paused(listing, switches)
        if paused is not None:
            return SkuOutcome(listing.sku, "skip", "paused", paused, currency=listing.currency)
        if is_stale(payload, state.last_time_of_offer_change):
            assert state.last_time_of_offer_change is not None
            return SkuOutcome(
                listing.sku, "skip", "stale",
                f"stale: TimeOfOfferChange {iso_utc(payload.time_of_offer_change)} is not newer "
                f"than the last applied {iso_utc(state.last_time_of_offer_change)}",
                old_price=_price(state.current_price), currency=listing.currency,
            )
        return None

    def _evaluate_offer(
        self, payload: AnyOfferChanged, listing: Listing, switches: SellerSwitches,
        now: datetime, first: tuple[ListingConfig, Any, RepricingState] | None,
    ) -> _Evaluation:
        if first is not None:
            config, our_offer, prior = first
        else:  # a re-read after a lost race: the listing may have changed in between
            config, problem = self._config(listing)
            if config is None:
                return self._skipping(listing, problem or "unconfigured")
            prior = self._state(listing)
            gate = self._offer_gate(payload, listing, prior, switches)
            if gate is not None:
                return _Evaluation(outcome=gate)
            result = match(payload, [config], {config.key: prior})
            if not result.matched:
                reason = result.unpaired[0].reason if result.unpaired else "no longer matches"
                return self._skipping(listing, "flagged", f"flagged: {reason}")
            our_offer = result.matched[0].our_offer
        decision = decide(market_view(payload, config, our_offer), config, prior, now)
        return _Evaluation(config=config, prior=prior, decision=decision)

    # -- orders -------------------------------------------------------------------------
    def handle_order(
        self, order: OrderChange, *, source: str, kind: str = "ORDER_CHANGE"
    ) -> Outcome:
        """Count an ORDER_CHANGE's units into each named SKU's sales (Push velocity)."""
        now = self.clock()
        seller, market = order.seller_id, order.marketplace_id
        if not seller or not market:
            return Outcome(source, kind, "unmatched", seller_id=seller, marketplace_id=market,
                           reason="ORDER_CHANGE without SellerId or MarketplaceId: cannot "
                                  "find the listings")
        seen = {"notification_type": kind, "amazon_order_id": order.amazon_order_id,
                "order_status": order.summary.order_status}
        run = _Run(source, kind, now, seen)
        skus = list(dict.fromkeys(item.seller_sku for item in order.summary.order_items))
        for sku in skus:
            listing = self.listings.get(seller, market, sku)
            if listing is None:
                continue
            config, problem = self._config(listing)
            if config is None:
                self._skip(run, listing, problem or "unconfigured", history=True)
                continue
            if not match_order(order, [config]):
                continue

            def evaluate(current: Listing, attempt: int) -> _Evaluation:
                return self._evaluate_order(order, current, now)

            self._decide(run, listing, evaluate, None)
        if not run.outcomes:
            return Outcome(source, kind, "unmatched", seller_id=seller, marketplace_id=market,
                           reason=f"ORDER_CHANGE {order.amazon_order_id}: no listing for SKU(s) "
                                  f"{', '.join(skus) or 'none'}")
        return self._commit(run, seller, market, None, empty="unmatched")

    def _evaluate_order(self, order: OrderChange, listing: Listing, now: datetime) -> _Evaluation:
        config, problem = self._config(listing)
        if config is None:
            return self._skipping(listing, problem or "unconfigured")
        prior = self._state(listing)
        state, units = record_order(order, config, prior, now)
        quantity = sum(i.quantity for i in order.summary.order_items
                       if i.seller_sku == listing.sku)
        status = order.summary.order_status or "?"
        window = f"{config.push_window.total_seconds() / 3600:g} h"
        already = " (already counted)" if state == prior else ""
        reason = (f"order {order.amazon_order_id} ({status}, {quantity} unit(s)){already}: "
                  f"{units} unit(s) in the last {window}")
        outcome = SkuOutcome(listing.sku, "counted", "order", reason,
                             old_price=_price(prior.current_price), currency=config.currency)
        return _Evaluation(config=config, prior=prior, state=state, outcome=outcome)

    # -- Push (hourly) ------------------------------------------------------------------
    def push(
        self, seller_id: str, marketplace_id: str, *, source: str | None = None,
        deadline: Callable[[], bool] | None = None,
    ) -> Outcome:
        """The hourly Push decision of every Push SKU of one seller on one marketplace.

        ``source`` defaults to ``push@<hour ISO>``; ``deadline()`` true stops early (the
        rest waits for the next hour; the outcome's reason says how many).
        """
        now = self.clock()
        hour = now.replace(minute=0, second=0, microsecond=0)
        source = source or f"push@{hour.strftime('%Y-%m-%dT%H:00Z')}"
        switches = self.switches(seller_id)
        if switches.paused:
            return Outcome(source, "push", "paused", reason="seller paused",
                           seller_id=seller_id, marketplace_id=marketplace_id)
        outcomes: list[SkuOutcome] = []
        conflicts = 0
        deferred = 0
        for page in self._pages(seller_id, marketplace_id):
            run = _Run(source, "push", now)
            for listing in page:
                config, _ = self._config(listing)
                if config is None or config.strategy != "push":
                    continue
                if deadline is not None and deadline():
                    deferred += 1
                    continue
                paused = self._paused(listing, switches)
                if paused is not None:
                    self._skip(run, listing, "paused", paused, history=False)
                    continue

                def evaluate(current: Listing, attempt: int) -> _Evaluation:
                    return self._evaluate_push(current, switches, now)

                self._decide(run, listing, evaluate, switches)
            outcome = self._commit(run, seller_id, marketplace_id, None, empty="unmatched")
            outcomes.extend(outcome.skus)
            conflicts += outcome.conflicts
        reason = f"{deferred} Push SKU(s) left for the next run (time budget)" if deferred else ""
        return Outcome(source, "push", _status(outcomes, empty="unmatched"), reason=reason,
                       seller_id=seller_id, marketplace_id=marketplace_id,
                       skus=tuple(outcomes), conflicts=conflicts)

    def _evaluate_push(
        self, listing: Listing, switches: SellerSwitches, now: datetime
    ) -> _Evaluation:
        config, problem = self._config(listing)
        if config is None or config.strategy != "push":
            return self._skipping(listing, problem or "unconfigured",
                                  "no longer a Push SKU", history=False)
        paused = self._paused(listing, switches)
        if paused is not None:
            return self._skipping(listing, "paused", paused, history=False)
        prior = self._state(listing)
        return _Evaluation(config=config, prior=prior, decision=decide_push(config, prior, now))

    # -- reconciliation -----------------------------------------------------------------
    def due_for_reconcile(
        self, seller_id: str, marketplace_id: str, *, quiet_for: timedelta,
        now: datetime | None = None,
    ) -> list[Listing]:
        """Configured, unpaused, non-Push SKUs that heard nothing for ``quiet_for`` (or
        whose live price disagrees with ours), the longest silent first."""
        now = now or self.clock()
        due: list[tuple[datetime | None, Listing]] = []
        for page in self._pages(seller_id, marketplace_id):
            for listing in page:
                config, _ = self._config(listing)
                if config is None or config.strategy == "push" or listing.paused:
                    continue
                state = self._state(listing)
                heard = last_heard(state)
                if heard is None or heard <= now - quiet_for or state.needs_reconcile:
                    due.append((heard, listing))
        due.sort(key=lambda item: (item[0] is not None, item[0] or now, item[1].sku))
        return [listing for _, listing in due]

    def reconcile_plan(
        self, seller_id: str, marketplace_id: str, *, quiet_for: timedelta
    ) -> list[tuple[str, list[str]]]:
        """The ``getItemOffersBatch`` calls one seller-marketplace needs now:
        ``[(ItemCondition, ≤ 20 ASINs)]``, the longest-silent ASINs first; none when the
        seller is paused."""
        if self.switches(seller_id).paused:
            return []
        groups: dict[str, list[str]] = {}
        for listing in self.due_for_reconcile(seller_id, marketplace_id, quiet_for=quiet_for):
            condition = item_condition_param(normalise_condition(listing.condition) or "new")
            asins = groups.setdefault(condition, [])
            if listing.asin not in asins:
                asins.append(listing.asin)
        return [
            (condition, asins[start : start + BATCH_ASINS])
            for condition, asins in groups.items()
            for start in range(0, len(asins), BATCH_ASINS)
        ]

    def reconcile_batch(
        self, seller_id: str, asins: list[str], condition: str, read_offers: OffersReader
    ) -> list[Outcome]:
        """One ``getItemOffersBatch`` call, each ASIN decided like a notification (source
        ``reconcile@<time of the read>``; what was read is recorded as kind ``reconcile``)."""
        response = read_offers(asins, condition)
        read_at = self.clock()
        source = f"reconcile@{iso_utc(read_at)}"
        outcomes: list[Outcome] = []
        for read in offer_changes_from_batch(response, seller_id=seller_id, read_at=read_at):
            if read.payload is None:
                logger.warning("reconcile: %s: %s", read.asin, read.problem,
                               extra={"asin": read.asin, "seller_id": seller_id})
                outcomes.append(Outcome(
                    source, "reconcile", "unreadable", reason=read.problem or "",
                    seller_id=seller_id, marketplace_id=read.marketplace_id, asin=read.asin,
                ))
                continue
            outcomes.append(self.handle_offer_change(
                read.payload, source=source, kind="reconcile"))
        return outcomes

    def reconcile(
        self,
        targets: Iterable[tuple[str, str]],
        reader_for: Callable[[str, str], OffersReader],
        *,
        quiet_for: timedelta,
        deadline: Callable[[], bool] | None = None,
        on_error: Callable[[str, str, Exception], None] | None = None,
    ) -> list[Outcome]:
        """Reconcile every ``(seller_id, marketplace_id)`` of ``targets``.

        The calls go round-robin across the targets: each seller has its own SP-API quota
        (getItemOffersBatch: 0.1 request/s, burst 1), so while one seller's bucket refills
        the next seller is read, and no seller starves another. ``reader_for(seller,
        marketplace)`` gives the seller's :data:`OffersReader`. ``deadline()`` true stops
        before the next call (the rest is due again next run, longest-silent first). An
        exception of one target goes to ``on_error`` and drops that target (raised when
        ``on_error`` is None).
        """
        queue: deque[tuple[str, str, deque[tuple[str, list[str]]]]] = deque()
        for seller_id, marketplace_id in targets:
            plan = self.reconcile_plan(seller_id, marketplace_id, quiet_for=quiet_for)
            if plan:
                queue.append((seller_id, marketplace_id, deque(plan)))
        outcomes: list[Outcome] = []
        while queue:
            if deadline is not None and deadline():
                break
            seller_id, marketplace_id, plan = queue.popleft()
            condition, asins = plan.popleft()
            try:
                outcomes.extend(self.reconcile_batch(
                    seller_id, asins, condition, reader_for(seller_id, marketplace_id)))
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(seller_id, marketplace_id, exc)
                continue
            if plan:
                queue.append((seller_id, marketplace_id, plan))
        return outcomes

    # -- sellers ------------------------------------------------------------------------
    def repricer_targets(self) -> Iterator[tuple[str, str]]:
        """(seller id, marketplace id) of every account that bought the Repricer, each once:
        the account's own marketplaces (profile and connection), or every marketplace when
        it names none (one empty Query each)."""
        seen: set[tuple[str, str]] = set()
        token: str | None = None
        while True:
            page = self.accounts.list_accounts(limit=100, next_token=token)
            for account in page.items:
                if "repricer" not in {str(p) for p in account.products}:
                    continue
                marketplaces = account.marketplace_ids or tuple(MARKETPLACES)
                for seller_id in account.seller_ids or (account.seller_id,):
                    for marketplace_id in marketplaces:
                        if (seller_id, marketplace_id) not in seen:
                            seen.add((seller_id, marketplace_id))
                            yield seller_id, marketplace_id
            token = page.next_token
            if not token:
                return

    # -- the common path ----------------------------------------------------------------
    def _pages(self, seller_id: str, marketplace_id: str) -> Iterator[list[Listing]]:
        token: str | None = None
        while True:
            page = self.listings.list_for_marketplace(
                seller_id, marketplace_id, limit=PAGE, next_token=token
            )
            yield page.items
            token = page.next_token
            if not token:
                return

    def _config(self, listing: Listing) -> tuple[ListingConfig | None, str | None]:
        """The listing's strategy; (None, "unconfigured"/"invalid_config: …") otherwise.

        A SKU's ListingConfig (immutable) is kept while its stored strategy and identity
        stay equal: comparing two dicts costs far less than validating one again."""
        key = (listing.seller_id, listing.marketplace_id, listing.sku)
        identity = (listing.asin, listing.condition, listing.fulfillment, listing.currency)
        cached = self._configs.get(key)
        if cached is not None and cached[0] == identity and (
                cached[1] is listing.strategy or cached[1] == listing.strategy):
            return cached[2], None
        try:
            config = config_of(listing)
        except ValueError as exc:
            first = str(exc).splitlines()
            detail = " ".join(line.strip() for line in first[:3])
            return None, f"invalid_config: stored strategy does not validate: {detail}"
        if config is None:
            return None, "unconfigured"
        if len(self._configs) >= CONFIG_CACHE:
            self._configs.clear()
        self._configs[key] = (identity, listing.strategy, config)
        return config, None

    def _state(self, listing: Listing) -> RepricingState:
        """The listing's state. What this process wrote last is kept per SKU with its
        version: a conditional write makes (SKU, version) name one content, so the stored
        JSON need not be validated again when the version is still ours."""
        key = (listing.seller_id, listing.marketplace_id, listing.sku)
        cached = self._states.get(key)
        if cached is not None and cached[0] == listing.version:
            return cached[1]
        state = state_of(listing)
        self._remember(listing, state)
        return state

    def _remember(
        self, listing: Listing, state: RepricingState, json_form: dict[str, Any] | None = None,
    ) -> None:
        """``json_form``: the JSON of ``state`` this process just wrote as ``listing``'s
        (None when the stored JSON was read, not written here: it may hold other keys)."""
        if len(self._states) >= CONFIG_CACHE:
            self._states.clear()
        self._states[(listing.seller_id, listing.marketplace_id, listing.sku)] = (
            listing.version, state, json_form)

    def _json_of(self, listing: Listing, state: RepricingState) -> dict[str, Any] | None:
        """The JSON this process wrote for ``state`` as ``listing``'s current version, if
        it did (None: unknown, e.g. read from the table)."""
        cached = self._states.get((listing.seller_id, listing.marketplace_id, listing.sku))
        if cached is not None and cached[0] == listing.version and cached[1] is state:
            return cached[2]
        return None

    def _write_state(
        self, listing: Listing, prior: RepricingState, state: RepricingState,
    ) -> Listing:
        """Store ``state`` (a conditional write on the version read) unless it equals
        ``prior``; remember it with the JSON written. Returns the listing as stored."""
        prior_json = self._json_of(listing, prior)
        changed = _changed_fields(prior, state)
        if type(state) is type(prior) and _same_values(prior, state, changed):
            self._remember(listing, state, prior_json if state is prior else None)
            return listing
        json_form = _state_json(state, prior, prior_json, changed)
        stored = self.listings.save_state(listing, json_form, listing.version)
        self._remember(stored, state, json_form)
        return stored

    def _paused(self, listing: Listing, switches: SellerSwitches | None) -> str | None:
        if switches is not None and switches.paused:
            return "paused: the seller paused the Repricer"
        if listing.paused:
            return "paused: this SKU is paused"
        return None

    def _withheld(self, listing: Listing, switches: SellerSwitches | None) -> str | None:
        """Why a change is not submitted (``kill_switch``/``dry_run``), or None."""
        if self.kill_switch:
            return "kill_switch"
        if listing.dry_run or switches is None or switches.dry_run:
            return "dry_run"
        return None

    @staticmethod
    def _skipping(
        listing: Listing, rule_or_problem: str, reason: str | None = None, *,
        history: bool = True,
    ) -> _Evaluation:
        rule, _, detail = rule_or_problem.partition(": ")
        text = reason or (f"{rule}: {detail}" if detail else _SKIP_REASONS.get(rule, rule))
        return _Evaluation(
            outcome=SkuOutcome(listing.sku, "skip", rule, text, currency=listing.currency),
            history=history,
        )

    def _skip(
        self, run: _Run, listing: Listing, rule_or_problem: str, reason: str | None = None, *,
        price: Any = None, history: bool = True,
    ) -> None:
        evaluation = self._skipping(listing, rule_or_problem, reason, history=history)
        outcome = evaluation.outcome
        assert outcome is not None
        if price is not None:
            outcome = SkuOutcome(outcome.sku, outcome.action, outcome.rule, outcome.reason,
                                 old_price=_price(price), currency=outcome.currency)
        run.skipped.append((listing, outcome, history))
        run.outcomes.append(outcome)

    def _decide(
        self, run: _Run, listing: Listing, evaluate: Callable[[Listing, int], _Evaluation],
        switches: SellerSwitches | None,
    ) -> None:
        """Evaluate and store one SKU; a lost race re-reads it and evaluates again."""
        for attempt in range(self.max_attempts):
            evaluation = evaluate(listing, attempt)
            if evaluation.decision is None and evaluation.state is None:
                assert evaluation.outcome is not None
                run.skipped.append((listing, evaluation.outcome, evaluation.history))
                run.outcomes.append(evaluation.outcome)
                return
            try:
                self._store(run, listing, evaluation, switches)
                return
            except ConcurrentModification as conflict:
                run.conflicts += 1
                logger.info("listing %s changed under us (%s): deciding again", listing.sku,
                            conflict, extra={"sku": listing.sku, "attempt": attempt + 1})
                fresh = self.listings.get(listing.seller_id, listing.marketplace_id, listing.sku)
                if fresh is None:
                    outcome = SkuOutcome(listing.sku, "skip", "deleted",
                                         "the listing was deleted while deciding",
                                         currency=listing.currency)
                    run.skipped.append((listing, outcome, False))
                    run.outcomes.append(outcome)
                    return
                listing = fresh
        raise RetriesExhausted(
            f"listing {listing.seller_id}/{listing.marketplace_id}/{listing.sku}: "
            f"{self.max_attempts} conditional writes lost"
        )

    def _store(
        self, run: _Run, listing: Listing, evaluation: _Evaluation,
        switches: SellerSwitches | None,
    ) -> None:
        config, prior, decision = evaluation.config, evaluation.prior, evaluation.decision
        assert config is not None and prior is not None
        if decision is None:  # an order: counted into the state
            state = evaluation.state
            assert state is not None and evaluation.outcome is not None
            stored = self._write_state(listing, prior, state)
            outcome = evaluation.outcome
            run.applied.append(_Applied(listing, stored, outcome, outcome.as_dict()))
            run.outcomes.append(outcome)
            return
        withheld = self._withheld(listing, switches) if decision.action == "change" else None
        state = decision.state if withheld is None else unsubmitted_state(prior, decision)
        stored = self._write_state(listing, prior, state)
        update = None
        if decision.action == "change" and withheld is None:
            update = self._price_update(stored, config, decision, run)
        outcome = SkuOutcome(
            listing.sku, decision.action, decision.rule, decision.reason,
            old_price=_price(decision.old_price),
            new_price=_price(decision.new_price) if decision.action == "change" else None,
            currency=config.currency,
            submission=("enqueued" if update is not None else withheld)
            if decision.action == "change" else None,
            urgent=decision.urgent,
        )
        payload = outcome.as_dict()
        payload.update(strategy=decision.strategy, version=stored.version)
        if decision.b2b is not None:
            payload["b2b"] = decision.b2b.model_dump(mode="json")
        run.applied.append(_Applied(listing, stored, outcome, payload, update))
        run.outcomes.append(outcome)

    @staticmethod
    def _price_update(
        stored: Listing, config: ListingConfig, decision: Decision, run: _Run
    ) -> PriceUpdate | None:
        business = None
        tiers: tuple[QuantityTier, ...] = ()
        price = decision.new_price
        if decision.b2b is not None:
            business = decision.b2b.business_price
            tiers = tuple(QuantityTier(quantity=t.quantity, price=t.price)
                          for t in decision.b2b.tiers)
            price = decision.state.current_price or config.configured_current
        if price is None:
            return None
        return PriceUpdate(
            seller_id=stored.seller_id, marketplace_id=stored.marketplace_id, sku=stored.sku,
            price=price, min_price=config.min, max_price=config.max, business_price=business,
            quantity_tiers=tiers, urgent=decision.urgent, decided_at=run.now,
            source=run.source, reason=decision.reason, sequence=stored.version,
        )

    def _commit(
        self, run: _Run, seller: str, market: str, asin: str | None, *, empty: str
    ) -> Outcome:
        """Enqueue the run's updates (undoing refused ones), then write its history."""
        updates = [a.update for a in run.applied if a.update is not None]
        refused: set[str] = set()
        if updates:
            refused = {u.sku for u in self.updates.send(updates)}
        outcomes = list(run.outcomes)
        if refused:
            for applied in run.applied:
                if applied.update is None or applied.stored.sku not in refused:
                    continue
                self._undo(applied)
                applied.payload["submission"] = "failed"
                failed = SkuOutcome(**{**applied.outcome.as_dict(), "submission": "failed"})
                outcomes = [failed if o is applied.outcome else o for o in outcomes]
        self.history.append_many(self._entries(run))
        if refused:
            raise UpdatesNotEnqueued(sorted(refused))
        return Outcome(run.source, run.kind, _status(outcomes, empty=empty), seller_id=seller,
                       marketplace_id=market, asin=asin, skus=tuple(outcomes),
                       conflicts=run.conflicts)

    def _undo(self, applied: _Applied) -> None:
        """Write the listing back as it was before a change SQS refused to enqueue."""
        if applied.stored is applied.before:
            return
        try:
            self.listings.save(applied.before, applied.stored.version)
        except ConcurrentModification:
            logger.warning("could not undo %s: changed again meanwhile", applied.stored.sku,
                           extra={"sku": applied.stored.sku})

    def _entries(self, run: _Run) -> list[PriceHistoryEntry]:
        """One entry per SKU: what the source showed (``seen``) and what was decided."""
        rows = [(a.before, a.payload) for a in run.applied]
        rows += [(listing, o.as_dict()) for listing, o, history in run.skipped if history]
        entries = []
        for listing, payload in rows:
            record = {"source": run.source, **payload}
            if run.seen is not None:
                record["seen"] = run.seen
            kind = "order" if payload.get("action") == "counted" else "decision"
            entries.append(self.history.new_entry(
                listing.seller_id, listing.marketplace_id, listing.sku, kind, record,
                at=run.now))
        return entries

    @staticmethod
    def _seen(payload: AnyOfferChanged, kind: str) -> dict[str, Any]:
        """What an offer change showed, as history keeps it (small)."""
        seller = payload.seller_id
        our_price = None
        for offer in payload.offers:  # our first offer (``our_offers()[0]``)
            if offer.seller_id == seller:
                our_price = offer.listing_price
                break
        condition = payload.condition
        buy_box = None
        for row in payload.summary.buy_box_prices:
            if row.condition in (None, condition):
                buy_box = row.landed  # computed on each access: once per row
                if buy_box is not None:
                    break
        return {
            "notification_type": kind,
            "time_of_offer_change": iso_utc(payload.time_of_offer_change),
            "offer_change_type": payload.change_type,
            "offers": len(payload.offers),
            "our_price": _price(our_price),
            "buy_box_price": _price(buy_box),
        }


_SKIP_REASONS = {
    "unconfigured": "unconfigured: no strategy set for this SKU",
    "stale": "stale",
    "paused": "paused",
    "flagged": "flagged",
}


# -- metrics --------------------------------------------------------------------------------
class CountSink(Protocol):
    """Where counters go (:class:`functions.core.observability.Counts`)."""

    def add(self, name: str, value: int = 1, **dimension: str) -> None: ...


_STATUS_COUNTED = ("stale", "unconfigured", "unmatched", "paused", "flagged", "unreadable")


def count_outcome(
    counts: CountSink, outcome: Outcome, *, unit: str | None = "Notifications"
) -> None:
    """The metrics of an outcome: ``Stale<unit>``, ``Unconfigured<unit>``… by status;
    ``Decisions`` by ``Action``; ``Skips`` by ``Rule``; ``PriceUpdatesEnqueued``;
    ``ChangesNotSubmitted`` by ``Reason`` (dry_run, kill_switch, failed);
    ``OrderSkusCounted``; ``WriteConflicts`` (lost races, decided again). ``unit`` None:
    no status counters (Push, where a status says little)."""
    if unit is not None and outcome.status in _STATUS_COUNTED:
        counts.add(f"{outcome.status.capitalize()}{unit}")
    for sku in outcome.skus:
        if sku.action == "counted":
            counts.add("OrderSkusCounted")
            continue
        counts.add("Decisions", Action=sku.action)
        if sku.action == "skip":
            counts.add("Skips", Rule=sku.rule)
        if sku.submission == "enqueued":
            counts.add("PriceUpdatesEnqueued")
        elif sku.submission:
            counts.add("ChangesNotSubmitted", Reason=sku.submission)
    if outcome.conflicts:
        counts.add("WriteConflicts", outcome.conflicts)


# -- wiring for Lambda --------------------------------------------------------------------
class RepricerConfig(PriceHistoryConfig):
    """What the Repricer's functions read from the environment (template.yaml Globals)."""

    price_updates_queue_url: str
    idempotency_table: str
    repricer_kill_switch: bool = False


def service_from_settings(
    settings: RepricerConfig | None = None, *, client: Any = None, sqs_client: Any = None
) -> RepricingService:
    """The service on the stack's tables and queue (one DynamoDB client shared; ``client``
    and ``sqs_client`` are boto3 clients, created when omitted)."""
    from functions.core.repositories.accounts import AccountRepository
    from functions.core.repositories.listings import ListingRepository
    from functions.core.repositories.price_history import PriceHistoryRepository
    from functions.core.settings import cached_settings
    from functions.reprice.updates import SqsPriceUpdateSender

    if settings is None:
        settings = cached_settings(RepricerConfig)
    if client is None:
        import boto3

        client = boto3.client("dynamodb")
    return RepricingService(
        ListingRepository(settings.listings_table, client=client),
        PriceHistoryRepository(settings.price_history_table, client=client,
                               retention_days=settings.price_history_retention_days),
        SqsPriceUpdateSender(settings.price_updates_queue_url, client=sqs_client),
        AccountRepository(settings.accounts_table, client=client),
        utc_now,
        kill_switch=settings.repricer_kill_switch,
    )


_shared: tuple[Any, RepricingService] | None = None


def shared_service() -> RepricingService:
    """The process's service, rebuilt whenever the settings cache was cleared (the local
    stack clears it when it switches functions; Lambda never does)."""
    global _shared
    from functions.core.settings import cached_settings

    settings = cached_settings(RepricerConfig)
    if _shared is None or _shared[0] is not settings:
        _shared = (settings, service_from_settings(settings))
    return _shared[1]


__all__ = [
    "AccountLookup",
    "CountSink",
    "HistoryStore",
    "ListingStore",
    "OffersReader",
    "Outcome",
    "RepricerConfig",
    "RepricingService",
    "RetriesExhausted",
    "SellerSwitches",
    "SkuOutcome",
    "UpdatesNotEnqueued",
    "count_outcome",
    "last_heard",
    "service_from_settings",
    "shared_service",
    "unsubmitted_state",
]
