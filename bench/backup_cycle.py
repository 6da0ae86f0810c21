"""Orchestration cost of one daily backup cycle, per resource, measured on the local mode.

Runs the real backup state machine on moto for N prod resources of one type (encrypted with a
customer key, 2 DR regions; DynamoDB tables with point-in-time recovery on) and counts, per
resource:
  - Step Functions state transitions (every state entered, in the parent and in every child
    execution of the Distributed Map, plus Retry attempts, which AWS also bills);
  - Lambda invocations;
  - DynamoDB writes to the state table (PutItem/UpdateItem) and the write units they consume
    (1 WRU per KB);
  - AWS API calls made by the handlers, by step, service and operation. ``aws_api_calls`` is the
    brief's figure: every handler call except the state table and the config parameter, with the
    run's discovery (Plan) shared over the fleet;
and prices them at us-east-1 list prices. Moto cannot see inside child executions through the
API, so transitions are counted by wrapping moto's state evaluation (bench-only instrumentation).

moto makes every snapshot and copy available at once, so a plain run has no waiting: each
recovery point is validated on the first try. On AWS a snapshot takes minutes and a
cross-region copy longer. ``--snapshot-minutes`` and ``--copy-minutes`` make the local mode's
points take that long on its scaled clock (local/point_events.py: describes report them in
progress, and the RDS or EBS completion event comes when they are done), so the real ASL waits
as it would on AWS: for the event where AWS sends one, by polling where not (an Aurora cluster
copy, a DynamoDB backup), every poll one more transition, Lambda invocation and describe call.
The completion event's invocation (CompletionEvent) is counted like any handler's; the
SendTaskSuccess calls that resume waiting tasks are reported on their own (task_token_calls).

    python bench/backup_cycle.py --resources 20 [--type dynamodb_table] [--history-days 7]
        [--snapshot-minutes 10 --copy-minutes 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
from lifeboat.demo.fleet import (
    DemoCluster,
    DemoInstance,
    DemoTable,
    DemoVolume,
    create_cluster,
    create_instance,
    create_keys,
    create_table,
    create_volume,
    demo_config,
)
from lifeboat.local.runtime import DEFAULT_TIME_SCALE, LocalCloud

PRICE_PER_TRANSITION = 0.025 / 1000
PRICE_PER_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_PER_GB_SECOND_ARM = 0.0000133334
PRICE_PER_WRITE_UNIT = 0.625 / 1_000_000
LAMBDA_MEMORY_GB = 0.25  # template.yaml Globals: MemorySize 256
# Billed duration assumed per invocation on AWS: each handler makes 1-4 AWS calls (~50-150 ms
# each) after a warm start. In-process times say nothing about that, so a conservative figure
# is assumed rather than measured.
ASSUMED_BILLED_SECONDS = 0.5
SOURCE_REGION = "us-east-1"
WAIT_TIME_SCALE = 0.01  # with simulated waits: 1 s of the workflow = 10 ms
# Calls the handlers make to the orchestration itself, apart from the brief's figure: SNS
# notifications, and the SendTaskSuccess that resumes a waiting task (reported on their own as
# task_token_calls: the copy gate's hand-offs and the ends of snapshot and copy waits).
ORCHESTRATION_SERVICES = {"stepfunctions", "lambda", "sns"}
STATE_TABLE = "state-table"  # the service name the bench gives calls to Lifeboat's own table
CONFIG = ("ssm", "GetParameter")
# One prod resource of each type that can be copied to DR regions, encrypted with the source key.
RESOURCE_TYPES: dict[str, Callable[[LocalCloud, int, str], str]] = {
    "rds_instance": lambda cloud, i, key: create_instance(
        cloud, DemoInstance(f"bench-db-{i:04d}", "prod", encrypted=True), key
    ),
    "rds_cluster": lambda cloud, i, key: create_cluster(
        cloud, DemoCluster(f"bench-aurora-{i:04d}", "prod", encrypted=True), key
    ),
    "ebs_volume": lambda cloud, i, key: create_volume(
        cloud, DemoVolume(f"bench-volume-{i:04d}", "prod", encrypted=True), key
    ),
    "dynamodb_table": lambda cloud, i, key: create_table(
        cloud, DemoTable(f"bench-table-{i:04d}", "prod", encrypted=True), key
    ),
}
# The backup state each handler serves (the Validate function serves the point and each copy).
_STEPS = {
    "Plan": "Plan",
    "HealthCheck": "Preflight",
    "ProfileSource": "ProfileSource",
    "Snapshot": "CreateSnapshot",
    "Replicate": "CopyToRegion",
    "UpdateState": "Record",
}


@contextmanager
def counting_transitions() -> Iterator[Counter[str]]:
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    counts: Counter[str] = Counter()
    lock = threading.Lock()
    state_body, retrier_body = CommonStateField._eval_body, RetrierDecl._eval_body

    def state(self: Any, env: Any) -> None:
        with lock:
            counts[f"state:{self.name}"] += 1
        state_body(self, env)

    def retrier(self: Any, env: Any) -> None:
        retrier_body(self, env)
        if env.stack and env.stack[-1] == RetrierOutcome.Executed:
            with lock:
                counts["retry"] += 1

    with (
        mock.patch.object(CommonStateField, "_eval_body", state),
        mock.patch.object(RetrierDecl, "_eval_body", retrier),
    ):
        yield counts


def _step(function_name: str, event: Any) -> str:
    name = function_name.rsplit("-", 1)[-1].removesuffix("Function")
    if name == "Validate":
        return "ValidateCopy" if isinstance(event, dict) and event.get("target") else "ValidateSnapshot"
    return _STEPS.get(name, name)


@contextmanager
def counting_calls(cloud: LocalCloud) -> Iterator[Counter[tuple[str, str, str]]]:
    """(step, service, operation) of every AWS call a handler makes; a handler runs in the thread
    that invokes it, so a thread-local names the step. Calls to the state table are counted
    under ``state-table``, apart from the resources' own DynamoDB calls. Entered before any
    client exists: a client copies the session's event hooks when it is created."""
    counts: Counter[tuple[str, str, str]] = Counter()
    lock = threading.Lock()
    current = threading.local()
    invoke, trigger = cloud.lambdas.invoke, cloud.invoke_function

    def invoking(arn: str, event: Any) -> tuple[dict[str, Any], bool]:
        current.step = _step(arn.rsplit(":", 1)[-1], event)
        try:
            return invoke(arn, event)
        finally:
            current.step = None

    def triggering(logical_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """A function invoked by its trigger (a completion event's rule), not by a task."""
        current.step = _step(logical_id, event)
        try:
            return trigger(logical_id, event)
        finally:
            current.step = None

    def call(params: dict[str, Any], model: Any, **_: Any) -> None:
        step = getattr(current, "step", None)
        if step is None:
            return  # the bench's own calls and the orchestration's
        service = model.service_model.service_name
        if service == "dynamodb" and params.get("TableName") == cloud.table_name:
            service = STATE_TABLE
        with lock:
            counts[(step, service, model.name)] += 1

    events: Any = boto3._get_default_session().events
    events.register("before-parameter-build", call)
    try:
        with (
            mock.patch.object(cloud.lambdas, "invoke", invoking),
            mock.patch.object(cloud, "invoke_function", triggering),
        ):
            yield counts
    finally:
        events.unregister("before-parameter-build", call)


def seed(cloud: LocalCloud, resource_type: str, resources: int, history_days: int) -> None:
    source_key, keys = create_keys(cloud)
    cloud.put_config(demo_config(keys))
    create = RESOURCE_TYPES[resource_type]
    for i in range(resources):
        create(cloud, i, source_key)
    # Retained history must not change the per-run cost: run earlier daily cycles first.
    now = datetime.now(UTC)
    for day in range(history_days, 0, -1):
        cloud.wait(cloud.start_backup("daily", now - timedelta(days=day)), timeout=600)


def measure(
    resources: int,
    history_days: int,
    resource_type: str = "rds_instance",
    log_file: Path | None = None,
    *,
    snapshot_minutes: float = 0,
    copy_minutes: float = 0,
) -> dict[str, Any]:
    # Simulated waits need a clock on which a handler's own run time (tens of ms) is small
    # beside a poll interval (30 s and up).
    scale = WAIT_TIME_SCALE if snapshot_minutes or copy_minutes else DEFAULT_TIME_SCALE
    with (
        LocalCloud(region=SOURCE_REGION, log_file=log_file, time_scale=scale) as cloud,
        counting_calls(cloud) as calls,
    ):
        seed(cloud, resource_type, resources, history_days)
        cloud.lambdas.invocations.clear()
        calls.clear()
        cloud.point_events.times.snapshot_seconds = snapshot_minutes * 60
        cloud.point_events.times.copy_seconds = copy_minutes * 60
        with counting_transitions() as transitions:
            started = time.perf_counter()
            execution = cloud.start_backup("daily", datetime.now(UTC))
            outcome = cloud.wait(execution, timeout=900)
            wall = time.perf_counter() - started
        items = [i for i in cloud.operations() if i.get("runId") == json.loads(outcome["output"])["runId"]]
        invocations = sum(cloud.lambdas.invocations.values())
    succeeded = sum(1 for i in items if i["type"] == "BACKUP" and i["status"] == "SUCCEEDED")
    writes = sum(v for (_, s, op), v in calls.items() if s == STATE_TABLE and op in ("PutItem", "UpdateItem"))
    largest_item_kb = max(len(json.dumps(i)) for i in items) / 1024
    write_units = writes * math.ceil(largest_item_kb)  # upper bound: every write at the largest item size
    by_api: Counter[str] = Counter()
    resource_calls: Counter[str] = Counter()  # step -> calls, the brief's figure
    by_step: dict[str, Counter[str]] = {}
    for (step, service, op), n in calls.items():
        if service in ORCHESTRATION_SERVICES:
            continue
        by_api[f"{service}:{op}"] += n
        if service != STATE_TABLE and (service, op) != CONFIG:
            resource_calls[step] += n
            by_step.setdefault(step, Counter())[f"{service}:{op}"] += n
    state_transitions = (
        sum(v for k, v in transitions.items() if k.startswith("state:")) + transitions["retry"]
    )
    cost = {
        "transitions": state_transitions * PRICE_PER_TRANSITION,
        "lambda_requests": invocations * PRICE_PER_LAMBDA_REQUEST,
        "lambda_compute": invocations * ASSUMED_BILLED_SECONDS * LAMBDA_MEMORY_GB * PRICE_PER_GB_SECOND_ARM,
        "dynamodb_writes": write_units * PRICE_PER_WRITE_UNIT,
    }
    per = resources
    return {
        "resource_type": resource_type,
        "resources": resources,
        "dr_regions": 2,
        "history_days": history_days,
        "snapshot_minutes": snapshot_minutes,
        "copy_minutes": copy_minutes,
        "succeeded": succeeded,
        "wall_seconds": round(wall, 2),
        "per_resource": {
            "state_transitions": round(state_transitions / per, 2),
            "lambda_invocations": round(invocations / per, 2),
            "dynamodb_writes": round(writes / per, 2),
            "dynamodb_write_units_upper_bound": round(write_units / per, 2),
            "aws_api_calls": round(sum(resource_calls.values()) / per, 2),
            "aws_api_calls_without_discovery": round(
                sum(n for step, n in resource_calls.items() if step != "Plan") / per, 2
            ),
            "aws_api_calls_all_handlers": round(sum(by_api.values()) / per, 2),
            "task_token_calls": round(
                sum(
                    n
                    for (_, service, op), n in calls.items()
                    if (service, op) == ("stepfunctions", "SendTaskSuccess")
                )
                / per,
                2,
            ),
            "cost_usd": round(sum(cost.values()) / per, 7),
            "cost_breakdown_usd": {k: round(v / per, 8) for k, v in cost.items()},
        },
        # The brief's calls, per resource, by step and API (Plan's discovery is per run, shared).
        "aws_api_calls_by_step": {
            step: {api: round(n / per, 2) for api, n in sorted(apis.items())}
            for step, apis in sorted(by_step.items())
        },
        "handler_api_calls_total": dict(sorted(by_api.items())),
        "transitions_by_state": {k.removeprefix("state:"): v for k, v in sorted(transitions.items())},
        "largest_item_kb": round(largest_item_kb, 2),
    }


def fleet_parser(
    doc: str | None, *, resources: int, snapshot_minutes: float, copy_minutes: float
) -> argparse.ArgumentParser:
    """The arguments every fleet bench takes: the fleet's size and how long AWS's points take."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", type=int, default=resources)
    parser.add_argument(
        "--snapshot-minutes", type=float, default=snapshot_minutes, help="a snapshot takes this long"
    )
    parser.add_argument(
        "--copy-minutes", type=float, default=copy_minutes, help="a cross-region copy takes this long"
    )
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    return parser


def main() -> int:
    parser = fleet_parser(__doc__, resources=20, snapshot_minutes=0, copy_minutes=0)
    parser.add_argument("--type", choices=sorted(RESOURCE_TYPES), default="rds_instance")
    parser.add_argument("--history-days", type=int, default=0)
    args = parser.parse_args()
    result = measure(
        args.resources,
        args.history_days,
        args.type,
        snapshot_minutes=args.snapshot_minutes,
        copy_minutes=args.copy_minutes,
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        per = result["per_resource"]
        print(
            f"daily cycle: {result['resources']} {result['resource_type']} x {result['dr_regions']} DR "
            f"regions, {result['history_days']} days of prior history, snapshots taking "
            f"{result['snapshot_minutes']:g} min and copies {result['copy_minutes']:g} min, "
            f"{result['succeeded']} SUCCEEDED, {result['wall_seconds']} s wall"
        )
        for key, value in per.items():
            print(f"  {key:36} {value}")
        print("  AWS API calls per resource, by step:")
        for step, apis in result["aws_api_calls_by_step"].items():
            print(f"    {step:20} {apis}")
        print(f"  handler API calls (all resources): {result['handler_api_calls_total']}")
        print(f"  transitions by state (all executions): {result['transitions_by_state']}")
    return 0 if result["succeeded"] == result["resources"] else 1


if __name__ == "__main__":
    sys.exit(main())
