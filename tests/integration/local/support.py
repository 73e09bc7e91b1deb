"""Shared helpers of the local-stack tests (tests/integration/test_local_*.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from infra.local.clock import ScheduleClock
from infra.local.runtime import LocalStack, in_process
from infra.local.sources import EventSources, StreamPoller
from tests.integration.local import handlers

ROOT = Path(__file__).resolve().parents[3]
FIXTURE_TEMPLATE = ROOT / "tests" / "fixtures" / "local_template.yaml"
REPO_TEMPLATE = ROOT / "template.yaml"
_STRICT_PURGE = "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR"


@contextmanager
def fixture_stack(**options: Any) -> Iterator[LocalStack]:
    """The fixture template provisioned in a fresh mock_aws(), test-double calls cleared."""
    handlers.CALLS.clear()
    with in_process(FIXTURE_TEMPLATE, **options) as local:
        yield local


def reset(local: LocalStack, start: datetime | None = None) -> LocalStack:
    """Empty every queue and forget past calls, pollers' state and invocations.

    Provisioning costs ~0.3 s (moto generates RSA keys for KMS and Cognito), so a module
    shares one stack and resets it between tests: queues purged, tables emptied, stream
    pollers starting after what earlier tests wrote, schedules created at run time
    deleted, and a new schedule clock starting at ``start``.
    """
    sqs = local.stack.aws("sqs")
    # moto refuses a second purge within 60 s unless told not to (in-process: read now)
    strict = os.environ.get(_STRICT_PURGE)
    os.environ[_STRICT_PURGE] = "false"
    try:
        for url in sqs.list_queues().get("QueueUrls", []):
            sqs.purge_queue(QueueUrl=url)
    finally:
        if strict is None:
            os.environ.pop(_STRICT_PURGE)
        else:
            os.environ[_STRICT_PURGE] = strict
    _empty_tables(local)
    handlers.CALLS.clear()
    local.dispatcher.history.clear()
    local.sources = EventSources(local.stack, local.dispatcher)
    # stream records of earlier tests stay in the stream: start the pollers after them
    local.sources.pollers = [
        StreamPoller(local.stack, local.dispatcher, replace(p.mapping, starting_position="LATEST"))
        if isinstance(p, StreamPoller)
        else p
        for p in local.sources.pollers
    ]
    _delete_runtime_schedules(local)
    local.clock = ScheduleClock(
        local.stack, local.dispatcher, start=start, after_each=local.sources.drain
    )
    return local


def _empty_tables(local: LocalStack) -> None:
    ddb = local.stack.aws("dynamodb")
    for table in local.stack.of_type("AWS::DynamoDB::Table").values():
        keys = [k["AttributeName"] for k in table.properties["KeySchema"]]
        for page in ddb.get_paginator("scan").paginate(TableName=table.physical_id):
            for item in page["Items"]:
                ddb.delete_item(TableName=table.physical_id, Key={k: item[k] for k in keys})


def _delete_runtime_schedules(local: LocalStack) -> None:
    """Remove schedules and rules a test created through the API (not the template's)."""
    scheduler = local.stack.aws("scheduler")
    template_names = {r.physical_id for r in local.stack.resources.values()}
    for schedule in scheduler.list_schedules()["Schedules"]:
        if schedule["Name"] not in template_names:
            scheduler.delete_schedule(Name=schedule["Name"], GroupName=schedule["GroupName"])
    events = local.stack.aws("events")
    for rule in events.list_rules()["Rules"]:
        if rule["Name"] not in template_names:
            targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            if targets:
                events.remove_targets(Rule=rule["Name"], Ids=[t["Id"] for t in targets])
            events.delete_rule(Name=rule["Name"])


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
