"""Domain events on the stack's EventBridge bus (``DomainEventBus``, ``EVENT_BUS_NAME``).

A producer names its ``source`` (``sellerops.api``, ``sellerops.audit``) and puts events
with a ``detail-type`` and a JSON detail; rules in template.yaml route them to functions.
The boto3 client is created on first use, so importing this module costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from functions.core.settings import BaseConfig, cached_settings


class EventBusConfig(BaseConfig):
    """``EVENT_BUS_NAME`` (set by template.yaml Globals)."""

    event_bus_name: str


class EventPublishError(RuntimeError):
    """EventBridge refused the event (``FailedEntryCount`` > 0)."""


class DomainEvents:
    """Puts events of one ``source`` on ``bus_name`` (boto3 EventBridge client)."""

    def __init__(self, bus_name: str, source: str, *, client: Any = None) -> None:
        self.bus_name = bus_name
        self.source = source
        self._client = client

    @classmethod
    def from_settings(cls, source: str, *, client: Any = None) -> DomainEvents:
        return cls(cached_settings(EventBusConfig).event_bus_name, source, client=client)

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("events")
        return self._client

    def put(self, detail_type: str, detail: Mapping[str, Any]) -> str:
        """Put one event; returns its EventBridge id. Raises :class:`EventPublishError`."""
        response = self.client.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": self.source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(dict(detail), separators=(",", ":"), default=str),
                }
            ]
        )
        entry = (response.get("Entries") or [{}])[0]
        if response.get("FailedEntryCount") or not entry.get("EventId"):
            raise EventPublishError(
                f"{detail_type} not accepted by {self.bus_name}: "
                f"{entry.get('ErrorCode', 'unknown error')} {entry.get('ErrorMessage', '')}"
                .strip()
            )
        return str(entry["EventId"])
