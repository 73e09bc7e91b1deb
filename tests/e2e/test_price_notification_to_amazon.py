"""Issue 3's end-to-end promise on the local stack: SP-API notifications put on the
price-notifications queue end as one price submitted to the (fake) Amazon, visible in
PriceHistory; the malformed one ends in the DLQ, the duplicate and the stale one change
nothing. Every hop is a real handler: RepriceFunction → FIFO → PublishPricesFunction."""

from __future__ import annotations

import json
from decimal import Decimal

from functions.core.accounts import Account, account_id_for_seller
from functions.core.clock import utc_now
from functions.core.money import Money
from functions.core.repositories.accounts import AccountRepository
from functions.core.repositories.listings import ListingRepository
from functions.core.repositories.price_history import PriceHistoryRepository
from functions.reprice.listings import listing_from_config, state_of, with_state
from functions.reprice.logic import RepricingState
from infra.local import in_process
from infra.simulator.sandbox import SimulatedAmazon
from tests.unit.reprice.builders import OUR, RIVAL, T0, US, aoc, config, offer, to_json


def _our_price(listing: dict) -> Decimal | None:
    for entry in listing["attributes"].get("purchasable_offer", []):
        if entry.get("audience", "ALL") == "ALL":
            return Decimal(str(entry["our_price"][0]["schedule"][0]["value_with_tax"]))
    return None


def test_notification_batch_ends_as_exactly_one_submitted_price(tmp_path):
    with SimulatedAmazon() as amazon, in_process(
        parameters=amazon.stack_parameters(), clock_start=T0,
        handler_stdout=(tmp_path / "handlers.log").open("w"),
    ) as local:
        secrets = local.stack.aws("secretsmanager")
        amazon.store_app_secret(secrets)
        amazon.authorise_seller(secrets, OUR)
        amazon.api.put_listing(OUR, "SKU-1", marketplace_id=US, asin="B0EXAMPLE01", attributes={
            "item_name": [{"value": "Mug"}],
            "purchasable_offer": [{"marketplace_id": US, "currency": "USD", "audience": "ALL",
                                   "our_price": [{"schedule": [{"value_with_tax": "24.99"}]}]}],
        })
        now = utc_now()
        AccountRepository(local.stack.table_name("AccountsTable")).create(Account(
            account_id=account_id_for_seller(OUR), seller_id=OUR, name="Mug Shop",
            language="en", country="US", products=("repricer",), repricer_dry_run=False,
            created_at=now, updated_at=now))
        listing = listing_from_config(config(), OUR)
        ListingRepository(local.stack.table_name("ListingsTable")).put_new(with_state(
            listing, RepricingState(current_price=Money.of("24.99", "USD"),
                                    last_time_of_offer_change=T0)))

        def losing(nid, toc):
            return to_json(aoc([offer(RIVAL, "24.49", winner=True), offer(OUR, "24.99")],
                               nid=nid, toc=toc))

        valid = losing("valid-1", T0.replace(minute=5))
        bodies = ['{"NotificationType": "ANY_OFFER_CHANGED", "Payload": ',  # malformed
                  valid, valid,  # a duplicate delivery
                  losing("stale-1", T0.replace(second=0, microsecond=0))]  # not newer
        local.stack.aws("sqs").send_message_batch(
            QueueUrl=local.stack.queue_url("PriceNotificationsQueue"),
            Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)])
        amazon.api.reset_log()
        local.drain()

        # exactly one price went to Amazon, by patch (losing the Buy Box is urgent)
        patches = [c for c in amazon.api.calls if c.operation == "patchListingsItem"]
        assert len(patches) == 1
        assert not [c for c in amazon.api.calls if c.operation == "createFeed"]
        live = amazon.api.listing(OUR, "SKU-1")
        assert _our_price(live) == Decimal("23.75")
        assert live["attributes"]["item_name"] == [{"value": "Mug"}]  # merge, not replace

        # the malformed notification is in the DLQ; nothing is left anywhere else
        sqs = local.stack.aws("sqs")
        dead = sqs.receive_message(
            QueueUrl=local.stack.queue_url("PriceNotificationsDLQ"), MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        assert len(dead) == 1 and dead[0]["Body"].endswith('"Payload": ')
        for queue in ("PriceNotificationsQueue", "PriceUpdatesQueue", "PriceUpdatesDLQ"):
            assert not sqs.receive_message(
                QueueUrl=local.stack.queue_url(queue), WaitTimeSeconds=0).get("Messages"), queue

        # state and history: the decision and the submission are recorded
        stored = ListingRepository(local.stack.table_name("ListingsTable")).get(OUR, US, "SKU-1")
        assert state_of(stored).current_price == Money.of("23.75", "USD")
        entries = PriceHistoryRepository(local.stack.table_name("PriceHistoryTable")).latest(
            OUR, US, "SKU-1")
        kinds = [e.kind for e in entries]
        assert kinds.count("submission") == 1
        submission = next(e for e in entries if e.kind == "submission")
        assert "23.75" in json.dumps(submission.payload, default=str)
