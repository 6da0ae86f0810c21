"""The JSON each workflow step receives and returns (camelCase, as Step Functions carries it)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from lifeboat.contracts.work_files import LISTED, S3Location
from lifeboat.domain.arn import ResourceArn
from lifeboat.domain.ids import normalise_time
from lifeboat.domain.models import CamelModel
from lifeboat.domain.operations import OperationStatus
from lifeboat.domain.policy import DrTarget, Tier
from lifeboat.domain.recovery import Check, SourceSpec


class RunRequest(CamelModel):
    """What starts a backup run: a schedule rule's input, or an operator."""

    model_config = ConfigDict(extra="ignore")

    tier: Tier
    scheduled_at: datetime | None = None
    resources: list[ResourceArn] | None = Field(
        default=None, description="Restrict the run to these ARNs (on-demand backups)."
    )
    trigger: str = "manual"


class PlanRequest(CamelModel):
    request: RunRequest
    execution_start_time: datetime
    execution_name: str | None = Field(default=None, max_length=80, pattern=r"^[A-Za-z0-9_-]+$")


class PlannedResource(CamelModel):
    arn: ResourceArn
    policy: str
    # Failed runs in a row before this one (absent when none): its success resets the breaker.
    failed_runs: int | None = None


class SkippedResource(CamelModel):
    arn: str
    reason: str


class CheckedKey(CamelModel):
    """A DR region's KMS key as the plan found it, once per run: enabled, and its ARN. A copy
    under it starts without asking KMS again; a key the plan could not check is not listed, and
    its copy step checks it (and records why it cannot copy) in that region."""

    region: str
    key_id: str = Field(description="The key as the policy names it (id, ARN, alias).")
    arn: str


class QuotaRoom(CamelModel):
    """The manual-snapshot quota of one resource type in one source region as the plan read it,
    once per run, and the recovery points the run adds there (its snapshots and the copies other
    regions send). Where they fit with the reserve to spare (``enough``), the preflights do not
    read the quota again; where they do not, each preflight reads it and makes room as before."""

    resource_type: str
    region: str
    headroom: int
    planned: int
    enough: bool


class Plan(CamelModel):
    run_id: str
    tier: Tier
    scheduled_at: datetime
    resources: list[PlannedResource]
    skipped: list[SkippedResource]
    keys: list[CheckedKey] = Field(default_factory=list)
    quota_room: list[QuotaRoom] = Field(default_factory=list)


class PlanSummary(CamelModel):
    """The plan as the workflow's payload carries it: counts, and where the plan's files are."""

    run_id: str
    tier: Tier
    scheduled_at: datetime
    resource_count: int
    skipped_count: int
    skipped: list[SkippedResource] = Field(max_length=LISTED)
    # Both absent when the run has nothing to plan or skip (an hourly run no policy keeps).
    items: S3Location | None = Field(description="The planned resources: one item each for the Map.")
    plan: S3Location | None = Field(description="The whole plan, with every skipped resource's reason.")
    # The backup Map's concurrency (MaxConcurrencyPath): the config's backupConcurrency.
    max_concurrency: int = 1000
    # One per DR region and key of the planned policies, whatever the fleet size.
    keys: list[CheckedKey] = Field(default_factory=list)
    # One per resource type and source region.
    quota_room: list[QuotaRoom] = Field(default_factory=list)


class ResourceTask(CamelModel):
    """The input of one per-resource child execution."""

    model_config = ConfigDict(extra="ignore")

    resource: PlannedResource
    run_id: str
    tier: Tier
    scheduled_at: datetime
    keys: list[CheckedKey] = Field(default_factory=list)
    quota_room: list[QuotaRoom] = Field(default_factory=list)

    @field_validator("scheduled_at")
    @classmethod
    def _minute(cls, value: datetime) -> datetime:
        return normalise_time(value)


class CatchUpCopy(CamelModel):
    """A point a DR region missed, copied there by this run after the run's own point: with its
    own tier and time, so the copy carries that point's tags and retention."""

    recovery_point_id: str
    tier: Tier
    scheduled_at: datetime
    target: DrTarget


class Preflight(CamelModel):
    operation_id: str
    recovery_point_id: str
    already_recorded: OperationStatus | None = None
    source: SourceSpec | None = None
    targets: list[DrTarget] = Field(default_factory=list)
    # The targets' key ARNs the plan found enabled: their copies do not look them up again.
    checked_keys: list[str] = Field(default_factory=list)
    snapshot_quota_headroom: int | None = None
    # The config asks for level-2 checks of this database: profile it before the snapshot.
    data_checks: bool = False
    catch_up: list[CatchUpCopy] = Field(default_factory=list)


class StepRequest(ResourceTask):
    """A step after the preflight; ``target`` is set for the steps of one DR region, and
    ``catch_up`` (the missed point's id) for a catch-up copy, whose tier and time are its own."""

    preflight: Preflight
    target: DrTarget | None = None
    catch_up: str | None = None

    @property
    def point(self) -> str:
        """The recovery point this step is about."""
        return self.catch_up or self.preflight.recovery_point_id

    @property
    def source(self) -> SourceSpec:
        if self.preflight.source is None:
            raise ValueError("the preflight recorded no source facts")
        return self.preflight.source


class SlotRequest(CamelModel):
    """A DR copy's step asking the copy gate for a slot; the token is sent when it gets one."""

    step: StepRequest
    task_token: str = Field(min_length=1, max_length=4096)
    # The state's retry count: above 0, an earlier wait of this copy ended (it keeps its place).
    retry_count: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _a_dr_copy(self) -> SlotRequest:
        if self.step.target is None:
            raise ValueError("step.target: a copy slot is for one DR region's copy")
        return self


class AwaitedStep(CamelModel):
    """A step that starts a recovery point (a snapshot, a DR copy) and waits for it to finish:
    its task is resumed with the step's output, by the point's completion event or at once."""

    step: StepRequest
    task_token: str = Field(min_length=1, max_length=4096)


class SlotAdmission(CamelModel):
    granted: bool  # False: it waits in line, woken by the copy that frees a slot


class RecoveryPointResult(CamelModel):
    recovery_point_id: str
    region: str
    created: bool


class ValidationResult(CamelModel):
    recovery_point_id: str
    region: str
    kms_key_id: str | None
    valid: bool
    checks: list[Check]


class StepError(CamelModel):
    """What a ``Catch`` puts at ``$.error``."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")

    @property
    def message(self) -> str | None:
        """The human part of the cause: a Lambda error's Cause is JSON holding errorMessage."""
        try:
            parsed = json.loads(self.cause or "")
        except json.JSONDecodeError:
            return self.cause
        return str(parsed.get("errorMessage", self.cause)) if isinstance(parsed, dict) else self.cause


class OutcomeState(ResourceTask):
    preflight: Preflight | None = None
    error: StepError | None = None
    # Set when the outcome is one DR region's copy (it failed; the backup goes on).
    target: DrTarget | None = None
    catch_up: str | None = None

    @property
    def failure(self) -> tuple[str, str | None]:
        """The caught error's name and human cause ("Unknown" when the Catch gave none)."""
        return (self.error.error, self.error.message) if self.error else ("Unknown", None)


class OutcomeRequest(CamelModel):
    outcome: OperationStatus
    state: OutcomeState


class Notification(CamelModel):
    subject: str
    message: str


class OutcomeResult(CamelModel):
    operation_id: str
    status: OperationStatus
    notification: Notification | None = None
    region: str | None = None  # of a copy's outcome


class ProfileResult(CamelModel):
    """What profiling the source at backup time did (the profile itself is on the operation)."""

    profiled: bool
    schema_objects: int | None = None
    tables: int | None = None
    problem: str | None = None


class ExecutionEnded(BaseModel):
    """The detail of Step Functions' "Execution Status Change" event (the fields read here)."""

    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, alias_generator=to_camel, defer_build=True
    )

    execution_arn: str
    state_machine_arn: str
    status: Literal["ABORTED", "TIMED_OUT", "FAILED"]
    # Epoch milliseconds: the run's start, its id's time when it named none.
    start_date: datetime
    input: str = Field(max_length=262_144)


class BackupRunEnded(BaseModel):
    """A backup run that ended before finishing (the stack's rule matches these statuses)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, defer_build=True)

    source: Literal["aws.states"]
    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    detail: ExecutionEnded


class StoppedRunRelease(CamelModel):
    run_id: str | None = Field(description="None: the run's request was invalid, it planned nothing.")
    status: str
    released: list[str] = Field(description="The copies whose slots were handed back.")
