"""The backup workflow's steps. Each is idempotent: re-running one with the same input changes
nothing that the first run did not already change."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from lifeboat.aws.clients import fail_fast
from lifeboat.aws.kms import resolve_usable_key
from lifeboat.contracts.backup import (
    CatchUpCopy,
    Plan,
    PlannedResource,
    PlanRequest,
    Preflight,
    RecoveryPointResult,
    ResourceTask,
    RunRequest,
    SkippedResource,
    StepRequest,
    ValidationResult,
)
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.catchup import missed_copies, skip_note
from lifeboat.domain.completion import IN_PROGRESS
from lifeboat.domain.config import PolicyConfig
from lifeboat.domain.ids import (
    backup_operation_id,
    copy_operation_id,
    normalise_time,
    recovery_point_id,
    run_id,
)
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.policy import DrTarget, Policy, Tier, resource_violations
from lifeboat.domain.recovery import recovery_point_tags
from lifeboat.errors import (
    IllegalStatusTransition,
    InvalidInput,
    OperationAlreadyFinished,
    PolicyViolation,
    ResourceNotReady,
    SnapshotQuotaExceeded,
    ValidationFailed,
)
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import plugin_for
from lifeboat.plugins.base import PluginOperation
from lifeboat.service import copy_slots, plan_keys
from lifeboat.service.continuous import ensure_continuous
from lifeboat.service.deps import Deps
from lifeboat.service.discovery import protected_resources
from lifeboat.service.quota import planned_room, quota_reserve, room_for
from lifeboat.service.regions import reaching
from lifeboat.state import resource_breakers

# Operation records outlive their recovery point by this margin, so evidence of a backup is
# still in the table when an auditor asks about the last day of its retention.
EVIDENCE_MARGIN_DAYS = 30
MIN_SNAPSHOT_HEADROOM = 1


def plan(request: PlanRequest, deps: Deps) -> Plan:
    """Expand a run into its protected resources; every left-out resource says why."""
    config = deps.config()
    copy_slots.check_copy_quotas(config)
    tier = request.request.tier
    scheduled_at = normalise_time(request.request.scheduled_at or request.execution_start_time)
    if not _tier_kept(config, request.request):
        # The hourly schedule fires whether or not a policy keeps hourly points: nothing to
        # discover, so no discovery calls.
        return Plan(
            run_id=run_id(tier, scheduled_at), tier=tier, scheduled_at=scheduled_at, resources=[], skipped=[]
        )
    candidates = protected_resources(config, deps)
    if request.request.resources is not None:
        wanted = set(request.request.resources)
        skipped = [
            SkippedResource(arn=arn, reason="not protected by any Lifeboat policy")
            for arn in sorted(wanted - set(candidates))
        ]
        candidates = {arn: name for arn, name in candidates.items() if arn in wanted}
    else:
        skipped = []
    planned: list[PlannedResource] = []
    failing = resource_breakers.failing_resources(deps.store)
    named = set(request.request.resources or ()) if request.request.trigger == "manual" else set()
    for arn, name in sorted(candidates.items()):
        breaker = failing.get(arn)
        reason = _skip_reason(config, name, tier)
        if reason is None and breaker is not None and breaker.open and arn not in named:
            # Tried only when an operator names it: a run by hand that succeeds closes it.
            reason = (
                f"CIRCUIT_OPEN: {breaker.describe()}; scheduled runs skip it until a run by hand "
                f"succeeds (lifeboat backup run --resource {arn}) or `lifeboat backup reset` clears it"
            )
        if reason:
            skipped.append(SkippedResource(arn=arn, reason=reason))
        else:
            planned.append(
                PlannedResource(arn=arn, policy=name, failed_runs=breaker.failures if breaker else None)
            )
    run = run_id(tier, scheduled_at)
    result = Plan(
        run_id=run,
        tier=tier,
        scheduled_at=scheduled_at,
        resources=planned,
        skipped=skipped,
        keys=plan_keys.checked_keys(
            deps, (config.policies[name] for name in {r.policy for r in planned}), run
        ),
        quota_room=planned_room(deps, {r.arn: config.policies[r.policy] for r in planned}),
    )
    metrics.add_metric(name="ResourcesPlanned", unit=MetricUnit.Count, value=len(planned))
    logger.info(
        "planned run", extra={"run_id": result.run_id, "planned": len(planned), "skipped": len(skipped)}
    )
    return result


def _tier_kept(config: PolicyConfig, request: RunRequest) -> bool:
    """Whether an enabled policy keeps the run's tier. An operator's run of a tier none keeps
    would back up nothing and end SUCCEEDED: it is refused before anything runs. A schedule of
    such a tier just plans nothing."""
    kept = {t for p in config.policies.values() if p.backups_enabled for t in p.effective_retention}
    if request.tier in kept:
        return True
    if request.trigger == "manual":
        names = ", ".join(t.value for t in Tier if t in kept) or "none"
        raise InvalidInput(
            f"tier: no enabled policy keeps {request.tier.value} recovery points "
            f"(tiers kept: {names}); nothing was backed up"
        )
    return False


def _skip_reason(config: PolicyConfig, policy_name: str, tier: str) -> str | None:
    policy = config.policies.get(policy_name)
    if policy is None:
        return f"tagged with unknown policy {policy_name!r}"
    if not policy.backups_enabled:
        return f"backups are disabled by policy {policy_name!r} ({policy.environment.value})"
    if policy.retention_for(tier) is None:  # type: ignore[arg-type]
        return f"policy {policy_name!r} has no {tier} tier"
    return None


def _retain_days(policy: Policy, task: ResourceTask) -> int:
    return (policy.retention_for(task.tier) or 0) + EVIDENCE_MARGIN_DAYS


def preflight(task: ResourceTask, deps: Deps) -> Preflight:
    """Open the backup operation and check everything a backup needs before mutating anything."""
    ref = ResourceRef.parse(task.resource.arn)
    policy = deps.config().policy(task.resource.policy)
    point = recovery_point_id(ref.arn, task.tier, task.scheduled_at)
    operation, _ = deps.store.open(
        operation_id=backup_operation_id(point),
        type=OperationType.BACKUP,
        resource_arn=ref.arn,
        region=ref.region,
        retain_days=_retain_days(policy, task),
        recovery_point_id=point,
        run_id=task.run_id,
        tier=task.tier.value,
        policy=policy.name,
        detail="preflight",
    )
    if operation.status.terminal:
        logger.info(
            "backup already recorded",
            extra={"operation_id": operation.operation_id, "status": operation.status},
        )
        metrics.add_metric(name="DuplicateRunsSkipped", unit=MetricUnit.Count, value=1)
        return Preflight(
            operation_id=operation.operation_id,
            recovery_point_id=point,
            already_recorded=operation.status,
        )
    plugin = plugin_for(ref, deps.clients)
    source = plugin.describe_source(ref)
    if source.status != "available":
        raise ResourceNotReady(f"{ref.arn} is {source.status}, not available")
    no_copy = plugin.unsupported.get(PluginOperation.COPY)
    problems = resource_violations(
        policy,
        resource_arn=ref.arn,
        source_region=ref.region,
        encrypted=source.encrypted,
        copy_unsupported=no_copy and f"{plugin.resource_type} recovery points cannot be copied: {no_copy}",
    )
    if problems:
        raise PolicyViolation("; ".join(problems))
    ensure_continuous(plugin, ref, policy, deps, operation.operation_id)
    # Nothing here reaches a DR region: its key, quota and reachability gate only its own copy.
    targets = [plan_keys.copy_target(target, source.encrypted, task.keys) for target in policy.dr_regions]
    checked = {k.arn for k in task.keys}
    catch_up = _catch_up(deps, ref, policy, targets, point)
    room = room_for(task.quota_room, ref)
    quota = None if room else plugin.snapshot_quota(ref.region)
    cleaned = None
    if quota is not None and quota.headroom < quota_reserve():
        # Near the quota: clean up this resource's expired points first, never skip silently.
        from lifeboat.service import cleanup  # rarely needed: not on every handler's cold start

        cleaned, quota = cleanup.make_room(ref, policy, deps, task.run_id)
    if quota is not None and quota.headroom < MIN_SNAPSHOT_HEADROOM:
        after = "" if cleaned is None else f" even after deleting {cleaned} expired points of this resource"
        raise SnapshotQuotaExceeded(
            f"manual snapshot quota in {ref.region} is used up ({quota.used}/{quota.max}){after}; "
            "delete expired recovery points of other resources or raise the quota"
        )
    metrics.add_metric(name="PreflightPassed", unit=MetricUnit.Count, value=1)
    return Preflight(
        operation_id=operation.operation_id,
        recovery_point_id=point,
        source=source,
        targets=targets,
        checked_keys=sorted({t.kms_key_id for t in targets if t.kms_key_id in checked}),
        snapshot_quota_headroom=room.headroom if room else quota.headroom if quota else None,
        data_checks=ref.arn in deps.config().data_checks,
        catch_up=catch_up,
    )


def _catch_up(
    deps: Deps, ref: ResourceRef, policy: Policy, targets: list[DrTarget], point: str
) -> list[CatchUpCopy]:
    """The points the DR regions missed (an outage, a disabled key, a quota), newest first: this
    run copies them after its own when the policy backfills; otherwise each is recorded as
    skipped on its backup, once, so the gap is visible. One history read per resource."""
    if not targets:
        return []
    missed = missed_copies(
        deps.store.by_resource(ref.arn),
        regions=[t.region for t in targets],
        retention_days=lambda region, tier: policy.retention_in(region).get(tier),
        now=deps.now(),
        current_point=point,
    )
    if policy.backfill_missed_copies:
        by_region = {t.region: t for t in targets}
        return [
            CatchUpCopy(
                recovery_point_id=m.recovery_point_id,
                tier=m.tier,
                scheduled_at=m.scheduled_at,
                target=by_region[m.region],
            )
            for m in missed
        ]
    for m in (m for m in missed if not m.noted):
        why = f"not copied to {m.region}: missed there, and backfillMissedCopies is off; {point} is newer"
        deps.store.record_details(backup_operation_id(m.recovery_point_id), {skip_note(m.region): why})
        logger.info(
            "missed copy skipped", extra={"recovery_point_id": m.recovery_point_id, "region": m.region}
        )
    metrics.add_metric(name="MissedCopiesSkipped", unit=MetricUnit.Count, value=len(missed))
    return []


def _tags(step: StepRequest, point: str) -> dict[str, str]:
    return recovery_point_tags(
        resource_arn=step.resource.arn,
        recovery_point_id=point,
        tier=step.tier.value,
        policy=step.resource.policy,
        scheduled_at=step.scheduled_at,
    )


def advance(deps: Deps, operation_id: str, status: OperationStatus, **change: Any) -> Operation:
    """A status write; if the operation already finished, this is a duplicate delivery."""
    try:
        return deps.store.transition(operation_id, status, **change)
    except IllegalStatusTransition as exc:
        raise OperationAlreadyFinished(
            f"{operation_id}: {exc}; an earlier delivery of this run already recorded its result"
        ) from exc


def take_snapshot(step: StepRequest, deps: Deps) -> RecoveryPointResult:
    ref = ResourceRef.parse(step.resource.arn)
    point = step.preflight.recovery_point_id
    outcome = plugin_for(ref, deps.clients).create_recovery_point(ref, point, _tags(step, point))
    advance(
        deps,
        step.preflight.operation_id,
        OperationStatus.RUNNING,
        detail=f"snapshot {point} {'started' if outcome.created else 'already existed'}",
    )
    metrics.add_metric(name="SnapshotsStarted", unit=MetricUnit.Count, value=int(outcome.created))
    return RecoveryPointResult(**outcome.model_dump())


def validate(step: StepRequest, deps: Deps) -> ValidationResult:
    """Level-1 validation of the source-region point, or of one DR copy when ``target`` is set."""
    ref = ResourceRef.parse(step.resource.arn)
    point = step.point
    region = step.target.region if step.target else ref.region
    expected_key = step.target.kms_key_id if step.target else step.source.kms_key_id
    with reaching(deps, region, step.run_id) if step.target else nullcontext():
        clients = fail_fast(deps.clients) if step.target else deps.clients
        facts, checks = plugin_for(ref, clients).validate(
            region, point, step.source, expected_kms_key_id=expected_key, expected_tags=_tags(step, point)
        )
    slot = copy_slots.step_slot(step, deps)
    if not facts.ready and facts.status in IN_PROGRESS:
        if slot is not None:
            copy_slots.renew(slot, deps)
        raise ResourceNotReady(f"{point} in {region} is {facts.status}")
    if slot is not None:
        copy_slots.release(slot, deps)  # the copy is over, whatever its checks find
    result = ValidationResult(
        recovery_point_id=point,
        region=region,
        kms_key_id=facts.kms_key_id,
        valid=all(c.passed for c in checks),
        checks=checks,
    )
    evidence = {f"validation_{region}": result.model_dump(mode="json", by_alias=True)}
    metrics.add_metric(
        name="RecoveryPointsValid" if result.valid else "RecoveryPointsInvalid",
        unit=MetricUnit.Count,
        value=1,
    )
    operation_id = (
        copy_operation_id(point, region, catch_up=bool(step.catch_up))
        if step.target
        else step.preflight.operation_id
    )
    if not result.valid:
        deps.store.record_details(operation_id, evidence)
        failed = ", ".join(
            f"{c.name} (expected {c.expected}, got {c.actual})" for c in checks if not c.passed
        )
        raise ValidationFailed(f"{point} in {region} failed validation: {failed}")
    if step.target:
        deps.store.transition(
            operation_id, OperationStatus.SUCCEEDED, detail="copy validated", details=evidence
        )
    else:
        deps.store.record_details(operation_id, evidence)
    return result


def replicate(step: StepRequest, deps: Deps) -> tuple[DrTarget, bool]:
    """Open this region's copy operation, resolve the region's key (unless the plan did), start
    (or find) the copy.

    The operation is opened before anything is tried in the region, so a region that is down, a
    key that is disabled or a quota that never frees up is recorded on this region's copy with
    its cause, never on the backup or on another region's copy. Returns the target with its key
    resolved to an ARN, which the copy's validation expects, and whether this call started the
    copy (False: it existed already)."""
    if step.target is None:
        raise ValueError("replicate needs a target region")
    ref = ResourceRef.parse(step.resource.arn)
    point, region = step.point, step.target.region
    if region == ref.region:
        raise InvalidInput(f"target.region: {region} is the source region of {ref.arn}, not a DR region")
    policy = deps.config().policy(step.resource.policy)
    operation_id = copy_operation_id(point, region, catch_up=bool(step.catch_up))
    copy, opened = deps.store.open(
        operation_id=operation_id,
        type=OperationType.COPY,
        resource_arn=ref.arn,
        region=region,
        retain_days=_retain_days(policy, step),
        recovery_point_id=point,
        run_id=step.run_id,
        tier=step.tier.value,
        policy=policy.name,
        detail=f"copy from {ref.region} opened"
        + (f" (catch-up by run {step.run_id})" if step.catch_up else ""),
        details={"sourceRegion": ref.region},
    )
    slot = copy_slots.step_slot(step, deps)
    if copy.status.terminal:
        if slot is not None:
            copy_slots.release(slot, deps)
        raise OperationAlreadyFinished(f"{operation_id} is already {copy.status.value}")
    if slot is not None and not opened:
        # Run again (a quota refusal retries for hours, a wait times out): keep the slot. On the
        # first run the lease is as fresh as the slot it was just granted with.
        copy_slots.renew(slot, deps)
    if copy.status is OperationStatus.RUNNING:
        # Started by an earlier run of this step, whose wait for the copy timed out: look at the
        # copy (the caller does), do not resolve the key and start it again.
        return DrTarget(region=region, kms_key_id=copy.details.get("kmsKeyId")), False
    key = None
    with reaching(deps, region, step.run_id):
        clients = fail_fast(deps.clients)
        if step.target.kms_key_id in step.preflight.checked_keys:
            key = step.target.kms_key_id  # checked by this run's plan
        elif step.source.encrypted and step.target.kms_key_id:
            key = resolve_usable_key(clients, region, step.target.kms_key_id)
        outcome = plugin_for(ref, clients).copy_recovery_point(ref, point, region, key)
    advance(
        deps,
        operation_id,
        OperationStatus.RUNNING,
        detail=f"copy from {ref.region} {'started' if outcome.created else 'already existed'}"
        + (f" under {key}" if key else ""),
        details={"kmsKeyId": key, "sourceRegion": ref.region},
    )
    metrics.add_metric(name="CopiesStarted", unit=MetricUnit.Count, value=int(outcome.created))
    return DrTarget(region=region, kms_key_id=key), outcome.created
