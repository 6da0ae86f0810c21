"""The real cleanup, restore and drill workflows while AWS misbehaves (issue 12).

Cleanup: under faults it deletes exactly what a fault-free plan expires and keeps the rest, and
the state table agrees with the account afterwards (a point marked deleted is gone, every other
point exists). Restore and drill: one restored resource, never a second one made by a resent
call, nothing left behind by a drill, nothing stuck.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lifeboat.aws.clients import default_clients
from lifeboat.cli.cleanup import local_plan
from lifeboat.contracts.cleanup import CleanupRequest
from lifeboat.demo.fleet import DemoFleet, DemoInstance, demo_config, seed_demo_fleet
from lifeboat.demo.retention_history import seed_history
from lifeboat.domain.policy import Tier
from lifeboat.domain.retention import Action
from lifeboat.local.faults import FaultPlan
from lifeboat.local.runtime import LocalCloud
from lifeboat.service.deps import deps_from_env

from .audit import inventory, seed_three_types

TIME_SCALE = 0.0001
DAYS_OF_HISTORY = 10


def faults(seed: int) -> FaultPlan:
    return FaultPlan(seed=seed, error_rate=0.10, lost_response_rate=0.25, lambda_timeout_rate=0.05)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[tuple[LocalCloud, DemoFleet]]:
    """An RDS instance, an EBS volume and a DynamoDB table (prod, 2 DR regions) with 10 days of
    daily points in every region, under a policy that keeps dailies 7 days."""
    with LocalCloud(time_scale=TIME_SCALE, log_file=tmp_path / "local.log") as cloud:
        fleet = seed_three_types(cloud)
        config = demo_config(fleet.keys)
        config["policies"]["prod"]["retentionDays"] = {"daily": 7}
        cloud.put_config(config)
        deps = deps_from_env()
        now = datetime.now(UTC)
        runs = [(Tier.DAILY, now - timedelta(days=age, minutes=30)) for age in range(1, DAYS_OF_HISTORY + 1)]
        for arn in [*fleet.instances.values(), *fleet.volumes.values(), *fleet.tables.values()]:
            seed_history(default_clients, deps.store, arn, deps.config().policy("prod"), runs)
        yield cloud, fleet


@pytest.mark.parametrize("seed", [201])
def test_a_cleanup_under_faults_deletes_exactly_what_expired_and_the_state_table_agrees(
    history: tuple[LocalCloud, DemoFleet], seed: int
) -> None:
    cloud, fleet = history
    # GIVEN the fault-free plan: which points expire in which region
    plan = local_plan(deps_from_env(), CleanupRequest(dry_run=True))
    decisions = [d for r in plan.resources for d in r.decisions]
    expired = {(d.point.region, d.point.recovery_point_id) for d in decisions if d.action is Action.DELETE}
    kept = {(d.point.region, d.point.recovery_point_id) for d in decisions if d.action is Action.KEEP}
    assert len(expired) == 4 * 3 * 3 and kept  # dailies 7-10 days old x 3 regions x 3 resources
    # WHEN the cleanup workflow runs under faults
    with cloud.faults(faults(seed)) as injector:
        described = cloud.wait(cloud.start_execution("CleanupStateMachine", {}), timeout=300)
    assert described["status"] == "SUCCEEDED", described
    assert sum(injector.injected.values()) > 0
    # THEN every kept point still exists, every expired one is gone, and nothing else changed
    existing = {(region, point) for _, region, point in inventory(cloud, fleet).values()}
    assert kept <= existing, sorted(kept - existing)
    assert not expired & existing, sorted(expired & existing)
    # AND the state table agrees with the account: deleted exactly where the point is gone, no
    # deletion left RUNNING
    items = cloud.operations()
    marked = {
        (str(o["region"]), str(o["recoveryPointId"]))
        for o in items
        if o.get("type") in ("BACKUP", "COPY") and (o.get("details") or {}).get("deletedAt")
    }
    assert marked == expired
    assert [o["operationId"] for o in items if o.get("type") == "DELETE" and o["status"] != "SUCCEEDED"] == []


def _instances(cloud: LocalCloud, region: str) -> list[str]:
    found = cloud.client("rds", region).describe_db_instances()["DBInstances"]
    return sorted(i["DBInstanceIdentifier"] for i in found)


def test_a_restore_and_a_drill_under_faults_make_one_resource_and_leave_nothing_behind(
    tmp_path: Path,
) -> None:
    with LocalCloud(time_scale=TIME_SCALE, log_file=tmp_path / "local.log") as cloud:
        fleet = seed_demo_fleet(
            cloud,
            instances=(DemoInstance("orders-db", "prod", encrypted=True),),
            clusters=(),
            volumes=(),
            tables=(),
            caches=(),
        )
        arn = fleet.instances["orders-db"]
        # GIVEN a day's recovery point of orders-db in every region (taken without faults)
        assert (
            cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", datetime.now(UTC)))["status"]
            == "SUCCEEDED"
        )
        before = _instances(cloud, "us-west-2")
        # WHEN a restore into us-west-2 and then a drill run under faults
        with cloud.faults(
            FaultPlan(seed=301, error_rate=0.10, lost_response_rate=0.5, lambda_timeout_rate=0.05)
        ):
            restore = cloud.wait(
                cloud.start_execution(
                    "RestoreStateMachine",
                    {
                        "resourceArn": arn,
                        "targetRegion": "us-west-2",
                        "targetIdentifier": "orders-db-restored",
                    },
                ),
                timeout=300,
            )
            drill = cloud.wait(
                cloud.start_execution("DrillStateMachine", {"resources": [arn], "trigger": "manual"}),
                timeout=300,
            )
        # THEN the restore made exactly one new instance, the drill left none, and no restore or
        # drill operation is stuck
        assert (restore["status"], drill["status"]) == ("SUCCEEDED", "SUCCEEDED")
        assert _instances(cloud, "us-west-2") == sorted([*before, "orders-db-restored"])
        operations = [o for o in cloud.operations() if o.get("type") in ("RESTORE", "DRILL")]
        assert sorted((o["type"], o["status"]) for o in operations) == [
            ("DRILL", "SUCCEEDED"),
            ("RESTORE", "SUCCEEDED"),
        ]
