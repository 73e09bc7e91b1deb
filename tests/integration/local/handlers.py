"""Test doubles for the functions of tests/fixtures/local_template.yaml.

Each handler records what it received in ``CALLS`` (cleared by the tests) and behaves
according to the event, so a test says what should fail by what it sends:

* SQS body ``{"fail": true}``: that message is reported in ``batchItemFailures``;
  ``{"raise": true}``: the handler raises (the whole batch fails).
* Stream record whose NewImage has ``fail = true`` (BOOL): reported as failed;
  ``raise = true``: the handler raises.
"""

from __future__ import annotations

import json
import os
from typing import Any

CALLS: list[dict[str, Any]] = []


def _record(name: str, event: Any, context: Any) -> None:
    CALLS.append(
        {
            "handler": name,
            "event": event,
            "function_name": context.function_name,
            "memory": context.memory_limit_in_mb,
            "arn": context.invoked_function_arn,
            "request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "env": {k: os.environ.get(k) for k in ("WORKER_ONLY", "STAGE", "ACCOUNTS_TABLE")},
        }
    )


def sqs_worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _record("sqs_worker", event, context)
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        if body.get("raise"):
            raise RuntimeError("asked to raise")
        if body.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def stream_worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _record("stream_worker", event, context)
    failures = []
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage") or {}
        if image.get("raise", {}).get("BOOL"):
            raise RuntimeError("asked to raise")
        if image.get("fail", {}).get("BOOL"):
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}


def record_event(event: Any, context: Any) -> None:
    _record("record_event", event, context)
    if os.environ.get("RECORD_EVENT_FAILS"):
        raise RuntimeError("RECORD_EVENT_FAILS is set")


def api_echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answers with what API Gateway passed in, so tests can inspect the proxy event."""
    _record("api_echo", event, context)
    if event["path"] == "/files/boom":
        raise RuntimeError("boom")
    claims = (event["requestContext"].get("authorizer") or {}).get("claims")
    return {
        "statusCode": 201 if event["httpMethod"] == "POST" else 200,
        "headers": {"Content-Type": "application/json", "X-Echo": "yes"},
        "body": json.dumps(
            {
                "resource": event["resource"],
                "path": event["path"],
                "method": event["httpMethod"],
                "pathParameters": event["pathParameters"],
                "query": event["queryStringParameters"],
                "multiQuery": event["multiValueQueryStringParameters"],
                "body": event["body"],
                "isBase64Encoded": event["isBase64Encoded"],
                "claims": claims,
                "stage": event["requestContext"]["stage"],
            }
        ),
    }


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Sleeps ``event["seconds"]`` and reports the remaining time before and after."""
    import time

    before = context.get_remaining_time_in_millis()
    time.sleep(event.get("seconds", 0))
    return {"before": before, "after": context.get_remaining_time_in_millis()}


def environment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The variables named in ``event["names"]`` as the handler sees them."""
    return {name: os.environ.get(name) for name in event["names"]}


def unserialisable(event: dict[str, Any], context: Any) -> Any:
    return {"when": object()}


def mutate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    event["mutated"] = True
    return event


def shout(event: dict[str, Any], context: Any) -> None:
    print(event["text"])
