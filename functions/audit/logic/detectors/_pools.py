"""What is owed against what was made good, shared by the detectors that read it.

A *pool* holds, for one FNSKU (or one order), the events that create a debt (a loss, a
damage, a shortfall, a refund without return, an unjustified reversal) and the events
that settle one (a found unit, a payment, a return), and lets each settling event pay the
oldest debts first (:func:`..claims.allocate`). Detectors read what stays open. Sharing
the pool is what keeps one unit from being claimed twice: a payment Amazon took back
without finding the unit re-opens the unit once, as a reversal claim, never also as a
new loss claim.

Reversals are judged first: a Reimbursement_Reversal is justified by a found unit (ledger
F) for the FNSKU after the original payment, by a return of the order (customer-side
payments), or by a receipt (inbound payments); each such row justifies one unit once.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..claims import (
    REVERSAL,
    Category,
    Credit,
    Demand,
    Evidence,
    allocate,
    paid_categories,
    reason_key,
)
from ..claims import category_paid_by as _category_paid_by
from ..data import AuditData, OrderMoney
from ..reports.records import CustomerReturn, LedgerEntry, Reimbursement
from . import _evidence as ev

LEAD_WAREHOUSE = timedelta(days=3)  # a payment or found unit may precede its loss row
LEAD_INBOUND = timedelta(days=30)  # inbound payments can come before the shipment closes
REVERSAL_LOOKBACK = timedelta(days=180)  # original payment unknown: how far back to look
RESTOCK_GRACE = timedelta(days=14)  # a return reaches the ledger within this many days
DAMAGED_DISPOSITIONS = frozenset({"DAMAGED", "CARRIER_DAMAGED"})


@dataclass(slots=True, eq=False)
class ReversalOutcome:
    """A reversal and how much of it is justified (``units`` 0: a money-only reversal)."""

    reversal: Reimbursement
    fnsku: str
    original: Reimbursement | None
    category: Category | None
    units: int
    justified: int
    justification: list[Evidence] = field(default_factory=list)

    @property
    def unjustified(self) -> int:
        return self.units - self.justified

    @property
    def per_unit(self) -> Any:
        amount = abs(self.reversal.amount_total.amount)
        return amount / self.units if self.units else amount


def _fnsku(data: AuditData, r: Reimbursement) -> str:
    return r.fnsku or data.catalog().fnsku(r.sku) or f"sku:{r.sku}"


def reversal_outcomes(data: AuditData) -> list[ReversalOutcome]:
    cached = data.cache.get("reversals")
    if cached is not None:
        return cached
    reversals = sorted((r for r in data.reimbursements.values()
                        if reason_key(r.reason) == REVERSAL), key=_payment_order)
    # Index only what the (few) reversals can refer to.
    wanted_ids = {rv.original_reimbursement_id for rv in reversals}
    by_id: dict[str, list[Reimbursement]] = {}
    for r in sorted((r for r in data.reimbursements.values()
                     if r.reimbursement_id in wanted_ids), key=_payment_order):
        by_id.setdefault(r.reimbursement_id, []).append(r)
    wanted_fnskus = {_fnsku(data, rv) for rv in reversals}
    found = _by_fnsku(e for e in data.found.values() if e.fnsku in wanted_fnskus)
    receipts = _by_fnsku(data.receipts[key].entries[0] for key in data.receipts
                         if key[1] in wanted_fnskus and data.receipts[key].entries)
    wanted_orders = {rv.amazon_order_id for rv in reversals if rv.amazon_order_id}
    wanted_orders |= {o.amazon_order_id for rows in by_id.values() for o in rows
                      if o.amazon_order_id}
    returns = _returns_by_order(data, wanted_orders)
    used: dict[int, int] = {}  # id(row) → units already used to justify a reversal

    outcomes = []
    for rv in reversals:
        fnsku = _fnsku(data, rv)
        candidates = by_id.get(rv.original_reimbursement_id, [])
        original = next((o for o in candidates if _fnsku(data, o) == fnsku),
                        candidates[0] if candidates else None)
        if original is not None and reason_key(original.reason) == REVERSAL:
            original = None
        kind = rv.original_reimbursement_type or (original.reason if original else "")
        category = _category_paid_by(kind) if kind else None
        units = max(abs(rv.quantity_total), abs(rv.quantity_cash))
        start = (original.approval_date if original else rv.approval_date - REVERSAL_LOOKBACK
                 ) - LEAD_WAREHOUSE
        end = rv.approval_date + LEAD_WAREHOUSE
        order_id = rv.amazon_order_id or (original.amazon_order_id if original else "")
        sources: list[list[Any]] = []
        if category in (Category.LOST_WAREHOUSE, Category.DAMAGED_WAREHOUSE, None):
            sources.append(_between(found.get(fnsku), start, end))
        if category is Category.INBOUND_SHORTFALL:
            sources.append(_between(receipts.get(fnsku), start, end))
        if category in (Category.RETURN_NOT_RECEIVED, None) and order_id:
            sources.append(returns.get(order_id, []))
        need = units or 1
        got = 0
        proof: list[Evidence] = []
        for source in sources:
            for item, quantity in source:
                if got >= need:
                    break
                left = abs(quantity) - used.get(id(item), 0)
                if left <= 0:
                    continue
                take = min(left, need - got)
                used[id(item)] = used.get(id(item), 0) + take
                got += take
                proof.append(ev.customer_return(item) if isinstance(item, CustomerReturn)
                             else ev.ledger(item))
        justified = min(got, units) if units else 0
        outcome = ReversalOutcome(rv, fnsku, original, category, units, justified, proof)
        if not units and got:
            outcome.units = 1
            outcome.justified = 1  # a money-only reversal with a found unit or return
        outcomes.append(outcome)
    data.cache["reversals"] = outcomes
    return outcomes


def _payment_order(r: Reimbursement) -> tuple[Any, ...]:
    return (r.approval_date, r.reimbursement_id, r.fnsku, r.sku)


@dataclass(slots=True)
class _Timeline:
    """Ledger rows of one FNSKU in time order, with their times for bisecting."""

    entries: list[LedgerEntry]
    times: list[Any]


def _by_fnsku(entries: Any) -> dict[str, _Timeline]:
    grouped: dict[str, list[LedgerEntry]] = {}
    for e in entries:
        grouped.setdefault(e.fnsku, []).append(e)
    timelines = {}
    for fnsku, group in grouped.items():
        group.sort(key=lambda e: (e.at, e.reference_id, e.quantity))
        timelines[fnsku] = _Timeline(group, [e.at for e in group])
    return timelines


def _between(timeline: _Timeline | None, start: Any, end: Any) -> list[tuple[Any, int]]:
    if timeline is None:
        return []
    first = bisect_left(timeline.times, start)
    last = bisect_right(timeline.times, end)
    return [(e, e.quantity) for e in timeline.entries[first:last]]


def _returns_by_order(data: AuditData, orders: set[str]) -> dict[str, list[tuple[Any, int]]]:
    """Returned units of these orders: the returns report's rows, and for orders it does
    not list, ledger CustomerReturns rows whose Reference ID is the order id."""
    grouped: dict[str, list[tuple[Any, int]]] = {}
    if not orders:
        return grouped
    for r in sorted((r for r in data.returns.values() if r.order_id in orders),
                    key=lambda r: (r.return_date, r.license_plate_number)):
        grouped.setdefault(r.order_id, []).append((r, r.quantity))
    in_report = set(grouped)
    for e in sorted((e for e in data.ledger_returns.values()
                     if e.reference_id in orders and e.reference_id not in in_report),
                    key=lambda e: (e.at, e.reference_id)):
        grouped.setdefault(e.reference_id, []).append((e, e.quantity))
    return grouped


def payments_by_category(data: AuditData) -> dict[Category, list[Reimbursement]]:
    """Every payment (not a reversal) under each category it pays, in a fixed order."""
    cached = data.cache.get("payments")
    if cached is None:
        cached = {category: [] for category in Category}
        for r in sorted(data.reimbursements.values(), key=_payment_order):
            if reason_key(r.reason) == REVERSAL:
                continue
            for category in paid_categories(r.reason):
                cached[category].append(r)
        data.cache["payments"] = cached
    return cached


def justified_reversed_units(data: AuditData) -> dict[int, int]:
    """id(payment) → its units taken back by justified reversals."""
    cached = data.cache.get("justified")
    if cached is None:
        cached = {}
        for outcome in reversal_outcomes(data):
            if outcome.original is not None and outcome.units:
                ident = id(outcome.original)
                cached[ident] = cached.get(ident, 0) + outcome.justified
        data.cache["justified"] = cached
    return cached


def _net_payments(data: AuditData, category: Category, key_of: Any) -> dict[Any, list[Credit]]:
    """Payments for ``category`` as credits per pool key, less their justified reversals."""
    reversed_units = justified_reversed_units(data)
    credits: dict[Any, list[Credit]] = {}
    for r in payments_by_category(data)[category]:
        key = key_of(r)
        if not key:
            continue
        quantity = r.quantity_total - reversed_units.get(id(r), 0)
        credits.setdefault(key, []).append(Credit(
            at=r.approval_date, quantity=quantity, order=(r.reimbursement_id, r.fnsku),
            ref=("paid", r), source=r))
    return credits


def _reversal_demands(data: AuditData, category: Category, key_of: Any
                      ) -> dict[Any, list[Demand]]:
    demands: dict[Any, list[Demand]] = {}
    for outcome in reversal_outcomes(data):
        if outcome.category is not category or outcome.unjustified <= 0:
            continue
        key = key_of(outcome)
        if not key:
            continue
        rv = outcome.reversal
        demands.setdefault(key, []).append(Demand(
            at=rv.approval_date, quantity=outcome.unjustified,
            order=("reversal", rv.reimbursement_id, rv.fnsku), ref=("reversal", outcome),
            not_from=outcome.original))
    return demands


def _run(demands: dict[Any, list[Demand]], credits: dict[Any, list[Credit]],
         lead: timedelta | None) -> list[Demand]:
    result: list[Demand] = []
    for key in sorted(demands, key=str):
        group = demands[key]
        allocate(group, credits.get(key, []), lead=lead)
        result.extend(group)
    return result


def warehouse_pool(data: AuditData, category: Category) -> list[Demand]:
    """Losses (LOST_WAREHOUSE) or damages (DAMAGED_WAREHOUSE) per FNSKU, settled by
    payments (and, for losses, found units); refs ``("loss", LedgerEntry)`` or
    ``("reversal", ReversalOutcome)``."""
    name = f"pool:{category}"
    cached = data.cache.get(name)
    if cached is not None:
        return cached
    store = data.losses if category is Category.LOST_WAREHOUSE else data.damages
    demands: dict[Any, list[Demand]] = {}
    for e in store.values():
        demands.setdefault(e.fnsku, []).append(Demand(
            at=e.at, quantity=-e.quantity, order=("loss", e.reference_id, e.date, e.reason),
            ref=("loss", e)))
    for key, more in _reversal_demands(data, category, lambda o: o.fnsku).items():
        demands.setdefault(key, []).extend(more)
    credits = _net_payments(data, category, lambda r: _fnsku(data, r))
    if category is Category.LOST_WAREHOUSE:
        for e in data.found.values():
            credits.setdefault(e.fnsku, []).append(Credit(
                at=e.at, quantity=e.quantity, order=("found", e.reference_id, e.date),
                ref=("found", e)))
    result = data.cache[name] = _run(demands, credits, LEAD_WAREHOUSE)
    return result


@dataclass(slots=True, eq=False)
class Shortfall:
    item: Any  # InboundShipmentItem
    fnsku: str
    received: int
    receipts: list[LedgerEntry]

    @property
    def missing(self) -> int:
        return self.item.quantity_shipped - self.received


def inbound_pool(data: AuditData) -> list[Demand]:
    """Closed shipments' shortfalls per FNSKU, settled by Lost_/Damaged_Inbound payments;
    refs ``("shortfall", Shortfall)`` or ``("reversal", ReversalOutcome)``."""
    cached = data.cache.get("pool:inbound")
    if cached is not None:
        return cached
    catalog = data.catalog()
    demands: dict[Any, list[Demand]] = {}
    for item in data.inbound.values():
        if item.status != "CLOSED" or item.closed_date is None:
            continue
        fnsku = item.fnsku or catalog.fnsku(item.sku) or f"sku:{item.sku}"
        total = data.receipts.get((item.shipment_id, fnsku))
        ledger_received = total.quantity if total is not None else 0
        received = max(item.quantity_received, ledger_received)
        shortfall = Shortfall(item, fnsku, received, list(total.entries) if total else [])
        if shortfall.missing <= 0:
            continue
        demands.setdefault(fnsku, []).append(Demand(
            at=item.closed_date, quantity=shortfall.missing,
            order=("shortfall", item.shipment_id), ref=("shortfall", shortfall)))
    for key, more in _reversal_demands(
            data, Category.INBOUND_SHORTFALL, lambda o: o.fnsku).items():
        demands.setdefault(key, []).extend(more)
    credits = _net_payments(data, Category.INBOUND_SHORTFALL, lambda r: _fnsku(data, r))
    result = data.cache["pool:inbound"] = _run(demands, credits, LEAD_INBOUND)
    return result


@dataclass(slots=True, eq=False)
class NotReturned:
    refund: OrderMoney
    refunded: int
    returned: int
    returns: list[Any]  # CustomerReturn or LedgerEntry rows counted as returned


@dataclass(slots=True, eq=False)
class NotRestocked:
    row: CustomerReturn
    variant: str  # "" (damaged at Amazon), "carrier_damaged", "not_restocked"


def customer_pool(data: AuditData) -> list[Demand]:
    """Customer-side debts per order id: refunded units never returned, returned units
    damaged by Amazon or its carrier or never put back into inventory, unjustified
    reversals of customer-return payments; settled by CustomerReturn /
    CustomerServiceIssue payments. Refs ``("not_received", NotReturned)``,
    ``("not_restocked", NotRestocked)``, ``("reversal", ReversalOutcome)``."""
    cached = data.cache.get("pool:customer")
    if cached is not None:
        return cached
    catalog = data.catalog()
    demands: dict[Any, list[Demand]] = {}
    refunded_orders = {order_id for order_id, _sku in data.refunds}
    returns_by_order: dict[str, list[CustomerReturn]] = {}
    ledger_by_order: dict[str, list[LedgerEntry]] = {}
    if refunded_orders:
        for r in data.returns.values():
            if r.order_id in refunded_orders:
                returns_by_order.setdefault(r.order_id, []).append(r)
        for e in data.ledger_returns.values():
            if e.reference_id in refunded_orders:
                ledger_by_order.setdefault(e.reference_id, []).append(e)

    for order_id, sku in sorted(data.refunds):
        refund = data.refunds[(order_id, sku)]
        if refund.posted is None:
            continue
        fnsku = catalog.fnsku(sku)
        rows = sorted((r for r in returns_by_order.get(order_id, [])
                       if r.sku == sku or (fnsku and r.fnsku == fnsku)),
                      key=lambda r: (r.return_date, r.license_plate_number))
        ledger_rows = sorted((e for e in ledger_by_order.get(order_id, [])
                              if not fnsku or e.fnsku == fnsku), key=lambda e: e.at)
        from_report = sum(r.quantity for r in rows)
        from_ledger = sum(e.quantity for e in ledger_rows)
        returned = max(from_report, from_ledger)
        refunded = _refunded_units(refund, data.sales.get((order_id, sku)))
        if refunded - returned <= 0:
            continue
        shown: list[Any] = rows if from_report >= from_ledger else ledger_rows
        demands.setdefault(order_id, []).append(Demand(
            at=refund.posted, quantity=refunded - returned, order=("not_received", sku),
            ref=("not_received", NotReturned(refund, refunded, returned, shown))))

    for row in _not_restocked(data):
        demands.setdefault(row.row.order_id, []).append(Demand(
            at=row.row.return_date, quantity=row.row.quantity,
            order=("not_restocked", row.row.license_plate_number, row.row.fnsku),
            ref=("not_restocked", row)))
    for key, more in _reversal_demands(
            data, Category.RETURN_NOT_RECEIVED,
            lambda o: o.reversal.amazon_order_id or (
                o.original.amazon_order_id if o.original else "")).items():
        demands.setdefault(key, []).extend(more)
    credits = _net_payments(data, Category.RETURN_NOT_RECEIVED, lambda r: r.amazon_order_id)
    result = data.cache["pool:customer"] = _run(demands, credits, None)
    return result


def _refunded_units(refund: OrderMoney, sale: OrderMoney | None) -> int:
    if refund.quantity:
        return abs(refund.quantity)
    if sale is not None and sale.quantity and sale.principal > 0 and refund.principal < 0:
        unit = sale.principal / sale.quantity
        return max(1, int((abs(refund.principal) / unit).to_integral_value()))
    return 1


def _not_restocked(data: AuditData) -> list[NotRestocked]:
    """Returns damaged by Amazon or the carrier, and returns the ledger never took back
    into inventory (judged only where the ledger's CustomerReturns rows cover the return
    date plus a grace period).

    A return is matched to ledger CustomerReturns rows of its order (Reference ID = order
    id) first; what stays unmatched may take an unmatched row of the same FNSKU dated from
    2 days before to 14 days after it. Each ledger unit matches once. Only groups with
    several candidates are sorted, which keeps this linear on a big seller's history.
    """
    flagged: list[NotRestocked] = []
    pending: dict[str, list[CustomerReturn]] = {}
    for row in data.returns.values():
        disposition = row.detailed_disposition
        if disposition in DAMAGED_DISPOSITIONS:
            variant = "carrier_damaged" if disposition == "CARRIER_DAMAGED" else ""
            flagged.append(NotRestocked(row, variant))
        else:
            group = pending.get(row.order_id)
            if group is None:
                pending[row.order_id] = [row]
            else:
                group.append(row)
    if not data.ledger_returns or not pending:
        return flagged
    ledger = list(data.ledger_returns.values())
    first = min(e.date for e in ledger)
    last = max(e.date for e in ledger)
    earliest = datetime(first.year, first.month, first.day, tzinfo=UTC)
    latest = datetime(last.year, last.month, last.day, tzinfo=UTC) - RESTOCK_GRACE
    left = [e.quantity for e in ledger]  # units of each ledger row not yet matched
    by_order: dict[str, list[int]] = {}
    for index, e in enumerate(ledger):
        group_ = by_order.get(e.reference_id)
        if group_ is None:
            by_order[e.reference_id] = [index]
        else:
            group_.append(index)

    missing: list[tuple[CustomerReturn, int]] = []
    for order_id, rows in pending.items():
        if len(rows) > 1:
            rows.sort(key=_return_order)
        candidates = by_order.get(order_id, ())
        if len(candidates) > 1:
            candidates.sort(key=lambda i: _ledger_order(ledger[i]))  # type: ignore[union-attr]
        for row in rows:
            if not earliest <= row.return_date < latest:
                continue
            units = row.quantity
            for index in candidates:
                free = left[index]
                if free > 0 and (not row.fnsku or ledger[index].fnsku == row.fnsku):
                    step = free if free < units else units
                    left[index] = free - step
                    units -= step
                    if units <= 0:
                        break
            if units > 0:
                missing.append((row, units))
    if not missing:
        return flagged
    # The date-window fallback, for the FNSKUs with unmatched returns only.
    wanted = {row.fnsku for row, _units in missing}
    by_fnsku: dict[str, list[int]] = {}
    for index, e in enumerate(ledger):
        if left[index] > 0 and e.fnsku in wanted:
            by_fnsku.setdefault(e.fnsku, []).append(index)
    times: dict[str, list[datetime]] = {}
    for fnsku, indexes in by_fnsku.items():
        indexes.sort(key=lambda i: _ledger_order(ledger[i]))
        times[fnsku] = [ledger[i].at for i in indexes]
    missing.sort(key=lambda item: _return_order(item[0]))
    for row, units in missing:
        indexes = by_fnsku.get(row.fnsku, [])
        end = row.return_date + RESTOCK_GRACE
        position = bisect_left(times.get(row.fnsku, []), row.return_date - timedelta(days=2))
        while units > 0 and position < len(indexes):
            index = indexes[position]
            if ledger[index].at > end:
                break
            free = left[index]
            if free > 0:
                step = min(free, units)
                left[index] = free - step
                units -= step
            position += 1
        if units > 0:
            flagged.append(NotRestocked(row, "not_restocked"))
    return flagged


def _ledger_order(e: LedgerEntry) -> tuple[Any, ...]:
    return (e.at, e.reference_id, e.fnsku, e.quantity)


def _return_order(r: CustomerReturn) -> tuple[Any, ...]:
    return (r.return_date, r.order_id, r.license_plate_number, r.fnsku or r.sku,
            r.detailed_disposition)


def open_demands(pool: list[Demand], kind: str) -> list[Demand]:
    return [d for d in pool if d.ref[0] == kind and d.open > 0]


def paid_evidence(demand: Demand) -> list[Evidence]:
    """The payments and found units that covered part of a demand (for the claim)."""
    proof = []
    for ref, _units in demand.paid_by:
        kind, row = ref
        proof.append(ev.reimbursement(row) if kind == "paid" else ev.ledger(row))
    return proof
