"""The local stack provisions exactly what the (transformed) template declares, in moto."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from infra.local.provision import CREATED, EMULATED, RECORDED
from infra.local.runtime import LocalStack, in_process
from infra.template import resources_of_type
from tests.integration.local.support import FIXTURE_TEMPLATE, REPO_TEMPLATE

# Types the local stack creates in moto, and the moto listing that must show them.
CREATED_TYPES = (
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Topic",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Logs::LogGroup",
    "AWS::CloudWatch::Alarm",
)
EMULATED_TYPES = (
    "AWS::Lambda::Function",
    "AWS::Lambda::EventSourceMapping",
    "AWS::ApiGateway::RestApi",
)


def _templates() -> list[object]:
    real = pytest.param(
        REPO_TEMPLATE,
        id="template.yaml",
        marks=pytest.mark.skipif(
            not REPO_TEMPLATE.exists(), reason="template.yaml not written yet"
        ),
    )
    return [pytest.param(FIXTURE_TEMPLATE, id="fixture"), real]


@pytest.fixture(params=_templates(), scope="module")
def local(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    with in_process(request.param) as local:
        yield local


def _enabled(local: LocalStack, resource_type: str) -> set[str]:
    declared = resources_of_type(local.stack.template, resource_type)
    return {logical_id for logical_id in declared if logical_id not in local.stack.skipped}


def test_every_declared_resource_is_accounted_for(local: LocalStack) -> None:
    stack = local.stack
    assert stack.missing() == set()
    assert set(stack.resources) == set(stack.declared())
    assert set(stack.resources).isdisjoint(stack.skipped)


@pytest.mark.parametrize("resource_type", CREATED_TYPES + EMULATED_TYPES)
def test_each_provisionable_type_is_created_or_emulated(
    local: LocalStack, resource_type: str
) -> None:
    expected = _enabled(local, resource_type)
    realised = local.stack.of_type(resource_type)
    assert set(realised) == expected
    wanted = CREATED if resource_type in CREATED_TYPES else EMULATED
    assert {r.status for r in realised.values()} <= {wanted}


def test_iam_and_permissions_are_recorded_not_created(local: LocalStack) -> None:
    for resource_type in ("AWS::IAM::Role", "AWS::Lambda::Permission"):
        for resource in local.stack.of_type(resource_type).values():
            assert resource.status == RECORDED
    assert local.stack.aws("iam").list_roles()["Roles"] == []


def test_tables_match_the_template(local: LocalStack) -> None:
    stack = local.stack
    ddb = stack.aws("dynamodb")
    tables = stack.of_type("AWS::DynamoDB::Table")
    assert set(ddb.list_tables()["TableNames"]) == {r.physical_id for r in tables.values()}
    for logical_id, resource in tables.items():
        declared = stack.template["Resources"][logical_id]["Properties"]
        table = ddb.describe_table(TableName=resource.physical_id)["Table"]
        assert table["KeySchema"] == declared["KeySchema"]
        assert {
            i["IndexName"]: i["KeySchema"] for i in table.get("GlobalSecondaryIndexes", [])
        } == {i["IndexName"]: i["KeySchema"] for i in declared.get("GlobalSecondaryIndexes", [])}
        stream = declared.get("StreamSpecification")
        if stream:
            assert table["StreamSpecification"]["StreamViewType"] == stream["StreamViewType"]
            assert resource.attributes["StreamArn"] == table["LatestStreamArn"]
        else:
            assert "LatestStreamArn" not in table
        if declared.get("SSESpecification", {}).get("SSEEnabled"):
            assert table["SSEDescription"]["Status"] == "ENABLED"
        ttl = ddb.describe_time_to_live(TableName=resource.physical_id)["TimeToLiveDescription"]
        if "TimeToLiveSpecification" in declared:
            assert ttl["AttributeName"] == declared["TimeToLiveSpecification"]["AttributeName"]
            assert ttl["TimeToLiveStatus"] == "ENABLED"
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_queues_match_the_template_with_redrive_resolved(local: LocalStack) -> None:
    stack = local.stack
    sqs = stack.aws("sqs")
    queues = stack.of_type("AWS::SQS::Queue")
    listed = set(sqs.list_queues().get("QueueUrls", [])) - stack.internal_queue_urls()
    assert listed == {r.physical_id for r in queues.values()}
    for logical_id, resource in queues.items():
        declared = stack.template["Resources"][logical_id].get("Properties", {})
        attributes = sqs.get_queue_attributes(
            QueueUrl=resource.physical_id, AttributeNames=["All"]
        )["Attributes"]
        assert resource.physical_id.endswith(
            f"{stack.name}-{logical_id}" + (".fifo" if declared.get("FifoQueue") else "")
        )
        if declared.get("FifoQueue"):
            assert attributes["FifoQueue"] == "true"
        if "VisibilityTimeout" in declared:
            assert attributes["VisibilityTimeout"] == str(declared["VisibilityTimeout"])
        if "RedrivePolicy" in declared:
            redrive = json.loads(attributes["RedrivePolicy"])
            dlq_logical_id = declared["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert redrive["deadLetterTargetArn"] == stack.queue_arn(dlq_logical_id)
            assert int(redrive["maxReceiveCount"]) == declared["RedrivePolicy"]["maxReceiveCount"]
    for policy in stack.of_type("AWS::SQS::QueuePolicy").values():
        for url in policy.properties["Queues"]:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
            assert (
                json.loads(attributes["Attributes"]["Policy"])
                == policy.properties["PolicyDocument"]
            )


def test_topics_bus_pool_and_alarms_exist_in_moto(local: LocalStack) -> None:
    stack = local.stack
    topics = {t["TopicArn"] for t in stack.aws("sns").list_topics()["Topics"]}
    assert topics == {r.physical_id for r in stack.of_type("AWS::SNS::Topic").values()}
    buses = {b["Name"] for b in stack.aws("events").list_event_buses()["EventBuses"]}
    assert buses == {"default"} | {
        r.physical_id for r in stack.of_type("AWS::Events::EventBus").values()
    }
    cognito = stack.aws("cognito-idp")
    pools = {p["Id"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"]}
    assert pools == {r.physical_id for r in stack.of_type("AWS::Cognito::UserPool").values()}
    pool_id = stack.user_pool_id()
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
    assert {c["ClientId"] for c in clients["UserPoolClients"]} == {stack.user_pool_client_id()}
    groups = {g["GroupName"] for g in cognito.list_groups(UserPoolId=pool_id)["Groups"]}
    assert "staff" in groups
    alarms = {a["AlarmName"] for a in stack.aws("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert alarms == {r.physical_id for r in stack.of_type("AWS::CloudWatch::Alarm").values()}
    groups = {g["logGroupName"] for g in stack.aws("logs").describe_log_groups()["logGroups"]}
    assert groups == {r.physical_id for r in stack.of_type("AWS::Logs::LogGroup").values()}


def test_functions_get_resolved_environment_and_settings(local: LocalStack) -> None:
    stack = local.stack
    for logical_id, spec in stack.functions.items():
        declared = stack.template["Resources"][logical_id]["Properties"]
        assert spec.handler == declared["Handler"]
        assert spec.timeout == declared.get("Timeout", 3)
        assert spec.memory_mb == declared.get("MemorySize", 128)
        assert spec.name == f"{stack.name}-{logical_id}"
        for name, value in spec.environment.items():
            assert isinstance(value, str), name
            assert "Ref" not in value and "Fn::" not in value, name
        if "ACCOUNTS_TABLE" in spec.environment:
            assert spec.environment["ACCOUNTS_TABLE"] == stack.table_name("AccountsTable")
