"""The end of a resource's backup: SUCCEEDED, PARTIAL (its source point is valid, a DR copy is
missing) or FAILED, and one region's copy FAILED on its own, each with the notification people
need. Called by the workflow's record steps (UpdateStateFunction)."""

from __future__ import annotations

from lifeboat.contracts.backup import OutcomeRequest, OutcomeResult, OutcomeState, Preflight
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.ids import backup_operation_id, copy_operation_id, recovery_point_id
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.policy import DrTarget
from lifeboat.errors import IllegalStatusTransition
from lifeboat.observability import MetricUnit, metrics
from lifeboat.service import copy_slots
from lifeboat.service.backup import EVIDENCE_MARGIN_DAYS, advance
from lifeboat.service.backup_notices import copy_failure, failure_notification, partial_notification
from lifeboat.service.deps import Deps
from lifeboat.state import resource_breakers
from lifeboat.state.resource_breakers import ResourceBreaker

__all__ = ["record_outcome"]


def record_outcome(request: OutcomeRequest, deps: Deps) -> OutcomeResult:
    """Record a backup SUCCEEDED, PARTIAL (its source point is valid, a DR copy is missing) or
    FAILED with the error and cause, or one region's copy FAILED; word what people must know."""
    state = request.state
    if state.target is not None:
        return _record_copy_failure(state, state.target, deps)
    point = recovery_point_id(state.resource.arn, state.tier, state.scheduled_at)
    operation_id = backup_operation_id(point)
    if request.outcome is OperationStatus.SUCCEEDED:
        return _record_success(state, point, deps)
    error, cause = state.failure
    existing = deps.store.get(operation_id)
    if existing is None:
        deps.store.open(
            operation_id=operation_id,
            type=OperationType.BACKUP,
            resource_arn=state.resource.arn,
            region=ResourceRef.parse(state.resource.arn).region,
            status=OperationStatus.FAILED,
            retain_days=EVIDENCE_MARGIN_DAYS * 3,
            recovery_point_id=point,
            run_id=state.run_id,
            tier=state.tier.value,
            policy=state.resource.policy,
            error=error,
            cause=cause,
            detail="failed before the backup started",
        )
    else:
        advance(deps, operation_id, OperationStatus.FAILED, error=error, cause=cause, detail="backup failed")
    _fail_open_copies(deps, state.preflight, point, error)
    metrics.add_metric(name="BackupFailed", unit=MetricUnit.Count, value=1)
    validated = existing is not None and existing.validated
    breaker = _count_failure(state, error, cause, deps)
    return OutcomeResult(
        operation_id=operation_id,
        status=OperationStatus.FAILED,
        notification=failure_notification(
            state, point, error, cause, source_point_valid=validated, breaker=breaker
        ),
    )


def _count_failure(state: OutcomeState, error: str, cause: str | None, deps: Deps) -> ResourceBreaker | None:
    """One more failed run on the resource's breaker; None when its policy is gone."""
    config = deps.config()
    policy = config.policies.get(state.resource.policy)
    breaker = resource_breakers.count_failure(
        deps.store,
        state.resource.arn,
        run_id=state.run_id,
        now=deps.now(),
        error=error,
        cause=cause,
        open_after=policy.circuit_breaker_failures if policy else None,
    )
    if breaker.open:
        metrics.add_metric(name="ResourceCircuitOpen", unit=MetricUnit.Count, value=1)
    return breaker


def _close_breaker(state: OutcomeState, deps: Deps) -> None:
    """A backup whose source point is valid resets the count; only a resource the plan saw
    failing has one to reset (a healthy backup makes no extra call)."""
    if state.resource.failed_runs:
        resource_breakers.close(deps.store, state.resource.arn)


def _record_success(state: OutcomeState, point: str, deps: Deps) -> OutcomeResult:
    """SUCCEEDED when every DR copy is, else PARTIAL naming each missing region and why."""
    operation_id = backup_operation_id(point)
    _close_breaker(state, deps)
    targets = state.preflight.targets if state.preflight else []
    copies = {t.region: deps.store.get(copy_operation_id(point, t.region)) for t in targets}
    missing = {r: c for r, c in copies.items() if c is None or c.status is not OperationStatus.SUCCEEDED}
    if not missing:
        operation = advance(deps, operation_id, OperationStatus.SUCCEEDED, detail="backup complete")
        metrics.add_metric(name="BackupSucceeded", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="BackupDuration", unit=MetricUnit.Seconds, value=_duration(operation))
        return OutcomeResult(operation_id=operation_id, status=operation.status)
    why = {r: copy_failure(c) for r, c in sorted(missing.items())}
    operation = advance(
        deps,
        operation_id,
        OperationStatus.PARTIAL,
        error="CopiesMissing",
        cause="; ".join(f"copy to {r} failed: {reason}" for r, reason in why.items()),
        detail=f"source point valid; copies missing in {', '.join(why)}",
    )
    metrics.add_metric(name="BackupPartial", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="CopiesMissing", unit=MetricUnit.Count, value=len(why))
    healthy = [operation.region, *(r for r in copies if r not in missing)]
    return OutcomeResult(
        operation_id=operation_id,
        status=operation.status,
        notification=partial_notification(state, point, healthy, why),
    )


def _record_copy_failure(state: OutcomeState, target: DrTarget, deps: Deps) -> OutcomeResult:
    """One region's copy failed after its retries: recorded on that copy alone, with its cause."""
    point = recovery_point_id(state.resource.arn, state.tier, state.scheduled_at)
    region = target.region
    operation_id = copy_operation_id(point, region, catch_up=bool(state.catch_up))
    error, cause = state.failure
    # Its slot of the copy gate goes to the next copy in line (nothing if it never got one).
    copy_slots.release(
        copy_slots.slot_of(deps, state.resource.arn, point, region, catch_up=bool(state.catch_up)), deps
    )
    if deps.store.get(operation_id) is None:  # failed before it could be opened
        deps.store.open(
            operation_id=operation_id,
            type=OperationType.COPY,
            resource_arn=state.resource.arn,
            region=region,
            retain_days=EVIDENCE_MARGIN_DAYS * 3,
            recovery_point_id=point,
            run_id=state.run_id,
            tier=state.tier.value,
            policy=state.resource.policy,
        )
    try:
        status = deps.store.transition(
            operation_id, OperationStatus.FAILED, error=error, cause=cause, detail=f"copy to {region} failed"
        ).status
    except IllegalStatusTransition:  # it SUCCEEDED meanwhile (a duplicate delivery): keep that
        current = deps.store.get(operation_id)
        status = current.status if current else OperationStatus.FAILED
    metrics.add_metric(name="CopiesFailed", unit=MetricUnit.Count, value=1)
    return OutcomeResult(operation_id=operation_id, status=status, region=region)


def _fail_open_copies(deps: Deps, preflight: Preflight | None, point: str, error: str) -> None:
    for target in preflight.targets if preflight else []:
        copy = deps.store.get(copy_operation_id(point, target.region))
        if copy is not None and not copy.status.terminal:
            deps.store.transition(
                copy.operation_id, OperationStatus.FAILED, error=error, detail="backup failed"
            )


def _duration(operation: Operation) -> float:
    return round((operation.updated_at - operation.created_at).total_seconds(), 3)
