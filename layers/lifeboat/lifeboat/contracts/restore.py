"""The JSON the restore and drill workflows' steps receive and return (camelCase)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from lifeboat.contracts.backup import Notification, StepError
from lifeboat.contracts.work_files import LISTED, ResultWriterDetails, S3Location
from lifeboat.domain.arn import REGION_PATTERN, ResourceArn
from lifeboat.domain.models import CamelModel
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.operations import OperationStatus
from lifeboat.domain.recovery import Check
from lifeboat.domain.restore import Purpose, RestoreSpec, check_identifier


class RestoreMode(StrEnum):
    LATEST = "latest"
    RECOVERY_POINT = "recovery-point"
    POINT_IN_TIME = "point-in-time"


class RestoreRequest(CamelModel):
    """The input of a restore: one resource, and at most one of a recovery point or a time.

    Neither means "the newest valid recovery point in the target region".
    """

    resource_arn: ResourceArn
    recovery_point_id: str | None = None
    point_in_time: datetime | None = None
    target_region: str | None = Field(default=None, pattern=REGION_PATTERN)
    target_identifier: str | None = None
    network: RestoreNetwork | None = None
    instance_class: str | None = None
    run_data_checks: bool = True
    requested_by: str | None = None

    @field_validator("target_identifier")
    @classmethod
    def _identifier(cls, identifier: str | None) -> str | None:
        return None if identifier is None else check_identifier(identifier)

    @field_validator("point_in_time")
    @classmethod
    def _aware(cls, moment: datetime | None) -> datetime | None:
        if moment is not None and moment.tzinfo is None:
            raise ValueError("pointInTime must carry a timezone, e.g. 2026-11-22T03:00:00Z")
        return moment

    @model_validator(mode="after")
    def _one_source(self) -> RestoreRequest:
        if self.recovery_point_id and self.point_in_time:
            raise ValueError("give recoveryPointId or pointInTime, not both (neither = latest valid)")
        return self

    @property
    def mode(self) -> RestoreMode:
        if self.point_in_time is not None:
            return RestoreMode.POINT_IN_TIME
        return RestoreMode.RECOVERY_POINT if self.recovery_point_id else RestoreMode.LATEST


class DrillItem(CamelModel):
    """One resource of a drill run."""

    resource_arn: ResourceArn
    policy: str


class PlanInput(CamelModel):
    """restore_plan's input: a restore request (kept raw so bad input is reported field by field)
    or one item of a drill run."""

    model_config = ConfigDict(extra="ignore")

    request: dict[str, Any] | None = None
    drill: DrillItem | None = None
    run_id: str | None = None
    execution_id: str
    start_time: datetime

    @model_validator(mode="after")
    def _one_kind(self) -> PlanInput:
        if (self.request is None) == (self.drill is None):
            raise ValueError("exactly one of request (a restore) or drill (a drill item) is expected")
        return self


class ExpectedRestore(CamelModel):
    """What the restored resource must show, known before it exists."""

    encrypted: bool
    kms_key_id: str | None = None
    engine: str | None = None
    deletion_protection: bool


class RestorePlan(CamelModel):
    """Everything the later steps need; also stored on the operation (abort and audit read it)."""

    operation_id: str
    purpose: Purpose
    resource_arn: ResourceArn
    policy: str | None = None
    region: str
    mode: RestoreMode
    recovery_point_id: str | None = None
    point_in_time: datetime | None = None
    # When the restored data was captured (the recovery point's time, or the point in time).
    data_time: datetime | None = None
    reason: str
    spec: RestoreSpec
    expected: ExpectedRestore
    data_checks: bool
    requested_at: datetime
    execution_id: str


class RestoreStep(CamelModel):
    model_config = ConfigDict(extra="ignore")

    plan: RestorePlan


class StartResult(CamelModel):
    target_id: str
    region: str
    created: bool


class AvailableResult(CamelModel):
    target_id: str
    status: str
    endpoint: str | None = None
    port: int | None = None


class CheckResult(CamelModel):
    passed: bool
    checks: list[Check]
    failed: list[str]
    summary: str
    data_age_seconds: float | None = None


class RecordRequest(CamelModel):
    """restore_record's input: the outcome of a restore or of one drill item."""

    model_config = ConfigDict(extra="ignore")

    outcome: OperationStatus
    plan: RestorePlan | None = None
    checks: CheckResult | None = None
    error: StepError | None = None
    # A drill item whose planning failed has no plan: these identify its operation.
    drill: DrillItem | None = None
    run_id: str | None = None
    start_time: datetime | None = None
    execution_id: str | None = None


class RecordResult(CamelModel):
    operation_id: str
    resource_arn: str
    region: str
    status: OperationStatus
    rto_seconds: float | None = None
    data_age_seconds: float | None = None
    failed_checks: list[str] = Field(default_factory=list)
    notification: Notification | None = None


class TeardownResult(CamelModel):
    target_id: str
    region: str
    state: str


class AbortRequest(CamelModel):
    """The emergency stop of one running drill (``lifeboat drill stop``)."""

    operation_id: str
    reason: str = "aborted by an operator (lifeboat drill stop)"


class DrillCopyTeardown(CamelModel):
    """A failover experiment's drill copy to delete (its tags must name that experiment)."""

    operation_id: str
    resource_arn: ResourceArn
    region: str = Field(pattern=REGION_PATTERN)
    identifier: str


class DrillRunRequest(CamelModel):
    """What starts a drill run: the schedule rule's input or an operator."""

    model_config = ConfigDict(extra="ignore")

    resources: list[ResourceArn] | None = None
    trigger: str = "manual"


class DrillPlanInput(CamelModel):
    request: DrillRunRequest
    execution_start_time: datetime
    execution_name: str | None = None  # names the run's folder of work files


class SkippedDrill(CamelModel):
    arn: str
    reason: str


class DrillRunPlan(CamelModel):
    run_id: str
    items: list[DrillItem]
    skipped: list[SkippedDrill]


class DrillPlanSummary(CamelModel):
    """The drill plan as the workflow carries it: counts, and where the plan's files are (the
    Distributed Map reads ``items``); no payload grows with the fleet."""

    run_id: str
    item_count: int
    skipped_count: int
    skipped: list[SkippedDrill] = Field(max_length=LISTED)
    # Both absent when there is nothing to drill or skip.
    items: S3Location | None
    plan: S3Location | None


class DrillRunSummary(CamelModel):
    """A drill run's output: its counts, the plan's file and the manifest of the drills' results
    (``ResultWriter``); absent results when nothing was drilled."""

    model_config = ConfigDict(extra="ignore")

    run_id: str
    drill_count: int
    skipped_count: int
    skipped: list[SkippedDrill] = Field(max_length=LISTED)
    plan: S3Location | None = None
    results: ResultWriterDetails | None = None
