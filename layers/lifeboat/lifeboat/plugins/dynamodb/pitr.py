"""DynamoDB point-in-time recovery: the table's continuous protection, turned on and kept at the
policy's recovery period (``UpdateContinuousBackups``, no effect on the table's traffic)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lifeboat.aws.errors import translated
from lifeboat.domain.arn import ResourceRef
from lifeboat.plugins.dynamodb.errors import DYNAMODB_ERRORS

# DynamoDB's recovery period when a request names none.
DEFAULT_RECOVERY_DAYS = 35


def _described(client: Any, ref: ResourceRef) -> dict[str, Any]:
    with translated(DYNAMODB_ERRORS, f"point-in-time recovery of {ref.arn}"):
        described = client.describe_continuous_backups(TableName=ref.name)
    return dict(described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription") or {})


def ensure(client: Any, ref: ResourceRef, days: int) -> list[str]:
    """PITR on with a recovery period of at least ``days``; the changes made."""
    pitr = _described(client, ref)
    enabled = pitr.get("PointInTimeRecoveryStatus") in ("ENABLED", "ENABLING")
    period = int(pitr.get("RecoveryPeriodInDays") or DEFAULT_RECOVERY_DAYS)
    if enabled and period >= days:
        return []
    with translated(DYNAMODB_ERRORS, f"turning on point-in-time recovery of {ref.arn}"):
        client.update_continuous_backups(
            TableName=ref.name,
            PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": True,
                "RecoveryPeriodInDays": days,
            },
        )
    if enabled:
        return [f"point-in-time recovery period {period} -> {days} days"]
    return [f"point-in-time recovery on ({days} days)"]


def latest_restorable(client: Any, ref: ResourceRef) -> datetime | None:
    """The newest time a restore reaches (about five minutes behind now), None when PITR is off."""
    pitr = _described(client, ref)
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        return None
    latest = pitr.get("LatestRestorableDateTime")
    return latest if isinstance(latest, datetime) else None
