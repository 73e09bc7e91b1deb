"""Claims: deterministic ids, windows, the output shape, matching payments to claims."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from functions.audit.logic.claims import (
    SAFETY_MARGIN_DAYS,
    Category,
    Claim,
    ClaimStatus,
    ClaimWindow,
    Evidence,
    claim_id,
    make_claim,
    match_reimbursements,
)
from functions.core.money import Money

from .builders import FNSKU, SKU, reimbursement, reversal

DAY = date(2025, 10, 2)
CONTRACT_KEYS = {"claim_id", "category", "status", "sku", "fnsku", "asin", "quantity",
                 "amount", "currency", "deadline", "reason", "evidence"}


def test_claim_ids_depend_only_on_category_and_evidence_keys() -> None:
    first = claim_id(Category.LOST_WAREHOUSE, FNSKU, "781245501", "M", "2025-10-02")
    assert first == claim_id(Category.LOST_WAREHOUSE, FNSKU, "781245501", "M", "2025-10-02")
    assert first != claim_id(Category.DAMAGED_WAREHOUSE, FNSKU, "781245501", "M", "2025-10-02")
    assert first != claim_id(Category.LOST_WAREHOUSE, FNSKU, "781245502", "M", "2025-10-02")
    assert first.startswith("lost_warehouse-")


def test_a_window_opens_closes_and_keeps_a_margin() -> None:
    window = ClaimWindow(60, 120, "refund date")
    assert window.opens(DAY) == DAY + timedelta(days=60 + SAFETY_MARGIN_DAYS)
    assert window.deadline(DAY) == DAY + timedelta(days=120 - SAFETY_MARGIN_DAYS)
    assert window.status(DAY, window.opens(DAY) - timedelta(days=1)) is None
    assert window.status(DAY, window.opens(DAY)) is ClaimStatus.OPEN
    assert window.status(DAY, window.deadline(DAY)) is ClaimStatus.OPEN
    assert window.status(DAY, window.deadline(DAY) + timedelta(days=1)) is ClaimStatus.EXPIRED
    immediate = ClaimWindow(0, 60, "ledger date")
    assert immediate.status(DAY, DAY) is ClaimStatus.OPEN


def _claim(quantity: int = 2, amount: str | None = "10.00", category: Category = (
        Category.LOST_WAREHOUSE), facts: dict[str, str] | None = None,
        days_later: int = 5) -> Claim:
    claim = make_claim(
        category, keys=(FNSKU, "781245501"), anchor=DAY, as_of=DAY + timedelta(days=days_later),
        quantity=quantity, amount=None if amount is None else Money.of(amount, "USD"),
        reason="2 units lost", sku=SKU, fnsku=FNSKU, asin="B0C1EXAMPL",
        evidence=[Evidence("ledger", "ledger.tsv", 2, (("Reason", "M"),))],
        facts=facts or {"reference-id": "781245501"},
        unit_value=None if amount is None else Money.of("5.00", "USD"),
    )
    assert claim is not None
    return claim


def test_the_json_shape_is_exactly_the_contract() -> None:
    data = _claim().to_dict()
    assert set(data) == CONTRACT_KEYS
    assert data["amount"] == "10.00" and data["currency"] == "USD"
    assert data["deadline"] == _claim().deadline.isoformat()
    assert data["status"] == "open"
    assert data["evidence"] == [{"report": "ledger", "file": "ledger.tsv", "line": 2,
                                 "fields": {"Reason": "M"}}]
    unvalued = _claim(amount=None).to_dict()
    assert unvalued["amount"] is None and unvalued["currency"] is None


def test_a_stored_claim_reads_back_the_same() -> None:
    claim = _claim()
    assert Claim.from_record(claim.to_record()) == claim


@pytest.mark.parametrize(("quantity", "amount"), [(0, None), (0, "0.00"), (2, "0.00")])
def test_nothing_to_claim_makes_no_claim(quantity: int, amount: str | None) -> None:
    assert make_claim(
        Category.LOST_WAREHOUSE, keys=("x",), anchor=DAY, as_of=DAY, quantity=quantity,
        amount=None if amount is None else Money.of(amount, "USD"), reason="", evidence=[],
    ) is None


# -- matching payments to (stored) claims --------------------------------------------------
def test_a_full_payment_closes_the_claim_and_shows_any_shortfall() -> None:
    claim = _claim(quantity=2, amount="10.00")
    paid = reimbursement(DAY + timedelta(days=20), quantity=2, per_unit="4.10")
    match = match_reimbursements([claim], [paid])[claim.claim_id]
    assert match.fully_paid and match.quantity_paid == 2
    assert match.amount_paid == paid.amount_total
    assert match.shortfall == claim.amount - paid.amount_total
    assert match.reimbursement_ids == (paid.reimbursement_id,)


def test_a_partial_payment_leaves_the_claim_open() -> None:
    claim = _claim(quantity=2)
    paid = reimbursement(DAY + timedelta(days=20), quantity=1)
    match = match_reimbursements([claim], [paid])[claim.claim_id]
    assert not match.fully_paid and match.quantity_paid == 1


def test_payments_of_another_kind_item_or_time_do_not_match() -> None:
    claim = _claim()
    others = [
        reimbursement(DAY + timedelta(days=20), reason="Damaged_Warehouse", rid="1"),
        reimbursement(DAY + timedelta(days=20), fnsku="X00OTHER00", sku="OTHER", rid="2"),
        reimbursement(DAY - timedelta(days=30), rid="3"),
    ]
    assert match_reimbursements([claim], others) == {}


def test_a_reversed_payment_does_not_count() -> None:
    claim = _claim(quantity=1)
    paid = reimbursement(DAY + timedelta(days=20))
    taken = reversal(DAY + timedelta(days=30), paid)
    match = match_reimbursements([claim], [paid, taken]).get(claim.claim_id)
    assert match is None or match.quantity_paid == 0


def test_customer_side_claims_match_by_order_and_case_ids_win() -> None:
    order = "113-5556667-7778889"
    claim = _claim(quantity=1, amount="18.19", category=Category.RETURN_NOT_RECEIVED,
                   facts={"order-id": order}, days_later=70)
    paid = reimbursement(DAY + timedelta(days=70), reason="CustomerReturn", order=order,
                         per_unit="18.19")
    assert match_reimbursements([claim], [paid])[claim.claim_id].fully_paid
    by_case = reimbursement(DAY + timedelta(days=70), reason="GeneralAdjustment",
                            case="CASE-9", per_unit="18.19", rid="77")
    match = match_reimbursements([claim], [by_case], case_ids={claim.claim_id: "CASE-9"})
    assert match[claim.claim_id].fully_paid
