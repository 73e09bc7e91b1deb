"""The SQS poller behaves like Lambda's SQS event source mapping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest

from infra.local.runtime import LocalStack
from infra.local.sources import SqsPoller, failed_item_ids
from tests.integration.local.support import (
    calls,
    fixture_stack,
    queue_counts,
    receive_all,
    reset,
    send,
)


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalStack]:
    with fixture_stack() as local:
        yield local


@pytest.fixture
def local(shared: LocalStack) -> LocalStack:
    return reset(shared)


def _bodies(call: dict) -> list[dict]:
    return [json.loads(r["body"]) for r in call["event"]["Records"]]


def test_records_have_the_lambda_sqs_event_shape(local: LocalStack) -> None:
    send(
        local,
        "WorkQueue",
        {"n": 1},
        MessageAttributes={
            "language": {"DataType": "String", "StringValue": "de"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    local.sources.poller("WorkerFunctionWork").poll()
    (record,) = calls("sqs_worker")[0]["event"]["Records"]
    assert set(record) >= {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == local.stack.queue_arn("WorkQueue")
    assert record["awsRegion"] == "us-east-1"
    assert json.loads(record["body"]) == {"n": 1}
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        record["attributes"]
    )
    assert record["messageAttributes"]["language"] == {
        "stringValue": "de",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="


def test_batch_size_is_honoured(local: LocalStack) -> None:
    send(local, "WorkQueue", *({"n": n} for n in range(5)))
    poller = local.sources.poller("WorkerFunctionWork")
    assert poller.poll().received == 3  # BatchSize: 3
    assert poller.poll().received == 2
    assert [len(c["event"]["Records"]) for c in calls("sqs_worker")] == [3, 2]
    assert queue_counts(local, "WorkQueue") == (0, 0)


def test_partial_batch_failure_deletes_only_the_successes(local: LocalStack) -> None:
    send(local, "WorkQueue", {"n": 1}, {"n": 2, "fail": True}, {"n": 3})
    poller = local.sources.poller("WorkerFunctionWork")

    first = poller.poll()
    assert (first.received, first.succeeded, first.failed) == (3, 2, 1)
    assert queue_counts(local, "WorkQueue") == (1, 0)  # visible again for a retry

    second = poller.poll()
    (retry,) = calls("sqs_worker")[1]["event"]["Records"]
    assert json.loads(retry["body"]) == {"n": 2, "fail": True}
    assert retry["attributes"]["ApproximateReceiveCount"] == "2"
    assert (second.received, second.failed) == (1, 1)


def test_failing_message_is_redriven_to_the_dlq_after_max_receive_count(
    local: LocalStack,
) -> None:
    send(local, "WorkQueue", {"n": 1, "fail": True}, {"n": 2})
    poller = local.sources.poller("WorkerFunctionWork")
    for _ in range(5):
        poller.poll()
    # maxReceiveCount 3: delivered three times, then moto moves it on the next receive
    deliveries = [b for c in calls("sqs_worker") for b in _bodies(c) if b["n"] == 1]
    assert len(deliveries) == 3
    assert queue_counts(local, "WorkQueue") == (0, 0)
    (dead,) = receive_all(local, "WorkDLQ")
    assert json.loads(dead["Body"]) == {"n": 1, "fail": True}


def test_an_exception_fails_the_whole_batch(local: LocalStack) -> None:
    send(local, "WorkQueue", {"n": 1}, {"n": 2, "raise": True}, {"n": 3})
    result = local.sources.poller("WorkerFunctionWork").poll()
    assert (result.received, result.succeeded, result.failed) == (3, 0, 3)
    assert not result.invocations[0].ok
    assert queue_counts(local, "WorkQueue") == (3, 0)


def test_without_report_batch_item_failures_a_returned_list_is_ignored(
    local: LocalStack,
) -> None:
    mapping = replace(
        local.stack.event_source_mappings["WorkerFunctionWork"], report_batch_item_failures=False
    )
    poller = SqsPoller(local.stack, local.dispatcher, mapping)
    send(local, "WorkQueue", {"n": 1, "fail": True})
    assert poller.poll().succeeded == 1
    assert queue_counts(local, "WorkQueue") == (0, 0)


def test_invalid_batch_item_failures_fail_the_whole_batch() -> None:
    assert failed_item_ids(None, {"a"}) == set()
    assert failed_item_ids({"batchItemFailures": []}, {"a"}) == set()
    assert failed_item_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a", "b"}) == {"a"}
    assert failed_item_ids({"batchItemFailures": [{"itemIdentifier": "zz"}]}, {"a"}) is None
    assert failed_item_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a"}) is None
    assert failed_item_ids({"batchItemFailures": "a"}, {"a"}) is None


def test_retry_delay_none_keeps_failed_messages_invisible(local: LocalStack) -> None:
    mapping = local.stack.event_source_mappings["WorkerFunctionWork"]
    poller = SqsPoller(local.stack, local.dispatcher, mapping, retry_delay=None)
    send(local, "WorkQueue", {"n": 1, "fail": True})
    poller.poll()
    assert queue_counts(local, "WorkQueue") == (0, 1)  # VisibilityTimeout 180 s applies
    assert poller.poll().received == 0


def test_fifo_keeps_order_within_a_message_group(local: LocalStack) -> None:
    for n, group in enumerate(["a", "a", "b", "a", "b"]):
        send(local, "OrderedQueue", {"n": n, "group": group}, MessageGroupId=group)
    local.drain()
    (call,) = calls("sqs_worker")
    records = call["event"]["Records"]
    by_group: dict[str, list[int]] = {}
    for record in records:
        body = json.loads(record["body"])
        assert record["attributes"]["MessageGroupId"] == body["group"]
        by_group.setdefault(body["group"], []).append(body["n"])
    assert by_group == {"a": [0, 1, 3], "b": [2, 4]}
    assert queue_counts(local, "OrderedQueue") == (0, 0)


def test_fifo_group_with_a_failure_is_held_back_until_retried(local: LocalStack) -> None:
    send(local, "OrderedQueue", {"n": 0, "fail": True}, MessageGroupId="a")
    send(local, "OrderedQueue", {"n": 1}, MessageGroupId="b")
    poller = local.sources.poller("OrderedFunctionOrdered")
    first = poller.poll()
    assert (first.succeeded, first.failed) == (1, 1)
    send(local, "OrderedQueue", {"n": 2}, MessageGroupId="a")
    second = poller.poll()
    # the failed message comes back first in its group, before the newer one
    assert [b["n"] for b in _bodies(calls("sqs_worker")[1])] == [0, 2]
    assert second.received == 2


def test_drain_runs_every_poller_until_idle(local: LocalStack) -> None:
    send(local, "WorkQueue", *({"n": n} for n in range(7)))
    results = local.drain()
    assert sum(r.succeeded for r in results) == 7
    assert local.drain() == []
