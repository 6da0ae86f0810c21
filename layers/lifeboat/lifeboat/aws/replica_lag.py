"""Replication lag from CloudWatch: ``ReplicaLag`` of RDS read replicas and
``AuroraGlobalDBReplicationLag`` of Aurora Global Database secondaries (in the replica's
region), ``ReplicationLatency`` of DynamoDB global table replicas (in the sending region).

Batched: one ``GetMetricData`` call per replica region answers up to 500 replicas (the API's
query limit), whatever the fleet size; never a call per replica. A region whose CloudWatch does
not answer (throttled, unreachable: the very day a region is down) leaves its replicas' lag
unknown instead of failing the whole health check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import translated
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.health import REPLICA_LAG_WINDOW_MINUTES, LagReading
from lifeboat.errors import TransientAwsError

MAX_QUERIES_PER_CALL = 500
GLOBAL_LAG_METRIC = "AuroraGlobalDBReplicationLag"
# RDS publishes ReplicaLag at one-minute resolution.
PERIOD_SECONDS = 60


@dataclass
class LagLookup:
    readings: dict[str, LagReading] = field(default_factory=dict)  # replica ARN -> newest datapoint
    unavailable: dict[str, str] = field(default_factory=dict)  # region -> why it could not be read


@dataclass(frozen=True)
class _Series:
    """One lag series to read: whose it is, the metric, its dimensions, and seconds per unit."""

    arn: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    scale: float = 1.0
    namespace: str = "AWS/RDS"
    published_in: str | None = None  # where CloudWatch has it, when not the replica's region

    @property
    def region(self) -> str:
        return self.published_in or ResourceRef.parse(self.arn).region


def newest_replica_lags(clients: ClientProvider, replica_arns: Iterable[str], now: datetime) -> LagLookup:
    """The newest ReplicaLag datapoint of each read replica within the last few minutes."""
    series = [
        _Series(arn, "ReplicaLag", (("DBInstanceIdentifier", ResourceRef.parse(arn).name),))
        for arn in replica_arns
    ]
    return _newest(clients, series, now)


def newest_global_lags(clients: ClientProvider, secondaries: dict[str, str], now: datetime) -> LagLookup:
    """The newest AuroraGlobalDBReplicationLag (published in milliseconds) of each Aurora Global
    Database secondary, by secondary ARN -> its primary's region."""
    series = [
        _Series(
            arn,
            GLOBAL_LAG_METRIC,
            (("DBClusterIdentifier", ResourceRef.parse(arn).name), ("SourceRegion", source_region)),
            scale=0.001,
        )
        for arn, source_region in secondaries.items()
    ]
    return _newest(clients, series, now)


def newest_table_replica_lags(clients: ClientProvider, replicas: dict[str, str], now: datetime) -> LagLookup:
    """The newest ReplicationLatency (milliseconds) of each DynamoDB global table replica, by
    replica table ARN -> the region that sends to it (where the metric is published)."""
    series = [
        _Series(
            arn,
            "ReplicationLatency",
            (("TableName", ResourceRef.parse(arn).name), ("ReceivingRegion", ResourceRef.parse(arn).region)),
            scale=0.001,
            namespace="AWS/DynamoDB",
            published_in=source_region,
        )
        for arn, source_region in replicas.items()
    ]
    return _newest(clients, series, now)


def _newest(clients: ClientProvider, series: list[_Series], now: datetime) -> LagLookup:
    by_region: dict[str, list[_Series]] = defaultdict(list)
    for one in series:
        by_region[one.region].append(one)
    # Whole minutes, as CloudWatch rounds them anyway; the end covers the current minute.
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(minutes=REPLICA_LAG_WINDOW_MINUTES + 1)
    lookup = LagLookup()
    for region, members in sorted(by_region.items()):
        try:
            for first in range(0, len(members), MAX_QUERIES_PER_CALL):
                chunk = members[first : first + MAX_QUERIES_PER_CALL]
                lookup.readings |= _read(clients("cloudwatch", region), chunk, start, end, region)
        except TransientAwsError as exc:
            lookup.unavailable[region] = f"CloudWatch in {region} did not answer: {exc}"
    return lookup


def _read(
    cloudwatch: Any, series: list[_Series], start: datetime, end: datetime, region: str
) -> dict[str, LagReading]:
    """One GetMetricData request (all its pages) for up to 500 series of one region."""
    request: dict[str, Any] = {
        "MetricDataQueries": [
            {
                "Id": f"r{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": one.namespace,
                        "MetricName": one.metric,
                        "Dimensions": [{"Name": name, "Value": value} for name, value in one.dimensions],
                    },
                    "Period": PERIOD_SECONDS,
                    "Stat": "Maximum",
                },
                "ReturnData": True,
            }
            for i, one in enumerate(series)
        ],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampDescending",
    }
    newest: dict[str, LagReading] = {}
    while True:
        with translated({}, f"reading the lag of {len(series)} replica(s) in {region}"):
            page = cloudwatch.get_metric_data(**request)
        # A long answer is paged by datapoints, so one replica's series may span pages.
        for result in page["MetricDataResults"]:
            one = series[int(result["Id"][1:])]
            for at, value in zip(result["Timestamps"], result["Values"], strict=True):
                if one.arn not in newest or at > newest[one.arn].at:
                    newest[one.arn] = LagReading(seconds=value * one.scale, at=at)
        if not page.get("NextToken"):
            return newest
        request["NextToken"] = page["NextToken"]
