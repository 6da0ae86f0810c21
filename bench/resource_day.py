"""AWS calls and state-table operations per protected resource and day: backup, monitor, cleanup.

Runs one day of Lifeboat on the local mode for N RDS instances (daily points kept 7 days, 2 DR
regions, a week of history already there, so the day's cleanup expires a point in each of the 3
regions of every resource): the daily backup cycle (real ASL; snapshots and copies taking
``--snapshot-minutes`` / ``--copy-minutes``, ended by their completion events), ``--monitor-runs``
runs of the RPO monitor (its schedule: every 15 minutes, 96 a day; fewer are scaled to 96), and the
daily cleanup (real ASL). Every AWS call a handler makes is counted by step (bench/backup_cycle.py
``counting_calls``): the brief's figure leaves out the state table and the config parameter, and
the SendTaskSuccess calls that resume waiting tasks are reported apart.

    python bench/resource_day.py [--resources 20] [--snapshot-minutes 10] [--copy-minutes 30]
        [--monitor-runs 96] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from backup_cycle import (
    CONFIG,
    ORCHESTRATION_SERVICES,
    STATE_TABLE,
    WAIT_TIME_SCALE,
    counting_calls,
    fleet_parser,
)
from lifeboat.aws.clients import default_clients
from lifeboat.demo.fleet import DemoInstance, create_instance, create_keys
from lifeboat.demo.retention_history import seed_history
from lifeboat.domain.policy import Tier
from lifeboat.local.events import run_monitor
from lifeboat.local.runtime import LocalCloud
from lifeboat.service.deps import deps_from_env

DR_REGIONS = ("us-west-2", "eu-west-1")
MONITOR_RUNS_A_DAY = 96
KEEP_DAYS = 7


def _config(keys: dict[str, str]) -> dict[str, Any]:
    return {
        "policies": {
            "prod": {
                "environment": "prod",
                "rpoMinutes": 1440,
                "minRecoveryPoints": 1,
                "retentionDays": {"daily": KEEP_DAYS},
                "drRegions": [{"region": r, "kmsKeyId": keys[r]} for r in DR_REGIONS],
            }
        }
    }


def _seed(cloud: LocalCloud, resources: int, today: datetime) -> None:
    """N encrypted instances, each with a daily point for each of the last KEEP_DAYS days: the
    oldest has expired by today's cleanup (it is KEEP_DAYS days and some hours old)."""
    source_key, keys = create_keys(cloud)
    cloud.put_config(_config(keys))
    deps = deps_from_env()
    policy = deps.config().policy("prod")
    runs = [(Tier.DAILY, today - timedelta(days=d)) for d in range(KEEP_DAYS, 0, -1)]
    for index in range(resources):
        arn = create_instance(cloud, DemoInstance(f"day-db-{index:04d}", "prod", encrypted=True), source_key)
        seed_history(default_clients, deps.store, arn, policy, runs)


def _figures(calls: Counter[tuple[str, str, str]], per: int) -> dict[str, float]:
    """Per-resource calls: the brief's figure, the state table's and the task tokens'."""
    aws = sum(
        n
        for (_, s, op), n in calls.items()
        if s not in (*ORCHESTRATION_SERVICES, STATE_TABLE) and (s, op) != CONFIG
    )
    table = sum(n for (_, s, _), n in calls.items() if s == STATE_TABLE)
    tokens = sum(n for (_, s, op), n in calls.items() if (s, op) == ("stepfunctions", "SendTaskSuccess"))
    return {"aws_calls": aws / per, "state_table_calls": table / per, "task_token_calls": tokens / per}


def _by_api(calls: Counter[tuple[str, str, str]]) -> dict[str, int]:
    """All resources' calls by service and operation."""
    tally: Counter[str] = Counter()
    for (_, service, op), n in calls.items():
        tally[f"{service}:{op}"] += n
    return dict(sorted(tally.items()))


def _state_table_by_step(calls: Counter[tuple[str, str, str]]) -> dict[str, int]:
    """All resources' state-table calls by step and operation."""
    return dict(sorted((f"{step}:{op}", n) for (step, s, op), n in calls.items() if s == STATE_TABLE))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    today = (datetime.now(UTC) - timedelta(hours=4)).replace(hour=3, minute=0, second=0, microsecond=0)
    per = args.resources
    with LocalCloud(time_scale=WAIT_TIME_SCALE) as cloud, counting_calls(cloud) as calls:
        _seed(cloud, args.resources, today)
        cloud.point_events.settle()
        calls.clear()
        cloud.point_events.times.snapshot_seconds = args.snapshot_minutes * 60
        cloud.point_events.times.copy_seconds = args.copy_minutes * 60
        backup = cloud.wait(cloud.start_backup("daily", today), timeout=900)
        backup_calls = Counter(calls)
        calls.clear()
        for run in range(args.monitor_runs):
            run_monitor(cloud, today + timedelta(minutes=15 * (run + 1)))
        monitor_calls = Counter(calls)
        calls.clear()
        cleanup = cloud.wait(
            cloud.start_execution("CleanupStateMachine", {"dryRun": False, "trigger": "schedule"}),
            timeout=900,
        )
        cleanup_calls = Counter(calls)
    calls_of = {"backup": backup_calls, "monitor": monitor_calls, "cleanup": cleanup_calls}
    parts = {name: _figures(c, per) for name, c in calls_of.items()}
    scale = MONITOR_RUNS_A_DAY / args.monitor_runs
    parts["monitor"] = {k: v * scale for k, v in parts["monitor"].items()}
    day = {key: round(sum(p[key] for p in parts.values()), 2) for key in parts["backup"]}
    return {
        "resources": args.resources,
        "dr_regions": len(DR_REGIONS),
        "snapshot_minutes": args.snapshot_minutes,
        "copy_minutes": args.copy_minutes,
        "backup_status": backup["status"],
        "cleanup_status": cleanup["status"],
        "cleanup": json.loads(cleanup.get("output") or "{}"),
        "per_resource_day": day,
        "per_resource_day_by_part": {k: {n: round(v, 2) for n, v in p.items()} for k, p in parts.items()},
        "state_table_calls_by_step": {name: _state_table_by_step(c) for name, c in calls_of.items()},
        "calls_by_api": {name: _by_api(c) for name, c in calls_of.items()},
    }


def main() -> int:
    parser = fleet_parser(__doc__, resources=20, snapshot_minutes=10, copy_minutes=30)
    parser.add_argument("--monitor-runs", type=int, default=96, help="runs measured (a day: 96)")
    args = parser.parse_args()
    result = measure(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"one day of {result['resources']} RDS instances x {result['dr_regions']} DR regions "
            f"(backup {result['backup_status']}, cleanup {result['cleanup_status']})"
        )
        print(f"  per resource-day: {result['per_resource_day']}")
        for part, figures in result["per_resource_day_by_part"].items():
            print(f"    {part:8} {figures}")
        for part, apis in result["calls_by_api"].items():
            print(f"  {part} calls (all resources): {apis}")
        for part, apis in result["state_table_calls_by_step"].items():
            print(f"  {part} state-table calls by step (all resources): {apis}")
    ok = result["backup_status"] == "SUCCEEDED" and result["cleanup_status"] == "SUCCEEDED"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
