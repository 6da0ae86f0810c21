"""The JSON the cleanup workflow's steps receive and return (camelCase, as Step Functions carries it).

No payload grows with the fleet: the plan writes its deletion batches to the stack's bucket and
the workflow's Distributed Map reads them from there (``ItemReader``), its children's results go
back to the bucket (``ResultWriter``), and the report step reads them. Step Functions' 256 KiB
payload limit once failed a 170-resource cleanup after its deletions were made. The per-point
plan with each kept point's reason is what ``lifeboat cleanup --dry-run`` prints.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from lifeboat.contracts.work_files import LISTED, MapResults, S3Location
from lifeboat.domain.arn import ResourceArn
from lifeboat.domain.models import CamelModel
from lifeboat.domain.policy import Tier
from lifeboat.domain.retention import Decision

# The largest per-run budget a deployment or a request can name (template MaxValue too).
MAX_DELETIONS_CEILING = 100_000


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
    execution_name: str | None = Field(default=None, max_length=80, pattern=r"^[A-Za-z0-9_-]+$")


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


class DeletionChunk(CamelModel):
    """One Map item of the cleanup: the planned deletions of one or more resources (at most
    ``service.cleanup.CHUNK_SIZE`` in all), whose recovery points are described together: one
    call per resource type and region where the type's API describes many at once, instead of
    one call per point."""

    run_id: str
    batches: list[DeletionBatch] = Field(min_length=1)


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
    daily_expiry: int
    resources: list[ResourcePlan]
    skipped: list[SkippedCleanup]


class CleanupPlan(CamelModel):
    """The workflow's plan: counts, and where its deletion batches are (one per resource)."""

    run_id: str
    dry_run: bool
    max_deletions: int
    daily_expiry: int = Field(description="Recovery points the fleet makes, so expires, per day.")
    resources_planned: int
    kept_by_rule: dict[str, int]
    to_delete: int
    deferred: int = Field(description="The backlog: expired points left for later runs.")
    batch_count: int = Field(description="Map items (DeletionChunk), each of several resources.")
    items: S3Location
    skipped_count: int = 0
    skipped: list[SkippedCleanup] = Field(default_factory=list, max_length=LISTED)


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


class ChunkResult(CamelModel):
    batches: list[BatchResult]


class CleanupReportRequest(CamelModel):
    plan: CleanupPlan
    written: MapResults


class RefusedDeletion(DeletionResult):
    resource_arn: str


class CleanupReport(CamelModel):
    """A cleanup run's outcome, counted over every batch's results."""

    run_id: str
    dry_run: bool = False
    max_deletions: int
    daily_expiry: int
    to_delete: int
    deferred: int
    kept_by_rule: dict[str, int]
    deleted: int
    already_deleted: int
    refused: int
    refusals: list[RefusedDeletion] = Field(max_length=LISTED)
    results: S3Location = Field(description="The deletion Map's manifest: every result of the run.")
