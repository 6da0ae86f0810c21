"""The demo fleet: RDS PostgreSQL instances under prod, staging and dev policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lifeboat.domain.config import DEFAULT_TAG_KEY
from lifeboat.local.runtime import LocalCloud

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


@dataclass
class DemoFleet:
    config: dict[str, Any]
    keys: dict[str, str]  # region -> DR key ARN
    source_key: str
    instances: dict[str, str] = field(default_factory=dict)  # name -> ARN


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
                "rpoMinutes": 60,
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
        "Tags": [{"Key": DEFAULT_TAG_KEY, "Value": instance.policy}] if instance.policy else [],
    }
    if instance.encrypted:
        request |= {"StorageEncrypted": True, "KmsKeyId": source_key}
    created = cloud.client("rds").create_db_instance(**request)
    return str(created["DBInstance"]["DBInstanceArn"])


def seed_demo_fleet(cloud: LocalCloud, instances: tuple[DemoInstance, ...] = DEMO_INSTANCES) -> DemoFleet:
    source_key, keys = create_keys(cloud)
    fleet = DemoFleet(config=demo_config(keys), keys=keys, source_key=source_key)
    cloud.put_config(fleet.config)
    for instance in instances:
        fleet.instances[instance.name] = create_instance(cloud, instance, source_key)
    return fleet
