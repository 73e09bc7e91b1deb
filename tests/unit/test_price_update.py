from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from functions.core.money import Money
from functions.reprice.price_update import PriceUpdate, coalesce

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def update(sku="A", price="10.00", at=T0, urgent=False, source="n1", sequence=0):
    return PriceUpdate(
        seller_id="S1", marketplace_id="A1PA6795UKMFR9", sku=sku,
        price=Money.of(price, "EUR"), min_price=Money.of("5", "EUR"),
        max_price=Money.of("20", "EUR"), decided_at=at, source=source, urgent=urgent,
        sequence=sequence,
    )


def test_round_trip_through_the_queue_body():
    original = update(price="12.34")
    assert PriceUpdate.from_message(original.to_message()) == original


def test_rejects_naive_timestamps_and_unknown_fields():
    with pytest.raises(ValidationError):
        update(at=datetime(2026, 1, 1))
    body = update().model_dump(mode="json") | {"surprise": 1}
    with pytest.raises(ValidationError, match="surprise"):
        PriceUpdate.model_validate(body)


def test_deduplication_id_depends_on_source_and_sku_only():
    assert update(price="1").deduplication_id() == update(price="2").deduplication_id()
    assert update(source="n2").deduplication_id() != update().deduplication_id()
    assert update(sku="B").deduplication_id() != update().deduplication_id()


def test_coalesce_keeps_latest_per_sku_and_remembers_urgency():
    later = T0 + timedelta(minutes=1)
    result = coalesce([
        update("A", "10.00", T0, urgent=True),
        update("B", "7.00", T0),
        update("A", "11.00", later),
        update("B", "6.00", T0, sequence=2),
    ])
    by_sku = {u.sku: u for u in result}
    assert set(by_sku) == {"A", "B"}
    assert by_sku["A"].price == Money.of("11.00", "EUR") and by_sku["A"].urgent
    assert by_sku["B"].price == Money.of("6.00", "EUR") and not by_sku["B"].urgent
