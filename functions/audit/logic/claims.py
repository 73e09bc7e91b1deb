"""Claims: what Amazon owes, how long a claim can be filed, and which payment settles it.

A claim's id is derived from the evidence that identifies it (category + the keys of the
event it rests on: FNSKU and ledger reference, order id, shipment id, reimbursement id),
never from a random value, a timestamp of the run or the seller: re-auditing the same
reports (in any order, with overlapping downloads) yields the same ids, so the Claims table
is updated instead of growing duplicates.

Windows (domain/fba-audit.md §2) count calendar days from the claim's anchor event. The
audit keeps a safety margin: a window is taken to open ``SAFETY_MARGIN_DAYS`` later and to
close that much earlier than the policy says, because Amazon counts in marketplace time and
the reports' dates are not always in that zone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from functions.core.money import Money

from .reports.records import Reimbursement


class Category(StrEnum):
    LOST_WAREHOUSE = "lost_warehouse"
    DAMAGED_WAREHOUSE = "damaged_warehouse"
    RETURN_NOT_RECEIVED = "return_not_received"
    RETURN_NOT_RESTOCKED = "return_not_restocked"
    INBOUND_SHORTFALL = "inbound_shortfall"
    REMOVAL_LOST = "removal_lost"
    FEE_OVERCHARGE = "fee_overcharge"
    REIMBURSEMENT_UNDERPAID = "reimbursement_underpaid"
    REIMBURSEMENT_REVERSAL = "reimbursement_reversal"


class ClaimStatus(StrEnum):
    """``open``: claimable now (the Claims table's ``detected``); ``expired``: too late."""

    OPEN = "open"
    EXPIRED = "expired"


SAFETY_MARGIN_DAYS = 2


@dataclass(frozen=True, slots=True)
class ClaimWindow:
    """When Amazon accepts a claim: from ``opens_after_days`` to ``closes_after_days``
    after the anchor event (what the days count from is named in ``anchor``)."""

    opens_after_days: int
    closes_after_days: int
    anchor: str
    verified: bool = True

    def opens(self, anchor: date) -> date:
        margin = SAFETY_MARGIN_DAYS if self.opens_after_days else 0
        return anchor + timedelta(days=self.opens_after_days + margin)

    def deadline(self, anchor: date) -> date:
        """The last day to file (inclusive), margin deducted."""
        return anchor + timedelta(days=self.closes_after_days - SAFETY_MARGIN_DAYS)

    def status(self, anchor: date, as_of: date) -> ClaimStatus | None:
        """OPEN inside the window, EXPIRED after it, None before it opens (not listed)."""
        if as_of < self.opens(anchor):
            return None
        return ClaimStatus.OPEN if as_of <= self.deadline(anchor) else ClaimStatus.EXPIRED


# (category, variant) → window. Variants: region ("eu" = EU/UK marketplaces) or the kind
# of event. "verified=False" marks windows domain/fba-audit.md flags as unverified, or our
# own choice where Amazon publishes none.
WINDOWS: dict[tuple[Category, str], ClaimWindow] = {
    (Category.LOST_WAREHOUSE, ""): ClaimWindow(0, 60, "ledger date of the loss"),
    (Category.DAMAGED_WAREHOUSE, ""): ClaimWindow(0, 60, "ledger date of the damage"),
    (Category.RETURN_NOT_RECEIVED, ""): ClaimWindow(60, 120, "refund date"),
    (Category.RETURN_NOT_RECEIVED, "eu"): ClaimWindow(45, 105, "refund date"),
    (Category.RETURN_NOT_RESTOCKED, ""): ClaimWindow(0, 60, "return date", verified=False),
    (Category.RETURN_NOT_RESTOCKED, "carrier_damaged"): ClaimWindow(
        0, 45, "return date", verified=False),
    (Category.RETURN_NOT_RESTOCKED, "not_restocked"): ClaimWindow(
        7, 60, "return date", verified=False),
    (Category.INBOUND_SHORTFALL, ""): ClaimWindow(
        15, 60, "shipment closed date", verified=False),
    (Category.REMOVAL_LOST, "lost"): ClaimWindow(15, 75, "removal shipment date"),
    (Category.REMOVAL_LOST, "missing"): ClaimWindow(0, 60, "removal order last update"),
    (Category.FEE_OVERCHARGE, ""): ClaimWindow(0, 60, "fee charge date", verified=False),
    (Category.REIMBURSEMENT_UNDERPAID, ""): ClaimWindow(
        0, 60, "reimbursement approval date", verified=False),
    (Category.REIMBURSEMENT_REVERSAL, ""): ClaimWindow(
        0, 60, "reversal approval date", verified=False),
}


def window(category: Category, variant: str = "") -> ClaimWindow:
    return WINDOWS.get((category, variant)) or WINDOWS[(category, "")]


# -- evidence and claims ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Evidence:
    """One report row a claim rests on: where it is and its key fields (Amazon's names)."""

    report: str
    file: str
    line: int
    fields: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"report": self.report, "file": self.file, "line": self.line,
                "fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(str(data["report"]), str(data["file"]), int(data["line"]),
                   tuple((str(k), str(v)) for k, v in dict(data.get("fields", {})).items()))


def claim_id(category: Category | str, *keys: object) -> str:
    """Deterministic id: the category and a hash of the identifying evidence keys."""
    text = "\x1f".join([str(category), *(str(k) for k in keys)])
    return f"{category}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim against Amazon.

    ``quantity`` in units; ``amount`` what is owed (None when no value basis is known,
    e.g. no unit cost for a before-order loss); ``anchor`` the day the window counts from;
    ``opens``/``deadline`` the window (margin applied); ``facts`` the case facts by name
    (order-id, reference-id, shipment-id, reimbursement-id, ...), also what later payments
    are matched on; ``unit_value`` the value of one unit when the amount is per unit.
    """

    claim_id: str
    category: Category
    status: ClaimStatus
    sku: str | None
    fnsku: str | None
    asin: str | None
    quantity: int
    amount: Money | None
    anchor: date
    opens: date
    deadline: date
    reason: str
    evidence: tuple[Evidence, ...]
    facts: tuple[tuple[str, str], ...] = ()
    unit_value: Money | None = None

    @property
    def currency(self) -> str | None:
        return None if self.amount is None else self.amount.currency

    def fact(self, name: str) -> str:
        return dict(self.facts).get(name, "")

    def to_dict(self) -> dict[str, Any]:
        """The claim as `sellerops audit --json` prints it (DESIGN.md §3, exact keys)."""
        return {
            "claim_id": self.claim_id,
            "category": str(self.category),
            "status": str(self.status),
            "sku": self.sku or None,
            "fnsku": self.fnsku or None,
            "asin": self.asin or None,
            "quantity": self.quantity,
            "amount": None if self.amount is None else self.amount.to_str(),
            "currency": self.currency,
            "deadline": self.deadline.isoformat(),
            "reason": self.reason,
            "evidence": [e.to_dict() for e in self.evidence],
        }

    def to_record(self) -> dict[str, Any]:
        """Everything, JSON-compatible (strings, ints, lists): what storage keeps."""
        record = self.to_dict()
        record.update({
            "anchor": self.anchor.isoformat(),
            "opens": self.opens.isoformat(),
            "facts": dict(self.facts),
            "unit_value": None if self.unit_value is None else self.unit_value.to_dict(),
        })
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Claim:
        amount = record.get("amount")
        unit_value = record.get("unit_value")
        return cls(
            claim_id=str(record["claim_id"]),
            category=Category(record["category"]),
            status=ClaimStatus(record["status"]),
            sku=record.get("sku"), fnsku=record.get("fnsku"), asin=record.get("asin"),
            quantity=int(record["quantity"]),
            amount=None if amount is None else Money.of(amount, record["currency"]),
            anchor=date.fromisoformat(record["anchor"]),
            opens=date.fromisoformat(record["opens"]),
            deadline=date.fromisoformat(record["deadline"]),
            reason=str(record["reason"]),
            evidence=tuple(Evidence.from_dict(e) for e in record.get("evidence", ())),
            facts=tuple((str(k), str(v)) for k, v in dict(record.get("facts", {})).items()),
            unit_value=None if unit_value is None else Money.from_dict(unit_value),
        )


def make_claim(
    category: Category,
    *,
    keys: Sequence[object],
    anchor: date,
    as_of: date,
    quantity: int,
    amount: Money | None,
    reason: str,
    evidence: Iterable[Evidence],
    sku: str | None = None,
    fnsku: str | None = None,
    asin: str | None = None,
    facts: Mapping[str, str] | None = None,
    unit_value: Money | None = None,
    variant: str = "",
) -> Claim | None:
    """A claim with its window applied, or None when there is nothing to claim (no units
    or no money) or its window has not opened yet on ``as_of``."""
    if quantity <= 0 and (amount is None or amount.amount <= 0):
        return None
    if amount is not None and amount.amount <= 0:
        return None
    claim_window = window(category, variant)
    status = claim_window.status(anchor, as_of)
    if status is None:
        return None
    ordered = sorted(evidence, key=lambda e: (e.report, e.file, e.line))
    return Claim(
        claim_id=claim_id(category, *keys), category=category, status=status,
        sku=sku or None, fnsku=fnsku or None, asin=asin or None, quantity=max(quantity, 0),
        amount=None if amount is None else amount.quantize(), anchor=anchor,
        opens=claim_window.opens(anchor), deadline=claim_window.deadline(anchor),
        reason=reason, evidence=tuple(ordered),
        facts=tuple(sorted((facts or {}).items())), unit_value=unit_value,
    )


# -- FIFO allocation of payments (and found units) to what is owed --------------------------
@dataclass(slots=True, eq=False)
class Demand:
    """Units owed since ``at`` (a loss, a shortfall, a refund without return, ...)."""

    at: datetime
    quantity: int
    order: tuple[Any, ...]
    ref: Any = None
    covered: int = 0
    paid_by: list[tuple[Any, int]] = field(default_factory=list)
    # A credit whose ``source`` is this object never covers the demand (a payment
    # cannot settle its own reversal).
    not_from: Any = None

    @property
    def open(self) -> int:
        return self.quantity - self.covered


@dataclass(slots=True, eq=False)
class Credit:
    """Units made good at ``at`` (a payment, a found unit, a return)."""

    at: datetime
    quantity: int
    order: tuple[Any, ...]
    ref: Any = None
    source: Any = None


def allocate(
    demands: list[Demand], credits: list[Credit], *, lead: timedelta | None
) -> None:
    """Each credit covers the oldest demands first; a credit can cover a demand dated at
    most ``lead`` after it (None: any date). Sets ``covered``/``paid_by`` on the demands.
    Independent of input order: both sides are sorted by (time, identity) first."""
    demands.sort(key=lambda d: (d.at, d.order))
    credits.sort(key=lambda c: (c.at, c.order))
    first_open = 0
    for credit in credits:
        left = credit.quantity
        if left <= 0:
            continue
        limit = None if lead is None else credit.at + lead
        index = first_open
        while left > 0 and index < len(demands):
            demand = demands[index]
            if limit is not None and demand.at > limit:
                break
            free = demand.quantity - demand.covered
            if free > 0 and (demand.not_from is None or demand.not_from is not credit.source):
                take = min(free, left)
                demand.covered += take
                demand.paid_by.append((credit.ref, take))
                left -= take
            index += 1
        while first_open < len(demands) and demands[first_open].open <= 0:
            first_open += 1


# -- which reimbursements pay which category --------------------------------------------
_REASON_KEYS: dict[str, str] = {}


def reason_key(reason: str) -> str:
    """``Lost_Warehouse`` → ``lostwarehouse`` (reasons are compared normalised)."""
    key = _REASON_KEYS.get(reason)
    if key is None:
        key = reason.strip().lower().replace("_", "").replace("-", "").replace(" ", "")
        if len(_REASON_KEYS) < 1000:
            _REASON_KEYS[reason] = key
    return key


REVERSAL = "reimbursementreversal"

_PAID_BY: dict[Category, Callable[[str], bool]] = {
    Category.LOST_WAREHOUSE: lambda r: r == "lostwarehouse",
    Category.DAMAGED_WAREHOUSE: lambda r: r == "damagedwarehouse",
    Category.INBOUND_SHORTFALL: lambda r: r in {"lostinbound", "damagedinbound"},
    Category.RETURN_NOT_RECEIVED: lambda r: r in {"customerreturn", "customerserviceissue"},
    Category.RETURN_NOT_RESTOCKED: lambda r: r in {"customerreturn", "customerserviceissue"},
    Category.REMOVAL_LOST: lambda r: "removal" in r,
    Category.FEE_OVERCHARGE: lambda r: "fee" in r,
    Category.REIMBURSEMENT_UNDERPAID: lambda r: r == "generaladjustment",
    Category.REIMBURSEMENT_REVERSAL: lambda r: r == "generaladjustment",
}


_PAID_CATEGORIES: dict[str, frozenset[Category]] = {}


def paid_categories(reason: str) -> frozenset[Category]:
    """Every category whose claims a payment with this ``reason`` settles."""
    found = _PAID_CATEGORIES.get(reason)
    if found is None:
        key = reason_key(reason)
        found = frozenset(c for c in Category if _PAID_BY[c](key))
        if len(_PAID_CATEGORIES) < 1000:
            _PAID_CATEGORIES[reason] = found
    return found


def pays(category: Category, reason: str) -> bool:
    """Whether a reimbursement with this ``reason`` settles claims of ``category``."""
    return category in paid_categories(reason)


_CATEGORY_OF_REASON: dict[str, Category | None] = {}


def category_paid_by(reason: str) -> Category | None:
    """The category whose units a payment reason pays: LOST_WAREHOUSE, DAMAGED_WAREHOUSE,
    INBOUND_SHORTFALL or RETURN_NOT_RECEIVED (customer side), else None."""
    if reason in _CATEGORY_OF_REASON:
        return _CATEGORY_OF_REASON[reason]
    key = reason_key(reason)
    found = next((c for c in (Category.LOST_WAREHOUSE, Category.DAMAGED_WAREHOUSE,
                              Category.INBOUND_SHORTFALL, Category.RETURN_NOT_RECEIVED)
                  if _PAID_BY[c](key)), None)
    if len(_CATEGORY_OF_REASON) < 1000:
        _CATEGORY_OF_REASON[reason] = found
    return found


# Categories whose claims are settled by money, not units.
_MONEY_CATEGORIES = frozenset({
    Category.FEE_OVERCHARGE, Category.REIMBURSEMENT_UNDERPAID, Category.REIMBURSEMENT_REVERSAL,
})
_BY_ORDER = frozenset({Category.RETURN_NOT_RECEIVED, Category.RETURN_NOT_RESTOCKED})


@dataclass(frozen=True, slots=True)
class ReimbursementMatch:
    """What Amazon paid against one claim: units, money, which payments; ``shortfall`` is
    the claim's amount minus what was paid (positive: under-paid), None when unknown."""

    claim_id: str
    quantity_paid: int
    amount_paid: Money | None
    reimbursement_ids: tuple[str, ...]
    fully_paid: bool
    shortfall: Money | None


def match_reimbursements(
    claims: Iterable[Claim],
    reimbursements: Iterable[Reimbursement],
    *,
    case_ids: Mapping[str, str] | None = None,
) -> dict[str, ReimbursementMatch]:
    """Match payments from the reimbursements report to claims (e.g. the open and filed
    claims of the Claims table) so they can be closed as reimbursed.

    A payment whose ``case-id`` is a claim's case id (``case_ids``: claim id → case id)
    goes to that claim. Other payments go by reason (see :func:`pays`) and by order id
    (customer-side categories) or FNSKU (else SKU), oldest claim first, approved at most 3
    days before the claim's anchor. Reversals reduce the payment they reverse. Claims no
    payment touches are absent from the result.
    """
    claims = list(claims)
    rows = list(reimbursements)
    reversed_qty: dict[str, int] = {}
    reversed_money: dict[str, Decimal] = {}
    for row in rows:
        if reason_key(row.reason) == REVERSAL and row.original_reimbursement_id:
            oid = row.original_reimbursement_id
            reversed_qty[oid] = reversed_qty.get(oid, 0) + abs(row.quantity_total)
            reversed_money[oid] = reversed_money.get(oid, Decimal(0)) + abs(
                row.amount_total.amount)
    payments = [r for r in rows if reason_key(r.reason) != REVERSAL and r.amount_total.amount > 0]
    payments.sort(key=lambda r: (r.approval_date, r.reimbursement_id, r.fnsku))
    by_case: dict[str, list[Reimbursement]] = {}
    for row in payments:
        if row.case_id:
            by_case.setdefault(row.case_id, []).append(row)
    case_of = dict(case_ids or {})
    used: set[tuple[str, str]] = set()
    paid: dict[str, list[tuple[Reimbursement, int, Decimal]]] = {}

    def net(row: Reimbursement) -> tuple[int, Decimal]:
        qty = max(row.quantity_total - reversed_qty.get(row.reimbursement_id, 0), 0)
        money = max(row.amount_total.amount - reversed_money.get(row.reimbursement_id, 0),
                    Decimal(0))
        return qty, money

    for claim in claims:
        case = case_of.get(claim.claim_id)
        for row in by_case.get(case, []) if case else []:
            used.add((row.reimbursement_id, row.fnsku))
            qty, money = net(row)
            paid.setdefault(claim.claim_id, []).append((row, qty, money))

    pools: dict[tuple[Any, ...], tuple[list[Demand], list[Credit]]] = {}
    for claim in claims:
        if claim.claim_id in paid:
            continue
        quantity = 1 if claim.category in _MONEY_CATEGORIES else claim.quantity
        pools.setdefault(_pool_key(claim), ([], []))[0].append(Demand(
            at=datetime(claim.anchor.year, claim.anchor.month, claim.anchor.day, tzinfo=UTC),
            quantity=quantity, order=(claim.claim_id,), ref=claim))
    for row in payments:
        if (row.reimbursement_id, row.fnsku) in used:
            continue
        key = next((k for k in _payment_keys(row) if k in pools), None)
        if key is None:
            continue
        qty, _money = net(row)
        money_pool = key[1] in _MONEY_CATEGORIES
        pools[key][1].append(Credit(
            at=row.approval_date, quantity=1 if money_pool else qty,
            order=(row.reimbursement_id, row.fnsku), ref=row))
    for demands, credits in pools.values():
        allocate(demands, credits, lead=timedelta(days=3))
        for demand in demands:
            claim = demand.ref
            for row, units in demand.paid_by:
                qty, money = net(row)
                share = money if claim.category in _MONEY_CATEGORIES or not qty else (
                    money * units / qty)
                paid.setdefault(claim.claim_id, []).append((row, units, share))

    result: dict[str, ReimbursementMatch] = {}
    for claim in claims:
        parts = paid.get(claim.claim_id)
        if not parts:
            continue
        units = sum(p[1] for p in parts)
        currencies = {p[0].currency for p in parts}
        amount = None
        if len(currencies) == 1:
            amount = Money(sum((p[2] for p in parts), Decimal(0)), currencies.pop()).quantize()
        shortfall = None
        if claim.amount is not None and amount is not None and (
                amount.currency == claim.amount.currency):
            shortfall = claim.amount - amount
        if claim.category in _MONEY_CATEGORIES:
            fully = shortfall is not None and shortfall.amount <= 0
        else:
            fully = units >= claim.quantity
        result[claim.claim_id] = ReimbursementMatch(
            claim_id=claim.claim_id, quantity_paid=units, amount_paid=amount,
            reimbursement_ids=tuple(sorted({p[0].reimbursement_id for p in parts})),
            fully_paid=fully, shortfall=shortfall,
        )
    return result


def _pool_key(claim: Claim) -> tuple[Any, ...]:
    group = _group(claim.category)
    if claim.category in _BY_ORDER:
        return ("order", group, claim.fact("order-id"))
    if claim.fnsku:
        return ("fnsku", group, claim.fnsku)
    return ("sku", group, claim.sku or "")


def _group(category: Category) -> Category:
    # One return claim per order: both customer-side categories share one pool.
    return Category.RETURN_NOT_RECEIVED if category in _BY_ORDER else category


def _payment_keys(row: Reimbursement) -> list[tuple[Any, ...]]:
    keys: list[tuple[Any, ...]] = []
    for category in Category:
        if not pays(category, row.reason):
            continue
        group = _group(category)
        if category in _BY_ORDER:
            keys.append(("order", group, row.amazon_order_id))
            continue
        if row.fnsku:
            keys.append(("fnsku", group, row.fnsku))
        if row.sku:
            keys.append(("sku", group, row.sku))
    return keys
