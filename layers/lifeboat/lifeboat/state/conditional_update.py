"""A conditional DynamoDB update of one state-table item, built up clause by clause."""

from __future__ import annotations

from typing import Any

from lifeboat.state.store import StateStore, to_item

__all__ = ["ConditionalUpdate"]


class ConditionalUpdate:
    """One conditional ``UpdateItem`` of an item, built up clause by clause: a map key or value
    becomes an alias, so any holder id is safe in the expression."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.conditions: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, holder: str) -> str:
        alias = f"#h{len(self.names)}"
        self.names[alias] = holder
        return alias

    def names_of(self, holder: str) -> str | None:
        return next((alias for alias, name in self.names.items() if name == holder), None)

    def value(self, value: Any) -> str:
        alias = f":v{len(self.values)}"
        self.values[alias] = value
        return alias

    def request(self, store: StateStore, operation_id: str) -> dict[str, Any]:
        expression = " ".join(
            part
            for part in (
                f"SET {', '.join(self.sets)}" if self.sets else "",
                f"REMOVE {', '.join(self.removes)}" if self.removes else "",
            )
            if part
        )
        request: dict[str, Any] = {
            "TableName": store.table_name,
            "Key": {"operationId": {"S": operation_id}},
            "UpdateExpression": expression,
            "ConditionExpression": " AND ".join(self.conditions),
        }
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = to_item(self.values)
        return request
