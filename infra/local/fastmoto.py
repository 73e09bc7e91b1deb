"""Faster paths through moto for the local stack (same answers, less work).

The local stack makes tens of thousands of AWS calls in a simulated fortnight, and a few
general-purpose parts of moto (5.2) dominate their cost. While :func:`fast_moto` is active
(process-wide, nestable) these are replaced:

1. **DynamoDB item responses.** moto serialises every response through a generic,
   shape-driven serializer that walks all ten members of DynamoDB's ``AttributeValue``
   shape for each attribute of each item. The results of the item operations
   (:data:`ITEM_ACTIONS`) are already in DynamoDB's JSON wire format, so they are written as
   JSON directly (a 20-item Query page of flat items: 15 ms → 4 ms). Only successful
   results that are plain JSON data take this path; errors, table operations, paginated
   results and binary values go through moto's serializer as before. botocore parses the
   response with its own parser either way (keeping only the members of the output shape).
2. **Table order.** ``Table.all_items`` sorts the whole table by its keys on every Query of
   an index and every Scan, comparing moto's ``DynamoType`` objects (each comparison casts
   both values). The replacement sorts by the plain key values (text, numbers as
   ``Decimal``, bytes): the same order, without the casts.
3. **A partition's items.** A Query of the table itself (not of an index) filters
   ``all_items`` — the whole table, sorted — down to one partition. While such a Query
   runs, ``all_items`` returns that partition's items only (moto then sorts them by range
   key as before): the same page, without walking and sorting every other partition.
4. **Message retention.** For every message a ReceiveMessage looks at, moto reads the
   queue's retention period through ``get_queue_attributes``, which computes all the
   queue's attributes, message counts included (a walk over every message): quadratic in
   the queue's length. The replacement reads the retention period attribute itself.
5. **DynamoDB item and SQS message requests straight to moto's handler.** For every
   request, moto's botocore hook matches the URL against every service's patterns,
   rebuilds it as a werkzeug request, parses querystring, form and headers, and parses
   the JSON body again through the service model; that is most of a small call's cost.
   A DynamoDB item operation (:data:`ITEM_ACTIONS`) or an SQS message operation
   (:data:`_DIRECT`) on the service's regional endpoint instead goes to a fresh
   ``DynamoHandler``/``SQSResponse`` with its parameters from ``json.loads`` of the body
   (which is what moto's parser gives for these JSON protocols, binary values aside: a
   body with a binary value takes moto's way), with the region of the URL and the
   account of the access key as moto derives them. The handler, the backend and the
   response are moto's own; botocore still serialises and parses. Not when moto's IAM
   authorisation is on, and not with moto's request recorder on.
6. **DynamoDB requests unsigned.** Signature V4 (canonical request, HMAC chain) is a
   good part of botocore's work per call, and moto only checks signatures when its IAM
   authorisation is on. While moto's mock is active (and that is off), DynamoDB requests
   to AWS's endpoint (which moto answers; not an ``endpoint_url`` of one's own) are not
   signed; they carry the account moto would have derived from the access key
   (``x-moto-account-id``, moto's own header for it) instead.
7. **Item size check.** moto's ``Item`` checks DynamoDB's 400 KB item limit while it
   builds the item, by summing the sizes of all the attributes so far at every attribute
   it adds (quadratic in the number of attributes). The replacement sums them once: the
   largest of those partial sums is the total, so the same items are refused.
8. **Item sizes.** moto sizes every item twice per Query/Scan result (for the 1 MB page
   limit) through ``DynamoType.size``, a chain of type tests per attribute. Text,
   number and boolean/null attributes are now sized directly (the same numbers: UTF-8
   bytes of the text, characters of the number, 1); the other types as before.
9. **Expressions parsed once.** Every condition expression is lexed with a dozen
   regular expressions per token, and every update expression is parsed twice per
   UpdateItem; the item operations of an application repeat the same few expressions.
   The lexed tokens of a condition expression (the rest of its parsing, which binds
   names and values, runs as before) and the parsed tree of an update expression (moto
   copies it before validating it, and only reads it otherwise) are kept per expression
   text. Expressions that do not parse are not kept and fail as before.
10. **Request ids in XML.** Every moto response has its body searched with a regular
   expression for an XML ``<RequestId>`` to fill in; a body without one (every JSON
   body) is now left as it is without the search.
11. **Name helpers.** ``camelcase_to_underscores`` (on every SQS queue-attribute read, per
   attribute) and ``method_names_from_class`` (``inspect.getmembers`` on every request) are
   pure functions of their arguments and are memoised.

``tests/integration/test_local_fastmoto.py`` runs the same calls with and without these and
compares every response.

Several replacements reach into moto's internals, which change between patch releases
(moto 5.2.4 and 5.2.6 answer differently through them), so they are installed only on the
moto releases that test passed on (:data:`TESTED_MOTO`); on any other moto the local stack
runs on moto's own paths — the same answers, slower — and says so once in a warning.
pyproject.toml pins a tested release.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import re
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ITEM_ACTIONS = frozenset({
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
    "BatchGetItem", "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
})
CONTENT_TYPE = "application/x-amz-json-1.0"

SHORT_PATH_RESPONSES = 0  # how many responses took the short path (tests read it)

_lock = threading.Lock()
_partition = threading.local()  # .table, .hash_key: the partition a table Query reads
_depth = 0
_saved: list[tuple[Any, str, Any]] = []


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


def _plain(value: Any) -> Any:
    """A key attribute (moto ``DynamoType``) as a plain, comparable Python value."""
    if value.type == "N":
        return Decimal(value.value)
    return value.value


def _all_items(self: Any) -> list[Any]:
    """moto's ``Table.all_items``, sorted by plain key values; only the partition a running
    Query of this table reads (:func:`_table_query`)."""
    if getattr(_partition, "table", None) is self:
        partition = self.items.get(_partition.hash_key)
        if partition is None:
            return []
        return list(partition.values()) if self.range_key_attr else [partition]
    items: list[Any] = []
    for hash_set in self.items.values():
        if self.range_key_attr:
            items.extend(hash_set.values())
        else:
            items.append(hash_set)
    if self.range_key_attr:
        return sorted(items, key=lambda item: (
            (_plain(item.hash_key), _plain(item.range_key)) if item.range_key
            else _plain(item.hash_key)))
    return sorted(items, key=lambda item: _plain(item.hash_key))


def _table_query(original: Any) -> Any:
    """``Table.query`` that, for a Query of the table itself, tells ``all_items`` which
    partition it reads."""
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None or getattr(_partition, "table", None) is not None:
            return original(self, hash_key, *args, **kwargs)
        _partition.table, _partition.hash_key = self, hash_key
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _partition.table = _partition.hash_key = None

    query.__wrapped__ = original  # type: ignore[attr-defined]
    return query


def _retention_check(_original: Any) -> Any:
    def is_message_valid_based_on_retention_period(
        self: Any, queue_name: str, message: Any,
    ) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > sqs_models.unix_time())

    from moto.sqs import models as sqs_models
    return is_message_valid_based_on_retention_period


@dataclass(frozen=True)
class _Direct:
    """A JSON-protocol service whose requests can go to moto's handler directly."""

    handler: str  # module:class of moto's response handler
    host: re.Pattern[str]  # the service endpoint; group 1 is the region
    actions: frozenset[str]
    binary: tuple[str, ...]  # JSON member names whose base64 value moto's parser decodes


_DIRECT = {
    "DynamoDB_20120810": _Direct(
        "moto.dynamodb.responses:DynamoHandler",
        re.compile(r"https?://dynamodb\.([^./]+)\.amazonaws\.com/?$"),
        ITEM_ACTIONS, ('"B":', '"BS":')),
    "AmazonSQS": _Direct(
        "moto.sqs.responses:SQSResponse",
        re.compile(r"https?://sqs\.([^./]+)\.amazonaws\.com/?$"),
        frozenset({"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage",
                   "DeleteMessageBatch", "ChangeMessageVisibility",
                   "ChangeMessageVisibilityBatch", "GetQueueAttributes", "GetQueueUrl"}),
        ('"BinaryValue"', '"BinaryListValues"')),
}
DIRECT_REQUESTS = 0  # how many requests took the direct path (tests read it)


def _direct(original: Any) -> Any:
    """``BotocoreStubber.process_request`` with DynamoDB item and SQS message requests
    handed to moto's handler directly (replacement 5)."""
    from botocore.compat import HTTPHeaders
    from moto import settings
    from moto.core.exceptions import HTTPException
    from moto.core.utils import utcnow
    from moto.utilities.utils import get_partition
    from werkzeug.http import http_date

    handlers: dict[str, Any] = {}

    def handler_class(path: str) -> Any:
        if path not in handlers:
            module, name = path.split(":")
            handlers[path] = getattr(importlib.import_module(module), name)
        return handlers[path]

    def process_request(self: Any, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target") or b""
        if isinstance(target, bytes):
            target = target.decode("utf-8")
        prefix, _, action = target.partition(".")
        service = _DIRECT.get(prefix)
        body = request.body
        host = service.host.match(request.url) if service and action in service.actions \
            else None
        if (
            host is None
            or not isinstance(body, bytes | str)
            or settings.INITIAL_NO_AUTH_ACTION_COUNT != float("inf")
            or _recording()
        ):
            return original(self, request)
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        if any(marker in text for marker in service.binary):  # base64 moto would decode
            return original(self, request)
        handler = handler_class(service.handler)()
        handler.params = json.loads(text) if text else {}
        handler.body = handler.raw_body = text
        handler.headers = headers = HTTPHeaders()
        for name, value in request.headers.items():
            headers[name] = value.decode("utf-8") if isinstance(value, bytes) else value
        handler.querystring = handler.data = {}
        handler.method = "POST"
        handler.uri = request.url
        handler.path = handler.raw_path = "/"
        handler.uri_match = {}
        handler.is_werkzeug_request = False
        handler.region = host.group(1)
        handler.partition = get_partition(handler.region)
        handler.response_headers = {"server": "amazon.com", "date": http_date(utcnow())}
        handler.access_key = handler.get_access_key()
        handler.current_account = handler.get_current_account()
        global DIRECT_REQUESTS
        DIRECT_REQUESTS += 1
        try:
            return handler.call_action()
        except HTTPException as error:
            return error.code, error.get_headers(), error.get_body()

    process_request.__wrapped__ = original  # type: ignore[attr-defined]
    return process_request


def _item_init(_original: Any) -> Any:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > ITEM_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.update(self.attrs, values)

    return __init__


ITEM_LIMIT = 405000  # moto's limit (DynamoDB's 400 KB, as measured by moto's authors)


def _unsigned_dynamodb(original: Any) -> Any:
    """``RequestSigner.sign`` that leaves DynamoDB requests to moto unsigned (replacement
    6)."""
    from moto import settings
    from moto.core.models import botocore_stubber
    from moto.iam.models import get_account_id_from

    def sign(self: Any, operation_name: str, request: Any, *args: Any, **kwargs: Any) -> Any:
        credentials = self._credentials
        if (
            botocore_stubber.enabled
            and credentials is not None
            and self._service_id.hyphenize() == "dynamodb"
            and _DIRECT["DynamoDB_20120810"].host.match(request.url or "")  # moto's, not a
            # DynamoDB of one's own at an endpoint_url
            and kwargs.get("signing_type", "standard") == "standard" and not args
            and settings.INITIAL_NO_AUTH_ACTION_COUNT == float("inf")
        ):
            global UNSIGNED_REQUESTS
            UNSIGNED_REQUESTS += 1
            access_key = credentials.get_frozen_credentials().access_key
            request.headers["x-moto-account-id"] = get_account_id_from(access_key)
            return None
        return original(self, operation_name, request, *args, **kwargs)

    sign.__wrapped__ = original  # type: ignore[attr-defined]
    return sign


UNSIGNED_REQUESTS = 0  # tests read it


def _enrich_response(original: Any) -> Any:
    from moto.utilities.aws_headers import gen_amzn_requestid_long

    slow = original.__func__

    def _enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        if not isinstance(body, str) or "<RequestId>" in body:
            return slow(headers, body)  # type: ignore[no-any-return]
        if "status" in headers:
            headers["status"] = str(headers["status"])
        gen_amzn_requestid_long(headers)
        return headers, body

    return staticmethod(_enrich_response)


def _item_size(_original: Any) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    slow = DynamoType.size

    def size(self: Any) -> int:
        total = 0
        for key, value in self.attrs.items():
            kind, raw = value.type, value.value
            total += bytesize(key)
            if kind == "S" and isinstance(raw, str):
                total += len(raw.encode("utf-8"))
            elif kind == "N":
                total += len(str(raw))
            elif isinstance(raw, bool):  # BOOL, NULL
                total += 1
            else:
                total += slow(value)
        return total

    return size


EXPRESSIONS_KEPT = 1024  # distinct expression texts kept (an application has a few dozen)


def _lexed_once(original: Any) -> Any:
    """``ConditionExpressionParser._lex_condition_expression`` kept per expression text
    (each caller gets its own deque and child lists)."""
    kept: dict[str, tuple[Any, ...]] = {}

    def _lex_condition_expression(self: Any) -> Any:
        text = self.condition_expression
        nodes = kept.get(text)
        if nodes is None:
            nodes = tuple(original(self))
            if len(kept) < EXPRESSIONS_KEPT:
                kept[text] = nodes
        return deque(node._replace(children=list(node.children)) for node in nodes)

    return _lex_condition_expression


def _parsed_once(original: Any) -> Any:
    """``UpdateExpressionParser.make`` kept per expression text."""
    return classmethod(functools.lru_cache(maxsize=EXPRESSIONS_KEPT)(original.__func__))


def _recording() -> bool:
    """Whether moto's request recorder is on (it records from moto's own path only)."""
    from moto.moto_api import recorder

    return bool(getattr(recorder, "_user_enabled", True))


# moto releases tests/integration/test_local_fastmoto.py passed on (all 13 tests).
TESTED_MOTO = frozenset({"5.2.0", "5.2.2", "5.2.3", "5.2.5"})


def supported(version: str | None = None) -> bool:
    """Whether the replacements were tested on this moto release (installed: the default)."""
    if version is None:
        import moto
        version = str(getattr(moto, "__version__", ""))
    return version in TESTED_MOTO


def _replacements() -> list[tuple[Any, str, Callable[[Any], Any]]]:
    """(owner, attribute, original → replacement) for this moto; empty when it differs
    from what the replacements were written for."""
    if not supported():
        import moto
        warnings.warn(
            f"moto {getattr(moto, '__version__', '?')} is not one the local stack's faster "
            f"paths were tested on ({', '.join(sorted(TESTED_MOTO))}): running on moto's "
            "own paths (slower)", RuntimeWarning, stacklevel=3)
        return []
    try:
        from moto.core.responses import ActionResult
        from moto.dynamodb.models.table import Table
        from moto.dynamodb.responses import DynamoHandler, DynamoResult
    except ImportError:  # an older moto: it already writes DynamoDB JSON directly
        return []
    patches: list[tuple[Any, str, Callable[[Any], Any]]] = []
    if hasattr(DynamoHandler, "serialized"):
        patches.append((DynamoHandler, "serialized",
                        lambda original: _short_path(original, (ActionResult, DynamoResult))))
    if hasattr(Table, "all_items"):
        patches.append((Table, "all_items", lambda _original: _all_items))
    with contextlib.suppress(ImportError):
        from moto.dynamodb.comparisons import ConditionExpressionParser
        from moto.dynamodb.parsing.expressions import UpdateExpressionParser
        if hasattr(ConditionExpressionParser, "_lex_condition_expression"):
            patches.append((ConditionExpressionParser, "_lex_condition_expression",
                            _lexed_once))
        if isinstance(vars(UpdateExpressionParser).get("make"), classmethod):
            patches.append((UpdateExpressionParser, "make", _parsed_once))
    with contextlib.suppress(ImportError):
        from moto.core.responses import BaseResponse
        if isinstance(vars(BaseResponse).get("_enrich_response"), staticmethod):
            patches.append((BaseResponse, "_enrich_response", _enrich_response))
    with contextlib.suppress(ImportError):
        from botocore.signers import RequestSigner
        from moto.core.models import botocore_stubber  # noqa: F401  (what it checks)
        patches.append((RequestSigner, "sign", _unsigned_dynamodb))
    with contextlib.suppress(ImportError):
        from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict
        if hasattr(LimitedSizeDict, "__setitem__"):
            patches.append((Item, "__init__", _item_init))
        if hasattr(Item, "size"):
            patches.append((Item, "size", _item_size))
    if hasattr(Table, "query"):
        patches.append((Table, "query", _table_query))
    with contextlib.suppress(ImportError):
        from moto.sqs.models import SQSBackend
        if hasattr(SQSBackend, "is_message_valid_based_on_retention_period"):
            patches.append((SQSBackend, "is_message_valid_based_on_retention_period",
                            _retention_check))
    with contextlib.suppress(ImportError):
        from moto.core.botocore_stubber import BotocoreStubber
        if hasattr(BotocoreStubber, "process_request"):
            patches.append((BotocoreStubber, "process_request", _direct))
    for module_name, name in (
        ("moto.core.responses", "camelcase_to_underscores"),
        ("moto.core.responses", "method_names_from_class"),
        ("moto.sqs.models", "camelcase_to_underscores"),
    ):
        module = importlib.import_module(module_name)
        if callable(getattr(module, name, None)):
            patches.append((module, name, _memoised))
    return patches


def _memoised(original: Callable[..., Any]) -> Callable[..., Any]:
    cached = functools.cache(original)
    cached.__wrapped__ = original  # type: ignore[attr-defined]
    return cached


@contextlib.contextmanager
def fast_moto() -> Iterator[bool]:
    """While active, moto takes the faster paths; yields whether any could be installed."""
    global _depth
    with _lock:
        if _depth == 0:
            for owner, name, replace in _replacements():
                # the attribute itself (a staticmethod stays one when it is put back)
                original = vars(owner)[name] if name in vars(owner) else getattr(owner, name)
                _saved.append((owner, name, original))
                setattr(owner, name, replace(original))
        _depth += 1
        installed = bool(_saved)
    try:
        yield installed
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                while _saved:
                    owner, name, original = _saved.pop()
                    setattr(owner, name, original)
