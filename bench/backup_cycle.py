"""Orchestration cost of one daily backup cycle, per resource, measured on the local mode.

Runs the real backup state machine on moto for N prod RDS instances (encrypted, 2 DR regions)
and counts, per resource:
  - Step Functions state transitions (every state entered, in the parent and in every child
    execution of the Distributed Map, plus Retry attempts, which AWS also bills);
  - Lambda invocations;
  - DynamoDB writes (PutItem/UpdateItem) and the write units they consume (1 WRU per KB);
  - AWS API calls made by the handlers, by service.
and prices them at us-east-1 list prices. Moto cannot see inside child executions through the
API, so transitions are counted by wrapping moto's state evaluation (bench-only instrumentation).

    python bench/backup_cycle.py --resources 20 [--history-days 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from lifeboat.local.fleet import DemoInstance, create_instance, create_keys, demo_config
from lifeboat.local.runtime import LocalCloud

PRICE_PER_TRANSITION = 0.025 / 1000
PRICE_PER_LAMBDA_REQUEST = 0.20 / 1_000_000
PRICE_PER_GB_SECOND_ARM = 0.0000133334
PRICE_PER_WRITE_UNIT = 0.625 / 1_000_000
LAMBDA_MEMORY_GB = 0.25  # template.yaml Globals: MemorySize 256
# Billed duration assumed per invocation on AWS: each handler makes 1-4 AWS calls (~50-150 ms
# each) after a warm start. In-process times say nothing about that, so a conservative figure
# is assumed rather than measured.
ASSUMED_BILLED_SECONDS = 0.5
ORCHESTRATION_SERVICES = {"stepfunctions", "lambda", "sns"}


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


def seed(cloud: LocalCloud, resources: int, history_days: int) -> None:
    source_key, keys = create_keys(cloud)
    config = demo_config(keys)
    cloud.put_config(config)
    for i in range(resources):
        create_instance(cloud, DemoInstance(f"bench-db-{i:04d}", "prod", encrypted=True), source_key)
    # Retained history must not change the per-run cost: run earlier daily cycles first.
    now = datetime.now(UTC)
    for day in range(history_days, 0, -1):
        cloud.wait(cloud.start_backup("daily", now - timedelta(days=day)), timeout=600)


def measure(resources: int, history_days: int) -> dict[str, Any]:
    with LocalCloud() as cloud:
        seed(cloud, resources, history_days)
        cloud.meter.calls.clear()
        cloud.lambdas.invocations.clear()
        with counting_transitions() as transitions:
            started = time.perf_counter()
            execution = cloud.start_backup("daily", datetime.now(UTC))
            outcome = cloud.wait(execution, timeout=900)
            wall = time.perf_counter() - started
        calls = Counter({k: v for k, v in cloud.meter.calls.items()})
        items = [i for i in cloud.operations() if i.get("runId") == json.loads(outcome["output"])["runId"]]
    succeeded = sum(1 for i in items if i["type"] == "BACKUP" and i["status"] == "SUCCEEDED")
    # The bench's own polling (DescribeExecution) and final scan are not part of the workflow.
    for own in (("stepfunctions", "StartExecution"), ("stepfunctions", "DescribeExecution")):
        calls.pop(own, None)
    writes = sum(
        v for (service, op), v in calls.items() if service == "dynamodb" and op in ("PutItem", "UpdateItem")
    )
    largest_item_kb = max(len(json.dumps(i)) for i in items) / 1024
    write_units = writes * math.ceil(largest_item_kb)  # upper bound: every write at the largest item size
    handler_calls = {
        f"{s}:{op}": v for (s, op), v in sorted(calls.items()) if s not in ORCHESTRATION_SERVICES
    }
    resource_calls = sum(v for (s, _), v in calls.items() if s in ("rds", "kms"))
    all_handler_calls = sum(handler_calls.values())
    state_transitions = (
        sum(v for k, v in transitions.items() if k.startswith("state:")) + transitions["retry"]
    )
    invocations = sum(cloud.lambdas.invocations.values())
    cost = {
        "transitions": state_transitions * PRICE_PER_TRANSITION,
        "lambda_requests": invocations * PRICE_PER_LAMBDA_REQUEST,
        "lambda_compute": invocations * ASSUMED_BILLED_SECONDS * LAMBDA_MEMORY_GB * PRICE_PER_GB_SECOND_ARM,
        "dynamodb_writes": write_units * PRICE_PER_WRITE_UNIT,
    }
    per = resources
    return {
        "resources": resources,
        "dr_regions": 2,
        "history_days": history_days,
        "succeeded": succeeded,
        "wall_seconds": round(wall, 2),
        "per_resource": {
            "state_transitions": round(state_transitions / per, 2),
            "lambda_invocations": round(invocations / per, 2),
            "dynamodb_writes": round(writes / per, 2),
            "dynamodb_write_units_upper_bound": round(write_units / per, 2),
            "aws_api_calls_rds_kms": round(resource_calls / per, 2),
            "aws_api_calls_all_handlers": round(all_handler_calls / per, 2),
            "cost_usd": round(sum(cost.values()) / per, 7),
            "cost_breakdown_usd": {k: round(v / per, 8) for k, v in cost.items()},
        },
        "handler_api_calls_total": handler_calls,
        "transitions_by_state": {k.removeprefix("state:"): v for k, v in sorted(transitions.items())},
        "largest_item_kb": round(largest_item_kb, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--resources", type=int, default=20)
    parser.add_argument("--history-days", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    result = measure(args.resources, args.history_days)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        per = result["per_resource"]
        print(
            f"daily cycle: {result['resources']} resources x {result['dr_regions']} DR regions, "
            f"{result['history_days']} days of prior history, {result['succeeded']} SUCCEEDED, "
            f"{result['wall_seconds']} s wall"
        )
        for key, value in per.items():
            print(f"  {key:36} {value}")
        print(f"  handler API calls (all resources): {result['handler_api_calls_total']}")
        print(f"  transitions by state (all executions): {result['transitions_by_state']}")
    return 0 if result["succeeded"] == result["resources"] else 1


if __name__ == "__main__":
    sys.exit(main())
