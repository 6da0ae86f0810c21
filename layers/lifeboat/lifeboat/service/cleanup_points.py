"""The recovery points of one resource as the state table records them: what cleanup plans from
and decides again from immediately before it deletes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.domain.policy import Tier
from lifeboat.domain.retention import LEGAL_HOLD_TAG, RecoveryPoint

_POINT_TYPES = frozenset({OperationType.BACKUP.value, OperationType.COPY.value})
_OWN_TYPES = _POINT_TYPES | {OperationType.DELETE.value}
_ACTIVE = frozenset({OperationStatus.PENDING.value, OperationStatus.RUNNING.value})


def last_policy(items: list[dict[str, Any]]) -> str | None:
    """The policy of the resource's newest recorded point (its tag may be gone)."""
    recorded = [i for i in items if i.get("type") in _POINT_TYPES and i.get("policy")]
    return str(max(recorded, key=lambda i: str(i["createdAt"]))["policy"]) if recorded else None


def points_of(items: list[dict[str, Any]]) -> list[RecoveryPoint]:
    """The recovery points that exist (a snapshot was started and not yet deleted)."""
    in_use = {
        str(i["recoveryPointId"]): str(i["operationId"])
        for i in items
        if i.get("type") not in _OWN_TYPES and i.get("status") in _ACTIVE and i.get("recoveryPointId")
    }
    taken = {
        str(i["recoveryPointId"]): _time(i["createdAt"])
        for i in items
        if i.get("type") == OperationType.BACKUP.value and i.get("recoveryPointId")
    }
    points = []
    for item in items:
        if item.get("type") not in _POINT_TYPES or not item.get("recoveryPointId"):
            continue
        details: dict[str, Any] = item.get("details") or {}
        started = any(h.get("status") == OperationStatus.RUNNING.value for h in item.get("history", []))
        if not started or details.get("deletedAt"):
            continue
        point_id, region = str(item["recoveryPointId"]), str(item["region"])
        validation = details.get(f"validation_{region}") or {}
        points.append(
            RecoveryPoint(
                recovery_point_id=point_id,
                region=region,
                operation_id=str(item["operationId"]),
                tier=Tier(item["tier"]) if item.get("tier") in set(Tier) else None,
                taken_at=taken.get(point_id) or _time(item["createdAt"]),
                valid=validation.get("valid") is True,
                ours=not details.get("foreignSnapshot"),
                pinned_by=_pin(details),
                in_use_by=in_use.get(point_id),
            )
        )
    return _one_per_snapshot(points)


def _one_per_snapshot(points: list[RecoveryPoint]) -> list[RecoveryPoint]:
    """A point and region is one snapshot, whatever number of records name it: a copy that failed
    after it started and the catch-up copy that later made it (``copy:<id>:<region>:catch-up``).
    The valid record stands for it, so a guard that keeps the valid one keeps the snapshot."""
    chosen: dict[tuple[str, str], RecoveryPoint] = {}
    for point in points:
        key = (point.recovery_point_id, point.region)
        if key not in chosen or (point.valid and not chosen[key].valid):
            chosen[key] = point
    return list(chosen.values())


def _pin(details: dict[str, Any]) -> str | None:
    if details.get("forceRetain"):
        return "forceRetain"
    if details.get("legalHold"):
        return f"legal hold ({LEGAL_HOLD_TAG}={details['legalHold']})"
    return None


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))
