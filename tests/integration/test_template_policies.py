"""Policy checks over the transformed template (plain CloudFormation, as AWS deploys it).

Each rule is a checker ``check_*(template) -> list[str]`` returning problems, so it can
run on the real template (must return nothing) and on small hand-made bad templates
(must complain): a checker that never finds anything would pass vacuously. The rules
are generic over resource types — a function, queue, mapping or policy added in a later
issue is checked without touching this file. docs/TEMPLATE.md lists the rules.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.template import ROOT, load_sam, load_transformed, resources_of_type

Template = dict[str, Any]
Checker = Callable[[Template], list[str]]

LAMBDA_DEFAULT_TIMEOUT = 3  # seconds, when a function sets none
SQS_DEFAULT_VISIBILITY = 30  # seconds, when a queue sets none
VISIBILITY_FACTOR = 6  # AWS: queue visibility >= 6 x function timeout (+ batching window)
DLQ_RETENTION = 1_209_600  # 14 days, the SQS maximum
MAX_RECEIVE_COUNT = 5

# AWS-managed policies (attached by ARN, so their documents are not in the template)
# that have been reviewed: none grants a wildcard action.
REVIEWED_MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess",
    "AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaDynamoDBExecutionRole",
    "AmazonAPIGatewayPushToCloudWatchLogs",
}

# docs/CONTRACTS-FOUNDATION.md "Environment variables" (Globals -> every function).
CONTRACT_ENV = {
    "STAGE", "ACCOUNTS_TABLE", "LISTINGS_TABLE", "PRICE_HISTORY_TABLE", "CLAIMS_TABLE",
    "IDEMPOTENCY_TABLE", "AUDIT_JOBS_TABLE", "FOLLOW_UPS_TABLE",
    "PRICE_NOTIFICATIONS_QUEUE_URL", "PRICE_UPDATES_QUEUE_URL", "AUDIT_JOBS_QUEUE_URL",
    "EVENT_BUS_NAME", "CSM_TOPIC_ARN", "CLAIMS_TEAM_TOPIC_ARN", "ALARMS_TOPIC_ARN",
    "SPAPI_APP_SECRET", "SPAPI_SELLER_SECRET_PREFIX", "SPAPI_ENDPOINT", "LWA_ENDPOINT",
    "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL",
}  # fmt: skip

# docs/CONTRACTS-FOUNDATION.md "Table keys": logical id -> (hash, range, {gsi: (hash,
# range)}, stream view type, TTL attribute).
_Keys = tuple[str, str | None]
_TableSpec = tuple[str, str | None, dict[str, _Keys], str | None, str | None]
_NEW_AND_OLD = "NEW_AND_OLD_IMAGES"
CONTRACT_TABLES: dict[str, _TableSpec] = {
    "AccountsTable": ("account_id", None, {"BySeller": ("seller_id", None)}, _NEW_AND_OLD, None),
    "ListingsTable": ("pk", "sku", {"ByAsin": ("asin_key", "sku")}, None, None),
    "PriceHistoryTable": ("pk", "at", {}, None, "expires_at"),
    "ClaimsTable": (
        "seller_id",
        "claim_id",
        {"ByStatus": ("status", "deadline_key")},
        _NEW_AND_OLD,
        None,
    ),
    "IdempotencyTable": ("id", None, {}, None, "expiration"),
    "AuditJobsTable": ("seller_id", "run_id", {}, None, "expires_at"),
    "FollowUpsTable": ("pk", "sk", {}, None, None),
}

CONTRACT_QUEUES = {  # main queue -> (its DLQ, FIFO)
    "PriceNotificationsQueue": ("PriceNotificationsDLQ", False),
    "PriceUpdatesQueue": ("PriceUpdatesDLQ", True),
    "AuditJobsQueue": ("AuditJobsDLQ", False),
}
CONTRACT_OTHER = {
    "DomainEventBus": "AWS::Events::EventBus",
    "CsmNotificationsTopic": "AWS::SNS::Topic",
    "ClaimsTeamTopic": "AWS::SNS::Topic",
    "OperationalAlarmsTopic": "AWS::SNS::Topic",
    "UserPool": "AWS::Cognito::UserPool",
    "UserPoolClient": "AWS::Cognito::UserPoolClient",
    "AppKey": "AWS::KMS::Key",
    "ApiFunction": "AWS::Lambda::Function",
}
SP_API_NOTIFICATIONS_ACCOUNT = "437568002678"


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def _props(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("Properties") or {}


def _ref(value: Any) -> str | None:
    """Logical id named by {"Ref": X} or {"Fn::GetAtt": [X, ...]}; None otherwise."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt:
            return getatt[0]
        if isinstance(getatt, str):
            return getatt.split(".", 1)[0]
    return None


def _getatt_attribute(value: Any) -> str | None:
    if isinstance(value, dict):
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and len(getatt) == 2:
            return getatt[1]
        if isinstance(getatt, str) and "." in getatt:
            return getatt.split(".", 1)[1]
    return None


def _number(template: Template, value: Any, default: int) -> int | None:
    """An integer property, following a Ref to a parameter's default."""
    if value is None:
        return default
    name = _ref(value)
    if name is not None:
        value = (template.get("Parameters", {}).get(name) or {}).get("Default")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _policy_statements(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy statement anywhere under ``node`` (inline, key, queue, topic...)."""
    if isinstance(node, dict):
        statements = node.get("Statement")
        if isinstance(statements, dict):
            statements = [statements]
        if isinstance(statements, list):
            for index, statement in enumerate(statements):
                if isinstance(statement, dict) and (
                    "Action" in statement or "NotAction" in statement
                ):
                    yield f"{path}/Statement/{index}", statement
        for key, value in node.items():
            yield from _policy_statements(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _policy_statements(value, f"{path}/{index}")


_SERVICE_WILDCARD = re.compile(r"^[A-Za-z0-9-]+:\*$")


def _is_wildcard_action(action: Any) -> bool:
    return isinstance(action, str) and (
        action.strip() == "*" or bool(_SERVICE_WILDCARD.match(action.strip()))
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _dlq_ids(template: Template) -> set[str]:
    """Queues named as another queue's, or an EventBridge target's, dead-letter target."""
    ids = set()
    for queue in resources_of_type(template, "AWS::SQS::Queue").values():
        target = (_props(queue).get("RedrivePolicy") or {}).get("deadLetterTargetArn")
        if _ref(target):
            ids.add(_ref(target))
    for rule in resources_of_type(template, "AWS::Events::Rule").values():
        for rule_target in _props(rule).get("Targets") or []:
            arn = (rule_target.get("DeadLetterConfig") or {}).get("Arn")
            if _ref(arn):
                ids.add(_ref(arn))
    return ids


# ----------------------------------------------------------------------------------------
# checkers
# ----------------------------------------------------------------------------------------
def check_event_source_mappings(template: Template) -> list[str]:
    """SQS mappings: redriven queue, visibility >= 6 x timeout (+ window), batch failures.

    Stream mappings (DynamoDB/Kinesis): batch failures, bisect, bounded retries, OnFailure.
    """
    problems = []
    resources = template.get("Resources", {})
    for mapping_id, mapping in resources_of_type(
        template, "AWS::Lambda::EventSourceMapping"
    ).items():
        props = _props(mapping)
        where = f"{mapping_id}"
        if "ReportBatchItemFailures" not in (props.get("FunctionResponseTypes") or []):
            problems.append(f"{where}: FunctionResponseTypes lacks ReportBatchItemFailures")
        function_id = _ref(props.get("FunctionName"))
        function = resources.get(function_id or "")
        if function is None or function.get("Type") != "AWS::Lambda::Function":
            problems.append(f"{where}: FunctionName does not reference a function of the template")
            continue
        timeout = _number(template, _props(function).get("Timeout"), LAMBDA_DEFAULT_TIMEOUT)
        source = props.get("EventSourceArn")
        source_id = _ref(source)
        source_resource = resources.get(source_id or "")
        if source_resource is None:
            problems.append(
                f"{where}: EventSourceArn does not reference a resource of the template"
            )
            continue
        if source_resource.get("Type") == "AWS::SQS::Queue":
            queue = _props(source_resource)
            redrive = queue.get("RedrivePolicy") or {}
            if not _ref(redrive.get("deadLetterTargetArn")):
                problems.append(f"{where}: queue {source_id} has no RedrivePolicy to a DLQ")
            visibility = _number(template, queue.get("VisibilityTimeout"), SQS_DEFAULT_VISIBILITY)
            window = _number(template, props.get("MaximumBatchingWindowInSeconds"), 0)
            if timeout is None or visibility is None or window is None:
                problems.append(f"{where}: cannot resolve timeout/visibility/window to numbers")
            elif visibility < VISIBILITY_FACTOR * timeout + window:
                problems.append(
                    f"{where}: queue {source_id} VisibilityTimeout {visibility} < "
                    f"{VISIBILITY_FACTOR} x {function_id} Timeout {timeout} + window {window}"
                )
        else:  # DynamoDB or Kinesis stream
            attribute = _getatt_attribute(source)
            kind = f"{source_resource.get('Type')}.{attribute}"
            if props.get("BisectBatchOnFunctionError") is not True:
                problems.append(f"{where} ({kind}): BisectBatchOnFunctionError is not true")
            retries = _number(template, props.get("MaximumRetryAttempts"), -1)
            if retries is None or retries < 0:
                problems.append(f"{where} ({kind}): MaximumRetryAttempts unset or infinite")
            on_failure = (props.get("DestinationConfig") or {}).get("OnFailure") or {}
            if not on_failure.get("Destination"):
                problems.append(f"{where} ({kind}): no DestinationConfig.OnFailure destination")
    return problems


def check_queues(template: Template) -> list[str]:
    """Every non-DLQ queue redrives (maxReceiveCount 5) to a DLQ of the same kind;
    DLQs keep 14 days; every queue is encrypted at rest."""
    problems = []
    queues = resources_of_type(template, "AWS::SQS::Queue")
    dlqs = _dlq_ids(template)
    for queue_id, queue in queues.items():
        props = _props(queue)
        if not props.get("KmsMasterKeyId") and props.get("SqsManagedSseEnabled") is not True:
            problems.append(f"{queue_id}: not encrypted (KmsMasterKeyId or SqsManagedSseEnabled)")
        if queue_id in dlqs:
            if _number(template, props.get("MessageRetentionPeriod"), 345_600) != DLQ_RETENTION:
                problems.append(f"{queue_id}: DLQ MessageRetentionPeriod is not 14 days")
            if props.get("RedrivePolicy"):
                problems.append(f"{queue_id}: a DLQ redrives further")
            continue
        redrive = props.get("RedrivePolicy")
        if not redrive:
            problems.append(f"{queue_id}: no RedrivePolicy")
            continue
        dlq_id = _ref(redrive.get("deadLetterTargetArn"))
        if dlq_id not in queues:
            problems.append(f"{queue_id}: deadLetterTargetArn is not a queue of the template")
            continue
        if _number(template, redrive.get("maxReceiveCount"), 0) != MAX_RECEIVE_COUNT:
            problems.append(f"{queue_id}: maxReceiveCount is not {MAX_RECEIVE_COUNT}")
        if bool(props.get("FifoQueue")) != bool(_props(queues[dlq_id]).get("FifoQueue")):
            problems.append(f"{queue_id}: FIFO-ness differs from its DLQ {dlq_id}")
    return problems


def check_function_log_groups(template: Template) -> list[str]:
    """Every function logs to a log group of the template that has a retention."""
    problems = []
    resources = template.get("Resources", {})
    log_groups = resources_of_type(template, "AWS::Logs::LogGroup")
    for function_id, function in resources_of_type(template, "AWS::Lambda::Function").items():
        target = (_props(function).get("LoggingConfig") or {}).get("LogGroup")
        group_id = _ref(target)
        if group_id is None:
            # The other pattern: a log group named /aws/lambda/${Function}.
            for candidate_id, candidate in log_groups.items():
                name = _props(candidate).get("LogGroupName")
                sub = name.get("Fn::Sub") if isinstance(name, dict) else None
                if isinstance(sub, str) and sub == f"/aws/lambda/${{{function_id}}}":
                    group_id = candidate_id
        group = resources.get(group_id or "")
        if group is None or group.get("Type") != "AWS::Logs::LogGroup":
            problems.append(f"{function_id}: no log group of the template (LoggingConfig.LogGroup)")
            continue
        if not _props(group).get("RetentionInDays"):
            problems.append(f"{function_id}: log group {group_id} has no RetentionInDays")
    for group_id, group in log_groups.items():
        if not _props(group).get("RetentionInDays"):
            problems.append(f"{group_id}: no RetentionInDays")
    return problems


def check_no_wildcard_actions(template: Template) -> list[str]:
    """No policy anywhere (roles, policies, key/queue/topic/bus policies, permissions)
    allows the action ``*`` or ``service:*``, nor uses NotAction with Allow; managed
    policies attached by ARN are reviewed ones."""
    problems = []
    for path, statement in _policy_statements(template.get("Resources", {})):
        for action in _as_list(statement.get("Action", [])):
            if _is_wildcard_action(action):
                problems.append(f"Resources{path}: wildcard action {action!r}")
        if "NotAction" in statement and statement.get("Effect") == "Allow":
            problems.append(f"Resources{path}: Allow with NotAction")
    for permission_id, permission in resources_of_type(template, "AWS::Lambda::Permission").items():
        if _is_wildcard_action(_props(permission).get("Action")):
            problems.append(f"{permission_id}: wildcard Action")
    for role_id, role in resources_of_type(template, "AWS::IAM::Role").items():
        for arn in _props(role).get("ManagedPolicyArns") or []:
            text = (
                arn
                if isinstance(arn, str)
                else (arn.get("Fn::Sub") if isinstance(arn, dict) else None)
            )
            name = text.rsplit("/", 1)[-1] if isinstance(text, str) else None
            if name not in REVIEWED_MANAGED_POLICIES:
                problems.append(f"{role_id}: managed policy {arn!r} not reviewed")
    return problems


def check_encryption(template: Template) -> list[str]:
    """Tables: SSE + PITR; topics: KMS key; key rotation on; log groups: KMS key."""
    problems = []
    for table_id, table in resources_of_type(template, "AWS::DynamoDB::Table").items():
        props = _props(table)
        if (props.get("SSESpecification") or {}).get("SSEEnabled") is not True:
            problems.append(f"{table_id}: SSESpecification.SSEEnabled is not true")
        pitr = props.get("PointInTimeRecoverySpecification") or {}
        if pitr.get("PointInTimeRecoveryEnabled") is not True:
            problems.append(f"{table_id}: point-in-time recovery is off")
        if props.get("BillingMode") != "PAY_PER_REQUEST":
            problems.append(f"{table_id}: BillingMode is not PAY_PER_REQUEST")
    for topic_id, topic in resources_of_type(template, "AWS::SNS::Topic").items():
        if not _props(topic).get("KmsMasterKeyId"):
            problems.append(f"{topic_id}: not encrypted (KmsMasterKeyId)")
    for key_id, key in resources_of_type(template, "AWS::KMS::Key").items():
        if _props(key).get("EnableKeyRotation") is not True:
            problems.append(f"{key_id}: key rotation off")
    for group_id, group in resources_of_type(template, "AWS::Logs::LogGroup").items():
        if not _props(group).get("KmsKeyId"):
            problems.append(f"{group_id}: log group not encrypted with a KMS key")
    return problems


def check_functions(template: Template) -> list[str]:
    """Runtime/architecture/tracing, no hard-coded names, contract environment, alarms."""
    problems = []
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm").values()
    errors_alarmed = {
        _ref(dimension.get("Value"))
        for alarm in alarms
        if _props(alarm).get("MetricName") == "Errors"
        for dimension in _props(alarm).get("Dimensions") or []
        if dimension.get("Name") == "FunctionName"
    }
    for function_id, function in resources_of_type(template, "AWS::Lambda::Function").items():
        props = _props(function)
        if props.get("Runtime") != "python3.13":
            problems.append(f"{function_id}: Runtime is not python3.13")
        if props.get("Architectures") != ["arm64"]:
            problems.append(f"{function_id}: Architectures is not [arm64]")
        if (props.get("TracingConfig") or {}).get("Mode") != "Active":
            problems.append(f"{function_id}: tracing is not Active")
        if "FunctionName" in props:
            problems.append(f"{function_id}: hard-coded FunctionName")
        if "DeadLetterConfig" in props:
            problems.append(f"{function_id}: function-level DLQ (only for async invokes)")
        variables = ((props.get("Environment") or {}).get("Variables")) or {}
        missing = sorted(CONTRACT_ENV - set(variables))
        if missing:
            problems.append(f"{function_id}: environment lacks {', '.join(missing)}")
        if "POWERTOOLS_TRACE_DISABLED" in variables:
            problems.append(f"{function_id}: POWERTOOLS_TRACE_DISABLED set in AWS")
        if function_id not in errors_alarmed:
            problems.append(f"{function_id}: no alarm on its Errors metric")
    return problems


def check_alarms(template: Template) -> list[str]:
    """Every DLQ has a depth alarm; every alarm notifies OperationalAlarmsTopic."""
    problems = []
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    depth_alarmed = set()
    for alarm_id, alarm in alarms.items():
        props = _props(alarm)
        if {"Ref": "OperationalAlarmsTopic"} not in (props.get("AlarmActions") or []):
            problems.append(f"{alarm_id}: AlarmActions lacks OperationalAlarmsTopic")
        if props.get("Namespace") == "AWS/SQS" and (
            props.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and props.get("ComparisonOperator") == "GreaterThanThreshold"
            and _number(template, props.get("Threshold"), -1) == 0
        ):
            for dimension in props.get("Dimensions") or []:
                if dimension.get("Name") == "QueueName":
                    depth_alarmed.add(_ref(dimension.get("Value")))
    for dlq_id in sorted(_dlq_ids(template) - depth_alarmed):
        problems.append(f"{dlq_id}: no ApproximateNumberOfMessagesVisible > 0 alarm")
    return problems


def check_contract_resources(template: Template) -> list[str]:
    """The tables, keys, GSIs, streams, TTLs and other logical ids of the contract."""
    problems = []
    resources = template.get("Resources", {})
    for table_id, (hash_key, range_key, gsis, stream, ttl) in CONTRACT_TABLES.items():
        table = resources.get(table_id)
        if table is None or table.get("Type") != "AWS::DynamoDB::Table":
            problems.append(f"{table_id}: missing")
            continue
        props = _props(table)
        types = {
            d["AttributeName"]: d["AttributeType"] for d in props.get("AttributeDefinitions", [])
        }
        if any(kind != "S" for kind in types.values()):
            problems.append(f"{table_id}: key attributes are not all strings: {types}")

        def keys(schema: list[dict[str, str]]) -> tuple[str | None, str | None]:
            by_type = {k["KeyType"]: k["AttributeName"] for k in schema}
            return by_type.get("HASH"), by_type.get("RANGE")

        if keys(props.get("KeySchema", [])) != (hash_key, range_key):
            problems.append(f"{table_id}: key schema is not ({hash_key}, {range_key})")
        actual_gsis = {
            index["IndexName"]: (
                keys(index["KeySchema"]),
                index["Projection"].get("ProjectionType"),
            )
            for index in props.get("GlobalSecondaryIndexes", [])
        }
        expected_gsis = {name: (key, "ALL") for name, key in gsis.items()}
        if actual_gsis != expected_gsis:
            problems.append(f"{table_id}: GSIs {actual_gsis} != contract {expected_gsis}")
        actual_stream = (props.get("StreamSpecification") or {}).get("StreamViewType")
        if actual_stream != stream:
            problems.append(f"{table_id}: stream {actual_stream} != contract {stream}")
        ttl_spec = props.get("TimeToLiveSpecification") or {}
        actual_ttl = ttl_spec.get("AttributeName") if ttl_spec.get("Enabled") else None
        if actual_ttl != ttl:
            problems.append(f"{table_id}: TTL {actual_ttl} != contract {ttl}")
    for queue_id, (dlq_id, fifo) in CONTRACT_QUEUES.items():
        for logical_id in (queue_id, dlq_id):
            queue = resources.get(logical_id)
            if queue is None or queue.get("Type") != "AWS::SQS::Queue":
                problems.append(f"{logical_id}: missing")
            elif bool(_props(queue).get("FifoQueue")) != fifo:
                problems.append(f"{logical_id}: FifoQueue should be {fifo}")
        queue = resources.get(queue_id) or {}
        target = (_props(queue).get("RedrivePolicy") or {}).get("deadLetterTargetArn")
        if _ref(target) != dlq_id:
            problems.append(f"{queue_id}: does not redrive to {dlq_id}")
    for logical_id, resource_type in CONTRACT_OTHER.items():
        if (resources.get(logical_id) or {}).get("Type") != resource_type:
            problems.append(f"{logical_id}: missing or not {resource_type}")
    return problems


def check_notifications_queue_policy(template: Template) -> list[str]:
    """Amazon's SP-API account may send to PriceNotificationsQueue, and nothing more."""
    problems = []
    policies = [
        policy
        for policy in resources_of_type(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": "PriceNotificationsQueue"} in (_props(policy).get("Queues") or [])
    ]
    if len(policies) != 1:
        return [f"PriceNotificationsQueue: {len(policies)} queue policies, expected 1"]
    statements = _props(policies[0])["PolicyDocument"]["Statement"]
    for statement in statements:
        principal = str(statement.get("Principal"))
        if SP_API_NOTIFICATIONS_ACCOUNT not in principal:
            problems.append(f"PriceNotificationsQueue policy: unexpected principal {principal}")
        actions = set(_as_list(statement.get("Action")))
        if actions != {"sqs:SendMessage", "sqs:GetQueueAttributes"}:
            problems.append(f"PriceNotificationsQueue policy: actions {sorted(actions)}")
    return problems


CHECKERS: list[Checker] = [
    check_event_source_mappings,
    check_queues,
    check_function_log_groups,
    check_no_wildcard_actions,
    check_encryption,
    check_functions,
    check_alarms,
    check_contract_resources,
    check_notifications_queue_policy,
]


# ----------------------------------------------------------------------------------------
# the real template
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def transformed() -> Template:
    return load_transformed()


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda checker: checker.__name__)
def test_template_passes(transformed: Template, checker: Checker) -> None:
    assert checker(transformed) == []


def test_every_sam_function_builds_with_the_makefile() -> None:
    sam = load_sam()
    makefile = (ROOT / "functions" / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^build-([A-Za-z0-9]+):", makefile, flags=re.MULTILINE))
    for function_id, function in resources_of_type(sam, "AWS::Serverless::Function").items():
        assert (function.get("Metadata") or {}).get("BuildMethod") == "makefile", function_id
        assert function_id in targets, f"functions/Makefile has no build-{function_id}"
        handler = _props(function)["Handler"]
        module = ROOT / Path(*handler.split(".")[:-1])
        assert handler.startswith("functions."), handler
        assert module.parent.is_dir(), f"{function_id}: no service directory {module.parent}"


def test_globals_wire_every_contract_variable() -> None:
    sam = load_sam()
    variables = sam["Globals"]["Function"]["Environment"]["Variables"]
    assert CONTRACT_ENV - {"POWERTOOLS_SERVICE_NAME"} <= set(variables)
    for name in CONTRACT_ENV - {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}:
        value = variables[name]
        assert isinstance(value, dict) and ({"Ref", "Fn::GetAtt"} & set(value)), (
            f"{name} is not wired with !Ref/!GetAtt: {value!r}"
        )
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "sellerops"


def test_api_routes_and_authorizer(transformed: Template) -> None:
    (api,) = resources_of_type(transformed, "AWS::ApiGateway::RestApi").values()
    paths = _props(api)["Body"]["paths"]
    routes = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert routes >= {
        ("GET", "/health"),
        ("GET", "/accounts/me"),
        ("PUT", "/accounts/me"),
        ("GET", "/accounts"),
        ("GET", "/accounts/{account_id}"),
    }
    for method, path in routes:
        security = paths[path][method.lower()].get("security")
        if path == "/health":
            # SAM writes Auth: {Authorizer: NONE} as the undefined scheme "NONE" = no auth.
            assert security in (None, [], [{"NONE": []}]), "GET /health must not require auth"
        else:
            assert security == [{"CognitoAuthorizer": []}], f"{method} {path} is not authorized"


def test_alarm_email_condition() -> None:
    sam = load_sam()
    subscription = sam["Resources"]["OperationalAlarmsEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert sam["Parameters"]["AlarmEmail"]["Default"] == ""


# ----------------------------------------------------------------------------------------
# the checkers themselves, on small hand-made templates
# ----------------------------------------------------------------------------------------
_MANAGED = "arn:aws:iam::aws:policy"


def _good() -> Template:
    """A minimal template every checker accepts (except the contract ones)."""
    return {
        "Parameters": {"Retention": {"Type": "Number", "Default": 30}},
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {
                "EnableKeyRotation": True,
                "KeyPolicy": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "root"},
                     "Action": ["kms:Describe*", "kms:Decrypt"], "Resource": "*"}]}}},
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "python3.13", "Architectures": ["arm64"],
                "TracingConfig": {"Mode": "Active"}, "Timeout": 30,
                "LoggingConfig": {"LogGroup": {"Ref": "FnLogs"}},
                "Environment": {"Variables": dict.fromkeys(CONTRACT_ENV, "x")}}},
            "FnLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {
                "RetentionInDays": {"Ref": "Retention"}, "KmsKeyId": {"Ref": "Key"}}},
            "FnRole": {"Type": "AWS::IAM::Role", "Properties": {
                "ManagedPolicyArns": [f"{_MANAGED}/service-role/AWSLambdaBasicExecutionRole"],
                "Policies": [{"PolicyName": "p", "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": ["sqs:ReceiveMessage"],
                                   "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}}]}}]}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {
                "VisibilityTimeout": 180, "SqsManagedSseEnabled": True,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]},
                                  "maxReceiveCount": 5}}},
            "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {
                "MessageRetentionPeriod": DLQ_RETENTION, "KmsMasterKeyId": {"Ref": "Key"}}},
            "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
                "FunctionName": {"Ref": "Fn"},
                "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
                "FunctionResponseTypes": ["ReportBatchItemFailures"]}},
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "SSESpecification": {"SSEEnabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"}}},
            "StreamMapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
                "FunctionName": {"Ref": "Fn"},
                "EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]},
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 3,
                "DestinationConfig": {
                    "OnFailure": {"Destination": {"Fn::GetAtt": ["Dlq", "Arn"]}}}}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}},
            "Alarms": {"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": {"Ref": "Key"}}},
            "FnErrors": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "Namespace": "AWS/Lambda", "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "Fn"}}],
                "AlarmActions": [{"Ref": "OperationalAlarmsTopic"}]}},
            "DlqDepth": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
                "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                "ComparisonOperator": "GreaterThanThreshold", "Threshold": 0,
                "Dimensions": [{"Name": "QueueName",
                                "Value": {"Fn::GetAtt": ["Dlq", "QueueName"]}}],
                "AlarmActions": [{"Ref": "OperationalAlarmsTopic"}]}},
        },
    }  # fmt: skip


GENERIC_CHECKERS = [
    c for c in CHECKERS if c not in (check_contract_resources, check_notifications_queue_policy)
]


@pytest.mark.parametrize("checker", GENERIC_CHECKERS, ids=lambda checker: checker.__name__)
def test_checker_accepts_the_good_template(checker: Checker) -> None:
    assert checker(_good()) == []


def _mutated(mutate: Callable[[dict[str, Any]], Any]) -> Template:
    template = copy.deepcopy(_good())
    mutate(template["Resources"])
    return template


def _statements(r: dict[str, Any]) -> list[dict[str, Any]]:
    return r["FnRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


def _p(r: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return r[logical_id]["Properties"]


_QUEUE_POLICY = {
    "Type": "AWS::SQS::QueuePolicy",
    "Properties": {
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "SQS:*"}],
        }
    },
}
_ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
_PERMISSION = {"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:*"}}

BAD_TEMPLATES: list[tuple[str, Checker, Callable[[dict[str, Any]], Any], str]] = [
    ("sqs mapping without batch failures", check_event_source_mappings,
     lambda r: _p(r, "Mapping").pop("FunctionResponseTypes"), "ReportBatchItemFailures"),
    ("visibility below 6x timeout", check_event_source_mappings,
     lambda r: _p(r, "Queue").update(VisibilityTimeout=179), "VisibilityTimeout 179"),
    ("visibility ignores batching window", check_event_source_mappings,
     lambda r: _p(r, "Mapping").update(MaximumBatchingWindowInSeconds=5), "window 5"),
    ("default visibility with long timeout", check_event_source_mappings,
     lambda r: _p(r, "Queue").pop("VisibilityTimeout"), "VisibilityTimeout 30"),
    ("consumed queue without redrive", check_event_source_mappings,
     lambda r: _p(r, "Queue").pop("RedrivePolicy"), "no RedrivePolicy"),
    ("stream without bisect", check_event_source_mappings,
     lambda r: _p(r, "StreamMapping").pop("BisectBatchOnFunctionError"), "Bisect"),
    ("stream with infinite retries", check_event_source_mappings,
     lambda r: _p(r, "StreamMapping").update(MaximumRetryAttempts=-1), "MaximumRetryAttempts"),
    ("stream without OnFailure", check_event_source_mappings,
     lambda r: _p(r, "StreamMapping").pop("DestinationConfig"), "OnFailure"),
    ("stream without batch failures", check_event_source_mappings,
     lambda r: _p(r, "StreamMapping").update(FunctionResponseTypes=[]), "ReportBatchItem"),
    ("mapping to an unknown function", check_event_source_mappings,
     lambda r: _p(r, "Mapping").update(FunctionName="arn:aws:lambda:x"), "FunctionName"),
    ("queue without redrive", check_queues,
     lambda r: _p(r, "Queue").pop("RedrivePolicy"), "no RedrivePolicy"),
    ("redrive count not 5", check_queues,
     lambda r: _p(r, "Queue")["RedrivePolicy"].update(maxReceiveCount=10), "maxReceiveCount"),
    ("short DLQ retention", check_queues,
     lambda r: _p(r, "Dlq").update(MessageRetentionPeriod=345600), "14 days"),
    ("unencrypted queue", check_queues,
     lambda r: _p(r, "Queue").pop("SqsManagedSseEnabled"), "not encrypted"),
    ("FIFO queue with standard DLQ", check_queues,
     lambda r: _p(r, "Queue").update(FifoQueue=True), "FIFO"),
    ("function without log group", check_function_log_groups,
     lambda r: _p(r, "Fn").pop("LoggingConfig"), "no log group"),
    ("log group without retention", check_function_log_groups,
     lambda r: _p(r, "FnLogs").pop("RetentionInDays"), "RetentionInDays"),
    ("action *", check_no_wildcard_actions,
     lambda r: _statements(r)[0].update(Action="*"), "'*'"),
    ("action service:*", check_no_wildcard_actions,
     lambda r: _statements(r)[0].update(Action=["sqs:*"]), "sqs:*"),
    ("kms:* in a key policy", check_no_wildcard_actions,
     lambda r: _p(r, "Key")["KeyPolicy"]["Statement"][0].update(Action="kms:*"), "kms:*"),
    ("wildcard in a queue policy", check_no_wildcard_actions,
     lambda r: r.update(QP=_QUEUE_POLICY), "SQS:*"),
    ("Allow with NotAction", check_no_wildcard_actions,
     lambda r: _statements(r).append({"Effect": "Allow", "NotAction": "iam:*"}), "NotAction"),
    ("unreviewed managed policy", check_no_wildcard_actions,
     lambda r: _p(r, "FnRole")["ManagedPolicyArns"].append(_ADMIN), "AdministratorAccess"),
    ("wildcard lambda permission", check_no_wildcard_actions,
     lambda r: r.update(P=_PERMISSION), "P:"),
    ("table without SSE", check_encryption,
     lambda r: _p(r, "Table").pop("SSESpecification"), "SSEEnabled"),
    ("table without PITR", check_encryption,
     lambda r: _p(r, "Table").pop("PointInTimeRecoverySpecification"), "point-in-time"),
    ("unencrypted topic", check_encryption,
     lambda r: _p(r, "Topic").pop("KmsMasterKeyId"), "Topic"),
    ("key rotation off", check_encryption,
     lambda r: _p(r, "Key").update(EnableKeyRotation=False), "rotation"),
    ("wrong runtime", check_functions,
     lambda r: _p(r, "Fn").update(Runtime="python3.12"), "Runtime"),
    ("x86 function", check_functions,
     lambda r: _p(r, "Fn").update(Architectures=["x86_64"]), "Architectures"),
    ("hard-coded function name", check_functions,
     lambda r: _p(r, "Fn").update(FunctionName="reprice"), "FunctionName"),
    ("missing contract variable", check_functions,
     lambda r: _p(r, "Fn")["Environment"]["Variables"].pop("ACCOUNTS_TABLE"), "ACCOUNTS_TABLE"),
    ("function without errors alarm", check_functions,
     lambda r: r.pop("FnErrors"), "Errors"),
    ("DLQ without depth alarm", check_alarms,
     lambda r: r.pop("DlqDepth"), "Dlq: no"),
    ("alarm to nowhere", check_alarms,
     lambda r: _p(r, "FnErrors").update(AlarmActions=[]), "AlarmActions"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("checker", "mutate", "expected"),
    [case[1:] for case in BAD_TEMPLATES],
    ids=[case[0] for case in BAD_TEMPLATES],
)
def test_checker_rejects_bad_template(
    checker: Checker, mutate: Callable[[dict[str, Any]], Any], expected: str
) -> None:
    problems = checker(_mutated(mutate))
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r["AccountsTable"]["Properties"].pop("StreamSpecification"), "stream"),
        (lambda r: _p(r, "ClaimsTable")["GlobalSecondaryIndexes"][0].update(IndexName="X"), "GSIs"),
        (lambda r: r["PriceHistoryTable"]["Properties"].pop("TimeToLiveSpecification"), "TTL"),
        (lambda r: r["ListingsTable"]["Properties"]["KeySchema"].pop(), "key schema"),
        (lambda r: r.pop("FollowUpsTable"), "FollowUpsTable: missing"),
        (lambda r: r["PriceUpdatesQueue"]["Properties"].pop("FifoQueue"), "FifoQueue"),
        (lambda r: r.pop("DomainEventBus"), "DomainEventBus"),
    ],
    ids=["no stream", "renamed GSI", "no TTL", "no sort key", "no table", "not FIFO", "no bus"],
)
def test_contract_checker_rejects(
    transformed: Template, mutate: Callable[[dict[str, Any]], Any], expected: str
) -> None:
    template = copy.deepcopy(transformed)
    mutate(template["Resources"])
    problems = check_contract_resources(template)
    assert any(expected in problem for problem in problems), problems


def test_queue_policy_checker_rejects_broader_access(transformed: Template) -> None:
    template = copy.deepcopy(transformed)
    policy = template["Resources"]["PriceNotificationsQueuePolicy"]
    policy["Properties"]["PolicyDocument"]["Statement"][0]["Action"].append("sqs:ReceiveMessage")
    assert check_notifications_queue_policy(template)
