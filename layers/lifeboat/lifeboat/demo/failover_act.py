"""The demo's regional failover: orders-db by promoting its read replica in us-west-2,
ledger-aurora by a switchover of its Aurora Global Database to its secondary there, payments-db
(no replica) by restoring its newest copy there, the DNS names moved with them; then the
failback home: ledger-aurora switched back, orders-db and payments-db replicated back from
their us-west-2 primaries and promoted (the stale old primaries renamed and kept).

What moto makes instant: a promotion (AWS: minutes of ``modifying``/``rebooting``), a restore
(AWS: minutes to hours by size) and Route 53's ``INSYNC`` (AWS: about a minute). The RTO shown is
the orchestration's: every step, call and state-table write, with those waits at zero.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lifeboat.aws.replicas import FAILOVER_PLAN_TAG
from lifeboat.demo.context import DemoContext
from lifeboat.demo.fleet import DemoFleet, create_replica
from lifeboat.domain.arn import ResourceRef
from lifeboat.local.events import put_replica_lag
from lifeboat.local.runtime import LocalCloud

PLAN = "orders"
TARGET_REGION = "us-west-2"
ZONE_NAME = "db.example.internal."
RESOURCES = ("orders-db", "payments-db", "ledger-aurora")
REPLICA_NAME = "orders-db-dr"
GLOBAL_CLUSTER = "ledger-global"
SECONDARY_NAME = "ledger-aurora-dr"
DEMO_LAG_SECONDS = 2.0


@dataclass
class FailoverSetup:
    zone_id: str
    replica_arn: str
    secondary_arn: str | None
    resources: dict[str, str]  # name -> ARN of what the plan fails over

    def record(self, cloud: LocalCloud, name: str) -> str | None:
        """The value Route 53 serves for ``<name>.db.example.internal``."""
        found = cloud.client("route53").list_resource_record_sets(HostedZoneId=self.zone_id)
        for record in found["ResourceRecordSets"]:
            if record["Name"] == f"{name}.{ZONE_NAME}" and record["Type"] == "CNAME":
                return str(record["ResourceRecords"][0]["Value"])
        return None


def _cname(name: str, value: str) -> dict[str, Any]:
    record = {
        "Name": f"{name}.{ZONE_NAME}",
        "Type": "CNAME",
        "TTL": 60,
        "ResourceRecords": [{"Value": value}],
    }
    return {"Action": "UPSERT", "ResourceRecordSet": record}


def prepare_failover(
    cloud: LocalCloud, fleet: DemoFleet, *, lag_seconds: float | None = DEMO_LAG_SECONDS
) -> FailoverSetup:
    """orders-db's replica in us-west-2 (made if the account has none) and, when the fleet has
    ledger-aurora, a global database with its secondary there, both tagged for the plan; a hosted
    zone whose CNAMEs name the primaries; the plan in the config; the lag each publishes."""
    west = cloud.client("rds", TARGET_REGION)
    existing = west.describe_db_instances()["DBInstances"]
    replica = next((i["DBInstanceArn"] for i in existing if i["DBInstanceIdentifier"] == REPLICA_NAME), None)
    if replica is None:
        replica = create_replica(
            cloud, fleet.instances["orders-db"], REPLICA_NAME, TARGET_REGION, fleet.keys[TARGET_REGION]
        )
    west.add_tags_to_resource(ResourceName=replica, Tags=[{"Key": FAILOVER_PLAN_TAG, "Value": PLAN}])
    resources = {n: fleet.instances[n] for n in RESOURCES if n in fleet.instances}
    secondary = None
    if "ledger-aurora" in fleet.clusters:
        resources["ledger-aurora"] = fleet.clusters["ledger-aurora"]
        secondary = _global_secondary(cloud, fleet)
    route53 = cloud.client("route53")
    zone_id = route53.create_hosted_zone(Name=ZONE_NAME, CallerReference="lifeboat-demo")["HostedZone"]["Id"]
    zone_id = zone_id.rsplit("/", 1)[-1]
    changes = [_cname(n, _endpoint(cloud, arn)) for n, arn in resources.items()]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    fleet.config["failoverPlans"] = {
        PLAN: {
            "resources": list(resources.values()),
            "dnsRecords": [
                {"hostedZoneId": zone_id, "name": f"{n}.{ZONE_NAME}", "resourceArn": arn}
                for n, arn in resources.items()
            ],
            "maxReplicaLagSeconds": 60,
        }
    }
    cloud.put_config(fleet.config)
    setup = FailoverSetup(zone_id=zone_id, replica_arn=replica, secondary_arn=secondary, resources=resources)
    if lag_seconds is not None:
        set_lags(cloud, setup, lag_seconds)
    return setup


def set_lags(cloud: LocalCloud, setup: FailoverSetup, seconds: float, at: datetime | None = None) -> None:
    """The lag RDS would publish each minute (moto publishes none): ReplicaLag of the replica,
    AuroraGlobalDBReplicationLag (milliseconds) of the global secondary."""
    now = at or datetime.now(UTC)
    put_replica_lag(cloud, setup.replica_arn, seconds, now)
    if setup.secondary_arn is not None:
        _publish_global_lag(
            cloud, SECONDARY_NAME, TARGET_REGION, source_region=cloud.region, seconds=seconds, at=now
        )


def _global_secondary(cloud: LocalCloud, fleet: DemoFleet) -> str:
    """ledger-aurora made the primary of a global database, its secondary in us-west-2."""
    source = fleet.clusters["ledger-aurora"]
    cloud.client("rds").create_global_cluster(
        GlobalClusterIdentifier=GLOBAL_CLUSTER, SourceDBClusterIdentifier=source
    )
    created = cloud.client("rds", TARGET_REGION).create_db_cluster(
        DBClusterIdentifier=SECONDARY_NAME,
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        GlobalClusterIdentifier=GLOBAL_CLUSTER,
        StorageEncrypted=True,
        KmsKeyId=fleet.keys[TARGET_REGION],
        Tags=[{"Key": FAILOVER_PLAN_TAG, "Value": PLAN}],
    )
    return str(created["DBCluster"]["DBClusterArn"])


def _endpoint(cloud: LocalCloud, arn: str) -> str:
    ref = ResourceRef.parse(arn)
    rds = cloud.client("rds", ref.region)
    if ref.kind == "cluster":
        return str(rds.describe_db_clusters(DBClusterIdentifier=ref.name)["DBClusters"][0]["Endpoint"])
    return str(
        rds.describe_db_instances(DBInstanceIdentifier=ref.name)["DBInstances"][0]["Endpoint"]["Address"]
    )


def failover_act(context: DemoContext) -> int:
    """A dry run (the readiness verdict, nothing changed), then the failover itself."""
    cloud, console = context.cloud, context.console
    setup = prepare_failover(cloud, context.fleet)
    console.rule(f"[bold]Act: regional failover of {', '.join(setup.resources)} to {TARGET_REGION}")
    before = {n: setup.record(cloud, n) for n in setup.resources}
    request = {"plan": PLAN, "targetRegion": TARGET_REGION}
    dry = cloud.wait(cloud.start_execution("FailoverStateMachine", request | {"dryRun": True}))
    console.print("[bold]lifeboat failover --to us-west-2 --dry-run[/]")
    console.print(json_output(dry)["summary"], markup=False, highlight=False)
    cloud.notifications()
    described = cloud.wait(cloud.start_execution("FailoverStateMachine", request))
    outcome = json_output(described)
    console.print("[bold]lifeboat failover --to us-west-2[/]")
    for note in cloud.notifications():
        console.print(note["Message"], markup=False, highlight=False)
    moved = sum(1 for n in setup.resources if setup.record(cloud, n) != before[n])
    console.print(f"DNS records moved off the old primaries: {moved} of {len(setup.resources)}")
    console.print(
        "[dim]moto makes promotion, switchover, restore and Route 53 INSYNC instant: the RTO above is "
        f"the orchestration's alone. The {DEMO_LAG_SECONDS:g} s lag of {REPLICA_NAME} and "
        f"{SECONDARY_NAME} is what local mode publishes (moto has neither ReplicaLag nor "
        "AuroraGlobalDBReplicationLag).[/]"
    )
    succeeded = described["status"] == "SUCCEEDED" and outcome.get("status") == "SUCCEEDED"
    if not succeeded or moved != len(setup.resources):
        return 1
    return fail_back(context, setup, before)


def fail_back(context: DemoContext, setup: FailoverSetup, before: dict[str, str | None]) -> int:
    """us-east-1 healthy again: the same plan back home. The new replicas' lag is what local mode
    publishes once they exist (1 s), as RDS would each minute."""
    cloud, console = context.cloud, context.console
    home = ResourceRef.parse(next(iter(setup.resources.values()))).region
    if "ledger-aurora" in setup.resources:
        cloud.client("rds").add_tags_to_resource(
            ResourceName=setup.resources["ledger-aurora"], Tags=[{"Key": FAILOVER_PLAN_TAG, "Value": PLAN}]
        )
        _publish_global_lag(cloud, "ledger-aurora", home, source_region=TARGET_REGION, seconds=1.0)
    execution = cloud.start_execution("FailoverStateMachine", {"plan": PLAN, "targetRegion": home})
    sfn = cloud.client("stepfunctions")
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
        for instance in cloud.client("rds", home).describe_db_instances()["DBInstances"]:
            if instance.get("ReadReplicaSourceDBInstanceIdentifier"):
                put_replica_lag(cloud, instance["DBInstanceArn"], 1.0, datetime.now(UTC))
        time.sleep(0.05)
    described = cloud.wait(execution)
    console.print(f"[bold]lifeboat failover --to {home}[/] (failback)")
    for note in cloud.notifications():
        console.print(note["Message"], markup=False, highlight=False)
    home_again = sum(1 for n in setup.resources if setup.record(cloud, n) == before[n])
    console.print(f"DNS records back on their home primaries: {home_again} of {len(setup.resources)}")
    kept = [
        i["DBInstanceIdentifier"]
        for i in cloud.client("rds", home).describe_db_instances()["DBInstances"]
        if "-pre-failover-" in i["DBInstanceIdentifier"]
    ]
    console.print(
        f"Stale old primaries renamed and kept for the operator: {', '.join(sorted(kept)) or 'none'}"
    )
    ok = described["status"] == "SUCCEEDED" and home_again == len(setup.resources)
    return 0 if ok else 1


def _publish_global_lag(
    cloud: LocalCloud,
    cluster: str,
    region: str,
    *,
    source_region: str,
    seconds: float,
    at: datetime | None = None,
) -> None:
    """AuroraGlobalDBReplicationLag (milliseconds) of a global database member, in its region."""
    cloud.client("cloudwatch", region).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "AuroraGlobalDBReplicationLag",
                "Dimensions": [
                    {"Name": "DBClusterIdentifier", "Value": cluster},
                    {"Name": "SourceRegion", "Value": source_region},
                ],
                "Timestamp": at or datetime.now(UTC),
                "Value": seconds * 1000,
                "Unit": "Milliseconds",
            }
        ],
    )


def json_output(described: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(described.get("output") or "{}"))
