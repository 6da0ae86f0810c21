"""Read-replica lag from CloudWatch (``AWS/RDS`` ``ReplicaLag``, in each replica's region).

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
# RDS publishes ReplicaLag at one-minute resolution.
PERIOD_SECONDS = 60


@dataclass
class LagLookup:
    readings: dict[str, LagReading] = field(default_factory=dict)  # replica ARN -> newest datapoint
    unavailable: dict[str, str] = field(default_factory=dict)  # region -> why it could not be read


def newest_replica_lags(clients: ClientProvider, replica_arns: Iterable[str], now: datetime) -> LagLookup:
    """The newest ReplicaLag datapoint of each replica within the last few minutes."""
    by_region: dict[str, list[ResourceRef]] = defaultdict(list)
    for arn in replica_arns:
        ref = ResourceRef.parse(arn)
        by_region[ref.region].append(ref)
    # Whole minutes, as CloudWatch rounds them anyway; the end covers the current minute.
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(minutes=REPLICA_LAG_WINDOW_MINUTES + 1)
    lookup = LagLookup()
    for region, refs in sorted(by_region.items()):
        try:
            for first in range(0, len(refs), MAX_QUERIES_PER_CALL):
                chunk = refs[first : first + MAX_QUERIES_PER_CALL]
                lookup.readings |= _read(clients("cloudwatch", region), chunk, start, end, region)
        except TransientAwsError as exc:
            lookup.unavailable[region] = f"CloudWatch in {region} did not answer: {exc}"
    return lookup


def _read(
    cloudwatch: Any, refs: list[ResourceRef], start: datetime, end: datetime, region: str
) -> dict[str, LagReading]:
    """One GetMetricData request (all its pages) for up to 500 replicas of one region."""
    request: dict[str, Any] = {
        "MetricDataQueries": [
            {
                "Id": f"r{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/RDS",
                        "MetricName": "ReplicaLag",
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": ref.name}],
                    },
                    "Period": PERIOD_SECONDS,
                    "Stat": "Maximum",
                },
                "ReturnData": True,
            }
            for i, ref in enumerate(refs)
        ],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampDescending",
    }
    newest: dict[str, LagReading] = {}
    while True:
        with translated({}, f"reading ReplicaLag of {len(refs)} replica(s) in {region}"):
            page = cloudwatch.get_metric_data(**request)
        # A long answer is paged by datapoints, so one replica's series may span pages.
        for result in page["MetricDataResults"]:
            arn = refs[int(result["Id"][1:])].arn
            for at, value in zip(result["Timestamps"], result["Values"], strict=True):
                if arn not in newest or at > newest[arn].at:
                    newest[arn] = LagReading(seconds=value, at=at)
        if not page.get("NextToken"):
            return newest
        request["NextToken"] = page["NextToken"]
