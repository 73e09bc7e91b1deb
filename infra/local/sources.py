"""Lambda event sources, emulated: SQS and DynamoDB-stream pollers, and shadow-queue routes.

Each poller does one unit of work per :meth:`poll` call and says how much it did, so the
demo can drive them deterministically (:meth:`EventSources.drain`) and ``sellerops local``
can loop them in a background thread (:meth:`EventSources.run`). The events handed to
functions have Lambda's shapes:

* SQS: ``{"Records": [{"messageId", "receiptHandle", "body", "attributes",
  "messageAttributes", "md5OfBody", "eventSource": "aws:sqs", "eventSourceARN",
  "awsRegion"}]}``. With ``ReportBatchItemFailures`` only the messages not listed in
  ``batchItemFailures`` are deleted; a raised exception (or an invalid response) fails the
  whole batch. Failed messages are made visible again (immediately by default — see
  ``retry_delay``); moto itself moves a message to the queue's DLQ on the receive after
  ``maxReceiveCount`` (the redrive policy), exactly when SQS would.
* DynamoDB streams: ``{"Records": [{"eventID", "eventName", "eventVersion",
  "eventSource": "aws:dynamodb", "awsRegion", "dynamodb": {...}, "eventSourceARN"}]}``,
  records in shard order from a per-shard checkpoint. On failure the batch is retried
  from the checkpoint (with ``ReportBatchItemFailures``: from the first failed
  ``SequenceNumber``), split in halves when ``BisectBatchOnFunctionError`` is on, and after
  ``MaximumRetryAttempts`` a Lambda failure record goes to the ``OnFailure`` destination
  (SQS or SNS) and the batch is skipped.
* SNS → Lambda and EventBridge → Lambda/SNS: moto cannot deliver these, so provisioning
  points them at shadow SQS queues; :class:`ShadowRoutePoller` turns each message into the
  SNS event (``Records[].Sns``) or the EventBridge event the target would receive and
  invokes asynchronously (3 attempts, like Lambda's async retries).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infra.local.dispatch import Dispatcher, Invocation
from infra.local.provision import EventSourceMappingSpec, ShadowRoute, Stack, arn_service

logger = logging.getLogger(__name__)

ASYNC_ATTEMPTS = 3  # one call + Lambda's two retries of an asynchronous invocation
SHARD_REFRESH_SECONDS = 5.0  # how often a stream poller looks for new shards


@dataclass
class PollResult:
    """What one poll did. ``work`` is zero when there was nothing to do."""

    source: str
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    filtered: int = 0
    discarded: int = 0  # records given up on (stream on-failure, async attempts exhausted)
    invocations: list[Invocation] = field(default_factory=list)

    @property
    def work(self) -> int:
        return self.received


def _matches_filters(patterns: Iterable[str], record: dict[str, Any]) -> bool:
    patterns = list(patterns)
    if not patterns:
        return True
    from moto.events.models import EventPattern

    return any(EventPattern.load(pattern).matches_event(record) for pattern in patterns)


def _iso_millis(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


# ---------------------------------------------------------------------------------------
# SQS
# ---------------------------------------------------------------------------------------


def sqs_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """A received SQS message as one record of Lambda's SQS event."""
    attributes = dict(message.get("Attributes") or {})
    message_attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        shaped: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        if "StringValue" in value:
            shaped["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            shaped["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        message_attributes[name] = shaped
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """The record as Lambda's event filtering sees it: a JSON body is matched as an object."""
    view = dict(record)
    with contextlib.suppress(ValueError, TypeError):
        view["body"] = json.loads(record["body"])
    return view


def failed_item_ids(result: Any, valid: set[str]) -> set[str] | None:
    """The ``itemIdentifier``s of a ``batchItemFailures`` response; ``None`` if invalid.

    Lambda treats a missing/empty list as full success, and an identifier that is empty
    or not in the batch as a failure of the whole batch.
    """
    if result is None or not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in valid:
            return None
        ids.add(identifier)
    return ids


class SqsPoller:
    """Feeds one SQS queue to its function, as an SQS event source mapping does.

    ``retry_delay`` is the visibility timeout (seconds) given back to failed messages:
    0 (default) retries on the next poll, ``None`` leaves them invisible for the queue's
    own visibility timeout, as Lambda does.
    """

    def __init__(
        self,
        stack: Stack,
        dispatcher: Dispatcher,
        mapping: EventSourceMappingSpec,
        *,
        retry_delay: int | None = 0,
    ) -> None:
        self.stack = stack
        self.dispatcher = dispatcher
        self.mapping = mapping
        self.retry_delay = retry_delay
        self.queue_arn = mapping.source_arn
        self.queue_url = stack.queue_url_for_arn(mapping.source_arn)
        self.sqs = stack.aws("sqs")

    @property
    def name(self) -> str:
        return self.mapping.logical_id

    def _receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < self.mapping.batch_size:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.mapping.batch_size - len(messages)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not batch:
                break
            messages.extend(batch)
        return messages

    def poll(self) -> PollResult:
        result = PollResult(self.name)
        if not self.mapping.enabled or not may_have_messages(self.stack, self.queue_url):
            return result
        messages = self._receive()
        result.received = len(messages)
        if not messages:
            return result
        records = [
            sqs_record(m, queue_arn=self.queue_arn, region=self.stack.region) for m in messages
        ]
        selected = [r for r in records if _matches_filters(self.mapping.filters, _filter_view(r))]
        result.filtered = len(records) - len(selected)
        failed: set[str] = set()
        if selected:
            invocation = self.dispatcher.try_invoke(self.mapping.function, {"Records": selected})
            result.invocations.append(invocation)
            all_ids = {r["messageId"] for r in selected}
            if not invocation.ok:
                failed = all_ids
            elif self.mapping.report_batch_item_failures:
                reported = failed_item_ids(invocation.result, all_ids)
                failed = all_ids if reported is None else reported
        # Filtered-out messages are deleted too: Lambda drops what does not match.
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)
                ],
            )
        if self.retry_delay is not None:
            for record in records:
                if record["messageId"] in failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.queue_url,
                        ReceiptHandle=record["receiptHandle"],
                        VisibilityTimeout=self.retry_delay,
                    )
        result.failed = len(failed)
        result.succeeded = len(selected) - len(failed)
        return result


def may_have_messages(stack: Stack, queue_url: str) -> bool:
    """False only when the queue certainly has nothing to receive now.

    In-process, moto's backend is asked directly (no API round trip: an empty
    ``ReceiveMessage`` through botocore and moto costs milliseconds, and the pollers ask
    every queue on every drain round). Against moto's server, or on any surprise, True.
    """
    if not stack.aws.in_process:
        return True
    try:
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[stack.account_id][stack.region].queues[queue_url.rsplit("/", 1)[1]]
        return any(m.visible and not m.delayed for m in queue._messages)
    except Exception:  # moto internals moved: fall back to asking through the API
        return True


# ---------------------------------------------------------------------------------------
# DynamoDB streams
# ---------------------------------------------------------------------------------------


def stream_record(record: dict[str, Any], *, stream_arn: str) -> dict[str, Any]:
    """A ``GetRecords`` record as one record of Lambda's DynamoDB stream event."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion"),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


@dataclass
class _ShardState:
    after: str | None  # last sequence number checkpointed (None: start of the shard)
    attempts: int = 0  # failed attempts of the batch at the checkpoint
    window: int | None = None  # batch size while bisecting
    iterator: str | None = None  # continues right after ``after`` (saves a call per poll)


class StreamPoller:
    """Feeds a DynamoDB stream to its function, as a stream event source mapping does."""

    def __init__(
        self, stack: Stack, dispatcher: Dispatcher, mapping: EventSourceMappingSpec
    ) -> None:
        self.stack = stack
        self.dispatcher = dispatcher
        self.mapping = mapping
        self.streams = stack.aws("dynamodbstreams")
        self._shards: dict[str, _ShardState] = {}
        self._shard_list: list[str] = []
        self._shards_listed_at = float("-inf")
        if mapping.starting_position == "LATEST":
            # Records written before the mapping existed are never delivered.
            for shard_id in self._shard_ids():
                self._shards[shard_id] = _ShardState(after=self._last_sequence(shard_id))

    @property
    def name(self) -> str:
        return self.mapping.logical_id

    def _shard_ids(self) -> list[str]:
        now = time.monotonic()
        if now - self._shards_listed_at > SHARD_REFRESH_SECONDS:
            description = self.streams.describe_stream(StreamArn=self.mapping.source_arn)
            self._shard_list = [s["ShardId"] for s in description["StreamDescription"]["Shards"]]
            self._shards_listed_at = now
        return self._shard_list

    def _iterator(self, shard_id: str, after: str | None) -> str:
        args: dict[str, Any] = {"StreamArn": self.mapping.source_arn, "ShardId": shard_id}
        if after is None:
            args["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            args["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
            args["SequenceNumber"] = after
        return self.streams.get_shard_iterator(**args)["ShardIterator"]

    def _read(self, shard_id: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        response = self.streams.get_records(
            ShardIterator=self._iterator(shard_id, after), Limit=limit
        )
        return response.get("Records", [])

    def _read_next(
        self, shard_id: str, state: _ShardState, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Records after the checkpoint, and the iterator that follows them.

        Reuses the iterator the last read returned when the checkpoint moved to its end;
        the caller keeps the new one only if the checkpoint moves to the end of this read.
        """
        iterator = state.iterator or self._iterator(shard_id, state.after)
        state.iterator = None
        response = self.streams.get_records(ShardIterator=iterator, Limit=limit)
        records = response.get("Records", [])
        following = response.get("NextShardIterator")
        if not records:
            state.iterator = following
        return records, following

    def _last_sequence(self, shard_id: str) -> str | None:
        last, after = None, None
        while True:
            records = self._read(shard_id, after, 1000)
            if not records:
                return last
            last = after = records[-1]["dynamodb"]["SequenceNumber"]

    def poll(self) -> PollResult:
        result = PollResult(self.name)
        if not self.mapping.enabled:
            return result
        for shard_id in self._shard_ids():
            state = self._shards.setdefault(shard_id, _ShardState(after=None))
            self._poll_shard(shard_id, state, result)
        return result

    def _poll_shard(self, shard_id: str, state: _ShardState, result: PollResult) -> None:
        mapping = self.mapping
        raw, following = self._read_next(shard_id, state, state.window or mapping.batch_size)
        if not raw:
            return
        result.received += len(raw)
        records = [stream_record(r, stream_arn=mapping.source_arn) for r in raw]
        selected = [r for r in records if _matches_filters(mapping.filters, r)]
        result.filtered += len(records) - len(selected)
        if not selected:
            state.after, state.attempts, state.window = self._seq(records[-1]), 0, None
            state.iterator = following
            return
        invocation = self.dispatcher.try_invoke(mapping.function, {"Records": selected})
        result.invocations.append(invocation)
        sequences = [self._seq(r) for r in selected]
        failed_from: str | None = None  # first failed sequence number, if any
        whole_batch = not invocation.ok
        if invocation.ok and mapping.report_batch_item_failures:
            reported = failed_item_ids(invocation.result, set(sequences))
            if reported is None:
                whole_batch = True
            elif reported:
                failed_from = min(reported, key=sequences.index)
        if not whole_batch and failed_from is None:
            result.succeeded += len(selected)
            state.after, state.attempts, state.window = self._seq(records[-1]), 0, None
            state.iterator = following
            return
        if whole_batch:
            failed_from = sequences[0]
        assert failed_from is not None
        # Checkpoint just before the first failed record: everything before it is done.
        first_failed = next(i for i, r in enumerate(records) if self._seq(r) == failed_from)
        result.succeeded += sequences.index(failed_from)  # selected records before it
        result.failed += len(records) - first_failed
        if first_failed > 0:
            state.after, state.attempts, state.window = (
                self._seq(records[first_failed - 1]),
                0,
                None,
            )
        if whole_batch and mapping.bisect_on_error and len(records) > 1:
            state.window = max(1, len(records) // 2)  # splitting is not a retry
            return
        state.attempts += 1
        retries_left = mapping.maximum_retry_attempts < 0 or (
            state.attempts <= mapping.maximum_retry_attempts
        )
        if retries_left:
            return
        failed_batch = records[first_failed:]
        self._send_failure(shard_id, failed_batch, invocation, state.attempts)
        result.discarded += len(failed_batch)
        state.after, state.attempts, state.window = self._seq(failed_batch[-1]), 0, None

    @staticmethod
    def _seq(record: dict[str, Any]) -> str:
        return record["dynamodb"]["SequenceNumber"]

    def _send_failure(
        self,
        shard_id: str,
        records: list[dict[str, Any]],
        invocation: Invocation,
        attempts: int,
    ) -> None:
        destination = self.mapping.on_failure_arn
        if not destination:
            logger.warning("%s: dropped %d stream records", self.name, len(records))
            return
        spec = self.stack.function(self.mapping.function)

        def arrival(record: dict[str, Any]) -> str:
            stamp = record["dynamodb"].get("ApproximateCreationDateTime") or 0
            return _iso_millis(datetime.fromtimestamp(stamp, UTC))

        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if invocation.error is not None:
            response_context["functionError"] = "Unhandled"
        failure = {
            "requestContext": {
                "requestId": invocation.request_id,
                "functionArn": spec.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": _iso_millis(datetime.now(UTC)),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": self._seq(records[0]),
                "endSequenceNumber": self._seq(records[-1]),
                "approximateArrivalOfFirstRecord": arrival(records[0]),
                "approximateArrivalOfLastRecord": arrival(records[-1]),
                "batchSize": len(records),
                "streamArn": self.mapping.source_arn,
            },
        }
        deliver(self.stack, destination, failure)


def deliver(stack: Stack, destination_arn: str, payload: Any) -> None:
    """Send a JSON payload to an SQS queue or SNS topic (failure/async destinations)."""
    body = json.dumps(payload)
    service = arn_service(destination_arn)
    if service == "sqs":
        args: dict[str, Any] = {
            "QueueUrl": stack.queue_url_for_arn(destination_arn),
            "MessageBody": body,
        }
        if destination_arn.endswith(".fifo"):
            args["MessageGroupId"] = "lambda-failures"
            args["MessageDeduplicationId"] = uuid.uuid4().hex
        stack.aws("sqs").send_message(**args)
    elif service == "sns":
        stack.aws("sns").publish(TopicArn=destination_arn, Message=body)
    else:
        logger.warning("no local delivery to %s; payload dropped", destination_arn)


# ---------------------------------------------------------------------------------------
# Shadow routes: SNS → Lambda, EventBridge → Lambda/SNS
# ---------------------------------------------------------------------------------------


def sns_event(envelope: dict[str, Any], *, subscription_arn: str) -> dict[str, Any]:
    """SNS's HTTP/SQS envelope as the event Lambda receives from an SNS subscription."""
    attributes = {
        name: {"Type": value.get("Type"), "Value": value.get("Value")}
        for name, value in (envelope.get("MessageAttributes") or {}).items()
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": envelope.get("Type", "Notification"),
                    "MessageId": envelope.get("MessageId"),
                    "TopicArn": envelope.get("TopicArn"),
                    "Subject": envelope.get("Subject"),
                    "Message": envelope.get("Message"),
                    "Timestamp": envelope.get("Timestamp"),
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Signature": envelope.get("Signature", "EXAMPLE"),
                    "SigningCertUrl": envelope.get("SigningCertURL", ""),
                    "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
                    "MessageAttributes": attributes,
                },
            }
        ]
    }


def _json_path(path: str, event: Any) -> Any:
    from jsonpath_ng.ext import parse

    matches = parse(path).find(event)
    return matches[0].value if matches else None


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What an EventBridge target receives: the event, or its Input/InputPath/transform.

    In an ``InputTransformer`` template a string value is inserted as it is (the template
    supplies any quotes) and anything else as JSON, as EventBridge does.
    """
    if "Input" in target:
        text = target["Input"]
        try:
            return json.loads(text)
        except (TypeError, ValueError):
            return text
    if target.get("InputPath"):
        return _json_path(target["InputPath"], event)
    transformer = target.get("InputTransformer")
    if not transformer:
        return event
    values: dict[str, Any] = {
        name: _json_path(path, event)
        for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    values["aws.events.event.json"] = event
    values["aws.events.event"] = event
    text = transformer.get("InputTemplate", "")
    for name, value in values.items():
        inserted = value if isinstance(value, str) else json.dumps(value)
        text = text.replace(f"<{name}>", inserted)
    try:
        return json.loads(text)
    except ValueError:
        return text


class ShadowRoutePoller:
    """Delivers what moto routed into a shadow queue to the real target."""

    def __init__(
        self, stack: Stack, dispatcher: Dispatcher, route: ShadowRoute, *, attempts: int = 3
    ) -> None:
        self.stack = stack
        self.dispatcher = dispatcher
        self.route = route
        self.attempts = attempts
        self.sqs = stack.aws("sqs")

    @property
    def name(self) -> str:
        return f"{self.route.logical_id}:shadow"

    def poll(self) -> PollResult:
        result = PollResult(self.name)
        if not may_have_messages(self.stack, self.route.queue_url):
            return result
        messages = self.sqs.receive_message(
            QueueUrl=self.route.queue_url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        result.received = len(messages)
        for message in messages:
            ok = self._deliver(json.loads(message["Body"]), result)
            receives = int(message["Attributes"].get("ApproximateReceiveCount", "1"))
            if ok or receives >= self.attempts:
                if not ok:
                    result.discarded += 1
                    logger.warning("%s: gave up after %d attempts", self.name, receives)
                self.sqs.delete_message(
                    QueueUrl=self.route.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
            else:
                self.sqs.change_message_visibility(
                    QueueUrl=self.route.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
        return result

    def _deliver(self, body: dict[str, Any], result: PollResult) -> bool:
        route = self.route
        if route.kind == "sns":
            payload: Any = sns_event(body, subscription_arn=route.subscription_arn or "")
        else:
            body.setdefault("account", self.stack.account_id)
            payload = target_input(route.target, body)
        service = arn_service(route.target_arn)
        if service == "lambda":
            invocation = self.dispatcher.try_invoke(route.target_arn, payload)
            result.invocations.append(invocation)
            if invocation.ok:
                result.succeeded += 1
            else:
                result.failed += 1
            return invocation.ok
        try:
            deliver(self.stack, route.target_arn, payload)
        except Exception:
            logger.exception("%s: delivery to %s failed", self.name, route.target_arn)
            result.failed += 1
            return False
        result.succeeded += 1
        return True


# ---------------------------------------------------------------------------------------
# All of them
# ---------------------------------------------------------------------------------------


class EventSources:
    """Every poller of a stack: one per SQS/stream mapping and one per shadow route."""

    def __init__(
        self, stack: Stack, dispatcher: Dispatcher, *, sqs_retry_delay: int | None = 0
    ) -> None:
        self.stack = stack
        self.pollers: list[SqsPoller | StreamPoller | ShadowRoutePoller] = []
        for mapping in stack.event_source_mappings.values():
            if mapping.source == "sqs":
                self.pollers.append(
                    SqsPoller(stack, dispatcher, mapping, retry_delay=sqs_retry_delay)
                )
            elif mapping.source == "dynamodb":
                self.pollers.append(StreamPoller(stack, dispatcher, mapping))
            else:
                logger.warning("%s: no local poller for %s", mapping.logical_id, mapping.source)
        for route in stack.shadow_routes:
            self.pollers.append(ShadowRoutePoller(stack, dispatcher, route))

    def poller(self, name: str) -> SqsPoller | StreamPoller | ShadowRoutePoller:
        """The poller of an event source mapping (or shadow route) logical id."""
        for poller in self.pollers:
            if name in (poller.name, poller.name.split(":", 1)[0]):
                return poller
        raise KeyError(f"no poller {name!r}")

    def poll_once(self) -> list[PollResult]:
        """One poll of every poller; the results that did any work."""
        results = []
        for poller in self.pollers:
            try:
                result = poller.poll()
            except Exception:
                logger.exception("%s: poll failed", poller.name)
                continue
            if result.work:
                results.append(result)
        return results

    def drain(self, max_rounds: int = 100) -> list[PollResult]:
        """Poll until nothing is left to do (or ``max_rounds``); everything that happened."""
        everything: list[PollResult] = []
        for _ in range(max_rounds):
            results = self.poll_once()
            if not results:
                break
            everything.extend(results)
        return everything

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Poll until ``stop`` is set, sleeping ``interval`` seconds when idle."""
        while not stop.is_set():
            if not self.poll_once():
                stop.wait(interval)
