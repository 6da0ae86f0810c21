"""The record step: a restore's or drill's outcome (RTO, checks, error), worded for people."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lifeboat.contracts.backup import Notification
from lifeboat.contracts.restore import (
    RecordRequest,
    RecordResult,
    RestorePlan,
)
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.ids import backup_operation_id, copy_operation_id
from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.domain.restore import (
    CLEANUP_TAG,
    Purpose,
    drill_identifier,
)
from lifeboat.errors import (
    InvalidInput,
    OperationNotFound,
    ResourceNotFound,
)
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import plugin_for
from lifeboat.service.deps import Deps
from lifeboat.service.restore.plan import EVIDENCE_DAYS, drill_operation_id
from lifeboat.service.restore.steps import recorded, restored


def record(request: RecordRequest, deps: Deps) -> RecordResult:
    """Record the outcome (RTO, checks, error) and word it for people."""
    plan = request.plan
    if plan is None:
        return _record_unplanned(request, deps)
    operation = recorded(plan, deps)
    now = deps.now()
    checks = request.checks
    failed = list(checks.failed) if checks else []
    status = (
        OperationStatus.SUCCEEDED
        if request.outcome is OperationStatus.SUCCEEDED and not failed
        else OperationStatus.FAILED
    )
    error = request.error.error if request.error else ("ChecksFailed" if failed else None)
    cause = request.error.message if request.error else (checks.summary if failed and checks else None)
    timings = _timings(operation.details, now)
    details: dict[str, Any] = {"finishedAt": now.isoformat(), "timings": timings}
    if "rtoSeconds" in timings:
        details["rtoSeconds"] = timings["rtoSeconds"]
    left_behind = None
    if status is OperationStatus.FAILED:
        # A drill's resource is normally gone by now; one whose teardown failed is tagged too.
        left_behind = _mark_for_cleanup(deps, plan, error or "failed")
        details["leftForCleanup"] = left_behind
    if not operation.status.terminal:
        verdict = "passed" if status is OperationStatus.SUCCEEDED else "failed"
        deps.store.transition(
            plan.operation_id,
            status,
            error=error,
            cause=cause,
            detail=f"{plan.purpose.value} {verdict}",
            details=details,
        )
    if status is OperationStatus.SUCCEEDED and plan.purpose is Purpose.DRILL:
        _mark_restore_tested(deps, plan, now, timings.get("rtoSeconds"))
    kind = plan.purpose.value.capitalize()
    verdict = "Succeeded" if status is OperationStatus.SUCCEEDED else "Failed"
    metrics.add_metric(name=f"{kind}{verdict}", unit=MetricUnit.Count, value=1)
    if "rtoSeconds" in timings:
        metrics.add_metric(name=f"{kind}RtoSeconds", unit=MetricUnit.Seconds, value=timings["rtoSeconds"])
    result = RecordResult(
        operation_id=plan.operation_id,
        resource_arn=plan.resource_arn,
        region=plan.region,
        status=status,
        rto_seconds=timings.get("rtoSeconds"),
        data_age_seconds=checks.data_age_seconds if checks else None,
        failed_checks=failed,
    )
    if plan.purpose is Purpose.RESTORE:
        result.notification = _restore_notification(plan, result, error, cause, left_behind)
    return result


def _timings(details: dict[str, Any], now: datetime) -> dict[str, float]:
    """Seconds of each step and the RTO (request -> available and checked)."""
    marks = {
        name: datetime.fromisoformat(str(details[name]))
        for name in ("requestedAt", "restoreStartedAt", "availableAt", "checkedAt")
        if details.get(name)
    }
    spans = {
        "planSeconds": ("requestedAt", "restoreStartedAt"),
        "restoreSeconds": ("restoreStartedAt", "availableAt"),
        "checkSeconds": ("availableAt", "checkedAt"),
        "rtoSeconds": ("requestedAt", "checkedAt"),
    }
    timings = {
        name: round((marks[end] - marks[begin]).total_seconds(), 3)
        for name, (begin, end) in spans.items()
        if begin in marks and end in marks
    }
    if details.get("teardownStartedAt") and "checkedAt" in marks:
        timings["teardownSeconds"] = round(
            (now - datetime.fromisoformat(str(details["teardownStartedAt"]))).total_seconds(), 3
        )
    return timings


def _mark_for_cleanup(deps: Deps, plan: RestorePlan, why: str) -> str | None:
    """A failed restore's resource stays for a person to inspect, tagged; never deleted silently."""
    try:
        facts = restored(deps, plan)
    except ResourceNotFound:
        return None
    ref = ResourceRef.parse(plan.resource_arn)
    plugin_for(ref, deps.clients).tag_restored(facts, {CLEANUP_TAG: f"required: {why}"[:256]})
    return facts.arn


def _mark_restore_tested(deps: Deps, plan: RestorePlan, now: datetime, rto: float | None) -> None:
    point = plan.recovery_point_id
    if point is None:
        return
    ref = ResourceRef.parse(plan.resource_arn)
    point_op = (
        backup_operation_id(point) if plan.region == ref.region else copy_operation_id(point, plan.region)
    )
    try:
        deps.store.record_details(
            point_op,
            {"restoreTested": {"at": now.isoformat(), "drill": plan.operation_id, "rtoSeconds": rto}},
        )
    except OperationNotFound:
        logger.warning("recovery point operation missing", extra={"operation_id": point_op})


def _record_unplanned(request: RecordRequest, deps: Deps) -> RecordResult:
    """A drill item that failed before it had a plan (e.g. no valid copy in its region)."""
    item = request.drill
    if item is None or request.start_time is None or request.execution_id is None:
        raise InvalidInput(
            "recording a failure without a plan needs the drill item, start time and execution"
        )
    ref = ResourceRef.parse(item.resource_arn)
    policy = deps.config().policies.get(item.policy)
    region = policy.drill_region(ref.region) if policy else ref.region
    operation_id = drill_operation_id(
        drill_identifier(ref.arn, request.start_time, request.execution_id), region
    )
    error = request.error.error if request.error else "Unknown"
    cause = request.error.message if request.error else None
    existing = deps.store.get(operation_id)
    if existing is None:
        deps.store.open(
            operation_id=operation_id,
            type=OperationType.DRILL,
            resource_arn=ref.arn,
            region=region,
            status=OperationStatus.FAILED,
            retain_days=EVIDENCE_DAYS,
            run_id=request.run_id,
            policy=item.policy,
            error=error,
            cause=cause,
            detail="failed before the drill restored anything",
        )
    elif not existing.status.terminal:
        deps.store.transition(
            operation_id, OperationStatus.FAILED, error=error, cause=cause, detail="drill failed"
        )
    metrics.add_metric(name="DrillFailed", unit=MetricUnit.Count, value=1)
    return RecordResult(
        operation_id=operation_id, resource_arn=ref.arn, region=region, status=OperationStatus.FAILED
    )


def _restore_notification(
    plan: RestorePlan, result: RecordResult, error: str | None, cause: str | None, left_behind: str | None
) -> Notification:
    ref = ResourceRef.parse(plan.resource_arn)
    ok = result.status is OperationStatus.SUCCEEDED
    verdict = "SUCCEEDED" if ok else "FAILED"
    lines = [
        f"Restore of {plan.resource_arn} into {plan.spec.target_id} ({plan.region}) {verdict}.",
        f"From: {plan.reason}",
    ]
    if result.rto_seconds is not None:
        lines.append(
            f"Measured RTO (request -> available and checked): {timedelta(seconds=round(result.rto_seconds))}"
        )
    if result.data_age_seconds is not None:
        lines.append(f"Data age at check time: {timedelta(seconds=round(result.data_age_seconds))}")
    if not ok:
        lines += [f"Error: {error or 'Unknown'}", f"Cause: {cause or 'not given'}"]
        lines.append(
            f"The restored resource {left_behind} was left in place and tagged {CLEANUP_TAG}; inspect it, "
            "then delete it or keep it."
            if left_behind
            else "No restored resource exists."
        )
    lines.append(f"State table operation: {plan.operation_id}")
    return Notification(
        subject=f"Lifeboat: restore {verdict} for {ref.name} ({plan.region})"[:100], message="\n".join(lines)
    )
