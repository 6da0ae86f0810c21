"""Operations in DynamoDB: one item each, status changes as conditional writes.

A status write is a single ``UpdateItem`` whose condition is "the current status is one the new
status may follow"; the history is appended in the same write with ``list_append``. Two writers
therefore never lose each other's update, and no status ever moves backwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from lifeboat.aws.errors import error_code, translated
from lifeboat.domain.ids import operation_type_name
from lifeboat.domain.operations import (
    Operation,
    OperationStatus,
    OperationType,
    StatusChange,
    check_transition,
    previous_statuses,
)
from lifeboat.errors import OperationNotFound

BY_RESOURCE_INDEX = "byResource"
BY_TYPE_STATUS_INDEX = "byTypeStatus"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    plain = json.loads(json.dumps(data, default=str), parse_float=Decimal)
    return {k: _serializer.serialize(v) for k, v in plain.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {k: plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _now() -> datetime:
    return datetime.now(UTC)


class StateStore:
    """Operations of one state table; ``client`` is a low-level DynamoDB client."""

    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self.client = client

    def get(self, operation_id: str) -> Operation | None:
        with translated({}, f"reading operation {operation_id}"):
            found = self.client.get_item(
                TableName=self.table_name, Key={"operationId": {"S": operation_id}}, ConsistentRead=True
            )
        return Operation.model_validate(from_item(found["Item"])) if "Item" in found else None

    def open(
        self,
        *,
        operation_id: str,
        type: OperationType,
        resource_arn: str,
        region: str,
        retain_days: int,
        status: OperationStatus = OperationStatus.PENDING,
        detail: str | None = None,
        **fields: Any,
    ) -> tuple[Operation, bool]:
        """Create the operation if it does not exist. Returns (operation, created)."""
        now = _now()
        operation = Operation(
            operation_id=operation_id,
            type=type,
            resource_arn=resource_arn,
            region=region,
            status=status,
            history=[StatusChange(status=status, at=now, detail=detail)],
            created_at=now,
            updated_at=now,
            expires_at=int(now.timestamp()) + retain_days * 86_400,
            **fields,
        )
        item = operation.model_dump(mode="json", by_alias=True)
        item["typeStatus"] = operation.type_status
        if self.put_new(item, f"creating operation {operation_id}"):
            return operation, True
        existing = self.get(operation_id)
        if existing is None:
            raise OperationNotFound(f"operation {operation_id} vanished while opening it") from None
        return existing, False

    def put_new(
        self,
        item: dict[str, Any],
        what: str,
        *,
        condition: str = "attribute_not_exists(operationId)",
        values: dict[str, Any] | None = None,
    ) -> bool:
        """Write ``item`` in one conditional put; False when the condition failed (another writer
        got there first), so of N concurrent writers of one key exactly one sees True."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": to_item(item),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeValues"] = to_item(values)
        try:
            with translated({}, what):
                self.client.put_item(**request)
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def transition(
        self,
        operation_id: str,
        status: OperationStatus,
        *,
        detail: str | None = None,
        error: str | None = None,
        cause: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Operation:
        """Move an operation to ``status`` in one conditional write.

        Repeating the current status (a retried step) is a no-op that returns the operation.
        """
        now = _now().isoformat()
        change = {"status": status.value, "at": now, "detail": detail}
        names = {
            "#status": "status",
            "#typeStatus": "typeStatus",
            "#updatedAt": "updatedAt",
            "#history": "history",
        }
        values: dict[str, Any] = {
            ":status": status.value,
            # typeStatus = "<TYPE>#<STATUS>" lets the GSI answer "all FAILED backups".
            ":typeStatus": f"{operation_type_name(operation_id)}#{status.value}",
            ":updatedAt": now,
            ":change": [{k: v for k, v in change.items() if v is not None}],
        }
        assignments = [
            "#status = :status",
            "#typeStatus = :typeStatus",
            "#updatedAt = :updatedAt",
            "#history = list_append(#history, :change)",
        ]
        for name, value in (("error", error), ("cause", cause)):
            if value is not None:
                names[f"#{name}"], values[f":{name}"] = name, value
                assignments.append(f"#{name} = :{name}")
        assignments += self._detail_assignments(details, names, values)
        allowed = sorted(previous_statuses(status))
        for i, previous in enumerate(allowed):
            values[f":from{i}"] = previous.value
        condition = " OR ".join(f"#status = :from{i}" for i in range(len(allowed)))
        try:
            with translated({}, f"updating operation {operation_id}"):
                updated = self.client.update_item(
                    TableName=self.table_name,
                    Key={"operationId": {"S": operation_id}},
                    UpdateExpression="SET " + ", ".join(assignments),
                    ConditionExpression=f"attribute_exists(operationId) AND ({condition})",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_item(values),
                    ReturnValues="ALL_NEW",
                )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            current = self.get(operation_id)
            if current is None:
                raise OperationNotFound(f"operation {operation_id} does not exist") from None
            check_transition(current.status, status)  # raises unless this repeats the status
            return current
        return Operation.model_validate(from_item(updated["Attributes"]))

    def record_details(self, operation_id: str, details: dict[str, Any]) -> Operation:
        """Add facts (validation results, copy targets) without changing the status."""
        names: dict[str, str] = {"#updatedAt": "updatedAt"}
        values: dict[str, Any] = {":updatedAt": _now().isoformat()}
        assignments = ["#updatedAt = :updatedAt", *self._detail_assignments(details, names, values)]
        try:
            with translated({}, f"updating operation {operation_id}"):
                updated = self.client.update_item(
                    TableName=self.table_name,
                    Key={"operationId": {"S": operation_id}},
                    UpdateExpression="SET " + ", ".join(assignments),
                    ConditionExpression="attribute_exists(operationId)",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=to_item(values),
                    ReturnValues="ALL_NEW",
                )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise OperationNotFound(f"operation {operation_id} does not exist") from None
            raise
        return Operation.model_validate(from_item(updated["Attributes"]))

    @staticmethod
    def _detail_assignments(
        details: dict[str, Any] | None, names: dict[str, str], values: dict[str, Any]
    ) -> list[str]:
        assignments = []
        # None means "nothing to record" (DynamoDB items hold no nulls here).
        present = {key: value for key, value in (details or {}).items() if value is not None}
        for i, (key, value) in enumerate(present.items()):
            names["#details"], names[f"#d{i}"], values[f":d{i}"] = "details", key, value
            assignments.append(f"#details.#d{i} = :d{i}")
        return assignments

    def by_resource(self, resource_arn: str, *, limit: int = 50) -> list[Operation]:
        """Newest first: the operations of one resource (GSI ``byResource``)."""
        return self._query(BY_RESOURCE_INDEX, "resourceArn", resource_arn, limit)

    def history_of(self, resource_arn: str) -> list[Operation]:
        """Every operation of one resource, newest first (all pages of ``byResource``)."""
        return [Operation.model_validate(item) for item in self.items_of(resource_arn)]

    def items_of(self, resource_arn: str) -> list[dict[str, Any]]:
        """The raw items behind ``history_of`` (cleanup reads fields the model does not name)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": BY_RESOURCE_INDEX,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": "resourceArn"},
            "ExpressionAttributeValues": {":v": {"S": resource_arn}},
            "ScanIndexForward": False,
        }
        return list(self.query_pages(request, f"querying {BY_RESOURCE_INDEX} for {resource_arn}"))

    def query_pages(self, request: dict[str, Any], what: str) -> Iterator[dict[str, Any]]:
        """The items of a ``Query`` request, page after page, read only as far as the caller
        iterates (a caller that stops early reads no further page)."""
        request = dict(request)
        while True:
            with translated({}, what):
                page = self.client.query(**request)
            for item in page["Items"]:
                yield from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def by_type_status(
        self, type: OperationType, status: OperationStatus, *, limit: int = 50
    ) -> list[Operation]:
        """Newest first: e.g. every FAILED backup (GSI ``byTypeStatus``)."""
        return self._query(BY_TYPE_STATUS_INDEX, "typeStatus", f"{type.value}#{status.value}", limit)

    def _query(self, index: str, key: str, value: str, limit: int) -> list[Operation]:
        with translated({}, f"querying {index}"):
            found = self.client.query(
                TableName=self.table_name,
                IndexName=index,
                KeyConditionExpression="#k = :v",
                ExpressionAttributeNames={"#k": key},
                ExpressionAttributeValues={":v": {"S": value}},
                ScanIndexForward=False,
                Limit=limit,
            )
        return [Operation.model_validate(from_item(item)) for item in found["Items"]]
