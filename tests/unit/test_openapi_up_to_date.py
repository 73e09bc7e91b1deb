"""docs/openapi.json is the API's published contract: it must match the code.

Regenerate with ``python scripts/export_openapi.py`` after changing a route or model.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _export_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "export_openapi", ROOT / "scripts" / "export_openapi.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_openapi_matches_a_fresh_export() -> None:
    script = _export_script()
    checked_in = script.OUTPUT.read_text(encoding="utf-8")
    assert checked_in == script.render(), (
        "docs/openapi.json is out of date: run python scripts/export_openapi.py"
    )


def test_document_covers_the_contract_routes() -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert operations == {
        ("GET", "/health"),
        ("GET", "/accounts/me"),
        ("PUT", "/accounts/me"),
        ("GET", "/accounts"),
        ("GET", "/accounts/{account_id}"),
        ("POST", "/sellers/me/connect"),
        ("GET", "/sellers/me/repricer"),
        ("PUT", "/sellers/me/repricer"),
        ("GET", "/sellers/{seller_id}/repricer"),
        ("PUT", "/sellers/me/costs"),
        ("GET", "/sellers/me/costs"),
        ("GET", "/listings"),
        ("POST", "/listings/import"),
        ("GET", "/listings/{marketplace_id}/{sku}"),
        ("PUT", "/listings/{marketplace_id}/{sku}"),
        ("GET", "/listings/{marketplace_id}/{sku}/history"),
    }
    assert "text/csv" in document["paths"]["/listings/import"]["post"]["requestBody"]["content"]
    assert "text/csv" in document["paths"]["/sellers/me/costs"]["put"]["requestBody"]["content"]
    assert "security" not in document["paths"]["/health"]["get"]
    assert document["paths"]["/accounts"]["get"]["security"] == [{"cognito": []}]
