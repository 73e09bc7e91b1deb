"""Repositories against moto, with tables created from template.yaml's definitions.

The tables come from the transformed template (keys, GSIs, streams, TTL), so a key or
index that drifts from what the repositories query fails here.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.core.accounts import Account, Contract, Product, Profile
from functions.core.money import Money
from functions.core.repositories import (
    AlreadyExists,
    ConcurrentModification,
    InvalidPageToken,
    InvalidTransition,
    NotFound,
)
from functions.core.repositories.accounts import AccountRepository, account_from_image
from functions.core.repositories.claims import (
    Claim,
    ClaimRepository,
    ClaimStatus,
    claim_from_image,
)
from functions.core.repositories.dynamo import (
    decode_page_token,
    encode_page_token,
    iso_utc,
    to_attribute,
)
from functions.core.repositories.listings import Listing, ListingRepository, listing_to_item
from functions.core.repositories.price_history import PriceHistoryRepository
from functions.core.repositories.tables import create_tables, table_definitions
from infra.template import TEMPLATE_PATH, load_transformed

DE = "A1PA6795UKMFR9"
FR = "A13V1IB3VIYZZH"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    assert TEMPLATE_PATH.exists(), "template.yaml is the source of the table definitions"
    return load_transformed()


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    # One mock and one client per module (creating a client is the slow part); every
    # test gets fresh tables from the `dynamodb` fixture.
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def dynamodb(aws: Any, template: dict[str, Any]) -> Iterator[Any]:
    names = create_tables(
        aws, template, only=["AccountsTable", "ListingsTable", "PriceHistoryTable", "ClaimsTable"]
    )
    yield aws
    for name in names.values():
        aws.delete_table(TableName=name)


class Clock:
    """A settable clock for repositories (aware UTC)."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# -- the template is what the repositories query ----------------------------------------------
def test_tables_follow_the_contract_keys(template: dict[str, Any]) -> None:
    tables = table_definitions(template)

    assert tables["AccountsTable"].key_names() == ["account_id"]
    assert tables["AccountsTable"].key_names("BySeller") == ["seller_id"]
    assert tables["ListingsTable"].key_names() == ["pk", "sku"]
    assert tables["ListingsTable"].key_names("ByAsin") == ["asin_key", "sku"]
    assert tables["PriceHistoryTable"].key_names() == ["pk", "at"]
    assert tables["PriceHistoryTable"].ttl_attribute == "expires_at"
    assert tables["ClaimsTable"].key_names() == ["seller_id", "claim_id"]
    assert tables["ClaimsTable"].key_names("ByStatus") == ["status", "deadline_key"]


# -- values ------------------------------------------------------------------------------------
def test_money_and_time_are_stored_without_float_or_naive_time() -> None:
    assert to_attribute(Decimal("19.990")) == {"N": "19.990"}
    assert to_attribute(Money.of("12.30", "EUR")) == {
        "M": {"amount": {"N": "12.30"}, "currency": {"S": "EUR"}}
    }
    with pytest.raises(TypeError, match="float"):
        to_attribute({"price": 19.99})
    with pytest.raises(ValueError, match="naive"):
        to_attribute(datetime(2025, 1, 1))
    # Fixed width: text order is time order, across a second boundary and across zones.
    early = datetime(2025, 1, 1, 12, 0, 0, 999_999, tzinfo=UTC)
    late = datetime(2025, 1, 1, 13, 0, 1, tzinfo=UTC).astimezone(timezone(timedelta(hours=1)))
    assert iso_utc(early) < iso_utc(late)
    assert iso_utc(late) == "2025-01-01T13:00:01.000000Z"
    # the isoformat fast path gives strftime's text (years before 1000 go to strftime)
    for moment in (early, late, datetime(2025, 6, 30, 23, 59, 59, 1, tzinfo=UTC),
                   datetime(999, 12, 31, 23, 0, tzinfo=UTC)):
        assert iso_utc(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_page_tokens_are_checked_against_their_query() -> None:
    token = encode_page_token({"pk": {"S": "S1#" + DE}, "sku": {"S": "a"}})
    assert decode_page_token(token, key_names=("pk", "sku"), fixed={"pk": "S1#" + DE})
    with pytest.raises(InvalidPageToken):
        decode_page_token(token, key_names=("pk", "sku"), fixed={"pk": "S2#" + DE})
    with pytest.raises(InvalidPageToken):
        decode_page_token("not-a-token!", key_names=("pk", "sku"))
    with pytest.raises(InvalidPageToken):
        decode_page_token(token, key_names=("account_id",))


# -- accounts ----------------------------------------------------------------------------------
def _account(seller_id: str = "SELLER1", account_id: str | None = None, **changes: Any) -> Account:
    values: dict[str, Any] = {
        "account_id": account_id or f"acc-{seller_id.lower()}",
        "seller_id": seller_id,
        "name": f"Shop {seller_id}",
        "language": "de",
        "country": "DE",
        "products": [Product.REPRICER],
        "contract": Contract.trial("standard", T0),
        "profile": Profile(marketplaces=(DE,), sku_count=120, catalogue_type="private_label"),
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(changes)
    return Account.model_validate(values)


def test_account_create_get_and_find_by_seller(dynamodb: Any) -> None:
    repo = AccountRepository("AccountsTable", client=dynamodb, clock=Clock())
    created = repo.create(_account("SELLER1", language="en-gb"))

    assert created.version == 1
    assert repo.get(created.account_id) == created
    assert repo.get_by_seller("SELLER1") == created
    assert repo.get_by_seller("NOBODY") is None
    assert repo.get("acc-missing") is None
    stored = repo.get(created.account_id)
    assert stored is not None
    assert stored.language == "en-GB"
    assert stored.contract is not None
    assert stored.contract.trial_ends_at == T0 + timedelta(days=14)
    assert stored.profile is not None and stored.profile.sku_count == 120


def test_account_create_refuses_an_existing_id(dynamodb: Any) -> None:
    repo = AccountRepository("AccountsTable", client=dynamodb)
    repo.create(_account("SELLER1"))
    with pytest.raises(AlreadyExists):
        repo.create(_account("SELLER1", name="Someone else"))
    stored = repo.get("acc-seller1")
    assert stored is not None and stored.name == "Shop SELLER1"


def test_account_update_checks_the_version(dynamodb: Any) -> None:
    clock = Clock()
    repo = AccountRepository("AccountsTable", client=dynamodb, clock=clock)
    v1 = repo.create(_account("SELLER1"))
    clock.advance(minutes=5)

    v2 = repo.update(v1.evolve(name="Renamed", vip=True), expected_version=1)
    assert (v2.version, v2.name, v2.updated_at) == (2, "Renamed", T0 + timedelta(minutes=5))

    with pytest.raises(ConcurrentModification) as lost:
        repo.update(v1.evolve(name="Stale writer"), expected_version=1)
    assert (lost.value.expected_version, lost.value.actual_version) == (1, 2)
    stored = repo.get(v1.account_id)
    assert stored is not None and stored.name == "Renamed"

    with pytest.raises(NotFound):
        repo.update(_account("GHOST"), expected_version=1)


def test_accounts_list_pages_through_everything(dynamodb: Any) -> None:
    repo = AccountRepository("AccountsTable", client=dynamodb)
    for n in range(5):
        repo.create(_account(f"SELLER{n}"))

    seen, token, pages = [], None, 0
    while True:
        page = repo.list_accounts(limit=2, next_token=token)
        assert len(page.items) <= 2
        seen.extend(a.seller_id for a in page.items)
        pages += 1
        token = page.next_token
        if token is None:
            break
    assert sorted(seen) == [f"SELLER{n}" for n in range(5)]
    assert pages >= 3


def test_account_stream_image_reads_back(dynamodb: Any) -> None:
    repo = AccountRepository("AccountsTable", client=dynamodb)
    created = repo.create(_account("SELLER1"))
    item = dynamodb.get_item(TableName="AccountsTable", Key={"account_id": {"S": "acc-seller1"}})
    assert account_from_image(item["Item"]) == created
    # The index attribute the notification center and BySeller rely on is a plain string.
    assert item["Item"]["seller_id"] == {"S": "SELLER1"}


# -- listings ----------------------------------------------------------------------------------
def _listing(sku: str = "SKU-1", asin: str = "B00TEST001", seller: str = "SELLER1", **kw: Any):
    values: dict[str, Any] = {
        "seller_id": seller,
        "marketplace_id": DE,
        "sku": sku,
        "asin": asin,
        "condition": "new",
        "fulfillment": "FBA",
        "currency": "EUR",
        "strategy": {
            "strategy": "buybox",
            "min_price": "10.00",
            "max_price": "19.990",
            "climb_step": "1%",
            "push_levels": ["11.00", "12.50"],
        },
        "state": {"current_price": {"amount": "12.30", "currency": "EUR"}},
    }
    values.update(kw)
    return Listing.model_validate(values)


def test_listing_round_trip_keeps_decimal_text_exactly(dynamodb: Any) -> None:
    repo = ListingRepository("ListingsTable", client=dynamodb, clock=Clock())
    stored = repo.put_new(_listing())

    read = repo.get("SELLER1", DE, "SKU-1")
    assert read == stored
    assert read.version == 1
    assert read.updated_at == T0
    assert read.strategy["max_price"] == "19.990"
    assert read.state["current_price"] == {"amount": "12.30", "currency": "EUR"}
    item = dynamodb.get_item(
        TableName="ListingsTable", Key={"pk": {"S": f"SELLER1#{DE}"}, "sku": {"S": "SKU-1"}}
    )["Item"]
    assert item["asin_key"] == {"S": f"SELLER1#{DE}#B00TEST001"}
    assert item["version"] == {"N": "1"}


def test_strategy_and_state_are_stored_as_one_json_text_each(dynamodb: Any) -> None:
    repo = ListingRepository("ListingsTable", client=dynamodb, clock=Clock())
    listing = _listing(state={
        "current_price": {"amount": Decimal("12.300"), "currency": "EUR"},
        "push_level": 2,
        "sales": {"o-1": {"at": "2025-03-01T12:00:00Z", "quantity": 1}},
    })
    repo.put_new(listing)
    item = dynamodb.get_item(
        TableName="ListingsTable", Key={"pk": {"S": f"SELLER1#{DE}"}, "sku": {"S": "SKU-1"}}
    )["Item"]
    assert set(item["state"]) == {"S"} and set(item["strategy"]) == {"S"}
    assert json.loads(item["strategy"]["S"])["max_price"] == "19.990"
    read = repo.get("SELLER1", DE, "SKU-1")
    assert read is not None
    # a Decimal keeps its exact digits (as text), an int stays an int
    assert read.state["current_price"] == {"amount": "12.300", "currency": "EUR"}
    assert read.state["push_level"] == 2
    assert read.state["sales"]["o-1"]["quantity"] == 1
    assert [found.sku for found in repo.find_by_asin("SELLER1", DE, "B00TEST001")] == ["SKU-1"]


def test_a_listing_stored_with_maps_by_an_earlier_version_is_read(dynamodb: Any) -> None:
    repo = ListingRepository("ListingsTable", client=dynamodb, clock=Clock())
    old = listing_to_item(_listing())
    old["strategy"] = {"M": {"strategy": {"S": "buybox"}, "min_price": {"S": "10.00"},
                             "max_price": {"S": "19.99"}}}
    old["state"] = {"M": {"current_price": {"M": {"amount": {"N": "12.30"},
                                                  "currency": {"S": "EUR"}}}}}
    old["version"] = {"N": "3"}
    dynamodb.put_item(TableName="ListingsTable", Item=old)
    read = repo.get("SELLER1", DE, "SKU-1")
    assert read is not None and read.version == 3
    assert read.strategy["max_price"] == "19.99"
    assert read.state["current_price"] == {"amount": Decimal("12.30"), "currency": "EUR"}
    repo.save(read, expected_version=3)  # and written back as JSON text
    again = repo.get("SELLER1", DE, "SKU-1")
    assert again is not None and again.version == 4
    assert again.state["current_price"] == {"amount": "12.30", "currency": "EUR"}


def test_floats_are_refused_when_a_record_is_built() -> None:
    with pytest.raises(ValueError, match="min_price: floats are not stored"):
        _listing(strategy={"strategy": "buybox", "min_price": 10.0})
    with pytest.raises(ValueError, match=r"\[0\]\.unit_cost: floats are not stored"):
        _claim(evidence=[{"unit_cost": 4.2}])


def test_listing_put_new_refuses_a_second_create(dynamodb: Any) -> None:
    repo = ListingRepository("ListingsTable", client=dynamodb)
    repo.put_new(_listing())
    with pytest.raises(AlreadyExists):
        repo.put_new(_listing(paused=True))
    assert repo.get("SELLER1", DE, "SKU-1").paused is False


def test_two_writers_on_one_listing_the_second_loses(dynamodb: Any) -> None:
    repo = ListingRepository("ListingsTable", client=dynamodb)
    repo.put_new(_listing())
    first = repo.get("SELLER1", DE, "SKU-1")
    second = repo.get("SELLER1", DE, "SKU-1")
    assert first.version == second.version == 1

    saved = repo.save(first.evolve(state={"current_price": "12.29"}), expected_version=1)
    assert saved.version == 2
    with pytest.raises(ConcurrentModification) as lost:
        repo.save(second.evolve(state={"current_price": "11.00"}), expected_version=1)
    assert lost.value.actual_version == 2

    # The winner's write stands; a re-read and retry succeeds.
    current = repo.get("SELLER1", DE, "SKU-1")
    assert current.state == {"current_price": "12.29"}
    retried = repo.save(current.evolve(dry_run=True), expected_version=current.version)
    assert (retried.version, retried.dry_run) == (3, True)


def test_listing_save_of_a_missing_listing(dynamodb: Any) -> None:
    repo = ListingRepository("ListingsTable", client=dynamodb)
    with pytest.raises(NotFound):
        repo.save(_listing(), expected_version=1)


def test_save_state_writes_only_the_state_version_and_time(dynamodb: Any) -> None:
    clock = Clock()
    repo = ListingRepository("ListingsTable", client=dynamodb, clock=clock)
    first = repo.put_new(_listing(state={"push_level": 1}))
    # someone else changes the strategy meanwhile: a state write must not undo it
    repo.save(first.evolve(strategy={**first.strategy, "max_price": "25.00"}), 1)
    current = repo.get("SELLER1", DE, "SKU-1")
    clock.advance(minutes=5)

    stale_copy = first.model_copy(update={"version": current.version})
    state = {"current_price": {"amount": "12.29", "currency": "EUR"}, "push_level": 2}
    saved = repo.save_state(stale_copy, state, expected_version=current.version)

    assert (saved.version, saved.state, saved.updated_at) == (3, state, T0 + timedelta(minutes=5))
    read = repo.get("SELLER1", DE, "SKU-1")
    assert read.version == 3 and read.state == state
    assert read.strategy["max_price"] == "25.00"  # not replaced by the caller's old copy
    assert read.updated_at == T0 + timedelta(minutes=5)


def test_save_state_loses_a_race_like_save_and_refuses_floats(dynamodb: Any) -> None:
    repo = ListingRepository("ListingsTable", client=dynamodb)
    stored = repo.put_new(_listing())
    repo.save_state(stored, {"push_level": 1}, expected_version=1)
    with pytest.raises(ConcurrentModification) as lost:
        repo.save_state(stored, {"push_level": 9}, expected_version=1)
    assert lost.value.actual_version == 2
    assert repo.get("SELLER1", DE, "SKU-1").state == {"push_level": 1}
    with pytest.raises(NotFound):
        repo.save_state(_listing(sku="SKU-GONE"), {}, expected_version=1)
    with pytest.raises(ValueError, match=r"state\.shipping"):
        repo.save_state(stored, {"shipping": 1.5}, expected_version=2)
    assert repo.get("SELLER1", DE, "SKU-1").version == 2


def test_listings_by_asin_are_scoped_to_seller_and_marketplace(dynamodb: Any) -> None:
    repo = ListingRepository("ListingsTable", client=dynamodb)
    repo.put_new(_listing("SKU-NEW", asin="B00TEST001"))
    repo.put_new(_listing("SKU-USED", asin="B00TEST001", condition="used"))
    repo.put_new(_listing("SKU-OTHER", asin="B00TEST002"))
    repo.put_new(_listing("SKU-NEW", asin="B00TEST001", seller="SELLER2"))
    repo.put_new(_listing("SKU-FR", asin="B00TEST001", marketplace_id=FR))

    found = repo.find_by_asin("SELLER1", DE, "B00TEST001")
    assert [(x.sku, x.condition) for x in found] == [("SKU-NEW", "new"), ("SKU-USED", "used")]
    assert repo.find_by_asin("SELLER1", DE, "B00NOTHERE") == []


def test_listings_page_by_seller_and_marketplace(dynamodb: Any) -> None:
    repo = ListingRepository("ListingsTable", client=dynamodb)
    for n in range(5):
        repo.put_new(_listing(f"SKU-{n}"))
    repo.put_new(_listing("SKU-X", seller="SELLER2"))

    first = repo.list_for_marketplace("SELLER1", DE, limit=3)
    assert [x.sku for x in first.items] == ["SKU-0", "SKU-1", "SKU-2"]
    assert first.next_token
    rest = repo.list_for_marketplace("SELLER1", DE, limit=3, next_token=first.next_token)
    assert [x.sku for x in rest.items] == ["SKU-3", "SKU-4"]
    # A token from seller 1's query cannot page through seller 2's listings.
    with pytest.raises(InvalidPageToken):
        repo.list_for_marketplace("SELLER2", DE, limit=3, next_token=first.next_token)


# -- price history -----------------------------------------------------------------------------
def test_history_entries_in_the_same_instant_do_not_collide(dynamodb: Any) -> None:
    repo = PriceHistoryRepository("PriceHistoryTable", client=dynamodb, clock=Clock())
    a = repo.append("SELLER1", DE, "SKU-1", "decision", {"new_price": "12.29"})
    b = repo.append("SELLER1", DE, "SKU-1", "submission", {"price": Money.of("12.29", "EUR")})

    assert a.at == b.at == T0
    assert a.sort_key != b.sort_key
    entries = repo.latest("SELLER1", DE, "SKU-1")
    assert {e.kind for e in entries} == {"decision", "submission"}
    submission = next(e for e in entries if e.kind == "submission")
    assert Money.from_dict(submission.payload["price"]) == Money.of("12.29", "EUR")


def test_history_retries_a_taken_suffix(dynamodb: Any) -> None:
    ids = iter(["aaaaaaaa", "aaaaaaaa", "bbbbbbbb"])
    repo = PriceHistoryRepository(
        "PriceHistoryTable", client=dynamodb, clock=Clock(), id_factory=lambda: next(ids)
    )
    first = repo.append("SELLER1", DE, "SKU-1", "decision")
    second = repo.append("SELLER1", DE, "SKU-1", "decision")
    assert (first.entry_id, second.entry_id) == ("aaaaaaaa", "bbbbbbbb")
    assert len(repo.latest("SELLER1", DE, "SKU-1")) == 2


def test_history_latest_and_time_range(dynamodb: Any) -> None:
    clock = Clock()
    repo = PriceHistoryRepository("PriceHistoryTable", client=dynamodb, clock=clock)
    for n in range(6):
        repo.append("SELLER1", DE, "SKU-1", "decision", {"n": n})
        clock.advance(minutes=10)
    repo.append("SELLER1", DE, "SKU-2", "decision", {"n": 99}, at=T0)

    latest = repo.latest("SELLER1", DE, "SKU-1", limit=2)
    assert [e.payload["n"] for e in latest] == [5, 4]

    # Both ends inclusive: 12:10 .. 12:30 holds n = 1, 2, 3.
    window = repo.between(
        "SELLER1", DE, "SKU-1", T0 + timedelta(minutes=10), T0 + timedelta(minutes=30)
    )
    assert [e.payload["n"] for e in window.items] == [1, 2, 3]
    paged = repo.between("SELLER1", DE, "SKU-1", T0, T0 + timedelta(hours=1), limit=4)
    assert len(paged.items) == 4 and paged.next_token
    more = repo.between(
        "SELLER1", DE, "SKU-1", T0, T0 + timedelta(hours=1), limit=4, next_token=paged.next_token
    )
    assert [e.payload["n"] for e in paged.items + more.items] == [0, 1, 2, 3, 4, 5]


def test_history_ttl_follows_retention(dynamodb: Any) -> None:
    repo = PriceHistoryRepository(
        "PriceHistoryTable", client=dynamodb, clock=Clock(), retention_days=30
    )
    entry = repo.append("SELLER1", DE, "SKU-1", "notification", {"NotificationId": "n-1"})
    assert entry.expires_at == int((T0 + timedelta(days=30)).timestamp())
    (stored,) = repo.latest("SELLER1", DE, "SKU-1")
    assert stored.expires_at == entry.expires_at


def test_history_refuses_float_payloads(dynamodb: Any) -> None:
    repo = PriceHistoryRepository("PriceHistoryTable", client=dynamodb)
    with pytest.raises(TypeError, match="float"):
        repo.append("SELLER1", DE, "SKU-1", "decision", {"price": 12.29})


def test_history_append_many_writes_in_batches(dynamodb: Any) -> None:
    clock = Clock()
    repo = PriceHistoryRepository("PriceHistoryTable", client=dynamodb, clock=clock)
    entries = []
    for n in range(30):
        entries.append(repo.new_entry("SELLER1", DE, "SKU-1", "submission", {"n": n}))
        clock.advance(seconds=1)
    repo.append_many(entries)
    assert len(repo.latest("SELLER1", DE, "SKU-1", limit=50)) == 30


# -- claims ------------------------------------------------------------------------------------
def _claim(claim_id: str = "lost-1", seller: str = "SELLER1", **kw: Any) -> Claim:
    values: dict[str, Any] = {
        "seller_id": seller,
        "claim_id": claim_id,
        "category": "lost_warehouse",
        "sku": "SKU-1",
        "fnsku": "X00TEST001",
        "quantity": 2,
        "amount": Money.of("25.80", "EUR"),
        "deadline": date(2025, 4, 30),
        "reason": "ledger adjustment M without reimbursement",
        "evidence": [{"report": "ledger", "reference_id": "R-1", "quantity": 2}],
    }
    values.update(kw)
    return Claim.model_validate(values)


def test_claim_upsert_never_duplicates(dynamodb: Any) -> None:
    clock = Clock()
    repo = ClaimRepository("ClaimsTable", client=dynamodb, clock=clock)
    first = repo.upsert_detected(_claim())
    clock.advance(days=1)
    again = repo.upsert_detected(_claim(quantity=3, amount=Money.of("38.70", "EUR")))

    assert (first.created, again.created) == (True, False)
    claim = again.claim
    assert (claim.status, claim.quantity, claim.amount) == (
        ClaimStatus.DETECTED,
        3,
        Money.of("38.70", "EUR"),
    )
    assert claim.detected_at == T0
    assert claim.updated_at == T0 + timedelta(days=1)
    assert claim.seen_count == 2
    assert len(claim.timeline) == 1
    assert [c.claim_id for c in repo.list_for_seller("SELLER1").items] == ["lost-1"]
    assert claim.evidence == ({"report": "ledger", "reference_id": "R-1", "quantity": 2},)


def test_claim_amount_is_a_number_with_a_currency(dynamodb: Any) -> None:
    repo = ClaimRepository("ClaimsTable", client=dynamodb)
    repo.upsert_detected(_claim())
    item = dynamodb.get_item(
        TableName="ClaimsTable",
        Key={"seller_id": {"S": "SELLER1"}, "claim_id": {"S": "lost-1"}},
    )["Item"]
    assert item["amount"] == {"N": "25.80"}
    assert item["currency"] == {"S": "EUR"}
    assert item["deadline_key"] == {"S": "2025-04-30#SELLER1#lost-1"}
    assert claim_from_image(item).amount == Money.of("25.80", "EUR")
    # No value basis: the amount is removed, not stored as zero.
    assert repo.upsert_detected(_claim(amount=None)).claim.amount is None


def test_reaudit_does_not_regress_a_filed_claim(dynamodb: Any) -> None:
    repo = ClaimRepository("ClaimsTable", client=dynamodb, clock=Clock())
    repo.upsert_detected(_claim())
    repo.transition("SELLER1", "lost-1", ClaimStatus.FILED, case_id="CASE-9", note="filed")

    refreshed = repo.upsert_detected(_claim(quantity=5)).claim
    assert (refreshed.status, refreshed.case_id, refreshed.quantity) == (
        ClaimStatus.FILED,
        "CASE-9",
        5,
    )
    # The audit now sees the window closed: a filed claim stays filed.
    assert repo.upsert_detected(_claim(status="expired")).claim.status is ClaimStatus.FILED


def test_audit_expiry_moves_an_unfiled_claim_to_expired(dynamodb: Any) -> None:
    repo = ClaimRepository("ClaimsTable", client=dynamodb, clock=Clock())
    repo.upsert_detected(_claim())
    expired = repo.upsert_detected(_claim(status="expired")).claim
    assert expired.status is ClaimStatus.EXPIRED
    assert [t.status for t in expired.timeline] == [ClaimStatus.DETECTED, ClaimStatus.EXPIRED]
    with pytest.raises(ValueError, match="detected or expired"):
        repo.upsert_detected(_claim(status="filed"))


def test_claim_status_transitions_are_enforced(dynamodb: Any) -> None:
    clock = Clock()
    repo = ClaimRepository("ClaimsTable", client=dynamodb, clock=clock)
    repo.upsert_detected(_claim())

    clock.advance(hours=1)
    filed = repo.transition("SELLER1", "lost-1", "filed", case_id="CASE-1", note="case opened")
    assert (filed.status, filed.case_id) == (ClaimStatus.FILED, "CASE-1")
    # A retried filing is harmless.
    assert repo.transition("SELLER1", "lost-1", "filed").timeline == filed.timeline

    clock.advance(days=3)
    paid = repo.transition(
        "SELLER1", "lost-1", "reimbursed", reimbursed_amount=Money.of("25.80", "EUR")
    )
    assert paid.reimbursed_amount == Money.of("25.80", "EUR")
    assert [(t.status, t.at) for t in paid.timeline] == [
        (ClaimStatus.DETECTED, T0),
        (ClaimStatus.FILED, T0 + timedelta(hours=1)),
        (ClaimStatus.REIMBURSED, T0 + timedelta(days=3, hours=1)),
    ]
    with pytest.raises(InvalidTransition) as invalid:
        repo.transition("SELLER1", "lost-1", "denied")
    assert (invalid.value.current, invalid.value.requested) == ("reimbursed", "denied")
    with pytest.raises(ValueError, match="no claim can move to 'detected'"):
        repo.transition("SELLER1", "lost-1", "detected")
    with pytest.raises(NotFound):
        repo.transition("SELLER1", "nope", "filed")
    assert repo.get("SELLER1", "lost-1").status is ClaimStatus.REIMBURSED


def test_claims_by_status_with_deadline_on_or_before(dynamodb: Any) -> None:
    repo = ClaimRepository("ClaimsTable", client=dynamodb)
    deadlines = {
        ("SELLER1", "c-late"): date(2025, 5, 20),
        ("SELLER1", "c-soon"): date(2025, 4, 2),
        ("SELLER2", "c-today"): date(2025, 4, 5),
        ("SELLER2", "c-past"): date(2025, 3, 30),
    }
    for (seller, claim_id), deadline in deadlines.items():
        repo.upsert_detected(_claim(claim_id, seller=seller, deadline=deadline))
    repo.upsert_detected(_claim("c-filed", deadline=date(2025, 4, 1)))
    repo.transition("SELLER1", "c-filed", "filed")

    due = repo.by_status("detected", deadline_on_or_before=date(2025, 4, 5))
    assert [c.claim_id for c in due.items] == ["c-past", "c-soon", "c-today"]
    everything = repo.by_status(ClaimStatus.DETECTED)
    assert len(everything.items) == 4
    assert [c.claim_id for c in repo.by_status("filed").items] == ["c-filed"]

    first = repo.by_status("detected", limit=2)
    rest = repo.by_status("detected", limit=2, next_token=first.next_token)
    assert [c.claim_id for c in itertools.chain(first.items, rest.items)] == [
        "c-past",
        "c-soon",
        "c-today",
        "c-late",
    ]
    with pytest.raises(InvalidPageToken):
        repo.by_status("filed", next_token=first.next_token)
