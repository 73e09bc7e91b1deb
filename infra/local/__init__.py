"""The embedded local stack: template.yaml's resources in moto, Lambda's event sources
emulated in-process, the API served on 127.0.0.1. See docs/LOCAL-STACK.md.

In-process (the demo and the tests)::

    from infra.local import in_process

    with in_process() as local:                       # moto.mock_aws() + template.yaml
        token = local.issue_token("A1SELLER")          # Cognito ID token of the stack's pool
        local.request("PUT", "/accounts/me", token=token, json_body={...})
        local.invoke("ApiFunction", event)             # any function, by logical id
        local.drain()                                  # SQS/stream/shadow pollers until idle
        local.advance(timedelta(hours=1))              # schedule clock: fire what is due

Server mode (``sellerops local``): :func:`infra.local.server.run_local`.

Names are imported lazily, so ``import infra.local.server`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AwsClients": "infra.local.aws",
    "Stack": "infra.local.provision",
    "FunctionSpec": "infra.local.provision",
    "provision": "infra.local.provision",
    "Dispatcher": "infra.local.dispatch",
    "FunctionError": "infra.local.dispatch",
    "LambdaContext": "infra.local.dispatch",
    "EventSources": "infra.local.sources",
    "SqsPoller": "infra.local.sources",
    "StreamPoller": "infra.local.sources",
    "ScheduleClock": "infra.local.clock",
    "ApiGateway": "infra.local.http",
    "ApiServer": "infra.local.http",
    "issue_token": "infra.local.auth",
    "LocalStack": "infra.local.runtime",
    "in_process": "infra.local.runtime",
    "moto_server": "infra.local.runtime",
    "run_local": "infra.local.server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'infra.local' has no attribute {name!r}")
    return getattr(import_module(module), name)
