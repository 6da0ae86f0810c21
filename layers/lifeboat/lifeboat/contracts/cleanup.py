"""The JSON the cleanup workflow's steps receive and return (camelCase, as Step Functions carries it).

The workflow's plan is compact on purpose (deletions and counts, not every kept point): 1,000
resources with years of history must fit Step Functions' 256 KiB payload limit. The per-point
plan with each kept point's reason is what ``lifeboat cleanup --dry-run`` prints.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from lifeboat.domain.arn import ResourceArn
from lifeboat.domain.models import CamelModel
from lifeboat.domain.policy import Tier
from lifeboat.domain.retention import Decision

# A hard ceiling whatever the deployment says: one night's cleanup cannot wipe a fleet, and
# the deletion Map stays far below Step Functions' history limit.
MAX_DELETIONS_CEILING = 1000


class CleanupRequest(CamelModel):
    """What starts a cleanup run: the daily schedule rule's input, or an operator."""

    model_config = ConfigDict(extra="ignore")

    dry_run: bool = False
    max_deletions: int | None = Field(
        default=None, ge=0, le=MAX_DELETIONS_CEILING, description="Lower the deployment's cap."
    )
    resources: list[ResourceArn] | None = Field(
        default=None, description="Only these ARNs (also the way to clean up a deleted resource)."
    )
    scheduled_at: datetime | None = None
    trigger: str = "manual"


class CleanupPlanRequest(CamelModel):
    request: CleanupRequest
    execution_start_time: datetime


class PlannedDeletion(CamelModel):
    recovery_point_id: str
    region: str
    operation_id: str
    tier: Tier | None
    reason: str


class DeletionBatch(CamelModel):
    """The deletions of one resource (one Map item of the workflow)."""

    resource_arn: ResourceArn
    policy: str
    run_id: str
    deletions: list[PlannedDeletion]


class ResourcePlan(CamelModel):
    """Every recovery point of one resource with its decision (the dry run's view)."""

    arn: str
    policy: str
    source_deleted: bool = False
    decisions: list[Decision]


class SkippedCleanup(CamelModel):
    arn: str
    reason: str


class FleetPlan(CamelModel):
    run_id: str
    now: datetime
    max_deletions: int
    resources: list[ResourcePlan]
    skipped: list[SkippedCleanup]


class CleanupPlan(CamelModel):
    """The workflow's plan: what to delete now, and counts of everything else."""

    run_id: str
    dry_run: bool
    max_deletions: int
    resources_planned: int
    kept_by_rule: dict[str, int]
    to_delete: int
    deferred: int
    batches: list[DeletionBatch]
    skipped: list[SkippedCleanup]


class DeletionOutcome(StrEnum):
    DELETED = "deleted"
    ALREADY_DELETED = "already-deleted"
    REFUSED = "refused"


class DeletionResult(CamelModel):
    recovery_point_id: str
    region: str
    outcome: DeletionOutcome
    detail: str


class BatchResult(CamelModel):
    resource_arn: str
    deleted: int
    refused: int
    results: list[DeletionResult]
