"""What a backup run did, per resource, read back from the state table by deterministic ids."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from lifeboat.contracts.backup import Plan
from lifeboat.domain.ids import backup_operation_id, recovery_point_id
from lifeboat.domain.operations import Operation, OperationType
from lifeboat.state.store import StateStore


class CopyOutcome(BaseModel):
    region: str
    status: str
    kms_key_id: str | None
    valid: bool | None


class ResourceOutcome(BaseModel):
    resource_arn: str
    policy: str
    recovery_point_id: str
    status: str
    validation: str
    copies: list[CopyOutcome]
    duration_seconds: float | None
    error: str | None = None
    cause: str | None = None

    @property
    def name(self) -> str:
        return self.resource_arn.rsplit(":", 1)[-1]


def _validation_summary(operation: Operation) -> str:
    result = operation.details.get(f"validation_{operation.region}")
    if not result:
        return "not validated"
    checks = result.get("checks", [])
    passed = sum(1 for check in checks if check.get("passed"))
    return f"{'valid' if result.get('valid') else 'INVALID'} ({passed}/{len(checks)} checks)"


def _copy_outcome(operation: Operation) -> CopyOutcome:
    validation = operation.details.get(f"validation_{operation.region}") or {}
    return CopyOutcome(
        region=operation.region,
        status=operation.status.value,
        kms_key_id=operation.details.get("kmsKeyId"),
        valid=validation.get("valid"),
    )


def run_outcomes(store: StateStore, plan: Plan) -> list[ResourceOutcome]:
    """One row per planned resource: two reads each (the backup item, the resource's copies)."""
    outcomes = []
    for resource in plan.resources:
        point = recovery_point_id(resource.arn, plan.tier, plan.scheduled_at)
        backup = store.get(backup_operation_id(point))
        copies = [
            _copy_outcome(op)
            for op in store.by_resource(resource.arn)
            if op.type is OperationType.COPY and op.recovery_point_id == point
        ]
        outcomes.append(
            ResourceOutcome(
                resource_arn=resource.arn,
                policy=resource.policy,
                recovery_point_id=point,
                status=backup.status.value if backup else "NOT RECORDED",
                validation=_validation_summary(backup) if backup else "not validated",
                copies=sorted(copies, key=lambda c: c.region),
                duration_seconds=(backup.updated_at - backup.created_at).total_seconds() if backup else None,
                error=backup.error if backup else None,
                cause=backup.cause if backup else None,
            )
        )
    return outcomes


def execution_cause(described: dict[str, Any]) -> str:
    """The error message of a failed execution's cause (a Lambda error's JSON), else the cause."""
    cause = described.get("cause") or ""
    try:
        return str(json.loads(cause).get("errorMessage", cause))
    except (ValueError, AttributeError):
        return cause
