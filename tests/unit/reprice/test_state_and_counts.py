"""RepricingState.updated (a direct copy, not model_copy) and Counts' EMF documents."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric
from pydantic import ValidationError

from functions.core.money import Money
from functions.core.observability import Counts
from functions.reprice.logic import RepricingState
from functions.reprice.logic.state import Sale

T = datetime(2026, 3, 1, 12, tzinfo=UTC)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


# -- RepricingState.updated ----------------------------------------------------------------
def test_updated_is_what_model_copy_gives():
    state = RepricingState(current_price=usd("20.00"), last_change_at=T, needs_reconcile=True,
                           sales={"o1": Sale(at=T, quantity=2)})
    changes = {"current_price": usd("19.99"), "pending_price": usd("19.99"),
               "pending_since": T + timedelta(minutes=1), "needs_reconcile": False}
    fast = state.updated(**changes)
    slow = state.model_copy(update=changes)
    assert fast == slow
    assert fast.__dict__ == slow.__dict__
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_dump(mode="json", exclude_defaults=True) == slow.model_dump(
        mode="json", exclude_defaults=True)
    assert fast.__pydantic_extra__ is None and fast.__pydantic_private__ is None


def test_updated_leaves_the_original_alone_and_copies_its_dict():
    state = RepricingState(current_price=usd("20.00"))
    copy = state.updated(live_price=usd("21.00"))
    assert state.live_price is None and copy.live_price == usd("21.00")
    assert copy.__dict__ is not state.__dict__
    assert copy.model_fields_set is not state.model_fields_set
    assert "live_price" not in state.model_fields_set
    assert RepricingState.model_validate(copy.model_dump(mode="json")) == copy
    with pytest.raises(ValidationError):  # still frozen
        copy.current_price = usd("1.00")  # type: ignore[misc]
    # fields already set: the copies share the (never changed) set; a new one: its own set
    again = copy.updated(current_price=usd("19.00"))
    assert again.model_fields_set is copy.model_fields_set
    more = again.updated(pending_price=usd("19.00"))
    assert "pending_price" in more.model_fields_set
    assert copy.model_fields_set == {"current_price", "live_price"}


def test_updated_refuses_a_name_that_is_not_a_field():
    with pytest.raises(TypeError, match="curent_price"):
        RepricingState().updated(curent_price=usd("1.00"))


# -- Counts --------------------------------------------------------------------------------
def _docs(text: str) -> list[dict]:
    docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    for doc in docs:
        doc["_aws"]["Timestamp"] = 0
    return docs


def _single_metric_docs(metrics: Metrics, counters: list[tuple[str, str, str, int]]) -> list:
    """What Counts used to write for dimensioned counters (Powertools' single_metric)."""
    out = io.StringIO()
    with redirect_stdout(out):
        for name, key, label, value in counters:
            with single_metric(name=name, unit=MetricUnit.Count, value=value,
                               namespace=metrics.namespace,
                               default_dimensions=metrics.default_dimensions) as metric:
                metric.add_dimension(name="service", value=metrics.service or "")
                metric.add_dimension(name=key, value=label)
    return _docs(out.getvalue())


def _flush(counts: Counts, metrics: Metrics) -> list[dict]:
    out = io.StringIO()
    with redirect_stdout(out):
        counts.flush(metrics)
    return _docs(out.getvalue())


def test_dimensioned_counters_are_the_documents_single_metric_writes():
    metrics = Metrics(namespace="sellerops-test", service="reprice")
    counts = Counts()
    counts.add("Notifications", NotificationType="ANY_OFFER_CHANGED")
    counts.add("Decisions", 3, Action="change")
    counts.add("Decisions", Action="hold")
    counts.add("Stale")
    docs = _flush(counts, metrics)
    plain, dimensioned = docs[0], docs[1:]
    assert plain["Stale"] == [1.0] and plain["service"] == "reprice"
    assert dimensioned == _single_metric_docs(metrics, [
        ("Decisions", "Action", "change", 3), ("Decisions", "Action", "hold", 1),
        ("Notifications", "NotificationType", "ANY_OFFER_CHANGED", 1)])
    assert counts.get("Decisions", Action="change") == 0  # reset


def test_a_reused_writer_does_not_carry_values_or_dimensions_over():
    metrics = Metrics(namespace="sellerops-test", service="reprice")
    counts = Counts()
    counts.add("Decisions", Action="change")
    counts.add("Skips", Rule="stale")
    _flush(counts, metrics)
    counts.add("Decisions", 2, Action="change")
    counts.add("ChangesNotSubmitted", Reason="dry_run")
    second = _flush(counts, metrics)
    assert second == _single_metric_docs(metrics, [
        ("ChangesNotSubmitted", "Reason", "dry_run", 1), ("Decisions", "Action", "change", 2)])
    assert [sorted(k for k in doc if k != "_aws") for doc in second] == [
        ["ChangesNotSubmitted", "Reason", "service"], ["Action", "Decisions", "service"]]


def test_writers_follow_the_metrics_default_dimensions_and_namespace():
    metrics = Metrics(namespace="sellerops-test", service="reprice")
    counts = Counts()
    counts.add("Decisions", Action="change")
    _flush(counts, metrics)
    metrics.set_default_dimensions(environment="staging")
    try:
        counts.add("Decisions", Action="change")
        with_default = _flush(counts, metrics)
        assert with_default == _single_metric_docs(metrics, [("Decisions", "Action", "change", 1)])
        assert with_default[-1]["environment"] == "staging"
    finally:
        metrics.clear_default_dimensions()
        metrics.clear_metrics()
    other = Metrics(namespace="sellerops-other", service="audit")
    counts.add("Decisions", Action="change")
    docs = _flush(counts, other)
    assert docs == _single_metric_docs(other, [("Decisions", "Action", "change", 1)])
    assert docs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "sellerops-other"
    assert docs[0]["service"] == "audit"
