"""A DR region down for a whole daily run, then back for the next one (issue 20).

Runs the real backup workflow on the local mode over the mixed encrypted prod fleet (RDS
instances, an Aurora cluster, an EBS volume, a DynamoDB table; DR regions us-west-2 and
eu-west-1) with every call to the down region failing as an unreachable endpoint (or a 503), and
prints the resource x region table of the outage cycle and of the next day's cycle, and the AWS
calls spent on the dead region (each botocore attempt counts) with and without its breaker.

    python bench/region_outage.py [--down us-west-2] [--outage unreachable|503|timeout] [--without-breaker]

``--outage timeout`` makes each connection attempt to the down region hang 3 s (real time) and
time out, as an unreachable region's endpoints do: the longest copy step printed is the
measured worst case of the copy steps' retry budget without read hangs (arithmetic: 3 x 3 s + 3 s
of back-off = 12 s; with 60 s read hangs 192 s, tests/template/test_dr_call_budget.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lifeboat.domain.ids import backup_operation_id, copy_operation_id, recovery_point_id
from lifeboat.domain.policy import Tier
from lifeboat.local.faults import FaultPlan
from lifeboat.local.runtime import LocalCloud
from reliability.audit import DR_REGIONS, SOURCE, seed_mixed_fleet

OUTAGE_AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def table(cloud: LocalCloud, arns: list[str], at: datetime) -> list[str]:
    store = cloud.store()
    rows = [f"{'resource':<18}{'backup':<10}" + "".join(f"{r:<22}" for r in (SOURCE, *DR_REGIONS))]
    for arn in arns:
        point = recovery_point_id(arn, Tier.DAILY, at)
        backup = store.get(backup_operation_id(point))
        cells = ["valid point" if backup and backup.validated else "NO POINT"]
        for region in DR_REGIONS:
            copy = store.get(copy_operation_id(point, region))
            cells.append(f"{copy.status.value} {copy.error or ''}".strip() if copy else "-")
        name = arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1][:17]
        rows.append(
            f"{name:<18}{backup.status.value if backup else '-':<10}"
            + "".join(f"{c[:21]:<22}" for c in cells)
        )
    return rows


def cycle(cloud: LocalCloud, at: datetime, plan: FaultPlan | None) -> tuple[str, int, int]:
    with cloud.faults(plan) if plan else nullcontext() as injector:
        described = cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", at), timeout=600)
    dead = injector.injected["region-down"] if injector else 0
    return described["status"], dead, injector.calls if injector else 0


def longest_copy(cloud: LocalCloud, arns: list[str], region: str) -> float:
    """The longest a copy step to ``region`` took to give up, from its record's times."""
    store, longest = cloud.store(), 0.0
    for arn in arns:
        copy = store.get(copy_operation_id(recovery_point_id(arn, Tier.DAILY, OUTAGE_AT), region))
        if copy is not None:
            longest = max(longest, (copy.updated_at - copy.created_at).total_seconds())
    return longest


@contextmanager
def without_breaker() -> Any:
    with mock.patch("lifeboat.service.backup.reaching", lambda deps, region, run_id: nullcontext()):
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down", default="us-west-2", choices=DR_REGIONS)
    parser.add_argument("--outage", default="unreachable", choices=("unreachable", "503", "timeout"))
    parser.add_argument("--without-breaker", action="store_true")
    parser.add_argument("--backfill", action="store_true", help="The policy backfills missed copies.")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as log_dir,
        LocalCloud(time_scale=0.0001, log_file=Path(log_dir) / "local.log") as cloud,
        without_breaker() if args.without_breaker else nullcontext(),
    ):
        fleet = seed_mixed_fleet(cloud)
        arns = [
            *fleet.instances.values(),
            *fleet.clusters.values(),
            *fleet.volumes.values(),
            *fleet.tables.values(),
        ]
        plan = FaultPlan(seed=1, error_rate=0.0, down_regions=frozenset({args.down}), outage=args.outage)
        status, dead, calls = cycle(cloud, OUTAGE_AT, plan)
        breaker = "without" if args.without_breaker else "with"
        print(
            f"Outage cycle ({args.down} {args.outage}, {breaker} breaker): run {status}; "
            f"{dead} calls to {args.down} (of {calls} library calls)"
        )
        print("\n".join(table(cloud, arns, OUTAGE_AT)))
        longest = longest_copy(cloud, arns, args.down)
        print(f"longest copy step to {args.down}: {longest:.1f} s (its record opened -> FAILED)")
        notes = cloud.notifications()
        print(f"notifications: {len(notes)}: " + "; ".join(sorted({n["Subject"] for n in notes}))[:300])
        fleet.config["policies"]["prod"]["backfillMissedCopies"] = args.backfill
        cloud.put_config(fleet.config)
        after = OUTAGE_AT + timedelta(days=1)
        status, _, _ = cycle(cloud, after, None)
        print(f"\nRecovery cycle ({args.down} back): run {status}")
        print("\n".join(table(cloud, arns, after)))
        caught_up = [
            cloud.store().get(
                copy_operation_id(recovery_point_id(a, Tier.DAILY, OUTAGE_AT), args.down, catch_up=True)
            )
            for a in arns
        ]
        done = sum(1 for copy in caught_up if copy is not None and copy.status.value == "SUCCEEDED")
        print(f"missed points caught up in {args.down} (backfill {args.backfill}): {done}/{len(arns)}")


if __name__ == "__main__":
    main()
