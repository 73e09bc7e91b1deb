"""Shared helpers of the local-stack tests (tests/integration/test_local_*.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from infra.local.runtime import LocalStack, in_process
from infra.local.sources import EventSources
from tests.integration.local import handlers

ROOT = Path(__file__).resolve().parents[3]
FIXTURE_TEMPLATE = ROOT / "tests" / "fixtures" / "local_template.yaml"
REPO_TEMPLATE = ROOT / "template.yaml"


@contextmanager
def fixture_stack(**options: Any) -> Iterator[LocalStack]:
    """The fixture template provisioned in a fresh mock_aws(), test-double calls cleared."""
    handlers.CALLS.clear()
    with in_process(FIXTURE_TEMPLATE, **options) as local:
        yield local


@contextmanager
def shared_fixture_stack(**options: Any) -> Iterator[LocalStack]:
    """A fixture-template stack for a module's tests; call :func:`reset` before each test."""
    with fixture_stack(**options) as local:
        yield local


def reset(local: LocalStack) -> LocalStack:
    """Empty every queue and forget past calls, pollers' state and invocations.

    Provisioning costs ~0.3 s (moto generates RSA keys for KMS and Cognito), so modules
    whose tests only use queues and the API share one stack and reset it between tests.
    """
    sqs = local.stack.aws("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        sqs.purge_queue(QueueUrl=url)
    handlers.CALLS.clear()
    local.dispatcher.history.clear()
    local.sources = EventSources(local.stack, local.dispatcher)
    return local


def calls(handler: str) -> list[dict[str, Any]]:
    return [c for c in handlers.CALLS if c["handler"] == handler]


def send(local: LocalStack, queue: str, *bodies: dict[str, Any], **extra: Any) -> list[str]:
    """Send JSON bodies to a queue of the stack (by logical id); their message ids."""
    sqs = local.stack.aws("sqs")
    url = local.stack.queue_url(queue)
    ids = []
    for body in bodies:
        args = {"QueueUrl": url, "MessageBody": json.dumps(body), **extra}
        ids.append(sqs.send_message(**args)["MessageId"])
    return ids


def queue_counts(local: LocalStack, queue: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue of the stack."""
    attributes = local.stack.aws("sqs").get_queue_attributes(
        QueueUrl=local.stack.queue_url(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def receive_all(local: LocalStack, queue: str) -> list[dict[str, Any]]:
    """Every message now visible in a queue (received once, not deleted)."""
    sqs = local.stack.aws("sqs")
    url = local.stack.queue_url(queue)
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    ).get("Messages", []):
        messages.extend(batch)
    return messages
