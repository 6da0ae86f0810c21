"""Alarms on failed executions, locally: what CloudWatch does with Step Functions' metrics.

On AWS an execution that ends FAILED or TIMED_OUT counts in ``AWS/States`` ``ExecutionsFailed``
or ``ExecutionsTimedOut`` for its state machine, and the template's alarm on those metrics
notifies its ``AlarmActions`` (the failure topic) within a period. moto publishes no such
metrics and evaluates no alarms, so local mode does it when an execution ends: every template
alarm whose metrics watch that state machine sends CloudWatch's ALARM notification to the
topics of its actions. A cleanup that fails where its own catch cannot (States.DataLimitExceeded)
is then seen locally as it would be on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any
from unittest import mock

FAILURE_METRICS = {"FAILED": "ExecutionsFailed", "TIMED_OUT": "ExecutionsTimedOut"}

__all__ = ["FAILURE_METRICS", "execution_alarms", "notify_execution_ended"]


def execution_alarms(resources: dict[str, dict[str, Any]], state_machine_logical_id: str) -> list[str]:
    """The logical ids of the alarms that watch a state machine's failed or timed-out executions."""
    watching = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        metrics = [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        if "MetricName" in props:
            metrics.append({k: props[k] for k in ("Namespace", "MetricName", "Dimensions") if k in props})
        if any(_watches(metric, state_machine_logical_id) for metric in metrics):
            watching.append(logical_id)
    return watching


def _watches(metric: dict[str, Any], state_machine_logical_id: str) -> bool:
    dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
    return (
        metric.get("Namespace") == "AWS/States"
        and metric.get("MetricName") in FAILURE_METRICS.values()
        and dimensions.get("StateMachineArn") == {"Ref": state_machine_logical_id}
    )


def alarm_notification(name: str, description: str, reason: str, region: str) -> dict[str, str]:
    """The SNS message CloudWatch sends to an alarm action when the alarm goes to ALARM."""
    message = {
        "AlarmName": name,
        "AlarmDescription": description,
        "NewStateValue": "ALARM",
        "NewStateReason": reason,
        "OldStateValue": "OK",
        "StateChangeTime": datetime.now(UTC).isoformat(),
        "Region": region,
    }
    return {"Subject": f'ALARM: "{name}" in {region}', "Message": json.dumps(message)}


def notify_execution_ended(stack: ExitStack, on_end: Callable[[str, str, str], None]) -> None:
    """Call ``on_end(state machine ARN, execution ARN, status)`` as an execution ends FAILED or
    TIMED_OUT, before its status says so: whoever waits for the status then sees the alarm too."""
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramTimedOut
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    terminated = BaseExecutionWorkerCommunication.terminated
    statuses = {ProgramError: "FAILED", ProgramTimedOut: "TIMED_OUT"}

    def told_then_terminated(self: Any) -> None:
        execution = self.execution
        status = statuses.get(type(execution.exec_worker.env.program_state()))
        if status is not None:
            on_end(execution.state_machine_arn, execution.exec_arn, status)
        terminated(self)

    stack.enter_context(
        mock.patch.object(BaseExecutionWorkerCommunication, "terminated", told_then_terminated)
    )
