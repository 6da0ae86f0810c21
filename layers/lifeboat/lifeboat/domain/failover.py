"""Failover plans and the readiness verdict: which resources move to which region, how, and what
stops them.

A plan names its resources and the DNS records that follow them; the target region is chosen
when the failover runs (``lifeboat failover --to us-west-2``). Per resource the mechanism is the
best the target region holds: a read replica to promote (RPO = its lag), else a point-in-time
restore from automated backups replicated there (RPO = how far behind now they reach), else the
newest valid recovery point copied there (RPO = its age).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from lifeboat.domain.arn import ResourceArn
from lifeboat.domain.models import CamelModel

DEFAULT_MAX_REPLICA_LAG_SECONDS = 300  # the brief: RPO <= 5 minutes with continuous protection
DEFAULT_MAX_POINT_AGE_MINUTES = 24 * 60
HOSTED_ZONE_PATTERN = r"^(/hostedzone/)?[A-Z0-9]{1,32}$"
DNS_NAME_PATTERN = r"^([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}\.?$"


class DnsRecord(CamelModel):
    """A CNAME that names a resource's primary: after a failover it names the new primary."""

    hosted_zone_id: str = Field(pattern=HOSTED_ZONE_PATTERN)
    name: str = Field(pattern=DNS_NAME_PATTERN, max_length=254)
    resource_arn: ResourceArn
    ttl: int = Field(default=60, ge=0, le=86_400)

    @property
    def zone(self) -> str:
        return self.hosted_zone_id.removeprefix("/hostedzone/")

    @property
    def fqdn(self) -> str:
        return self.name if self.name.endswith(".") else f"{self.name}."


class FailoverPlanSpec(CamelModel):
    """One failover plan of the config (``failoverPlans.<name>``)."""

    resources: list[ResourceArn] = Field(min_length=1)
    dns_records: list[DnsRecord] = Field(default_factory=list)
    # A replica lagging more than this is not promoted unless the operator accepts the loss.
    max_replica_lag_seconds: int = Field(default=DEFAULT_MAX_REPLICA_LAG_SECONDS, gt=0)
    # A resource without a replica is restored from its newest valid copy if it is this recent.
    max_recovery_point_age_minutes: int = Field(default=DEFAULT_MAX_POINT_AGE_MINUTES, gt=0)
    # Level-2 checks (the config's dataChecks of each resource) on every new primary before its
    # DNS name moves; a failed one keeps that name on the old primary.
    data_checks: bool = False

    @field_validator("resources")
    @classmethod
    def _unique(cls, resources: list[str]) -> list[str]:
        repeated = sorted({r for r in resources if resources.count(r) > 1})
        if repeated:
            raise ValueError(f"resources listed more than once: {', '.join(repeated)}")
        return resources

    @model_validator(mode="after")
    def _records_follow_listed_resources(self) -> FailoverPlanSpec:
        stray = sorted({r.resource_arn for r in self.dns_records} - set(self.resources))
        if stray:
            raise ValueError(f"dnsRecords name resources the plan does not fail over: {', '.join(stray)}")
        return self


class Mechanism(StrEnum):
    PROMOTE_REPLICA = "promote-replica"
    # Aurora Global Database: the writer moves to the secondary in the target region.
    GLOBAL_SWITCHOVER = "global-switchover"  # planned: it catches up first, no data lost
    GLOBAL_FAILOVER = "global-failover"  # unplanned (--allow-data-loss): whatever its lag
    RESTORE_COPY = "restore-copy"
    # An RDS instance's automated backups replicated to the target region: restored to the
    # newest time they reach (minutes behind, where a copy is hours behind).
    RESTORE_POINT_IN_TIME = "restore-point-in-time"
    # Failback of an instance to its own region: a new replica of the current primary there
    # (the stale old primary renamed and kept), in sync, then promoted.
    REBUILD_REPLICA = "rebuild-replica"


class ReplicaFacts(CamelModel):
    """A read replica (or a global database's secondary) of the resource in the target region,
    as RDS and CloudWatch describe it."""

    arn: str
    status: str
    lag_seconds: float | None = None
    lag_unknown_because: str | None = None
    global_secondary: bool = False
    global_cluster_id: str | None = None


class PointFacts(CamelModel):
    """The newest valid recovery point of the resource in the target region."""

    recovery_point_id: str
    taken_at: datetime


class ResourceReadiness(CamelModel):
    """How one resource would fail over, the data it would lose, and what blocks it."""

    resource_arn: str
    mechanism: Mechanism | None
    replica_arn: str | None = None
    global_cluster_id: str | None = None
    # A failback's source: the primary the earlier failover made (in another region).
    current_primary_arn: str | None = None
    recovery_point_id: str | None = None
    point_in_time: datetime | None = None
    # Writes the failover loses: the replica's lag, or the recovery point's age.
    data_age_seconds: float | None = None
    blockers: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.mechanism is not None and not self.blockers


def assess(
    resource_arn: str,
    spec: FailoverPlanSpec,
    *,
    region: str,
    replica: ReplicaFacts | None,
    point: PointFacts | None,
    now: datetime,
    allow_data_loss: bool,
    restorable_until: datetime | None = None,
) -> ResourceReadiness:
    """The readiness of one resource, from facts the service gathered in the target region;
    ``restorable_until``: the newest time automated backups replicated there reach."""
    if replica is not None:
        return _assess_replica(resource_arn, spec, replica, allow_data_loss)
    if restorable_until is not None and (point is None or restorable_until > point.taken_at):
        verdict = ResourceReadiness(
            resource_arn=resource_arn,
            mechanism=Mechanism.RESTORE_POINT_IN_TIME,
            point_in_time=restorable_until,
            data_age_seconds=max(0.0, (now - restorable_until).total_seconds()),
        )
        age = verdict.data_age_seconds or 0.0
        if age > spec.max_recovery_point_age_minutes * 60:
            problem = (
                f"{resource_arn}: no replica in {region}, and its automated backups there reach only "
                f"{age / 60:.0f} min back, over the plan's {spec.max_recovery_point_age_minutes} min"
            )
            _block_unless(verdict, problem, allow_data_loss)
        return verdict
    if point is not None:
        age = (now - point.taken_at).total_seconds()
        verdict = ResourceReadiness(
            resource_arn=resource_arn,
            mechanism=Mechanism.RESTORE_COPY,
            recovery_point_id=point.recovery_point_id,
            data_age_seconds=age,
        )
        limit = spec.max_recovery_point_age_minutes * 60
        if age > limit:
            problem = (
                f"{resource_arn}: no replica in {region}, and its newest valid copy there "
                f"({point.recovery_point_id}) is {age / 60:.0f} min old, over the plan's "
                f"{spec.max_recovery_point_age_minutes} min"
            )
            _block_unless(verdict, problem, allow_data_loss)
        return verdict
    return ResourceReadiness(
        resource_arn=resource_arn,
        mechanism=None,
        blockers=[
            f"{resource_arn}: no read replica and no valid recovery point in {region}: "
            "nothing to fail over to"
        ],
    )


def _assess_replica(
    resource_arn: str, spec: FailoverPlanSpec, replica: ReplicaFacts, allow_data_loss: bool
) -> ResourceReadiness:
    if replica.global_secondary:
        mechanism = Mechanism.GLOBAL_FAILOVER if allow_data_loss else Mechanism.GLOBAL_SWITCHOVER
    else:
        mechanism = Mechanism.PROMOTE_REPLICA
    verdict = ResourceReadiness(
        resource_arn=resource_arn,
        mechanism=mechanism,
        replica_arn=replica.arn,
        global_cluster_id=replica.global_cluster_id,
        # A switchover waits for the secondary to catch up: it loses nothing.
        data_age_seconds=0.0 if mechanism is Mechanism.GLOBAL_SWITCHOVER else replica.lag_seconds,
    )
    if replica.status != "available":
        verdict.blockers.append(f"{resource_arn}: replica {replica.arn} is {replica.status}, not available")
    if replica.lag_seconds is None:
        why = replica.lag_unknown_because or "no ReplicaLag datapoint in the last minutes"
        problem = (
            f"{resource_arn}: the lag of replica {replica.arn} is unknown ({why}): "
            "the writes lost cannot be bounded"
        )
        _block_unless(verdict, problem, allow_data_loss)
    elif replica.lag_seconds > spec.max_replica_lag_seconds:
        consequence = (
            "promoting it loses up to that much of the latest writes"
            if not replica.global_secondary
            else "a switchover would wait for it (its primary region must be up); a failover loses it"
        )
        problem = (
            f"{resource_arn}: replica {replica.arn} lags {replica.lag_seconds:.0f} s, over the plan's "
            f"{spec.max_replica_lag_seconds} s: {consequence}"
        )
        _block_unless(verdict, problem, allow_data_loss)
    return verdict


def _block_unless(verdict: ResourceReadiness, problem: str, allow_data_loss: bool) -> None:
    """A loss the operator may accept (``--allow-data-loss``) blocks until accepted."""
    if allow_data_loss:
        verdict.warnings.append(f"{problem} (accepted: --allow-data-loss)")
    else:
        verdict.blockers.append(f"{problem}; run with --allow-data-loss to accept")


def assess_failback(
    resource_arn: str, *, home_arn: str, current_primary_arn: str, current_status: str, region: str
) -> ResourceReadiness:
    """An instance that failed over returns home: its current primary must be available to be
    replicated from; nothing is lost (the new replica catches up before it is promoted)."""
    verdict = ResourceReadiness(
        resource_arn=resource_arn,
        mechanism=Mechanism.REBUILD_REPLICA,
        replica_arn=home_arn,
        current_primary_arn=current_primary_arn,
        data_age_seconds=0.0,
    )
    if current_status != "available":
        verdict.blockers.append(
            f"{resource_arn}: its current primary {current_primary_arn} is {current_status}, not available "
            f"to replicate back to {region} from"
        )
    return verdict
