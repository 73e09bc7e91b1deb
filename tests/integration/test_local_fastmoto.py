"""The local stack's short path for moto's DynamoDB item responses gives callers exactly
what moto's own serializer gives them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local import fastmoto
from infra.local.fastmoto import fast_moto

TABLE = "Items"

pytestmark = pytest.mark.skipif(
    not fastmoto.supported(),
    reason="the installed moto is not one fastmoto was tested on (pyproject pins one)")


def _script(client: Any) -> list[Any]:
    """Item operations of every kind (and a failing one); what each returned."""
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "ByG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST",
    )
    out: list[Any] = []

    def call(operation: Callable[..., Any], **params: Any) -> None:
        try:
            response = operation(**params)
        except client.exceptions.ClientError as error:
            response = {"error": error.response["Error"]["Code"],
                        "item": error.response.get("Item")}
        if isinstance(response, dict):
            response.pop("ResponseMetadata", None)
        out.append(response)

    for index in range(5):
        call(client.put_item, TableName=TABLE, ReturnConsumedCapacity="TOTAL", Item={
            "pk": {"S": "p"}, "sk": {"S": f"s{index}"}, "g": {"S": "even" if index % 2 else "odd"},
            "n": {"N": "1.50"}, "nested": {"M": {"list": {"L": [
                {"N": "-3"}, {"NULL": True}, {"BOOL": False}, {"S": "ü"}]}}},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]},
            # binary is not JSON: a response with it takes moto's serializer
            **({"blob": {"B": b"\x00\x01"}} if index == 4 else {}),
        })
    for index in range(4):  # other partitions, before and after "p" in key order
        for pk in ("a", "q"):
            call(client.put_item, TableName=TABLE, Item={
                "pk": {"S": pk}, "sk": {"S": f"s{index}"}, "g": {"S": "even"}})
    call(client.get_item, TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "s1"}},
         ConsistentRead=True)
    call(client.get_item, TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "missing"}})
    call(client.query, TableName=TABLE, KeyConditionExpression="pk = :p",
         ExpressionAttributeValues={":p": {"S": "p"}}, Limit=2, ReturnConsumedCapacity="TOTAL")
    call(client.query, TableName=TABLE, KeyConditionExpression="pk = :p",
         ExpressionAttributeValues={":p": {"S": "p"}}, Limit=2,
         ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"S": "s1"}}, ScanIndexForward=False)
    call(client.query, TableName=TABLE, KeyConditionExpression="pk = :p AND sk >= :s",
         FilterExpression="n > :x", ExpressionAttributeValues={
             ":p": {"S": "p"}, ":s": {"S": "s2"}, ":x": {"N": "1"}})
    call(client.query, TableName=TABLE, KeyConditionExpression="pk = :p",
         ExpressionAttributeValues={":p": {"S": "none"}})
    call(client.query, TableName=TABLE, IndexName="ByG", KeyConditionExpression="g = :g",
         ExpressionAttributeValues={":g": {"S": "even"}}, ProjectionExpression="sk, n")
    call(client.scan, TableName=TABLE, Select="COUNT")
    call(client.scan, TableName=TABLE, FilterExpression="n > :x",
         ExpressionAttributeValues={":x": {"N": "1"}})
    call(client.update_item, TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "s1"}},
         UpdateExpression="SET n = n + :one", ExpressionAttributeValues={":one": {"N": "1"}},
         ReturnValues="ALL_NEW")
    call(client.delete_item, TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "s2"}},
         ReturnValues="ALL_OLD")
    call(client.batch_get_item, RequestItems={TABLE: {"Keys": [
        {"pk": {"S": "p"}, "sk": {"S": "s0"}}, {"pk": {"S": "p"}, "sk": {"S": "s3"}}]}})
    call(client.batch_write_item, RequestItems={TABLE: [
        {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"S": "s9"}}}},
        {"DeleteRequest": {"Key": {"pk": {"S": "p"}, "sk": {"S": "s4"}}}}]})
    call(client.transact_write_items, TransactItems=[
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "p"}, "sk": {"S": "s8"}}}}])
    call(client.transact_get_items, TransactItems=[
        {"Get": {"TableName": TABLE, "Key": {"pk": {"S": "p"}, "sk": {"S": "s8"}}}}])
    call(client.put_item, TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": "s8"}},
         ConditionExpression="attribute_not_exists(pk)",
         ReturnValuesOnConditionCheckFailure="ALL_OLD")
    call(client.update_item, TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "s0"}},
         UpdateExpression="SET n = :bad", ExpressionAttributeValues={})
    # the same expressions again, with other values: parsed once, bound each time
    for value in ("2", "3"):
        call(client.update_item, TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "s1"}},
             UpdateExpression="SET n = n + :one", ExpressionAttributeValues={
                 ":one": {"N": value}}, ReturnValues="UPDATED_NEW")
        call(client.put_item, TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": "s8"}},
             ConditionExpression="attribute_not_exists(pk) OR n < :x",
             ExpressionAttributeValues={":x": {"N": value}})
    call(client.delete_item, TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "s8"}},
         ConditionExpression="attribute_exists(pk) AND NOT n < :x",
         ExpressionAttributeValues={":x": {"N": "1"}}, ReturnValues="ALL_OLD")
    # DynamoDB's item size limit (moto: 405,000 bytes): just under, then just over
    call(client.put_item, TableName=TABLE, Item={
        "pk": {"S": "p"}, "sk": {"S": "big"}, "a": {"S": "x" * 200_000},
        "b": {"S": "y" * (405_000 - 200_000 - 10)}})
    call(client.put_item, TableName=TABLE, Item={
        "pk": {"S": "p"}, "sk": {"S": "big"}, "a": {"S": "x" * 200_000},
        "b": {"S": "y" * (405_000 - 200_000 - 7)}})
    call(client.scan, TableName=TABLE)
    # a hash-only table with numeric keys: Scan order is key order, numbers by value
    client.create_table(
        TableName="Numbers", KeySchema=[{"AttributeName": "n", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "n", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for number in ("10", "9", "-1.5", "100", "0.25"):
        client.put_item(TableName="Numbers", Item={"n": {"N": number}})
    call(client.scan, TableName="Numbers")
    call(client.query, TableName="Numbers", KeyConditionExpression="n = :n",
         ExpressionAttributeValues={":n": {"N": "9.0"}})
    return out


def _run(fast: bool) -> list[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        if not fast:
            return _script(client)
        with fast_moto() as installed:
            assert installed
            before = fastmoto.SHORT_PATH_RESPONSES
            direct = fastmoto.DIRECT_REQUESTS
            out = _script(client)
            assert fastmoto.SHORT_PATH_RESPONSES - before >= 14  # most took the short path
            # every item request but the one with a binary value went to moto's handler
            assert fastmoto.DIRECT_REQUESTS - direct == 40 + 5 - 1
            return out


def test_the_short_path_answers_exactly_like_motos_serializer() -> None:
    slow, fast = _run(fast=False), _run(fast=True)
    assert len(fast) == len(slow) == 40
    for index, (expected, actual) in enumerate(zip(slow, fast, strict=True)):
        assert actual == expected, f"call {index}"
    assert fast[-12]["error"] == "ConditionalCheckFailedException"
    assert fast[-11]["error"] == "ValidationException"
    # the repeated expressions, bound to their own values each time
    assert [fast[i]["Attributes"]["n"]["N"] for i in (-10, -8)] == ["4.50", "7.50"]
    assert fast[-9]["error"] == fast[-7]["error"] == "ConditionalCheckFailedException"
    assert fast[-6]["Attributes"]["sk"]["S"] == "s8"
    assert fast[-5] == {} and fast[-4]["error"] == "ValidationException"  # item size
    assert [item["n"]["N"] for item in fast[-2]["Items"]] == ["-1.5", "0.25", "9", "10", "100"]
    assert fast[-1]["Items"] == [{"n": {"N": "9"}}]
    # the table queries read partition "p" only, in range-key order, paged and filtered
    assert [i["sk"]["S"] for i in fast[15]["Items"]] == ["s0", "s1"]
    assert [i["sk"]["S"] for i in fast[16]["Items"]] == ["s0"]
    assert [i["sk"]["S"] for i in fast[17]["Items"]] == ["s2", "s3", "s4"]
    assert fast[18]["Items"] == []


def test_sqs_answers_the_same() -> None:
    def script() -> list[Any]:
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="one")
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        attributes["Attributes"].pop("CreatedTimestamp")
        attributes["Attributes"].pop("LastModifiedTimestamp")
        return [attributes["Attributes"], [m["Body"] for m in received]]

    with mock_aws():
        slow = script()
    with mock_aws(), fast_moto():
        fast = script()
    assert fast == slow
    assert fast[0]["VisibilityTimeout"] == "5" and fast[1] == ["one"]


VOLATILE = {"MessageId", "ReceiptHandle", "SentTimestamp", "ApproximateFirstReceiveTimestamp",
            "CreatedTimestamp", "LastModifiedTimestamp", "ResponseMetadata", "SequenceNumber"}


def _stable(value: Any) -> Any:
    """A response without its ids, receipt handles and timestamps."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _sqs_script() -> list[Any]:
    """SQS message operations of every kind the direct path takes, errors included."""
    out: list[Any] = []
    sqs = boto3.client("sqs", region_name="eu-west-1")

    def call(operation: Callable[..., Any], **params: Any) -> Any:
        try:
            response = operation(**params)
        except sqs.exceptions.ClientError as error:
            response = {"error": error.response["Error"]["Code"]}
        out.append(_stable(response))
        return response

    url = sqs.create_queue(QueueName="plain")["QueueUrl"]
    fifo = sqs.create_queue(QueueName="q.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    call(sqs.get_queue_url, QueueName="plain")
    call(sqs.get_queue_url, QueueName="missing")
    call(sqs.send_message, QueueUrl=url, MessageBody="one", DelaySeconds=0,
         MessageAttributes={"kind": {"DataType": "String", "StringValue": "a"}})
    call(sqs.send_message, QueueUrl=url, MessageBody="bin", MessageAttributes={
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
    call(sqs.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "two"}, {"Id": "b", "MessageBody": "three"}])
    call(sqs.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}])
    call(sqs.send_message_batch, QueueUrl=fifo, Entries=[
        {"Id": str(i), "MessageBody": f"f{i}", "MessageGroupId": "seller-1"} for i in range(3)])
    call(sqs.send_message, QueueUrl=fifo, MessageBody="f0", MessageGroupId="seller-1")
    received = call(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=10,
                    MessageAttributeNames=["All"], AttributeNames=["All"])
    handles = [m["ReceiptHandle"] for m in received.get("Messages", [])]
    call(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=handles[0],
         VisibilityTimeout=0)
    call(sqs.change_message_visibility_batch, QueueUrl=url, Entries=[
        {"Id": "h1", "ReceiptHandle": handles[1], "VisibilityTimeout": 30}])
    call(sqs.delete_message, QueueUrl=url, ReceiptHandle=handles[1])
    call(sqs.delete_message_batch, QueueUrl=url, Entries=[
        {"Id": "ok", "ReceiptHandle": handles[2]}, {"Id": "bad", "ReceiptHandle": "nonsense"}])
    call(sqs.receive_message, QueueUrl=fifo, MaxNumberOfMessages=10,
         AttributeNames=["MessageGroupId"])
    call(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    call(sqs.receive_message, QueueUrl=url.replace("plain", "missing"))
    return out


def test_sqs_message_operations_answer_the_same() -> None:
    with mock_aws():
        slow = _sqs_script()
    with mock_aws(), fast_moto():
        direct = fastmoto.DIRECT_REQUESTS
        fast = _sqs_script()
        assert fastmoto.DIRECT_REQUESTS - direct == len(fast) - 1  # all but the binary one
    assert len(fast) == len(slow) == 16
    for index, (expected, actual) in enumerate(zip(slow, fast, strict=True)):
        assert actual == expected, f"call {index}"
    assert fast[1]["error"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert fast[5]["error"] == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    assert [m["Body"] for m in fast[8]["Messages"]] == ["one", "bin", "two", "three"]
    assert fast[8]["Messages"][0]["MessageAttributes"]["kind"]["StringValue"] == "a"
    assert [f["Code"] for f in fast[12]["Failed"]] == ["ReceiptHandleIsInvalid"]
    assert [m["Body"] for m in fast[13]["Messages"]] == ["f0", "f1", "f2"]  # deduplicated
    assert fast[-1]["error"] == "AWS.SimpleQueueService.NonExistentQueue"


@pytest.mark.parametrize("fast", [False, True])
def test_sqs_drops_messages_past_their_retention_period(
    fast: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import moto.sqs.models

    with mock_aws(), fast_moto() if fast else contextlib.nullcontext():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(
            QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="old")
        now = moto.sqs.models.unix_time()
        monkeypatch.setattr(moto.sqs.models, "unix_time", lambda: now + 59)
        kept = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages", [])
        monkeypatch.setattr(moto.sqs.models, "unix_time", lambda: now + 61)
        gone = sqs.receive_message(QueueUrl=url).get("Messages", [])
    assert [m["Body"] for m in kept] == ["old"]
    assert gone == []


def test_it_is_removed_when_the_last_user_leaves() -> None:
    import moto.core.responses
    import moto.sqs.models
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    def current() -> list[Any]:
        from botocore.signers import RequestSigner
        from moto.core.botocore_stubber import BotocoreStubber
        from moto.core.responses import BaseResponse
        from moto.dynamodb.comparisons import ConditionExpressionParser
        from moto.dynamodb.models.dynamo_type import Item
        from moto.dynamodb.parsing.expressions import UpdateExpressionParser

        return [vars(BaseResponse)["_enrich_response"], vars(UpdateExpressionParser)["make"],
                ConditionExpressionParser._lex_condition_expression,
                DynamoHandler.serialized, Table.all_items, Table.query, Item.__init__,
                Item.size,
                BotocoreStubber.process_request, RequestSigner.sign,
                moto.sqs.models.SQSBackend.is_message_valid_based_on_retention_period,
                moto.core.responses.camelcase_to_underscores,
                moto.core.responses.method_names_from_class,
                moto.sqs.models.camelcase_to_underscores]

    before = current()
    with fast_moto():
        with fast_moto():
            inside = current()
        assert current() == inside
    assert all(a is not b for a, b in zip(inside, before, strict=True))
    assert current() == before


@pytest.mark.parametrize("operation", ["CreateTable", "DescribeTable", "ListTables"])
def test_table_operations_keep_motos_serializer(operation: str) -> None:
    from infra.local.fastmoto import ITEM_ACTIONS

    assert operation not in ITEM_ACTIONS


@pytest.mark.parametrize("fast", [False, True])
def test_requests_keep_the_account_of_their_access_key(fast: bool) -> None:
    """Unsigned DynamoDB requests and moto's direct handler still act in the account
    moto derives from the caller's access key (here: a role in another account)."""
    with mock_aws(), fast_moto() if fast else contextlib.nullcontext():
        creds = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn="arn:aws:iam::111111111111:role/other", RoleSessionName="session",
        )["Credentials"]
        other = boto3.client(
            "dynamodb", region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"])
        mine = boto3.client("dynamodb", region_name="us-east-1")
        unsigned, direct = fastmoto.UNSIGNED_REQUESTS, fastmoto.DIRECT_REQUESTS
        other.create_table(
            TableName="T", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST")
        other.put_item(TableName="T", Item={"pk": {"S": "a"}})
        assert other.scan(TableName="T")["Count"] == 1
        assert mine.list_tables()["TableNames"] == []
        with pytest.raises(mine.exceptions.ResourceNotFoundException):
            mine.get_item(TableName="T", Key={"pk": {"S": "a"}})
        if fast:
            assert fastmoto.UNSIGNED_REQUESTS - unsigned == 5
            assert fastmoto.DIRECT_REQUESTS - direct == 3


def test_item_sizes_are_motos() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    attrs = {
        "pk": {"S": "p"}, "ü-text": {"S": "größe €"}, "empty": {"S": ""},
        "n": {"N": "-12.500"}, "t": {"BOOL": True}, "f": {"BOOL": False}, "z": {"NULL": True},
        "b": {"B": b"\x00\x01\x02"}, "ss": {"SS": ["a", "bé"]}, "ns": {"NS": ["1", "2.5"]},
        "l": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"k": {"S": "v"}}}]},
        "m": {"M": {"inner": {"S": "ñ"}, "deep": {"L": [{"BOOL": False}]}}},
    }
    slow = [Item(DynamoType(attrs["pk"]), None, {k: v}).size() for k, v in attrs.items()]
    slow_all = Item(DynamoType(attrs["pk"]), None, attrs).size()
    with fast_moto():
        fast = [Item(DynamoType(attrs["pk"]), None, {k: v}).size() for k, v in attrs.items()]
        fast_all = Item(DynamoType(attrs["pk"]), None, attrs).size()
    assert fast == slow and fast_all == slow_all == sum(slow)
    assert slow[1] == len("ü-text".encode()) + len("größe €".encode())


def test_requests_to_an_endpoint_of_ones_own_stay_signed() -> None:
    from botocore.awsrequest import AWSRequest
    from botocore.signers import RequestSigner

    with mock_aws(), fast_moto():
        client = boto3.client("dynamodb", region_name="us-east-1",
                              endpoint_url="http://127.0.0.1:8000")
        signer: RequestSigner = client._request_signer
        own = AWSRequest(method="POST", url="http://127.0.0.1:8000/", data=b"{}")
        signer.sign("GetItem", own)
        aws = AWSRequest(method="POST", url="https://dynamodb.us-east-1.amazonaws.com/",
                         data=b"{}")
        signer.sign("GetItem", aws)
    assert own.headers["Authorization"].startswith("AWS4-HMAC-SHA256")
    assert "Authorization" not in aws.headers and aws.headers["x-moto-account-id"]


def test_an_untested_moto_gets_no_replacements_and_a_warning(monkeypatch) -> None:
    assert fastmoto.supported("5.2.5") and not fastmoto.supported("5.2.6")
    monkeypatch.setattr(fastmoto, "TESTED_MOTO", frozenset({"0.0.0"}))
    with pytest.warns(RuntimeWarning, match="moto's own paths"), fast_moto() as installed:
        assert not installed
