"""Restores and drills, step by step: plan, start, wait, check, record.

A restore always creates a *new* resource: planning refuses a target that exists before any
mutation, and a retried start accepts only the resource its own operation created. Every step
records its time on the operation, so the measured RTO (request -> available and checked) and
its breakdown are in the state table.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lifeboat.contracts.backup import Notification
from lifeboat.contracts.restore import (
    AvailableResult,
    CheckResult,
    DrillItem,
    ExpectedRestore,
    PlanInput,
    RecordRequest,
    RecordResult,
    RestoreMode,
    RestorePlan,
    RestoreRequest,
    RestoreStep,
    StartResult,
)
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.config import PolicyConfig
from lifeboat.domain.datachecks import DatabaseProfile, checksum_bounds, compare, data_age_seconds
from lifeboat.domain.ids import backup_operation_id, copy_operation_id
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.points import ChosenPoint, choose
from lifeboat.domain.policy import Environment, Policy
from lifeboat.domain.recovery import Check
from lifeboat.domain.restore import (
    CLEANUP_TAG,
    Purpose,
    RestoredFacts,
    RestoreSpec,
    drill_identifier,
    restore_identifier,
    restore_tags,
    restored_checks,
)
from lifeboat.errors import (
    InvalidInput,
    OperationAlreadyFinished,
    OperationNotFound,
    ResourceNotFound,
    ResourceNotReady,
    RestoreFailed,
    TargetExists,
)
from lifeboat.handler import parse
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import plugin_for
from lifeboat.plugins.base import ResourcePlugin
from lifeboat.service.deps import Deps

# Restore and drill records are compliance evidence ("restore-tested within the window").
EVIDENCE_DAYS = 400


def _source_profile(deps: Deps, recovery_point_id: str | None) -> DatabaseProfile | None:
    """The source's profile taken when the point was backed up: one read of its backup operation,
    not the resource's whole history (a copy holds its source point's data, under the same id)."""
    backup = deps.store.get(backup_operation_id(recovery_point_id)) if recovery_point_id else None
    recorded = backup.details.get("sourceProfile") if backup else None
    return DatabaseProfile.model_validate(recorded) if recorded else None


# --- plan --------------------------------------------------------------------------------------
def plan(request: PlanInput, deps: Deps) -> RestorePlan:
    """A restore request or one drill item, checked and turned into a plan; nothing is mutated
    before the last line, which opens the operation."""
    if request.drill is not None:
        return _plan_drill(request.drill, request, deps)
    restore = parse(RestoreRequest, request.request)
    return _plan_restore(restore, request, deps)


def _policy_of(
    config: PolicyConfig, operations: list[Operation], ref: ResourceRef, tags: dict[str, str]
) -> Policy | None:
    """The resource's policy: its config listing or tag, else the one its backups recorded (the
    source may be gone: that is when restores matter most)."""
    listed = next((r.policy for r in config.resources if r.arn == ref.arn), None)
    name = listed or tags.get(config.tag_key) or next((o.policy for o in operations if o.policy), None)
    return config.policies.get(name) if name else None


def _plan_restore(restore: RestoreRequest, request: PlanInput, deps: Deps) -> RestorePlan:
    ref = ResourceRef.parse(restore.resource_arn)
    config = deps.config()
    plugin = plugin_for(ref, deps.clients)
    operations = deps.store.history_of(ref.arn)
    source_network, source_tags = _source_settings(plugin, ref)
    policy = _policy_of(config, operations, ref, source_tags)
    region = restore.target_region or ref.region
    if region != ref.region and (policy is None or policy.target(region) is None):
        raise InvalidInput(
            f"{region} is not a DR region of {ref.arn}'s policy; restore into {ref.region} or a DR region"
        )
    requested_at = request.start_time
    target_id = restore.target_identifier or restore_identifier(ref.name, requested_at)
    operation_id = f"restore:{target_id}:{region}:{requested_at:%Y%m%d%H%M}"
    if restore.mode is RestoreMode.POINT_IN_TIME:
        point_id, data_time, reason, expected = _point_in_time(plugin, ref, region, restore, policy)
    else:
        chosen, expected = _recovery_point(
            plugin, operations, ref, region, recovery_point_id=restore.recovery_point_id, now=deps.now()
        )
        point_id, data_time, reason = chosen.recovery_point_id, chosen.taken_at, chosen.reason
    # Deletion protection on a prod restore: a restored production database is production.
    prod = policy is not None and policy.environment is Environment.PROD
    expected = expected.model_copy(update={"deletion_protection": prod})
    spec = RestoreSpec(
        target_id=target_id,
        region=region,
        deletion_protection=prod,
        network=_network(restore.network, source_network, policy, ref, region),
        instance_class=restore.instance_class,
        tags=restore_tags(
            source_tags,
            resource_arn=ref.arn,
            restored_from=point_id or f"{ref.name}@{restore.point_in_time:%Y-%m-%dT%H:%MZ}",
            operation_id=operation_id,
            purpose=Purpose.RESTORE,
        ),
    )
    result = RestorePlan(
        operation_id=operation_id,
        purpose=Purpose.RESTORE,
        resource_arn=ref.arn,
        policy=policy.name if policy else None,
        region=region,
        mode=restore.mode,
        recovery_point_id=point_id,
        point_in_time=restore.point_in_time,
        data_time=data_time,
        reason=reason,
        spec=spec,
        expected=expected,
        data_checks=restore.run_data_checks and ref.arn in config.data_checks,
        requested_at=requested_at,
        execution_id=request.execution_id,
    )
    plugin.ensure_target_free(region, target_id, operation_id)
    _open(deps, result, requested_by=restore.requested_by)
    return result


def _point_in_time(
    plugin: ResourcePlugin, ref: ResourceRef, region: str, restore: RestoreRequest, policy: Policy | None
) -> tuple[None, datetime, str, ExpectedRestore]:
    at = restore.point_in_time
    assert at is not None
    if region != ref.region:
        raise InvalidInput(
            f"a point-in-time restore uses the source's automated backups in {ref.region}; "
            f"restore a recovery point to reach {region}"
        )
    window = plugin.restore_window(ref)
    if window is None:
        raise InvalidInput(f"{ref.arn} has no point-in-time window (automated backups are off)")
    if not window.earliest <= at <= window.latest:
        raise InvalidInput(
            f"{at:%Y-%m-%dT%H:%M:%SZ} is outside the point-in-time window of {ref.arn}: "
            f"{window.earliest:%Y-%m-%dT%H:%M:%SZ} to {window.latest:%Y-%m-%dT%H:%M:%SZ}"
        )
    source = plugin.describe_source(ref)
    reason = (
        f"point-in-time restore to {at:%Y-%m-%dT%H:%M:%SZ} "
        f"(window {window.earliest:%Y-%m-%d %H:%M}Z to {window.latest:%Y-%m-%d %H:%M}Z)"
    )
    expected = ExpectedRestore(
        encrypted=source.encrypted,
        kms_key_id=source.kms_key_id,
        engine=source.engine,
        deletion_protection=False,
    )
    return None, at, reason, expected


def _source_settings(plugin: ResourcePlugin, ref: ResourceRef) -> tuple[RestoreNetwork, dict[str, str]]:
    """The source's network and tags, or nothing when the source is gone."""
    try:
        return plugin.restore_defaults(ref)
    except ResourceNotFound:
        return RestoreNetwork(), {}


def _recovery_point(
    plugin: ResourcePlugin,
    operations: list[Operation],
    ref: ResourceRef,
    region: str,
    *,
    recovery_point_id: str | None,
    now: datetime,
) -> tuple[ChosenPoint, ExpectedRestore]:
    """The point to restore (asked for, or the newest valid) and what its restore must show."""
    chosen = choose(
        operations, region=region, source_region=ref.region, recovery_point_id=recovery_point_id, now=now
    )
    facts = plugin.describe_recovery_point(region, chosen.recovery_point_id)
    expected = ExpectedRestore(
        encrypted=facts.encrypted, kms_key_id=facts.kms_key_id, engine=facts.engine, deletion_protection=False
    )
    return chosen, expected


def _network(
    requested: RestoreNetwork | None,
    source: RestoreNetwork,
    policy: Policy | None,
    ref: ResourceRef,
    region: str,
) -> RestoreNetwork:
    """The requested settings over the region's defaults: the source's own in its region, the
    policy's restore network in a DR region (the source's names mean nothing there)."""
    if region == ref.region:
        defaults = source
    else:
        target = policy.target(region) if policy else None
        defaults = target.restore_network if target and target.restore_network else RestoreNetwork()
    return (requested or RestoreNetwork()).over(defaults)


def _plan_drill(item: DrillItem, request: PlanInput, deps: Deps) -> RestorePlan:
    ref = ResourceRef.parse(item.resource_arn)
    config = deps.config()
    policy = config.policy(item.policy)
    plugin = plugin_for(ref, deps.clients)
    operations = deps.store.history_of(ref.arn)
    region = policy.drill_region(ref.region)
    started_at = deps.now()
    target_id = drill_identifier(ref.arn, request.start_time, request.execution_id)
    operation_id = drill_operation_id(target_id, region)
    chosen, expected = _recovery_point(
        plugin, operations, ref, region, recovery_point_id=None, now=started_at
    )
    source_network, source_tags = _source_settings(plugin, ref)
    # A drill's temporary instance must never be discovered as a protected resource.
    source_tags.pop(config.tag_key, None)
    spec = RestoreSpec(
        target_id=target_id,
        region=region,
        deletion_protection=False,
        network=_network(policy.drill.network, source_network, policy, ref, region),
        instance_class=policy.drill.instance_class,
        tags=restore_tags(
            source_tags,
            resource_arn=ref.arn,
            restored_from=chosen.recovery_point_id,
            operation_id=operation_id,
            purpose=Purpose.DRILL,
        ),
    )
    result = RestorePlan(
        operation_id=operation_id,
        purpose=Purpose.DRILL,
        resource_arn=ref.arn,
        policy=policy.name,
        region=region,
        mode=RestoreMode.LATEST,
        recovery_point_id=chosen.recovery_point_id,
        data_time=chosen.taken_at,
        reason=chosen.reason,
        spec=spec,
        expected=expected,
        data_checks=ref.arn in config.data_checks,
        requested_at=started_at,
        execution_id=request.execution_id,
    )
    plugin.ensure_target_free(region, target_id, operation_id)
    _open(deps, result, run_id=request.run_id)
    return result


def drill_operation_id(target_id: str, region: str) -> str:
    return f"drill:{target_id}:{region}"


def _open(
    deps: Deps, plan: RestorePlan, *, requested_by: str | None = None, run_id: str | None = None
) -> None:
    kind = OperationType.DRILL if plan.purpose is Purpose.DRILL else OperationType.RESTORE
    operation, created = deps.store.open(
        operation_id=plan.operation_id,
        type=kind,
        resource_arn=plan.resource_arn,
        region=plan.region,
        retain_days=EVIDENCE_DAYS,
        recovery_point_id=plan.recovery_point_id,
        run_id=run_id,
        policy=plan.policy,
        detail=plan.reason,
        details={
            "plan": plan.model_dump(mode="json", by_alias=True),
            "requestedAt": plan.requested_at.isoformat(),
            "requestedBy": requested_by,
        },
    )
    if not created and operation.details.get("plan", {}).get("executionId") != plan.execution_id:
        raise TargetExists(
            f"{plan.spec.target_id} in {plan.region} is already the target of {plan.operation_id} "
            f"({operation.status.value}); choose another target identifier"
        )
    metrics.add_metric(name=f"{plan.purpose.value.capitalize()}sPlanned", unit=MetricUnit.Count, value=1)
    logger.info("restore planned", extra={"operation_id": plan.operation_id, "reason": plan.reason})


# --- start, wait ----------------------------------------------------------------------------------
def start(step: RestoreStep, deps: Deps) -> StartResult:
    plan = step.plan
    current = deps.store.get(plan.operation_id)
    if current is not None and current.status.terminal:
        # An aborted drill (lifeboat drill stop) must not restore anything afterwards.
        raise OperationAlreadyFinished(
            f"{plan.operation_id} is already {current.status.value}: {current.cause}"
        )
    ref = ResourceRef.parse(plan.resource_arn)
    outcome = plugin_for(ref, deps.clients).start_restore(
        plan.recovery_point_id, plan.spec, plan.operation_id, ref=ref, point_in_time=plan.point_in_time
    )
    # The start time goes in the status write, once: a retried start keeps the first one.
    started = current is not None and current.details.get("restoreStartedAt")
    deps.store.transition(
        plan.operation_id,
        OperationStatus.RUNNING,
        detail=f"restore into {plan.spec.target_id} {'started' if outcome.created else 'already started'}",
        details=None if started else {"restoreStartedAt": deps.now().isoformat()},
    )
    metrics.add_metric(name="RestoresStarted", unit=MetricUnit.Count, value=int(outcome.created))
    return StartResult(target_id=plan.spec.target_id, region=plan.region, created=outcome.created)


def stamp(deps: Deps, operation_id: str, name: str) -> datetime:
    """Record when a step happened, the first time only: a retried step keeps the first time."""
    operation = deps.store.get(operation_id)
    if operation is None:
        raise OperationNotFound(f"operation {operation_id} does not exist")
    if operation.details.get(name):
        return datetime.fromisoformat(str(operation.details[name]))
    now = deps.now()
    deps.store.record_details(operation_id, {name: now.isoformat()})
    return now


def _restored(deps: Deps, plan: RestorePlan) -> RestoredFacts:
    ref = ResourceRef.parse(plan.resource_arn)
    return plugin_for(ref, deps.clients).describe_restored(plan.region, plan.spec.target_id)


def wait(step: RestoreStep, deps: Deps) -> AvailableResult:
    """ResourceNotReady until the restored resource is available (the workflow retries with back-off)."""
    plan = step.plan
    facts = _restored(deps, plan)
    if facts.failed:
        raise RestoreFailed(f"{facts.arn} is {facts.status}: AWS could not restore it; see its RDS events")
    if not facts.ready:
        raise ResourceNotReady(f"{facts.arn} is {facts.status}")
    available_at = stamp(deps, plan.operation_id, "availableAt")
    waited = (available_at - plan.requested_at).total_seconds()
    metrics.add_metric(name="RestoreSecondsToAvailable", unit=MetricUnit.Seconds, value=round(waited, 3))
    return AvailableResult(
        target_id=facts.identifier, status=facts.status, endpoint=facts.endpoint, port=facts.port
    )


# --- checks ---------------------------------------------------------------------------------------
def check(step: RestoreStep, deps: Deps) -> CheckResult:
    """Level 1 (the resource as restored) and, where configured, level 2 (the data over SQL)."""
    plan = step.plan
    facts = _restored(deps, plan)
    checks = restored_checks(
        facts,
        encrypted=plan.expected.encrypted,
        kms_key_id=plan.expected.kms_key_id,
        engine=plan.expected.engine,
        deletion_protection=plan.expected.deletion_protection,
        expected_tags=plan.spec.tags,
    )
    data_age = data_age_seconds(deps.now(), None, plan.data_time)
    if plan.data_checks:
        data_checks, data_age = _data_checks(plan, facts, deps)
        checks += data_checks
    failed = [c.name for c in checks if not c.passed]
    result = CheckResult(
        passed=not failed,
        checks=checks,
        failed=failed,
        summary=f"{len(checks) - len(failed)}/{len(checks)} checks passed"
        + (f"; failed: {', '.join(failed)}" if failed else ""),
        data_age_seconds=data_age,
    )
    # checkedAt in the same write: a re-run check moves it, as it replaces the results.
    deps.store.record_details(
        plan.operation_id,
        {
            "checks": [c.model_dump(mode="json", by_alias=True) for c in checks],
            "failedChecks": failed,
            "dataAgeSeconds": data_age,
            "checkedAt": deps.now().isoformat(),
        },
    )
    metrics.add_metric(name="RestoreChecksFailed", unit=MetricUnit.Count, value=len(failed))
    return result


def _data_checks(plan: RestorePlan, facts: RestoredFacts, deps: Deps) -> tuple[list[Check], float | None]:
    from lifeboat.sqlchecks.connection import connect, credentials
    from lifeboat.sqlchecks.postgres import profile

    config = deps.config().data_checks[plan.resource_arn]
    if facts.endpoint is None or facts.port is None:
        return [Check(name="connect", expected="an endpoint", actual="none reported", passed=False)], None
    source = _source_profile(deps, plan.recovery_point_id)
    with connect(facts.endpoint, facts.port, config, credentials(deps.clients, config)) as conn:
        restored = profile(conn, config, checksum_bounds(config, source))
    # A point-in-time restore has no backup-time profile: only the canary can be compared.
    by_profile = plan.mode is not RestoreMode.POINT_IN_TIME
    checks = compare(config, source, restored, profiled=by_profile)
    return checks, data_age_seconds(deps.now(), restored, plan.data_time)


# --- record ---------------------------------------------------------------------------------------
def record(request: RecordRequest, deps: Deps) -> RecordResult:
    """Record the outcome (RTO, checks, error) and word it for people."""
    plan = request.plan
    if plan is None:
        return _record_unplanned(request, deps)
    operation = deps.store.get(plan.operation_id)
    if operation is None:
        raise OperationNotFound(f"operation {plan.operation_id} does not exist")
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
        facts = _restored(deps, plan)
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
