"""Aurora (and Multi-AZ) DB clusters: manual cluster snapshots, copied with ``CopyDBClusterSnapshot``.

AWS allows only 5 concurrent cross-region cluster snapshot copies per destination region
(20 for DB instance snapshots). A copy beyond the limit fails with ``SnapshotQuotaExceeded``;
the workflow's ``CopyToRegion`` retries that error with jittered back-off for about 3 hours,
so a large fleet copies in waves instead of failing.

A restore creates a *new* Aurora cluster (``RestoreDBClusterFromSnapshot`` from a recovery point
in its region, or ``RestoreDBClusterToPointInTime`` of the source) and then its writer, one DB
instance ``<cluster>-1`` (``CreateDBInstance``): Aurora restores a cluster without instances, and
a cluster without an instance cannot be reached. The instance class is the one asked for (the
request, or the drill policy's ``instanceClass``), else the source's writer's, else
``DEFAULT_INSTANCE_CLASS`` (the source is gone or has no instance). The restored cluster is ready
when it and its instances are available; teardown deletes the instances, then the cluster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError

from lifeboat.aws.errors import error_code, translated
from lifeboat.aws.tags import tag_dict, tag_list
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.recovery import RESOURCE_TAG, SourceSpec
from lifeboat.domain.restore import RESTORE_OPERATION_TAG, RestoredFacts, RestoreSpec, owned_by
from lifeboat.errors import (
    InvalidInput,
    KmsKeyNotUsable,
    RecoveryPointNotFound,
    ResourceNotFound,
    ResourceNotReady,
    SnapshotQuotaExceeded,
    TargetExists,
    UnsupportedOperation,
)
from lifeboat.plugins.base import (
    Discovered,
    PluginOperation,
    RecoveryPointExists,
    RestoreTargetExists,
    RestoreWindow,
)
from lifeboat.plugins.rds.permissions import CLUSTER_IAM_ACTIONS
from lifeboat.plugins.rds.snapshots import DB_CLUSTER_SNAPSHOT, RdsSnapshotPlugin

if TYPE_CHECKING:
    from lifeboat.domain.policy import ContinuousProtection, DrTarget

_CLUSTER_ERRORS = {
    "DBClusterNotFoundFault": ResourceNotFound,
    "DBClusterSnapshotNotFoundFault": RecoveryPointNotFound,
    "InvalidDBClusterStateFault": ResourceNotReady,
    "InvalidDBClusterSnapshotStateFault": ResourceNotReady,
    "SnapshotQuotaExceeded": SnapshotQuotaExceeded,
    "SnapshotQuotaExceededFault": SnapshotQuotaExceeded,
    "KMSKeyNotAccessibleFault": KmsKeyNotUsable,
    # The restored cluster's instances.
    "DBInstanceNotFound": ResourceNotFound,
    "DBInstanceNotFoundFault": ResourceNotFound,
    "InvalidDBInstanceState": ResourceNotReady,
    "InvalidDBInstanceStateFault": ResourceNotReady,
    # A point in time outside the window, a subnet or parameter group that does not exist: the request.
    "InvalidRestoreFault": InvalidInput,
    "DBSubnetGroupNotFoundFault": InvalidInput,
    "DBClusterParameterGroupNotFound": InvalidInput,
    "DBClusterParameterGroupNotFoundFault": InvalidInput,
}
# An id already taken is the base class's to judge (ours: success; anyone else's: a conflict).
_CREATE_ERRORS = _CLUSTER_ERRORS | {"DBClusterSnapshotAlreadyExistsFault": RecoveryPointExists}
_CLUSTER_EXISTS = frozenset({"DBClusterAlreadyExistsFault"})
_INSTANCE_EXISTS = frozenset({"DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"})
# The writer's class when neither the request nor the source names one: the smallest
# memory-optimized Graviton class, offered for current Aurora PostgreSQL and MySQL versions.
DEFAULT_INSTANCE_CLASS = "db.r6g.large"
# Cluster and instance statuses in which a restore will never become available without a person.
_FAILED_STATUSES = frozenset(
    {
        "failed",
        "cloning-failed",
        "migration-failed",
        "incompatible-restore",
        "incompatible-parameters",
        "incompatible-network",
        "inaccessible-encryption-credentials",
        "inaccessible-encryption-credentials-recoverable",
    }
)
_MAX_IDENTIFIER = 63


def writer_identifier(cluster_id: str) -> str:
    """``<cluster>-1``; a cluster identifier too long for the suffix keeps a hash of itself
    instead of its tail, so two long targets never share a writer name."""
    name = f"{cluster_id}-1"
    if len(name) <= _MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(cluster_id.encode()).hexdigest()[:6]
    return f"{cluster_id[: _MAX_IDENTIFIER - len(digest) - 3].rstrip('-')}-{digest}-1"


class RdsClusterPlugin(RdsSnapshotPlugin):
    resource_type = "rds_cluster"
    arn_service = "rds"
    arn_kind = "cluster"
    max_concurrent_copies = 5
    # RDS-EVENT-0075 (manual cluster snapshot created); a cluster snapshot copy has no event
    # to wait for: its validation polls.
    completion_events = frozenset({"snapshot"})
    snapshot_kind = DB_CLUSTER_SNAPSHOT
    snapshot_errors = _CLUSTER_ERRORS
    snapshot_create_errors = _CREATE_ERRORS
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]] = CLUSTER_IAM_ACTIONS

    def discover(self, region: str, tag_key: str) -> Iterator[tuple[str, str]]:
        for found in self.inventory(region, tag_key):
            if found.policy:
                yield found.arn, found.policy

    def inventory(self, region: str, tag_key: str) -> Iterator[Discovered]:
        """Every cluster of the region, with the newest time its point-in-time restore reaches
        (Aurora always keeps automated backups)."""
        pages = self._rds(region).get_paginator("describe_db_clusters").paginate()
        with translated(_CLUSTER_ERRORS, f"listing DB clusters in {region}"):
            for page in pages:
                for cluster in page["DBClusters"]:
                    policy = tag_dict(cluster.get("TagList")).get(tag_key) or None
                    yield Discovered(
                        cluster["DBClusterArn"],
                        policy,
                        (),
                        cluster.get("LatestRestorableTime"),
                        int(cluster.get("BackupRetentionPeriod") or 0),
                    )

    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        cluster = self._cluster(ref.region, ref.name, f"describing {ref.arn}")
        return SourceSpec(
            region=ref.region,
            status=cluster["Status"],
            engine=cluster.get("Engine"),
            engine_version=cluster.get("EngineVersion"),
            # Aurora storage grows on its own; AWS reports the same figure for the snapshot.
            size_gib=cluster.get("AllocatedStorage"),
            encrypted=bool(cluster.get("StorageEncrypted")),
            kms_key_id=cluster.get("KmsKeyId"),
            # The writer endpoint: where the backup-time profile of data checks connects.
            endpoint=cluster.get("Endpoint"),
            port=cluster.get("Port"),
        )

    def ensure_continuous_protection(
        self, ref: ResourceRef, wanted: ContinuousProtection, replicate_to: DrTarget | None
    ) -> list[str]:
        """Aurora always keeps automated backups: raise their retention to ``wanted`` (applies at
        once, no restart). A cluster's continuous copy in a DR region is an Aurora Global
        Database secondary, which health measures; Lifeboat does not create one."""
        cluster = self._cluster(ref.region, ref.name, f"describing {ref.arn}")
        retention = int(cluster.get("BackupRetentionPeriod") or 0)
        if retention >= wanted.retention_days:
            return []
        with translated(_CLUSTER_ERRORS, f"setting the backup retention of {ref.arn}"):
            self._rds(ref.region).modify_db_cluster(
                DBClusterIdentifier=ref.name,
                BackupRetentionPeriod=wanted.retention_days,
                ApplyImmediately=True,
            )
        return [f"automated backups retention {retention} -> {wanted.retention_days} days"]

    # --- restores -------------------------------------------------------------------------
    def _cluster(self, region: str, identifier: str, context: str) -> dict[str, Any]:
        with translated(_CLUSTER_ERRORS, context):
            found = self._rds(region).describe_db_clusters(DBClusterIdentifier=identifier)
        if not found["DBClusters"]:
            raise ResourceNotFound(f"{context}: no DB cluster {identifier} in {region}")
        return dict(found["DBClusters"][0])

    def _instances(self, region: str, cluster_id: str) -> list[dict[str, Any]]:
        """The cluster's DB instances, with one filtered call (a cluster has at most 16)."""
        with translated(_CLUSTER_ERRORS, f"DB instances of {cluster_id} in {region}"):
            found = self._rds(region).describe_db_instances(
                Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}]
            )
        return list(found["DBInstances"])

    def restore_defaults(self, ref: ResourceRef) -> tuple[RestoreNetwork, dict[str, str]]:
        """The source's subnet group, security groups and DB *cluster* parameter group (its
        instance gets the engine's default DB parameter group), and its tags."""
        cluster = self._cluster(ref.region, ref.name, f"describing {ref.arn}")
        network = RestoreNetwork(
            subnet_group=cluster.get("DBSubnetGroup"),
            security_group_ids=[g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups") or []],
            parameter_group=cluster.get("DBClusterParameterGroup"),
        )
        return network, tag_dict(cluster.get("TagList"))

    @staticmethod
    def _cluster_request(spec: RestoreSpec) -> dict[str, Any]:
        request: dict[str, Any] = {
            "DBClusterIdentifier": spec.target_id,
            "DeletionProtection": spec.deletion_protection,
            "Tags": tag_list(spec.tags),
        }
        optional = {
            "DBSubnetGroupName": spec.network.subnet_group,
            "VpcSecurityGroupIds": spec.network.security_group_ids or None,
            "DBClusterParameterGroupName": spec.network.parameter_group,
        }
        return request | {k: v for k, v in optional.items() if v}

    def _restore(self, recovery_point_id: str, spec: RestoreSpec) -> None:
        # RestoreDBClusterFromSnapshot needs the engine; the snapshot names it.
        engine = self.describe_recovery_point(spec.region, recovery_point_id).engine
        _require_aurora(engine, f"cluster snapshot {recovery_point_id}")
        request = self._cluster_request(spec) | {"SnapshotIdentifier": recovery_point_id, "Engine": engine}
        self._start(spec, "restore_db_cluster_from_snapshot", request)

    def _restore_to_time(self, ref: ResourceRef, at: datetime, spec: RestoreSpec) -> None:
        if spec.region != ref.region:
            raise InvalidInput(
                f"a point-in-time restore of an Aurora cluster is made in its own region ({ref.region}); "
                f"to restore in {spec.region}, restore a recovery point copied there"
            )
        _require_aurora(self._cluster(ref.region, ref.name, f"describing {ref.arn}").get("Engine"), ref.arn)
        request = self._cluster_request(spec) | {
            "SourceDBClusterIdentifier": ref.name,
            "RestoreToTime": at,
            "RestoreType": "full-copy",
        }
        self._start(spec, "restore_db_cluster_to_point_in_time", request)

    def _start(self, spec: RestoreSpec, call: str, request: dict[str, Any]) -> None:
        """Restore the cluster, then add its writer.

        A retried step finds the cluster its first attempt restored: it adds the writer (if that
        attempt stopped before) only to a cluster this operation created, and the base class then
        confirms ownership. Any other cluster of that name is left untouched (TargetExists).
        """
        try:
            with translated(_CLUSTER_ERRORS, f"restoring {spec.target_id} in {spec.region}"):
                cluster = getattr(self._rds(spec.region), call)(**request)["DBCluster"]
        except ClientError as exc:
            if error_code(exc) not in _CLUSTER_EXISTS:
                raise
            existing = self._cluster(spec.region, spec.target_id, f"describing {spec.target_id}")
            if owned_by(tag_dict(existing.get("TagList")), spec.tags.get(RESTORE_OPERATION_TAG, "")):
                self._add_writer(spec, str(existing["Engine"]))
            raise RestoreTargetExists(spec.target_id) from exc
        self._add_writer(spec, str(cluster["Engine"]))

    def _add_writer(self, spec: RestoreSpec, engine: str) -> None:
        """The cluster's first instance (Aurora makes it the writer): private, tagged like the
        cluster. An instance of that name is accepted only as this operation's, in this cluster."""
        identifier = writer_identifier(spec.target_id)
        request: dict[str, Any] = {
            "DBInstanceIdentifier": identifier,
            "DBClusterIdentifier": spec.target_id,
            "Engine": engine,
            "DBInstanceClass": spec.instance_class
            or self._source_writer_class(spec)
            or DEFAULT_INSTANCE_CLASS,
            "PubliclyAccessible": False,
            "Tags": tag_list(spec.tags),
        }
        if spec.network.availability_zone:
            request["AvailabilityZone"] = spec.network.availability_zone
        context = f"adding the writer {identifier} to {spec.target_id} in {spec.region}"
        try:
            with translated(_CLUSTER_ERRORS, context):
                self._rds(spec.region).create_db_instance(**request)
        except ClientError as exc:
            if error_code(exc) not in _INSTANCE_EXISTS:
                raise
            with translated(_CLUSTER_ERRORS, context):
                found = self._rds(spec.region).describe_db_instances(DBInstanceIdentifier=identifier)
            [instance] = found["DBInstances"]
            mine = owned_by(tag_dict(instance.get("TagList")), spec.tags.get(RESTORE_OPERATION_TAG, ""))
            if not mine or instance.get("DBClusterIdentifier") != spec.target_id:
                raise TargetExists(
                    f"DB instance {identifier} already exists in {spec.region} and is not the writer this "
                    f"restore created for {spec.target_id}; choose another target identifier"
                ) from exc

    def _source_writer_class(self, spec: RestoreSpec) -> str | None:
        """The instance class of the source's writer (the source named by the restore's
        ``lifeboat:resource-arn`` tag), or None when the source or its writer cannot be read."""
        try:
            source = ResourceRef.parse(spec.tags.get(RESOURCE_TAG, ""))
        except ValueError:
            return None
        if (source.service, source.kind) != (self.arn_service, self.arn_kind):
            return None
        try:
            cluster = self._cluster(source.region, source.name, f"describing {source.arn}")
        except ResourceNotFound:
            return None
        members = cluster.get("DBClusterMembers") or []
        writer = next((m["DBInstanceIdentifier"] for m in members if m.get("IsClusterWriter")), None)
        if writer is None:
            return None
        try:
            with translated(_CLUSTER_ERRORS, f"describing the writer of {source.arn}"):
                found = self._rds(source.region).describe_db_instances(DBInstanceIdentifier=writer)
        except ResourceNotFound:
            return None
        return next((str(i["DBInstanceClass"]) for i in found["DBInstances"]), None)

    def restore_window(self, ref: ResourceRef) -> RestoreWindow | None:
        """Aurora always keeps automated backups (1 to 35 days): the cluster reports its window."""
        cluster = self._cluster(ref.region, ref.name, f"describing {ref.arn}")
        earliest, latest = cluster.get("EarliestRestorableTime"), cluster.get("LatestRestorableTime")
        if earliest is None or latest is None:
            return None
        return RestoreWindow(earliest=earliest, latest=latest)

    def describe_restored(self, region: str, identifier: str) -> RestoredFacts:
        """Ready only when the cluster and every instance are available (and it has one): the
        writer endpoint answers only then. Publicly accessible if any instance is."""
        cluster = self._cluster(region, identifier, f"describing {identifier} in {region}")
        instances = self._instances(region, identifier)
        cluster_status = str(cluster["Status"])
        pending = [
            f"instance {i['DBInstanceIdentifier']} {i['DBInstanceStatus']}"
            for i in instances
            if i["DBInstanceStatus"] != "available"
        ]
        if cluster_status != "available":
            status = cluster_status
        elif not instances:
            status = "available, without a DB instance"
        else:
            status = ", ".join(["available", *pending])
        statuses = {cluster_status, *(str(i["DBInstanceStatus"]) for i in instances)}
        return RestoredFacts(
            identifier=identifier,
            arn=cluster["DBClusterArn"],
            region=region,
            status=status,
            ready=status == "available",
            failed=bool(statuses & _FAILED_STATUSES),
            endpoint=cluster.get("Endpoint"),
            port=cluster.get("Port"),
            publicly_accessible=any(bool(i.get("PubliclyAccessible")) for i in instances)
            if instances
            else None,
            encrypted=bool(cluster.get("StorageEncrypted")),
            kms_key_id=cluster.get("KmsKeyId"),
            engine=cluster.get("Engine"),
            engine_version=cluster.get("EngineVersion"),
            deletion_protection=cluster.get("DeletionProtection"),
            tags=tag_dict(cluster.get("TagList")),
        )

    def _delete_restored(self, region: str, identifier: str) -> None:
        """Delete the cluster's instances; once none is left, the cluster (no final snapshot).

        RDS refuses to delete a cluster that still has instances, so while they are being deleted
        this deletes nothing more: the teardown's back-off calls it again until the cluster goes.
        """
        instances = self._instances(region, identifier)
        for instance in instances:
            name = instance["DBInstanceIdentifier"]
            if instance["DBInstanceStatus"] == "deleting":
                continue
            try:
                with translated(_CLUSTER_ERRORS, f"deleting {name} of {identifier} in {region}"):
                    self._rds(region).delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
            except ResourceNotFound:
                continue  # deleted meanwhile
        if instances:
            return
        with translated(_CLUSTER_ERRORS, f"deleting {identifier} in {region}"):
            self._rds(region).delete_db_cluster(DBClusterIdentifier=identifier, SkipFinalSnapshot=True)

    def tag_restored(self, restored: RestoredFacts, tags: dict[str, str]) -> None:
        with translated(_CLUSTER_ERRORS, f"tagging {restored.arn}"):
            self._rds(restored.region).add_tags_to_resource(ResourceName=restored.arn, Tags=tag_list(tags))


def _require_aurora(engine: str | None, source: str) -> None:
    """Multi-AZ DB clusters (engines mysql, postgres) and Neptune/DocumentDB clusters restore
    differently (instances built in, other APIs): refused rather than half-restored."""
    if not (engine or "").startswith("aurora"):
        raise UnsupportedOperation(
            f"rds_cluster does not support restoring {source}: its engine is {engine}, and Lifeboat "
            "restores Aurora clusters only; restore it by hand with RestoreDBClusterFromSnapshot"
        )
