"""The scheduled RPO monitor: live RPO per protected resource and region, as metrics and state.

Per run: one discovery (the same one the backup planner does), six ``byTypeStatus`` queries for
the fleet's recent backups and copies (``state/recent.py``; a resource with no valid point in
that window has its own history read), two for the fingerprints of the saved health items, and
a health write only for a resource whose verdict or RPO bucket changed
(``domain/health_changes.py``). No snapshot is listed or described: the state table already
says which recovery points are valid and when their data was captured. On top, whatever the
fleet size: two ``byTypeStatus`` queries for the newest drills (``state/drills.py``) and, only
when protected instances have read replicas, one ``GetMetricData`` per replica region for
their lag (``aws/replica_lag.py``); the replicas themselves come from the discovery's pages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import EphemeralMetrics
from pydantic import ConfigDict

from lifeboat.aws import global_clusters
from lifeboat.aws.replica_lag import (
    LagLookup,
    newest_global_lags,
    newest_replica_lags,
    newest_table_replica_lags,
)
from lifeboat.domain.arn import ResourceArn, ResourceRef
from lifeboat.domain.config import PolicyConfig
from lifeboat.domain.health import (
    HealthReport,
    HealthStatus,
    ReplicaMechanism,
    ResourceHealth,
    SkippedHealth,
    assess,
    assess_drills,
    assess_replica,
    drill_lookback_days,
)
from lifeboat.domain.health_changes import fingerprint, needs_write
from lifeboat.domain.models import CamelModel
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.policy import Policy
from lifeboat.errors import TransientAwsError
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.service.continuous import measure_continuous, table_replicas
from lifeboat.service.deps import Deps
from lifeboat.service.discovery import inventory
from lifeboat.service.quota import snapshot_headroom
from lifeboat.state import breakers, resource_breakers
from lifeboat.state.drills import latest_drills
from lifeboat.state.health import save_health, saved_fingerprints
from lifeboat.state.recent import recent_operations

NAMESPACE = "Lifeboat"
SERVICE = "lifeboat"
# Newest first; 50 operations are ~16 days of daily backups with two DR copies each.
HISTORY_LIMIT = 50
# CloudWatch has no minutes unit; the metric names say the unit.
NO_UNIT = MetricUnit.NoUnit
# The replica-lag alarms of template.yaml watch this metric (per environment).
REPLICAS_OVER_TARGET_METRIC = "ReplicasOverLagTarget"


class HealthRequest(CamelModel):
    """The monitor's input: the schedule's event (nothing in it is needed) or an operator's
    ``{"resourceArns": [...]}`` to check only some resources."""

    model_config = ConfigDict(extra="ignore")

    resource_arns: list[ResourceArn] | None = None


def check_health(request: HealthRequest, deps: Deps) -> HealthReport:
    """Assess every protected resource, save its health snapshot and publish its metrics."""
    config = deps.config()
    now = deps.now()
    report = HealthReport(checked_at=now)
    fleet = inventory(config, deps)
    protected, replicas = fleet.protected, fleet.replicas
    if request.resource_arns is not None:
        wanted = set(request.resource_arns)
        report.skipped += [
            SkippedHealth(resource_arn=arn, reason="not protected by any Lifeboat policy")
            for arn in sorted(wanted - set(protected))
        ]
        protected = {arn: name for arn, name in protected.items() if arn in wanted}
    monitored = _monitored(config, protected, report)
    # Fleet-wide reads, one batch each, before the per-resource loop.
    lags = newest_replica_lags(deps.clients, [r for arn in monitored for r in replicas.get(arn, ())], now)
    secondaries = _global_secondaries(deps, monitored)
    global_lags = newest_global_lags(
        deps.clients,
        {s: ResourceRef.parse(arn).region for arn, found in secondaries.items() for s in found},
        now,
    )
    tables = table_replicas(deps, monitored)
    table_lags = newest_table_replica_lags(
        deps.clients, {r: ResourceRef.parse(arn).region for arn, found in tables.items() for r in found}, now
    )
    # Per mechanism: the replicas of each resource, their lags, and the region their lag is read
    # in (a DynamoDB table's ReplicationLatency is published where the table sends from).
    replica_sources: list[tuple[ReplicaMechanism, Mapping[str, Iterable[str]], LagLookup, _ReadIn]] = [
        ("read-replica", replicas, lags, _replica_region),
        ("global-database", secondaries, global_lags, _replica_region),
        ("global-table", tables, table_lags, _source_region),
    ]
    for region, reason in lags.unavailable.items():
        logger.warning("replica lag unknown", extra={"region": region, "reason": reason})
    history = _history(deps, monitored, now)
    saved = saved_fingerprints(deps.store)
    written = 0
    lookback = drill_lookback_days(monitored.values())
    drills = latest_drills(deps.store, monitored, since=now - timedelta(days=lookback))
    circuits = resource_breakers.open_circuits(deps.store)
    continuous = measure_continuous(deps, monitored, fleet)
    for arn, policy in monitored.items():
        facts, gaps = continuous[arn]
        health = assess(
            arn,
            policy,
            history(arn, policy),
            now,
            replicas=[
                assess_replica(r, lookup.readings.get(r), lookup.unavailable.get(read_in(arn, r)), mechanism)
                for mechanism, members, lookup, read_in in replica_sources
                for r in members.get(arn, ())
            ],
            drill=assess_drills(
                policy, drills.succeeded.get(arn), drills.failed.get(arn), now, lookback_days=lookback
            ),
            restorable=facts.restorable,
        )
        health.continuous_gaps = gaps
        if arn in circuits:
            health.circuit_open = circuits[arn].describe()
        digest = fingerprint(health)
        if needs_write(digest, now, saved.get(arn)):
            save_health(deps.store, health, digest)
            written += 1
        publish_resource_metrics(health)
        report.resources.append(health)
    down = breakers.open_breakers(deps.store)
    report.snapshot_quotas = snapshot_headroom(deps, monitored, skip=set(down))
    report.unreachable_regions = {
        region: f"unreachable since {b.opened_at:%Y-%m-%d %H:%MZ} ({b.failures} failed step(s)): {b.reason}"
        for region, b in sorted(down.items())
    }
    metrics.add_metric(
        name="RegionsUnreachable", unit=MetricUnit.Count, value=len(report.unreachable_regions)
    )
    publish_breach_counts(report)
    publish_replica_counts(report)
    metrics.add_metric(name="ResourcesMonitored", unit=MetricUnit.Count, value=len(report.resources))
    metrics.add_metric(name="HealthItemsWritten", unit=MetricUnit.Count, value=written)
    logger.info(
        "health checked",
        extra={
            "resources": len(report.resources),
            "breaches": [h.resource_arn for h in report.breaches],
            "skipped": len(report.skipped),
        },
    )
    return report


_ReadIn = Callable[[str, str], str]


def _monitored(config: PolicyConfig, protected: dict[str, str], report: HealthReport) -> dict[str, Policy]:
    """The protected resources whose policy takes backups; the others go to ``report.skipped``."""
    monitored: dict[str, Policy] = {}
    for arn, name in sorted(protected.items()):
        policy = config.policies.get(name)
        if policy is None:
            report.skipped.append(SkippedHealth(resource_arn=arn, reason=f"unknown policy {name!r}"))
        elif not policy.backups_enabled:
            reason = f"backups are disabled by policy {name!r} ({policy.environment.value})"
            report.skipped.append(SkippedHealth(resource_arn=arn, reason=reason))
        else:
            monitored[arn] = policy
    return monitored


def _history(
    deps: Deps, monitored: dict[str, Policy], now: datetime
) -> Callable[[str, Policy], list[Operation]]:
    """Each resource's operations for ``assess``: read fleet-wide for a window of twice the
    longest RPO target (a day at least); a resource with no valid point in it in some region
    (new, or failing longer than that) has its own history read, to say how old its newest is."""
    window = max([timedelta(days=1), *(timedelta(minutes=2 * p.rpo_minutes) for p in monitored.values())])
    recent = recent_operations(deps.store, monitored, since=now - window)

    def history(arn: str, policy: Policy) -> list[Operation]:
        operations = recent.get(arn, [])
        valid = {
            (op.type, op.region)
            for op in operations
            if op.status is OperationStatus.SUCCEEDED or op.validated
        }
        needed = {(OperationType.BACKUP, ResourceRef.parse(arn).region)}
        needed |= {(OperationType.COPY, target.region) for target in policy.dr_regions}
        return operations if needed <= valid else deps.store.by_resource(arn, limit=HISTORY_LIMIT)

    return history


def _replica_region(source_arn: str, replica_arn: str) -> str:
    return ResourceRef.parse(replica_arn).region


def _source_region(source_arn: str, replica_arn: str) -> str:
    return ResourceRef.parse(source_arn).region


def _global_secondaries(deps: Deps, monitored: dict[str, Policy]) -> dict[str, list[str]]:
    """The Aurora Global Database secondaries of the monitored clusters that write one (one call
    for the fleet, none without clusters); unreadable, they are left out and said so."""
    clusters = {arn for arn in monitored if ResourceRef.parse(arn).kind == "cluster"}
    if not clusters:
        return {}
    try:
        return global_clusters.secondaries_of(deps.clients, deps.region, clusters)
    except TransientAwsError as exc:
        logger.warning("global database secondaries unknown", extra={"reason": str(exc)})
        return {}


def _metrics(**dimensions: str) -> EphemeralMetrics:
    emf = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    for name, value in dimensions.items():
        emf.add_dimension(name=name, value=value)
    return emf


def publish_resource_metrics(health: ResourceHealth) -> None:
    """One EMF line per resource and region (dimensions resource / region / policy)."""
    for region in health.regions:
        emf = _metrics(resource=health.resource_arn, region=region.region, policy=health.policy)
        if region.age_minutes is not None:
            emf.add_metric(name="RecoveryPointAgeMinutes", unit=NO_UNIT, value=region.age_minutes)
        if region.copy_lag_minutes is not None:
            emf.add_metric(name="CopyLagMinutes", unit=NO_UNIT, value=region.copy_lag_minutes)
        emf.add_metric(
            name="RpoBreached", unit=MetricUnit.Count, value=int(region.status is HealthStatus.BREACH)
        )
        emf.flush_metrics()
        if region.best_rpo_seconds is not None and region.best_mechanism is not None:
            best = _metrics(
                resource=health.resource_arn, region=region.region, mechanism=region.best_mechanism
            )
            best.add_metric(name="BestRpoSeconds", unit=MetricUnit.Seconds, value=region.best_rpo_seconds)
            best.flush_metrics()
    # A resource may have several replicas in one region (read scaling): ``replica`` tells them
    # apart; ``region`` is the replica's, where its lag is measured.
    for replica in health.replicas:
        if replica.lag_seconds is None:
            continue
        emf = _metrics(
            resource=health.resource_arn,
            region=replica.region,
            policy=health.policy,
            replica=replica.replica_arn,
        )
        emf.add_metric(name="ReplicaLagSeconds", unit=MetricUnit.Seconds, value=replica.lag_seconds)
        emf.flush_metrics()


def publish_breach_counts(report: HealthReport) -> None:
    """Resources over their RPO, per policy (dashboard) and per environment (the template's alarms).

    Alarms are declared in the template, which cannot know the policy names of the runtime
    config; environments (dev, staging, prod) are a fixed set, so each gets an alarm.
    """
    by_policy = Counter({h.policy: 0 for h in report.resources})
    by_environment = Counter({h.environment.value: 0 for h in report.resources})
    for health in report.breaches:
        by_policy[health.policy] += 1
        by_environment[health.environment.value] += 1
    for dimension, counts in (("policy", by_policy), ("environment", by_environment)):
        for value, count in sorted(counts.items()):
            emf = _metrics(**{dimension: value})
            emf.add_metric(name="ResourcesOverRpo", unit=MetricUnit.Count, value=count)
            emf.flush_metrics()


def publish_replica_counts(report: HealthReport) -> None:
    """Read replicas lagging over the target, stopped or of unknown lag, per environment (the
    template's replica-lag alarms). Only environments with replicas publish: a fleet without
    continuous replication has no such metric and no cost."""
    over: Counter[str] = Counter()
    for health in report.resources:
        if health.replicas:
            over[health.environment.value] += len(health.replicas_over_target)
    for environment, count in sorted(over.items()):
        emf = _metrics(environment=environment)
        emf.add_metric(name=REPLICAS_OVER_TARGET_METRIC, unit=MetricUnit.Count, value=count)
        emf.flush_metrics()
