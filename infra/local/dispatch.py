"""Invoke the template's Lambda functions in-process.

moto never runs Lambda code without Docker, so the local stack imports each function's
handler and calls it with the event, the way the Lambda runtime would:

* the function's resolved environment (template ``Environment.Variables``, plus the
  variables the Lambda runtime sets, plus local overrides) is put into ``os.environ`` for
  the duration of the call and restored afterwards, exactly as it was;
* the event is passed through JSON (the handler gets its own copy, and a response that
  is not JSON-serialisable fails like ``Runtime.MarshalError``);
* the context has ``function_name``, ``memory_limit_in_mb``, ``invoked_function_arn``,
  ``aws_request_id`` and ``get_remaining_time_in_millis()`` counting down from the
  function's ``Timeout``; an invocation that runs past it is reported as timed out.

Caveats (documented in docs/LOCAL-STACK.md): ``os.environ`` is process-wide, so invocations
are serialised by a lock; a handler module is imported once per process (like one warm
Lambda container), with the environment of the first function that imports it, so
module-level caches see that environment. ``functions.core.settings.cached_settings`` keys
its cache on the variables each settings class reads, so every function gets the settings
of its own environment and keeps what is built from them (clients, repositories) across
invocations, like a warm container; the dispatcher clears it once, before its first
invocation (a new stack). Caches that do not follow the environment
(:data:`ENVIRONMENT_CACHES`: the API's repositories) are reset whenever it switches
functions, and callers can register more with :meth:`Dispatcher.add_cache_reset`.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from infra.local.provision import FunctionSpec, Stack

logger = logging.getLogger(__name__)


class FunctionError(RuntimeError):
    """An invocation failed: the handler raised, timed out, or returned something invalid.

    ``error_type`` follows Lambda's ``errorType`` (the exception class name,
    ``Runtime.ImportModuleError``, ``Runtime.MarshalError`` or ``Sandbox.Timedout``).
    """

    def __init__(self, function: str, error_type: str, message: str) -> None:
        super().__init__(f"{function}: {error_type}: {message}")
        self.function = function
        self.error_type = error_type
        self.error_message = message


class LambdaContext:
    """The context object a Python Lambda handler receives."""

    def __init__(self, spec: FunctionSpec, request_id: str | None = None) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        today = datetime.now(UTC).strftime("%Y/%m/%d")
        self.log_stream_name = f"{today}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout (never negative)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class Invocation:
    """The outcome of one invocation (kept in :attr:`Dispatcher.history`)."""

    function: str  # logical id
    request_id: str
    event: Any
    result: Any = None
    error: FunctionError | None = None
    duration_ms: float = 0.0
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ok(self) -> bool:
        return self.error is None


def runtime_environment(spec: FunctionSpec, region: str) -> dict[str, str]:
    """Variables the Lambda runtime itself sets for every function."""
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime or 'python3.13'}",
        "_HANDLER": spec.handler,
    }


# Local defaults on top of the template: X-Ray has no daemon here.
LOCAL_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true"}


# Process-wide caches in functions/ built from the environment: (module, attribute path,
# arguments). They are reset whenever the dispatcher switches to another function (and
# before a dispatcher's first invocation), if their module has been imported.
ENVIRONMENT_CACHES: list[tuple[str, str, tuple[Any, ...]]] = [
    ("functions.api.dependencies", "use", ()),
]
# Caches keyed on the environment itself: reset only before a dispatcher's first
# invocation (what they built belongs to the previous stack).
STACK_CACHES: list[tuple[str, str, tuple[Any, ...]]] = [
    ("functions.core.settings", "cached_settings.cache_clear", ()),
]


def _reset_environment_caches() -> None:
    _reset(ENVIRONMENT_CACHES)


def _reset(caches: list[tuple[str, str, tuple[Any, ...]]]) -> None:
    for module_name, path, arguments in caches:
        target: Any = sys.modules.get(module_name)
        for part in path.split("."):
            target = getattr(target, part, None)
        if callable(target):
            target(*arguments)


class Dispatcher:
    """Runs functions of a :class:`Stack` in this process.

    ``environment`` overrides variables for every function (e.g. ``SPAPI_ENDPOINT`` of the
    simulator); a value of ``None`` unsets the variable during the call. ``stdout``, when
    given, receives what handlers print while they run (Powertools logs and EMF metrics go
    to stdout, as in Lambda): pass ``sys.stderr`` or a log file to keep stdout clean.
    """

    def __init__(
        self,
        stack: Stack,
        *,
        environment: dict[str, str | None] | None = None,
        enforce_timeout: bool = True,
        history: int = 1000,
        stdout: TextIO | None = None,
    ) -> None:
        self.stack = stack
        self.stdout = stdout
        self.environment = dict(environment or {})
        self.enforce_timeout = enforce_timeout
        self.history: deque[Invocation] = deque(maxlen=history)
        self._lock = threading.RLock()
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._cache_resets: list[Callable[[], None]] = [_reset_environment_caches]
        self._last_function: str | None = None
        self.invocation_count = 0  # total, unlike the bounded history

    def add_cache_reset(self, reset: Callable[[], None]) -> None:
        """Call ``reset`` whenever the next invocation is for a different function."""
        self._cache_resets.append(reset)

    # -- environment ---------------------------------------------------------------------

    def environment_for(self, function: str) -> dict[str, str | None]:
        """The variables set (``None``: unset) while ``function`` runs."""
        spec = self.stack.function(function)
        return {
            **runtime_environment(spec, self.stack.region),
            **spec.environment,
            **LOCAL_ENVIRONMENT,
            **self.stack.aws.function_environment(),
            **self.environment,
        }

    # -- handlers ------------------------------------------------------------------------

    def handler(self, function: str) -> Callable[..., Any]:
        """Import (once) and return the handler callable of ``function``."""
        spec = self.stack.function(function)
        cached = self._handlers.get(spec.logical_id)
        if cached is not None:
            return cached
        module_name, _, attribute = spec.handler.rpartition(".")
        candidates = [module_name]
        if spec.code_uri:
            package = spec.code_uri.strip("./").replace("/", ".")
            if package and not module_name.startswith(package + "."):
                candidates.append(f"{package}.{module_name}")
        error: Exception | None = None
        for candidate in candidates:
            try:
                module = importlib.import_module(candidate)
            except ModuleNotFoundError as exc:
                if exc.name and not candidate.startswith(exc.name):
                    raise  # the handler module exists; something it imports does not
                error = exc
                continue
            handler = getattr(module, attribute, None)
            if handler is None:
                raise FunctionError(
                    spec.logical_id,
                    "Runtime.HandlerNotFound",
                    f"{candidate} has no attribute {attribute!r}",
                )
            self._handlers[spec.logical_id] = handler
            return handler
        raise FunctionError(
            spec.logical_id, "Runtime.ImportModuleError", f"cannot import {spec.handler}: {error}"
        )

    # -- invocation ----------------------------------------------------------------------

    def invoke(self, function: str, event: Any) -> Any:
        """Invoke synchronously and return the result; raise :class:`FunctionError` on failure.

        The original exception of a failing handler is the ``__cause__``.
        """
        invocation = self.try_invoke(function, event)
        if invocation.error is not None:
            raise invocation.error from invocation.error.__cause__
        return invocation.result

    def try_invoke(self, function: str, event: Any) -> Invocation:
        """Invoke and report the outcome; never raises for a function error."""
        spec = self.stack.function(function)
        request_id = str(uuid.uuid4())
        invocation = Invocation(spec.logical_id, request_id, event)
        with self._lock:
            if self._last_function is None:
                _reset(STACK_CACHES)
            if self._last_function != spec.logical_id:
                for reset in self._cache_resets:
                    reset()
                self._last_function = spec.logical_id
            output = (
                contextlib.redirect_stdout(self.stdout)
                if self.stdout is not None
                else contextlib.nullcontext()
            )
            with _environ(self.environment_for(spec.logical_id)), output:
                # the handler reads the environment at import, as in a Lambda cold start
                started = time.monotonic()
                try:
                    handler = self.handler(spec.logical_id)
                    payload = json.loads(json.dumps(event))
                    context = LambdaContext(spec, request_id)
                    result = handler(payload, context)
                    elapsed = time.monotonic() - started
                    if self.enforce_timeout and elapsed > spec.timeout:
                        raise FunctionError(
                            spec.logical_id,
                            "Sandbox.Timedout",
                            f"Task timed out after {spec.timeout:.2f} seconds",
                        )
                    try:
                        invocation.result = json.loads(json.dumps(result))
                    except (TypeError, ValueError) as exc:
                        raise FunctionError(
                            spec.logical_id, "Runtime.MarshalError", f"unable to marshal: {exc}"
                        ) from exc
                except FunctionError as exc:
                    invocation.error = exc
                except Exception as exc:
                    error = FunctionError(spec.logical_id, type(exc).__name__, str(exc))
                    error.__cause__ = exc
                    invocation.error = error
                    logger.warning(
                        "%s failed: %s\n%s",
                        spec.logical_id,
                        exc,
                        "".join(traceback.format_exception(exc)),
                    )
                finally:
                    invocation.duration_ms = (time.monotonic() - started) * 1000
        self.history.append(invocation)
        self.invocation_count += 1
        return invocation

    def invocations(self, function: str | None = None) -> list[Invocation]:
        """Past invocations (of ``function`` when given), oldest first."""
        if function is None:
            return list(self.history)
        logical_id = self.stack.function(function).logical_id
        return [i for i in self.history if i.function == logical_id]


class _environ:
    """Set/unset variables in ``os.environ``; restore every touched variable on exit."""

    def __init__(self, values: dict[str, str | None]) -> None:
        self.values = values
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for key, value in self.values.items():
            self.saved[key] = os.environ.get(key)
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def __exit__(self, *exc: object) -> None:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
