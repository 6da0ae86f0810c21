"""Which recorded recovery points a restore may use, and why one is chosen.

Pure: the caller passes a resource's operations from the state table. A recovery point is valid
in a region when its level-1 validation there passed (recorded on its BACKUP in the source region,
on its COPY in a DR region) and cleanup has not deleted it, whatever became of the rest of its
backup: a PARTIAL backup's source point is as good as a SUCCEEDED one's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lifeboat.domain.health import format_minutes
from lifeboat.domain.operations import Operation, OperationType
from lifeboat.errors import InvalidInput, RecoveryPointNotFound


@dataclass(frozen=True)
class ChosenPoint:
    operation: Operation
    recovery_point_id: str
    taken_at: datetime
    reason: str


def _kind(region: str, source_region: str) -> OperationType:
    return OperationType.BACKUP if region == source_region else OperationType.COPY


def _taken_at(operations: list[Operation]) -> dict[str, datetime]:
    """A point's data time: its backup operation's start (a copy holds the same data)."""
    return {
        op.recovery_point_id: op.created_at
        for op in operations
        if op.type is OperationType.BACKUP and op.recovery_point_id
    }


def _problem(op: Operation) -> str | None:
    """Why a recorded point cannot be restored, or None when it can."""
    if op.details.get("deletedAt"):
        return f"deleted by cleanup at {op.details['deletedAt']}"
    if op.details.get("foreignSnapshot"):
        return "its snapshot's tags disagree with the state table"
    if op.validated:
        return None  # whatever became of the rest of its backup (a PARTIAL one lacks a DR copy)
    validation = op.details.get(f"validation_{op.region}")
    if validation is None:
        return f"its {op.type.value.lower()} is {op.status.value}" + (f" ({op.error})" if op.error else "")
    failed = [c.get("name") for c in validation.get("checks", []) if not c.get("passed")]
    return "it failed validation" + (f" ({', '.join(map(str, failed))})" if failed else "")


def valid_points(operations: list[Operation], region: str, source_region: str) -> list[Operation]:
    """Restorable points in ``region``, newest first."""
    taken = _taken_at(operations)
    kind = _kind(region, source_region)
    usable = [
        op
        for op in operations
        if op.type is kind and op.region == region and op.recovery_point_id and _problem(op) is None
    ]
    return sorted(usable, key=lambda op: taken.get(op.recovery_point_id or "", op.created_at), reverse=True)


def choose(
    operations: list[Operation],
    *,
    region: str,
    source_region: str,
    recovery_point_id: str | None,
    now: datetime,
) -> ChosenPoint:
    """The requested point, or the newest valid one, in ``region``; a clear error otherwise."""
    taken = _taken_at(operations)
    kind = _kind(region, source_region)
    if not any(op.type in (OperationType.BACKUP, OperationType.COPY) for op in operations):
        raise RecoveryPointNotFound(
            "no recovery point of this resource is recorded in the state table: is it protected by a "
            "Lifeboat policy, and has a backup run?"
        )
    if recovery_point_id is not None:
        recorded = [op for op in operations if op.type is kind and op.region == region]
        match = next((op for op in recorded if op.recovery_point_id == recovery_point_id), None)
        if match is None:
            held = _regions_holding(operations, recovery_point_id, source_region)
            where = f"it exists in {', '.join(held)}" if held else "no such recovery point is recorded"
            raise RecoveryPointNotFound(
                f"recovery point {recovery_point_id} has no copy in {region}: {where}"
            )
        problem = _problem(match)
        if problem:
            raise InvalidInput(
                f"recovery point {recovery_point_id} in {region} cannot be restored: {problem}"
            )
        at = taken.get(recovery_point_id, match.created_at)
        return ChosenPoint(
            match, recovery_point_id, at, f"requested recovery point, taken {at:%Y-%m-%d %H:%M}Z"
        )
    candidates = valid_points(operations, region, source_region)
    if not candidates:
        elsewhere = [
            r
            for r in sorted({op.region for op in operations})
            if r != region and valid_points(operations, r, source_region)
        ]
        hint = f"; valid points exist in {', '.join(elsewhere)}" if elsewhere else ""
        raise RecoveryPointNotFound(f"no valid recovery point in {region}{hint}")
    newest = candidates[0]
    point = newest.recovery_point_id or ""
    at = taken.get(point, newest.created_at)
    age = format_minutes((now - at).total_seconds() / 60)
    where = "source region" if kind is OperationType.BACKUP else "DR copy"
    return ChosenPoint(
        newest,
        point,
        at,
        f"newest valid recovery point in {region} ({where}), taken {at:%Y-%m-%d %H:%M}Z, {age} old; "
        f"{len(candidates)} valid point(s) there",
    )


def _regions_holding(operations: list[Operation], recovery_point_id: str, source_region: str) -> list[str]:
    return sorted(
        {
            op.region
            for op in operations
            if op.recovery_point_id == recovery_point_id
            and op.type is _kind(op.region, source_region)
            and _problem(op) is None
        }
    )
