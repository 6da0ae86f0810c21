"""The emergency stop of drills (``lifeboat drill stop``), the same against a stack or locally.

Order matters: first stop the drill executions (nothing restores after that), then abort every
open DRILL operation (its temporary resource is deleted, the operation recorded FAILED), then
sweep once more, because a restore that was starting when its execution stopped can still
create its resource a moment later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.state.store import StateStore

Abort = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class StopReport:
    executions_stopped: list[str] = field(default_factory=list)
    teardowns: dict[str, str] = field(default_factory=dict)  # operation id -> teardown state


def stop_drills(
    sfn: Any, drill_machine_arn: str, store: StateStore, abort: Abort, *, sweep_after: float
) -> StopReport:
    report = StopReport()
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=drill_machine_arn, statusFilter="RUNNING"
    )
    for page in pages:
        for execution in page["executions"]:
            sfn.stop_execution(
                executionArn=execution["executionArn"], error="DrillAborted", cause="lifeboat drill stop"
            )
            report.executions_stopped.append(execution["executionArn"])
    open_drills = [
        op.operation_id
        for status in (OperationStatus.PENDING, OperationStatus.RUNNING)
        for op in store.by_type_status(OperationType.DRILL, status, limit=1000)
    ]
    for operation_id in open_drills:
        report.teardowns[operation_id] = abort({"abort": {"operationId": operation_id}})["state"]
    if open_drills:
        time.sleep(sweep_after)
        for operation_id in open_drills:
            report.teardowns[operation_id] = abort({"abort": {"operationId": operation_id}})["state"]
    return report
