"""Intrinsics, parameters and conditions of the fixture template, resolved to local ids.

(Separate from test_local_provision.py, whose module-scoped stacks keep a mock_aws open.)
"""

from __future__ import annotations

import pytest

from infra.local.intrinsics import TemplateError
from tests.integration.local.support import fixture_stack


def test_fixture_intrinsics_resolve_to_local_physical_ids() -> None:
    with fixture_stack() as local:
        stack = local.stack
        env = stack.functions["WorkerFunction"].environment
        assert env["WORKER_ONLY"] == "yes"  # function variables merged over Globals
        assert env["EVENTS_TABLE"] == "sellerops-local-events"  # TableName: !Sub
        assert env["WORK_QUEUE_URL"] == stack.queue_url("WorkQueue")
        assert env["WORK_QUEUE_NAME"] == "sellerops-local-WorkQueue"  # GetAtt QueueName
        assert env["STREAM_ARN"] == stack.attribute("AccountsTable", "StreamArn")
        assert env["REGION_AND_STACK"] == "us-east-1/sellerops-local/123456789012"
        assert env["JOINED"] == "local|b"  # Join + Select + Split
        assert env["RETENTION_DAYS"] == "7"  # Fn::If on a false condition
        assert "SPAPI_ENDPOINT" not in env  # Fn::If → AWS::NoValue removes the key
        assert env["ALERTS_TOPIC_ARN"] == stack.topic_arn("AlertsTopic")
        assert stack.skipped == {"ProdOnlyQueue": "AWS::SQS::Queue"}
        assert stack.physical_id("OrderedQueue").endswith("sellerops-local-OrderedQueue.fifo")
        assert stack.physical_id("WorkerLogGroup") == "/aws/lambda/sellerops-local-WorkerFunction"
        assert stack.outputs["ApiUrl"].startswith(f"https://{stack.physical_id('Api')}.execute")
        mapping = stack.event_source_mappings["StreamFunctionAccounts"]
        assert mapping.on_failure_arn == stack.queue_arn("StreamFailuresQueue")
        assert (mapping.batch_size, mapping.maximum_retry_attempts) == (10, 2)


def test_parameters_override_defaults_and_drive_conditions() -> None:
    overrides = {"Stage": "prod", "AlarmsEnabled": "false", "SpApiEndpoint": "http://127.0.0.1:9"}
    with fixture_stack(parameters=overrides) as local:
        stack = local.stack
        env = stack.functions["WorkerFunction"].environment
        assert env["RETENTION_DAYS"] == "90"
        assert env["SPAPI_ENDPOINT"] == "http://127.0.0.1:9"
        assert "ProdOnlyQueue" in stack.resources
        assert "WorkDLQDepthAlarm" in stack.skipped
        assert stack.aws("cloudwatch").describe_alarms()["MetricAlarms"] == []


def test_parameter_values_are_checked() -> None:
    with pytest.raises(TemplateError, match="AlarmsEnabled"):
        with fixture_stack(parameters={"AlarmsEnabled": "maybe"}):
            pass
    with pytest.raises(TemplateError, match="unknown template parameters: Nope"):
        with fixture_stack(parameters={"Nope": "1"}):
            pass


def test_report_lists_every_resource_with_its_status() -> None:
    with fixture_stack() as local:
        report = local.stack.report().splitlines()
        assert len(report) == len(local.stack.resources) + len(local.stack.skipped)
        assert any("ProdOnlyQueue" in line and "condition" in line for line in report)
        assert any("TopicFunctionAlerts" in line and "emulated" in line for line in report)
