"""The AWS side of failover experiments: read what a fault changes, inject it, undo it, and read
the stop alarms. Each call names one resource of the experiment; nothing else is touched."""

from __future__ import annotations

from typing import Any

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import translated
from lifeboat.aws.tags import tag_dict
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.experiments import OPT_IN_TAG, OPT_IN_VALUE, FaultKind, TargetState
from lifeboat.errors import InvalidInput, ResourceNotFound, ResourceNotReady

_ERRORS = {
    "DBInstanceNotFound": ResourceNotFound,
    "DBInstanceNotFoundFault": ResourceNotFound,
    "DBClusterNotFoundFault": ResourceNotFound,
    "InvalidDBInstanceState": ResourceNotReady,
    "InvalidDBInstanceStateFault": ResourceNotReady,
    "InvalidDBClusterStateFault": ResourceNotReady,
    "InvalidParameterCombination": InvalidInput,
    "InvalidParameterValue": InvalidInput,
}


def target_state(clients: ClientProvider, kind: FaultKind, arn: str) -> TargetState:
    """Where the instance runs and who writes, as RDS says now."""
    ref = ResourceRef.parse(arn)
    rds = clients("rds", ref.region)
    with translated(_ERRORS, f"describing {arn}"):
        if kind.arn_kind == "db":
            instance = rds.describe_db_instances(DBInstanceIdentifier=ref.name)["DBInstances"][0]
            return TargetState(
                status=instance["DBInstanceStatus"],
                availability_zone=instance.get("AvailabilityZone"),
                secondary_availability_zone=instance.get("SecondaryAvailabilityZone"),
                multi_az=bool(instance.get("MultiAZ")),
                endpoint=(instance.get("Endpoint") or {}).get("Address"),
                opted_in=_opted_in(instance),
                replicas=[
                    r if r.startswith("arn:") else f"{arn.rsplit(':', 1)[0]}:{r}"
                    for r in instance.get("ReadReplicaDBInstanceIdentifiers", [])
                ],
            )
        cluster = rds.describe_db_clusters(DBClusterIdentifier=ref.name)["DBClusters"][0]
    members = cluster.get("DBClusterMembers") or []
    return TargetState(
        status=cluster["Status"],
        writer=next((m["DBInstanceIdentifier"] for m in members if m.get("IsClusterWriter")), None),
        readers=sorted(m["DBInstanceIdentifier"] for m in members if not m.get("IsClusterWriter")),
        endpoint=cluster.get("Endpoint"),
        opted_in=_opted_in(cluster),
    )


def _opted_in(described: dict[str, Any]) -> bool:
    return tag_dict(described.get("TagList")).get(OPT_IN_TAG) == OPT_IN_VALUE


def inject(clients: ClientProvider, kind: FaultKind, arn: str, before: TargetState) -> str:
    """The fault itself; what was asked, for the record."""
    ref = ResourceRef.parse(arn)
    rds = clients("rds", ref.region)
    with translated(_ERRORS, f"injecting {kind.value} into {arn}"):
        if kind is FaultKind.RDS_REBOOT_FAILOVER:
            rds.reboot_db_instance(DBInstanceIdentifier=ref.name, ForceFailover=True)
            return f"RebootDBInstance ForceFailover=true ({before.availability_zone} primary)"
        target = before.readers[0]
        rds.failover_db_cluster(DBClusterIdentifier=ref.name, TargetDBInstanceIdentifier=target)
        return f"FailoverDBCluster to {target} (writer was {before.writer})"


def fail_back(clients: ClientProvider, arn: str, writer: str) -> None:
    """Aurora: the writer back to the instance that wrote before the experiment."""
    ref = ResourceRef.parse(arn)
    with translated(_ERRORS, f"failing {arn} back to {writer}"):
        clients("rds", ref.region).failover_db_cluster(
            DBClusterIdentifier=ref.name, TargetDBInstanceIdentifier=writer
        )


def alarm_states(clients: ClientProvider, region: str, names: list[str]) -> dict[str, str]:
    """Name -> state (OK, ALARM, INSUFFICIENT_DATA) of the stop alarms; a missing one is absent."""
    if not names:
        return {}
    with translated({}, f"reading the stop alarms in {region}"):
        found: dict[str, Any] = clients("cloudwatch", region).describe_alarms(AlarmNames=names)
    return {
        a["AlarmName"]: a["StateValue"]
        for a in found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
    }
