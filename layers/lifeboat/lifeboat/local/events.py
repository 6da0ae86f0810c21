"""Local delivery of the triggers moto never sends.

moto stores CloudWatch alarms but never emits "Alarm State Change" events, and it does not run
Lambda event source mappings on DynamoDB streams. Local mode therefore builds the alarm event
EventBridge would deliver (from the alarm's definition in template.yaml) and reads the table's
stream itself, handing each batch to the notify function as Lambda would, through the mapping's
filters (local/stream_filters.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.health import HealthReport
from lifeboat.local.eventbridge import envelope
from lifeboat.local.runtime import ACCOUNT_ID, LocalCloud
from lifeboat.local.stream_filters import matches, stream_filters

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
    return envelope(
        "CloudWatch Alarm State Change",
        "aws.cloudwatch",
        account=ACCOUNT_ID,
        region=cloud.region,
        resources=[f"arn:aws:cloudwatch:{cloud.region}:{ACCOUNT_ID}:alarm:{name}"],
        at=at,
        detail={
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
    )


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
        self._patterns = stream_filters(cloud.template.resources[NOTIFY])
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
        """Hand the new records that pass the notify function's stream filters to it, as Lambda's
        event source mapping does: (records delivered, its response). No record, no invocation."""
        patterns = self._patterns
        records = [r for r in self.read() if not patterns or any(matches(p, r) for p in patterns)]
        if not records:
            return 0, {"batchItemFailures": []}
        return len(records), self.cloud.invoke_function(NOTIFY, {"Records": records})
