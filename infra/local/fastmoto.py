"""A faster response path for moto's DynamoDB item operations (local stack only).

moto ≥ 5.2 serialises every response through a generic, shape-driven serializer: for each
attribute value of each item it walks all ten members of DynamoDB's ``AttributeValue``
shape. A 20-item Query page costs ~20 ms that way, and the local stack makes tens of
thousands of item calls in a simulated fortnight. The results of the item operations are
already in DynamoDB's JSON wire format (attribute values as ``{"S": ...}``, numbers as
text), so for them this writes the JSON directly, as moto did before 5.2.

Only successful results of the operations in :data:`ITEM_ACTIONS` take the short path, and
only when the result is plain JSON data; anything else (errors, table operations,
paginated results, bytes) goes through moto's serializer as before. The client parses the
response with botocore's own parser either way, which keeps only the members of the
operation's output shape, so callers see the same response
(``tests/integration/test_local_fastmoto.py`` compares both paths operation by operation).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

ITEM_ACTIONS = frozenset({
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
    "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
})
CONTENT_TYPE = "application/x-amz-json-1.0"

SHORT_PATH_RESPONSES = 0  # how many responses took the short path (tests read it)

_lock = threading.Lock()
_depth = 0
_original: Any = None


def _patch_target() -> tuple[Any, Any] | None:
    """(DynamoHandler, ActionResult classes that may take the short path), or None when
    this moto has no generic serializer to bypass."""
    try:
        from moto.core.responses import ActionResult
        from moto.dynamodb.responses import DynamoHandler, DynamoResult
    except ImportError:  # an older moto: it already writes JSON directly
        return None
    if not hasattr(DynamoHandler, "serialized"):
        return None
    return DynamoHandler, (ActionResult, DynamoResult)


def _short_path(original: Any, plain_results: tuple[type, ...]) -> Any:
    def serialized(self: Any, action_result: Any) -> Any:
        result = getattr(action_result, "result", None)
        if (
            type(action_result) in plain_results
            and isinstance(result, dict)
            and self._get_action() in ITEM_ACTIONS
        ):
            try:
                body = json.dumps(result, separators=(",", ":"))
            except (TypeError, ValueError):
                return original(self, action_result)
            global SHORT_PATH_RESPONSES
            SHORT_PATH_RESPONSES += 1
            headers = {"Content-Type": CONTENT_TYPE}
            headers.update(self.response_headers)
            return 200, headers, body
        return original(self, action_result)

    serialized.__wrapped__ = original  # type: ignore[attr-defined]
    return serialized


@contextlib.contextmanager
def fast_dynamodb_responses() -> Iterator[bool]:
    """While active (nestable, process-wide), moto answers item operations on the short
    path; yields whether it could be installed."""
    global _depth, _original
    target = _patch_target()
    if target is None:
        yield False
        return
    handler, plain_results = target
    with _lock:
        if _depth == 0:
            _original = handler.serialized
            handler.serialized = _short_path(_original, plain_results)
        _depth += 1
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                handler.serialized = _original
                _original = None
