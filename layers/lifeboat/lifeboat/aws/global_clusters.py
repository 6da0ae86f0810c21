"""Aurora Global Database for a failover: the secondary of a cluster in the target region, its
replication lag, and moving the writer there (switchover when planned, failover with data loss
when the primary region is gone).

Every call goes to the target region: ``DescribeGlobalClusters`` answers from any region holding
a member, and the source region may be the one that is down.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import translated
from lifeboat.aws.tags import tag_dict
from lifeboat.domain.arn import ResourceRef
from lifeboat.errors import ResourceNotFound, ResourceNotReady

_ERRORS = {
    "GlobalClusterNotFoundFault": ResourceNotFound,
    "DBClusterNotFoundFault": ResourceNotFound,
    "InvalidGlobalClusterStateFault": ResourceNotReady,
    "InvalidDBClusterStateFault": ResourceNotReady,
}


@dataclass(frozen=True)
class Secondary:
    global_cluster_id: str
    cluster_arn: str
    is_writer: bool
    status: str
    tags: dict[str, str]
    endpoint: str | None
    port: int | None
    # Where the global database writes now: the source of this member's replication lag.
    writer_region: str | None = None


def secondary_in(clients: ClientProvider, region: str, resource_arn: str) -> Secondary | None:
    """The member in ``region`` of the global database ``resource_arn`` belongs to, if any: its
    secondary there for a failover, or, for a failback to the resource's own region, the resource
    itself once another member writes. Also found after a switchover made it the writer (a re-run
    recognises its own); the resource writing in its own region has nothing to fail over to."""
    rds = clients("rds", region)
    with translated(_ERRORS, f"global clusters seen from {region}"):
        pages = rds.get_paginator("describe_global_clusters").paginate()
        found = [g for page in pages for g in page["GlobalClusters"]]
    for global_cluster in found:
        members = global_cluster.get("GlobalClusterMembers", [])
        if resource_arn not in [m["DBClusterArn"] for m in members]:
            continue
        here = next((m for m in members if f":{region}:" in m["DBClusterArn"]), None)
        writer = next((m["DBClusterArn"] for m in members if m.get("IsWriter")), None)
        if here is None or (here["DBClusterArn"] == resource_arn and here.get("IsWriter")):
            return None
        found_here = describe(
            clients, global_cluster["GlobalClusterIdentifier"], here["DBClusterArn"], here["IsWriter"]
        )
        return replace(found_here, writer_region=ResourceRef.parse(writer).region if writer else None)
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


def secondaries_of(clients: ClientProvider, region: str, cluster_arns: set[str]) -> dict[str, list[str]]:
    """For each cluster that writes a global database, its secondaries' ARNs (one paginated
    ``DescribeGlobalClusters``, whatever the fleet)."""
    with translated(_ERRORS, f"global clusters seen from {region}"):
        pages = clients("rds", region).get_paginator("describe_global_clusters").paginate()
        found = [g for page in pages for g in page["GlobalClusters"]]
    secondaries: dict[str, list[str]] = {}
    for global_cluster in found:
        members = global_cluster.get("GlobalClusterMembers", [])
        writer = next((m["DBClusterArn"] for m in members if m.get("IsWriter")), None)
        if writer in cluster_arns:
            secondaries[writer] = [m["DBClusterArn"] for m in members if m["DBClusterArn"] != writer]
    return secondaries
