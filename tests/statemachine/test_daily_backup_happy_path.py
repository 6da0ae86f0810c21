"""The daily schedule over the whole demo fleet, on the real ASL: everything protected is backed up,
copied to its DR regions under each region's key, validated and recorded; nothing else is touched."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from lifeboat.demo.fleet import (
    DEMO_CACHES,
    DEMO_CLUSTERS,
    DEMO_INSTANCES,
    DEMO_TABLES,
    DEMO_VOLUMES,
    DemoFleet,
    seed_demo_fleet,
)
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.config import parse_config
from lifeboat.domain.recovery import RecoveryPointFacts
from lifeboat.errors import RecoveryPointNotFound
from lifeboat.local.runtime import LocalCloud
from lifeboat.plugins import plugin_for

from .backup_support import (
    DR_REGIONS,
    FAST,
    SCHEDULED_AT,
    SOURCE,
    backup_of,
    copy_of,
    manual_snapshots,
    point_of,
    run,
)


@dataclass
class DailyRun:
    cloud: LocalCloud
    fleet: DemoFleet
    execution: dict[str, Any]
    policies: dict[str, str]  # ARN -> policy of every tagged demo resource

    def recovery_point(self, arn: str, region: str) -> RecoveryPointFacts:
        return plugin_for(ResourceRef.parse(arn), self.cloud.client).describe_recovery_point(
            region, point_of(arn)
        )

    def source_encrypted(self, arn: str) -> bool:
        return (
            plugin_for(ResourceRef.parse(arn), self.cloud.client)
            .describe_source(ResourceRef.parse(arn))
            .encrypted
        )

    def with_policy(self, *names: str) -> list[str]:
        return sorted(arn for arn, policy in self.policies.items() if policy in names)


@pytest.fixture(scope="module")
def daily(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DailyRun]:
    """GIVEN the demo fleet WHEN EventBridge delivers the daily schedule at 03:00 UTC (once per module)."""
    with LocalCloud(time_scale=FAST, log_file=tmp_path_factory.mktemp("daily") / "local.log") as cloud:
        fleet = seed_demo_fleet(cloud)
        policies = {fleet.instances[i.name]: i.policy for i in DEMO_INSTANCES if i.policy}
        policies |= {fleet.clusters[c.name]: c.policy for c in DEMO_CLUSTERS if c.policy}
        policies |= {fleet.volumes[v.name]: v.policy for v in DEMO_VOLUMES if v.policy}
        policies |= {fleet.tables[t.name]: t.policy for t in DEMO_TABLES if t.policy}
        policies |= {fleet.caches[c.name]: c.policy for c in DEMO_CACHES if c.policy}
        execution = run(cloud, cloud.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT))
        yield DailyRun(cloud, fleet, execution, policies)


def test_the_run_succeeds_and_plans_every_resource_whose_policy_backs_up(daily: DailyRun) -> None:
    """GIVEN the daily run of the demo fleet (fixture) THEN it planned every resource of an enabled policy."""
    # THEN the execution SUCCEEDED and planned exactly the resources of enabled policies
    config = parse_config(daily.fleet.config)
    enabled = sorted(arn for arn, name in daily.policies.items() if config.policy(name).backups_enabled)
    assert daily.execution["status"] == "SUCCEEDED"
    output = daily.execution["output"]
    assert (output["runId"], output["scheduledAt"]) == ("daily-20261122T0300Z", "2026-11-22T03:00:00Z")
    assert sorted(r["arn"] for r in output["resources"]) == enabled
    assert {r["arn"]: r["policy"] for r in output["resources"]} == {
        arn: daily.policies[arn] for arn in enabled
    }


def test_every_planned_backup_is_succeeded_in_the_state_table(daily: DailyRun) -> None:
    """GIVEN the daily run of the demo fleet (fixture) THEN the state table shows every backup SUCCEEDED."""
    # THEN each planned resource's backup went PENDING -> RUNNING -> SUCCEEDED, with its validation
    for planned in daily.execution["output"]["resources"]:
        backup = backup_of(daily.cloud, planned["arn"])
        assert backup.status.value == "SUCCEEDED", (planned, backup.error, backup.cause)
        assert [c.status.value for c in backup.history] == ["PENDING", "RUNNING", "SUCCEEDED"]
        assert (backup.run_id, backup.tier, backup.policy) == (
            "daily-20261122T0300Z",
            "daily",
            planned["policy"],
        )
        assert backup.details[f"validation_{SOURCE}"]["valid"] is True
    # AND no operation of the run is left anything but SUCCEEDED
    assert {op["status"] for op in daily.cloud.operations()} == {"SUCCEEDED"}


def test_prod_resources_have_a_point_in_the_source_and_in_both_dr_regions(daily: DailyRun) -> None:
    """GIVEN the daily run of the demo fleet (fixture) THEN each prod resource has an available point in
    us-east-1, us-west-2 and eu-west-1."""
    prod = daily.with_policy("prod")
    assert prod, "the demo fleet has prod resources"
    for arn in prod:
        for region in (SOURCE, *DR_REGIONS):
            point = daily.recovery_point(arn, region)
            assert point.ready, (arn, region, point.status)
            assert point.recovery_point_id == point_of(arn)


def test_copies_of_encrypted_sources_use_each_regions_dr_key(daily: DailyRun) -> None:
    """GIVEN the daily run of the demo fleet (fixture) THEN copies are encrypted exactly like their source
    requires."""
    # THEN each copy of an encrypted source is encrypted with the DR key of the copy's region,
    # and copies of unencrypted sources stay unencrypted
    checked = 0
    for arn in daily.with_policy("prod", "staging"):
        encrypted = daily.source_encrypted(arn)
        for region in DR_REGIONS:
            copy = copy_of(daily.cloud, arn, region)
            if copy is None:
                continue
            facts = daily.recovery_point(arn, region)
            if encrypted:
                assert (facts.encrypted, facts.kms_key_id) == (True, daily.fleet.keys[region]), (arn, region)
                assert copy.details["kmsKeyId"] == daily.fleet.keys[region]
            else:
                assert not facts.encrypted, (arn, region)
            checked += 1
    assert checked >= 2 * len(daily.with_policy("prod"))


def test_staging_copies_only_to_us_west_2(daily: DailyRun) -> None:
    """GIVEN the daily run of the demo fleet (fixture) THEN staging resources have a us-west-2 copy and
    nothing in eu-west-1."""
    staging = daily.with_policy("staging")
    assert staging, "the demo fleet has staging resources"
    for arn in staging:
        assert daily.recovery_point(arn, "us-west-2").ready
        assert copy_of(daily.cloud, arn, "us-west-2") is not None
        with pytest.raises(RecoveryPointNotFound):
            daily.recovery_point(arn, "eu-west-1")
        assert copy_of(daily.cloud, arn, "eu-west-1") is None


def test_recovery_points_carry_the_lifeboat_tags(daily: DailyRun) -> None:
    """GIVEN the daily run of the demo fleet (fixture) THEN every recovery point carries the Lifeboat tags of
    its resource."""
    for arn in daily.with_policy("prod", "staging", "dev-opt-in", "cache"):
        point = daily.recovery_point(arn, SOURCE)
        assert point.tags["lifeboat:managed-by"] == "lifeboat"
        assert point.tags["lifeboat:resource-arn"] == arn
        assert point.tags["lifeboat:tier"] == "daily"
        assert point.tags["lifeboat:policy"] == daily.policies[arn]


def test_the_redis_cache_has_a_validated_snapshot_in_its_region_and_no_copy(daily: DailyRun) -> None:
    """GIVEN the daily run of the demo fleet (fixture) THEN the Redis group of the cache policy (no
    DR regions: ElastiCache copies no snapshot) has an available snapshot of it in us-east-1, under
    its own key, that passed level 1, and no copy anywhere."""
    [arn] = daily.with_policy("cache")
    elasticache = daily.cloud.client("elasticache")
    [snapshot] = elasticache.describe_snapshots(SnapshotName=point_of(arn))["Snapshots"]
    assert (snapshot["ReplicationGroupId"], snapshot["SnapshotStatus"]) == ("sessions-redis", "available")
    assert snapshot["KmsKeyId"] == daily.fleet.source_key
    checks = {
        c["name"]: c["passed"] for c in backup_of(daily.cloud, arn).details[f"validation_{SOURCE}"]["checks"]
    }
    assert checks == dict.fromkeys(
        ("available", "encrypted", "kms_key", "engine", "lifeboat_tags", "node_type_recorded"), True
    )
    assert [copy_of(daily.cloud, arn, region) for region in DR_REGIONS] == [None, None]


def test_the_disabled_dev_and_the_untagged_instance_get_nothing(daily: DailyRun) -> None:
    """GIVEN the daily run of the demo fleet (fixture) THEN the dev and the untagged instance were left
    alone."""
    # THEN sandbox-db (dev, backups off) and legacy-db (untagged) have no snapshot in any region
    quiet = {daily.fleet.instances["sandbox-db"], daily.fleet.instances["legacy-db"]}
    for region in (SOURCE, *DR_REGIONS):
        sources = {s["DBInstanceIdentifier"] for s in manual_snapshots(daily.cloud, region).values()}
        assert not sources & {"sandbox-db", "legacy-db"}, region
    assert not {op["resourceArn"] for op in daily.cloud.operations()} & quiet
    # AND the run explains why the dev one was skipped; the untagged one is simply not protected
    skipped = {s["arn"]: s["reason"] for s in daily.execution["output"]["skipped"]}
    assert skipped == {daily.fleet.instances["sandbox-db"]: "backups are disabled by policy 'dev' (dev)"}


def test_the_opted_in_dev_instance_is_backed_up_without_copies(daily: DailyRun) -> None:
    """GIVEN the daily run of the demo fleet (fixture) THEN the dev instance that opted in is backed up in
    its own region only."""
    arn = daily.fleet.instances["feature-flags-db"]
    assert backup_of(daily.cloud, arn).status.value == "SUCCEEDED"
    assert daily.recovery_point(arn, SOURCE).ready
    assert [copy_of(daily.cloud, arn, region) for region in DR_REGIONS] == [None, None]


def test_nobody_is_paged(daily: DailyRun) -> None:
    """GIVEN the daily run of the demo fleet (fixture) THEN no failure notification was sent."""
    assert daily.cloud.notifications() == []
