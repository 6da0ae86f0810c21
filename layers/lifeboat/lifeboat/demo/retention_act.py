"""Demo act: the retention plan of the demo fleet, as ``lifeboat cleanup --dry-run`` prints it.

One daily run leaves one point per region, which every guard keeps. So that the plan shows
expiry too, orders-db first gets 35 days of backdated daily/weekly/monthly history
(``retention_history``: real snapshots and copies, state-table items dated as the schedules
would have run). The dry run must change nothing: the act checks the snapshot count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lifeboat.aws.clients import default_clients
from lifeboat.cli.cleanup import local_plan, print_plan
from lifeboat.contracts.cleanup import CleanupRequest
from lifeboat.demo.context import DemoContext
from lifeboat.demo.retention_history import scheduled_runs, seed_history
from lifeboat.service.deps import deps_from_env

HISTORY_DAYS = 35
HISTORY_RESOURCE = "orders-db"


def _snapshot_count(regions: list[str]) -> int:
    return sum(len(default_clients("rds", r).describe_db_snapshots()["DBSnapshots"]) for r in regions)


def retention_plan_act(context: DemoContext) -> int:
    deps = deps_from_env()
    policy = deps.config().policy("prod")
    now = datetime.now(UTC)
    runs = list(scheduled_runs(policy, now - timedelta(days=HISTORY_DAYS), now - timedelta(days=1)))
    seed_history(default_clients, deps.store, context.fleet.instances[HISTORY_RESOURCE], policy, runs)
    context.console.rule("Retention plan (dry run)")
    context.console.print(
        f"{HISTORY_RESOURCE} got {len(runs)} backdated recovery points ({HISTORY_DAYS} days of "
        "scheduled runs) per region; every other resource has today's run only."
    )
    regions = [context.cloud.region, *(t.region for t in policy.dr_regions)]
    before = _snapshot_count(regions)
    print_plan(local_plan(deps, CleanupRequest(dry_run=True)), context.console)
    after = _snapshot_count(regions)
    if after != before:
        context.console.print(f"[red]the dry run changed the snapshot count: {before} -> {after}")
        return 1
    return 0
