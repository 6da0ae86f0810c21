"""The demo fleet: RDS PostgreSQL instances, Aurora clusters, EBS volumes, a DynamoDB table and an
ElastiCache Redis replication group under prod, staging, dev and cache policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lifeboat.demo.sample_data import add_sample_databases
from lifeboat.domain.config import DEFAULT_TAG_KEY
from lifeboat.local.runtime import ACCOUNT_ID, LocalCloud

DR_KEY_ALIAS = "alias/lifeboat-dr"
SOURCE_KEY_ALIAS = "alias/lifeboat-source"
KEY_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


@dataclass(frozen=True)
class DemoInstance:
    name: str
    policy: str | None
    encrypted: bool
    storage_gib: int = 20


DEMO_INSTANCES = (
    DemoInstance("orders-db", "prod", encrypted=True, storage_gib=100),
    DemoInstance("payments-db", "prod", encrypted=True, storage_gib=200),
    DemoInstance("customers-db", "prod", encrypted=False, storage_gib=50),
    DemoInstance("inventory-db", "staging", encrypted=True),
    DemoInstance("reports-db", "staging", encrypted=False),
    DemoInstance("feature-flags-db", "dev-opt-in", encrypted=False),
    DemoInstance("sandbox-db", "dev", encrypted=False),
    DemoInstance("legacy-db", None, encrypted=False),
)


@dataclass(frozen=True)
class DemoCluster:
    name: str
    policy: str | None
    encrypted: bool


@dataclass(frozen=True)
class DemoVolume:
    name: str  # the volume's Name tag; AWS names volumes vol-...
    policy: str | None
    encrypted: bool
    size_gib: int = 20


DEMO_CLUSTERS = (
    DemoCluster("ledger-aurora", "prod", encrypted=True),
    DemoCluster("analytics-aurora", "staging", encrypted=False),
)

DEMO_VOLUMES = (
    DemoVolume("build-cache", "prod", encrypted=True, size_gib=100),
    DemoVolume("media-store", "staging", encrypted=False, size_gib=50),
)


@dataclass(frozen=True)
class DemoTable:
    name: str
    policy: str | None
    encrypted: bool
    items: int = 5


DEMO_TABLES = (DemoTable("shopping-carts", "prod", encrypted=True),)


@dataclass(frozen=True)
class DemoCache:
    name: str
    policy: str | None
    encrypted: bool


# Under the cache policy (no DR regions): a DR copy starts with ElastiCache's export to S3
# (CopySnapshot), which moto does not have.
DEMO_CACHES = (DemoCache("sessions-redis", "cache", encrypted=True),)


@dataclass
class DemoFleet:
    config: dict[str, Any]
    keys: dict[str, str]  # region -> DR key ARN
    source_key: str
    instances: dict[str, str] = field(default_factory=dict)  # name -> ARN
    clusters: dict[str, str] = field(default_factory=dict)  # name -> ARN
    volumes: dict[str, str] = field(default_factory=dict)  # Name tag -> ARN
    tables: dict[str, str] = field(default_factory=dict)  # name -> ARN
    caches: dict[str, str] = field(default_factory=dict)  # replication group id -> ARN


def create_keys(cloud: LocalCloud) -> tuple[str, dict[str, str]]:
    """A customer key for encrypted sources and one DR key per region (moto keys are regional)."""
    keys = {}
    for region in KEY_REGIONS:
        kms = cloud.client("kms", region)
        arn = kms.create_key(Description=f"Lifeboat DR copies in {region}")["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName=DR_KEY_ALIAS, TargetKeyId=arn)
        keys[region] = arn
    kms = cloud.client("kms", cloud.region)
    source = kms.create_key(Description="application data key")["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=SOURCE_KEY_ALIAS, TargetKeyId=source)
    return source, keys


def demo_config(keys: dict[str, str]) -> dict[str, Any]:
    return {
        "tagKey": DEFAULT_TAG_KEY,
        "policies": {
            "prod": {
                "environment": "prod",
                # Daily snapshots: a point is at most a day old plus the run's duration.
                "rpoMinutes": 25 * 60,
                "drRegions": [
                    {"region": "us-west-2", "kmsKeyId": DR_KEY_ALIAS},
                    {"region": "eu-west-1", "kmsKeyId": keys["eu-west-1"]},
                ],
            },
            "staging": {
                "environment": "staging",
                "drRegions": [{"region": "us-west-2", "kmsKeyId": DR_KEY_ALIAS}],
            },
            "dev": {"environment": "dev"},
            "dev-opt-in": {"environment": "dev", "enabled": True},
            # Caches: the brief's 24 h RPO, plus the daily run's duration (as prod above).
            # No drRegions: Lifeboat cannot copy a Redis snapshot across regions (plugin docs).
            "cache": {"environment": "staging", "rpoMinutes": 25 * 60},
        },
    }


def create_instance(cloud: LocalCloud, instance: DemoInstance, source_key: str) -> str:
    request: dict[str, Any] = {
        "DBInstanceIdentifier": instance.name,
        "DBInstanceClass": "db.t4g.medium",
        "Engine": "postgres",
        "EngineVersion": "16.4",
        "AllocatedStorage": instance.storage_gib,
        "MasterUsername": "lifeboat",
        "MasterUserPassword": "not-a-real-password-1",
        "BackupRetentionPeriod": 7,  # automated backups: the point-in-time window
        "Tags": [{"Key": DEFAULT_TAG_KEY, "Value": instance.policy}] if instance.policy else [],
    }
    if instance.encrypted:
        request |= {"StorageEncrypted": True, "KmsKeyId": source_key}
    created = cloud.client("rds").create_db_instance(**request)
    return str(created["DBInstance"]["DBInstanceArn"])


def create_replica(
    cloud: LocalCloud, source_arn: str, name: str, region: str, kms_key_id: str | None = None
) -> str:
    """A read replica of an instance (cross-region when ``region`` is not the source's), tagged
    without the policy tag: a replica is not a protected resource of its own."""
    source_region = source_arn.split(":")[3]
    # The same region names its source by identifier, another region by ARN.
    source = source_arn if region != source_region else source_arn.rsplit(":", 1)[-1]
    request: dict[str, Any] = {
        "DBInstanceIdentifier": name,
        "SourceDBInstanceIdentifier": source,
        "Tags": [{"Key": "role", "Value": "read-replica"}],
    }
    if region != source_region:
        request["SourceRegion"] = source_region
    if kms_key_id:
        request["KmsKeyId"] = kms_key_id
    created = cloud.client("rds", region).create_db_instance_read_replica(**request)
    return str(created["DBInstance"]["DBInstanceArn"])


def create_cluster(cloud: LocalCloud, cluster: DemoCluster, source_key: str) -> str:
    request: dict[str, Any] = {
        "DBClusterIdentifier": cluster.name,
        "Engine": "aurora-postgresql",
        "EngineVersion": "16.4",
        "MasterUsername": "lifeboat",
        "MasterUserPassword": "not-a-real-password-1",
        "Tags": [{"Key": DEFAULT_TAG_KEY, "Value": cluster.policy}] if cluster.policy else [],
    }
    if cluster.encrypted:
        request |= {"StorageEncrypted": True, "KmsKeyId": source_key}
    return str(cloud.client("rds").create_db_cluster(**request)["DBCluster"]["DBClusterArn"])


def create_volume(cloud: LocalCloud, volume: DemoVolume, source_key: str) -> str:
    tags = [{"Key": "Name", "Value": volume.name}]
    if volume.policy:
        tags.append({"Key": DEFAULT_TAG_KEY, "Value": volume.policy})
    request: dict[str, Any] = {
        "AvailabilityZone": f"{cloud.region}a",
        "Size": volume.size_gib,
        "TagSpecifications": [{"ResourceType": "volume", "Tags": tags}],
    }
    if volume.encrypted:
        request |= {"Encrypted": True, "KmsKeyId": source_key}
    volume_id = cloud.client("ec2").create_volume(**request)["VolumeId"]
    return f"arn:aws:ec2:{cloud.region}:{ACCOUNT_ID}:volume/{volume_id}"


def create_table(cloud: LocalCloud, table: DemoTable, source_key: str) -> str:
    """A table with a few items and point-in-time recovery on: its DR copies are exports,
    which need PITR."""
    ddb = cloud.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
        "Tags": [{"Key": DEFAULT_TAG_KEY, "Value": table.policy}] if table.policy else [],
    }
    if table.encrypted:
        request["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": source_key}
    arn = str(ddb.create_table(**request)["TableDescription"]["TableArn"])
    for n in range(table.items):
        ddb.put_item(TableName=table.name, Item={"id": {"S": f"cart-{n}"}, "lines": {"N": str(n + 1)}})
    ddb.update_continuous_backups(
        TableName=table.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    return arn


def create_cache(cloud: LocalCloud, cache: DemoCache, source_key: str) -> str:
    """A Redis replication group of two nodes (moto makes the primary only), encrypted in transit
    and, if asked, at rest under the application key."""
    request: dict[str, Any] = {
        "ReplicationGroupId": cache.name,
        "ReplicationGroupDescription": f"{cache.name} (Lifeboat demo)",
        "Engine": "redis",
        "EngineVersion": "7.1",
        "CacheNodeType": "cache.t4g.small",
        "NumCacheClusters": 2,
        "TransitEncryptionEnabled": True,
        "Tags": [{"Key": DEFAULT_TAG_KEY, "Value": cache.policy}] if cache.policy else [],
    }
    if cache.encrypted:
        request |= {"AtRestEncryptionEnabled": True, "KmsKeyId": source_key}
    group = cloud.client("elasticache").create_replication_group(**request)["ReplicationGroup"]
    return str(group["ARN"])


def seed_demo_fleet(
    cloud: LocalCloud,
    *,
    instances: tuple[DemoInstance, ...] = DEMO_INSTANCES,
    clusters: tuple[DemoCluster, ...] = DEMO_CLUSTERS,
    volumes: tuple[DemoVolume, ...] = DEMO_VOLUMES,
    tables: tuple[DemoTable, ...] = DEMO_TABLES,
    caches: tuple[DemoCache, ...] = DEMO_CACHES,
) -> DemoFleet:
    source_key, keys = create_keys(cloud)
    fleet = DemoFleet(config=demo_config(keys), keys=keys, source_key=source_key)
    cloud.put_config(fleet.config)
    for instance in instances:
        fleet.instances[instance.name] = create_instance(cloud, instance, source_key)
    for cluster in clusters:
        fleet.clusters[cluster.name] = create_cluster(cloud, cluster, source_key)
    for volume in volumes:
        fleet.volumes[volume.name] = create_volume(cloud, volume, source_key)
    for table in tables:
        fleet.tables[table.name] = create_table(cloud, table, source_key)
    for cache in caches:
        fleet.caches[cache.name] = create_cache(cloud, cache, source_key)
    if cloud.data_plane is not None:
        add_sample_databases(cloud, fleet.instances, fleet.config)
    return fleet
