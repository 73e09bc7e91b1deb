"""Pytest fixtures of the publisher tests (``pytest_plugins``): moto, the fake SP-API,
one ManualClock, and a :class:`~tests.integration.publishing_harness.Harness`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.core.repositories.tables import create_tables
from functions.core.settings import cached_settings
from functions.core.spapi import SpApiClient, StaticCredentials
from functions.reprice import feed_results, publisher
from infra.simulator.clock import ManualClock
from infra.simulator.spapi_server import FakeSpApiServer
from infra.template import load_transformed
from tests.integration.publishing_harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    EPOCH,
    TABLES,
    TOKENS,
    Harness,
)


@pytest.fixture(scope="module")
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        yield (boto3.client("dynamodb", region_name="us-east-1"),
               boto3.client("sqs", region_name="us-east-1"))


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_transformed()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(0.0, epoch=EPOCH)


@pytest.fixture
def harness(aws, template, clock, monkeypatch) -> Iterator[Harness]:
    dynamodb, sqs = aws
    names = create_tables(dynamodb, template, only=list(TABLES))
    queue_url = sqs.create_queue(
        QueueName="price-updates.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )["QueueUrl"]
    for logical_id, variable in TABLES.items():
        monkeypatch.setenv(variable, names[logical_id])
    for variable in ("CLAIMS_TABLE",):
        monkeypatch.setenv(variable, "unused")
    monkeypatch.setenv("PRICE_UPDATES_QUEUE_URL", queue_url)
    monkeypatch.setenv("REPRICER_KILL_SWITCH", "false")
    monkeypatch.setenv("PUBLISH_FEED_WINDOW_SECONDS", "0")
    cached_settings.cache_clear()
    server = FakeSpApiServer(clock=clock, now=clock.now, polls_to_done=2)
    server.api.register_app(CLIENT_ID, CLIENT_SECRET)
    for seller_id, token in TOKENS.items():
        server.api.register_seller(seller_id, token)
    server.start()
    client = SpApiClient(
        StaticCredentials(CLIENT_ID, CLIENT_SECRET, TOKENS),
        endpoint=server.url, lwa_endpoint=server.url, clock=clock, sleep=clock.sleep,
    )
    publisher.use(client=client)
    feed_results.use(client=client)
    try:
        yield Harness(clock=clock, server=server, client=client, dynamodb=dynamodb, sqs=sqs,
                      queue_url=queue_url)
    finally:
        publisher.use()
        feed_results.use()
        cached_settings.cache_clear()
        server.stop()
        sqs.delete_queue(QueueUrl=queue_url)
        for name in names.values():
            dynamodb.delete_table(TableName=name)


