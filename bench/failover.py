"""Regional failover on the local mode: measured RTO per resource, AWS API calls per resource,
and Step Functions transitions, for the demo's plan (orders-db by promoting its replica in
us-west-2, ledger-aurora by a switchover of its global database, payments-db by restoring its
newest copy there, three DNS records moved).

moto makes a promotion, a switchover, a restore and Route 53's INSYNC instant, so the RTO measured is the
orchestration's: every step, AWS call and state-table write, with AWS's own waits at zero. On
AWS add a promotion's minutes (the instance reboots), a restore's minutes to hours, and about a
minute for INSYNC.

    python bench/failover.py [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backup_cycle import STATE_TABLE, counting_calls, counting_transitions
from lifeboat.demo.failover_act import PLAN, RESOURCES, TARGET_REGION, prepare_failover
from lifeboat.demo.fleet import DEMO_CLUSTERS, DEMO_INSTANCES, seed_demo_fleet
from lifeboat.local.runtime import LocalCloud


def measure_once(log_file: Path | None = None) -> dict[str, Any]:
    with LocalCloud(log_file=log_file) as cloud, counting_calls(cloud) as calls:
        fleet = seed_demo_fleet(
            cloud,
            instances=tuple(i for i in DEMO_INSTANCES if i.name in RESOURCES),
            clusters=tuple(c for c in DEMO_CLUSTERS if c.name in RESOURCES),
            volumes=(),
            tables=(),
            caches=(),
        )
        cloud.wait(cloud.start_backup("daily", datetime.now(UTC)))
        prepare_failover(cloud, fleet)
        calls.clear()
        with counting_transitions() as transitions:
            execution = cloud.start_execution(
                "FailoverStateMachine", {"plan": PLAN, "targetRegion": TARGET_REGION}
            )
            described = cloud.wait(execution, timeout=600)
        failovers = [i for i in cloud.operations() if i["type"] == "FAILOVER"]
    aws = Counter({k: v for k, v in calls.items() if k[1] != STATE_TABLE})
    by_api = Counter(f"{service}:{op}" for (_, service, op) in aws.elements())
    return {
        "status": described["status"],
        "resources": {
            i["resourceArn"].rsplit(":", 1)[-1]: {
                "mechanism": i["details"]["mechanism"],
                "primary_ready_seconds": i["details"].get("primaryReadySeconds"),
                "rto_seconds": i["details"]["rtoSeconds"],
                "data_age_seconds": i["details"].get("dataAgeSeconds"),
            }
            for i in failovers
        },
        "aws_api_calls": sum(aws.values()),
        "aws_api_calls_per_resource": round(sum(aws.values()) / len(RESOURCES), 1),
        "aws_api_calls_by_api": dict(sorted(by_api.items())),
        "state_table_calls": sum(v for k, v in calls.items() if k[1] == STATE_TABLE),
        "transitions": sum(v for k, v in transitions.items() if k.startswith("state:"))
        + transitions["retry"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = [measure_once() for _ in range(args.runs)]
    if args.json:
        print(json.dumps(runs, indent=2))
        return
    print(
        f"failover of plan {PLAN} to {TARGET_REGION}, {args.runs} runs "
        f"(status: {[r['status'] for r in runs]})"
    )
    for name in RESOURCES:
        rtos = [r["resources"][name]["rto_seconds"] for r in runs]
        ready = [r["resources"][name]["primary_ready_seconds"] for r in runs]
        how = runs[0]["resources"][name]["mechanism"]
        print(
            f"  {name:12} {how:16} new primary up: median {statistics.median(ready):.1f} s; "
            f"RTO (DNS serving it): median {statistics.median(rtos):.1f} s "
            f"(min {min(rtos):.1f}, max {max(rtos):.1f})"
        )
    first = runs[0]
    print(
        f"  AWS API calls: {first['aws_api_calls']} ({first['aws_api_calls_per_resource']} per resource), "
        f"state-table calls: {first['state_table_calls']}, transitions: {first['transitions']}"
    )
    for api, n in first["aws_api_calls_by_api"].items():
        print(f"    {n:3}  {api}")


if __name__ == "__main__":
    main()
