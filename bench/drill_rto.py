"""Measured RTO of restores and drills on the local mode, and where the time goes.

Runs the real restore and drill state machines on moto, with real PostgreSQL data behind the
RDS instances (local/dataplane.py), and reports from the state table, per step: plan (request ->
restore started), restore (-> available), checks (-> checked), RTO (request -> available and
checked), plus the teardown of drills. moto makes an instance available at once, so these
figures measure Lifeboat's orchestration and its checks, not RDS.

    python bench/drill_rto.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import UTC, datetime
from typing import Any

from lifeboat.demo.fleet import DEMO_INSTANCES, seed_demo_fleet
from lifeboat.local.runtime import LocalCloud

STEPS = ("planSeconds", "restoreSeconds", "checkSeconds", "rtoSeconds", "teardownSeconds")
RESOURCE = "orders-db"


def _timings(cloud: LocalCloud, operation_id: str) -> dict[str, Any]:
    operation = cloud.store().get(operation_id)
    assert operation is not None and operation.status.value == "SUCCEEDED", operation
    return dict(operation.details["timings"]) | {"checks": len(operation.details["checks"])}


def measure(runs: int) -> dict[str, Any]:
    instances = tuple(i for i in DEMO_INSTANCES if i.name == RESOURCE)
    with LocalCloud(databases=True) as cloud:
        fleet = seed_demo_fleet(cloud, instances=instances, clusters=(), volumes=(), tables=(), caches=())
        cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", datetime.now(UTC)))
        arn = fleet.instances[RESOURCE]
        samples: dict[str, list[dict[str, Any]]] = {"restore": [], "drill": []}
        for run in range(runs):
            restore = cloud.wait(
                cloud.start_execution(
                    "RestoreStateMachine",
                    {"resourceArn": arn, "targetRegion": "us-west-2", "targetIdentifier": f"bench-{run}"},
                )
            )
            samples["restore"].append(_timings(cloud, json.loads(restore["output"])["operationId"]))
            drill = cloud.wait(cloud.start_execution("DrillStateMachine", {"resources": [arn]}))
            [result] = json.loads(drill["output"])["results"]
            samples["drill"].append(_timings(cloud, result["operationId"]))
    return {
        kind: {
            step: {
                "min": min(values),
                "median": statistics.median(values),
                "max": max(values),
            }
            for step in (*STEPS, "checks")
            if (values := [s[step] for s in runs_of if step in s])
        }
        for kind, runs_of in samples.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args.runs)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{RESOURCE} restored into us-west-2 and drilled there, {args.runs} runs each (seconds)")
    for kind, steps in figures.items():
        checks = steps.pop("checks")
        print(f"  {kind} ({checks['median']:.0f} checks)")
        for step, stats in steps.items():
            low, middle, high = stats["min"], stats["median"], stats["max"]
            print(f"    {step:<16} min {low:>7.3f}  median {middle:>7.3f}  max {high:>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
