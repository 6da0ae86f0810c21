"""Live RPO: how old the newest *valid* recovery point of a resource is, per region.

Pure: the caller passes the resource's operations (from the state table) and the time. A point
is a recovery point in a region once it passed validation there (recorded on its BACKUP in the
source region, on its COPY in a DR region; a SUCCEEDED one always did), whatever became of the
rest of its backup: a backup
whose DR copy failed still leaves a valid point in its source region. A point never validated
is not one, so a failed latest backup leaves the clock running from the previous good one.

Beside the RPO, a resource's health carries the lag of its read replicas (continuous
replication, judged against the brief's 5-minute target) and its restore drills (when one last
passed, how the latest ended). Neither changes the RPO status: a lagging replica or a stale
drill is not a missing recovery point, and must not start an on-demand backup.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.models import CamelModel
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.policy import DEFAULT_DRILL_MAX_AGE_DAYS, Environment, Policy

# The brief: replication lag to DR regions <= 5 minutes for continuously replicated resources.
REPLICA_LAG_TARGET_SECONDS = 300
# RDS publishes ReplicaLag every minute; none for this long and the lag is unknown.
REPLICA_LAG_WINDOW_MINUTES = 10


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
    # What gives this region its best RPO right now, and that RPO in seconds: "snapshot" (the
    # newest valid point's age), "read-replica" or "global-database" (a replica's lag there),
    # "point-in-time" (how far behind now a point-in-time restore there reaches).
    best_mechanism: str | None = None
    best_rpo_seconds: float | None = None

    @property
    def describe(self) -> str:
        """The region's state in a few words, for tables and notifications."""
        if self.age_minutes is None:
            return "no valid copy" if self.role == "dr" else "no valid recovery point"
        text = f"newest valid point {format_minutes(self.age_minutes)} old"
        if self.copy_lag_minutes:
            text += f", {format_minutes(self.copy_lag_minutes)} behind the source"
        return text


class ReplicaStatus(StrEnum):
    OK = "OK"
    LAGGING = "LAGGING"  # more than the target behind its source
    STOPPED = "STOPPED"  # ReplicaLag is negative: replication is not running
    UNKNOWN = "UNKNOWN"  # no recent datapoint (or CloudWatch in its region did not answer)


class LagReading(CamelModel):
    """The newest ReplicaLag datapoint of one replica (seconds behind its source)."""

    seconds: float
    at: datetime


ReplicaMechanism = Literal["read-replica", "global-database", "global-table"]


class ReplicaHealth(CamelModel):
    """One read replica of a resource, in its own region (cross-region replicas included), or
    one secondary of the Aurora Global Database it writes."""

    replica_arn: str
    region: str
    mechanism: ReplicaMechanism = "read-replica"
    lag_seconds: float | None = None
    lag_at: datetime | None = None  # the minute the datapoint describes
    status: ReplicaStatus
    note: str | None = None  # why the lag is unknown, or what a negative lag means

    @property
    def name(self) -> str:
        return ResourceRef.parse(self.replica_arn).name

    @property
    def describe(self) -> str:
        if self.status in (ReplicaStatus.OK, ReplicaStatus.LAGGING):
            return f"{format_seconds(self.lag_seconds or 0)} behind the source"
        return self.note or self.status.value


def assess_replica(
    replica_arn: str,
    reading: LagReading | None,
    unavailable: str | None = None,
    mechanism: ReplicaMechanism = "read-replica",
) -> ReplicaHealth:
    """Judge one replica's newest lag against the target; no reading means the lag is unknown."""
    region = ResourceRef.parse(replica_arn).region
    metric = "ReplicaLag" if mechanism == "read-replica" else "AuroraGlobalDBReplicationLag"
    found = {"replica_arn": replica_arn, "region": region, "mechanism": mechanism}
    if reading is None:
        note = unavailable or f"no {metric} datapoint in the last {REPLICA_LAG_WINDOW_MINUTES} minutes"
        return ReplicaHealth(**found, status=ReplicaStatus.UNKNOWN, note=note)
    if reading.seconds < 0:
        # RDS reports -1 when replication is not active (MySQL/MariaDB: Seconds_Behind_Master NULL).
        return ReplicaHealth(
            **found,
            lag_seconds=reading.seconds,
            lag_at=reading.at,
            status=ReplicaStatus.STOPPED,
            note=f"replication is not active ({metric} {reading.seconds:g})",
        )
    over = reading.seconds > REPLICA_LAG_TARGET_SECONDS
    return ReplicaHealth(
        **found,
        lag_seconds=reading.seconds,
        lag_at=reading.at,
        status=ReplicaStatus.LAGGING if over else ReplicaStatus.OK,
    )


def rank_protection(
    regions: list[RegionHealth],
    replicas: list[ReplicaHealth],
    *,
    point_in_time: dict[str, float] | None = None,
) -> None:
    """Per region, the mechanism giving the best RPO right now: the newest valid snapshot's age,
    the lag of a replica or global secondary there that is replicating, or how far behind now a
    point-in-time restore there reaches (``point_in_time``: region -> seconds; the source's own
    automated backups or PITR, a DR region's replicated automated backups)."""
    for region in regions:
        options = [(region.age_minutes * 60, "snapshot")] if region.age_minutes is not None else []
        if point_in_time and region.region in point_in_time:
            options.append((point_in_time[region.region], "point-in-time"))
        options += [
            (r.lag_seconds, r.mechanism)
            for r in replicas
            if r.region == region.region
            and r.lag_seconds is not None
            and r.status in (ReplicaStatus.OK, ReplicaStatus.LAGGING)
        ]
        if options:
            region.best_rpo_seconds, region.best_mechanism = min(options)


class DrillDetails(CamelModel):
    """What a drill operation's ``details`` say about it (the drill workflow writes them)."""

    model_config = ConfigDict(extra="ignore")

    rto_seconds: float | None = None
    data_age_seconds: float | None = None


class DrillHealth(CamelModel):
    """The resource's restore drills: when one last passed, and how the latest one ended."""

    last_success_at: datetime | None = None
    minutes_since_success: float | None = None
    last_success_region: str | None = None
    last_success_rto_seconds: float | None = None
    last_success_data_age_seconds: float | None = None
    last_status: OperationStatus | None = None
    last_at: datetime | None = None
    last_error: str | None = None
    # The policy schedules drills and none passed within its ``maxAgeDays``.
    overdue: bool = False
    # How far back drills were read: "none" means none in these days.
    lookback_days: int | None = None


def drill_lookback_days(policies: Iterable[Policy]) -> int:
    """Twice the longest drill interval any policy asks for: far enough to tell "overdue by how
    much", short enough that a 15-minute monitor never reads a year of drill history."""
    intervals = [p.drill.max_age_days for p in policies if p.drill.enabled]
    return 2 * max(intervals, default=DEFAULT_DRILL_MAX_AGE_DAYS)


def assess_drills(
    policy: Policy,
    last_success: Operation | None,
    last_failure: Operation | None,
    now: datetime,
    *,
    lookback_days: int,
) -> DrillHealth:
    """Age of the newest passed drill (``updatedAt`` is when it finished) and the latest outcome."""
    finished = [op for op in (last_success, last_failure) if op is not None]
    last = max(finished, key=lambda op: op.updated_at, default=None)
    health = DrillHealth(
        lookback_days=lookback_days,
        last_status=last.status if last else None,
        last_at=last.updated_at if last else None,
        last_error=last.error if last and last.status is OperationStatus.FAILED else None,
    )
    if last_success is not None:
        details = DrillDetails.model_validate(last_success.details)
        health.last_success_at = last_success.updated_at
        health.minutes_since_success = _minutes((now - last_success.updated_at).total_seconds())
        health.last_success_region = last_success.region
        health.last_success_rto_seconds = details.rto_seconds
        health.last_success_data_age_seconds = details.data_age_seconds
    if policy.drill.enabled:
        due = policy.drill.max_age_days * 24 * 60
        health.overdue = health.minutes_since_success is None or health.minutes_since_success > due
    return health


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
    replicas: list[ReplicaHealth] = Field(default_factory=list)
    drill: DrillHealth = Field(default_factory=DrillHealth)
    # CIRCUIT_OPEN: its backups failed N runs in a row and scheduled runs skip it (why, since when).
    circuit_open: str | None = None
    # What the policy's continuousProtection asks that is not in place (domain/continuous.py).
    continuous_gaps: list[str] = Field(default_factory=list)

    @property
    def name(self) -> str:
        return ResourceRef.parse(self.resource_arn).name

    @property
    def breached_regions(self) -> list[RegionHealth]:
        return [r for r in self.regions if r.status is HealthStatus.BREACH]

    @property
    def replicas_over_target(self) -> list[ReplicaHealth]:
        """Replicas lagging, stopped or of unknown lag: each needs a look."""
        return [r for r in self.replicas if r.status is not ReplicaStatus.OK]


class SkippedHealth(CamelModel):
    resource_arn: str
    reason: str


class SnapshotHeadroom(CamelModel):
    """Manual snapshots used and allowed for one resource type in one region (the account's)."""

    resource_type: str
    region: str
    used: int
    max: int
    headroom: int
    low: bool = Field(description="Fewer free slots than the reserve: backups clean up first.")


class HealthReport(CamelModel):
    checked_at: datetime
    resources: list[ResourceHealth] = Field(default_factory=list)
    skipped: list[SkippedHealth] = Field(default_factory=list)
    # DR regions whose breaker is open (a copy found them down): flagged at once, before any
    # resource's RPO there runs out. Region -> since when and why.
    unreachable_regions: dict[str, str] = Field(default_factory=dict)
    snapshot_quotas: list[SnapshotHeadroom] = Field(default_factory=list)

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


def format_seconds(seconds: float) -> str:
    """Replica lag: '42s' under a minute, then as ``format_minutes``."""
    if seconds < 60:
        return f"{round(seconds)}s"
    return format_minutes(seconds / 60)


def _minutes(delta_seconds: float) -> float:
    return round(delta_seconds / 60, 1)


def assess(
    resource_arn: str,
    policy: Policy,
    operations: list[Operation],
    now: datetime,
    *,
    replicas: list[ReplicaHealth] | None = None,
    drill: DrillHealth | None = None,
    restorable: dict[str, datetime] | None = None,
) -> ResourceHealth:
    """The live RPO of one resource in its source region and in each DR region of its policy,
    with its replicas and drills as the caller assessed them; ``restorable`` is, per region, the
    newest time a point-in-time restore there reaches."""
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
            if op.type is kind
            and op.region == region
            and (op.status is OperationStatus.SUCCEEDED or op.validated)
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
    behind = {region: max(0.0, (now - at).total_seconds()) for region, at in (restorable or {}).items()}
    rank_protection(regions, replicas or [], point_in_time=behind)
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
        replicas=replicas or [],
        drill=drill or DrillHealth(),
    )
