"""Retention cleanup on an emulated account (moto): the real cleanup workflow and handlers.

Histories are created directly (real snapshots, real cross-region copies, backdated state-table
items) rather than by running hundreds of backup workflows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lifeboat.aws.clients import default_clients
from lifeboat.cli.cleanup import local_plan
from lifeboat.contracts.cleanup import CleanupRequest
from lifeboat.demo.fleet import DemoInstance, create_instance, create_keys
from lifeboat.demo.retention_history import seed_history
from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.domain.policy import Tier
from lifeboat.domain.retention import Action, Rule
from lifeboat.local.runtime import LocalCloud
from lifeboat.service.deps import deps_from_env

SOURCE, WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
REGIONS = (SOURCE, WEST, EU)
# eu-west-1 keeps dailies longer than the source region: a DR region may keep longer.
RETENTION = {
    SOURCE: {Tier.DAILY: 30, Tier.WEEKLY: 365, Tier.MONTHLY: 2555},
    WEST: {Tier.DAILY: 30, Tier.WEEKLY: 365, Tier.MONTHLY: 2555},
    EU: {Tier.DAILY: 45, Tier.WEEKLY: 365, Tier.MONTHLY: 2555},
}
CONFIG = {
    # eu-west-1 keeps 45 + 53 + 12 = 110 snapshots per database within a year: the account's
    # quota is raised above the default 100 (domain/snapshot_budget.py refuses it otherwise).
    "manualSnapshotQuota": 200,
    "policies": {
        "prod": {
            "environment": "prod",
            "drRegions": [{"region": WEST}, {"region": EU, "retentionDays": {"daily": 45}}],
        },
        "dev": {"environment": "dev"},
    },
}


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as local:
        create_keys(local)
        local.put_config(CONFIG)
        yield local


def database(cloud: LocalCloud, name: str, policy: str | None = "prod") -> str:
    return create_instance(cloud, DemoInstance(name, policy, encrypted=False), source_key="")


def history(days: int, now: datetime) -> list[tuple[Tier, datetime]]:
    """Daily points for ``days`` days, weekly every 7th day, monthly every 30th; 30 minutes off the
    day boundary so no point expires while a test runs."""
    runs = []
    for age in range(1, days + 1):
        at = now - timedelta(days=age, minutes=30)
        runs.append((Tier.DAILY, at))
        if age % 7 == 0:
            runs.append((Tier.WEEKLY, at + timedelta(minutes=1)))
        if age % 30 == 0:
            runs.append((Tier.MONTHLY, at + timedelta(minutes=2)))
    return runs


def seed(cloud: LocalCloud, arn: str, runs: list[tuple[Tier, datetime]]) -> list[str]:
    deps = deps_from_env()
    return seed_history(default_clients, deps.store, arn, deps.config().policy("prod"), runs)


def snapshots(region: str) -> set[str]:
    pages = default_clients("rds", region).get_paginator("describe_db_snapshots").paginate()
    return {s["DBSnapshotIdentifier"] for page in pages for s in page["DBSnapshots"]}


def lifeboat_snapshots(region: str) -> set[str]:
    """Snapshots other than RDS's automated ones (``rds:...``, which moto makes with instances)."""
    return {s for s in snapshots(region) if not s.startswith("rds:")}


def cleanup(cloud: LocalCloud, **request: Any) -> dict[str, Any]:
    described = cloud.wait(cloud.start_execution("CleanupStateMachine", request))
    assert described["status"] == "SUCCEEDED", described
    return dict(json.loads(described["output"]))


def operations(cloud: LocalCloud, type: str) -> list[dict[str, Any]]:
    return [item for item in cloud.operations() if item["type"] == type]


@pytest.mark.timeout(900)  # 130-175 s alone (about 1,400 snapshots seeded); it went past 300 s under load
def test_a_400_day_prod_history_keeps_exactly_the_tier_windows_of_each_region(cloud: LocalCloud) -> None:
    # GIVEN a prod database with 400 days of daily/weekly/monthly points in us-east-1 and copies
    # in us-west-2 (dailies 30 days) and eu-west-1 (dailies 45 days)
    now = datetime.now(UTC)
    runs = history(400, now)
    arn = database(cloud, "orders-db")
    seed(cloud, arn, runs)
    expected = {
        region: {
            point
            for (tier, at), point in zip(runs, _ids(arn, runs), strict=True)
            if now < at + timedelta(days=RETENTION[region][tier])
        }
        for region in REGIONS
    }
    # WHEN the cleanup plans it (the dry run the CLI prints)
    plan = local_plan(deps_from_env(), CleanupRequest(dry_run=True, max_deletions=1000))
    # THEN in each region the points kept are exactly those inside that region's tier windows
    (resource,) = [r for r in plan.resources if r.arn == arn]
    for region in REGIONS:
        kept = {
            d.point.recovery_point_id
            for d in resource.decisions
            if d.point.region == region and d.action is Action.KEEP
        }
        assert kept == expected[region], region
    # WHEN a capped cleanup run then deletes for real (a 400-day backlog takes several nights)
    output = cleanup(cloud, maxDeletions=30)
    # THEN it deleted the 30 oldest expired points, none of the kept set, and deferred the rest
    remaining = {region: snapshots(region) for region in REGIONS}
    for region in REGIONS:
        assert expected[region] <= remaining[region], region
    assert (output["deleted"], output["refused"]) == (30, 0)
    assert output["deferred"] == sum(1 for d in resource.decisions if d.action is not Action.KEEP) - 30
    # AND every deletion is a SUCCEEDED operation with its reason
    deletions = operations(cloud, "DELETE")
    assert len(deletions) == 30
    assert all(d["status"] == "SUCCEEDED" and "retention" in d["details"]["reason"] for d in deletions)


def _ids(arn: str, runs: list[tuple[Tier, datetime]]) -> list[str]:
    from lifeboat.domain.ids import recovery_point_id

    return [recovery_point_id(arn, tier, at) for tier, at in runs]


def test_a_dev_database_with_backups_disabled_gets_no_snapshot_and_no_error(cloud: LocalCloud) -> None:
    # GIVEN a dev database (backups off by default)
    database(cloud, "sandbox-db", policy="dev")
    # WHEN the daily backup and the daily cleanup run
    backup = cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", datetime.now(UTC)))
    output = cleanup(cloud, trigger="schedule")
    # THEN both succeed, no snapshot exists anywhere and nothing was deleted
    assert backup["status"] == "SUCCEEDED"
    assert output["toDelete"] == 0
    assert all(lifeboat_snapshots(region) == set() for region in REGIONS)
    assert operations(cloud, "DELETE") == []


def test_a_dry_run_returns_the_plan_and_deletes_nothing(cloud: LocalCloud) -> None:
    # GIVEN 40 days of history (11 dailies, 30 to 40 days old, expired in two regions)
    arn = database(cloud, "orders-db")
    seed(cloud, arn, history(40, datetime.now(UTC)))
    before = {region: snapshots(region) for region in REGIONS}
    # WHEN the cleanup workflow runs as a dry run
    plan = cleanup(cloud, dryRun=True)
    # THEN the plan lists the expired points (11 in us-east-1 and us-west-2, none yet in eu-west-1)
    items = plan["items"]
    written = default_clients("s3", SOURCE).get_object(Bucket=items["bucket"], Key=items["key"])
    chunks = json.loads(written["Body"].read())
    planned = [d for chunk in chunks for batch in chunk["batches"] for d in batch["deletions"]]
    assert plan["dryRun"] is True
    assert plan["toDelete"] == 22
    assert sorted({d["region"] for d in planned}) == [SOURCE, WEST]
    assert len(planned) == 22
    # AND no snapshot was deleted and no deletion was recorded
    assert {region: snapshots(region) for region in REGIONS} == before
    assert operations(cloud, "DELETE") == []


def test_a_point_a_running_drill_restores_from_is_kept_until_the_drill_ends(cloud: LocalCloud) -> None:
    # GIVEN 40 days of history, and a drill still RUNNING from the oldest (expired) daily point
    arn = database(cloud, "orders-db")
    points = seed(cloud, arn, history(40, datetime.now(UTC)))
    oldest = points[-1]
    store = deps_from_env().store
    store.open(
        operation_id=f"drill:lbdrill-orders-db-x:{WEST}",
        type=OperationType.DRILL,
        resource_arn=arn,
        region=WEST,
        status=OperationStatus.RUNNING,
        retain_days=400,
        recovery_point_id=oldest,
    )
    # WHEN cleanup plans
    plan = local_plan(deps_from_env(), CleanupRequest(dry_run=True))
    # THEN that point is kept in every region because the drill uses it; the other expired go
    (resource,) = [r for r in plan.resources if r.arn == arn]
    decisions = [d for d in resource.decisions if d.point.recovery_point_id == oldest]
    assert decisions and all(d.action is Action.KEEP and d.rule is Rule.IN_USE for d in decisions)
    assert any(d.action is Action.DELETE for d in resource.decisions)


def test_the_deletion_cap_stops_a_run_and_reports_the_rest(cloud: LocalCloud) -> None:
    # GIVEN 22 expired points across two regions
    arn = database(cloud, "orders-db")
    seed(cloud, arn, history(40, datetime.now(UTC)))
    before = snapshots(SOURCE) | snapshots(WEST)
    # WHEN a cleanup runs with a cap of 4 deletions
    output = cleanup(cloud, maxDeletions=4)
    # THEN exactly 4 points are gone (the oldest), 18 are reported deferred
    gone = before - (snapshots(SOURCE) | snapshots(WEST))
    assert output["toDelete"] == 4
    assert output["deferred"] == 18
    assert len(gone) == 2  # the two oldest dailies, each in both regions
    assert all("-daily-" in point for point in gone)
    # AND operators are told (SNS), and each deletion is recorded with its reason
    (message,) = [n for n in cloud.notifications() if "deletion budget" in n["Subject"]]
    assert "18 expired points are deferred" in message["Message"]
    assert len(operations(cloud, "DELETE")) == 4


def test_snapshots_without_lifeboat_tags_are_never_deleted(cloud: LocalCloud) -> None:
    # GIVEN 40 days of history, one expired point whose snapshot lost Lifeboat's tags (another
    # tool replaced it under the same id), and another tool's own manual snapshot
    arn = database(cloud, "orders-db")
    runs = history(40, datetime.now(UTC))
    points = seed(cloud, arn, runs)
    rds = default_clients("rds", SOURCE)
    replaced = points[-1]  # the oldest daily: expired
    rds.delete_db_snapshot(DBSnapshotIdentifier=replaced)
    rds.create_db_snapshot(DBSnapshotIdentifier=replaced, DBInstanceIdentifier="orders-db")
    rds.create_db_snapshot(DBSnapshotIdentifier="pre-upgrade-manual", DBInstanceIdentifier="orders-db")
    # WHEN the cleanup runs twice
    first = cleanup(cloud)
    second = cleanup(cloud, dryRun=True)
    # THEN neither untagged snapshot nor RDS's automated one was deleted
    automated = {s for s in snapshots(SOURCE) if s.startswith("rds:")}
    assert automated
    assert {replaced, "pre-upgrade-manual", *automated} <= snapshots(SOURCE)
    # AND the first run refused the replaced one and said why; the next plan keeps it as not ours
    refused = first["refusals"]
    assert first["refused"] == 1
    assert [(r["recoveryPointId"], r["region"]) for r in refused] == [(replaced, SOURCE)]
    assert "tags disagree" in refused[0]["detail"]
    assert second["keptByRule"]["not-ours"] == 1
    assert second["toDelete"] == 0


def test_near_the_snapshot_quota_a_backup_cleans_up_first(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 40 days of history (11 expired points in us-east-1) and a quota 2 above the usage
    arn = database(cloud, "orders-db")
    seed(cloud, arn, history(40, datetime.now(UTC)))
    monkeypatch.setenv("MOTO_RDS_SNAPSHOT_LIMIT", str(len(snapshots(SOURCE)) + 2))
    # WHEN the daily backup runs
    backup = cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", datetime.now(UTC)))
    # THEN it succeeded after deleting the resource's expired points in the source region only
    assert backup["status"] == "SUCCEEDED"
    todays = [o for o in operations(cloud, "BACKUP") if "seeded" not in str(o["history"])]
    assert [o["status"] for o in todays] == ["SUCCEEDED"]
    assert {d["region"] for d in operations(cloud, "DELETE")} == {SOURCE}
    assert len(operations(cloud, "DELETE")) == 11


def test_at_the_quota_with_nothing_expired_the_backup_fails_loudly(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a prod database whose region's snapshot quota is used up by points still in retention
    arn = database(cloud, "orders-db")
    seed(cloud, arn, history(5, datetime.now(UTC)))
    manual = {s for s in snapshots(SOURCE) if not s.startswith("rds:")}
    monkeypatch.setenv("MOTO_RDS_SNAPSHOT_LIMIT", str(len(manual)))
    # WHEN the daily backup runs
    cloud.wait(cloud.deliver_schedule("DailyBackupSchedule", datetime.now(UTC)))
    # THEN the backup is FAILED with SnapshotQuotaExceeded and a notification says why
    failed = [o for o in operations(cloud, "BACKUP") if o["status"] == "FAILED"]
    assert [o["error"] for o in failed] == ["SnapshotQuotaExceeded"]
    assert "even after deleting 0 expired points" in failed[0]["cause"]
    assert any("FAILED" in n["Subject"] for n in cloud.notifications())
