"""DynamoDB plumbing shared by the repositories: values, timestamps, pages, conditions.

Every value crosses into DynamoDB here, so this is the one place that decides how money
and time are stored:

- numbers are ``Decimal`` or ``int`` and become DynamoDB ``N``; a ``float`` is refused
  (``TypeError``), because 19.99 as a float is already a different number;
- :class:`~functions.core.money.Money` becomes a map ``{"amount": N, "currency": S}``;
- datetimes must be timezone-aware and are stored as UTC ISO-8601 text with a fixed width
  (``2025-03-01T12:00:00.000000Z``), so they sort as text;
- DynamoDB ``N`` always comes back as ``Decimal``.

The repositories talk to the low-level client (``boto3.client("dynamodb")``), created on
first use so that importing a repository costs nothing; tests inject a client.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from functions.core.clock import utc_now as utc_now  # the repositories' default clock
from functions.core.money import Money
from functions.core.repositories.errors import InvalidPageToken

if TYPE_CHECKING:
    from functions.core.settings import BaseConfig

T = TypeVar("T")

# DynamoDB keeps 38 significant digits; more would be rounded silently.
_MAX_DIGITS = 38


# -- time ---------------------------------------------------------------------------------
def iso_utc(moment: datetime) -> str:
    """``moment`` as fixed-width UTC ISO-8601 text (microseconds, ``Z``); sorts as text.

    Raises ``ValueError`` for a naive datetime: a timestamp without a zone is ambiguous.
    """
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"naive datetime {moment!r}: timestamps must be timezone-aware")
        moment = moment.astimezone(UTC)
    if moment.year < 1000:  # strftime does not pad the year, isoformat does
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # the same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), in half the time
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_utc(text: str) -> datetime:
    """Read an ISO-8601 timestamp with a zone (``Z`` or an offset) as an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return moment.astimezone(UTC)


# -- values -------------------------------------------------------------------------------
def _number(value: Decimal | int) -> dict[str, str]:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot store {value!r} in DynamoDB: not a finite number")
        if len(value.as_tuple().digits) > _MAX_DIGITS:
            raise ValueError(f"cannot store {value!r} exactly: more than 38 significant digits")
        return {"N": format(value, "f")}
    return {"N": str(value)}


def to_attribute(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value (``{"S": ...}``, ``{"N": ...}``, ...)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, Enum):
        return to_attribute(value.value)
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, float):
        raise TypeError("floats are not stored: pass a Decimal or a decimal string")
    if isinstance(value, (int, Decimal)):
        return _number(value)
    if isinstance(value, Money):
        return {"M": {"amount": _number(value.amount), "currency": {"S": value.currency}}}
    if isinstance(value, datetime):
        return {"S": iso_utc(value)}
    if isinstance(value, date):
        return {"S": value.isoformat()}
    if isinstance(value, Mapping):
        return {"M": to_item(value, drop_none=False)}
    if isinstance(value, (set, frozenset)):
        return {"L": [to_attribute(v) for v in sorted(value)]}
    if isinstance(value, (list, tuple)):
        return {"L": [to_attribute(v) for v in value]}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def reject_floats(value: Any, path: str = "") -> Any:
    """Return ``value`` unchanged; raise ``ValueError`` naming the first float inside it.

    For free-form data (strategy config, evidence, payloads) that models validate before
    it reaches :func:`to_attribute`, so a float fails at construction, not at write.
    """
    if isinstance(value, float):
        raise ValueError(f"{path or 'value'}: floats are not stored, use a decimal string")
    if isinstance(value, Mapping):
        for key, item in value.items():
            reject_floats(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            reject_floats(item, f"{path}[{index}]")
    return value


def from_attribute(attribute: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as plain Python (numbers as ``Decimal``)."""
    ((kind, raw),) = attribute.items()
    if kind == "S":
        return raw
    if kind == "N":
        return Decimal(raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return from_item(raw)
    if kind == "L":
        return [from_attribute(v) for v in raw]
    if kind == "SS":
        return set(raw)
    if kind == "NS":
        return {Decimal(v) for v in raw}
    if kind == "B":
        return bytes(raw)
    raise TypeError(f"unsupported DynamoDB attribute type {kind!r}")


def to_item(values: Mapping[str, Any], *, drop_none: bool = True) -> dict[str, dict[str, Any]]:
    """A mapping as a DynamoDB item; ``None`` values are left out unless ``drop_none=False``."""
    return {
        str(name): to_attribute(value)
        for name, value in values.items()
        if value is not None or not drop_none
    }


def from_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {name: from_attribute(value) for name, value in item.items()}


def money_from(value: Any) -> Money | None:
    """Read what :func:`to_attribute` stored for a Money (or ``None``)."""
    if value is None:
        return None
    return Money.from_dict(value)


# -- pages --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a query. ``next_token`` is ``None`` on the last page."""

    items: list[T]
    next_token: str | None = None


def encode_page_token(last_evaluated_key: Mapping[str, Mapping[str, Any]] | None) -> str | None:
    """DynamoDB's ``LastEvaluatedKey`` as an opaque URL-safe token (all our keys are strings)."""
    if not last_evaluated_key:
        return None
    plain = {name: value["S"] for name, value in sorted(last_evaluated_key.items())}
    raw = json.dumps(plain, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_page_token(
    token: str | None,
    *,
    key_names: Iterable[str],
    fixed: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]] | None:
    """Turn a token back into an ``ExclusiveStartKey``, checking it belongs to this query.

    ``key_names`` are the attributes the token must hold (table and index keys);
    ``fixed`` are values it must carry (the partition being queried), so a token from
    another seller's query cannot be replayed here.
    """
    if token is None or token == "":
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidPageToken("next_token is not a token this API issued") from None
    names = set(key_names)
    if (
        not isinstance(plain, dict)
        or set(plain) != names
        or not all(isinstance(v, str) and v for v in plain.values())
    ):
        raise InvalidPageToken("next_token is not a token this API issued")
    for name, value in (fixed or {}).items():
        if plain.get(name) != value:
            raise InvalidPageToken("next_token belongs to a different query")
    return {name: {"S": value} for name, value in plain.items()}


# -- table access -------------------------------------------------------------------------
class DynamoTable:
    """Base of the repositories: a table name, a lazily created low-level client and a clock.

    ``clock`` returns the aware UTC "now" a repository stamps into what it writes.
    :meth:`from_settings` builds a repository from the environment: ``settings_class``
    names the settings (``None``: :class:`~functions.core.settings.TablesConfig`, imported
    on first use) and ``table_setting`` the field holding the table name.
    """

    settings_class: ClassVar[type[BaseConfig] | None] = None
    table_setting: ClassVar[str]

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not table_name:
            raise ValueError("table_name is required")
        self.table_name = table_name
        self._client = client
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: BaseConfig | None = None, *, client: Any = None) -> Self:
        """The repository of the table ``settings`` names (default: the cached environment)."""
        if settings is None:
            from functions.core.settings import TablesConfig, cached_settings

            settings = cached_settings(cls.settings_class or TablesConfig)
        return cls(
            getattr(settings, cls.table_setting), client=client, **cls._settings_options(settings)
        )

    @classmethod
    def _settings_options(cls, settings: Any) -> dict[str, Any]:
        """Constructor keywords besides the table name that ``settings`` supplies."""
        return {}

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # deferred: importing a repository must not cost a boto3 import

            self._client = boto3.client("dynamodb")
        return self._client

    def _is_condition_failure(self, error: Exception) -> bool:
        return isinstance(error, self.client.exceptions.ConditionalCheckFailedException)

    @staticmethod
    def _old_item(error: Exception) -> dict[str, Any] | None:
        """The item a failed condition saw (``ReturnValuesOnConditionCheckFailure=ALL_OLD``)."""
        response = getattr(error, "response", None) or {}
        item = response.get("Item")
        return from_item(item) if item else None

    def _query_page(
        self,
        params: dict[str, Any],
        *,
        limit: int,
        next_token: str | None,
        key_names: Iterable[str],
        fixed: Mapping[str, str],
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a Query: plain items and the token of the next page."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        start = decode_page_token(next_token, key_names=key_names, fixed=fixed)
        request = {"TableName": self.table_name, "Limit": limit, **params}
        if start:
            request["ExclusiveStartKey"] = start
        response = self.client.query(**request)
        items = [from_item(item) for item in response.get("Items", [])]
        return items, encode_page_token(response.get("LastEvaluatedKey"))

    def _query_all(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a Query (for small result sets such as one ASIN's SKUs)."""
        request = {"TableName": self.table_name, **params}
        items: list[dict[str, Any]] = []
        while True:
            response = self.client.query(**request)
            items.extend(from_item(item) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return items
            request["ExclusiveStartKey"] = last
