"""The DynamoDB stream poller behaves like Lambda's stream event source mapping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from infra.local.runtime import LocalStack
from infra.local.sources import StreamPoller
from tests.integration.local.support import calls, fixture_stack, receive_all, reset

MAPPING = "StreamFunctionAccounts"


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalStack]:
    with fixture_stack() as local:
        yield local


@pytest.fixture
def local(shared: LocalStack) -> LocalStack:
    return reset(shared)


def _put(local: LocalStack, account_id: str, **flags: bool) -> None:
    item: dict[str, Any] = {"account_id": {"S": account_id}}
    item.update({name: {"BOOL": value} for name, value in flags.items()})
    local.stack.aws("dynamodb").put_item(
        TableName=local.stack.table_name("AccountsTable"), Item=item
    )


def _delivered(handler: str = "stream_worker") -> list[list[str]]:
    """Account ids of each invocation's records, in order."""
    return [
        [r["dynamodb"]["Keys"]["account_id"]["S"] for r in call["event"]["Records"]]
        for call in calls(handler)
    ]


def _poller(local: LocalStack, **changes: Any) -> StreamPoller:
    """A poller of the template's mapping with ``changes``, after what is in the stream."""
    changes = {"starting_position": "LATEST", **changes}
    mapping = replace(local.stack.event_source_mappings[MAPPING], **changes)
    return StreamPoller(local.stack, local.dispatcher, mapping)


def test_insert_modify_remove_arrive_in_order_with_both_images(local: LocalStack) -> None:
    _put(local, "a")
    local.stack.aws("dynamodb").update_item(
        TableName=local.stack.table_name("AccountsTable"),
        Key={"account_id": {"S": "a"}},
        UpdateExpression="SET tier = :p",
        ExpressionAttributeValues={":p": {"S": "pro"}},
    )
    local.stack.aws("dynamodb").delete_item(
        TableName=local.stack.table_name("AccountsTable"), Key={"account_id": {"S": "a"}}
    )
    result = local.sources.poller(MAPPING).poll()
    assert (result.received, result.succeeded) == (3, 3)
    insert, modify, remove = calls("stream_worker")[0]["event"]["Records"]
    assert [insert["eventName"], modify["eventName"], remove["eventName"]] == [
        "INSERT",
        "MODIFY",
        "REMOVE",
    ]
    for record in (insert, modify, remove):
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventSourceARN"] == local.stack.attribute("AccountsTable", "StreamArn")
        assert record["awsRegion"] == "us-east-1"
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"] == {"account_id": {"S": "a"}}
    assert modify["dynamodb"]["NewImage"]["tier"] == {"S": "pro"}
    assert remove["dynamodb"]["OldImage"]["tier"] == {"S": "pro"}
    assert "NewImage" not in remove["dynamodb"]
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in (insert, modify, remove)]
    assert sequences == sorted(sequences)
    assert local.sources.poller(MAPPING).poll().received == 0  # checkpointed


def test_partial_failure_checkpoints_at_the_first_failed_record(local: LocalStack) -> None:
    _put(local, "a")
    _put(local, "b", fail=True)
    _put(local, "c")
    poller = local.sources.poller(MAPPING)
    first = poller.poll()
    assert (first.succeeded, first.failed) == (1, 2)
    poller.poll()
    assert _delivered()[:2] == [["a", "b", "c"], ["b", "c"]]


def test_exhausted_retries_go_to_the_on_failure_destination(local: LocalStack) -> None:
    _put(local, "a")
    _put(local, "b", fail=True)
    poller = local.sources.poller(MAPPING)
    results = [poller.poll() for _ in range(4)]
    # MaximumRetryAttempts 2: the failing record is tried 1 + 2 times, then skipped
    assert _delivered() == [["a", "b"], ["b"], ["b"]]
    assert results[2].discarded == 1
    assert results[3].received == 0
    (message,) = receive_all(local, "StreamFailuresQueue")
    failure = json.loads(message["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["requestContext"]["functionArn"] == local.stack.functions["StreamFunction"].arn
    info = failure["DDBStreamBatchInfo"]
    failed_sequence = calls("stream_worker")[1]["event"]["Records"][0]["dynamodb"]["SequenceNumber"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == failed_sequence
    assert info["batchSize"] == 1
    assert info["streamArn"] == local.stack.attribute("AccountsTable", "StreamArn")
    assert "functionError" not in failure["responseContext"]  # it answered, with failures

    _put(local, "c")
    poller.poll()
    assert _delivered()[-1] == ["c"]


def test_an_exception_retries_the_whole_batch(local: LocalStack) -> None:
    _put(local, "a")
    _put(local, "b", **{"raise": True})
    poller = local.sources.poller(MAPPING)
    for _ in range(3):
        poller.poll()
    assert _delivered() == [["a", "b"]] * 3
    (message,) = receive_all(local, "StreamFailuresQueue")
    failure = json.loads(message["Body"])
    assert failure["responseContext"]["functionError"] == "Unhandled"
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 2


def test_bisect_on_error_splits_the_batch_down_to_the_bad_record(local: LocalStack) -> None:
    poller = _poller(
        local, bisect_on_error=True, report_batch_item_failures=False, maximum_retry_attempts=0
    )
    for name in "abc":
        _put(local, name)
    _put(local, "d", **{"raise": True})
    for _ in range(6):
        poller.poll()
    assert _delivered() == [["a", "b", "c", "d"], ["a", "b"], ["c", "d"], ["c"], ["d"]]
    (message,) = receive_all(local, "StreamFailuresQueue")
    assert json.loads(message["Body"])["DDBStreamBatchInfo"]["batchSize"] == 1


def test_filter_criteria_drop_records_that_do_not_match(local: LocalStack) -> None:
    poller = _poller(local, filters=('{"eventName": ["INSERT"]}',))
    _put(local, "a")
    _put(local, "a", fail=False)  # MODIFY
    _put(local, "b")
    result = poller.poll()
    assert (result.received, result.filtered) == (3, 1)
    assert [[r["eventName"] for r in c["event"]["Records"]] for c in calls("stream_worker")] == [
        ["INSERT", "INSERT"]
    ]


def test_latest_starting_position_skips_what_was_written_before(local: LocalStack) -> None:
    _put(local, "old")
    poller = _poller(local, starting_position="LATEST")
    _put(local, "new")
    poller.poll()
    assert _delivered() == [["new"]]
