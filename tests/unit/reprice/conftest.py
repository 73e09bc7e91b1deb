"""Shared fixtures of the Repricer's unit tests."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO.parent / "shared" / "domain" / "samples"
REAL = SAMPLES / "real"
FIXTURES = REPO / "tests" / "fixtures" / "reprice"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


@pytest.fixture
def sample():
    """Load a documented sample from ../shared/domain/samples (skip when absent)."""

    def _load(name: str) -> Any:
        path = SAMPLES / name
        if not path.exists():
            pytest.skip(f"{path} not present (the shared samples live outside the repository)")
        return load_json(path)

    return _load


@pytest.fixture
def real_sample():
    """Load a real sample from ../shared/domain/samples/real (skip when absent)."""

    def _load(name: str) -> Any:
        path = REAL / name
        if not path.exists():
            pytest.skip(f"{path} not present (real samples are read in place, never copied)")
        return load_json(path)

    return _load

