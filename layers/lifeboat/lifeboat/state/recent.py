"""Every monitored resource's recent backups and copies, read fleet-wide from ``byTypeStatus``.

The RPO monitor used to query each resource's history (``byResource``) on every 15-minute run:
one call per resource per run, 96 a day. It now reads the operations that finished (or changed)
within a window from the index, one paginated query per type and status, whatever the fleet
size; only a resource with no valid point in the window (new, or failing for longer than the
window: in breach either way) still has its own history read, to report how old its newest
point is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.state.store import BY_TYPE_STATUS_INDEX, StateStore

# What the monitor needs: the valid points (a PARTIAL backup's source point is valid) and the
# newest attempt of each resource's backup, whatever its outcome.
_READ = (
    (OperationType.BACKUP, OperationStatus.SUCCEEDED),
    (OperationType.BACKUP, OperationStatus.PARTIAL),
    (OperationType.COPY, OperationStatus.SUCCEEDED),
    (OperationType.BACKUP, OperationStatus.FAILED),
    (OperationType.BACKUP, OperationStatus.RUNNING),
    (OperationType.BACKUP, OperationStatus.PENDING),
)


def recent_operations(
    store: StateStore, resource_arns: Collection[str], since: datetime
) -> dict[str, list[Operation]]:
    """Per resource, its backups and copies updated after ``since`` (six paginated queries)."""
    wanted = set(resource_arns)
    found: dict[str, list[Operation]] = defaultdict(list)
    if not wanted:
        return found
    for kind, status in _READ:
        request: dict[str, Any] = {
            "TableName": store.table_name,
            "IndexName": BY_TYPE_STATUS_INDEX,
            "KeyConditionExpression": "typeStatus = :ts AND updatedAt > :since",
            "ExpressionAttributeValues": {
                ":ts": {"S": f"{kind.value}#{status.value}"},
                ":since": {"S": since.isoformat()},
            },
        }
        for item in store.query_pages(request, f"querying recent {kind.value} {status.value}"):
            arn = item.get("resourceArn")
            if arn in wanted:
                found[arn].append(Operation.model_validate(item))
    return found
