"""A bad run request never mutates anything: it is skipped with a reason, or refused cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lifeboat.demo.fleet import DemoFleet
from lifeboat.local.runtime import LocalCloud

from .backup_support import (
    SCHEDULED_AT,
    backup_of,
    instance_fleet,
    manual_snapshots,
    point_of,
    run,
    snapshot_counts,
)

UNKNOWN = "arn:aws:rds:us-east-1:123456789012:db:no-such-db"
MALFORMED = "orders-db"


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, DemoFleet]]:
    with instance_fleet(tmp_path_factory.mktemp("bad-input"), "orders-db", "customers-db") as seeded:
        yield seeded


def test_an_unknown_resource_is_skipped_and_nothing_is_touched(
    account: tuple[LocalCloud, DemoFleet],
) -> None:
    cloud, _ = account
    before = snapshot_counts(cloud)
    # GIVEN an on-demand run naming a well-formed ARN that does not exist
    # WHEN it runs
    execution = run(cloud, cloud.start_backup("daily", SCHEDULED_AT, resources=[UNKNOWN]))
    # THEN it completes having planned nothing, and says why it was left out
    assert execution["status"] == "SUCCEEDED"
    assert execution["output"]["resources"] == []
    [skipped] = execution["output"]["skipped"]
    assert skipped == {"arn": UNKNOWN, "reason": "not protected by any Lifeboat policy"}
    # AND no snapshot, no operation, no notification was made
    assert snapshot_counts(cloud) == before
    assert [op for op in cloud.operations() if op["resourceArn"] == UNKNOWN] == []
    assert cloud.notifications() == []


def test_a_malformed_resource_fails_the_run_cleanly_before_any_change(
    account: tuple[LocalCloud, DemoFleet],
) -> None:
    cloud, _ = account
    before, operations = snapshot_counts(cloud), len(cloud.operations())
    # GIVEN an on-demand run naming a protected-looking name that is not an ARN
    # WHEN it runs
    execution = run(cloud, cloud.start_backup("daily", SCHEDULED_AT, resources=[UNKNOWN, MALFORMED]))
    # THEN it FAILED with InvalidInput naming the field and the value (the operator's typo is
    # refused, not quietly skipped), and nothing was snapshotted or recorded
    assert (execution["status"], execution["error"]) == ("FAILED", "InvalidInput")
    assert "resources.1" in execution["cause"] and "'orders-db'" in execution["cause"]
    assert snapshot_counts(cloud) == before
    assert len(cloud.operations()) == operations
    # AND the only message is the alarm on failed backup runs (as CloudWatch sends it on AWS)
    assert [n["Subject"] for n in cloud.notifications()] == [
        'ALARM: "lifeboat-dev-backup-executions-failed" in us-east-1'
    ]


def test_an_unknown_tier_fails_the_run_cleanly_before_any_change(
    account: tuple[LocalCloud, DemoFleet],
) -> None:
    cloud, _ = account
    before, operations = snapshot_counts(cloud), len(cloud.operations())
    # GIVEN a run asking for a "fortnightly" tier, which does not exist
    # WHEN it runs
    execution = run(cloud, cloud.start_backup("fortnightly", SCHEDULED_AT))
    # THEN it FAILED with InvalidInput and a cause naming the field
    assert execution["status"] == "FAILED"
    assert execution["error"] == "InvalidInput"
    assert "tier" in execution["cause"]
    # AND nothing was snapshotted or recorded
    assert snapshot_counts(cloud) == before
    assert len(cloud.operations()) == operations


def test_an_on_demand_run_backs_up_only_the_named_protected_resource(
    account: tuple[LocalCloud, DemoFleet],
) -> None:
    cloud, fleet = account
    orders, customers = fleet.instances["orders-db"], fleet.instances["customers-db"]
    # GIVEN an on-demand run for orders-db plus an unknown ARN
    execution = run(cloud, cloud.start_backup("daily", SCHEDULED_AT, resources=[orders, UNKNOWN]))
    # THEN orders-db alone is backed up, and the unknown ARN is reported as skipped
    assert execution["status"] == "SUCCEEDED"
    assert execution["output"]["resources"] == [{"arn": orders, "policy": "prod"}]
    assert [s["arn"] for s in execution["output"]["skipped"]] == [UNKNOWN]
    assert backup_of(cloud, orders).status.value == "SUCCEEDED"
    assert point_of(orders) in manual_snapshots(cloud, "us-east-1")
    assert point_of(customers) not in manual_snapshots(cloud, "us-east-1")


def test_a_config_breaking_the_rules_fails_the_run_before_any_change(
    account: tuple[LocalCloud, DemoFleet],
) -> None:
    cloud, fleet = account
    before, operations = snapshot_counts(cloud), len(cloud.operations())
    # GIVEN somebody disabled backups in the prod policy
    broken = fleet.config | {
        "policies": fleet.config["policies"] | {"prod": {"environment": "prod", "enabled": False}}
    }
    cloud.put_config(broken)
    try:
        # WHEN the daily run starts
        execution = run(cloud, cloud.start_backup("daily", SCHEDULED_AT))
    finally:
        cloud.put_config(fleet.config)
    # THEN it FAILED naming the broken rule, and nothing was snapshotted or recorded
    assert (execution["status"], execution["error"]) == ("FAILED", "PolicyViolation")
    assert "policy 'prod' (prod): backups cannot be disabled in prod" in execution["cause"]
    assert snapshot_counts(cloud) == before
    assert len(cloud.operations()) == operations
