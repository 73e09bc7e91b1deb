"""The dispatcher runs handlers in-process the way the Lambda runtime would."""

from __future__ import annotations

import io
import os
from dataclasses import replace

import pytest

from infra.local.aws import AwsClients
from infra.local.dispatch import Dispatcher, FunctionError
from infra.local.provision import FunctionSpec, Stack
from tests.integration.local.support import calls, fixture_stack

_HANDLERS = "tests.integration.local.handlers"


def _stack(*specs: FunctionSpec) -> Stack:
    """A stack with only functions: the dispatcher needs nothing else (no moto calls)."""
    stack = Stack(
        name="sellerops-local",
        region="us-east-1",
        account_id="123456789012",
        aws=AwsClients(),
        template={"Resources": {}},
        parameters={},
    )
    for spec in specs:
        stack.functions[spec.logical_id] = spec
    return stack


def _spec(logical_id: str, handler: str, **overrides: object) -> FunctionSpec:
    spec = FunctionSpec(
        logical_id=logical_id,
        name=f"sellerops-local-{logical_id}",
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:sellerops-local-{logical_id}",
        handler=f"{_HANDLERS}.{handler}",
        runtime="python3.13",
        timeout=3,
        memory_mb=256,
        environment={"TABLE": "t1", "SHARED": "from-template"},
    )
    return replace(spec, **overrides)


def test_handler_sees_its_environment_and_the_process_gets_it_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHARED", "outer")
    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    monkeypatch.delenv("TABLE", raising=False)
    dispatcher = Dispatcher(_stack(_spec("Env", "environment")), environment={"EXTRA": "x"})
    before = dict(os.environ)

    seen = dispatcher.invoke(
        "Env",
        {
            "names": [
                "TABLE",
                "SHARED",
                "EXTRA",
                "AWS_PROFILE",
                "AWS_LAMBDA_FUNCTION_NAME",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                "AWS_REGION",
                "POWERTOOLS_TRACE_DISABLED",
                "AWS_ACCOUNT_ID_ENDPOINT_MODE",
            ]
        },
    )

    assert seen == {
        "TABLE": "t1",
        "SHARED": "from-template",
        "EXTRA": "x",
        "AWS_PROFILE": None,  # a laptop profile never leaks into a local invocation
        "AWS_LAMBDA_FUNCTION_NAME": "sellerops-local-Env",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
    assert dict(os.environ) == before


def test_environment_is_restored_when_the_handler_raises() -> None:
    with fixture_stack() as local:
        before = dict(os.environ)
        with pytest.raises(FunctionError) as raised:
            local.invoke(
                "WorkerFunction",
                {"Records": [{"messageId": "1", "body": '{"raise": true}'}]},
            )
        assert dict(os.environ) == before
        assert raised.value.error_type == "RuntimeError"
        assert isinstance(raised.value.__cause__, RuntimeError)
        assert calls("sqs_worker")[0]["env"]["WORKER_ONLY"] == "yes"


def test_context_carries_the_function_settings() -> None:
    with fixture_stack() as local:
        local.invoke("WorkerFunction", {"Records": []})
        (call,) = calls("sqs_worker")
        spec = local.stack.functions["WorkerFunction"]
        assert call["function_name"] == spec.name == "sellerops-local-WorkerFunction"
        assert call["memory"] == 512
        assert call["arn"] == spec.arn
        assert len(call["request_id"]) == 36
        assert 59_000 < call["remaining_ms"] <= 60_000  # Timeout: 60
        (invocation,) = local.dispatcher.invocations("WorkerFunction")
        assert invocation.request_id == call["request_id"]
        assert invocation.ok


def test_remaining_time_counts_down_and_a_late_finish_is_a_timeout() -> None:
    dispatcher = Dispatcher(_stack(_spec("Slow", "slow", timeout=0.5)))

    result = dispatcher.invoke("Slow", {"seconds": 0.1})
    assert 450 <= result["before"] <= 500
    assert result["after"] <= result["before"] - 95

    invocation = dispatcher.try_invoke("Slow", {"seconds": 0.55})
    assert invocation.error is not None
    assert invocation.error.error_type == "Sandbox.Timedout"


def test_event_is_a_copy_and_the_result_must_be_json() -> None:
    dispatcher = Dispatcher(_stack(_spec("Mutate", "mutate"), _spec("Bad", "unserialisable")))
    event = {"a": 1}
    assert dispatcher.invoke("Mutate", event) == {"a": 1, "mutated": True}
    assert event == {"a": 1}
    with pytest.raises(FunctionError, match=r"Runtime\.MarshalError"):
        dispatcher.invoke("Bad", {})


def test_missing_handlers_fail_like_the_runtime() -> None:
    dispatcher = Dispatcher(
        _stack(
            replace(_spec("NoModule", "x"), handler="tests.integration.local.nowhere.handler"),
            _spec("NoAttribute", "nothing_here"),
        )
    )
    with pytest.raises(FunctionError, match=r"Runtime\.ImportModuleError"):
        dispatcher.invoke("NoModule", {})
    with pytest.raises(FunctionError, match=r"Runtime\.HandlerNotFound"):
        dispatcher.invoke("NoAttribute", {})


def test_functions_are_found_by_logical_id_name_or_arn() -> None:
    spec = _spec("Mutate", "mutate")
    dispatcher = Dispatcher(_stack(spec))
    for name in (spec.logical_id, spec.name, spec.arn, f"{spec.arn}:$LATEST"):
        assert dispatcher.invoke(name, {"n": name})["n"] == name
    with pytest.raises(KeyError):
        dispatcher.invoke("Unknown", {})


def test_settings_caches_are_cleared_when_the_function_changes() -> None:
    resets: list[str] = []
    dispatcher = Dispatcher(_stack(_spec("A", "mutate"), _spec("B", "mutate")))
    dispatcher.add_cache_reset(lambda: resets.append("reset"))
    for name in ("A", "A", "B", "B", "A"):
        dispatcher.invoke(name, {})
    assert resets == ["reset"] * 3


def test_handler_output_can_be_kept_off_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    sink = io.StringIO()
    Dispatcher(_stack(_spec("Shout", "shout")), stdout=sink).invoke("Shout", {"text": "hi"})
    Dispatcher(_stack(_spec("Shout", "shout"))).invoke("Shout", {"text": "to stdout"})
    assert sink.getvalue() == "hi\n"
    assert capsys.readouterr().out == "to stdout\n"
