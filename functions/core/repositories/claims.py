"""Claims table: key ``seller_id`` + ``claim_id``; GSI ``ByStatus`` (``status``, ``deadline_key``).

``claim_id`` is deterministic from the evidence, so a re-audit finds the claim it made
before. :meth:`ClaimRepository.upsert_detected` refreshes what the audit detects
(quantity, amount, deadline, evidence, ...) in one conditional-free atomic update and
never moves the status backwards; status changes go through
:meth:`ClaimRepository.transition`, which enforces :data:`ALLOWED_TRANSITIONS` with a
condition on the current status. ``deadline_key = YYYY-MM-DD#seller_id#claim_id`` orders
the ``ByStatus`` index by deadline. Amounts are stored as DynamoDB numbers with a
``currency`` attribute; the table's stream images are read with :func:`claim_from_image`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from functions.core.accounts import SellerId, UtcDatetime
from functions.core.money import Money
from functions.core.repositories.dynamo import (
    DynamoTable,
    Page,
    from_item,
    iso_utc,
    reject_floats,
    to_attribute,
)
from functions.core.repositories.errors import InvalidTransition, NotFound

BY_STATUS_INDEX = "ByStatus"


class ClaimStatus(StrEnum):
    DETECTED = "detected"  # "open" in the audit CLI's output
    FILED = "filed"
    REIMBURSED = "reimbursed"
    DENIED = "denied"
    EXPIRED = "expired"


# detected → filed → reimbursed / denied / expired. A detected claim can also expire
# unfiled or be paid by Amazon before we file it. Reimbursed, denied, expired are final.
ALLOWED_TRANSITIONS: dict[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.DETECTED: frozenset(
        {ClaimStatus.FILED, ClaimStatus.EXPIRED, ClaimStatus.REIMBURSED}
    ),
    ClaimStatus.FILED: frozenset({ClaimStatus.REIMBURSED, ClaimStatus.DENIED, ClaimStatus.EXPIRED}),
    ClaimStatus.REIMBURSED: frozenset(),
    ClaimStatus.DENIED: frozenset(),
    ClaimStatus.EXPIRED: frozenset(),
}


class ClaimCategory(StrEnum):
    LOST_WAREHOUSE = "lost_warehouse"
    DAMAGED_WAREHOUSE = "damaged_warehouse"
    RETURN_NOT_RECEIVED = "return_not_received"
    RETURN_NOT_RESTOCKED = "return_not_restocked"
    INBOUND_SHORTFALL = "inbound_shortfall"
    REMOVAL_LOST = "removal_lost"
    FEE_OVERCHARGE = "fee_overcharge"
    REIMBURSEMENT_UNDERPAID = "reimbursement_underpaid"
    REIMBURSEMENT_REVERSAL = "reimbursement_reversal"


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: UtcDatetime
    status: ClaimStatus
    note: str = ""


class Claim(BaseModel):
    """A reimbursement claim against Amazon. ``amount`` is ``None`` when no value basis is known.

    Evidence values are kept as stored; numbers in them come back as ``Decimal``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seller_id: SellerId
    claim_id: str = Field(min_length=1, max_length=200)
    category: ClaimCategory
    status: ClaimStatus = ClaimStatus.DETECTED
    marketplace_id: str | None = None
    sku: str | None = None
    fnsku: str | None = None
    asin: str | None = None
    quantity: int = Field(default=0, ge=0)
    amount: Money | None = None
    deadline: date
    reason: str = ""
    evidence: Annotated[tuple[Any, ...], AfterValidator(reject_floats)] = ()
    case_id: str | None = None
    reimbursed_amount: Money | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    detected_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    seen_count: int = Field(default=0, ge=0)

    @property
    def deadline_key(self) -> str:
        return deadline_key(self.deadline, self.seller_id, self.claim_id)


def deadline_key(deadline: date, seller_id: str, claim_id: str) -> str:
    return f"{deadline.isoformat()}#{seller_id}#{claim_id}"


def claim_from_plain(values: Mapping[str, Any]) -> Claim:
    data = dict(values)
    data.pop("deadline_key", None)
    data.pop("last_seen_at", None)
    amount, currency = data.pop("amount", None), data.pop("currency", None)
    if amount is not None:
        data["amount"] = Money(amount, currency)
    paid, paid_currency = data.pop("reimbursed_amount", None), data.pop("reimbursed_currency", None)
    if paid is not None:
        data["reimbursed_amount"] = Money(paid, paid_currency)
    return Claim.model_validate(data)


def claim_from_image(image: Mapping[str, Mapping[str, Any]]) -> Claim:
    """A Claim from a stored item or a stream image (DynamoDB attribute values)."""
    return claim_from_plain(from_item(image))


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What :meth:`ClaimRepository.upsert_detected` stored; ``created`` on first sight."""

    claim: Claim
    created: bool


class ClaimRepository(DynamoTable):
    """Data access for claims. ``clock`` stamps ``updated_at`` and timeline entries."""

    table_setting = "claims_table"

    @staticmethod
    def _key(seller_id: str, claim_id: str) -> dict[str, dict[str, str]]:
        return {"seller_id": {"S": seller_id}, "claim_id": {"S": claim_id}}

    # -- reads --------------------------------------------------------------------------
    def get(self, seller_id: str, claim_id: str) -> Claim | None:
        response = self.client.get_item(
            TableName=self.table_name, Key=self._key(seller_id, claim_id), ConsistentRead=True
        )
        item = response.get("Item")
        return claim_from_image(item) if item else None

    def list_for_seller(
        self, seller_id: str, *, limit: int = 100, next_token: str | None = None
    ) -> Page[Claim]:
        """One page of a seller's claims, ordered by ``claim_id``."""
        items, token = self._query_page(
            {
                "KeyConditionExpression": "seller_id = :seller",
                "ExpressionAttributeValues": {":seller": {"S": seller_id}},
            },
            limit=limit,
            next_token=next_token,
            key_names=("seller_id", "claim_id"),
            fixed={"seller_id": seller_id},
        )
        return Page([claim_from_plain(item) for item in items], token)

    def by_status(
        self,
        status: ClaimStatus | str,
        *,
        deadline_on_or_before: date | None = None,
        limit: int = 100,
        next_token: str | None = None,
    ) -> Page[Claim]:
        """Claims of every seller in ``status``, earliest deadline first.

        ``deadline_on_or_before`` keeps claims whose deadline is that day or earlier
        (e.g. today + 7 for the "deadline near" alarm). Reads the eventually consistent
        ``ByStatus`` index.
        """
        status = ClaimStatus(status)
        condition = "#status = :status"
        values: dict[str, Any] = {":status": {"S": status.value}}
        if deadline_on_or_before is not None:
            # Every key of that day sorts below the next day's date.
            condition += " AND deadline_key < :next_day"
            next_day = deadline_on_or_before + timedelta(days=1)
            values[":next_day"] = {"S": next_day.isoformat()}
        items, token = self._query_page(
            {
                "IndexName": BY_STATUS_INDEX,
                "KeyConditionExpression": condition,
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": values,
            },
            limit=limit,
            next_token=next_token,
            key_names=("status", "deadline_key", "seller_id", "claim_id"),
            fixed={"status": status.value},
        )
        return Page([claim_from_plain(item) for item in items], token)

    # -- writes -------------------------------------------------------------------------
    def upsert_detected(self, claim: Claim) -> UpsertResult:
        """Create the claim, or refresh the fields an audit detects on the stored one.

        Refreshed: category, marketplace, sku/fnsku/asin, quantity, amount, deadline,
        reason, evidence. Kept: status, case id, timeline, reimbursed amount, detected_at.
        ``claim.status`` must be ``detected`` or ``expired`` (the audit's view); a stored
        ``detected`` claim the audit now sees as ``expired`` is moved to ``expired``, any
        other stored status is left alone (a re-audit never regresses filed/reimbursed).
        """
        if claim.status not in (ClaimStatus.DETECTED, ClaimStatus.EXPIRED):
            raise ValueError("an audit can only report a claim as detected or expired")
        now = self._clock()
        sets = [
            "category = :category",
            "quantity = :quantity",
            "deadline = :deadline",
            "deadline_key = :deadline_key",
            "reason = :reason",
            "evidence = :evidence",
            "last_seen_at = :now",
            "updated_at = :now",
            "#status = if_not_exists(#status, :initial)",
            "detected_at = if_not_exists(detected_at, :now)",
            "timeline = if_not_exists(timeline, :first_timeline)",
        ]
        removes: list[str] = []
        values: dict[str, Any] = {
            ":category": claim.category,
            ":quantity": claim.quantity,
            ":deadline": claim.deadline,
            ":deadline_key": claim.deadline_key,
            ":reason": claim.reason,
            ":evidence": list(claim.evidence),
            ":now": now,
            ":initial": claim.status,
            ":first_timeline": [_timeline_plain(now, claim.status, "detected by audit")],
            ":one": 1,
        }
        optional = {
            "marketplace_id": claim.marketplace_id,
            "sku": claim.sku,
            "fnsku": claim.fnsku,
            "asin": claim.asin,
            "amount": claim.amount.amount if claim.amount else None,
            "currency": claim.amount.currency if claim.amount else None,
        }
        for name, value in optional.items():
            if value is None:
                removes.append(name)
            else:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = value
        expression = "SET " + ", ".join(sets) + " ADD seen_count :one"
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        response = self.client.update_item(
            TableName=self.table_name,
            Key=self._key(claim.seller_id, claim.claim_id),
            UpdateExpression=expression,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={k: to_attribute(v) for k, v in values.items()},
            ReturnValues="ALL_NEW",
        )
        stored = claim_from_image(response["Attributes"])
        created = stored.seen_count == 1
        if claim.status is ClaimStatus.EXPIRED and stored.status is ClaimStatus.DETECTED:
            try:
                stored = self.transition(
                    claim.seller_id,
                    claim.claim_id,
                    ClaimStatus.EXPIRED,
                    note="claim window passed (audit)",
                )
            except InvalidTransition:
                # Someone filed it in between: the stored status stands.
                stored = self.get(claim.seller_id, claim.claim_id) or stored
        return UpsertResult(claim=stored, created=created)

    def transition(
        self,
        seller_id: str,
        claim_id: str,
        to_status: ClaimStatus | str,
        *,
        note: str = "",
        at: datetime | None = None,
        case_id: str | None = None,
        reimbursed_amount: Money | None = None,
    ) -> Claim:
        """Move a claim to ``to_status`` if :data:`ALLOWED_TRANSITIONS` permit it from its status.

        Appends ``(at, to_status, note)`` to the timeline; sets ``case_id`` and
        ``reimbursed_amount`` when given. Repeating a transition that already happened
        returns the stored claim unchanged (a retried filing is harmless). Raises
        :class:`InvalidTransition` otherwise, :class:`NotFound` for an unknown claim.
        """
        target = ClaimStatus(to_status)
        sources = [s for s, targets in ALLOWED_TRANSITIONS.items() if target in targets]
        if not sources:
            raise ValueError(f"no claim can move to {target.value!r}")
        moment = at if at is not None else self._clock()
        placeholders = [f":from{i}" for i in range(len(sources))]
        values: dict[str, Any] = {p: s for p, s in zip(placeholders, sources, strict=True)}
        values.update(
            {
                ":to": target,
                ":now": self._clock(),
                ":entry": [_timeline_plain(moment, target, note)],
                ":empty": [],
            }
        )
        sets = [
            "#status = :to",
            "updated_at = :now",
            "timeline = list_append(if_not_exists(timeline, :empty), :entry)",
        ]
        if case_id is not None:
            sets.append("case_id = :case_id")
            values[":case_id"] = case_id
        if reimbursed_amount is not None:
            sets.append("reimbursed_amount = :paid, reimbursed_currency = :paid_currency")
            values[":paid"] = reimbursed_amount.amount
            values[":paid_currency"] = reimbursed_amount.currency
        key = {"seller_id": seller_id, "claim_id": claim_id}
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=self._key(seller_id, claim_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=(
                    f"attribute_exists(claim_id) AND #status IN ({', '.join(placeholders)})"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={k: to_attribute(v) for k, v in values.items()},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as error:
            if not self._is_condition_failure(error):
                raise
            old = self._old_item(error)
            if old is None:
                raise NotFound("claim", key) from None
            current = claim_from_plain(old)
            if current.status is target:
                return current
            raise InvalidTransition("claim", key, current.status.value, target.value) from None
        return claim_from_image(response["Attributes"])


def _timeline_plain(at: datetime, status: ClaimStatus, note: str) -> dict[str, str]:
    return {"at": iso_utc(at), "status": status.value, "note": note}
