"""An operator's hand on running experiments, the same against a stack or locally: approve or
refuse a critical one, and the emergency stop of every experiment (and drill)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.errors import InvalidInput, OperationNotFound
from lifeboat.state.experiment_stop import request_stop
from lifeboat.state.store import StateStore


def answer_approval(sfn: Any, store: StateStore, operation_id: str, *, approve: bool, by: str) -> str:
    """Resume (or refuse) the experiment waiting on ``operation_id``; what was done."""
    operation = store.get(operation_id)
    if operation is None or operation.type is not OperationType.EXPERIMENT:
        raise OperationNotFound(f"no experiment {operation_id} in the state table")
    token = operation.details.get("approvalToken")
    if operation.status is not OperationStatus.RUNNING or not token:
        raise InvalidInput(
            f"experiment {operation_id} is not waiting for approval ({operation.status.value})"
        )
    if operation.details.get("approvedBy") or operation.details.get("deniedBy"):
        raise InvalidInput(f"experiment {operation_id} was already answered")
    if approve:
        sfn.send_task_success(taskToken=token, output=json.dumps({"approvedBy": by}))
        store.record_details(operation_id, {"approvedBy": by})
        return f"approved {operation_id}: the fault is injected now"
    sfn.send_task_failure(taskToken=token, error="ApprovalDenied", cause=f"refused by {by}")
    store.record_details(operation_id, {"deniedBy": by})
    return f"refused {operation_id}: nothing is injected"


@dataclass
class ExperimentStopReport:
    waiting_refused: list[str] = field(default_factory=list)  # awaiting approval: ended, nothing injected
    running_told: list[str] = field(default_factory=list)  # injected or about to: stop at their next step


def stop_experiments(sfn: Any, store: StateStore, *, at: datetime, by: str) -> ExperimentStopReport:
    """Record the emergency stop (running experiments see it at their next step and roll back),
    and end the ones still waiting for approval at once."""
    request_stop(store, at=at, by=by)
    report = ExperimentStopReport()
    for operation in store.by_type_status(OperationType.EXPERIMENT, OperationStatus.RUNNING, limit=1000):
        token = operation.details.get("approvalToken")
        answered = operation.details.get("approvedBy") or operation.details.get("deniedBy")
        if token and not answered:
            sfn.send_task_failure(taskToken=token, error="ExperimentStopped", cause=f"emergency stop by {by}")
            report.waiting_refused.append(operation.operation_id)
        else:
            report.running_told.append(operation.operation_id)
    return report
