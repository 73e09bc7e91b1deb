"""Create the stack's DynamoDB tables from template.yaml's definitions (local stack, tests).

Takes the *transformed* template (``infra.template.load_transformed()``) so the tables
always have the keys, indexes, streams and TTL the template declares; nothing here
repeats a key schema by hand. The client is passed in (moto or DynamoDB Local).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TABLE_TYPE = "AWS::DynamoDB::Table"


@dataclass(frozen=True, slots=True)
class TableDefinition:
    """``CreateTable`` arguments (without ``TableName``) and the TTL attribute, if any."""

    request: dict[str, Any]
    ttl_attribute: str | None = None

    def key_names(self, index: str | None = None) -> list[str]:
        """Key attribute names of the table, or of one of its global secondary indexes."""
        if index is None:
            schema = self.request["KeySchema"]
        else:
            (gsi,) = [
                g for g in self.request.get("GlobalSecondaryIndexes", []) if g["IndexName"] == index
            ]
            schema = gsi["KeySchema"]
        return [key["AttributeName"] for key in schema]


def table_definitions(template: Mapping[str, Any]) -> dict[str, TableDefinition]:
    """Logical id → :class:`TableDefinition` for every table of the template."""
    definitions: dict[str, TableDefinition] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != TABLE_TYPE:
            continue
        props = resource.get("Properties", {})
        request: dict[str, Any] = {
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        indexes = props.get("GlobalSecondaryIndexes")
        if indexes:
            request["GlobalSecondaryIndexes"] = [
                {k: v for k, v in index.items() if k != "ProvisionedThroughput"}
                for index in indexes
            ]
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        ttl = props.get("TimeToLiveSpecification") or {}
        definitions[logical_id] = TableDefinition(
            request=request,
            ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
        )
    return definitions


def create_tables(
    client: Any,
    template: Mapping[str, Any],
    *,
    names: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
) -> dict[str, str]:
    """Create the template's tables with ``client``; returns logical id → table name.

    ``names`` maps logical ids to table names (default: the logical id); ``only``
    restricts creation to some logical ids.
    """
    wanted = set(only) if only is not None else None
    created: dict[str, str] = {}
    for logical_id, definition in table_definitions(template).items():
        if wanted is not None and logical_id not in wanted:
            continue
        name = (names or {}).get(logical_id, logical_id)
        client.create_table(TableName=name, **definition.request)
        if definition.ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={
                    "Enabled": True,
                    "AttributeName": definition.ttl_attribute,
                },
            )
        created[logical_id] = name
    return created
