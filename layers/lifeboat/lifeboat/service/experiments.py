"""Failover experiments, one step per function of statemachines/experiment.asl.json.

prepare (pre-checks, the EXPERIMENT operation) -> await_approval (critical ones: the task token
on the operation until ``lifeboat experiment approve``) -> inject -> observe (until recovered;
a stop alarm or the emergency stop raises ExperimentStopped) -> roll_back (where a rollback
exists) -> record (post-checks, outcome, summary). Every step re-reads AWS: a retried
step never injects twice (inject is the only mutation before the rollback, and the workflow
does not retry it).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from lifeboat.aws import fault_targets
from lifeboat.aws.replica_lag import newest_replica_lags
from lifeboat.contracts.backup import Notification
from lifeboat.contracts.experiments import (
    ExperimentRequest,
    ExperimentResult,
    ExperimentRun,
    Observed,
    PrepareInput,
    StepInput,
)
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.experiments import (
    ExperimentOutcome,
    ExperimentSpec,
    FaultKind,
    TargetState,
    post_check_problems,
    pre_check_problems,
    recovered,
)
from lifeboat.domain.operations import Operation, OperationStatus, OperationType
from lifeboat.domain.points import choose
from lifeboat.domain.policy import Policy
from lifeboat.domain.restore import drill_identifier
from lifeboat.errors import (
    ExperimentStopped,
    InvalidInput,
    RecoveryPointNotFound,
    ResourceNotFound,
    ResourceNotReady,
)
from lifeboat.handler import parse
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.service import drill_copy
from lifeboat.service.deps import Deps
from lifeboat.service.notify import publish
from lifeboat.state.experiment_stop import stopped_at

# Experiment records are evidence of resilience testing, kept like drills.
EVIDENCE_DAYS = 400


def experiment_operation_id(name: str, started_at: datetime, execution_id: str) -> str:
    digest = hashlib.sha256(execution_id.encode()).hexdigest()[:6]
    return f"experiment:{name}:{started_at:%Y%m%d%H%M%S}-{digest}"


def prepare(request: PrepareInput, deps: Deps) -> ExperimentRun:
    """Pre-checks, then the EXPERIMENT operation: RUNNING when all hold, FAILED with them when not."""
    asked = parse(ExperimentRequest, request.request)
    config = deps.config()
    spec = config.experiment(asked.experiment)
    now = deps.now()
    # One read of the resource's history: its policy (as its backups recorded it) and its points.
    history = deps.store.history_of(spec.resource_arn)
    policy = config.policies.get(next((op.policy for op in history if op.policy), None) or "")
    before: TargetState | None = None
    try:
        before = fault_targets.target_state(deps.clients, spec.kind, spec.resource_arn)
    except (ResourceNotFound, InvalidInput) as exc:
        problems = [str(exc)]
    else:
        problems = _pre_check(spec, before, deps, now, history=history, policy=policy)
    drill = spec.kind is FaultKind.REPLICA_PROMOTION_DRILL and spec.region is not None
    dr_target = policy.target(spec.region) if policy and spec.region else None
    run = ExperimentRun(
        drill_copy=drill_identifier(spec.resource_arn, request.start_time, request.execution_id)
        if drill
        else None,
        drill_kms_key_id=dr_target.kms_key_id if dr_target else None,
        operation_id=experiment_operation_id(asked.experiment, request.start_time, request.execution_id),
        name=asked.experiment,
        spec=spec,
        execution_id=request.execution_id,
        started_at=request.start_time,
        ready=not problems,
        problems=problems,
        approval_required=spec.critical and not problems,
        before=before,
    )
    deps.store.open(
        operation_id=run.operation_id,
        type=OperationType.EXPERIMENT,
        resource_arn=spec.resource_arn,
        region=ResourceRef.parse(spec.resource_arn).region,
        retain_days=EVIDENCE_DAYS,
        status=OperationStatus.RUNNING if run.ready else OperationStatus.FAILED,
        detail="; ".join(problems) if problems else f"{spec.kind.value}: pre-checks passed",
        run_id=request.execution_id,
        details={
            "experiment": run.name,
            "kind": spec.kind.value,
            "requestedBy": asked.requested_by,
            "preChecks": problems,
        },
    )
    return run


def _pre_check(
    spec: ExperimentSpec,
    before: TargetState,
    deps: Deps,
    now: datetime,
    *,
    history: list[Operation],
    policy: Policy | None,
) -> list[str]:
    ref = ResourceRef.parse(spec.resource_arn)
    try:
        newest = choose(history, region=ref.region, source_region=ref.region, recovery_point_id=None, now=now)
        newest_at: datetime | None = newest.taken_at
    except (RecoveryPointNotFound, InvalidInput):
        newest_at = None
    lags = newest_replica_lags(deps.clients, before.replicas, now) if before.replicas else None
    states = fault_targets.alarm_states(deps.clients, ref.region, spec.stop_alarms)
    problems = pre_check_problems(
        spec,
        before,
        newest_valid_point_at=newest_at,
        rpo_minutes=policy.rpo_minutes if policy else None,
        replica_lags={
            r: (reading.seconds if (reading := lags.readings.get(r)) else None) for r in before.replicas
        }
        if lags
        else {},
        alarms_firing=[name for name in spec.stop_alarms if states.get(name) == "ALARM"],
        now=now,
    )
    missing = [name for name in spec.stop_alarms if name not in states]
    return problems + [f"stop alarm {name} does not exist in {ref.region}" for name in missing]


def await_approval(step: StepInput, deps: Deps) -> None:
    """Keep the task token on the operation and ask for approval; the workflow waits."""
    run = step.run
    if not step.task_token:
        raise InvalidInput("awaiting approval needs the task token")
    deps.store.record_details(
        run.operation_id, {"approvalToken": step.task_token, "approvalRequestedAt": deps.now().isoformat()}
    )
    publish(
        Notification(
            subject=f"Lifeboat experiment {run.name} awaits approval"[:100],
            message=(
                f"Critical experiment {run.name}: {run.spec.kind.value} on {run.spec.resource_arn}.\n"
                f"Pre-checks passed. Nothing is injected until an operator runs:\n"
                f"  lifeboat experiment approve {run.operation_id}\n"
                f"or refuses it with --deny. Unanswered, it ends in 24 hours, nothing injected."
            ),
        ),
        deps,
    )


def _check_stop(run: ExperimentRun, deps: Deps) -> None:
    """A stop alarm in ALARM, or an emergency stop asked since the run began, stops it."""
    ref = ResourceRef.parse(run.spec.resource_arn)
    states = fault_targets.alarm_states(deps.clients, ref.region, run.spec.stop_alarms)
    firing = [name for name, state in sorted(states.items()) if state == "ALARM"]
    if firing:
        raise ExperimentStopped(f"stop alarm(s) in ALARM: {', '.join(firing)}")
    stop = stopped_at(deps.store)
    if stop is not None and stop >= run.started_at:
        raise ExperimentStopped(
            f"emergency stop asked at {stop:%Y-%m-%d %H:%M:%S}Z (lifeboat experiment stop)"
        )


def inject(step: StepInput, deps: Deps) -> dict[str, Any]:
    run = step.run
    if run.before is None:
        raise InvalidInput(f"experiment {run.operation_id} has no state read before the fault")
    _check_stop(run, deps)
    if run.spec.kind is FaultKind.REPLICA_PROMOTION_DRILL:
        fault = drill_copy.create(run, deps)
    else:
        fault = fault_targets.inject(deps.clients, run.spec.kind, run.spec.resource_arn, run.before)
    at = deps.now()
    deps.store.record_details(run.operation_id, {"fault": fault, "injectedAt": at.isoformat()})
    metrics.add_metric(name="ExperimentFaultsInjected", unit=MetricUnit.Count, value=1)
    logger.info("fault injected", extra={"experiment": run.name, "fault": fault})
    return {"fault": fault, "at": at.isoformat()}


def observe(step: StepInput, deps: Deps) -> Observed:
    """Recovered (the fault visible and the resource available) or ResourceNotReady."""
    run = step.run
    if run.before is None or step.injected is None:
        raise InvalidInput("observing an experiment needs its state before the fault and the fault")
    _check_stop(run, deps)
    if run.spec.kind is FaultKind.REPLICA_PROMOTION_DRILL:
        return drill_copy.observe(run, deps, datetime.fromisoformat(step.injected["at"]))
    after = fault_targets.target_state(deps.clients, run.spec.kind, run.spec.resource_arn)
    done, seen = recovered(run.spec, run.before, after)
    if not done:
        raise ResourceNotReady(f"{run.spec.resource_arn}: {seen}")
    took = (deps.now() - datetime.fromisoformat(step.injected["at"])).total_seconds()
    return Observed(after=after, recovery_seconds=round(took, 3), seen=seen)


def roll_back(step: StepInput, deps: Deps) -> dict[str, Any]:
    """Undo the fault where a rollback exists (Aurora: the original writer writes again).
    Idempotent: asks only while another instance writes; ResourceNotReady until it is done."""
    run = step.run
    if run.before is None:
        raise InvalidInput(f"experiment {run.operation_id} has no state read before the fault")
    if run.spec.kind.rollback is None or not run.spec.rollback or run.before.writer is None:
        return {"rollback": "none"}
    now = fault_targets.target_state(deps.clients, run.spec.kind, run.spec.resource_arn)
    if now.writer != run.before.writer:
        if now.status == "available":
            fault_targets.fail_back(deps.clients, run.spec.resource_arn, run.before.writer)
        raise ResourceNotReady(
            f"{run.spec.resource_arn}: writer {now.writer}, failing back to {run.before.writer}"
        )
    if now.status != "available":
        raise ResourceNotReady(f"{run.spec.resource_arn} is {now.status}")
    return {"rollback": f"writer back to {run.before.writer}"}


def _outcome(step: StepInput) -> tuple[ExperimentOutcome, list[str]]:
    """The verdict and the reasons an operator reads."""
    run = step.run
    if not run.ready:
        return ExperimentOutcome.REFUSED, run.problems
    error = step.error or {}
    name = str(error.get("Error", ""))
    if name == "ExperimentStopped":
        return ExperimentOutcome.STOPPED, [_cause(error)]
    if name in ("ApprovalDenied", "States.Timeout") and step.injected is None:
        why = "no approval within 24 hours" if name == "States.Timeout" else _cause(error)
        return ExperimentOutcome.REFUSED, [why]
    if error:
        return ExperimentOutcome.FAILED, [f"{name}: {_cause(error)}"]
    if step.observed is None or run.before is None:
        return ExperimentOutcome.FAILED, ["the workflow ended without observing a recovery"]
    problems = post_check_problems(run.spec, run.before, step.observed.after, step.observed.recovery_seconds)
    return (ExperimentOutcome.FAILED if problems else ExperimentOutcome.PASSED), problems


def _cause(error: dict[str, Any]) -> str:
    """Lambda wraps a task's error message in a JSON cause; the message is what is read."""
    cause = str(error.get("Cause") or "")
    try:
        return str(json.loads(cause).get("errorMessage", cause))
    except (ValueError, AttributeError):
        return cause


def record(step: StepInput, deps: Deps) -> ExperimentResult:
    """Close the EXPERIMENT operation with the outcome, the measured recovery and the checks."""
    run = step.run
    outcome, reasons = _outcome(step)
    if step.rollback_error:
        outcome = ExperimentOutcome.FAILED
        reasons = [*reasons, f"rollback failed: {_cause(step.rollback_error)}; undo it by hand"]
    observed = step.observed
    details = {
        "outcome": outcome.value,
        "reasons": reasons,
        "recoverySeconds": observed.recovery_seconds if observed else None,
        "seen": observed.seen if observed else None,
        "rollback": (step.rolled_back or {}).get("rollback"),
        "finishedAt": deps.now().isoformat(),
    }
    if run.ready:
        passed = outcome is ExperimentOutcome.PASSED
        deps.store.transition(
            run.operation_id,
            OperationStatus.SUCCEEDED if passed else OperationStatus.FAILED,
            detail=f"{outcome.value}: {'; '.join(reasons)}" if reasons else outcome.value,
            error=None if passed else f"Experiment{outcome.value.title()}",
            cause=None if passed else "; ".join(reasons)[:1000],
            details=details,
        )
    else:
        deps.store.record_details(run.operation_id, details)
    metrics.add_metric(name=f"Experiments{outcome.value.title()}", unit=MetricUnit.Count, value=1)
    lines = [
        f"Experiment {run.name}: {run.spec.kind.value} on {run.spec.resource_arn}",
        f"Outcome: {outcome.value}",
    ]
    if observed:
        lines.append(
            f"Recovery: {observed.recovery_seconds:.1f} s ({observed.seen}); "
            f"limit {run.spec.max_recovery_seconds} s"
        )
    lines += [f"  - {reason}" for reason in reasons]
    if details["rollback"] and details["rollback"] != "none":
        lines.append(f"Rolled back: {details['rollback']}")
    lines.append(f"Recorded: state table operation {run.operation_id}")
    return ExperimentResult(
        operation_id=run.operation_id,
        outcome=outcome,
        passed=outcome is ExperimentOutcome.PASSED,
        notification=Notification(
            subject=f"Lifeboat experiment {run.name}: {outcome.value}"[:100], message="\n".join(lines)
        ),
    )
