"""Sending decided prices to the FIFO price-updates queue (``PRICE_UPDATES_QUEUE_URL``).

Each :class:`~functions.reprice.price_update.PriceUpdate` becomes one message:

- ``MessageBody`` = ``update.to_message()`` (the PriceUpdate JSON contract);
- ``MessageGroupId`` = the seller id, so one publisher at a time spends a seller's SP-API
  quota (Amazon's quotas are per seller and application, across every invocation);
- ``MessageDeduplicationId`` = ``update.deduplication_id()`` (source + SKU), so the same
  decision enqueued twice within SQS's 5-minute window — a Lambda retry — is dropped.

Messages go out in ``SendMessageBatch`` calls of 10 (the SQS maximum). Entries SQS
refuses for a transient reason are sent once more; what still fails is returned, so the
caller can undo what it stored for those SKUs and let the source be retried.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from functions.reprice.price_update import PriceUpdate

logger = logging.getLogger(__name__)

BATCH = 10  # SendMessageBatch maximum


class PriceUpdateSender(Protocol):
    """Where decided prices go; returns the updates that could not be enqueued."""

    def send(self, updates: Sequence[PriceUpdate]) -> list[PriceUpdate]: ...


def message_of(update: PriceUpdate, entry_id: str) -> dict[str, str]:
    """The ``SendMessageBatch`` entry of ``update``."""
    return {
        "Id": entry_id,
        "MessageBody": update.to_message(),
        "MessageGroupId": update.seller_id,
        "MessageDeduplicationId": update.deduplication_id(),
    }


class SqsPriceUpdateSender:
    """:class:`PriceUpdateSender` on the FIFO queue ``queue_url``.

    ``client`` is a boto3 SQS client, created on first use when omitted (importing this
    module costs no boto3 import).
    """

    def __init__(self, queue_url: str, *, client: Any = None, attempts: int = 2) -> None:
        if not queue_url:
            raise ValueError("queue_url is empty")
        self.queue_url = queue_url
        self._client = client
        self.attempts = max(1, attempts)

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # deferred: see the class doc

            self._client = boto3.client("sqs")
        return self._client

    def send(self, updates: Sequence[PriceUpdate]) -> list[PriceUpdate]:
        failed: list[PriceUpdate] = []
        for start in range(0, len(updates), BATCH):
            failed.extend(self._send_batch(list(updates[start : start + BATCH])))
        return failed

    def _send_batch(self, batch: list[PriceUpdate]) -> list[PriceUpdate]:
        pending = {str(i): update for i, update in enumerate(batch)}
        refused: list[PriceUpdate] = []
        for attempt in range(1, self.attempts + 1):
            response = self.client.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[message_of(u, entry_id) for entry_id, u in pending.items()],
            )
            retry: dict[str, PriceUpdate] = {}
            for failure in response.get("Failed") or []:
                entry_id = str(failure.get("Id"))
                update = pending.get(entry_id)
                if update is None:
                    continue
                logger.warning(
                    "price update not enqueued: %s %s %s (%s)",
                    update.seller_id, update.sku, failure.get("Code"), failure.get("Message"),
                    extra={"sku": update.sku, "code": failure.get("Code"),
                           "sender_fault": failure.get("SenderFault"), "attempt": attempt},
                )
                if failure.get("SenderFault"):
                    refused.append(update)  # our message is wrong: resending cannot help
                else:
                    retry[entry_id] = update
            if not retry:
                return refused
            pending = retry
        return refused + list(pending.values())


class InMemoryPriceUpdateSender:
    """Keeps the updates in ``sent`` (tests, benchmarks, the replay of a day).

    ``fail_skus`` makes the updates of those SKUs fail, as SQS would refuse them.
    """

    def __init__(self, fail_skus: Sequence[str] = ()) -> None:
        self.sent: list[PriceUpdate] = []
        self.fail_skus = set(fail_skus)

    def send(self, updates: Sequence[PriceUpdate]) -> list[PriceUpdate]:
        failed = [u for u in updates if u.sku in self.fail_skus]
        self.sent.extend(u for u in updates if u.sku not in self.fail_skus)
        return failed


__all__ = [
    "BATCH",
    "InMemoryPriceUpdateSender",
    "PriceUpdateSender",
    "SqsPriceUpdateSender",
    "message_of",
]
