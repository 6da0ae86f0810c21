"""Failover experiments: a fault injected on purpose, under the safety controls AWS FIS uses.

An experiment of the config (``experiments.<name>``) names one resource and one fault:

- ``rds-reboot-failover``: a Multi-AZ RDS instance rebooted with a forced failover to its standby;
- ``aurora-cluster-failover``: an Aurora cluster's writer moved to a reader (rolled back to the
  original writer afterwards unless ``rollback`` is false);
- ``replica-promotion-drill``: the failover's own move, on a drill copy: a temporary read replica
  of an RDS instance in a DR region (``region``), promoted; the promotion time is the recovery
  time; the copy is deleted afterwards. Production and its standing replicas are not touched.

Before the fault: pre-checks (the resource available and of the kind the fault needs, a valid
recovery point within the policy's RPO, read replicas under the lag limit, no stop alarm in
ALARM); a ``critical`` experiment then waits for an operator's approval. While it runs, any stop
alarm in ALARM stops it (rolled back where a rollback exists). After: post-checks, the measured
recovery time against ``maxRecoverySeconds``, and everything on the EXPERIMENT operation.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from lifeboat.domain.arn import REGION_PATTERN, ResourceArn, ResourceRef
from lifeboat.domain.models import CamelModel

DEFAULT_MAX_RECOVERY_SECONDS = 600
DEFAULT_MAX_REPLICA_LAG_SECONDS = 300
# The operator's opt-in on the resource itself; IAM allows a fault on nothing else.
OPT_IN_TAG, OPT_IN_VALUE = "lifeboat:experiments", "allowed"


class FaultKind(StrEnum):
    RDS_REBOOT_FAILOVER = "rds-reboot-failover"
    AURORA_CLUSTER_FAILOVER = "aurora-cluster-failover"
    REPLICA_PROMOTION_DRILL = "replica-promotion-drill"

    @property
    def arn_kind(self) -> str:
        """The RDS ARN kind the fault applies to."""
        return "cluster" if self is FaultKind.AURORA_CLUSTER_FAILOVER else "db"

    @property
    def rollback(self) -> str | None:
        """What undoing the fault means, or None where nothing changed that can be undone."""
        if self is FaultKind.AURORA_CLUSTER_FAILOVER:
            return "fail the writer back to the original instance"
        if self is FaultKind.REPLICA_PROMOTION_DRILL:
            return "delete the drill copy"
        return None


class ExperimentSpec(CamelModel):
    """One experiment of the config."""

    kind: FaultKind
    resource_arn: ResourceArn
    # Critical: the run waits for ``lifeboat experiment approve ID`` before injecting anything.
    critical: bool = False
    # CloudWatch alarms (in the resource's region) that stop the experiment when in ALARM.
    stop_alarms: list[str] = Field(default_factory=list)
    max_recovery_seconds: int = Field(default=DEFAULT_MAX_RECOVERY_SECONDS, gt=0)
    max_replica_lag_seconds: int = Field(default=DEFAULT_MAX_REPLICA_LAG_SECONDS, gt=0)
    rollback: bool = True
    # replica-promotion-drill: the DR region the drill copy is made and promoted in.
    region: str | None = Field(default=None, pattern=REGION_PATTERN)

    def kind_problem(self) -> str | None:
        """Why the fault cannot apply to the resource's type (None when it can)."""
        ref = ResourceRef.parse(self.resource_arn)
        if ref.service != "rds" or ref.kind != self.kind.arn_kind:
            wanted = "an RDS DB instance" if self.kind.arn_kind == "db" else "an Aurora DB cluster"
            return f"{self.kind.value} needs {wanted}; {self.resource_arn} is not one"
        if self.kind is FaultKind.REPLICA_PROMOTION_DRILL and (
            self.region is None or self.region == ref.region
        ):
            return (
                f"{self.kind.value} needs region: a DR region of {self.resource_arn} to promote "
                "the drill copy in"
            )
        return None


class ExperimentOutcome(StrEnum):
    PASSED = "PASSED"  # recovered within the limit, post-checks passed
    FAILED = "FAILED"  # recovered late, or a post-check failed
    STOPPED = "STOPPED"  # a stop alarm or an operator stopped it (rolled back where possible)
    REFUSED = "REFUSED"  # a pre-check failed or approval was not given: nothing injected


class TargetState(CamelModel):
    """What the fault changes, read before and after: where the instance runs, who writes."""

    status: str
    availability_zone: str | None = None
    secondary_availability_zone: str | None = None
    multi_az: bool = False
    writer: str | None = None  # Aurora: the writer instance
    readers: list[str] = Field(default_factory=list)
    endpoint: str | None = None
    replicas: list[str] = Field(default_factory=list)  # instance: its read replicas' ARNs
    opted_in: bool = False  # tagged lifeboat:experiments=allowed


def pre_check_problems(
    spec: ExperimentSpec,
    state: TargetState,
    *,
    newest_valid_point_at: datetime | None,
    rpo_minutes: int | None,
    replica_lags: dict[str, float | None],
    alarms_firing: list[str],
    now: datetime,
) -> list[str]:
    """Everything that must hold before a fault is injected, as sentences; none: go."""
    problems = [p for p in [spec.kind_problem()] if p]
    if state.status != "available":
        problems.append(f"{spec.resource_arn} is {state.status}, not available")
    if not state.opted_in:
        problems.append(
            f"{spec.resource_arn} is not tagged {OPT_IN_TAG}={OPT_IN_VALUE}: a fault is injected only into "
            "a resource its owner opted in"
        )
    if spec.kind is FaultKind.RDS_REBOOT_FAILOVER and not state.multi_az:
        problems.append(
            f"{spec.resource_arn} is not Multi-AZ: a reboot with failover has no standby to move to"
        )
    if spec.kind is FaultKind.AURORA_CLUSTER_FAILOVER and not state.readers:
        problems.append(
            f"{spec.resource_arn} has no reader: a cluster failover has nowhere to move the writer"
        )
    if rpo_minutes is None:
        problems.append(
            f"{spec.resource_arn} is not protected by a Lifeboat policy: no recovery point to fall back on"
        )
    elif newest_valid_point_at is None:
        problems.append(f"{spec.resource_arn} has no valid recovery point: take a backup first")
    else:
        age = (now - newest_valid_point_at).total_seconds() / 60
        if age > rpo_minutes:
            problems.append(
                f"{spec.resource_arn}'s newest valid recovery point is {age:.0f} min old, over its "
                f"{rpo_minutes} min RPO: take a backup first"
            )
    for replica, lag in sorted(replica_lags.items()):
        if lag is None:
            problems.append(f"the lag of replica {replica} is unknown")
        elif lag > spec.max_replica_lag_seconds:
            problems.append(f"replica {replica} lags {lag:.0f} s, over {spec.max_replica_lag_seconds} s")
    problems += [f"stop alarm {name} is in ALARM" for name in alarms_firing]
    return problems


def recovered(spec: ExperimentSpec, before: TargetState, after: TargetState) -> tuple[bool, str]:
    """Whether the fault happened and the resource is back: (done, what is seen)."""
    if after.status != "available":
        return False, f"{after.status}"
    if spec.kind is FaultKind.AURORA_CLUSTER_FAILOVER:
        if after.writer == before.writer:
            return False, f"writer still {after.writer}"
        return True, f"writer moved {before.writer} -> {after.writer}"
    moved = after.availability_zone != before.availability_zone
    return True, (
        f"primary moved {before.availability_zone} -> {after.availability_zone}"
        if moved
        else f"rebooted in {after.availability_zone}"
    )


def post_check_problems(
    spec: ExperimentSpec, before: TargetState, after: TargetState, recovery_seconds: float
) -> list[str]:
    """What a passed experiment must show afterwards."""
    problems = []
    if after.status != "available":
        problems.append(f"{spec.resource_arn} is {after.status} after the experiment")
    drill_copy = spec.kind is FaultKind.REPLICA_PROMOTION_DRILL  # a new instance: its own endpoint
    if before.endpoint and after.endpoint != before.endpoint and not drill_copy:
        problems.append(
            f"the endpoint changed ({before.endpoint} -> {after.endpoint}): clients must reconnect"
        )
    if recovery_seconds > spec.max_recovery_seconds:
        problems.append(
            f"recovery took {recovery_seconds:.0f} s, over the experiment's {spec.max_recovery_seconds} s"
        )
    return problems
