"""Deliveries moto cannot make (SNS → Lambda, EventBridge → Lambda) reach the function."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from infra.local.runtime import LocalStack
from infra.local.sources import target_input
from tests.integration.local.support import calls, fixture_stack, receive_all, reset


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalStack]:
    with fixture_stack() as local:
        yield local


@pytest.fixture
def local(shared: LocalStack) -> LocalStack:
    return reset(shared)


def _publish(local: LocalStack, message: str, **attributes: str) -> None:
    local.stack.aws("sns").publish(
        TopicArn=local.stack.topic_arn("AlertsTopic"),
        Message=message,
        Subject="alert",
        MessageAttributes={
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        },
    )


def test_sns_lambda_subscription_gets_the_sns_event_through_its_filter(local: LocalStack) -> None:
    _publish(local, "for the function", priority="high", language="en")
    _publish(local, "filtered out", priority="low", language="en")
    local.drain()
    (call,) = calls("record_event")
    (record,) = call["event"]["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == local.stack.physical_id("TopicFunctionAlerts")
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["TopicArn"] == local.stack.topic_arn("AlertsTopic")
    assert (sns["Message"], sns["Subject"]) == ("for the function", "alert")
    assert sns["MessageAttributes"]["priority"] == {"Type": "String", "Value": "high"}
    assert {"MessageId", "Timestamp", "Signature", "SigningCertUrl", "UnsubscribeUrl"} <= set(sns)
    assert call["function_name"] == "sellerops-local-TopicFunction"


def test_sns_sqs_subscription_is_real_in_moto_with_its_filter_policy(local: LocalStack) -> None:
    _publish(local, "hallo", language="de")
    _publish(local, "hello", language="en")
    messages = receive_all(local, "AlertsInboxQueue")
    assert [m["Body"] for m in messages] == ["hallo"]  # RawMessageDelivery: true


def test_eventbridge_rule_delivers_matching_events_to_the_function(local: LocalStack) -> None:
    events = local.stack.aws("events")
    bus = local.stack.event_bus_name("DomainEventBus")
    for detail_type in ("DamageSpike", "SomethingElse", "ClaimDeadlineNear"):
        events.put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": "sellerops.audit",
                    "DetailType": detail_type,
                    "Detail": json.dumps({"seller_id": "A1"}),
                }
            ]
        )
    local.drain()
    received = [c["event"] for c in calls("record_event")]
    assert [e["detail-type"] for e in received] == ["DamageSpike", "ClaimDeadlineNear"]
    event = received[0]
    assert event["source"] == "sellerops.audit"
    assert event["detail"] == {"seller_id": "A1"}
    assert event["account"] == "123456789012"
    assert event["region"] == "us-east-1"
    assert {"id", "time", "version", "resources"} <= set(event)


def test_a_failing_async_target_is_tried_three_times_then_dropped(local: LocalStack) -> None:
    local.dispatcher.environment["RECORD_EVENT_FAILS"] = "1"
    try:
        _publish(local, "x", priority="high")
        results = local.drain()
    finally:
        del local.dispatcher.environment["RECORD_EVENT_FAILS"]
    attempts = [i for r in results for i in r.invocations]
    assert len(attempts) == 3 and not any(i.ok for i in attempts)
    assert sum(r.discarded for r in results) == 1
    assert local.drain() == []


def test_target_input_variants() -> None:
    event = {"detail": {"a": 1}, "detail-type": "X", "source": "s"}
    assert target_input({}, event) is event
    assert target_input({"Input": '{"fixed": true}'}, event) == {"fixed": True}
    assert target_input({"InputPath": "$.detail"}, event) == {"a": 1}
    transformed = target_input(
        {
            "InputTransformer": {
                "InputPathsMap": {"kind": "$.detail-type", "detail": "$.detail"},
                "InputTemplate": '{"kind": "<kind>", "d": <detail>}',
            }
        },
        event,
    )
    assert transformed == {"kind": "X", "d": {"a": 1}}
