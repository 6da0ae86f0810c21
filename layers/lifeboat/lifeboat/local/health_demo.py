"""Local delivery of the triggers moto never sends, and the demo act of RPO monitoring.

moto stores CloudWatch alarms but never emits "Alarm State Change" events, and it does not run
Lambda event source mappings on DynamoDB streams. Local mode therefore builds the alarm event
EventBridge would deliver (from the alarm's definition in template.yaml) and reads the table's
stream itself, handing each batch to the notify function as Lambda would.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from rich.table import Table

from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.health import (
    HealthReport,
    HealthStatus,
    ReplicaStatus,
    ResourceHealth,
    format_minutes,
    format_seconds,
)
from lifeboat.domain.operations import OperationStatus
from lifeboat.local.fleet import DemoFleet, DemoInstance, create_instance, create_replica
from lifeboat.local.runtime import ACCOUNT_ID, LocalCloud

if TYPE_CHECKING:  # demo_acts imports this module to register the act
    from lifeboat.local.demo_acts import DemoContext

MONITOR = "RpoMonitorFunction"
TRIGGER = "AlarmTriggerFunction"
NOTIFY = "NotifyFunction"


def schedule_event(cloud: LocalCloud, at: datetime) -> dict[str, Any]:
    """The event the monitor's 15-minute schedule rule delivers."""
    return cloud.scheduled_event("lifeboat-rpo-monitor", at, str(uuid.uuid4()))


def run_monitor(cloud: LocalCloud, at: datetime | None = None) -> HealthReport:
    """Invoke the RPO monitor as its schedule rule would."""
    event = schedule_event(cloud, at or datetime.now(UTC))
    return HealthReport.model_validate(cloud.invoke_function(MONITOR, event))


def alarm_event(cloud: LocalCloud, logical_id: str, *, value: float, at: datetime) -> dict[str, Any]:
    """The "CloudWatch Alarm State Change" event of one of the template's alarms going to ALARM."""
    props = cloud.template.resources[logical_id]["Properties"]
    name = cloud._resolve(props["AlarmName"])
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    threshold = float(props["Threshold"])
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": ACCOUNT_ID,
        "time": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": cloud.region,
        "resources": [f"arn:aws:cloudwatch:{cloud.region}:{ACCOUNT_ID}:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {
                "value": "ALARM",
                "reason": f"Threshold Crossed: 1 out of the last 1 datapoints [{value}] was greater "
                f"than the threshold ({threshold}).",
                "timestamp": stamp,
            },
            "previousState": {"value": "OK", "reason": "Threshold Crossed", "timestamp": stamp},
            "configuration": {
                "description": props.get("AlarmDescription", ""),
                "metrics": [
                    {
                        "id": "m1",
                        "metricStat": {
                            "metric": {
                                "namespace": props["Namespace"],
                                "name": props["MetricName"],
                                "dimensions": {d["Name"]: d["Value"] for d in props.get("Dimensions", [])},
                            },
                            "period": props["Period"],
                            "stat": props["Statistic"],
                        },
                        "returnData": True,
                    }
                ],
            },
        },
    }


def put_replica_lag(cloud: LocalCloud, replica_arn: str, seconds: float, at: datetime) -> None:
    """The ``ReplicaLag`` datapoint RDS publishes every minute for a replica, in the replica's
    region. moto has no such metric: local mode (and the tests) put it themselves."""
    ref = ResourceRef.parse(replica_arn)
    cloud.client("cloudwatch", ref.region).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": ref.name}],
                "Timestamp": at,
                "Value": seconds,
                "Unit": "Seconds",
            }
        ],
    )


class TableStream:
    """Reads the state table's stream from now on and delivers batches as Lambda would."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        # moto's DynamoDB Streams answer only clients that do not put the account in the endpoint.
        self.client = boto3.client(
            "dynamodbstreams", region_name=cloud.region, config=Config(account_id_endpoint_mode="disabled")
        )
        table = cloud.client("dynamodb").describe_table(TableName=cloud.table_name)["Table"]
        self.arn = str(table["LatestStreamArn"])
        self._iterators: dict[str, str] = {}
        for shard in self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            self._iterators[shard["ShardId"]] = self.client.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]

    def read(self) -> list[dict[str, Any]]:
        """New records since the last read, shaped like a Lambda stream event's ``Records``."""
        records: list[dict[str, Any]] = []
        for shard, iterator in list(self._iterators.items()):
            found = self.client.get_records(ShardIterator=iterator)
            self._iterators[shard] = found["NextShardIterator"]
            for record in found["Records"]:
                change = dict(record["dynamodb"])
                created = change.get("ApproximateCreationDateTime")
                if isinstance(created, datetime):
                    change["ApproximateCreationDateTime"] = int(created.timestamp())
                records.append({**record, "dynamodb": change, "eventSourceARN": self.arn})
        return records

    def deliver(self) -> tuple[int, dict[str, Any]]:
        """Hand the new records to the notify function: (records delivered, its response)."""
        records = self.read()
        if not records:
            return 0, {"batchItemFailures": []}
        return len(records), self.cloud.invoke_function(NOTIFY, {"Records": records})


def health_table(report: HealthReport, title: str) -> Table:
    """Resource x region: RPO age against the target, green within, red over; then each read
    replica's lag against the 5-minute target; and the resource's restore drills."""
    table = Table(title=title)
    for column in (
        "resource",
        "policy",
        "target",
        "region",
        "newest valid point / replica",
        "age",
        "copy / replica lag",
        "status",
        "restore drills",
    ):
        table.add_column(column, overflow="fold")
    for health in report.resources:
        for i, region in enumerate(health.regions):
            colour = "green" if region.status is HealthStatus.OK else "red"
            table.add_row(
                health.name if i == 0 else "",
                health.policy if i == 0 else "",
                format_minutes(health.rpo_minutes) if i == 0 else "",
                f"{region.region} ({region.role})",
                region.recovery_point_id or "-",
                format_minutes(region.age_minutes) if region.age_minutes is not None else "never",
                format_minutes(region.copy_lag_minutes) if region.copy_lag_minutes is not None else "-",
                f"[{colour}]{region.status.value}[/]",
                _drills_cell(health) if i == 0 else "",
            )
        for replica in health.replicas:
            ok = replica.status is ReplicaStatus.OK
            status = f"[{'green' if ok else 'red'}]{replica.status.value}[/]"
            if replica.note:
                status += f"\n[dim]{replica.note}[/]"
            table.add_row(
                "",
                "",
                "",
                f"{replica.region} (replica)",
                replica.name,
                "-",
                format_seconds(replica.lag_seconds) if replica.lag_seconds is not None else "unknown",
                status,
                "",
            )
    return table


def _drills_cell(health: ResourceHealth) -> str:
    """'passed 12d 03h ago' (red when overdue by the policy), and a later failure in red."""
    drill = health.drill
    colour = "red" if drill.overdue else "green"
    if drill.minutes_since_success is None:
        text = f"[{'red' if drill.overdue else 'dim'}]none passed in {drill.lookback_days}d[/]"
    else:
        text = f"[{colour}]passed {format_minutes(drill.minutes_since_success)} ago[/]"
    if drill.last_status is OperationStatus.FAILED and drill.last_at is not None:
        ago = format_minutes((health.checked_at - drill.last_at).total_seconds() / 60)
        text += f"\n[red]last drill FAILED {ago} ago[/]"
    return text


NEW_DATABASE = DemoInstance("analytics-db", "prod", encrypted=True, storage_gib=20)
# A cross-region read replica of orders-db (continuous replication), and the lag local mode
# publishes for it as RDS's ReplicaLag (moto has no such metric).
DEMO_REPLICA = ("orders-db-dr", "us-west-2")
EMULATED_REPLICA_LAG_SECONDS = 2.0


def add_demo_replica(cloud: LocalCloud, fleet: DemoFleet) -> str:
    """Create the demo replica in moto and put the ReplicaLag datapoint RDS would publish."""
    name, region = DEMO_REPLICA
    arn = create_replica(cloud, fleet.instances["orders-db"], name, region, fleet.keys[region])
    put_replica_lag(cloud, arn, EMULATED_REPLICA_LAG_SECONDS, datetime.now(UTC))
    return arn


def rpo_breach_act(context: DemoContext) -> int:
    """A prod database with no recovery point -> RPO alarm -> on-demand backup -> back within target."""
    cloud, console = context.cloud, context.console
    console.rule("[bold]Act: RPO monitoring, alarm trigger, notifications")
    stream = TableStream(cloud)
    replica = add_demo_replica(cloud, context.fleet)
    console.print(
        f"Created [bold]{ResourceRef.parse(replica).name}[/], a read replica of orders-db in "
        f"{DEMO_REPLICA[1]}. [dim]moto has no ReplicaLag metric: local mode publishes "
        f"{EMULATED_REPLICA_LAG_SECONDS:g} s for it, as RDS would every minute.[/]"
    )
    arn = create_instance(cloud, NEW_DATABASE, context.fleet.source_key)
    context.fleet.instances[NEW_DATABASE.name] = arn
    console.print(
        f"Created [bold]{NEW_DATABASE.name}[/] (tagged prod) after the daily run: it has no recovery "
        "point yet, so its RPO is breached in every region. Nothing else is simulated."
    )
    before = run_monitor(cloud)
    console.print(health_table(before, "Health check (rpo_monitor) before"))
    breached = [h.name for h in before.breaches]
    delivered, _ = stream.deliver()
    console.print(f"Stream: {delivered} record(s) -> notify; published:")
    _print_notifications(context)

    console.print(
        "[dim]moto never sends alarm events: delivering the 'CloudWatch Alarm State Change' event "
        "EventBridge would send for RpoBreachProdAlarm (3 times, as a redelivered event would be).[/]"
    )
    now = datetime.now(UTC)
    outcomes = [
        cloud.invoke_function(TRIGGER, alarm_event(cloud, "RpoBreachProdAlarm", value=len(breached), at=now))
        for _ in range(3)
    ]
    backups = [b for o in outcomes for b in o["backups"]]
    started = [b for b in backups if not b["duplicate"]]
    console.print(
        f"alarm_trigger: {outcomes[0]['reason']}; deliveries 2 and 3: "
        f"{sum(b['duplicate'] for b in backups)} duplicate(s) suppressed"
    )
    for backup in started:
        described = cloud.wait(backup["executionArn"])
        console.print(
            f"  on-demand backup {backup['executionArn'].rsplit(':', 1)[-1]}: {described['status']}"
        )

    after = run_monitor(cloud)
    console.print(health_table(after, "Health check (rpo_monitor) after the on-demand backup"))
    delivered, _ = stream.deliver()
    console.print(f"Stream: {delivered} record(s) -> notify; published:")
    _print_notifications(context)
    recovered = NEW_DATABASE.name in breached and all(h.name != NEW_DATABASE.name for h in after.breaches)
    ok = recovered and len(started) == 1
    verdict = "[green]RPO back within target[/]" if ok else "[red]RPO still breached[/]"
    console.print(f"{NEW_DATABASE.name}: {verdict}; {len(started)} on-demand backup for 3 alarm deliveries")
    return 0 if ok else 1


def _print_notifications(context: DemoContext) -> None:
    messages = context.cloud.notifications()
    for message in messages:
        context.console.print(f"  [bold]{message.get('Subject')}[/]")
        for line in str(message.get("Message", "")).splitlines():
            context.console.print(f"    {line}", highlight=False)
    if not messages:
        context.console.print("  (none)")
