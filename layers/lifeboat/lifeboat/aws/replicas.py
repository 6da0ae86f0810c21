"""RDS read replicas in a failover's target region: find them, promote them, see them stand alone.

Promotion is allowed only for a replica tagged ``lifeboat:failover-plan=<plan>``: the operator's
tag says which replica may become the primary, and the IAM policy of the promote step holds
Lifeboat to tagged instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import error_code, translated
from lifeboat.aws.tags import tag_dict
from lifeboat.errors import ResourceNotFound, ResourceNotReady

FAILOVER_PLAN_TAG = "lifeboat:failover-plan"
# Set on a replica when Lifeboat promotes it: a retried or re-run failover recognises its own.
PROMOTED_BY_TAG = "lifeboat:promoted-by"
_NOT_FOUND = {"DBInstanceNotFound": ResourceNotFound, "DBInstanceNotFoundFault": ResourceNotFound}


@dataclass(frozen=True)
class Replica:
    arn: str
    identifier: str
    status: str
    source_arn: str | None
    encrypted: bool
    tags: dict[str, str]
    endpoint: str | None
    port: int | None
    kms_key_id: str | None = None


def _replica(described: dict[str, Any]) -> Replica:
    endpoint = described.get("Endpoint") or {}
    return Replica(
        arn=described["DBInstanceArn"],
        identifier=described["DBInstanceIdentifier"],
        status=described.get("DBInstanceStatus", "unknown"),
        source_arn=described.get("ReadReplicaSourceDBInstanceIdentifier"),
        encrypted=bool(described.get("StorageEncrypted")),
        tags=tag_dict(described.get("TagList")),
        endpoint=endpoint.get("Address"),
        port=endpoint.get("Port"),
        kms_key_id=described.get("KmsKeyId"),
    )


def replicas_in(clients: ClientProvider, region: str, sources: set[str]) -> dict[str, Replica]:
    """The replica of each source ARN in ``region`` (one listing of the region's instances), plus
    instances a failover of that source already promoted (they are no longer replicas)."""
    found: dict[str, Replica] = {}
    with translated({}, f"listing DB instances in {region}"):
        pages = clients("rds", region).get_paginator("describe_db_instances").paginate()
        for page in pages:
            for described in page["DBInstances"]:
                replica = _replica(described)
                source = replica.source_arn or replica.tags.get(PROMOTED_BY_TAG, "").split("|")[0]
                if source in sources and source not in found:
                    found[source] = replica
    return found


def describe(clients: ClientProvider, region: str, identifier: str) -> Replica:
    with translated(_NOT_FOUND, f"DB instance {identifier} in {region}"):
        described = clients("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)
    return _replica(described["DBInstances"][0])


def promote(clients: ClientProvider, replica: Replica, source_arn: str, operation_id: str) -> None:
    """Tag the replica as this failover's, then promote it; a replica this operation already
    promoted is left as it is (a retried step)."""
    rds = clients("rds", replica.arn.split(":")[3])
    mark = f"{source_arn}|{operation_id}"
    if replica.tags.get(PROMOTED_BY_TAG) == mark and replica.source_arn is None:
        return
    with translated(_NOT_FOUND, f"tagging replica {replica.arn}"):
        rds.add_tags_to_resource(ResourceName=replica.arn, Tags=[{"Key": PROMOTED_BY_TAG, "Value": mark}])
    if replica.source_arn is None:
        return
    # Promoting: the instance is "modifying" a while; a second request is refused while it is.
    with translated({"InvalidDBInstanceState": ResourceNotReady, **_NOT_FOUND}, f"promoting {replica.arn}"):
        rds.promote_read_replica(DBInstanceIdentifier=replica.identifier)


def rename(clients: ClientProvider, region: str, name: str, new_name: str) -> None:
    """Give an instance a new identifier (its data, endpoint name aside, unchanged)."""
    with translated(
        {"InvalidDBInstanceState": ResourceNotReady, **_NOT_FOUND}, f"renaming {name} in {region}"
    ):
        clients("rds", region).modify_db_instance(
            DBInstanceIdentifier=name, NewDBInstanceIdentifier=new_name, ApplyImmediately=True
        )


def create_cross_region_replica(
    clients: ClientProvider,
    *,
    name: str,
    region: str,
    source_arn: str,
    kms_key_id: str | None,
    tags: dict[str, str],
) -> None:
    """A read replica in ``region`` of an instance in another region ("already exists" is
    success: a retried step)."""
    request: dict[str, Any] = {
        "DBInstanceIdentifier": name,
        "SourceDBInstanceIdentifier": source_arn,
        "SourceRegion": source_arn.split(":")[3],
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }
    if kms_key_id:
        request["KmsKeyId"] = kms_key_id
    try:
        with translated(_NOT_FOUND, f"creating replica {name} in {region} of {source_arn}"):
            clients("rds", region).create_db_instance_read_replica(**request)
    except ClientError as exc:
        if error_code(exc) not in ("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"):
            raise
