"""The demo's regional failover: orders-db by promoting its read replica in us-west-2,
payments-db (no replica) by restoring its newest copy there, the DNS names moved with them.

What moto makes instant: a promotion (AWS: minutes of ``modifying``/``rebooting``), a restore
(AWS: minutes to hours by size) and Route 53's ``INSYNC`` (AWS: about a minute). The RTO shown is
the orchestration's: every step, call and state-table write, with those waits at zero.
"""

from __future__ import annotations

import json
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
RESOURCES = ("orders-db", "payments-db")
REPLICA_NAME = "orders-db-dr"
DEMO_LAG_SECONDS = 2.0


@dataclass
class FailoverSetup:
    zone_id: str
    replica_arn: str

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
    """orders-db's replica in us-west-2 (made if the account has none) tagged for the plan, a
    hosted zone whose CNAMEs name the primaries, and the plan in the config."""
    west = cloud.client("rds", TARGET_REGION)
    existing = west.describe_db_instances()["DBInstances"]
    replica = next((i["DBInstanceArn"] for i in existing if i["DBInstanceIdentifier"] == REPLICA_NAME), None)
    if replica is None:
        replica = create_replica(
            cloud, fleet.instances["orders-db"], REPLICA_NAME, TARGET_REGION, fleet.keys[TARGET_REGION]
        )
    west.add_tags_to_resource(ResourceName=replica, Tags=[{"Key": FAILOVER_PLAN_TAG, "Value": PLAN}])
    route53 = cloud.client("route53")
    zone_id = route53.create_hosted_zone(Name=ZONE_NAME, CallerReference="lifeboat-demo")["HostedZone"]["Id"]
    zone_id = zone_id.rsplit("/", 1)[-1]
    rds = cloud.client("rds")
    changes = [
        _cname(n, rds.describe_db_instances(DBInstanceIdentifier=n)["DBInstances"][0]["Endpoint"]["Address"])
        for n in RESOURCES
    ]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    fleet.config["failoverPlans"] = {
        PLAN: {
            "resources": [fleet.instances[n] for n in RESOURCES],
            "dnsRecords": [
                {"hostedZoneId": zone_id, "name": f"{n}.{ZONE_NAME}", "resourceArn": fleet.instances[n]}
                for n in RESOURCES
            ],
            "maxReplicaLagSeconds": 60,
        }
    }
    cloud.put_config(fleet.config)
    if lag_seconds is not None:
        put_replica_lag(cloud, replica, lag_seconds, datetime.now(UTC))
    return FailoverSetup(zone_id=zone_id, replica_arn=replica)


def failover_act(context: DemoContext) -> int:
    """A dry run (the readiness verdict, nothing changed), then the failover itself."""
    cloud, console = context.cloud, context.console
    console.rule(f"[bold]Act: regional failover of {' and '.join(RESOURCES)} to {TARGET_REGION}")
    setup = prepare_failover(cloud, context.fleet)
    before = {n: setup.record(cloud, n) for n in RESOURCES}
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
    moved = sum(1 for n in RESOURCES if setup.record(cloud, n) != before[n])
    console.print(f"DNS records moved off the old primaries: {moved} of {len(RESOURCES)}")
    console.print(
        "[dim]moto makes promotion, restore and Route 53 INSYNC instant: the RTO above is the "
        f"orchestration's alone. Replica {ResourceRef.parse(setup.replica_arn).name}'s lag is the "
        f"{DEMO_LAG_SECONDS:g} s local mode publishes (moto has no ReplicaLag).[/]"
    )
    succeeded = described["status"] == "SUCCEEDED" and outcome.get("status") == "SUCCEEDED"
    return 0 if succeeded and moved == len(RESOURCES) else 1


def json_output(described: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(described.get("output") or "{}"))
