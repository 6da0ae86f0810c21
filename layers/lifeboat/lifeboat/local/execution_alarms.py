"""Executions that end, locally: what CloudWatch and EventBridge do when one ends.

On AWS an execution that ends FAILED or TIMED_OUT counts in ``AWS/States`` ``ExecutionsFailed``
or ``ExecutionsTimedOut`` for its state machine, and the template's alarm on those metrics
notifies its ``AlarmActions`` (the failure topic) within a period. moto publishes no such
metrics and evaluates no alarms, so local mode does it when an execution ends: every template
alarm whose metrics watch that state machine sends CloudWatch's ALARM notification to the
topics of its actions. A cleanup that fails where its own catch cannot (States.DataLimitExceeded)
is then seen locally as it would be on AWS. Step Functions also puts an "Execution Status Change"
event on EventBridge for every execution that ends; local mode delivers it to the template's
rules for those that end FAILED, TIMED_OUT or ABORTED (a stopped backup run's copy slots).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from lifeboat.local.eventbridge import envelope

FAILURE_METRICS = {"FAILED": "ExecutionsFailed", "TIMED_OUT": "ExecutionsTimedOut"}
STATUS_CHANGE = "Step Functions Execution Status Change"

__all__ = [
    "FAILURE_METRICS",
    "EndedExecution",
    "alarm_notifications",
    "execution_alarms",
    "notify_execution_ended",
    "status_change",
]


@dataclass(frozen=True)
class EndedExecution:
    state_machine_arn: str
    execution_arn: str
    status: str  # FAILED, TIMED_OUT or ABORTED
    input: str
    start_date: datetime


def status_change(ended: EndedExecution, account: str, region: str) -> dict[str, Any]:
    """The event Step Functions puts on EventBridge as an execution ends."""
    return envelope(
        STATUS_CHANGE,
        "aws.states",
        account=account,
        region=region,
        resources=[ended.execution_arn],
        detail={
            "executionArn": ended.execution_arn,
            "stateMachineArn": ended.state_machine_arn,
            "name": ended.execution_arn.rsplit(":", 1)[-1],
            "status": ended.status,
            "startDate": int(ended.start_date.timestamp() * 1000),
            "stopDate": int(datetime.now(UTC).timestamp() * 1000),
            "input": ended.input,
            "output": None,
        },
    )


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


def alarm_notifications(
    resources: dict[str, dict[str, Any]],
    state_machine_logical_id: str,
    ended: EndedExecution,
    resolve: Callable[[Any], str],
    region: str,
) -> list[tuple[str, dict[str, str]]]:
    """(topic ARN, message) for each action of each alarm the ended execution sets off."""
    sent = []
    for alarm in execution_alarms(resources, state_machine_logical_id):
        props = resources[alarm]["Properties"]
        metric = FAILURE_METRICS[ended.status]
        reason = f"{metric} 1 > 0 for {ended.state_machine_arn}: {ended.execution_arn} {ended.status}"
        notification = alarm_notification(
            resolve(props["AlarmName"]), props.get("AlarmDescription", ""), reason, region
        )
        sent += [(resolve(action), notification) for action in props.get("AlarmActions", [])]
    return sent


def notify_execution_ended(stack: ExitStack, on_end: Callable[[EndedExecution], None]) -> None:
    """Call ``on_end`` as an execution ends FAILED, TIMED_OUT or ABORTED, before its status says
    so: whoever waits for the status then sees the alarm and the event's effects too."""
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped, ProgramTimedOut
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    terminated = BaseExecutionWorkerCommunication.terminated
    statuses = {ProgramError: "FAILED", ProgramTimedOut: "TIMED_OUT", ProgramStopped: "ABORTED"}

    def told_then_terminated(self: Any) -> None:
        execution = self.execution
        status = statuses.get(type(execution.exec_worker.env.program_state()))
        if status is not None:
            started = execution.start_date
            on_end(
                EndedExecution(
                    state_machine_arn=execution.state_machine_arn,
                    execution_arn=execution.exec_arn,
                    status=status,
                    input=json.dumps(execution.input_data),
                    start_date=started if started.tzinfo else started.replace(tzinfo=UTC),
                )
            )
        terminated(self)

    stack.enter_context(
        mock.patch.object(BaseExecutionWorkerCommunication, "terminated", told_then_terminated)
    )
