"""`sellerops audit` through the real entry point (infra.cli.main)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from functions.audit.logic.claims import Category
from infra.cli import main

from .builders import FIXTURES

SELLER = str(FIXTURES / "seller")
COSTS = str(FIXTURES / "costs.csv")


def test_json_output_is_one_document_with_the_contract_keys(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "--reports", SELLER, "--as-of", "2025-11-20", "--costs", COSTS,
                 "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    document = json.loads(out)
    assert set(document) == {"as_of", "claims", "totals", "errors"}
    assert document["as_of"] == "2025-11-20"
    assert {c["category"] for c in document["claims"]} == {str(c) for c in Category}
    assert all(c["status"] in ("open", "expired") for c in document["claims"])
    assert document["totals"]["open"]["by_currency"]


def test_as_of_defaults_to_today_utc(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--reports", SELLER, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == datetime.now(UTC).date().isoformat()


def test_the_listing_groups_claims_by_category_with_totals_and_errors(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "reports"
    broken.mkdir()
    for source in Path(SELLER).iterdir():
        (broken / source.name).write_bytes(source.read_bytes())
    (broken / "readme.txt").write_text("not a report\n")
    assert main(["audit", "--reports", str(broken), "--as-of", "2025-11-20",
                 "--costs", COSTS]) == 0
    out = capsys.readouterr().out
    for category in Category:
        assert f"\n{category} (" in out
    assert "Totals" in out and "USD" in out
    assert "readme.txt:1:" in out


@pytest.mark.parametrize(("arguments", "message"), [
    (["--reports", "/nonexistent/reports"], "no such folder"),
    (["--reports", SELLER, "--as-of", "2025-13-01"], "--as-of"),
    (["--reports", SELLER, "--as-of", "yesterday"], "YYYY-MM-DD"),
    (["--reports", SELLER, "--costs", "/nonexistent/costs.csv"], "no such file"),
])
def test_bad_arguments_exit_2_with_a_clear_message(
        capsys: pytest.CaptureFixture[str], arguments: list[str], message: str) -> None:
    assert main(["audit", *arguments]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err


def test_a_bad_cost_sheet_names_line_and_column(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    costs = tmp_path / "costs.csv"
    costs.write_text("sku,unit_cost,currency\nMUG-BLU-12,5.00,USD\nLAMP-RED-01,eight,USD\n")
    assert main(["audit", "--reports", SELLER, "--costs", str(costs)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "unit_cost" in err and "eight" in err
    costs.write_text("sku,cost\nMUG-BLU-12,5.00\n")
    assert main(["audit", "--reports", SELLER, "--costs", str(costs)]) == 2
    err = capsys.readouterr().err
    assert "unit_cost" in err and "currency" in err
    costs.write_text("sku,unit_cost,currency\nMUG-BLU-12,5.00,USD\nMUG-BLU-12,6.00,USD\n")
    assert main(["audit", "--reports", SELLER, "--costs", str(costs)]) == 2
    assert "line 3" in capsys.readouterr().err


def test_reports_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["audit"])
    assert exit_info.value.code == 2
    assert "--reports" in capsys.readouterr().err
