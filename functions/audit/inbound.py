"""Inbound shipments from the Fulfillment Inbound API v0, as the audit's CSV records.

The ``inbound_shortfall`` detector reads one row per closed shipment and SKU
(``shipment_id, sku, fnsku, quantity_shipped, quantity_received, status, closed_date``,
docs/AUDIT.md). In AWS the job builds those rows from two calls:

- ``getShipments`` (``QueryType=DATE_RANGE``, ``ShipmentStatusList=CLOSED``,
  ``LastUpdatedAfter``/``Before``) lists the closed shipments per time slice;
- ``getShipmentItemsByShipmentId`` gives each shipment's ``QuantityShipped`` and
  ``QuantityReceived`` per SKU.

v0 does not say when a shipment closed. ``closed_date`` is the shipment's own
``LastUpdatedDate`` when the payload carries one, else the **start of the slice** it was
listed in: the earliest it can have closed, so a deadline computed from it is never later
than Amazon's. Slices are one day long for the recent past (where windows are open or
about to be) and a week long before that (those claims are mostly expired; the day does
not matter there), see :func:`slices`.

Nothing here calls AWS or Amazon: the job passes the payloads in.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

COLUMNS = ("shipment_id", "sku", "fnsku", "quantity_shipped", "quantity_received", "status",
           "closed_date")
CLOSED = "CLOSED"


@dataclass(frozen=True, slots=True)
class Slice:
    start: datetime
    end: datetime


def slices(start: datetime, end: datetime, *, daily_days: int = 62,
           weekly: timedelta = timedelta(days=7)) -> list[Slice]:
    """``[start, end)`` cut into slices, oldest first: one-day slices for the last
    ``daily_days`` days before ``end``, ``weekly`` slices before that."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("slices need timezone-aware datetimes")
    daily_from = max(start, end - timedelta(days=daily_days))
    cuts: list[Slice] = []
    moment = start
    while moment < daily_from:
        upper = min(moment + weekly, daily_from)
        cuts.append(Slice(moment, upper))
        moment = upper
    while moment < end:
        upper = min(moment + timedelta(days=1), end)
        cuts.append(Slice(moment, upper))
        moment = upper
    return cuts


def closed_at(shipment: Mapping[str, Any], listed_in: Slice) -> datetime:
    """When a CLOSED shipment closed: its ``LastUpdatedDate`` if the payload has one
    (inside the slice it was listed in), else the slice's start."""
    text = shipment.get("LastUpdatedDate")
    if isinstance(text, str) and text:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return listed_in.start
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    return listed_in.start


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def item_rows(shipment_id: str, closed: str, items: Iterable[Mapping[str, Any]]
              ) -> list[list[str]]:
    """The CSV rows of one closed shipment's ``ItemData`` (``closed`` = ISO 8601)."""
    rows = []
    for item in items:
        rows.append([
            str(item.get("ShipmentId") or shipment_id),
            str(item.get("SellerSKU") or ""),
            str(item.get("FulfillmentNetworkSKU") or ""),
            _whole(item.get("QuantityShipped")),
            _whole(item.get("QuantityReceived")),
            CLOSED,
            closed,
        ])
    return rows


def _whole(value: Any) -> str:
    return "" if value is None else str(value)


def write_csv(out: IO[str], rows: Iterable[list[str]]) -> int:
    """The rows under the inbound-shipments header; returns how many were written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count
