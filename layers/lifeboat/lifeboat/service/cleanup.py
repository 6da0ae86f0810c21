"""Retention cleanup: plan from the state table, delete only what the guards let go.

Recovery points are found through the state table (GSI ``byResource``), never by listing the
account's snapshots. Before a deletion the snapshot itself is described: its Lifeboat tags must
agree with the state table (resource, id, tier) and it must carry no legal-hold tag. Every
deletion is an operation ``delete:<id>:<region>`` with its reason, and the deleted point's own
operation is marked ``deletedAt`` so it leaves later plans.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lifeboat.contracts.cleanup import (
    MAX_DELETIONS_CEILING,
    BatchResult,
    CleanupPlanRequest,
    DeletionBatch,
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
from lifeboat.domain.policy import Policy, RemovalPolicy, Tier
from lifeboat.domain.recovery import RESOURCE_TAG, TIER_TAG, is_ours
from lifeboat.domain.retention import (
    LEGAL_HOLD_TAG,
    Action,
    Decision,
    RecoveryPoint,
    RegionRules,
    cap_deletions,
    decide,
    delete_operation_id,
)
from lifeboat.domain.snapshot_budget import deletion_budget, points_per_day
from lifeboat.errors import RecoveryPointNotFound, ResourceNotFound, ResourceNotReady
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import plugin_for
from lifeboat.plugins.base import QuotaUsage
from lifeboat.service.deps import Deps
from lifeboat.service.discovery import protected_resources

MAX_DELETIONS_ENV = "LIFEBOAT_CLEANUP_MAX_DELETIONS"
DEFAULT_MAX_DELETIONS = 500
# Deletions per workflow Map item: one Lambda invocation stays well inside its timeout.
BATCH_SIZE = 50
# Deletion records are evidence for audits: a year plus a margin.
DELETION_EVIDENCE_DAYS = 365 + 30
_POINT_TYPES = frozenset({OperationType.BACKUP.value, OperationType.COPY.value})
_OWN_TYPES = _POINT_TYPES | {OperationType.DELETE.value}
_ACTIVE = frozenset({OperationStatus.PENDING.value, OperationStatus.RUNNING.value})


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
        policy_name = protected.get(arn) or _last_policy(items)
        if policy_name is None:
            skipped.append(SkippedCleanup(arn=arn, reason="no recovery point of it is recorded"))
            continue
        policy = config.policies.get(policy_name)
        if policy is None:
            skipped.append(SkippedCleanup(arn=arn, reason=f"unknown policy {policy_name!r}: nothing touched"))
            continue
        source_deleted = arn not in protected and _source_deleted(arn, deps)
        decisions = decide(
            _points(items), _rules(policy), now, retain_all=_retain_all(policy, source_deleted)
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


def batches(fleet: FleetPlan) -> list[DeletionBatch]:
    """The run's deletions, one batch per resource (at most ``BATCH_SIZE`` each)."""
    found: list[DeletionBatch] = []
    for resource_plan in fleet.resources:
        deletions = [_planned(d) for d in resource_plan.decisions if d.action is Action.DELETE]
        found += [
            DeletionBatch(
                resource_arn=resource_plan.arn,
                policy=resource_plan.policy,
                run_id=fleet.run_id,
                deletions=deletions[start : start + BATCH_SIZE],
            )
            for start in range(0, len(deletions), BATCH_SIZE)
        ]
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


def _last_policy(items: list[dict[str, Any]]) -> str | None:
    recorded = [i for i in items if i.get("type") in _POINT_TYPES and i.get("policy")]
    return str(max(recorded, key=lambda i: str(i["createdAt"]))["policy"]) if recorded else None


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


def _points(items: list[dict[str, Any]]) -> list[RecoveryPoint]:
    """The recovery points that exist (a snapshot was started and not yet deleted)."""
    in_use = {
        str(i["recoveryPointId"]): str(i["operationId"])
        for i in items
        if i.get("type") not in _OWN_TYPES and i.get("status") in _ACTIVE and i.get("recoveryPointId")
    }
    taken = {
        str(i["recoveryPointId"]): _time(i["createdAt"])
        for i in items
        if i.get("type") == OperationType.BACKUP.value and i.get("recoveryPointId")
    }
    points = []
    for item in items:
        if item.get("type") not in _POINT_TYPES or not item.get("recoveryPointId"):
            continue
        details: dict[str, Any] = item.get("details") or {}
        started = any(h.get("status") == OperationStatus.RUNNING.value for h in item.get("history", []))
        if not started or details.get("deletedAt"):
            continue
        point_id, region = str(item["recoveryPointId"]), str(item["region"])
        validation = details.get(f"validation_{region}") or {}
        points.append(
            RecoveryPoint(
                recovery_point_id=point_id,
                region=region,
                operation_id=str(item["operationId"]),
                tier=Tier(item["tier"]) if item.get("tier") in set(Tier) else None,
                taken_at=taken.get(point_id) or _time(item["createdAt"]),
                valid=validation.get("valid") is True,
                ours=not details.get("foreignSnapshot"),
                pinned_by=_pin(details),
                in_use_by=in_use.get(point_id),
            )
        )
    return _one_per_snapshot(points)


def _one_per_snapshot(points: list[RecoveryPoint]) -> list[RecoveryPoint]:
    """A point and region is one snapshot, whatever number of records name it: a copy that failed
    after it started and the catch-up copy that later made it (``copy:<id>:<region>:catch-up``).
    The valid record stands for it, so a guard that keeps the valid one keeps the snapshot."""
    chosen: dict[tuple[str, str], RecoveryPoint] = {}
    for point in points:
        key = (point.recovery_point_id, point.region)
        if key not in chosen or (point.valid and not chosen[key].valid):
            chosen[key] = point
    return list(chosen.values())


def _pin(details: dict[str, Any]) -> str | None:
    if details.get("forceRetain"):
        return "forceRetain"
    if details.get("legalHold"):
        return f"legal hold ({LEGAL_HOLD_TAG}={details['legalHold']})"
    return None


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


# --- deleting -------------------------------------------------------------------------------
def delete_batch(batch: DeletionBatch, deps: Deps) -> BatchResult:
    """Delete one resource's planned points. Immediately before each delete the plan is decided
    again from the state table and the config as they are then, and the snapshot's tags are
    checked: a hold, ``forceRetain`` or a drill that appeared since the plan, or a newer point
    that failed, keeps the point (the last good copy is never lost to a stale plan)."""
    policy = deps.config.fresh().policies.get(batch.policy)
    results = [_delete_one(batch, deletion, policy, deps) for deletion in batch.deletions]
    deleted = sum(1 for r in results if r.outcome is not DeletionOutcome.REFUSED)
    refused = len(results) - deleted
    metrics.add_metric(name="RecoveryPointsDeleted", unit=MetricUnit.Count, value=deleted)
    metrics.add_metric(name="DeletionsRefused", unit=MetricUnit.Count, value=refused)
    return BatchResult(resource_arn=batch.resource_arn, deleted=deleted, refused=refused, results=results)


def _delete_one(
    batch: DeletionBatch, deletion: PlannedDeletion, policy: Policy | None, deps: Deps
) -> DeletionResult:
    point, region = deletion.recovery_point_id, deletion.region
    operation_id = delete_operation_id(point, region)
    existing = deps.store.get(operation_id)
    if existing is not None and existing.status is OperationStatus.SUCCEEDED:
        _mark_deleted(deps, deletion, operation_id)
        return _result(deletion, DeletionOutcome.ALREADY_DELETED, "recorded by an earlier run")
    kept = _kept_now(batch, deletion, policy, deps)
    if kept is not None:
        logger.warning("planned deletion refused at delete time", extra={"point": point, "region": region})
        return _result(deletion, DeletionOutcome.REFUSED, f"kept at delete time: {kept}")
    ref = ResourceRef.parse(batch.resource_arn)
    plugin = plugin_for(ref, deps.clients)
    try:
        facts = plugin.describe_recovery_point(region, point)
    except RecoveryPointNotFound:
        facts = None
    if facts is not None:
        tags = facts.tags
        agrees = (
            is_ours(tags, point)
            and tags.get(RESOURCE_TAG) == batch.resource_arn
            and tags.get(TIER_TAG) == (deletion.tier.value if deletion.tier else None)
        )
        if not agrees:
            deps.store.record_details(
                deletion.operation_id, {"foreignSnapshot": "tags disagree with the state table"}
            )
            return _result(deletion, DeletionOutcome.REFUSED, "tags disagree with the state table; not ours")
        if tags.get(LEGAL_HOLD_TAG, "").lower() not in ("", "false"):
            deps.store.record_details(deletion.operation_id, {"legalHold": tags[LEGAL_HOLD_TAG]})
            return _result(deletion, DeletionOutcome.REFUSED, f"legal hold tag {LEGAL_HOLD_TAG}")
    gone = facts is None
    if existing is None:
        deps.store.open(
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
    if not gone:
        try:
            plugin.delete_recovery_point(region, point)
        except RecoveryPointNotFound:
            gone = True
        except ResourceNotReady as exc:
            return _result(deletion, DeletionOutcome.REFUSED, f"busy, retried next run: {exc}")
    deps.store.transition(
        operation_id,
        OperationStatus.SUCCEEDED,
        detail="already deleted" if gone else "deleted",
    )
    _mark_deleted(deps, deletion, operation_id)
    outcome = DeletionOutcome.ALREADY_DELETED if gone else DeletionOutcome.DELETED
    return _result(deletion, outcome, deletion.reason)


def _kept_now(
    batch: DeletionBatch, deletion: PlannedDeletion, policy: Policy | None, deps: Deps
) -> str | None:
    """Why the point must stay, decided from the resource's records as they are now (None: it
    may go). The same rules as the plan: pins, drills and restores using it, the newest valid
    point and the minimum count of its region, the policy's retention and ``forceRetain``."""
    if policy is None:
        return f"policy {batch.policy!r} is no longer in the config"
    now_points = _points(deps.store.items_of(batch.resource_arn))
    decisions = decide(
        now_points, _rules(policy), deps.now(), retain_all=_retain_all(policy, source_deleted=False)
    )
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
        [p for p in _points(items) if p.region == ref.region],
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
