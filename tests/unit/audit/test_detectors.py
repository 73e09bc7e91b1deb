"""Each detector on hand-made rows: a claim, no claim, already made good, expired, and not
open yet. Expected quantities and amounts are derived from the rows the test writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from types import ModuleType

from functions.audit.logic.claims import Category, Claim, ClaimStatus
from functions.audit.logic.costs import CostBook
from functions.audit.logic.data import AuditData
from functions.audit.logic.detectors import (
    damaged_warehouse,
    fee_overcharge,
    inbound_shortfall,
    lost_warehouse,
    reimbursement_reversal,
    reimbursement_underpaid,
    removal_lost,
    return_not_received,
    return_not_restocked,
)
from functions.core.money import Money

from .builders import (
    SKU,
    customer_return,
    fee_estimate,
    inbound,
    ledger,
    reimbursement,
    removal_order,
    removal_shipment,
    reversal,
    settlement_line,
)

DAY = date(2025, 10, 2)
COST = Money.of("5.00", "USD")
COSTS = CostBook.of({SKU: COST})


def run(detector: ModuleType, records: Iterable[object], as_of: date,
        costs: CostBook = COSTS) -> list[Claim]:
    claims = detector.detect(AuditData.from_records(records), costs=costs, as_of=as_of)
    assert all(c.category is detector.CATEGORY for c in claims)
    return claims


def only(claims: list[Claim]) -> Claim:
    assert len(claims) == 1, claims
    return claims[0]


# -- lost in the warehouse ---------------------------------------------------------------
def test_lost_units_are_claimed_at_manufacturing_cost() -> None:
    claim = only(run(lost_warehouse, [ledger(DAY, reason="M", quantity=-3, unreconciled=3)],
                     DAY + timedelta(days=10)))
    assert claim.status is ClaimStatus.OPEN
    assert claim.quantity == 3
    assert claim.amount == COST * 3
    assert (claim.sku, claim.fnsku) == (SKU, "X002ABCD12")
    assert DAY < claim.deadline <= DAY + timedelta(days=60)
    assert [(e.file, e.line) for e in claim.evidence] == [("ledger.tsv", 2)]


def test_reason_5_counts_and_other_adjustments_do_not() -> None:
    assert only(run(lost_warehouse, [ledger(DAY, reason="5")], DAY)).quantity == 1
    for reason in ("Q", "D", "O", "N", "F", "3"):
        assert run(lost_warehouse, [ledger(DAY, reason=reason)], DAY) == []


def test_found_units_and_payments_are_not_claimed_again() -> None:
    loss = ledger(DAY, reason="M", quantity=-3)
    found = ledger(DAY + timedelta(days=5), reason="F", quantity=1, reference="781990312",
                   line=3)
    paid = reimbursement(DAY + timedelta(days=2), quantity=1)
    claim = only(run(lost_warehouse, [loss, found, paid], DAY + timedelta(days=10)))
    assert claim.quantity == 3 - found.quantity - paid.quantity_total
    assert {e.report for e in claim.evidence} == {"ledger", "reimbursements"}
    fully = reimbursement(DAY + timedelta(days=2), quantity=3)
    assert run(lost_warehouse, [loss, fully], DAY + timedelta(days=10)) == []


def test_unreconciled_quantity_caps_the_claim() -> None:
    loss = ledger(DAY, reason="M", quantity=-3, reconciled=2, unreconciled=1)
    assert only(run(lost_warehouse, [loss], DAY)).quantity == loss.unreconciled_quantity


def test_the_documented_sample_found_paid_and_reversed() -> None:
    # domain/fba-audit.md §7: 3 lost, 1 paid, 1 found, the payment reversed (justified).
    loss = ledger(DAY, reason="M", quantity=-3, reconciled=1, unreconciled=2)
    paid = reimbursement(DAY + timedelta(days=2))
    found = ledger(DAY + timedelta(days=7), reason="F", quantity=1, reference="781990312")
    taken_back = reversal(DAY + timedelta(days=8), paid)
    records = [loss, paid, found, taken_back]
    claim = only(run(lost_warehouse, records, DAY + timedelta(days=10)))
    assert claim.quantity == 3 - found.quantity
    assert run(reimbursement_reversal, records, DAY + timedelta(days=10)) == []


def test_a_payment_long_before_the_loss_does_not_settle_it() -> None:
    early = reimbursement(DAY - timedelta(days=30))
    assert only(run(lost_warehouse, [ledger(DAY, reason="M"), early], DAY)).quantity == 1


def test_past_window_is_expired_and_before_the_event_nothing_is_listed() -> None:
    loss = ledger(DAY, reason="M")
    assert only(run(lost_warehouse, [loss], DAY + timedelta(days=90))).status is (
        ClaimStatus.EXPIRED)
    assert run(lost_warehouse, [loss], DAY - timedelta(days=1)) == []


def test_without_a_cost_the_amount_is_unknown() -> None:
    claim = only(run(lost_warehouse, [ledger(DAY, reason="M")], DAY, costs=CostBook()))
    assert claim.amount is None and claim.to_dict()["amount"] is None
    assert claim.to_dict()["currency"] is None


def test_cost_in_the_marketplace_currency_is_preferred() -> None:
    euro = Money.of("4.00", "EUR")
    costs = CostBook.of({SKU: COST}).merge(CostBook.of({SKU: euro}))
    claim = only(run(lost_warehouse, [ledger(DAY, reason="M", country="DE")], DAY, costs))
    assert claim.amount == euro


# -- damaged in the warehouse ------------------------------------------------------------
def test_damaged_units_are_claimed_unless_paid_as_damage() -> None:
    damage = ledger(DAY, reason="E", quantity=-2, unreconciled=2)
    claim = only(run(damaged_warehouse, [damage], DAY + timedelta(days=1)))
    assert claim.quantity == 2 and claim.amount == COST * 2
    lost_payment = reimbursement(DAY + timedelta(days=1), quantity=2)  # Lost_Warehouse
    assert only(run(damaged_warehouse, [damage, lost_payment], DAY)).quantity == 2
    paid = reimbursement(DAY + timedelta(days=1), reason="Damaged_Warehouse", quantity=2)
    assert run(damaged_warehouse, [damage, paid], DAY + timedelta(days=5)) == []
    assert only(run(damaged_warehouse, [damage], DAY + timedelta(days=61))).status is (
        ClaimStatus.EXPIRED)
    for code in ("6", "7", "H", "K", "U"):
        assert len(run(damaged_warehouse, [ledger(DAY, reason=code)], DAY)) == 1
    assert run(damaged_warehouse, [ledger(DAY, reason="E", quantity=1)], DAY) == []


# -- refunded, not returned ----------------------------------------------------------------
ORDER = "113-5556667-7778889"


def refund(day: date, *, principal: str = "-19.99", quantity: int | None = None,
           marketplace: str = "Amazon.com", currency: str = "USD") -> list[object]:
    return [
        settlement_line(DAY - timedelta(days=5), order=ORDER, amount="19.99",
                        quantity=quantity or 1, marketplace=marketplace, currency=currency,
                        line=2),
        settlement_line(day, kind="Refund", order=ORDER, amount=principal, quantity=quantity,
                        marketplace=marketplace, currency=currency, line=3),
        settlement_line(day, kind="Refund", order=ORDER, amount_type="ItemFees",
                        description="Commission", amount="2.40", marketplace=marketplace,
                        currency=currency, line=4),
        settlement_line(day, kind="Refund", order=ORDER, amount_type="ItemFees",
                        description="RefundCommission", amount="-0.60",
                        marketplace=marketplace, currency=currency, line=5),
        settlement_line(day, kind="Refund", order=ORDER, description="Tax", amount="-1.60",
                        marketplace=marketplace, currency=currency, line=6),
    ]


def test_a_refund_without_a_return_is_claimed_after_60_days() -> None:
    rows = refund(DAY)
    debit = Decimal("19.99") - Decimal("2.40") + Decimal("0.60")  # taxes pass through
    assert run(return_not_received, rows, DAY + timedelta(days=30)) == []
    claim = only(run(return_not_received, rows, DAY + timedelta(days=80)))
    assert claim.status is ClaimStatus.OPEN
    assert claim.quantity == 1 and claim.amount == Money(debit, "USD")
    assert claim.fact("order-id") == ORDER
    assert only(run(return_not_received, rows, DAY + timedelta(days=130))).status is (
        ClaimStatus.EXPIRED)


def test_eu_marketplaces_have_the_shorter_window() -> None:
    rows = refund(DAY, marketplace="Amazon.de", currency="EUR")
    assert only(run(return_not_received, rows, DAY + timedelta(days=50))).status is (
        ClaimStatus.OPEN)
    assert only(run(return_not_received, rows, DAY + timedelta(days=110))).status is (
        ClaimStatus.EXPIRED)


def test_returned_or_reimbursed_orders_are_not_claimed() -> None:
    later = DAY + timedelta(days=80)
    returned = customer_return(DAY + timedelta(days=10), order=ORDER)
    assert run(return_not_received, [*refund(DAY), returned], later) == []
    in_ledger = ledger(DAY + timedelta(days=12), event="CustomerReturns", reference=ORDER,
                       quantity=1)
    assert run(return_not_received, [*refund(DAY), in_ledger], later) == []
    paid = reimbursement(DAY + timedelta(days=70), reason="CustomerReturn", order=ORDER,
                         per_unit="18.19")
    assert run(return_not_received, [*refund(DAY), paid], later) == []


def test_only_the_units_not_returned_are_claimed() -> None:
    rows = refund(DAY, principal="-39.98", quantity=2)
    returned = customer_return(DAY + timedelta(days=10), order=ORDER)
    claim = only(run(return_not_received, [*rows, returned], DAY + timedelta(days=80)))
    assert claim.quantity == 2 - returned.quantity


# -- returned, not restocked ---------------------------------------------------------------
def test_returns_damaged_by_amazon_or_its_carrier_are_claimed() -> None:
    for disposition in ("DAMAGED", "CARRIER_DAMAGED"):
        row = customer_return(DAY, disposition=disposition)
        claim = only(run(return_not_restocked, [row, fee_estimate()], DAY + timedelta(days=3)))
        assert claim.quantity == 1 and claim.fact("order-id") == row.order_id
        # Valued at the fee preview's price less estimated fees without a settlement.
        assert claim.amount == Money(Decimal("19.99") - Decimal("6.22"), "USD")
    assert run(return_not_restocked, [customer_return(DAY, disposition="CUSTOMER_DAMAGED")],
               DAY + timedelta(days=3)) == []


def test_a_return_is_valued_at_its_sale_less_fees_when_the_settlement_has_it() -> None:
    row = customer_return(DAY, disposition="DAMAGED", order=ORDER)
    sale = [settlement_line(DAY - timedelta(days=9), order=ORDER, amount="19.99", quantity=1),
            settlement_line(DAY - timedelta(days=9), order=ORDER, amount_type="ItemFees",
                            description="Commission", amount="-3.00", line=4)]
    claim = only(run(return_not_restocked, [row, *sale], DAY + timedelta(days=3)))
    assert claim.amount == Money(Decimal("19.99") - Decimal("3.00"), "USD")


def test_carrier_damage_expires_after_45_days_and_payment_settles_it() -> None:
    row = customer_return(DAY, disposition="CARRIER_DAMAGED")
    assert only(run(return_not_restocked, [row], DAY + timedelta(days=50))).status is (
        ClaimStatus.EXPIRED)
    paid = reimbursement(DAY + timedelta(days=5), reason="CustomerReturn", order=row.order_id)
    assert run(return_not_restocked, [row, paid], DAY + timedelta(days=10)) == []


def test_a_return_missing_from_the_ledger_is_claimed_once_the_ledger_covers_it() -> None:
    row = customer_return(DAY, order="113-3334445-5556667")
    other = [ledger(DAY - timedelta(days=20), event="CustomerReturns", quantity=1,
                    reference="113-0000000-0000001"),
             ledger(DAY + timedelta(days=30), event="CustomerReturns", quantity=1,
                    reference="113-0000000-0000002")]
    assert run(return_not_restocked, [row, *other], DAY + timedelta(days=3)) == []  # not yet
    claim = only(run(return_not_restocked, [row, *other], DAY + timedelta(days=31)))
    assert "never added back" in claim.reason
    restocked = ledger(DAY + timedelta(days=2), event="CustomerReturns", quantity=1,
                       reference=row.order_id)
    assert run(return_not_restocked, [row, *other, restocked], DAY + timedelta(days=31)) == []
    # Without ledger rows around the return, absence proves nothing.
    assert run(return_not_restocked, [row], DAY + timedelta(days=31)) == []


# -- inbound shortfall -----------------------------------------------------------------
def test_a_closed_shipment_short_of_units_is_claimed_in_its_window() -> None:
    item = inbound(DAY, shipped=24, received=18)
    assert run(inbound_shortfall, [item], DAY + timedelta(days=5)) == []  # opens after 15 d
    claim = only(run(inbound_shortfall, [item], DAY + timedelta(days=20)))
    assert claim.quantity == 24 - 18 and claim.amount == COST * (24 - 18)
    assert claim.fact("shipment-id") == item.shipment_id
    assert only(run(inbound_shortfall, [item], DAY + timedelta(days=70))).status is (
        ClaimStatus.EXPIRED)


def test_ledger_receipts_and_inbound_payments_reduce_the_shortfall() -> None:
    item = inbound(DAY, shipped=24, received=18)
    receipts = ledger(DAY - timedelta(days=3), event="Receipts", quantity=20,
                      reference=item.shipment_id)
    later = DAY + timedelta(days=20)
    assert only(run(inbound_shortfall, [item, receipts], later)).quantity == 24 - 20
    paid = reimbursement(DAY + timedelta(days=10), reason="Lost_Inbound", quantity=4)
    assert run(inbound_shortfall, [item, receipts, paid], later) == []
    assert run(inbound_shortfall, [inbound(None, status="RECEIVING")], later) == []
    assert run(inbound_shortfall, [inbound(DAY, shipped=12, received=12)], later) == []


# -- removal losses --------------------------------------------------------------------
def test_a_completed_removal_missing_units_is_claimed() -> None:
    order = removal_order(DAY, requested=5, shipped=3)
    claim = only(run(removal_lost, [order, removal_shipment(DAY - timedelta(days=2))], DAY))
    assert claim.quantity == 5 - 3 and claim.amount == COST * 2
    assert run(removal_lost, [removal_order(DAY, requested=5, shipped=3, status="Pending")],
               DAY) == []
    assert run(removal_lost, [removal_order(DAY, requested=5, shipped=3, cancelled=2)],
               DAY) == []


def test_units_shipped_without_a_tracked_shipment_are_lost() -> None:
    order = removal_order(DAY, requested=4, shipped=4, order="RMV-0002")
    shipment = removal_shipment(DAY - timedelta(days=1), order="RMV-0002", quantity=2)
    assert run(removal_lost, [order, shipment], DAY + timedelta(days=5)) == []  # after 15 d
    claim = only(run(removal_lost, [order, shipment], DAY + timedelta(days=20)))
    assert claim.quantity == 4 - 2
    assert only(run(removal_lost, [order, shipment], DAY + timedelta(days=80))).status is (
        ClaimStatus.EXPIRED)
    # Without the shipment detail report nothing says they were not shipped.
    assert run(removal_lost, [order], DAY + timedelta(days=20)) == []
    paid = reimbursement(DAY + timedelta(days=18), reason="Removal_Order_Lost", quantity=2)
    assert run(removal_lost, [order, shipment, paid], DAY + timedelta(days=20)) == []


# -- fee overcharge --------------------------------------------------------------------
def fee_rows(day: date, fee: str, units: int = 2) -> list[object]:
    return [
        settlement_line(day, order="113-1112223-3334445", amount=str(Decimal("19.99") * units),
                        quantity=units, line=2),
        settlement_line(day, order="113-1112223-3334445", amount_type="ItemFees",
                        description="FBAPerUnitFulfillmentFee", amount=f"-{fee}", line=3),
    ]


def test_a_fulfillment_fee_above_the_preview_is_claimed() -> None:
    estimate = fee_estimate(expected="3.22")
    rows = fee_rows(DAY, str(Decimal("5.40") * 2), units=2)
    claim = only(run(fee_overcharge, [estimate, *rows], DAY + timedelta(days=5)))
    assert claim.quantity == 2
    assert claim.amount == Money((Decimal("5.40") - Decimal("3.22")) * 2, "USD")
    assert only(run(fee_overcharge, [estimate, *rows], DAY + timedelta(days=70))).status is (
        ClaimStatus.EXPIRED)


def test_fees_as_expected_or_without_a_preview_are_not_claimed() -> None:
    assert run(fee_overcharge, [fee_estimate(), *fee_rows(DAY, "6.44")], DAY) == []
    assert run(fee_overcharge, fee_rows(DAY, "10.80"), DAY) == []


def test_a_fee_refund_settles_the_overcharge() -> None:
    rows = [fee_estimate(), *fee_rows(DAY, "10.80")]
    refunded = reimbursement(DAY + timedelta(days=9), reason="Fee_Correction",
                             per_unit="4.36", rid="9877777777")
    assert run(fee_overcharge, [*rows, refunded], DAY + timedelta(days=10)) == []


# -- paid below value ------------------------------------------------------------------
def test_a_payment_below_manufacturing_cost_is_claimed_for_the_difference() -> None:
    paid = reimbursement(DAY, quantity=2, per_unit="3.00")
    claim = only(run(reimbursement_underpaid, [paid], DAY + timedelta(days=1)))
    assert claim.quantity == 2
    assert claim.amount == (COST - Money.of("3.00", "USD")) * 2
    assert claim.fact("reimbursement-id") == paid.reimbursement_id
    assert only(run(reimbursement_underpaid, [paid], DAY + timedelta(days=61))).status is (
        ClaimStatus.EXPIRED)


def test_fair_reversed_topped_up_or_unvalued_payments_are_not_claimed() -> None:
    later = DAY + timedelta(days=5)
    assert run(reimbursement_underpaid, [reimbursement(DAY, per_unit="5.00")], later) == []
    assert run(reimbursement_underpaid, [reimbursement(DAY, per_unit="4.95")], later) == []
    low = reimbursement(DAY, per_unit="3.00", case="CASE-1")
    assert run(reimbursement_underpaid, [low, reversal(DAY + timedelta(days=1), low)],
               later) == []
    top_up = reimbursement(DAY + timedelta(days=2), reason="GeneralAdjustment",
                           per_unit="2.00", case="CASE-1", rid="9879999999")
    assert run(reimbursement_underpaid, [low, top_up], later) == []
    assert run(reimbursement_underpaid, [low], later, costs=CostBook()) == []


def test_a_customer_return_payment_is_compared_with_the_sale() -> None:
    sale = [settlement_line(DAY - timedelta(days=20), order=ORDER, amount="19.99", quantity=1),
            settlement_line(DAY - timedelta(days=20), order=ORDER, amount_type="ItemFees",
                            description="Commission", amount="-3.00", line=4)]
    paid = reimbursement(DAY, reason="CustomerReturn", order=ORDER, per_unit="10.00")
    claim = only(run(reimbursement_underpaid, [*sale, paid], DAY))
    assert claim.amount == Money(Decimal("19.99") - Decimal("3.00") - Decimal("10.00"), "USD")


# -- reversals -------------------------------------------------------------------------
def test_a_reversal_without_a_found_unit_is_claimed_once() -> None:
    loss = ledger(DAY, reason="M", quantity=-1, unreconciled=0)
    paid = reimbursement(DAY + timedelta(days=3))
    taken = reversal(DAY + timedelta(days=20), paid)
    records = [loss, paid, taken]
    later = DAY + timedelta(days=25)
    claim = only(run(reimbursement_reversal, records, later))
    assert claim.quantity == 1 and claim.amount == -taken.amount_total
    # The same unit is not also claimed as a loss.
    assert run(lost_warehouse, records, later) == []
    assert only(run(reimbursement_reversal, records, DAY + timedelta(days=90))).status is (
        ClaimStatus.EXPIRED)


def test_a_justified_or_repaid_reversal_is_not_claimed() -> None:
    paid = reimbursement(DAY + timedelta(days=3))
    taken = reversal(DAY + timedelta(days=20), paid)
    found = ledger(DAY + timedelta(days=15), reason="F", quantity=1, reference="781990312")
    later = DAY + timedelta(days=25)
    assert run(reimbursement_reversal, [paid, taken, found], later) == []
    repaid = reimbursement(DAY + timedelta(days=22), rid="9879000001")
    assert run(reimbursement_reversal, [paid, taken, repaid], later) == []
    customer = reimbursement(DAY, reason="CustomerReturn", order=ORDER, rid="9879000002")
    returned = customer_return(DAY + timedelta(days=5), order=ORDER)
    back = reversal(DAY + timedelta(days=9), customer, rid="9879000003")
    assert run(reimbursement_reversal, [customer, back, returned], later) == []
    assert len(run(reimbursement_reversal, [customer, back], later)) == 1


def test_every_category_has_its_detector() -> None:
    from functions.audit.logic.detectors import DETECTORS

    assert set(DETECTORS) == set(Category)
