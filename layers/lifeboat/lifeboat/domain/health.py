"""Live RPO: how old the newest *valid* recovery point of a resource is, per region.

Pure: the caller passes the resource's operations (from the state table) and the time. A
SUCCEEDED BACKUP is a point in the source region, a SUCCEEDED COPY is a point in its DR
region; anything else (PENDING, RUNNING, FAILED) is not a recovery point, so a failed latest
backup leaves the clock running from the previous good one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.policy import CamelModel, Environment, Policy


class HealthStatus(StrEnum):
    OK = "OK"
    BREACH = "BREACH"


class RegionHealth(CamelModel):
    """One region of one resource: the source region or a DR region of its policy."""

    region: str
    role: Literal["source", "dr"]
    recovery_point_id: str | None = None
    # When the point's data was captured: the backup operation's start (a copy holds the data of
    # its source point). It errs on the old side by the seconds between preflight and snapshot.
    point_at: datetime | None = None
    age_minutes: float | None = None
    # DR regions only: newest valid source point time - newest valid copy time (0 = up to date);
    # None when the region has no valid copy at all.
    copy_lag_minutes: float | None = None
    status: HealthStatus

    @property
    def describe(self) -> str:
        """The region's state in a few words, for tables and notifications."""
        if self.age_minutes is None:
            return "no valid copy" if self.role == "dr" else "no valid recovery point"
        text = f"newest valid point {format_minutes(self.age_minutes)} old"
        if self.copy_lag_minutes:
            text += f", {format_minutes(self.copy_lag_minutes)} behind the source"
        return text


class ResourceHealth(CamelModel):
    resource_arn: str
    policy: str
    environment: Environment
    rpo_minutes: int
    checked_at: datetime
    status: HealthStatus
    regions: list[RegionHealth]
    last_backup_status: OperationStatus | None = None
    last_backup_at: datetime | None = None
    last_backup_error: str | None = None

    @property
    def name(self) -> str:
        return ResourceRef.parse(self.resource_arn).name

    @property
    def breached_regions(self) -> list[RegionHealth]:
        return [r for r in self.regions if r.status is HealthStatus.BREACH]


class SkippedHealth(CamelModel):
    resource_arn: str
    reason: str


class HealthReport(CamelModel):
    checked_at: datetime
    resources: list[ResourceHealth] = Field(default_factory=list)
    skipped: list[SkippedHealth] = Field(default_factory=list)

    @property
    def breaches(self) -> list[ResourceHealth]:
        return [r for r in self.resources if r.status is HealthStatus.BREACH]


def format_minutes(minutes: float) -> str:
    """92.5 -> '1h 32m': ages as an operator reads them."""
    whole = round(minutes)
    if whole < 60:
        return f"{whole}m"
    hours, rest = divmod(whole, 60)
    if hours < 48:
        return f"{hours}h {rest:02d}m"
    return f"{hours // 24}d {hours % 24:02d}h"


def _minutes(delta_seconds: float) -> float:
    return round(delta_seconds / 60, 1)


def assess(resource_arn: str, policy: Policy, operations: list[Operation], now: datetime) -> ResourceHealth:
    """The live RPO of one resource in its source region and in each DR region of its policy."""
    source_region = ResourceRef.parse(resource_arn).region
    backups = [op for op in operations if op.type is OperationType.BACKUP]
    started = {op.recovery_point_id: op.created_at for op in backups if op.recovery_point_id}

    def data_time(op: Operation) -> datetime:
        # A copy whose backup record is older than the history read: its own start is the
        # nearest known time.
        return started.get(op.recovery_point_id or "", op.created_at)

    def newest(kind: OperationType, region: str) -> Operation | None:
        valid = [
            op
            for op in operations
            if op.type is kind and op.region == region and op.status is OperationStatus.SUCCEEDED
        ]
        return max(valid, key=data_time, default=None)

    def region_health(region: str, role: Literal["source", "dr"], point: Operation | None) -> RegionHealth:
        if point is None:
            return RegionHealth(region=region, role=role, status=HealthStatus.BREACH)
        at = data_time(point)
        age = _minutes((now - at).total_seconds())
        return RegionHealth(
            region=region,
            role=role,
            recovery_point_id=point.recovery_point_id,
            point_at=at,
            age_minutes=age,
            status=HealthStatus.OK if age <= policy.rpo_minutes else HealthStatus.BREACH,
        )

    source_point = newest(OperationType.BACKUP, source_region)
    regions = [region_health(source_region, "source", source_point)]
    for target in policy.dr_regions:
        copy = newest(OperationType.COPY, target.region)
        health = region_health(target.region, "dr", copy)
        if copy is not None and source_point is not None:
            lag = max(0.0, (data_time(source_point) - data_time(copy)).total_seconds())
            health.copy_lag_minutes = _minutes(lag)
        regions.append(health)
    last = max(backups, key=lambda op: op.created_at, default=None)
    breached = any(r.status is HealthStatus.BREACH for r in regions)
    return ResourceHealth(
        resource_arn=resource_arn,
        policy=policy.name,
        environment=policy.environment,
        rpo_minutes=policy.rpo_minutes,
        checked_at=now,
        status=HealthStatus.BREACH if breached else HealthStatus.OK,
        regions=regions,
        last_backup_status=last.status if last else None,
        last_backup_at=last.created_at if last else None,
        last_backup_error=last.error if last else None,
    )
