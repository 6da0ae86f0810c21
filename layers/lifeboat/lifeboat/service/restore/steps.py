"""The start, wait and check steps of a restore or drill, each recording its time on the operation."""

from __future__ import annotations

from datetime import datetime

from lifeboat.contracts.restore import (
    AvailableResult,
    CheckResult,
    RestoreMode,
    RestorePlan,
    RestoreStep,
    StartResult,
)
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.datachecks import DatabaseProfile, checksum_bounds, compare, data_age_seconds
from lifeboat.domain.ids import backup_operation_id
from lifeboat.domain.operations import Operation, OperationStatus
from lifeboat.domain.recovery import Check
from lifeboat.domain.restore import (
    RestoredFacts,
    restored_checks,
)
from lifeboat.errors import (
    ConfigError,
    InvalidInput,
    OperationAlreadyFinished,
    OperationNotFound,
    ResourceNotReady,
    RestoreFailed,
)
from lifeboat.observability import MetricUnit, metrics
from lifeboat.plugins import plugin_for
from lifeboat.service.deps import Deps


def _source_profile(deps: Deps, recovery_point_id: str | None) -> DatabaseProfile | None:
    """The source's profile taken when the point was backed up: one read of its backup operation,
    not the resource's whole history (a copy holds its source point's data, under the same id)."""
    backup = deps.store.get(backup_operation_id(recovery_point_id)) if recovery_point_id else None
    profiled = backup.details.get("sourceProfile") if backup else None
    return DatabaseProfile.model_validate(profiled) if profiled else None


def recorded(plan: RestorePlan, deps: Deps) -> Operation:
    """The operation the plan step opened, which must hold this very plan: a forged or altered
    plan (another region, target or resource) reaches no AWS call."""
    operation = deps.store.get(plan.operation_id)
    if operation is None:
        raise OperationNotFound(
            f"operation {plan.operation_id} does not exist: no restore or drill planned it"
        )
    stored = operation.details.get("plan")
    if not stored or RestorePlan.model_validate(stored) != plan:
        raise InvalidInput(
            f"the plan given for {plan.operation_id} differs from the one its plan step recorded; "
            "nothing was done"
        )
    return operation


def start(step: RestoreStep, deps: Deps) -> StartResult:
    plan = step.plan
    current = recorded(plan, deps)
    if current.status.terminal:
        # An aborted drill (lifeboat drill stop) must not restore anything afterwards.
        raise OperationAlreadyFinished(
            f"{plan.operation_id} is already {current.status.value}: {current.cause}"
        )
    ref = ResourceRef.parse(plan.resource_arn)
    outcome = plugin_for(ref, deps.clients).start_restore(
        plan.recovery_point_id, plan.spec, plan.operation_id, ref=ref, point_in_time=plan.point_in_time
    )
    # The start time goes in the status write, once: a retried start keeps the first one.
    started = current.details.get("restoreStartedAt")
    deps.store.transition(
        plan.operation_id,
        OperationStatus.RUNNING,
        detail=f"restore into {plan.spec.target_id} {'started' if outcome.created else 'already started'}",
        details=None if started else {"restoreStartedAt": deps.now().isoformat()},
    )
    metrics.add_metric(name="RestoresStarted", unit=MetricUnit.Count, value=int(outcome.created))
    return StartResult(target_id=plan.spec.target_id, region=plan.region, created=outcome.created)


def stamp(deps: Deps, operation: Operation, name: str) -> datetime:
    """Record when a step happened, the first time only: a retried step keeps the first time.
    ``operation`` is the step's own read of it (``recorded``): no second read."""
    if operation.details.get(name):
        return datetime.fromisoformat(str(operation.details[name]))
    now = deps.now()
    deps.store.record_details(operation.operation_id, {name: now.isoformat()})
    return now


def restored(deps: Deps, plan: RestorePlan) -> RestoredFacts:
    ref = ResourceRef.parse(plan.resource_arn)
    return plugin_for(ref, deps.clients).describe_restored(plan.region, plan.spec.target_id)


def wait(step: RestoreStep, deps: Deps) -> AvailableResult:
    """ResourceNotReady until the restored resource is available (the workflow retries with back-off)."""
    plan = step.plan
    operation = recorded(plan, deps)
    facts = restored(deps, plan)
    if facts.failed:
        raise RestoreFailed(f"{facts.arn} is {facts.status}: AWS could not restore it; see its RDS events")
    if not facts.ready:
        raise ResourceNotReady(f"{facts.arn} is {facts.status}")
    available_at = stamp(deps, operation, "availableAt")
    waited = (available_at - plan.requested_at).total_seconds()
    metrics.add_metric(name="RestoreSecondsToAvailable", unit=MetricUnit.Seconds, value=round(waited, 3))
    return AvailableResult(
        target_id=facts.identifier, status=facts.status, endpoint=facts.endpoint, port=facts.port
    )


def check(step: RestoreStep, deps: Deps) -> CheckResult:
    """Level 1 (the resource as restored) and, where configured, level 2 (the data over SQL)."""
    plan = step.plan
    recorded(plan, deps)
    facts = restored(deps, plan)
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

    config = deps.config().data_checks.get(plan.resource_arn)
    if config is None:
        raise ConfigError(
            f"the plan asks for data checks of {plan.resource_arn}, which the config has none of"
        )
    if facts.endpoint is None or facts.port is None:
        return [Check(name="connect", expected="an endpoint", actual="none reported", passed=False)], None
    source = _source_profile(deps, plan.recovery_point_id)
    with connect(facts.endpoint, facts.port, config, credentials(deps.clients, config)) as conn:
        restored = profile(conn, config, checksum_bounds(config, source))
    # A point-in-time restore has no backup-time profile: only the canary can be compared.
    by_profile = plan.mode is not RestoreMode.POINT_IN_TIME
    checks = compare(config, source, restored, profiled=by_profile)
    return checks, data_age_seconds(deps.now(), restored, plan.data_time)
