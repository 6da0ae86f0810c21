"""What a backup run under faults left behind, checked against the emulated AWS (faults off).

Counts every manual snapshot, cluster snapshot, EBS snapshot, DynamoDB backup and export that
appeared during the run in each region, not only Lifeboat's by name, and holds them against the
state table:

- lost: a SUCCEEDED or PARTIAL backup without its point in the source region, or a SUCCEEDED
  copy without its point in its DR region or not under that region's key;
- duplicates: more than one item for one recovery point in one region;
- orphans: an item no BACKUP/COPY operation of the state table accounts for;
- stuck: an operation still PENDING or RUNNING after every execution ended;
- unexplained failures: a FAILED or PARTIAL backup or a FAILED copy without an error and a
  cause, or without a notification naming its resource.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lifeboat.aws.tags import tag_dict
from lifeboat.demo.fleet import DemoCluster, DemoFleet, DemoInstance, DemoTable, DemoVolume, seed_demo_fleet
from lifeboat.domain.recovery import RECOVERY_POINT_TAG
from lifeboat.local.faults import FaultPlan
from lifeboat.local.runtime import LocalCloud
from lifeboat.plugins import plugin_for

SOURCE = "us-east-1"
DR_REGIONS = ("us-west-2", "eu-west-1")
REGIONS = (SOURCE, *DR_REGIONS)

Item = tuple[str, str, str | None]  # (kind, region, recovery point id or None when unknown)


def standard_faults(seed: int) -> FaultPlan:
    """The rates of the suite and the sweep: ~10% errors on every call, and the rarer faults."""
    return FaultPlan(
        seed=seed, error_rate=0.10, copy_quota_rate=0.15, lost_response_rate=0.25, lambda_timeout_rate=0.05
    )


def seed_mixed_fleet(cloud: LocalCloud) -> DemoFleet:
    """Encrypted prod resources of every type the issue names: RDS, Aurora, EBS, DynamoDB."""
    return seed_demo_fleet(
        cloud,
        instances=(
            DemoInstance("orders-db", "prod", encrypted=True),
            DemoInstance("payments-db", "prod", encrypted=True),
        ),
        clusters=(DemoCluster("ledger-aurora", "prod", encrypted=True),),
        volumes=(DemoVolume("build-cache", "prod", encrypted=True),),
        tables=(DemoTable("shopping-carts", "prod", encrypted=True, items=4),),
        caches=(),
    )


def seed_three_types(cloud: LocalCloud) -> DemoFleet:
    """One encrypted prod RDS instance, EBS volume and DynamoDB table: the cheaper fleet."""
    return seed_demo_fleet(
        cloud,
        instances=(DemoInstance("orders-db", "prod", encrypted=True),),
        clusters=(),
        volumes=(DemoVolume("build-cache", "prod", encrypted=True),),
        tables=(DemoTable("shopping-carts", "prod", encrypted=True, items=4),),
        caches=(),
    )


def inventory(cloud: LocalCloud, fleet: DemoFleet) -> dict[str, Item]:
    """Every recovery-point-like item in every region, by its AWS id."""
    items: dict[str, Item] = {}
    for region in REGIONS:
        rds = cloud.client("rds", region)
        for page in rds.get_paginator("describe_db_snapshots").paginate(SnapshotType="manual"):
            for s in page["DBSnapshots"]:
                items[s["DBSnapshotArn"]] = ("rds", region, s["DBSnapshotIdentifier"])
        for page in rds.get_paginator("describe_db_cluster_snapshots").paginate(SnapshotType="manual"):
            for s in page["DBClusterSnapshots"]:
                items[s["DBClusterSnapshotArn"]] = ("aurora", region, s["DBClusterSnapshotIdentifier"])
        for page in (
            cloud.client("ec2", region).get_paginator("describe_snapshots").paginate(OwnerIds=["self"])
        ):
            for s in page["Snapshots"]:
                point = tag_dict(s.get("Tags")).get(RECOVERY_POINT_TAG)
                items[f"{region}/{s['SnapshotId']}"] = ("ebs", region, point)
    ddb = cloud.client("dynamodb", SOURCE)
    for arn in fleet.tables.values():
        table = arn.rsplit("/", 1)[-1]
        for s in ddb.list_backups(TableName=table)["BackupSummaries"]:
            items[s["BackupArn"]] = ("dynamodb-backup", SOURCE, s["BackupName"])
        for summary in ddb.list_exports(TableArn=arn).get("ExportSummaries", []):
            export = ddb.describe_export(ExportArn=summary["ExportArn"])["ExportDescription"]
            region = "-".join(str(export["S3Bucket"]).rsplit("-", 3)[-3:])
            # An export's description outlives its data: the copy is the objects it wrote.
            data = f"{export.get('S3Prefix')}/AWSDynamoDB/{summary['ExportArn'].rsplit('/', 1)[-1]}/"
            listed = cloud.client("s3", region).list_objects_v2(
                Bucket=export["S3Bucket"], Prefix=data, MaxKeys=1
            )
            if listed.get("KeyCount"):
                items[summary["ExportArn"]] = ("dynamodb-export", region, export.get("S3Prefix"))
    return items


@dataclass
class Audit:
    resources: int = 0
    succeeded: int = 0
    partial: int = 0
    failed: int = 0
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicates or self.orphans or self.stuck or self.unexplained)

    def counts(self) -> dict[str, int]:
        return {
            "resources": self.resources,
            "succeeded": self.succeeded,
            "partial": self.partial,
            "failed": self.failed,
            "lost": len(self.lost),
            "duplicates": len(self.duplicates),
            "orphans": len(self.orphans),
            "stuck": len(self.stuck),
            "unexplained": len(self.unexplained),
        }


def audit(
    cloud: LocalCloud, fleet: DemoFleet, before: dict[str, Item], notifications: list[dict[str, Any]]
) -> Audit:
    """Check a finished run (faults off) against the four invariants and its failures."""
    new = {aws_id: item for aws_id, item in inventory(cloud, fleet).items() if aws_id not in before}
    operations = [o for o in cloud.operations() if o.get("type") in ("BACKUP", "COPY")]
    result = Audit()
    per_point = Counter((region, point) for _, region, point in new.values())
    result.duplicates = [
        f"{point} in {region}: {n} items" for (region, point), n in per_point.items() if n > 1
    ]
    recorded = {(str(o["region"]), str(o["recoveryPointId"])) for o in operations}
    result.orphans = [
        f"{kind} {aws_id} in {region} (point {point})"
        for aws_id, (kind, region, point) in new.items()
        if (region, point) not in recorded
    ]
    everything = [o for o in cloud.operations() if o.get("type") not in ("INCIDENT",) and "status" in o]
    result.stuck = [str(o["operationId"]) for o in everything if o["status"] in ("PENDING", "RUNNING")]
    backups = [o for o in operations if o["type"] == "BACKUP"]
    result.resources = len({o["resourceArn"] for o in backups})
    result.succeeded = sum(1 for o in backups if o["status"] == "SUCCEEDED")
    result.partial = sum(1 for o in backups if o["status"] == "PARTIAL")
    result.failed = sum(1 for o in backups if o["status"] == "FAILED")
    told = " ".join(str(n.get("Subject", "")) + str(n.get("Message", "")) for n in notifications)
    for operation in operations:
        region, point, status = (
            str(operation["region"]),
            str(operation["recoveryPointId"]),
            operation["status"],
        )
        if status == "SUCCEEDED" or (status == "PARTIAL" and operation["type"] == "BACKUP"):
            result.lost += _lost(cloud, fleet, operation, per_point[(region, point)])
        if status in ("FAILED", "PARTIAL"):
            name = str(operation["resourceArn"]).rsplit(":", 1)[-1].rsplit("/", 1)[-1]
            if not (operation.get("error") and operation.get("cause")) or name not in told:
                result.unexplained.append(f"{operation['operationId']}: {operation.get('error')}")
    return result


def _lost(cloud: LocalCloud, fleet: DemoFleet, operation: dict[str, Any], items: int) -> list[str]:
    region, point = str(operation["region"]), str(operation["recoveryPointId"])
    if items == 0:
        return [f"{operation['operationId']} SUCCEEDED but nothing exists in {region}"]
    if operation["type"] != "COPY":
        return []
    from lifeboat.domain.arn import ResourceRef

    facts = plugin_for(
        ResourceRef.parse(str(operation["resourceArn"])), cloud.client
    ).describe_recovery_point(region, point)
    if facts.kms_key_id != fleet.keys[region]:
        return [f"{operation['operationId']}: copy under {facts.kms_key_id}, not {region}'s DR key"]
    return []
