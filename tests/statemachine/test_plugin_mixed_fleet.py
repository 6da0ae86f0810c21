"""The real backup ASL over a mixed fleet (RDS instances, Aurora clusters, EBS volumes, DynamoDB
tables, ElastiCache Redis groups) on moto."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lifeboat.demo.fleet import DemoCache, DemoCluster, DemoInstance, DemoTable, DemoVolume, seed_demo_fleet
from lifeboat.domain.ids import recovery_point_id
from lifeboat.domain.operations import OperationType
from lifeboat.domain.policy import Tier
from lifeboat.local.moto_patches import AURORA_COPY_LIMIT
from lifeboat.local.runtime import ACCOUNT_ID, LocalCloud
from lifeboat.plugins.dynamodb.plugin import DynamoDbTablePlugin
from lifeboat.plugins.ebs_volume import EbsVolumePlugin
from lifeboat.plugins.elasticache.plugin import ElastiCacheRedisPlugin
from lifeboat.plugins.elasticache.s3_transfer import bucket_name
from lifeboat.plugins.rds.cluster import RdsClusterPlugin

SCHEDULED_AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
DR_REGIONS = ("us-west-2", "eu-west-1")


def test_a_mixed_fleet_backs_up_and_copies_under_each_regions_key(tmp_path: Path) -> None:
    """GIVEN encrypted prod RDS instances, Aurora clusters, EBS volumes and DynamoDB tables WHEN
    the daily schedule fires THEN every resource SUCCEEDED and each has a copy in both DR
    regions, encrypted with that region's DR key; the table's copies (exports) were validated
    holding its 4 items."""
    with LocalCloud(log_file=tmp_path / "local.log") as cloud:
        fleet = seed_demo_fleet(
            cloud,
            instances=(DemoInstance("orders-db", "prod", encrypted=True),),
            clusters=(DemoCluster("ledger-aurora", "prod", encrypted=True),),
            volumes=(DemoVolume("build-cache", "prod", encrypted=True),),
            tables=(DemoTable("shopping-carts", "prod", encrypted=True, items=4),),
            caches=(),
        )
        execution = cloud.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT)

        assert cloud.wait(execution)["status"] == "SUCCEEDED"
        arns = [*fleet.instances.values(), *fleet.clusters.values(), *fleet.volumes.values()]
        arns += fleet.tables.values()
        statuses = {}
        for arn in arns:
            point = recovery_point_id(arn, Tier.DAILY, SCHEDULED_AT)
            statuses[arn] = cloud.store().get(f"backup:{point}").status.value  # type: ignore[union-attr]
        assert set(statuses.values()) == {"SUCCEEDED"}, statuses

        cluster_point = recovery_point_id(fleet.clusters["ledger-aurora"], Tier.DAILY, SCHEDULED_AT)
        volume_point = recovery_point_id(fleet.volumes["build-cache"], Tier.DAILY, SCHEDULED_AT)
        table_point = recovery_point_id(fleet.tables["shopping-carts"], Tier.DAILY, SCHEDULED_AT)
        for region in DR_REGIONS:
            cluster_copy = RdsClusterPlugin(cloud.client).describe_recovery_point(region, cluster_point)
            volume_copy = EbsVolumePlugin(cloud.client).describe_recovery_point(region, volume_point)
            assert (cluster_copy.status, cluster_copy.kms_key_id) == ("available", fleet.keys[region])
            assert (volume_copy.status, volume_copy.kms_key_id) == ("completed", fleet.keys[region])
            table_copy = DynamoDbTablePlugin(cloud.client).describe_recovery_point(region, table_point)
            assert (table_copy.status, table_copy.kms_key_id) == ("available", fleet.keys[region])
            copy = cloud.store().get(f"copy:{table_point}:{region}")
            assert copy is not None and copy.status.value == "SUCCEEDED"
            checks = {c["name"]: c["actual"] for c in copy.details[f"validation_{region}"]["checks"]}
            assert checks["item_count_recorded"] == 4, checks


def test_thirty_aurora_clusters_copy_within_the_limit_without_a_failed_backup(tmp_path: Path) -> None:
    """GIVEN 30 prod Aurora clusters (2 DR regions) and AWS's limit of 5 concurrent cluster
    copies per destination region WHEN the daily run copies them all (every snapshot at once)
    THEN the copy gate lets 5 per region copy at a time, AWS refuses none, and all 30 backups
    and 60 copies SUCCEEDED."""
    clusters = tuple(DemoCluster(f"ledger-{n:02d}", "prod", encrypted=False) for n in range(30))
    with LocalCloud(log_file=tmp_path / "local.log") as cloud:
        seed_demo_fleet(cloud, instances=(), clusters=clusters, volumes=(), tables=(), caches=())
        execution = cloud.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT)

        assert cloud.wait(execution, timeout=240)["status"] == "SUCCEEDED"
        operations = cloud.operations()
        replicate = cloud.function_arn("ReplicateFunction").rsplit(":", 1)[-1]
        refused = cloud.lambdas.errors[replicate]

    backups = [op for op in operations if op["type"] == OperationType.BACKUP.value]
    copies = [op for op in operations if op["type"] == OperationType.COPY.value]
    assert len(backups) == 30 and {op["status"] for op in backups} == {"SUCCEEDED"}
    assert len(copies) == 60 and {op["status"] for op in copies} == {"SUCCEEDED"}
    # AND the copy gate admitted at most 5 copies per region at once: AWS (emulated: a 6th copy in
    # flight is refused) never refused one, so no copy waited on a quota back-off
    assert refused == 0, f"{refused} copies refused beyond {AURORA_COPY_LIMIT} per region"


def test_a_redis_group_under_a_policy_with_dr_regions_is_copied_to_both_through_s3(tmp_path: Path) -> None:
    """GIVEN a Redis group tagged with the prod policy (2 DR regions), and the .rdb file ElastiCache
    writes on AWS when the snapshot is exported (moto has no CopySnapshot: the test puts it in
    Lifeboat's bucket of the group's region) WHEN the daily schedule fires THEN the backup
    SUCCEEDED with a validated copy in each DR region, under that region's key."""
    cache = DemoCache("rate-limits-redis", "prod", encrypted=True)
    with LocalCloud(log_file=tmp_path / "local.log") as cloud:
        fleet = seed_demo_fleet(cloud, instances=(), clusters=(), volumes=(), tables=(), caches=(cache,))
        arn = fleet.caches["rate-limits-redis"]
        point = recovery_point_id(arn, Tier.DAILY, SCHEDULED_AT)
        s3 = cloud.client("s3")
        s3.create_bucket(Bucket=bucket_name(ACCOUNT_ID, cloud.region))
        s3.put_object(
            Bucket=bucket_name(ACCOUNT_ID, cloud.region), Key=f"{point}-0001.rdb", Body=b"REDIS0011"
        )
        execution = cloud.deliver_schedule("DailyBackupSchedule", SCHEDULED_AT)

        assert cloud.wait(execution)["status"] == "SUCCEEDED"
        backup = cloud.store().get(f"backup:{point}")
        assert backup is not None and backup.status.value == "SUCCEEDED", backup
        for region in DR_REGIONS:
            copy = ElastiCacheRedisPlugin(cloud.client).describe_recovery_point(region, point)
            assert (copy.status, copy.kms_key_id) == ("available", fleet.keys[region])
            operation = cloud.store().get(f"copy:{point}:{region}")
            assert operation is not None and operation.status.value == "SUCCEEDED"
            checks = {c["name"]: c["actual"] for c in operation.details[f"validation_{region}"]["checks"]}
            assert checks["size_bytes_recorded"] == len(b"REDIS0011"), checks
