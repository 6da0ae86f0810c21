"""Operations (one per backup, copy, restore, ...) and the status graph they move along."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from lifeboat.domain.models import CamelModel
from lifeboat.errors import IllegalStatusTransition


class OperationStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    # A backup whose source-region point is valid but some DR copies are missing (each copy
    # has its own operation, with its error and cause).
    PARTIAL = "PARTIAL"

    @property
    def terminal(self) -> bool:
        return self in (OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.PARTIAL)


class OperationType(StrEnum):
    BACKUP = "BACKUP"
    COPY = "COPY"
    DELETE = "DELETE"
    RESTORE = "RESTORE"
    DRILL = "DRILL"  # SUCCEEDED = every check passed; FAILED = a check failed or the drill broke
    FAILOVER = "FAILOVER"  # one resource of a regional failover: its new primary, RTO, data age
    EXPERIMENT = "EXPERIMENT"  # a failover experiment: fault, recovery time, checks, outcome


# PENDING -> RUNNING -> SUCCEEDED | PARTIAL | FAILED; an operation may also fail before it runs.
NEXT_STATUSES: dict[OperationStatus, frozenset[OperationStatus]] = {
    OperationStatus.PENDING: frozenset({OperationStatus.RUNNING, OperationStatus.FAILED}),
    OperationStatus.RUNNING: frozenset(
        {OperationStatus.SUCCEEDED, OperationStatus.PARTIAL, OperationStatus.FAILED}
    ),
    OperationStatus.SUCCEEDED: frozenset(),
    OperationStatus.FAILED: frozenset(),
    OperationStatus.PARTIAL: frozenset(),
}


def previous_statuses(status: OperationStatus) -> frozenset[OperationStatus]:
    return frozenset(s for s, following in NEXT_STATUSES.items() if status in following)


def check_transition(current: OperationStatus, new: OperationStatus) -> bool:
    """True when ``current -> new`` is a move, False when it repeats ``current`` (a retry).

    Raises IllegalStatusTransition for anything that would go backwards or skip a step.
    """
    if current == new:
        return False
    if new not in NEXT_STATUSES[current]:
        raise IllegalStatusTransition(f"operation status cannot move from {current} to {new}")
    return True


class StatusChange(CamelModel):
    status: OperationStatus
    at: datetime
    detail: str | None = None


class Operation(CamelModel):
    """One item of the state table (index keys such as ``typeStatus`` are derived, not modelled)."""

    model_config = ConfigDict(extra="ignore")

    operation_id: str
    type: OperationType
    resource_arn: str
    region: str
    status: OperationStatus = OperationStatus.PENDING
    history: list[StatusChange] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    expires_at: int
    recovery_point_id: str | None = None
    run_id: str | None = None
    tier: str | None = None
    policy: str | None = None
    error: str | None = None
    cause: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def validated(self) -> bool:
        """Its recovery point passed level-1 validation in its region and is still there: a
        valid point whatever the outcome of the rest of its backup (a DR copy may have failed)."""
        validation = self.details.get(f"validation_{self.region}") or {}
        return validation.get("valid") is True and not self.details.get("deletedAt")

    @property
    def type_status(self) -> str:
        return f"{self.type.value}#{self.status.value}"
