"""Provision template.yaml's resources in moto, read from the transformed template.

Nothing here lists resources by hand: :func:`provision` walks the transformed
(CloudFormation) template in dependency order, resolves intrinsics to local physical ids
and creates each resource through its service API. What moto cannot run is handled in
one of three ways, and :class:`Stack` says which for every logical id:

``created``
    exists in moto (tables, queues, topics, SQS subscriptions, buses, rules, schedules,
    KMS keys, Cognito, log groups, alarms, queue policies, secrets, parameters, buckets).
``emulated``
    run by the local stack itself: Lambda functions (in-process registry, see
    :mod:`infra.local.dispatch`), event source mappings (pollers), REST APIs (HTTP
    adapter), and deliveries moto cannot make (SNS → Lambda, EventBridge → Lambda/SNS),
    which are rerouted through an internal SQS "shadow" queue.
``recorded``
    kept with resolved properties but not enforced (IAM roles and policies, Lambda
    permissions, API deployments and stages, ...).

Anything else is ``unsupported``: recorded, with a note, so a new resource type shows up
in :meth:`Stack.report` instead of disappearing silently.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local.aws import DEFAULT_REGION, AwsClients
from infra.local.intrinsics import (
    Resolver,
    TemplateError,
    parameter_values,
    pseudo_parameters,
    references,
    topological_order,
)

STACK_NAME = "sellerops-local"

CREATED = "created"
EMULATED = "emulated"
RECORDED = "recorded"
UNSUPPORTED = "unsupported"


# ---------------------------------------------------------------------------------------
# What provisioning produces
# ---------------------------------------------------------------------------------------


@dataclass
class Resource:
    """One template resource as the local stack realised it."""

    logical_id: str
    type: str
    status: str
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def arn(self) -> str | None:
        return self.attributes.get("Arn")


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function of the template, run in-process by the dispatcher.

    ``timeout`` is in seconds, ``memory_mb`` in MB; ``environment`` is the function's
    resolved ``Environment.Variables`` (Globals merged by the SAM transform).
    """

    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    timeout: int
    memory_mb: int
    environment: dict[str, str]
    code_uri: str | None = None


@dataclass(frozen=True)
class EventSourceMappingSpec:
    """An ``AWS::Lambda::EventSourceMapping``: which poller feeds which function, how."""

    logical_id: str
    function: str  # logical id of the function
    source_arn: str
    source: str  # "sqs" | "dynamodb" | "kinesis" | ...
    batch_size: int
    report_batch_item_failures: bool
    enabled: bool = True
    starting_position: str | None = None
    maximum_retry_attempts: int = -1  # -1: until the record expires (Lambda's default)
    bisect_on_error: bool = False
    on_failure_arn: str | None = None
    filters: tuple[str, ...] = ()  # FilterCriteria patterns (JSON text)


@dataclass(frozen=True)
class ScheduledRule:
    """An ``AWS::Events::Rule`` with a ``ScheduleExpression``; fired by the schedule clock.

    The targets are kept here rather than registered in moto: moto treats a rule without
    an event pattern as matching *every* event on its bus and would try to deliver them.
    """

    logical_id: str
    name: str
    arn: str
    bus: str
    expression: str
    enabled: bool
    targets: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ShadowRoute:
    """A delivery moto cannot make, rerouted through a local SQS queue.

    ``kind`` is ``"sns"`` (an SNS subscription whose endpoint is a Lambda function; the
    shadow queue is subscribed with the same filter policy) or ``"events"`` (an EventBridge
    rule target moto does not deliver to, e.g. Lambda or SNS; the shadow queue is the rule's
    target in moto and ``target`` keeps the original, with its Input/InputPath/InputTransformer).
    """

    logical_id: str
    kind: str
    queue_url: str
    queue_arn: str
    target_arn: str
    source_arn: str  # topic ARN or rule ARN
    subscription_arn: str | None = None
    target: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Authorizer:
    """An API Gateway authorizer of a REST API (only Cognito user pools are emulated)."""

    name: str
    type: str
    header: str
    user_pool_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiRoute:
    resource: str  # "/accounts/{account_id}"
    method: str  # "GET", ..., or "ANY"
    function: str | None  # logical id of the proxied function
    authorizer: str | None  # None: no authorization (SAM's Authorizer: NONE)
    scopes: tuple[str, ...] = ()
    # a mock integration (e.g. SAM's CORS preflight): status and response headers
    mock: tuple[int, tuple[tuple[str, str], ...]] | None = None


@dataclass(frozen=True)
class RestApiSpec:
    logical_id: str
    api_id: str
    stage: str
    routes: tuple[ApiRoute, ...]
    authorizers: dict[str, Authorizer]
    binary_media_types: tuple[str, ...] = ()


@dataclass
class Stack:
    """The provisioned local stack: physical ids, emulation registries, and bookkeeping."""

    name: str
    region: str
    account_id: str
    aws: AwsClients
    template: dict[str, Any]
    parameters: dict[str, Any]
    resources: dict[str, Resource] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # condition false: logical id → type
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    event_source_mappings: dict[str, EventSourceMappingSpec] = field(default_factory=dict)
    scheduled_rules: dict[str, ScheduledRule] = field(default_factory=dict)
    shadow_routes: list[ShadowRoute] = field(default_factory=list)
    rest_apis: dict[str, RestApiSpec] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    # -- what the template declares vs. what exists ----------------------------------

    def declared(self) -> dict[str, str]:
        """Logical id → type of every resource whose Condition holds."""
        return {
            logical_id: resource["Type"]
            for logical_id, resource in self.template.get("Resources", {}).items()
            if logical_id not in self.skipped
        }

    def provisioned(self, *statuses: str) -> dict[str, Resource]:
        """Resources with one of ``statuses`` (all when none given)."""
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if not statuses or resource.status in statuses
        }

    def missing(self) -> set[str]:
        """Declared logical ids the stack has no record of (should always be empty)."""
        return set(self.declared()) - set(self.resources)

    def of_type(self, resource_type: str) -> dict[str, Resource]:
        return {k: r for k, r in self.resources.items() if r.type == resource_type}

    def report(self) -> str:
        """One line per resource: logical id, type, status, physical id, note."""
        lines = []
        for logical_id in sorted(self.resources):
            r = self.resources[logical_id]
            note = f"  ({r.note})" if r.note else ""
            lines.append(f"{logical_id:40} {r.type:36} {r.status:11} {r.physical_id}{note}")
        for logical_id in sorted(self.skipped):
            lines.append(f"{logical_id:40} {self.skipped[logical_id]:36} {'condition':11} -")
        return "\n".join(lines)

    # -- lookups -----------------------------------------------------------------------

    def resource(self, logical_id: str) -> Resource:
        try:
            return self.resources[logical_id]
        except KeyError:
            raise KeyError(f"{logical_id} is not a resource of the local stack") from None

    def physical_id(self, logical_id: str) -> str:
        return self.resource(logical_id).physical_id

    def attribute(self, logical_id: str, name: str) -> Any:
        return self.resource(logical_id).attributes[name]

    def table_name(self, logical_id: str) -> str:
        return self.physical_id(logical_id)

    def queue_url(self, logical_id: str) -> str:
        return self.physical_id(logical_id)

    def queue_arn(self, logical_id: str) -> str:
        return self.attribute(logical_id, "Arn")

    def topic_arn(self, logical_id: str) -> str:
        return self.physical_id(logical_id)

    def event_bus_name(self, logical_id: str) -> str:
        return self.physical_id(logical_id)

    def _single(self, resource_type: str, logical_id: str | None) -> Resource:
        if logical_id:
            return self.resource(logical_id)
        candidates = self.of_type(resource_type)
        if len(candidates) != 1:
            raise LookupError(
                f"expected exactly one {resource_type}, found {sorted(candidates)}; name one"
            )
        return next(iter(candidates.values()))

    def user_pool_id(self, logical_id: str | None = None) -> str:
        return self._single("AWS::Cognito::UserPool", logical_id).physical_id

    def user_pool_client_id(
        self, logical_id: str | None = None, *, pool_id: str | None = None
    ) -> str:
        if logical_id:
            return self.physical_id(logical_id)
        clients = [
            r
            for r in self.of_type("AWS::Cognito::UserPoolClient").values()
            if pool_id is None or r.properties.get("UserPoolId") == pool_id
        ]
        if len(clients) != 1:
            raise LookupError(f"expected one user pool client, found {len(clients)}; name one")
        return clients[0].physical_id

    def function(self, name: str) -> FunctionSpec:
        """A function by logical id, physical name or ARN (with or without qualifier)."""
        if name in self.functions:
            return self.functions[name]
        for spec in self.functions.values():
            if name in (spec.name, spec.arn) or name.startswith(spec.arn + ":"):
                return spec
        raise KeyError(f"no function {name!r} in the local stack")

    def function_for_arn(self, arn: str) -> FunctionSpec | None:
        try:
            return self.function(arn)
        except KeyError:
            return None

    def queue_url_for_arn(self, arn: str) -> str:
        for r in self.of_type("AWS::SQS::Queue").values():
            if r.attributes.get("Arn") == arn:
                return r.physical_id
        for route in self.shadow_routes:
            if route.queue_arn == arn:
                return route.queue_url
        return self.aws("sqs").get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]

    def internal_queue_urls(self) -> set[str]:
        """Queues the local stack added for itself (shadow queues), not in the template."""
        return {route.queue_url for route in self.shadow_routes}


# ---------------------------------------------------------------------------------------
# Provisioning
# ---------------------------------------------------------------------------------------


def load_template(
    path: Path | str | None = None, *, region: str = DEFAULT_REGION
) -> dict[str, Any]:
    """The transformed template at ``path`` (default: the repository's template.yaml)."""
    from infra.template import TEMPLATE_PATH, load_transformed

    path = Path(path) if path is not None else TEMPLATE_PATH
    with _default_region(region):  # the SAM translator insists on a region
        return load_transformed(path)


def load_code_uris(path: Path | str | None = None) -> dict[str, str]:
    """Function logical id → CodeUri as written in the SAM template (before the transform)."""
    from infra.template import TEMPLATE_PATH

    resolved = Path(path if path is not None else TEMPLATE_PATH).resolve()
    return dict(_code_uris(str(resolved), resolved.stat().st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _code_uris(path: str, _mtime: int) -> dict[str, str]:
    from infra.template import load_sam

    sam = load_sam(path)
    default = (sam.get("Globals", {}).get("Function") or {}).get("CodeUri")
    uris = {}
    for logical_id, resource in (sam.get("Resources") or {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            uri = (resource.get("Properties") or {}).get("CodeUri", default)
            if isinstance(uri, str):
                uris[logical_id] = uri
    return uris


@contextlib.contextmanager
def _default_region(region: str) -> Iterator[None]:
    if os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION"):
        yield
        return
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        yield
    finally:
        os.environ.pop("AWS_DEFAULT_REGION", None)


def provision(
    aws: AwsClients,
    template: dict[str, Any] | Path | str | None = None,
    *,
    parameters: dict[str, Any] | None = None,
    stack_name: str = STACK_NAME,
    code_uris: dict[str, str] | None = None,
) -> Stack:
    """Create the resources of a transformed template in moto and return the :class:`Stack`.

    ``template`` is a transformed template dict, or the path of a SAM template (default:
    template.yaml). ``parameters`` override template parameter defaults.
    """
    if not isinstance(template, dict):
        if code_uris is None:
            code_uris = load_code_uris(template)
        template = load_template(template, region=aws.region)
    account_id = aws("sts").get_caller_identity()["Account"]
    values = parameter_values(template, parameters)
    stack = Stack(
        name=stack_name,
        region=aws.region,
        account_id=account_id,
        aws=aws,
        template=template,
        parameters=values,
    )
    _Provisioner(stack, code_uris or {}).run()
    return stack


_SERVICE_OF_ARN = re.compile(r"^arn:[^:]+:([^:]+):")


def arn_service(arn: str) -> str:
    match = _SERVICE_OF_ARN.match(arn or "")
    return match.group(1) if match else ""


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _tags_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {t["Key"]: str(t["Value"]) for t in tags or []}


def _tags_list(tags: Any) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in _tags_dict(tags).items()]


def _pick(props: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: props[name] for name in names if name in props}


_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "RedrivePolicy",
    "RedriveAllowPolicy",
)
_TOPIC_ATTRIBUTES = (
    "DisplayName",
    "KmsMasterKeyId",
    "FifoTopic",
    "ContentBasedDeduplication",
    "SignatureVersion",
    "TracingConfig",
    "ArchivePolicy",
)
_USER_POOL_PROPERTIES = (
    "Policies",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "MfaConfiguration",
    "DeviceConfiguration",
    "EmailConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "Schema",
    "UsernameConfiguration",
    "AccountRecoverySetting",
    "DeletionProtection",
)
_USER_POOL_CLIENT_PROPERTIES = (
    "GenerateSecret",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
)
_ALARM_PROPERTIES = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)

# Resource types kept as records only: they have no behaviour the local stack enforces.
_RECORDED_TYPES = {
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::LayerVersion",
    "AWS::Lambda::Url",
    "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::Account",
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey",
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::BasePathMapping",
    "AWS::ApiGateway::DomainName",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::TopicInlinePolicy",
    "AWS::SQS::QueueInlinePolicy",
    "AWS::Events::EventBusPolicy",
    "AWS::Logs::SubscriptionFilter",
    "AWS::Logs::MetricFilter",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolResourceServer",
    "AWS::CloudWatch::Dashboard",
    "AWS::KMS::ReplicaKey",
    "AWS::XRay::Group",
    "AWS::XRay::SamplingRule",
    "AWS::CloudFormation::WaitConditionHandle",
    "AWS::CloudFormation::WaitCondition",
}


class _Provisioner:
    def __init__(self, stack: Stack, code_uris: dict[str, str]) -> None:
        self.stack = stack
        self.aws = stack.aws
        self.code_uris = code_uris
        self.resolver = Resolver(
            stack.template,
            {
                **stack.parameters,
                **pseudo_parameters(
                    region=stack.region, account_id=stack.account_id, stack_name=stack.name
                ),
            },
            self._lookup,
        )
        self.handlers: dict[str, Callable[[str, dict[str, Any]], Resource]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::Events::Rule": self._rule,
            "AWS::Scheduler::Schedule": self._schedule,
            "AWS::Scheduler::ScheduleGroup": self._schedule_group,
            "AWS::KMS::Key": self._kms_key,
            "AWS::KMS::Alias": self._kms_alias,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::CloudWatch::CompositeAlarm": self._composite_alarm,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::SSM::Parameter": self._ssm_parameter,
            "AWS::S3::Bucket": self._bucket,
            "AWS::Lambda::Function": self._function,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::ApiGateway::RestApi": self._rest_api,
        }

    # -- driver ------------------------------------------------------------------------

    def run(self) -> None:
        resources = self.stack.template.get("Resources") or {}
        enabled = {}
        for logical_id, resource in resources.items():
            if self.resolver.resource_enabled(resource):
                enabled[logical_id] = resource
            else:
                self.stack.skipped[logical_id] = resource["Type"]
        dependencies = {}
        for logical_id, resource in enabled.items():
            depends_on = resource.get("DependsOn") or []
            depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
            dependencies[logical_id] = (
                references(resource.get("Properties") or {}) | set(depends_on)
            ) - {logical_id}
        for logical_id in topological_order(dependencies):
            resource = enabled[logical_id]
            try:
                properties = self.resolver.resolve(resource.get("Properties") or {})
            except TemplateError as error:
                raise TemplateError(f"{logical_id}: {error}") from None
            handler = self.handlers.get(resource["Type"])
            if handler is not None:
                realised = handler(logical_id, properties)
            elif resource["Type"] in _RECORDED_TYPES:
                realised = self._recorded(logical_id, resource["Type"], properties)
            else:
                realised = self._recorded(logical_id, resource["Type"], properties)
                realised.status = UNSUPPORTED
                realised.note = "resource type not emulated locally"
            realised.properties = properties
            self.stack.resources[logical_id] = realised
        outputs = {}
        for name, output in (self.stack.template.get("Outputs") or {}).items():
            if output.get("Condition") and not self.resolver.condition(output["Condition"]):
                continue
            outputs[name] = self.resolver.resolve(output.get("Value"))
        self.stack.outputs = outputs

    def _lookup(self, logical_id: str, attribute: str | None) -> Any:
        if logical_id in self.stack.skipped:
            raise TemplateError(f"{logical_id} is not created (its Condition is false)")
        resource = self.stack.resources.get(logical_id)
        if resource is None:
            raise TemplateError(f"unknown or not yet created resource {logical_id}")
        if attribute is None:
            return resource.physical_id
        if attribute in resource.attributes:
            return resource.attributes[attribute]
        if resource.status in (RECORDED, UNSUPPORTED):
            return f"{resource.physical_id}.{attribute}"
        raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} is not known locally")

    # -- naming ------------------------------------------------------------------------

    def name(self, logical_id: str, limit: int = 64, suffix: str = "") -> str:
        """Deterministic, readable physical name: ``<stack>-<LogicalId><suffix>``."""
        base = f"{self.stack.name}-{logical_id}"
        if len(base) + len(suffix) > limit:
            digest = hashlib.sha1(base.encode()).hexdigest()[:8]  # noqa: S324 - a name
            base = f"{base[: limit - len(suffix) - 9]}-{digest}"
        return base + suffix

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        region_part = self.stack.region if region else ""
        return f"arn:aws:{service}:{region_part}:{self.stack.account_id}:{resource}"

    # -- recorded ----------------------------------------------------------------------

    def _recorded(self, logical_id: str, resource_type: str, props: dict[str, Any]) -> Resource:
        attributes: dict[str, Any] = {}
        physical = logical_id
        if resource_type == "AWS::IAM::Role":
            physical = props.get("RoleName") or self.name(logical_id, 64)
            attributes = {
                "Arn": self.arn("iam", f"role{props.get('Path', '/')}{physical}", region=False),
                "RoleId": "AROA" + hashlib.sha1(physical.encode()).hexdigest()[:17].upper(),  # noqa: S324
            }
        elif resource_type == "AWS::IAM::ManagedPolicy":
            name = props.get("ManagedPolicyName") or self.name(logical_id, 128)
            physical = self.arn("iam", f"policy/{name}", region=False)
            attributes = {"PolicyArn": physical}
        elif resource_type == "AWS::ApiGateway::Stage":
            physical = props.get("StageName", logical_id)
        elif resource_type == "AWS::ApiGateway::Deployment":
            physical = hashlib.sha1(logical_id.encode()).hexdigest()[:6]  # noqa: S324
            attributes = {"DeploymentId": physical}
        elif resource_type == "AWS::Lambda::Version":
            physical = f"{props.get('FunctionName')}:1"
            attributes = {"Version": "1"}
        elif resource_type == "AWS::Lambda::Alias":
            physical = f"{props.get('FunctionName')}:{props.get('Name')}"
        else:
            physical = self.name(logical_id, 128)
        if "Arn" not in attributes:
            service = resource_type.split("::")[1].lower()
            attributes["Arn"] = self.arn(service, f"{logical_id}/{physical}")
        return Resource(logical_id, resource_type, RECORDED, physical, attributes)

    # -- DynamoDB ----------------------------------------------------------------------

    def _table(self, logical_id: str, props: dict[str, Any]) -> Resource:
        ddb = self.aws("dynamodb")
        name = props.get("TableName") or self.name(logical_id, 255)
        billing = props.get("BillingMode", "PROVISIONED")
        throughput = props.get("ProvisionedThroughput") or {
            "ReadCapacityUnits": 5,
            "WriteCapacityUnits": 5,
        }
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            args["ProvisionedThroughput"] = throughput
        gsis = []
        for index in props.get("GlobalSecondaryIndexes") or []:
            gsi = _pick(index, ("IndexName", "KeySchema", "Projection"))
            if billing == "PROVISIONED":
                gsi["ProvisionedThroughput"] = index.get("ProvisionedThroughput") or throughput
            gsis.append(gsi)
        if gsis:
            args["GlobalSecondaryIndexes"] = gsis
        lsis = [
            _pick(index, ("IndexName", "KeySchema", "Projection"))
            for index in props.get("LocalSecondaryIndexes") or []
        ]
        if lsis:
            args["LocalSecondaryIndexes"] = lsis
        stream = props.get("StreamSpecification")
        if stream and stream.get("StreamViewType"):
            args["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        sse = props.get("SSESpecification")
        if sse:
            spec: dict[str, Any] = {"Enabled": bool(sse.get("SSEEnabled", False))}
            if sse.get("SSEType"):
                spec["SSEType"] = sse["SSEType"]
            if sse.get("KMSMasterKeyId"):
                spec["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
            args["SSESpecification"] = spec
        if props.get("Tags"):
            args["Tags"] = _tags_list(props["Tags"])
        if props.get("TableClass"):
            args["TableClass"] = props["TableClass"]
        if "DeletionProtectionEnabled" in props:
            args["DeletionProtectionEnabled"] = bool(props["DeletionProtectionEnabled"])
        ddb.create_table(**args)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        pitr = props.get("PointInTimeRecoverySpecification") or {}
        if pitr.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        table = ddb.describe_table(TableName=name)["Table"]
        attributes = {"Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attributes["StreamArn"] = table["LatestStreamArn"]
        return Resource(logical_id, "AWS::DynamoDB::Table", CREATED, name, attributes)

    # -- SQS ---------------------------------------------------------------------------

    def _queue(self, logical_id: str, props: dict[str, Any]) -> Resource:
        fifo = str(props.get("FifoQueue", "false")).lower() == "true"
        name = props.get("QueueName") or self.name(logical_id, 80, ".fifo" if fifo else "")
        attributes = {key: _attribute_text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
        args: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
        if props.get("Tags"):
            args["tags"] = _tags_dict(props["Tags"])
        url = self.aws("sqs").create_queue(**args)["QueueUrl"]
        arn = self.aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return Resource(
            logical_id,
            "AWS::SQS::Queue",
            CREATED,
            url,
            {"Arn": arn, "QueueName": name, "QueueUrl": url},
        )

    def _queue_policy(self, logical_id: str, props: dict[str, Any]) -> Resource:
        policy = _json_text(props["PolicyDocument"])
        for url in props.get("Queues") or []:
            self.aws("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        return Resource(
            logical_id,
            "AWS::SQS::QueuePolicy",
            CREATED,
            self.name(logical_id, 128),
            note="policy stored on the queues, not enforced",
        )

    def _shadow_queue(self, logical_id: str) -> tuple[str, str]:
        name = self.name(f"shadow-{logical_id}", 80)
        sqs = self.aws("sqs")
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return url, arn

    # -- SNS ---------------------------------------------------------------------------

    def _topic(self, logical_id: str, props: dict[str, Any]) -> Resource:
        fifo = str(props.get("FifoTopic", "false")).lower() == "true"
        name = props.get("TopicName") or self.name(logical_id, 256, ".fifo" if fifo else "")
        args: dict[str, Any] = {
            "Name": name,
            "Attributes": {
                key: _attribute_text(props[key]) for key in _TOPIC_ATTRIBUTES if key in props
            },
        }
        if props.get("Tags"):
            args["Tags"] = _tags_list(props["Tags"])
        arn = self.aws("sns").create_topic(**args)["TopicArn"]
        resource = Resource(
            logical_id, "AWS::SNS::Topic", CREATED, arn, {"TopicArn": arn, "TopicName": name}
        )
        notes = []
        for index, inline in enumerate(props.get("Subscription") or []):
            status, _ = self._subscribe(f"{logical_id}Subscription{index}", arn, inline)
            notes.append(f"inline subscription {index}: {status}")
        resource.note = "; ".join(notes)
        return resource

    def _subscription(self, logical_id: str, props: dict[str, Any]) -> Resource:
        status, arn = self._subscribe(logical_id, props["TopicArn"], props)
        note = "" if status == CREATED else f"{props['Protocol']} endpoint not called locally"
        if status == EMULATED:
            note = "delivered in-process through a shadow queue"
        return Resource(logical_id, "AWS::SNS::Subscription", status, arn, note=note)

    def _subscribe(self, logical_id: str, topic_arn: str, props: dict[str, Any]) -> tuple[str, str]:
        protocol = props["Protocol"]
        attributes: dict[str, str] = {}
        for key in ("RawMessageDelivery", "FilterPolicyScope"):
            if key in props:
                attributes[key] = _attribute_text(props[key])
        for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
            if props.get(key):
                attributes[key] = _json_text(props[key])
        sns = self.aws("sns")
        if protocol == "lambda":
            queue_url, queue_arn = self._shadow_queue(logical_id)
            attributes.pop("RawMessageDelivery", None)  # the shadow queue wants the envelope
            sns.subscribe(
                TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes
            )
            # The subscription Lambda sees (EventSubscriptionArn) is the template's, not ours.
            subscription_arn = f"{topic_arn}:{uuid_for(logical_id)}"
            self.stack.shadow_routes.append(
                ShadowRoute(
                    logical_id=logical_id,
                    kind="sns",
                    queue_url=queue_url,
                    queue_arn=queue_arn,
                    target_arn=props["Endpoint"],
                    source_arn=topic_arn,
                    subscription_arn=subscription_arn,
                )
            )
            return EMULATED, subscription_arn
        if protocol in ("sqs", "email", "email-json", "sms", "application", "firehose"):
            arn = sns.subscribe(
                TopicArn=topic_arn,
                Protocol=protocol,
                Endpoint=props["Endpoint"],
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            return CREATED, arn
        return RECORDED, f"{topic_arn}:{uuid_for(logical_id)}"

    # -- EventBridge -------------------------------------------------------------------

    def _event_bus(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props["Name"]
        arn = self.aws("events").create_event_bus(Name=name)["EventBusArn"]
        return Resource(
            logical_id, "AWS::Events::EventBus", CREATED, name, {"Arn": arn, "Name": name}
        )

    def _rule(self, logical_id: str, props: dict[str, Any]) -> Resource:
        events = self.aws("events")
        bus = str(props.get("EventBusName") or "default").rsplit("/", 1)[-1]
        name = props.get("Name") or self.name(logical_id, 64)
        args: dict[str, Any] = {
            "Name": name,
            "EventBusName": bus,
            "State": props.get("State", "ENABLED"),
        }
        if props.get("Description"):
            args["Description"] = props["Description"]
        if props.get("ScheduleExpression"):
            args["ScheduleExpression"] = props["ScheduleExpression"]
        if props.get("EventPattern"):
            args["EventPattern"] = _json_text(props["EventPattern"])
        arn = events.put_rule(**args)["RuleArn"]
        targets = tuple(props.get("Targets") or [])
        resource = Resource(logical_id, "AWS::Events::Rule", CREATED, name, {"Arn": arn})
        if props.get("ScheduleExpression"):
            self.stack.scheduled_rules[logical_id] = ScheduledRule(
                logical_id=logical_id,
                name=name,
                arn=arn,
                bus=bus,
                expression=props["ScheduleExpression"],
                enabled=args["State"] == "ENABLED",
                targets=targets,
            )
            resource.note = "fired by the schedule clock"
            return resource
        direct, shadowed = [], 0
        for index, target in enumerate(targets):
            plain = not ({"Input", "InputPath"} & target.keys())
            if arn_service(target["Arn"]) in ("sqs", "logs") and plain:
                direct.append(target)
                continue
            queue_url, queue_arn = self._shadow_queue(f"{logical_id}-{index}")
            direct.append({"Id": target["Id"], "Arn": queue_arn})
            shadowed += 1
            self.stack.shadow_routes.append(
                ShadowRoute(
                    logical_id=logical_id,
                    kind="events",
                    queue_url=queue_url,
                    queue_arn=queue_arn,
                    target_arn=target["Arn"],
                    source_arn=arn,
                    target=dict(target),
                )
            )
        if direct:
            events.put_targets(Rule=name, EventBusName=bus, Targets=direct)
        if shadowed:
            resource.note = f"{shadowed} target(s) delivered in-process through shadow queues"
        return resource

    def _schedule(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("Name") or self.name(logical_id, 64)
        args = _pick(
            props,
            (
                "GroupName",
                "ScheduleExpression",
                "ScheduleExpressionTimezone",
                "StartDate",
                "EndDate",
                "Description",
                "State",
                "KmsKeyArn",
                "ActionAfterCompletion",
            ),
        )
        target = _pick(
            props["Target"],
            (
                "Arn",
                "RoleArn",
                "Input",
                "RetryPolicy",
                "DeadLetterConfig",
                "SqsParameters",
                "EventBridgeParameters",
            ),
        )
        arn = self.aws("scheduler").create_schedule(
            Name=name,
            FlexibleTimeWindow=props.get("FlexibleTimeWindow") or {"Mode": "OFF"},
            Target=target,
            **args,
        )["ScheduleArn"]
        return Resource(
            logical_id,
            "AWS::Scheduler::Schedule",
            CREATED,
            name,
            {"Arn": arn},
            note="fired by the schedule clock",
        )

    def _schedule_group(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("Name") or self.name(logical_id, 64)
        arn = self.aws("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
        return Resource(logical_id, "AWS::Scheduler::ScheduleGroup", CREATED, name, {"Arn": arn})

    # -- KMS ---------------------------------------------------------------------------

    def _kms_key(self, logical_id: str, props: dict[str, Any]) -> Resource:
        kms = self.aws("kms")
        args: dict[str, Any] = _pick(props, ("Description", "KeyUsage", "KeySpec", "MultiRegion"))
        if props.get("KeyPolicy"):
            args["Policy"] = _json_text(props["KeyPolicy"])
        if props.get("Tags"):
            args["Tags"] = [
                {"TagKey": k, "TagValue": v} for k, v in _tags_dict(props["Tags"]).items()
            ]
        key = kms.create_key(**args)["KeyMetadata"]
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        return Resource(
            logical_id,
            "AWS::KMS::Key",
            CREATED,
            key["KeyId"],
            {"Arn": key["Arn"], "KeyId": key["KeyId"]},
        )

    def _kms_alias(self, logical_id: str, props: dict[str, Any]) -> Resource:
        self.aws("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        return Resource(logical_id, "AWS::KMS::Alias", CREATED, props["AliasName"])

    # -- Cognito -----------------------------------------------------------------------

    def _user_pool(self, logical_id: str, props: dict[str, Any]) -> Resource:
        args = _pick(props, _USER_POOL_PROPERTIES)
        if "UserPoolTags" in args:
            args["UserPoolTags"] = _tags_dict(args["UserPoolTags"])
        pool = self.aws("cognito-idp").create_user_pool(
            PoolName=props.get("UserPoolName") or self.name(logical_id, 128), **args
        )["UserPool"]
        provider = f"cognito-idp.{self.stack.region}.amazonaws.com/{pool['Id']}"
        note = (
            "Lambda triggers (LambdaConfig) are not invoked locally"
            if props.get("LambdaConfig")
            else ""
        )
        return Resource(
            logical_id,
            "AWS::Cognito::UserPool",
            CREATED,
            pool["Id"],
            {
                "Arn": pool["Arn"],
                "UserPoolId": pool["Id"],
                "ProviderName": provider,
                "ProviderURL": f"https://{provider}",
            },
            note=note,
        )

    def _user_pool_client(self, logical_id: str, props: dict[str, Any]) -> Resource:
        client = self.aws("cognito-idp").create_user_pool_client(
            UserPoolId=props["UserPoolId"],
            ClientName=props.get("ClientName") or self.name(logical_id, 128),
            **_pick(props, _USER_POOL_CLIENT_PROPERTIES),
        )["UserPoolClient"]
        attributes = {"ClientId": client["ClientId"], "Name": client["ClientName"]}
        if client.get("ClientSecret"):
            attributes["ClientSecret"] = client["ClientSecret"]
        return Resource(
            logical_id, "AWS::Cognito::UserPoolClient", CREATED, client["ClientId"], attributes
        )

    def _user_pool_group(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("GroupName") or self.name(logical_id, 128)
        self.aws("cognito-idp").create_group(
            UserPoolId=props["UserPoolId"],
            GroupName=name,
            **_pick(props, ("Description", "Precedence", "RoleArn")),
        )
        return Resource(logical_id, "AWS::Cognito::UserPoolGroup", CREATED, name)

    # -- logs, alarms, secrets, parameters, buckets -------------------------------------

    def _log_group(self, logical_id: str, props: dict[str, Any]) -> Resource:
        logs = self.aws("logs")
        name = props.get("LogGroupName") or self.name(logical_id, 512)
        logs.create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(props["RetentionInDays"])
            )
        arn = self.arn("logs", f"log-group:{name}:*")
        return Resource(logical_id, "AWS::Logs::LogGroup", CREATED, name, {"Arn": arn})

    def _alarm(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("AlarmName") or self.name(logical_id, 255)
        self.aws("cloudwatch").put_metric_alarm(AlarmName=name, **_pick(props, _ALARM_PROPERTIES))
        arn = self.arn("cloudwatch", f"alarm:{name}")
        return Resource(
            logical_id,
            "AWS::CloudWatch::Alarm",
            CREATED,
            name,
            {"Arn": arn},
            note="stored; not evaluated against metrics",
        )

    def _composite_alarm(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("AlarmName") or self.name(logical_id, 255)
        self.aws("cloudwatch").put_composite_alarm(
            AlarmName=name,
            **_pick(
                props,
                (
                    "AlarmRule",
                    "AlarmDescription",
                    "ActionsEnabled",
                    "AlarmActions",
                    "OKActions",
                    "InsufficientDataActions",
                ),
            ),
        )
        arn = self.arn("cloudwatch", f"alarm:{name}")
        return Resource(logical_id, "AWS::CloudWatch::CompositeAlarm", CREATED, name, {"Arn": arn})

    def _secret(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("Name") or self.name(logical_id, 512)
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if value is None and generate is not None:
            generated = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
            if generate.get("SecretStringTemplate") and generate.get("GenerateStringKey"):
                document = json.loads(generate["SecretStringTemplate"])
                document[generate["GenerateStringKey"]] = generated
                value = json.dumps(document)
            else:
                value = generated
        args: dict[str, Any] = {"Name": name}
        if value is not None:
            args["SecretString"] = value
        if props.get("Description"):
            args["Description"] = props["Description"]
        if props.get("Tags"):
            args["Tags"] = _tags_list(props["Tags"])
        arn = self.aws("secretsmanager").create_secret(**args)["ARN"]
        return Resource(logical_id, "AWS::SecretsManager::Secret", CREATED, arn, {"Id": arn})

    def _ssm_parameter(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("Name") or self.name(logical_id, 1011)
        self.aws("ssm").put_parameter(
            Name=name,
            Value=str(props["Value"]),
            Type=props.get("Type", "String"),
            **_pick(props, ("Description", "AllowedPattern", "Tier", "DataType")),
        )
        return Resource(
            logical_id,
            "AWS::SSM::Parameter",
            CREATED,
            name,
            {"Type": props.get("Type", "String"), "Value": str(props["Value"])},
        )

    def _bucket(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("BucketName") or self.name(logical_id, 63).lower()
        s3 = self.aws("s3")
        if self.stack.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.stack.region}
            )
        return Resource(
            logical_id,
            "AWS::S3::Bucket",
            CREATED,
            name,
            {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self.stack.region}.amazonaws.com",
            },
        )

    # -- Lambda (emulated) ---------------------------------------------------------------

    def _function(self, logical_id: str, props: dict[str, Any]) -> Resource:
        name = props.get("FunctionName") or self.name(logical_id, 64)
        arn = self.arn("lambda", f"function:{name}")
        variables = (props.get("Environment") or {}).get("Variables") or {}
        spec = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=props.get("Handler", ""),
            runtime=props.get("Runtime", ""),
            timeout=int(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
            environment={k: _attribute_text(v) for k, v in variables.items()},
            code_uri=self.code_uris.get(logical_id),
        )
        self.stack.functions[logical_id] = spec
        return Resource(
            logical_id,
            "AWS::Lambda::Function",
            EMULATED,
            name,
            {"Arn": arn},
            note=f"in-process handler {spec.handler}",
        )

    def _event_source_mapping(self, logical_id: str, props: dict[str, Any]) -> Resource:
        function = self.stack.function(props["FunctionName"])
        source_arn = props["EventSourceArn"]
        source = arn_service(source_arn)
        default_batch = 10 if source == "sqs" else 100
        on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        filters = tuple(
            _json_text(f["Pattern"]) for f in (props.get("FilterCriteria") or {}).get("Filters", [])
        )
        spec = EventSourceMappingSpec(
            logical_id=logical_id,
            function=function.logical_id,
            source_arn=source_arn,
            source=source,
            batch_size=int(props.get("BatchSize", default_batch)),
            report_batch_item_failures="ReportBatchItemFailures"
            in (props.get("FunctionResponseTypes") or []),
            enabled=str(props.get("Enabled", True)).lower() != "false",
            starting_position=props.get("StartingPosition"),
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
            bisect_on_error=str(props.get("BisectBatchOnFunctionError", False)).lower() == "true",
            on_failure_arn=on_failure,
            filters=filters,
        )
        self.stack.event_source_mappings[logical_id] = spec
        supported = source in ("sqs", "dynamodb")
        return Resource(
            logical_id,
            "AWS::Lambda::EventSourceMapping",
            EMULATED if supported else UNSUPPORTED,
            uuid_for(logical_id),
            note=f"{source} poller → {function.logical_id}"
            if supported
            else f"no local poller for {source}",
        )

    # -- API Gateway (emulated) ----------------------------------------------------------

    def _rest_api(self, logical_id: str, props: dict[str, Any]) -> Resource:
        api_id = hashlib.sha1(f"{self.stack.name}/{logical_id}".encode()).hexdigest()[:10]  # noqa: S324
        body = props.get("Body") or {}
        stage = "local"
        for resource in (self.stack.template.get("Resources") or {}).values():
            stage_props = resource.get("Properties") or {}
            if resource.get("Type") == "AWS::ApiGateway::Stage" and stage_props.get(
                "RestApiId"
            ) == {"Ref": logical_id}:
                stage = str(self.resolver.resolve(stage_props.get("StageName")) or stage)
        schemes = body.get("securityDefinitions") or (body.get("components") or {}).get(
            "securitySchemes", {}
        )
        authorizers = {}
        for scheme_name, scheme in schemes.items():
            config = scheme.get("x-amazon-apigateway-authorizer") or {}
            authorizers[scheme_name] = Authorizer(
                name=scheme_name,
                type=str(config.get("type", scheme.get("type", ""))).lower(),
                header=scheme.get("name", "Authorization"),
                user_pool_arns=tuple(config.get("providerARNs") or ()),
            )
        default_security = body.get("security")
        routes = []
        for path, methods in (body.get("paths") or {}).items():
            for method, operation in methods.items():
                if not isinstance(operation, dict) or (
                    method.startswith("x-") and (method != "x-amazon-apigateway-any-method")
                ):
                    continue
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                integration = operation.get("x-amazon-apigateway-integration") or {}
                function = None
                match = re.search(r"functions/(arn:[^/]+)/invocations", str(integration.get("uri")))
                if match:
                    spec = self.stack.function_for_arn(match.group(1))
                    function = spec.logical_id if spec else None
                security = operation.get("security", default_security) or []
                authorizer, scopes = None, ()
                for requirement in security:
                    for scheme_name, scheme_scopes in requirement.items():
                        if scheme_name in authorizers:
                            authorizer, scopes = scheme_name, tuple(scheme_scopes or ())
                routes.append(
                    ApiRoute(path, verb, function, authorizer, scopes, _mock_response(integration))
                )
        self.stack.rest_apis[logical_id] = RestApiSpec(
            logical_id=logical_id,
            api_id=api_id,
            stage=stage,
            routes=tuple(routes),
            authorizers=authorizers,
            binary_media_types=tuple(
                body.get("x-amazon-apigateway-binary-media-types")
                or props.get("BinaryMediaTypes")
                or ()
            ),
        )
        return Resource(
            logical_id,
            "AWS::ApiGateway::RestApi",
            EMULATED,
            api_id,
            {"RestApiId": api_id, "RootResourceId": api_id[:6]},
            note=f"served by the HTTP adapter ({len(routes)} routes)",
        )


def _mock_response(integration: dict[str, Any]) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """Status and headers of a ``mock`` integration's default response (CORS preflight)."""
    if str(integration.get("type", "")).lower() != "mock":
        return None
    default = (integration.get("responses") or {}).get("default") or {}
    headers = []
    for name, value in (default.get("responseParameters") or {}).items():
        prefix = "method.response.header."
        if name.startswith(prefix):
            headers.append((name[len(prefix) :], str(value).strip("'")))
    return int(default.get("statusCode", 200)), tuple(headers)


def uuid_for(name: str) -> str:
    """A stable UUID-shaped id for a name (physical ids of emulated resources)."""
    digest = hashlib.sha1(name.encode()).hexdigest()  # noqa: S324 - an id, not security
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
