"""The whole audit on a hand-made seller (tests/fixtures/audit/seller): one claim per
planted error, nothing for what Amazon made good, and the same answer however the files
are named, ordered or duplicated."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

from functions.audit.logic.audit import AuditResult, audit_directory, run_audit
from functions.audit.logic.claims import Category, ClaimStatus
from functions.audit.logic.costs import read_costs

from .builders import FIXTURES

SELLER = FIXTURES / "seller"
AS_OF = date(2025, 11, 20)


def _audit(folder: Path = SELLER, as_of: date = AS_OF) -> AuditResult:
    return audit_directory(folder, as_of=as_of, costs=read_costs(FIXTURES / "costs.csv"))


def _summary(result: AuditResult) -> set[tuple[object, ...]]:
    return {(c.claim_id, c.status, c.quantity, c.amount) for c in result.claims}


def test_every_category_is_found_and_nothing_else_is_wrong() -> None:
    result = _audit()
    assert result.errors == []
    assert {c.category for c in result.claims} == set(Category)
    assert {c.status for c in result.claims} == {ClaimStatus.OPEN, ClaimStatus.EXPIRED}
    assert len({c.claim_id for c in result.claims}) == len(result.claims)


def test_what_amazon_made_good_or_cannot_be_claimed_yet_is_not_listed() -> None:
    claims = _audit().claims
    # LAMP's damage of 11/01 was reimbursed (Damaged_Warehouse, 2 units).
    assert not [c for c in claims if c.category is Category.DAMAGED_WAREHOUSE
                and c.fnsku == "X003LAMP01"]
    # The return damaged in the warehouse on order 113-1231231 was paid (CustomerReturn).
    assert not [c for c in claims if c.fact("order-id") == "113-1231231-1231231"]
    # Shipment FBA15YSHIP2 closed on 11/15: its window opens 15 days later.
    assert not [c for c in claims if c.fact("shipment-id") == "FBA15YSHIP2"]
    # The MUG payment taken back after the unit was found is a justified reversal.
    assert not [c for c in claims if c.fact("reimbursement-id") == "9876600021"]


def test_the_json_document_has_the_contract_shape_and_totals_add_up() -> None:
    result = _audit()
    document = result.to_dict()
    assert set(document) == {"as_of", "claims", "totals", "errors"}
    assert document["as_of"] == AS_OF.isoformat()
    assert set(document["totals"]) == {"open", "expired"}
    for status, total in document["totals"].items():
        chosen = [c for c in document["claims"] if c["status"] == status]
        assert total["count"] == len(chosen)
        sums: dict[str, Decimal] = {}
        for claim in chosen:
            if claim["amount"] is not None:
                sums[claim["currency"]] = sums.get(claim["currency"], Decimal(0)) + Decimal(
                    claim["amount"])
        assert {cur: Decimal(v) for cur, v in total["by_currency"].items()} == sums


def test_input_order_names_duplicates_and_compression_do_not_change_the_claims(
        tmp_path: Path) -> None:
    import gzip

    expected = _summary(_audit())
    copy = tmp_path / "again"
    (copy / "old-download").mkdir(parents=True)
    for source in sorted(SELLER.iterdir(), reverse=True):
        target = copy / f"z-{source.stem}.gz"
        target.write_bytes(gzip.compress(source.read_bytes()))
    # An overlapping second download of the ledger and the reimbursements.
    shutil.copy(SELLER / "Inventory_Ledger_Detail.txt", copy / "old-download" / "ledger.txt")
    shutil.copy(SELLER / "reimbursements.tsv", copy / "old-download" / "r.tsv")
    again = _audit(copy)
    assert again.errors == []
    assert _summary(again) == expected
    assert _summary(_audit()) == expected  # and a re-run changes nothing


def test_a_cost_sheet_in_the_reports_folder_is_used(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    shutil.copytree(SELLER, folder)
    shutil.copy(FIXTURES / "costs.csv", folder / "costs.csv")
    result = audit_directory(folder, as_of=AS_OF)
    assert _summary(result) == _summary(_audit())


def test_unreadable_rows_and_files_are_errors_and_the_rest_is_audited(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    shutil.copytree(SELLER, folder)
    (folder / "notes.txt").write_text("this is not a report\n")
    with (folder / "Inventory_Ledger_Detail.txt").open("a") as handle:
        handle.write("11/19/2025\tX002ABCD12\tbroken row\n")
    result = _audit(folder)
    lines = (folder / "Inventory_Ledger_Detail.txt").read_text().count("\n")
    assert {(e.file, e.line) for e in result.errors} == {
        ("notes.txt", 1), ("Inventory_Ledger_Detail.txt", lines)}
    assert _summary(result) == _summary(_audit())


def test_streams_can_be_audited_without_files() -> None:
    handles = [(path.name, path.open("rb")) for path in sorted(SELLER.iterdir())]
    try:
        result = run_audit(handles, as_of=AS_OF, costs=read_costs(FIXTURES / "costs.csv"))
    finally:
        for _name, handle in handles:
            handle.close()
    assert _summary(result) == _summary(_audit())


def test_the_same_reports_audited_later_expire_instead_of_disappearing() -> None:
    now = {c.claim_id: c for c in _audit().claims}
    later = {c.claim_id: c for c in _audit(as_of=date(2026, 6, 1)).claims}
    assert set(now) <= set(later)
    assert all(c.status is ClaimStatus.EXPIRED for c in later.values())
