"""The first step of a failover: what each resource would fail over to, what it would lose, and
whether anything stops it. A dry run ends here and changes nothing; a real run opens one
FAILOVER operation per resource (RUNNING when ready, FAILED with the blockers when not)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from lifeboat.aws import automated_backups, dns, global_clusters, replicas
from lifeboat.aws.kms import resolve_usable_key
from lifeboat.aws.replica_lag import newest_global_lags, newest_replica_lags
from lifeboat.contracts.backup import Notification
from lifeboat.contracts.failover import FailoverItem, FailoverPlan, FailoverRequest, ReadinessInput
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.config import PolicyConfig
from lifeboat.domain.failover import (
    FailoverPlanSpec,
    PointFacts,
    ReplicaFacts,
    ResourceReadiness,
    assess,
    assess_failback,
)
from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.domain.points import choose
from lifeboat.domain.restore import restore_identifier
from lifeboat.errors import InvalidInput, KmsKeyNotUsable, RecoveryPointNotFound
from lifeboat.handler import parse
from lifeboat.observability import logger
from lifeboat.service.deps import Deps
from lifeboat.state import breakers

# Failover records are evidence of what moved where, kept like restores.
EVIDENCE_DAYS = 400


def failover_operation_id(
    plan: str, region: str, resource_arn: str, started_at: datetime, execution_id: str
) -> str:
    """One per resource and execution: the same for every retry of a step, another for the next
    run (an operator re-running a refused failover seconds later gets a record of its own)."""
    digest = hashlib.sha256(execution_id.encode()).hexdigest()[:6]
    name = ResourceRef.parse(resource_arn).name
    return f"failover:{plan}:{region}:{name}:{started_at:%Y%m%d%H%M%S}-{digest}"


def readiness(request: ReadinessInput, deps: Deps) -> FailoverPlan:
    """The plan's verdict in the target region; mutates nothing unless the run is real."""
    asked = parse(FailoverRequest, request.request)
    config = deps.config()
    name, spec = config.failover_plan(asked.plan)
    region, now = asked.target_region, deps.now()
    verdicts = _verdicts(name, asked, spec, config=config, deps=deps, now=now)
    region_problems = _region_problems(spec, region, deps)
    ready = not region_problems and all(v.ready for v in verdicts)
    items = (
        [
            _item(name, asked, request, v, spec.max_replica_lag_seconds).model_copy(
                update={"data_checks": spec.data_checks and v.resource_arn in config.data_checks}
            )
            for v in verdicts
            if v.mechanism is not None
        ]
        if ready
        else []
    )
    plan = FailoverPlan(
        plan=name,
        region=region,
        dry_run=asked.dry_run,
        allow_data_loss=asked.allow_data_loss,
        ready=ready,
        execution_id=request.execution_id,
        started_at=request.start_time,
        items=items,
        readiness=verdicts,
        dns_records=spec.dns_records,
        summary=_summary(name, asked.target_region, verdicts, region_problems, ready),
    )
    if asked.dry_run:
        return plan
    _open_operations(plan, verdicts, region_problems, deps)
    if not ready:
        plan.notification = Notification(
            subject=f"Lifeboat failover of {name} to {region} REFUSED: not ready"[:100],
            message=plan.summary + "\n\nNothing was changed.",
        )
    return plan


def _verdicts(
    name: str,
    asked: FailoverRequest,
    spec: FailoverPlanSpec,
    *,
    config: PolicyConfig,
    deps: Deps,
    now: datetime,
) -> list[ResourceReadiness]:
    region = asked.target_region
    found = replicas.replicas_in(deps.clients, region, set(spec.resources))
    lags = newest_replica_lags(deps.clients, [r.arn for r in found.values() if r.source_arn], now)
    verdicts = []
    for arn in spec.resources:
        ref = ResourceRef.parse(arn)
        replica_facts, tags = None, {}
        if (replica := found.get(arn)) is not None:
            reading = lags.readings.get(replica.arn)
            replica_facts = ReplicaFacts(
                arn=replica.arn,
                status=replica.status,
                lag_seconds=reading.seconds if reading else (0.0 if replica.source_arn is None else None),
                lag_unknown_because=lags.unavailable.get(region),
            )
            tags = replica.tags
        elif ref.service == "rds" and ref.kind == "cluster":
            replica_facts, tags = _global_secondary(arn, region, deps, now)
        elif ref.region == region and (back := _failback(arn, region, deps)) is not None:
            verdicts.append(back)
            continue
        verdict = assess(
            arn,
            spec,
            region=region,
            replica=replica_facts,
            point=None if replica_facts else _newest_point(arn, region, deps),
            now=now,
            allow_data_loss=asked.allow_data_loss,
            restorable_until=None if replica_facts else _replicated_reach(ref, region, deps),
        )
        if ref.region == region and not (replica_facts and replica_facts.global_secondary):
            # A global database whose writer moved away fails back by a switchover; an instance
            # has nothing in its own region to fail over to.
            verdict.blockers.append(f"{arn} is in {region} already: fail over to another region")
        if replica_facts is not None and tags.get(replicas.FAILOVER_PLAN_TAG) != name:
            verdict.blockers.append(
                f"{arn}: {replica_facts.arn} is not tagged {replicas.FAILOVER_PLAN_TAG}={name}; "
                "tag it to let Lifeboat make it the primary"
            )
        if replica_facts is None and verdict.mechanism is not None:
            _check_key(arn, config, region, deps, verdict)
        verdicts.append(verdict)
    return verdicts


def _global_secondary(
    arn: str, region: str, deps: Deps, now: datetime
) -> tuple[ReplicaFacts | None, dict[str, str]]:
    """The Aurora Global Database secondary of a cluster in the target region, and its lag."""
    secondary = global_clusters.secondary_in(deps.clients, region, arn)
    if secondary is None:
        return None, {}
    lag: float | None = 0.0
    unknown: str | None = None
    if not secondary.is_writer:  # a re-run finds the writer already moved: nothing to lose
        source_region = secondary.writer_region or ResourceRef.parse(arn).region
        lags = newest_global_lags(deps.clients, {secondary.cluster_arn: source_region}, now)
        reading = lags.readings.get(secondary.cluster_arn)
        lag = reading.seconds if reading else None
        unknown = lags.unavailable.get(region) or (
            None if reading else "no AuroraGlobalDBReplicationLag datapoint"
        )
    facts = ReplicaFacts(
        arn=secondary.cluster_arn,
        status=secondary.status,
        lag_seconds=lag,
        lag_unknown_because=unknown,
        global_secondary=True,
        global_cluster_id=secondary.global_cluster_id,
    )
    return facts, secondary.tags


def _failback(arn: str, region: str, deps: Deps) -> ResourceReadiness | None:
    """An RDS instance back to its own region: the newest failover of it that succeeded names its
    current primary, elsewhere; None when it never failed over (or failed back since)."""
    ref = ResourceRef.parse(arn)
    if ref.service != "rds" or ref.kind != "db":
        return None
    moves = [
        op
        for op in deps.store.history_of(arn)
        if op.type is OperationType.FAILOVER and op.status is OperationStatus.SUCCEEDED
    ]
    latest = max(moves, key=lambda op: op.created_at, default=None)
    if latest is None or latest.region == region or not latest.details.get("newPrimary"):
        return None
    current = f"arn:{ref.partition}:rds:{latest.region}:{ref.account_id}:db:{latest.details['newPrimary']}"
    described = replicas.describe(deps.clients, latest.region, latest.details["newPrimary"])
    return assess_failback(
        arn, home_arn=arn, current_primary_arn=current, current_status=described.status, region=region
    )


def _replicated_reach(ref: ResourceRef, region: str, deps: Deps) -> datetime | None:
    """The newest time automated backups of an RDS instance replicated to ``region`` reach; asked
    of ``region`` alone (the source's may be down)."""
    if ref.service != "rds" or ref.kind != "db" or ref.region == region:
        return None
    replicated = automated_backups.replicated_backups(deps.clients, ref.arn, region)
    return replicated.latest if replicated else None


def _newest_point(arn: str, region: str, deps: Deps) -> PointFacts | None:
    ref = ResourceRef.parse(arn)
    try:
        chosen = choose(
            deps.store.history_of(arn),
            region=region,
            source_region=ref.region,
            recovery_point_id=None,
            now=deps.now(),
        )
    except (RecoveryPointNotFound, InvalidInput) as exc:
        logger.info(
            "no recovery point to fail over to", extra={"resource": arn, "region": region, "why": str(exc)}
        )
        return None
    return PointFacts(recovery_point_id=chosen.recovery_point_id, taken_at=chosen.taken_at)


def _check_key(arn: str, config: PolicyConfig, region: str, deps: Deps, verdict: ResourceReadiness) -> None:
    """A restore in the target region decrypts its copy with the policy's key there."""
    policies = [p for p in config.policies.values() if p.target(region) is not None]
    keys = {t.kms_key_id for p in policies if (t := p.target(region)) and t.kms_key_id}
    for key in sorted(keys):
        try:
            resolve_usable_key(deps.clients, region, key)
        except KmsKeyNotUsable as exc:
            verdict.blockers.append(f"{arn}: {exc}")


def _region_problems(spec: FailoverPlanSpec, region: str, deps: Deps) -> list[str]:
    problems = []
    breaker = breakers.get(deps.store, region)
    if breaker is not None and breaker.tripped:
        problems.append(
            f"{region} failed {breaker.failures} calls in a row (since {breaker.opened_at:%Y-%m-%d %H:%M}Z: "
            f"{breaker.reason})"
        )
    for zone in sorted({r.zone for r in spec.dns_records}):
        if not dns.hosted_zone_exists(deps.clients, zone):
            problems.append(f"hosted zone {zone} of the plan's DNS records does not exist")
    return problems


def _item(
    name: str, asked: FailoverRequest, request: ReadinessInput, verdict: ResourceReadiness, max_lag: int
) -> FailoverItem:
    assert verdict.mechanism is not None
    ref = ResourceRef.parse(verdict.resource_arn)
    target = (
        ResourceRef.parse(verdict.replica_arn).name
        if verdict.replica_arn
        else restore_identifier(ref.name, request.start_time)
    )
    return FailoverItem(
        operation_id=failover_operation_id(
            name, asked.target_region, ref.arn, request.start_time, request.execution_id
        ),
        plan=name,
        resource_arn=ref.arn,
        region=asked.target_region,
        mechanism=verdict.mechanism,
        target_identifier=target,
        replica_arn=verdict.replica_arn,
        global_cluster_id=verdict.global_cluster_id,
        current_primary_arn=verdict.current_primary_arn,
        max_replica_lag_seconds=max_lag,
        recovery_point_id=verdict.recovery_point_id,
        point_in_time=verdict.point_in_time,
        data_age_seconds=verdict.data_age_seconds,
    )


def _open_operations(
    plan: FailoverPlan,
    verdicts: list[ResourceReadiness],
    region_problems: list[str],
    deps: Deps,
) -> None:
    for verdict in verdicts:
        problems = region_problems + verdict.blockers
        deps.store.open(
            operation_id=failover_operation_id(
                plan.plan, plan.region, verdict.resource_arn, plan.started_at, plan.execution_id
            ),
            type=OperationType.FAILOVER,
            resource_arn=verdict.resource_arn,
            region=plan.region,
            retain_days=EVIDENCE_DAYS,
            status=OperationStatus.RUNNING if plan.ready else OperationStatus.FAILED,
            detail="; ".join(problems) if problems else f"failing over by {verdict.mechanism}",
            run_id=plan.execution_id,
            recovery_point_id=verdict.recovery_point_id,
        )


def _summary(
    name: str, region: str, verdicts: list[ResourceReadiness], region_problems: list[str], ready: bool
) -> str:
    head = "READY" if ready else "NOT READY"
    lines = [f"Failover plan {name} to {region}: {head}"]
    lines += [f"  blocked: {p}" for p in region_problems]
    for v in verdicts:
        how = v.mechanism.value if v.mechanism else "nothing to fail over to"
        age = "" if v.data_age_seconds is None else f", data age {v.data_age_seconds:.0f} s"
        source = ResourceRef.parse(v.resource_arn)
        via = ResourceRef.parse(v.replica_arn).name if v.replica_arn else v.recovery_point_id
        if v.point_in_time is not None:
            via = f"its automated backups in {region} to {v.point_in_time:%Y-%m-%d %H:%M:%S}Z"
        lines.append(f"  {source.name} ({source.region}): {how}{f' of {via}' if via else ''}{age}")
        lines += [f"    blocked: {b}" for b in v.blockers]
        lines += [f"    warning: {w}" for w in v.warnings]
    return "\n".join(lines)
