"""Drill runs: which resources to drill, and tearing the temporary resources down (always).

A drill restores a resource's newest valid recovery point in its drill region (the first DR
region by default) into a temporary resource tagged as that drill's own, checks it, and deletes
it; the restore and check steps are the restore workflow's (service/restore/). Teardown
touches only a resource the state table records as that drill's target and whose tags say it is
the drill's own (ResourcePlugin.teardown refuses anything else).
"""

from __future__ import annotations

from lifeboat.contracts.restore import (
    AbortRequest,
    DrillItem,
    DrillPlanInput,
    DrillRunPlan,
    RestorePlan,
    RestoreStep,
    SkippedDrill,
    TeardownResult,
)
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.ids import normalise_time
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.errors import (
    InvalidInput,
    OperationNotFound,
    ResourceNotFound,
    ResourceNotReady,
    TeardownRefused,
)
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import plugin_for
from lifeboat.plugins.base import TeardownState
from lifeboat.service.deps import Deps
from lifeboat.service.discovery import protected_resources
from lifeboat.service.restore.steps import recorded, stamp


def plan_run(request: DrillPlanInput, deps: Deps) -> DrillRunPlan:
    """The resources of this run: those asked for, or every protected resource whose policy has
    drills enabled; each one left out says why."""
    config = deps.config()
    protected = protected_resources(config, deps)
    wanted = request.request.resources
    items: list[DrillItem] = []
    skipped: list[SkippedDrill] = []
    for arn in sorted(protected if wanted is None else set(wanted)):
        name = protected.get(arn)
        policy = config.policies.get(name) if name else None
        if policy is None:
            skipped.append(SkippedDrill(arn=arn, reason="not protected by any Lifeboat policy"))
        elif wanted is None and not policy.drill.enabled:
            skipped.append(SkippedDrill(arn=arn, reason=f"drills are not enabled in policy {policy.name!r}"))
        elif not policy.backups_enabled:
            skipped.append(SkippedDrill(arn=arn, reason=f"policy {policy.name!r} takes no backups to drill"))
        else:
            items.append(DrillItem(resource_arn=arn, policy=policy.name))
    run_id = f"drill-{normalise_time(request.execution_start_time):%Y%m%dT%H%MZ}"
    metrics.add_metric(name="DrillsPlanned", unit=MetricUnit.Count, value=len(items))
    logger.info("drill run planned", extra={"run_id": run_id, "planned": len(items), "skipped": len(skipped)})
    return DrillRunPlan(run_id=run_id, items=items, skipped=skipped)


def teardown(step: RestoreStep, deps: Deps) -> TeardownResult:
    """Delete the drill's temporary resource; ResourceNotReady until it is gone (retried)."""
    plan = step.plan
    operation = _recorded_drill(plan, deps)
    state = _teardown(plan, operation, deps)
    if state is TeardownState.DELETING:
        raise ResourceNotReady(f"{plan.spec.target_id} in {plan.region} is being deleted")
    stamp(deps, operation, "tornDownAt")
    metrics.add_metric(name="DrillTeardowns", unit=MetricUnit.Count, value=1)
    return TeardownResult(target_id=plan.spec.target_id, region=plan.region, state=state.value)


def _teardown(plan: RestorePlan, operation: Operation, deps: Deps) -> TeardownState:
    ref = ResourceRef.parse(plan.resource_arn)
    state = plugin_for(ref, deps.clients).teardown(plan.region, plan.spec.target_id, plan.operation_id)
    if state is TeardownState.DELETING:
        stamp(deps, operation, "teardownStartedAt")
    return state


def _recorded_drill(plan: RestorePlan, deps: Deps) -> Operation:
    """The state table must say this drill planned this very target: the resource's tags alone
    can be copied, so a forged or altered plan tears nothing down."""
    try:
        operation: Operation | None = recorded(plan, deps)
    except (OperationNotFound, InvalidInput):
        operation = None
    if operation is None or operation.type is not OperationType.DRILL:
        raise TeardownRefused(
            f"{plan.spec.target_id} in {plan.region} is not recorded as the temporary resource of drill "
            f"{plan.operation_id}; Lifeboat deletes only what its state table says a drill restored"
        )
    return operation


def abort(request: AbortRequest, deps: Deps) -> TeardownResult:
    """Emergency stop of one drill: start its teardown now and record it FAILED (aborted).

    Its workflow execution is stopped by the caller first, so nothing restores after this.
    """
    operation = deps.store.get(request.operation_id)
    if operation is None:
        raise OperationNotFound(f"operation {request.operation_id} does not exist")
    # The plan comes from the state table itself: nothing to check it against.
    plan = RestorePlan.model_validate(operation.details["plan"])
    try:
        state = _teardown(plan, operation, deps)
    except ResourceNotFound:
        state = TeardownState.GONE
    except ResourceNotReady:
        # Still being created: it cannot be deleted yet; the caller sweeps again.
        state = TeardownState.PENDING
    if not operation.status.terminal:
        deps.store.transition(
            plan.operation_id,
            OperationStatus.FAILED,
            error="DrillAborted",
            cause=request.reason,
            detail=f"aborted; teardown {state.value}",
        )
    logger.warning("drill aborted", extra={"operation_id": plan.operation_id, "teardown": state.value})
    return TeardownResult(target_id=plan.spec.target_id, region=plan.region, state=state.value)
