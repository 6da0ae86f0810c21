"""The newest finished restore drills of many resources, from the ``byTypeStatus`` index.

The monitor reads each resource's newest operations from ``byResource`` with a limit (about
two weeks of daily backups). A monthly drill is older than that, so drills are read fleet-wide
instead: per run, one paginated query of ``DRILL#SUCCEEDED`` newest first (``updatedAt`` is
when a drill finished), stopped as soon as every monitored resource has been found, and one of
``DRILL#FAILED`` bounded to failures newer than the oldest of those successes. Both read only
drills finished after ``since``: most resources are never drilled (drills are opt-in per
policy), and without a bound every 15-minute run would read the whole drill history (kept 400
days). Two bounded queries per run whatever the fleet size, never one per resource.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.state.store import BY_TYPE_STATUS_INDEX, StateStore


@dataclass
class LatestDrills:
    succeeded: dict[str, Operation] = field(default_factory=dict)  # resource ARN -> newest passed
    failed: dict[str, Operation] = field(default_factory=dict)  # resource ARN -> newest failed after it


def latest_drills(store: StateStore, resource_arns: Collection[str], since: datetime) -> LatestDrills:
    """Per resource: its newest SUCCEEDED drill, and its newest FAILED drill if that came later,
    among the drills that finished after ``since``."""
    found = LatestDrills()
    wanted = set(resource_arns)
    if not wanted:
        return found
    finished_at: dict[str, str] = {}  # the raw updatedAt, to bound the second query exactly
    for item in _newest_first(store, OperationStatus.SUCCEEDED, since.isoformat()):
        arn = item.get("resourceArn")
        if arn in wanted and arn not in found.succeeded:
            found.succeeded[arn] = Operation.model_validate(item)
            finished_at[arn] = item["updatedAt"]
            if len(found.succeeded) == len(wanted):
                break
    # A failure older than a resource's newest success is not its latest outcome; when every
    # resource has a success, failures older than the oldest of them need not be read at all.
    oldest_success = min(finished_at.values()) if len(finished_at) == len(wanted) else None
    for item in _newest_first(store, OperationStatus.FAILED, oldest_success or since.isoformat()):
        arn = item.get("resourceArn")
        if arn not in wanted or arn in found.failed or item["updatedAt"] <= finished_at.get(arn, ""):
            continue
        found.failed[arn] = Operation.model_validate(item)
        if len(found.failed) == len(wanted):
            break
    return found


def _newest_first(store: StateStore, status: OperationStatus, since: str) -> Iterator[dict[str, Any]]:
    """Drill items of one status finished after ``since``, newest first, one page at a time."""
    values = {":ts": {"S": f"{OperationType.DRILL.value}#{status.value}"}, ":since": {"S": since}}
    condition = "typeStatus = :ts AND updatedAt > :since"
    request: dict[str, Any] = {
        "TableName": store.table_name,
        "IndexName": BY_TYPE_STATUS_INDEX,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
    }
    return store.query_pages(request, f"querying {status.value} drills")
