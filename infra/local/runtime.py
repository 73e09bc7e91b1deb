"""The local stack assembled: provisioning, dispatcher, event sources, clock and API.

Two ways to run it:

* in-process — ``with in_process() as local:`` opens ``moto.mock_aws()`` and provisions the
  template inside it (``sellerops demo`` and the tests). Drive it explicitly:
  ``local.invoke(...)``, ``local.drain()``, ``local.advance(timedelta(hours=1))``,
  ``local.request("GET", "/accounts/me", token=local.issue_token("A1..."))``.
* server — ``with moto_server() as endpoint: LocalStack.start(endpoint_url=endpoint)``;
  :func:`infra.local.server.run_local` adds the HTTP API and background threads.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from functions.core.clock import use_clock
from infra.local.auth import issue_token
from infra.local.aws import DEFAULT_REGION, AwsClients
from infra.local.clock import Firing, ScheduleClock
from infra.local.dispatch import Dispatcher
from infra.local.http import ApiGateway, ApiResponse, ApiServer
from infra.local.provision import STACK_NAME, Stack, provision
from infra.local.sources import EventSources, PollResult


class LocalStack:
    """A provisioned stack with everything that makes it run."""

    def __init__(
        self,
        stack: Stack,
        dispatcher: Dispatcher,
        sources: EventSources,
        clock: ScheduleClock,
        api: ApiGateway | None,
    ) -> None:
        self.stack = stack
        self.dispatcher = dispatcher
        self.sources = sources
        self.clock = clock
        self.api = api

    @classmethod
    def start(
        cls,
        template: dict[str, Any] | Path | str | None = None,
        *,
        endpoint_url: str | None = None,
        region: str = DEFAULT_REGION,
        parameters: dict[str, Any] | None = None,
        environment: dict[str, str | None] | None = None,
        clock_start: datetime | None = None,
        sqs_retry_delay: int | None = 0,
        drain_after_firing: bool = True,
        stack_name: str = STACK_NAME,
        handler_stdout: TextIO | None = None,
        install_clock: bool = True,
    ) -> LocalStack:
        """Provision ``template`` (default: template.yaml) and wire up the emulation.

        In-process mode (``endpoint_url=None``) needs an active ``moto.mock_aws()``.
        ``environment`` overrides function environment variables (``None`` unsets one);
        ``clock_start`` is the schedule clock's initial time (default: now, UTC);
        ``handler_stdout`` receives what handlers print (default: this process's stdout).
        ``install_clock`` makes the schedule clock the process-wide ``functions.core.clock``
        so handlers see simulated time (in-process it stands still until ``advance``).
        """
        aws = AwsClients(region=region, endpoint_url=endpoint_url)
        stack = provision(aws, template, parameters=parameters, stack_name=stack_name)
        dispatcher = Dispatcher(stack, environment=environment, stdout=handler_stdout)
        sources = EventSources(stack, dispatcher, sqs_retry_delay=sqs_retry_delay)
        clock = ScheduleClock(
            stack,
            dispatcher,
            start=clock_start,
            after_each=sources.drain if drain_after_firing else None,
        )
        api = ApiGateway(stack, dispatcher) if stack.rest_apis else None
        if install_clock:
            use_clock(clock.now, clock.skip)
        return cls(stack, dispatcher, sources, clock, api)

    # -- driving it ----------------------------------------------------------------------

    def invoke(self, function: str, event: Any) -> Any:
        """Invoke a function (logical id, name or ARN) synchronously; raises on error."""
        return self.dispatcher.invoke(function, event)

    def drain(self, max_rounds: int = 100) -> list[PollResult]:
        """Run every poller until queues, streams and shadow routes are idle."""
        return self.sources.drain(max_rounds)

    def advance(self, delta: timedelta) -> list[Firing]:
        """Move the schedule clock, firing schedules (and draining after each firing)."""
        firings = self.clock.advance(delta)
        self.drain()
        return firings

    def issue_token(self, seller_id: str | None = None, staff: bool = False) -> str:
        """An ID token of the stack's user pool (see :func:`infra.local.auth.issue_token`)."""
        return issue_token(self.stack, seller_id, staff)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        """Call the API in-process, through the same routing and authorizer as HTTP."""
        if self.api is None:
            raise LookupError("the template has no REST API")
        return self.api.request(
            method, path, token=token, json_body=json_body, body=body, headers=headers
        )

    def serve_api(self, host: str = "127.0.0.1", port: int = 0) -> ApiServer:
        """Start serving the API over HTTP (stop it with ``.stop()``)."""
        if self.api is None:
            raise LookupError("the template has no REST API")
        return ApiServer(self.api, host, port).start()

    def run_background(
        self, stop: threading.Event, *, clock_speed: float = 1.0
    ) -> list[threading.Thread]:
        """Pollers and the wall-clock-following schedule clock in daemon threads."""
        threads = [
            threading.Thread(
                target=self.sources.run, args=(stop,), name="sellerops-local-pollers", daemon=True
            ),
            threading.Thread(
                target=self.clock.run,
                args=(stop,),
                kwargs={"speed": clock_speed},
                name="sellerops-local-clock",
                daemon=True,
            ),
        ]
        for thread in threads:
            thread.start()
        return threads


@contextlib.contextmanager
def in_process(
    template: dict[str, Any] | Path | str | None = None, **options: Any
) -> Iterator[LocalStack]:
    """A :class:`LocalStack` inside ``moto.mock_aws()``; everything vanishes on exit."""
    from moto import mock_aws

    from infra.local.fastmoto import fast_moto

    with mock_aws(), fast_moto():
        try:
            yield LocalStack.start(template, **options)
        finally:
            use_clock(None)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def moto_server(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """moto's threaded server on loopback (port 0: a free one); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    from infra.local.fastmoto import fast_moto

    # werkzeug logs every request at INFO on stderr unless its logger has a level
    if logging.getLogger("werkzeug").level == logging.NOTSET:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    try:
        with fast_moto():
            bound_host, bound_port = server.get_host_and_port()
            yield f"http://{bound_host}:{bound_port}"
    finally:
        server.stop()
