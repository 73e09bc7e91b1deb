"""``sellerops reprice replay``: dry-run the strategy engine on recorded notifications.

Semantics (DESIGN.md §3 ★): lines are processed in file order with state carried
between them, as in production. "Now" is the notification's ``EventTime``. A ``change``
is taken as applied (it becomes our current price for later lines). A repeated
``NotificationId`` gives ``skip`` with reason ``duplicate``; a ``TimeOfOfferChange`` not
newer than the last applied one for the same (seller, marketplace, ASIN, condition) gives
``skip`` with reason ``stale``. One output line per (notification, matched SKU) with
exactly :data:`ROW_KEYS`; a notification that matches no SKU gives one ``skip`` line with
``sku: null``; an unreadable line gives an ``error`` line and the run goes on. Blank lines
are ignored.

Push SKUs: replay cannot run the hourly schedule, so a Push SKU is decided at the time of
a notification that concerns it (an offer change for its ASIN, or an ORDER_CHANGE naming
it) once an hour has passed since its last Push decision (the first one decides at once);
in between it holds. ORDER_CHANGE lines count sales (each OrderItemId once, ``Canceled``
removes it) before that decision. ORDER_CHANGE for a SKU of another strategy is ``skip``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from functions.core.money import Money

from .logic.decision import Decision
from .logic.engine import decide, decide_push, is_stale, observe, record_order
from .logic.listing_config import ListingConfig, ListingsCsvError, load_listings_csv
from .logic.matching import candidates, match, match_order
from .logic.notifications import (
    AnyOfferChanged,
    Notification,
    NotificationError,
    OrderChange,
    fold_key,
    parse_notification,
)
from .logic.offers import market_view
from .logic.state import RepricingState

ROW_KEYS: tuple[str, ...] = (
    "line", "notification_id", "sku", "asin", "action", "old_price", "new_price", "currency",
    "reason",
)
PUSH_INTERVAL = timedelta(hours=1)  # the production schedule's period


@dataclass(frozen=True, slots=True)
class ReplayRow:
    line: int
    notification_id: str | None
    sku: str | None
    asin: str | None
    action: str  # change | hold | skip | error
    old_price: str | None
    new_price: str | None
    currency: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in ROW_KEYS}


def _price(money: Money | None) -> str | None:
    return money.to_str() if money is not None else None


class Replay:
    """Feeds notification lines through matching, the strategies and the guardrails."""

    def __init__(self, listings: Sequence[ListingConfig]):
        self.listings = list(listings)
        # A listing's current_price (when given) is our current price to start from.
        self.states: dict[tuple[str, str, str], RepricingState] = {
            c.key: RepricingState(current_price=c.configured_current) for c in self.listings
        }
        self.seen_ids: set[str] = set()
        self.last_offer_change: dict[tuple[str, str, str, str], datetime] = {}

    # -- one line -----------------------------------------------------------------------
    def process(self, line: int, text: str | bytes) -> list[ReplayRow]:
        """Replay one line of the notifications file (JSON text, or its raw bytes)."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8-sig" if line == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                return [self._error(line, None, f"not UTF-8: {exc.reason} at byte {exc.start}")]
        try:
            data = json.loads(text.strip(), parse_float=Decimal)
        except json.JSONDecodeError as exc:
            return [self._error(line, None, f"not JSON: {exc.msg} (column {exc.colno})")]
        try:
            notification = parse_notification(data)
        except NotificationError as exc:
            return [self._error(line, _notification_id(data), str(exc))]
        nid = notification.notification_id
        if nid is not None and nid in self.seen_ids:
            return self._skips(line, notification, "duplicate")
        if nid is not None:
            self.seen_ids.add(nid)
        if not notification.is_handled:
            return [ReplayRow(line, nid, None, None, "skip", None, None, None,
                              f"notification type {notification.notification_type} is not "
                              "handled by the Repricer")]
        now = notification.occurred_at
        if now is None:
            return [self._error(line, nid, f"{notification.notification_type}: EventTime: "
                                           "missing")]
        offer_change = notification.offer_change
        if offer_change is not None:
            key = offer_change.staleness_key()
            if is_stale(offer_change, self.last_offer_change.get(key)):
                return self._skips(line, notification, "stale")
            self.last_offer_change[key] = offer_change.time_of_offer_change
            return self._offer_change(line, nid, offer_change, now)
        order = notification.order_change
        assert order is not None
        return self._order(line, nid, order, now)

    # -- offer changes ------------------------------------------------------------------
    def _offer_change(
        self, line: int, nid: str | None, payload: AnyOfferChanged, now: datetime
    ) -> list[ReplayRow]:
        result = match(payload, self.listings, self.states)
        if result.is_empty:
            return [ReplayRow(line, nid, None, payload.asin, "skip", None, None, None,
                              f"no listing matches ASIN {payload.asin} ({payload.condition}, "
                              f"marketplace {payload.marketplace_id}, seller "
                              f"{payload.seller_id})")]
        rows: dict[int, ReplayRow] = {}
        order = {id(c): i for i, c in enumerate(self.listings)}
        for matched in result.matched:
            config = matched.config
            state = self.states[config.key]
            view = market_view(payload, config, matched.our_offer)
            if config.strategy == "push" and not payload.is_b2b:
                state, _ = observe(view, config, state, now)
                decision = self._push(config, state, now)
            else:
                decision = decide(view, config, state, now)
            rows[order[id(config)]] = self._apply(line, nid, config, decision, now,
                                                  b2b=payload.is_b2b)
        for unpaired in result.unpaired:
            config = unpaired.config
            current = self.states[config.key].current_price or config.configured_current
            rows[order[id(config)]] = ReplayRow(
                line, nid, config.sku, config.asin, "skip", _price(current), None,
                config.currency, f"flagged: {unpaired.reason}",
            )
        return [rows[i] for i in sorted(rows)]

    # -- orders ---------------------------------------------------------------------------
    def _order(self, line: int, nid: str | None, order: OrderChange, now: datetime
               ) -> list[ReplayRow]:
        found = match_order(order, self.listings)
        if not found:
            skus = ", ".join(sorted({i.seller_sku for i in order.summary.order_items})) or "none"
            return [ReplayRow(line, nid, None, None, "skip", None, None, None,
                              f"ORDER_CHANGE {order.amazon_order_id}: no listing for SKU(s) "
                              f"{skus}")]
        rows = []
        status = order.summary.order_status or "?"
        for config, items in found:
            state, units = record_order(order, config, self.states[config.key], now)
            quantity = sum(i.quantity for i in items)
            noted = (f"order {order.amazon_order_id} ({status}, {_units(quantity)}): "
                     f"{_units(units)} in the last "
                     f"{config.push_window.total_seconds() / 3600:g} h")
            if config.strategy == "push":
                decision = self._push(config, state, now)
                decision = decision.model_copy(update={"reason": f"{noted}; {decision.reason}"})
            else:
                self.states[config.key] = state
                current = state.current_price or config.configured_current
                rows.append(ReplayRow(line, nid, config.sku, config.asin, "skip", _price(current),
                                      None, config.currency,
                                      f"{noted}; strategy {config.strategy} does not use sales"))
                continue
            rows.append(self._apply(line, nid, config, decision, now, b2b=False))
        return rows

    # -- helpers --------------------------------------------------------------------------
    def _push(self, config: ListingConfig, state: RepricingState, now: datetime) -> Decision:
        last = state.push_last_decided_at
        if last is None or now - last >= PUSH_INTERVAL:
            return decide_push(config, state, now)
        current = state.current_price or config.configured_current
        return Decision(
            action="hold", strategy="push", rule="push_schedule", old_price=current, state=state,
            reason="push: decided hourly; next decision from "
                   f"{(last + PUSH_INTERVAL).strftime('%Y-%m-%d %H:%M:%S UTC')}",
        )

    def _apply(self, line: int, nid: str | None, config: ListingConfig, decision: Decision,
               now: datetime, *, b2b: bool) -> ReplayRow:
        state = decision.state
        if decision.action == "change" and decision.new_price is not None and not b2b:
            state = state.applied(decision.new_price, now)  # replay: taken as applied
        self.states[config.key] = state
        return ReplayRow(
            line, nid, config.sku, config.asin, decision.action, _price(decision.old_price),
            _price(decision.new_price) if decision.action == "change" else None,
            config.currency, decision.reason,
        )

    def _skips(self, line: int, notification: Notification, reason: str) -> list[ReplayRow]:
        nid = notification.notification_id
        payload = notification.payload
        configs: list[ListingConfig] = []
        asin = None
        if isinstance(payload, AnyOfferChanged):
            configs = candidates(payload, self.listings)
            asin = payload.asin
        elif isinstance(payload, OrderChange):
            configs = [c for c, _ in match_order(payload, self.listings)]
        if not configs:
            return [ReplayRow(line, nid, None, asin, "skip", None, None, None, reason)]
        return [
            ReplayRow(line, nid, c.sku, c.asin, "skip",
                      _price(self.states[c.key].current_price or c.configured_current), None,
                      c.currency, reason)
            for c in configs
        ]

    @staticmethod
    def _error(line: int, nid: str | None, reason: str) -> ReplayRow:
        return ReplayRow(line, nid, None, None, "error", None, None, None, reason)


def _units(count: int) -> str:
    return f"{count} unit" if count == 1 else f"{count} units"


def _notification_id(data: Any) -> str | None:
    """The NotificationId of a notification that failed to parse, if it has one."""
    if not isinstance(data, dict):
        return None
    meta = {fold_key(k): v for k, v in data.items() if isinstance(k, str)}.get(
        "notificationmetadata")
    if not isinstance(meta, dict):
        return None
    value = {fold_key(k): v for k, v in meta.items() if isinstance(k, str)}.get("notificationid")
    return value if isinstance(value, str) and value else None


def replay_lines(listings: Sequence[ListingConfig], lines: Iterable[tuple[int, str | bytes]]
                 ) -> Iterator[ReplayRow]:
    """Replay ``(line number, text)`` pairs in order; blank lines are ignored."""
    replay = Replay(listings)
    for number, text in lines:
        if text.strip():
            yield from replay.process(number, text)


def format_table(rows: Sequence[ReplayRow]) -> str:
    """A readable table of the decisions plus summary counts."""
    header = ("line", "sku", "asin", "action", "old", "new", "cur", "reason")
    body = [
        (str(r.line), r.sku or "-", r.asin or "-", r.action, r.old_price or "-",
         r.new_price or "-", r.currency or "-", r.reason)
        for r in rows
    ]
    widths = [max(len(header[i]), *(len(b[i]) for b in body)) if body else len(header[i])
              for i in range(len(header) - 1)]
    lines = []
    for cells in (header, *body):
        fixed = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1]))
        lines.append(f"{fixed}  {cells[-1]}")
    lines.append("")
    lines.append(summary(rows))
    return "\n".join(lines)


def summary(rows: Sequence[ReplayRow]) -> str:
    counts = Counter(r.action for r in rows)
    notifications = len({r.line for r in rows})
    parts = ", ".join(f"{counts.get(a, 0)} {a}" for a in ("change", "hold", "skip", "error"))
    return f"{notifications} notification lines, {len(rows)} decisions: {parts}"


def run_replay(listings_path: str, notifications_path: str, *, as_json: bool, out: TextIO,
               err: TextIO) -> int:
    """The CLI command. Exit code 2 for a bad listings CSV or an unreadable file, else 0."""
    try:
        listings = load_listings_csv(listings_path)
    except ListingsCsvError as exc:
        print(f"sellerops reprice replay: {listings_path}: {exc}", file=err)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"sellerops reprice replay: cannot read listings {listings_path}: {exc}", file=err)
        return 2
    try:
        handle = open(notifications_path, "rb")
    except OSError as exc:
        print(f"sellerops reprice replay: cannot read notifications {notifications_path}: "
              f"{exc}", file=err)
        return 2
    with handle:
        rows = replay_lines(listings, enumerate(handle, start=1))
        if as_json:
            for row in rows:
                out.write(json.dumps(row.as_dict()) + "\n")
            return 0
        collected = list(rows)
    out.write(format_table(collected) + "\n")
    return 0


__all__ = ["ROW_KEYS", "Replay", "ReplayRow", "format_table", "replay_lines", "run_replay",
           "summary"]
