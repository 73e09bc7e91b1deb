"""PushStrategyFunction and ReconcileFunction on the local stack.

Push runs on the stack's own hourly schedule with simulated hours; reconciliation calls
the fake SP-API server over loopback HTTP with credentials from (moto's) Secrets Manager,
exactly the way ``SpApiClient.from_settings()`` finds them in AWS.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from functions.reprice.listings import state_of
from functions.reprice.logic import RepricingState
from infra.local import in_process
from infra.simulator.spapi_server import FakeSellingPartnerApi, FakeSpApiServer
from tests.integration.test_reprice_handler import Repricer, usd
from tests.unit.reprice.builders import ASIN, OUR, RIVAL, US, order_change, to_json

PUSH = {"strategy": "push", "push_levels": "21.00|23.00|25.00", "max_change": "50%",
        "push_window": "PT2H", "push_dwell": "PT2H", "push_fast_units": 2,
        "current_price": "22.00", "sku": "PUSH-1"}


def _without_publisher(local: Any) -> None:
    local.sources.pollers = [
        p for p in local.sources.pollers
        if getattr(getattr(p, "mapping", None), "function", "") != "PublishPricesFunction"
    ]


@pytest.fixture
def repricer() -> Iterator[Repricer]:
    out = io.StringIO()
    with in_process(handler_stdout=out) as local:
        _without_publisher(local)
        yield Repricer(local, out)


def prices(repricer: Repricer) -> list[tuple[str, str]]:
    return [(str(u.price.amount), u.source) for u, _ in repricer.price_updates()]


def test_push_moves_one_level_up_and_back_down_on_simulated_hours(repricer: Repricer):
    repricer.add_account()
    repricer.add_listing(**PUSH)
    local = repricer.local

    local.advance(timedelta(hours=1))  # H1: the first Push decision starts at a level
    ((price, source),) = prices(repricer)
    hour = local.clock.now().replace(minute=0, second=0, microsecond=0)
    assert price == "21.00" and source == f"push@{hour:%Y-%m-%dT%H}:00Z"

    local.advance(timedelta(minutes=30))  # two units sold (fast >= 2)
    repricer.notify(*(to_json(order_change([(f"item-{i}", "PUSH-1", 1)],
                                           at=local.clock.now(), nid=f"o-{i}"))
                      for i in range(2)))
    local.drain()
    local.advance(timedelta(minutes=30))  # H2: within the 2 h dwell
    assert prices(repricer) == []
    local.advance(timedelta(hours=1))  # H3: fast → one level up
    assert [p for p, _ in prices(repricer)] == ["23.00"]
    local.advance(timedelta(hours=2))  # H4 dwell, H5: nothing sold since the rise → back
    assert [p for p, _ in prices(repricer)] == ["21.00"]

    state = state_of(repricer.listings().get(OUR, US, "PUSH-1"))
    assert state.push_level == 0 and state.push_ceiling_level == 1
    rules = [e.payload["rule"] for e in reversed(repricer.history().latest(OUR, US, "PUSH-1"))
             if e.kind == "decision"]
    assert rules == ["push_start", "push_dwell", "push_up", "push_dwell", "push_back"]
    assert repricer.metrics()["PriceUpdatesEnqueued"] == 3


class RecordingApi(FakeSellingPartnerApi):
    """The fake SP-API, remembering which ASINs getItemOffersBatch asked for."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.asked: list[str] = []

    def item_offers(self, marketplace_id: str, asin: str, *args: Any, **kwargs: Any) -> Any:
        self.asked.append(asin)
        return super().item_offers(marketplace_id, asin, *args, **kwargs)


def money(amount: str) -> dict[str, Any]:
    return {"CurrencyCode": "USD", "Amount": Decimal(amount)}


ITEM_OFFERS = {  # a getItemOffers payload: a rival holds the Buy Box at 24.49
    "MarketplaceID": US, "ASIN": ASIN, "ItemCondition": "New", "status": "Success",
    "Identifier": {"MarketplaceId": US, "ASIN": ASIN, "ItemCondition": "New"},
    "Summary": {"TotalOfferCount": 2,
                "BuyBoxPrices": [{"condition": "New", "LandedPrice": money("24.49"),
                                  "ListingPrice": money("24.49"), "Shipping": money("0.00")}]},
    "Offers": [
        {"SellerId": RIVAL, "ListingPrice": money("24.49"), "Shipping": money("0.00"),
         "IsFulfilledByAmazon": True, "IsBuyBoxWinner": True, "IsFeaturedMerchant": True},
        {"SellerId": OUR, "MyOffer": True, "ListingPrice": money("24.99"),
         "Shipping": money("0.00"), "IsFulfilledByAmazon": True, "IsBuyBoxWinner": False,
         "IsFeaturedMerchant": True},
    ],
}


@pytest.fixture
def with_spapi() -> Iterator[tuple[Repricer, RecordingApi]]:
    from aws_lambda_powertools.utilities import parameters

    api = RecordingApi()
    api.register_app("sellerops-test-client", "sellerops-test-secret")
    api.register_seller(OUR, "Atzr|test-refresh")
    out = io.StringIO()
    with FakeSpApiServer(api) as server, in_process(
        handler_stdout=out, parameters={"SpApiEndpoint": server.url, "LwaEndpoint": server.url}
    ) as local:
        _without_publisher(local)
        secrets = local.stack.aws("secretsmanager")
        secrets.create_secret(Name="sellerops/spapi/app", SecretString=json.dumps(
            {"client_id": "sellerops-test-client", "client_secret": "sellerops-test-secret"}))
        secrets.create_secret(Name=f"sellerops/spapi/sellers/{OUR}",
                              SecretString=json.dumps({"refresh_token": "Atzr|test-refresh"}))
        parameters.clear_caches()
        try:
            yield Repricer(local, out), api
        finally:
            parameters.clear_caches()


def test_reconcile_reads_silent_skus_from_sp_api_and_enqueues_the_change(with_spapi):
    repricer, api = with_spapi
    api.set_item_offers(US, ASIN, ITEM_OFFERS)
    repricer.add_account()
    now = repricer.local.clock.now()
    repricer.add_listing(RepricingState(current_price=usd("24.99"),
                                        last_time_of_offer_change=now - timedelta(hours=7)))
    repricer.add_listing(RepricingState(current_price=usd("24.99"),
                                        last_time_of_offer_change=now - timedelta(hours=1)),
                         sku="FRESH-1", asin="B0FRESH0001")

    result = repricer.local.invoke("ReconcileFunction", {
        "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})

    assert result == {"asins": 1, "enqueued": 1}
    assert api.asked == [ASIN]  # FRESH-1 heard an hour ago (RECONCILE_AFTER_MINUTES=360)
    assert api.api_calls("getItemOffersBatch", seller_id=OUR) == 1
    ((update, attributes),) = repricer.price_updates()
    assert update.sku == "SKU-1" and update.price == usd("23.75")
    assert update.source.startswith("reconcile@") and attributes["MessageGroupId"] == OUR
    (entry,) = repricer.history().latest(OUR, US, "SKU-1")
    assert entry.kind == "decision" and entry.payload["seen"]["notification_type"] == "reconcile"
    state = state_of(repricer.listings().get(OUR, US, "SKU-1"))
    assert state.last_time_of_offer_change == now  # heard now: not due for 6 hours

    # the schedule runs it again 30 minutes later: nothing is due, SP-API is not called
    repricer.local.advance(timedelta(minutes=30))
    assert api.api_calls("getItemOffersBatch") == 1
    assert repricer.price_updates() == []


def test_reconcile_survives_a_seller_sp_api_refuses(with_spapi):
    repricer, api = with_spapi
    repricer.add_account()
    repricer.add_account("A7UNKNOWNSELR")  # no secret, no refresh token: cannot call
    repricer.add_listing()
    from functions.reprice.listings import listing_from_config
    from tests.unit.reprice.builders import config

    repricer.listings().put_new(listing_from_config(config(sku="X-1"), "A7UNKNOWNSELR"))
    api.set_item_offers(US, ASIN, ITEM_OFFERS)

    result = repricer.local.invoke("ReconcileFunction", {"detail": {}})
    assert result["enqueued"] == 1
    assert repricer.metrics()["ReconcileFailures"] == 1
