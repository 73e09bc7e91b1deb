"""The real ApiFunction of template.yaml behind the local API Gateway (in-process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.runtime import LocalStack, in_process
from tests.integration.local.support import REPO_TEMPLATE, ROOT

_REAL_API = (ROOT / "functions" / "api" / "handler.py").exists() and REPO_TEMPLATE.exists()


@pytest.fixture(scope="module")
def real() -> Iterator[LocalStack]:
    if not _REAL_API:
        pytest.skip("template.yaml or functions/api/handler.py not written yet")
    with in_process(REPO_TEMPLATE) as local:
        yield local


def test_real_api_function_behind_the_adapter(real: LocalStack) -> None:
    seller = real.issue_token("A1LOCALSELLER")
    other = real.issue_token("A2OTHERSELLER")
    staff = real.issue_token(staff=True)

    assert real.request("GET", "/health").status == 200
    assert real.request("GET", "/accounts/me").status == 401
    assert real.request("GET", "/accounts/me", token=seller).status == 404
    account = {"name": "Local Seller", "language": "de", "country": "DE", "products": ["repricer"]}
    created = real.request("PUT", "/accounts/me", token=seller, json_body=account)
    assert created.status in (200, 201), created.text
    mine = real.request("GET", "/accounts/me", token=seller)
    assert mine.status == 200
    assert mine.json()["seller_id"] == "A1LOCALSELLER"
    account_id = mine.json()["account_id"]
    assert real.request("GET", f"/accounts/{account_id}", token=other).status == 404
    assert real.request("GET", f"/accounts/{account_id}", token=staff).status == 200
    listed = real.request("GET", "/accounts", token=staff)
    assert listed.status == 200
    assert account_id in {a["account_id"] for a in listed.json()["items"]}
    assert real.request("GET", "/accounts", token=seller).status == 403
