"""Accounts table: key ``account_id``; GSI ``BySeller`` on the primary ``seller_id``.

Writes are optimistic: :meth:`AccountRepository.create` only succeeds when the id is new,
:meth:`AccountRepository.update` only when the stored ``version`` is the one the caller
read. The table's stream (NEW_AND_OLD_IMAGES) feeds the notification center, which reads
the images with :func:`account_from_image`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.core.accounts import Account
from functions.core.repositories.dynamo import (
    DynamoTable,
    Page,
    decode_page_token,
    encode_page_token,
    from_item,
    to_item,
)
from functions.core.repositories.errors import AlreadyExists, ConcurrentModification, NotFound

BY_SELLER_INDEX = "BySeller"


def account_to_item(account: Account) -> dict[str, dict[str, Any]]:
    """The DynamoDB item of ``account`` (nested contract/profile as maps, times as UTC text)."""
    return to_item(account.model_dump(mode="python", exclude_none=True))


def account_from_plain(values: Mapping[str, Any]) -> Account:
    return Account.model_validate(dict(values))


def account_from_image(image: Mapping[str, Mapping[str, Any]]) -> Account:
    """An Account from a stored item or a stream image (DynamoDB attribute values)."""
    return account_from_plain(from_item(image))


class AccountRepository(DynamoTable):
    """Data access for accounts.

    ``client`` is a boto3 DynamoDB *client* (created on first use when omitted);
    ``clock`` returns the aware UTC time stamped into ``updated_at`` on every write.
    """

    table_setting = "accounts_table"

    # -- reads --------------------------------------------------------------------------
    def get(self, account_id: str) -> Account | None:
        """The account with ``account_id`` (strongly consistent), or ``None``."""
        response = self.client.get_item(
            TableName=self.table_name,
            Key={"account_id": {"S": account_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return account_from_image(item) if item else None

    def get_by_seller(self, seller_id: str) -> Account | None:
        """The account whose primary seller is ``seller_id``, via the ``BySeller`` index.

        The index is eventually consistent: an account created a moment ago may not be
        visible yet. Should two accounts name the same primary seller, the oldest wins.
        """
        items = self._query_all(
            {
                "IndexName": BY_SELLER_INDEX,
                "KeyConditionExpression": "seller_id = :seller",
                "ExpressionAttributeValues": {":seller": {"S": seller_id}},
            }
        )
        if not items:
            return None
        accounts = sorted(
            (account_from_plain(item) for item in items),
            key=lambda a: (a.created_at, a.account_id),
        )
        return accounts[0]

    def list_accounts(self, *, limit: int = 50, next_token: str | None = None) -> Page[Account]:
        """One page of all accounts (unordered); pass ``next_token`` back for the next page."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        request: dict[str, Any] = {"TableName": self.table_name, "Limit": limit}
        start = decode_page_token(next_token, key_names=("account_id",))
        if start:
            request["ExclusiveStartKey"] = start
        response = self.client.scan(**request)
        return Page(
            items=[account_from_image(item) for item in response.get("Items", [])],
            next_token=encode_page_token(response.get("LastEvaluatedKey")),
        )

    # -- writes -------------------------------------------------------------------------
    def create(self, account: Account) -> Account:
        """Store a new account at version 1; raises :class:`AlreadyExists` if the id is taken."""
        stored = account.evolve(version=1, updated_at=self._clock())
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=account_to_item(stored),
                ConditionExpression="attribute_not_exists(account_id)",
            )
        except Exception as error:
            if self._is_condition_failure(error):
                raise AlreadyExists("account", {"account_id": account.account_id}) from None
            raise
        return stored

    def update(self, account: Account, expected_version: int) -> Account:
        """Replace the stored account if it is still at ``expected_version``.

        Returns the account as stored (``version = expected_version + 1``). Raises
        :class:`ConcurrentModification` when someone else wrote first, :class:`NotFound`
        when the account does not exist.
        """
        stored = account.evolve(version=expected_version + 1, updated_at=self._clock())
        key = {"account_id": account.account_id}
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=account_to_item(stored),
                ConditionExpression="attribute_exists(account_id) AND version = :expected",
                ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as error:
            if not self._is_condition_failure(error):
                raise
            old = self._old_item(error)
            if old is None:
                raise NotFound("account", key) from None
            raise ConcurrentModification(
                "account",
                key,
                expected_version=expected_version,
                actual_version=int(old.get("version", 0)),
            ) from None
        return stored
