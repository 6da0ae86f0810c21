"""Retention cleanup: plan from the state table, delete only what the guards let go.

Recovery points are found through the state table (GSI ``byResource``), never by listing the
account's snapshots. Immediately before a Map item's deletions its snapshots are described
(together: one call per resource type and region where the API allows it): a snapshot's
Lifeboat tags must agree with the state table (resource, id, tier) and it must carry no
legal-hold tag. Every deletion is an operation ``delete:<id>:<region>`` with its reason, and the
deleted point's own operation is marked ``deletedAt`` so it leaves later plans.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from lifeboat.contracts.cleanup import (
    MAX_DELETIONS_CEILING,
    BatchResult,
    ChunkResult,
    CleanupPlanRequest,
    DeletionBatch,
    DeletionChunk,
    DeletionOutcome,
    DeletionResult,
    FleetPlan,
    PlannedDeletion,
    ResourcePlan,
    SkippedCleanup,
)
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.ids import normalise_time
from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.domain.policy import Policy, RemovalPolicy
from lifeboat.domain.recovery import RESOURCE_TAG, TIER_TAG, RecoveryPointFacts, is_ours
from lifeboat.domain.retention import (
    LEGAL_HOLD_TAG,
    Action,
    Decision,
    RegionRules,
    cap_deletions,
    decide,
    delete_operation_id,
)
from lifeboat.domain.snapshot_budget import deletion_budget, points_per_day
from lifeboat.errors import RecoveryPointNotFound, ResourceNotFound, ResourceNotReady
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import plugin_for
from lifeboat.plugins.base import QuotaUsage, ResourcePlugin
from lifeboat.service.cleanup_points import last_policy, points_of
from lifeboat.service.deps import Deps
from lifeboat.service.discovery import protected_resources

MAX_DELETIONS_ENV = "LIFEBOAT_CLEANUP_MAX_DELETIONS"
DEFAULT_MAX_DELETIONS = 500
# Deletions per workflow Map item: described together, and one Lambda invocation stays well
# inside its timeout.
CHUNK_SIZE = 100
# Deletion records are evidence for audits: a year plus a margin.
DELETION_EVIDENCE_DAYS = 365 + 30


def deployment_cap() -> int:
    """The per-run deletion ceiling of this deployment (a stack parameter). The run's budget is
    never below 1.5 days of the fleet's expiry (``deletion_budget``); requests may only lower it."""
    return min(int(os.environ.get(MAX_DELETIONS_ENV, DEFAULT_MAX_DELETIONS)), MAX_DELETIONS_CEILING)


def cleanup_run_id(at: datetime) -> str:
    return f"cleanup-{normalise_time(at).strftime('%Y%m%dT%H%MZ')}"


# --- planning -------------------------------------------------------------------------------
def fleet_plan(request: CleanupPlanRequest, deps: Deps) -> FleetPlan:
    """Every recovery point of every protected resource with its decision (reads only)."""
    config = deps.config()
    now = deps.now()
    wanted = request.request.resources
    asked = request.request.max_deletions
    cap = MAX_DELETIONS_CEILING if asked is None else asked
    protected = protected_resources(config, deps)
    resources_per_policy = Counter(protected.values())
    daily_expiry = math.ceil(
        sum(
            count * points_per_day(config.policies[name])
            for name, count in resources_per_policy.items()
            if name in config.policies
        )
    )
    cap = min(deletion_budget(deployment_cap(), daily_expiry), cap)
    arns = sorted(protected) if wanted is None else sorted(set(wanted))
    plans: list[ResourcePlan] = []
    skipped: list[SkippedCleanup] = []
    for arn in arns:
        items = deps.store.items_of(arn)
        policy_name = protected.get(arn) or last_policy(items)
        if policy_name is None:
            skipped.append(SkippedCleanup(arn=arn, reason="no recovery point of it is recorded"))
            continue
        policy = config.policies.get(policy_name)
        if policy is None:
            skipped.append(SkippedCleanup(arn=arn, reason=f"unknown policy {policy_name!r}: nothing touched"))
            continue
        source_deleted = arn not in protected and _source_deleted(arn, deps)
        decisions = decide(
            points_of(items), _rules(policy), now, retain_all=_retain_all(policy, source_deleted)
        )
        plans.append(
            ResourcePlan(arn=arn, policy=policy.name, source_deleted=source_deleted, decisions=decisions)
        )
    capped = cap_deletions([d for p in plans for d in p.decisions], cap)
    for resource_plan in plans:
        count = len(resource_plan.decisions)
        resource_plan.decisions, capped = capped[:count], capped[count:]
    at = request.request.scheduled_at or request.execution_start_time
    return FleetPlan(
        run_id=cleanup_run_id(at),
        now=now,
        max_deletions=cap,
        daily_expiry=daily_expiry,
        resources=plans,
        skipped=skipped,
    )


def chunks(fleet: FleetPlan) -> list[DeletionChunk]:
    """The run's deletions as Map items of at most ``CHUNK_SIZE`` each, several resources to an
    item, each resource's deletions in one batch (split across items only past the size)."""
    found: list[DeletionChunk] = []
    current: list[DeletionBatch] = []
    size = 0
    for resource_plan in fleet.resources:
        deletions = [_planned(d) for d in resource_plan.decisions if d.action is Action.DELETE]
        while deletions:
            part, deletions = deletions[: CHUNK_SIZE - size], deletions[CHUNK_SIZE - size :]
            current.append(
                DeletionBatch(
                    resource_arn=resource_plan.arn,
                    policy=resource_plan.policy,
                    run_id=fleet.run_id,
                    deletions=part,
                )
            )
            size += len(part)
            if size == CHUNK_SIZE:
                found.append(DeletionChunk(run_id=fleet.run_id, batches=current))
                current, size = [], 0
    if current:
        found.append(DeletionChunk(run_id=fleet.run_id, batches=current))
    return found


def _planned(decision: Decision) -> PlannedDeletion:
    point = decision.point
    return PlannedDeletion(
        recovery_point_id=point.recovery_point_id,
        region=point.region,
        operation_id=point.operation_id,
        tier=point.tier,
        reason=decision.reason,
    )


def _source_deleted(arn: str, deps: Deps) -> bool:
    ref = ResourceRef.parse(arn)
    try:
        plugin_for(ref, deps.clients).describe_source(ref)
    except ResourceNotFound:
        return True
    return False


def _retain_all(policy: Policy, source_deleted: bool) -> str | None:
    if policy.force_retain:
        return f"policy {policy.name!r} has forceRetain: nothing of it expires"
    if source_deleted and policy.effective_removal_policy is RemovalPolicy.RETAIN:
        return f"source deleted; removal policy RETAIN of {policy.name!r} keeps every point"
    return None


def _rules(policy: Policy) -> Callable[[str], RegionRules]:
    def rules(region: str) -> RegionRules:
        return RegionRules(retention_days=policy.retention_in(region), min_count=policy.min_recovery_points)

    return rules


# --- deleting -------------------------------------------------------------------------------
# A Map item's snapshots as described right before its deletions, by (region, point id); a point
# that is not there is absent (already deleted).
Described = dict[tuple[str, str], RecoveryPointFacts]
# A resource's planned deletions as decided again immediately before: None where the point may
# go, else the result it already has (kept, or deleted by an earlier run).
Rechecked = list[tuple[PlannedDeletion, DeletionResult | None]]


def delete_chunk(chunk: DeletionChunk, deps: Deps) -> ChunkResult:
    """Delete a Map item's planned points: each resource's decided again first, then the
    snapshots of those that may still go described together, then deleted."""
    policies = deps.config.fresh().policies
    rechecked = [(b, _recheck(b, policies.get(b.policy), deps)) for b in chunk.batches]
    described = _described([(b, d) for b, checked in rechecked for d, done in checked if done is None], deps)
    return ChunkResult(batches=[_delete_resource(b, checked, described, deps) for b, checked in rechecked])


def delete_batch(batch: DeletionBatch, deps: Deps) -> BatchResult:
    """Delete one resource's planned points (the quota guard's make-room)."""
    checked = _recheck(batch, deps.config.fresh().policies.get(batch.policy), deps)
    described = _described([(batch, d) for d, done in checked if done is None], deps)
    return _delete_resource(batch, checked, described, deps)


def _recheck(batch: DeletionBatch, policy: Policy | None, deps: Deps) -> Rechecked:
    """The plan decided again from the state table and the config as they are now (one read of
    the resource's records): a hold, ``forceRetain`` or a drill that appeared since the plan, or
    a newer point that failed, keeps the point (the last good copy is never lost to a stale
    plan). The plan's deletions of a resource were decided together, so one decision covers
    them all."""
    items = deps.store.items_of(batch.resource_arn)
    decisions = None
    if policy is not None:
        retain_all = _retain_all(policy, source_deleted=False)
        decisions = decide(points_of(items), _rules(policy), deps.now(), retain_all=retain_all)
    recorded = {
        str(i["operationId"])
        for i in items
        if i.get("type") == OperationType.DELETE.value and i.get("status") == OperationStatus.SUCCEEDED.value
    }
    checked: Rechecked = []
    for deletion in batch.deletions:
        operation_id = delete_operation_id(deletion.recovery_point_id, deletion.region)
        kept = None if operation_id in recorded else _kept_now(batch, deletion, decisions)
        done = None
        if operation_id in recorded:
            _mark_deleted(deps, deletion, operation_id)
            done = _result(deletion, DeletionOutcome.ALREADY_DELETED, "recorded by an earlier run")
        elif kept is not None:
            logger.warning(
                "planned deletion refused at delete time",
                extra={"point": deletion.recovery_point_id, "region": deletion.region},
            )
            done = _result(deletion, DeletionOutcome.REFUSED, f"kept at delete time: {kept}")
        checked.append((deletion, done))
    return checked


def _described(deletions: list[tuple[DeletionBatch, PlannedDeletion]], deps: Deps) -> Described:
    """The snapshots of the points that may go: one describe per resource type and region where
    the type describes many at once (RDS), else one per point. Their tags are checked next."""
    wanted: dict[tuple[type[ResourcePlugin], str], tuple[ResourcePlugin, list[str]]] = {}
    for batch, deletion in deletions:
        plugin = plugin_for(ResourceRef.parse(batch.resource_arn), deps.clients)
        points = wanted.setdefault((type(plugin), deletion.region), (plugin, []))[1]
        points.append(deletion.recovery_point_id)
    described: Described = {}
    for (_, region), (plugin, points) in wanted.items():
        for point, facts in plugin.describe_recovery_points(region, points).items():
            described[(region, point)] = facts
    return described


def _delete_resource(
    batch: DeletionBatch, checked: Rechecked, described: Described, deps: Deps
) -> BatchResult:
    """Delete the resource's points that may go and whose snapshot's tags agree."""
    results = []
    for deletion, done in checked:
        if done is not None:
            results.append(done)
            continue
        facts = described.get((deletion.region, deletion.recovery_point_id))
        refusal = facts and _tags_refusal(batch, deletion, facts, deps)
        if refusal:
            results.append(_result(deletion, DeletionOutcome.REFUSED, refusal))
        else:
            results.append(_delete_one(batch, deletion, gone=facts is None, deps=deps))
    deleted = sum(1 for r in results if r.outcome is not DeletionOutcome.REFUSED)
    refused = len(results) - deleted
    metrics.add_metric(name="RecoveryPointsDeleted", unit=MetricUnit.Count, value=deleted)
    metrics.add_metric(name="DeletionsRefused", unit=MetricUnit.Count, value=refused)
    return BatchResult(resource_arn=batch.resource_arn, deleted=deleted, refused=refused, results=results)


def _delete_one(batch: DeletionBatch, deletion: PlannedDeletion, *, gone: bool, deps: Deps) -> DeletionResult:
    """Record the deletion (RUNNING), delete the snapshot unless it is gone, record the result."""
    point, region = deletion.recovery_point_id, deletion.region
    operation_id = delete_operation_id(point, region)
    operation, _ = deps.store.open(
        operation_id=operation_id,
        type=OperationType.DELETE,
        resource_arn=batch.resource_arn,
        region=region,
        status=OperationStatus.RUNNING,
        retain_days=DELETION_EVIDENCE_DAYS,
        recovery_point_id=point,
        run_id=batch.run_id,
        tier=deletion.tier.value if deletion.tier else None,
        policy=batch.policy,
        detail=deletion.reason,
        details={"reason": deletion.reason, "pointOperationId": deletion.operation_id},
    )
    if operation.status is OperationStatus.SUCCEEDED:  # recorded since the resource was read
        _mark_deleted(deps, deletion, operation_id)
        return _result(deletion, DeletionOutcome.ALREADY_DELETED, "recorded by an earlier run")
    if not gone:
        try:
            plugin = plugin_for(ResourceRef.parse(batch.resource_arn), deps.clients)
            plugin.delete_recovery_point(region, point)
        except RecoveryPointNotFound:
            gone = True
        except ResourceNotReady as exc:
            return _result(deletion, DeletionOutcome.REFUSED, f"busy, retried next run: {exc}")
    deps.store.transition(
        operation_id, OperationStatus.SUCCEEDED, detail="already deleted" if gone else "deleted"
    )
    _mark_deleted(deps, deletion, operation_id)
    outcome = DeletionOutcome.ALREADY_DELETED if gone else DeletionOutcome.DELETED
    return _result(deletion, outcome, deletion.reason)


def _tags_refusal(
    batch: DeletionBatch, deletion: PlannedDeletion, facts: RecoveryPointFacts, deps: Deps
) -> str | None:
    """Why the snapshot's own tags forbid deleting it (recorded on its point), or None: they must
    say it is this resource's Lifeboat point of this tier, and carry no legal hold."""
    tags = facts.tags
    agrees = (
        is_ours(tags, deletion.recovery_point_id)
        and tags.get(RESOURCE_TAG) == batch.resource_arn
        and tags.get(TIER_TAG) == (deletion.tier.value if deletion.tier else None)
    )
    if not agrees:
        deps.store.record_details(
            deletion.operation_id, {"foreignSnapshot": "tags disagree with the state table"}
        )
        return "tags disagree with the state table; not ours"
    if tags.get(LEGAL_HOLD_TAG, "").lower() not in ("", "false"):
        deps.store.record_details(deletion.operation_id, {"legalHold": tags[LEGAL_HOLD_TAG]})
        return f"legal hold tag {LEGAL_HOLD_TAG}"
    return None


def _kept_now(
    batch: DeletionBatch, deletion: PlannedDeletion, decisions: list[Decision] | None
) -> str | None:
    """Why the point must stay, by the rules the plan applied (None: it may go): pins, drills and
    restores using it, the newest valid point and the minimum count of its region, the policy's
    retention and ``forceRetain``."""
    if decisions is None:
        return f"policy {batch.policy!r} is no longer in the config"
    for decision in decisions:
        point = decision.point
        if (point.recovery_point_id, point.region) == (deletion.recovery_point_id, deletion.region):
            return None if decision.action is Action.DELETE else decision.reason
    return "no longer recorded as an existing point"


def _mark_deleted(deps: Deps, deletion: PlannedDeletion, operation_id: str) -> None:
    deps.store.record_details(
        deletion.operation_id, {"deletedAt": deps.now().isoformat(), "deletedBy": operation_id}
    )


def _result(deletion: PlannedDeletion, outcome: DeletionOutcome, detail: str) -> DeletionResult:
    return DeletionResult(
        recovery_point_id=deletion.recovery_point_id, region=deletion.region, outcome=outcome, detail=detail
    )


# --- quota guard ----------------------------------------------------------------------------
def make_room(ref: ResourceRef, policy: Policy, deps: Deps, run_id: str) -> tuple[int, QuotaUsage | None]:
    """Near the manual-snapshot quota: delete this resource's expired points in its region now.

    Returns (points deleted, quota usage afterwards). The guards apply as in any cleanup.
    """
    items = deps.store.items_of(ref.arn)
    decisions = decide(
        [p for p in points_of(items) if p.region == ref.region],
        _rules(policy),
        deps.now(),
        retain_all=_retain_all(policy, source_deleted=False),
    )
    deletions = [_planned(d) for d in cap_deletions(decisions, deployment_cap()) if d.action is Action.DELETE]
    result = delete_batch(
        DeletionBatch(resource_arn=ref.arn, policy=policy.name, run_id=run_id, deletions=deletions), deps
    )
    logger.warning(
        "near the manual snapshot quota: cleaned up first",
        extra={"resource": ref.arn, "deleted": result.deleted, "refused": result.refused},
    )
    return result.deleted, plugin_for(ref, deps.clients).snapshot_quota(ref.region)
