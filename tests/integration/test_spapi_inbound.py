"""Fulfillment Inbound v0 (getShipments, getShipmentItemsByShipmentId): the client against
the fake SP-API server over loopback, on a shared ManualClock (no real waiting)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from functions.core.spapi import SpApiClientError, operation
from infra.simulator.clock import ManualClock
from infra.simulator.spapi_server import FakeSpApiServer
from tests.integration.test_spapi_client import CLIENT_ID, CLIENT_SECRET, make_client

SELLER = "A2SELLERDE01"
OTHER = "A3OTHERSELLER"
DE = "A1PA6795UKMFR9"
REFRESH = "Atzr|IwEB-REFRESH-TOKEN-VALUE-42"
T0 = datetime(2025, 10, 1, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0, epoch=T0)


@pytest.fixture
def server(clock: ManualClock):
    srv = FakeSpApiServer(clock=clock, now=clock.now)
    srv.api.register_app(CLIENT_ID, CLIENT_SECRET)
    srv.api.register_seller(SELLER, REFRESH)
    srv.api.register_seller(OTHER, "Atzr|other")
    for day in range(5):
        srv.api.register_inbound_shipment(SELLER, {
            "ShipmentId": f"FBA15SHIP{day}",
            "ShipmentStatus": "CLOSED" if day != 2 else "RECEIVING",
            "LastUpdatedDate": (T0 + timedelta(days=day, hours=6)).isoformat(),
            "ItemData": [{"SellerSKU": f"SKU-{day}", "FulfillmentNetworkSKU": f"X00{day}",
                          "QuantityShipped": 10, "QuantityReceived": 10 - day}],
        })
    srv.api.register_inbound_shipment(OTHER, {"ShipmentId": "FBA15OTHER", "ItemData": []})
    with srv:
        yield srv


def test_the_operations_use_amazons_usage_plans() -> None:
    assert (operation("getShipments").path, operation("getShipments").rate,
            operation("getShipments").burst) == ("/fba/inbound/v0/shipments", 2, 30)
    items = operation("getShipmentItemsByShipmentId")
    assert (items.path, items.rate, items.burst) == (
        "/fba/inbound/v0/shipments/{shipmentId}/items", 2, 30)


def test_closed_shipments_by_date_range_follow_next_token(server, clock) -> None:
    server.api.inbound_page_size = 2
    api = make_client(server, clock).seller(SELLER, DE)
    first = api.get_shipments(query_type="DATE_RANGE", shipment_statuses=["CLOSED"],
                              last_updated_after=T0, last_updated_before=T0 + timedelta(days=10))
    payload = first["payload"]
    assert [s["ShipmentId"] for s in payload["ShipmentData"]] == ["FBA15SHIP0", "FBA15SHIP1"]
    assert payload["NextToken"]
    assert "LastUpdatedDate" not in payload["ShipmentData"][0]  # v0 does not return it

    every = list(api.iter_shipments(
        query_type="DATE_RANGE", shipment_statuses=["CLOSED"],
        last_updated_after=T0, last_updated_before=T0 + timedelta(days=10)))
    assert [s["ShipmentId"] for s in every] == [
        "FBA15SHIP0", "FBA15SHIP1", "FBA15SHIP3", "FBA15SHIP4"]
    assert all(s["ShipmentStatus"] == "CLOSED" for s in every)
    assert server.api.api_calls("getShipments") == 1 + 2  # the first page, then 2 pages

    # a one-day slice holds only that day's shipment; another seller's are never seen
    day = list(api.iter_shipments(
        query_type="DATE_RANGE", shipment_statuses=["CLOSED"],
        last_updated_after=T0 + timedelta(days=1), last_updated_before=T0 + timedelta(days=2)))
    assert [s["ShipmentId"] for s in day] == ["FBA15SHIP1"]
    by_id = list(api.iter_shipments(shipment_ids=["FBA15SHIP2", "FBA15OTHER"]))
    assert [(s["ShipmentId"], s["ShipmentStatus"]) for s in by_id] == [
        ("FBA15SHIP2", "RECEIVING")]


def test_shipment_items_shipped_and_received(server, clock) -> None:
    api = make_client(server, clock).seller(SELLER, DE)
    items = api.get_shipment_items("FBA15SHIP3")["payload"]["ItemData"]
    assert items == [{
        "ShipmentId": "FBA15SHIP3", "SellerSKU": "SKU-3", "FulfillmentNetworkSKU": "X003",
        "QuantityShipped": Decimal(10), "QuantityReceived": Decimal(7),
        "QuantityInCase": Decimal(0)}]
    with pytest.raises(SpApiClientError):
        api.get_shipment_items("FBA15OTHER")  # another seller's shipment
    with pytest.raises(ValueError):
        api.get_shipments(query_type="DATE_RANGE", last_updated_after=T0)
