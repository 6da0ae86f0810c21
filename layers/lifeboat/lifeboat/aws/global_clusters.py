"""Aurora Global Database for a failover: the secondary of a cluster in the target region, its
replication lag, and moving the writer there (switchover when planned, failover with data loss
when the primary region is gone).

Every call goes to the target region: ``DescribeGlobalClusters`` answers from any region holding
a member, and the source region may be the one that is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import translated
from lifeboat.aws.tags import tag_dict
from lifeboat.domain.arn import ResourceRef
from lifeboat.errors import ResourceNotFound, ResourceNotReady, TransientAwsError

_ERRORS = {
    "GlobalClusterNotFoundFault": ResourceNotFound,
    "DBClusterNotFoundFault": ResourceNotFound,
    "InvalidGlobalClusterStateFault": ResourceNotReady,
    "InvalidDBClusterStateFault": ResourceNotReady,
}
# AuroraGlobalDBReplicationLag is published in milliseconds, per secondary and source region.
_LAG_METRIC = "AuroraGlobalDBReplicationLag"


@dataclass(frozen=True)
class Secondary:
    global_cluster_id: str
    cluster_arn: str
    is_writer: bool
    status: str
    tags: dict[str, str]
    endpoint: str | None
    port: int | None


def secondary_in(clients: ClientProvider, region: str, source_arn: str) -> Secondary | None:
    """The member in ``region`` of the global cluster ``source_arn`` belongs to, if any; also
    found after a switchover made it the writer (a re-run failover recognises its own)."""
    rds = clients("rds", region)
    with translated(_ERRORS, f"global clusters seen from {region}"):
        pages = rds.get_paginator("describe_global_clusters").paginate()
        found = [g for page in pages for g in page["GlobalClusters"]]
    for global_cluster in found:
        members = [m["DBClusterArn"] for m in global_cluster.get("GlobalClusterMembers", [])]
        if source_arn not in members:
            continue
        here = next(
            (m for m in global_cluster["GlobalClusterMembers"] if f":{region}:" in m["DBClusterArn"]), None
        )
        if here is None or here["DBClusterArn"] == source_arn:
            return None
        return describe(
            clients, global_cluster["GlobalClusterIdentifier"], here["DBClusterArn"], here["IsWriter"]
        )
    return None


def describe(clients: ClientProvider, global_id: str, cluster_arn: str, is_writer: bool) -> Secondary:
    ref = ResourceRef.parse(cluster_arn)
    with translated(_ERRORS, f"DB cluster {cluster_arn}"):
        cluster = clients("rds", ref.region).describe_db_clusters(DBClusterIdentifier=ref.name)["DBClusters"][
            0
        ]
    return Secondary(
        global_cluster_id=global_id,
        cluster_arn=cluster_arn,
        is_writer=is_writer,
        status=cluster.get("Status", "unknown"),
        tags=tag_dict(cluster.get("TagList")),
        endpoint=cluster.get("Endpoint"),
        port=cluster.get("Port"),
    )


def writer_is(clients: ClientProvider, region: str, global_id: str, cluster_arn: str) -> bool:
    with translated(_ERRORS, f"global cluster {global_id}"):
        found = clients("rds", region).describe_global_clusters(GlobalClusterIdentifier=global_id)
    members = found["GlobalClusters"][0].get("GlobalClusterMembers", [])
    return any(m["DBClusterArn"] == cluster_arn and m.get("IsWriter") for m in members)


def move_writer(clients: ClientProvider, secondary: Secondary, *, allow_data_loss: bool) -> None:
    """Switchover (the secondary catches up first: no data lost) or, when the primary region is
    gone, failover with ``AllowDataLoss``. A secondary that is the writer already is left alone."""
    if secondary.is_writer:
        return
    region = ResourceRef.parse(secondary.cluster_arn).region
    rds = clients("rds", region)
    what = f"moving the writer of {secondary.global_cluster_id} to {secondary.cluster_arn}"
    with translated(_ERRORS, what):
        if allow_data_loss:
            rds.failover_global_cluster(
                GlobalClusterIdentifier=secondary.global_cluster_id,
                TargetDbClusterIdentifier=secondary.cluster_arn,
                AllowDataLoss=True,
            )
        else:
            rds.switchover_global_cluster(
                GlobalClusterIdentifier=secondary.global_cluster_id,
                TargetDbClusterIdentifier=secondary.cluster_arn,
            )


def replication_lag_seconds(
    clients: ClientProvider, secondary_arn: str, source_region: str, now: datetime
) -> tuple[float | None, str | None]:
    """The newest AuroraGlobalDBReplicationLag of the secondary (seconds), or why it is unknown."""
    ref = ResourceRef.parse(secondary_arn)
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    query = {
        "Id": "lag",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/RDS",
                "MetricName": _LAG_METRIC,
                "Dimensions": [
                    {"Name": "DBClusterIdentifier", "Value": ref.name},
                    {"Name": "SourceRegion", "Value": source_region},
                ],
            },
            "Period": 60,
            "Stat": "Maximum",
        },
    }
    try:
        with translated({}, f"{_LAG_METRIC} of {secondary_arn}"):
            answer = clients("cloudwatch", ref.region).get_metric_data(
                MetricDataQueries=[query],
                StartTime=end - timedelta(minutes=6),
                EndTime=end,
                ScanBy="TimestampDescending",
            )
    except TransientAwsError as exc:
        return None, f"CloudWatch in {ref.region} did not answer: {exc}"
    values = answer["MetricDataResults"][0].get("Values", []) if answer["MetricDataResults"] else []
    if not values:
        return None, f"no {_LAG_METRIC} datapoint in the last minutes"
    return float(values[0]) / 1000, None
