"""Sub-daily tiers on the real backup ASL: an hourly schedule backs up and copies what a policy
keeps hourly, each hour its own point; where no policy keeps the tier, the run plans nothing
without a single discovery call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lifeboat.demo.fleet import demo_config
from lifeboat.domain.ids import backup_operation_id, copy_operation_id, recovery_point_id
from lifeboat.domain.policy import Tier

from .backup_support import DR_REGIONS, backup_cycle_bench, instance_fleet, manual_snapshots, run

TEN_THIRTY = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
ELEVEN_THIRTY = datetime(2026, 11, 22, 11, 30, tzinfo=UTC)


def test_an_hourly_schedule_gives_each_hour_its_own_copied_point(tmp_path: Path) -> None:
    with instance_fleet(tmp_path, "orders-db") as (cloud, fleet):
        orders = fleet.instances["orders-db"]
        # GIVEN the prod policy keeps a day of hourly points on top of its daily ones
        config = demo_config(fleet.keys)
        config["policies"]["prod"]["retentionDays"] = {"hourly": 1, "daily": 30}
        cloud.put_config(config)
        # WHEN the hourly schedule fires at 10:30 and 11:30
        first = run(cloud, cloud.deliver_schedule("HourlyBackupSchedule", TEN_THIRTY))
        second = run(cloud, cloud.deliver_schedule("HourlyBackupSchedule", ELEVEN_THIRTY))
        # THEN both runs succeeded, each with its own hourly point of orders-db
        assert first["status"] == second["status"] == "SUCCEEDED"
        points = [recovery_point_id(orders, Tier.HOURLY, at) for at in (TEN_THIRTY, ELEVEN_THIRTY)]
        assert points[0] != points[1] and "-hourly-202611221030-" in points[0]
        store = cloud.store()
        for point in points:
            backup = store.get(backup_operation_id(point))
            assert backup is not None and backup.status.value == "SUCCEEDED"
            assert backup.tier == "hourly"
            # AND each is copied to both DR regions, under that region's key
            for region in DR_REGIONS:
                copy = store.get(copy_operation_id(point, region))
                assert copy is not None and copy.status.value == "SUCCEEDED"
                snapshot = manual_snapshots(cloud, region)[point]
                assert snapshot["Encrypted"] and snapshot["KmsKeyId"] == fleet.keys[region]


def test_an_hourly_run_no_policy_keeps_plans_nothing_and_calls_no_aws_api(tmp_path: Path) -> None:
    counting_calls = backup_cycle_bench().counting_calls
    with instance_fleet(tmp_path, "orders-db", "customers-db") as (cloud, _), counting_calls(cloud) as calls:
        # GIVEN the demo config, whose policies keep no hourly points
        snapshots_before = len(manual_snapshots(cloud, "us-east-1"))
        # WHEN the hourly schedule fires
        execution = run(cloud, cloud.deliver_schedule("HourlyBackupSchedule", TEN_THIRTY))
        # THEN the run succeeded with nothing planned, nothing snapshotted
        assert execution["status"] == "SUCCEEDED"
        assert execution["output"]["resources"] == []
        assert len(manual_snapshots(cloud, "us-east-1")) == snapshots_before
        # AND the plan read its config only: no discovery (tagging, RDS, ...) call at all
        assert {service for (_, service, _) in calls} <= {"ssm"}, sorted(calls)
