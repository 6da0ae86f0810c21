"""RDS DB instances: manual DB snapshots, copied across regions with ``CopyDBSnapshot``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from lifeboat.aws import automated_backups
from lifeboat.aws.errors import translated
from lifeboat.aws.tags import tag_dict, tag_list
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.recovery import SourceSpec
from lifeboat.domain.restore import RestoredFacts, RestoreSpec
from lifeboat.errors import (
    InvalidInput,
    KmsKeyNotUsable,
    RecoveryPointNotFound,
    ResourceNotFound,
    ResourceNotReady,
    SnapshotQuotaExceeded,
)
from lifeboat.plugins.base import (
    Discovered,
    PluginOperation,
    RecoveryPointExists,
    RestoreTargetExists,
    RestoreWindow,
)
from lifeboat.plugins.rds.permissions import INSTANCE_IAM_ACTIONS
from lifeboat.plugins.rds.snapshots import DB_SNAPSHOT, RdsSnapshotPlugin

if TYPE_CHECKING:
    from lifeboat.domain.policy import ContinuousProtection, DrTarget

_RDS_ERRORS = {
    "DBInstanceNotFound": ResourceNotFound,
    "DBInstanceNotFoundFault": ResourceNotFound,
    "DBSnapshotNotFound": RecoveryPointNotFound,
    "DBSnapshotNotFoundFault": RecoveryPointNotFound,
    "InvalidDBInstanceState": ResourceNotReady,
    "InvalidDBInstanceStateFault": ResourceNotReady,
    "InvalidDBSnapshotState": ResourceNotReady,
    "InvalidDBSnapshotStateFault": ResourceNotReady,
    "SnapshotQuotaExceeded": SnapshotQuotaExceeded,
    "SnapshotQuotaExceededFault": SnapshotQuotaExceeded,
    "KMSKeyNotAccessibleFault": KmsKeyNotUsable,
    "KMSKeyNotAccessible": KmsKeyNotUsable,
    # A point in time outside the window, a subnet group that does not exist, ...: the request.
    "InvalidRestoreFault": InvalidInput,
    "PointInTimeRestoreNotEnabled": InvalidInput,
    "PointInTimeRestoreNotEnabledFault": InvalidInput,
    "DBSubnetGroupNotFoundFault": InvalidInput,
    "DBParameterGroupNotFound": InvalidInput,
    "DBParameterGroupNotFoundFault": InvalidInput,
}
# An id already taken is the base class's to judge (ours: success; anyone else's: a conflict).
_CREATE_ERRORS = _RDS_ERRORS | dict.fromkeys(
    ("DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault"), RecoveryPointExists
)
_RESTORE_ERRORS = _RDS_ERRORS | dict.fromkeys(
    ("DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault"), RestoreTargetExists
)
# Statuses in which a restored instance will never become available without a person.
_FAILED_STATUSES = frozenset(
    {
        "failed",
        "incompatible-restore",
        "incompatible-parameters",
        "incompatible-network",
        "inaccessible-encryption-credentials",
    }
)


class RdsInstancePlugin(RdsSnapshotPlugin):
    resource_type = "rds_instance"
    arn_service = "rds"
    arn_kind = "db"
    max_concurrent_copies = 20
    # RDS-EVENT-0042 (manual snapshot created), RDS-EVENT-0060 (snapshot copy finished).
    completion_events = frozenset({"snapshot", "copy"})
    snapshot_kind = DB_SNAPSHOT
    snapshot_errors = _RDS_ERRORS
    snapshot_create_errors = _CREATE_ERRORS
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]] = INSTANCE_IAM_ACTIONS

    def discover(self, region: str, tag_key: str) -> Iterator[tuple[str, str]]:
        for found in self.inventory(region, tag_key):
            if found.policy:
                yield found.arn, found.policy

    def inventory(self, region: str, tag_key: str) -> Iterator[Discovered]:
        """Every instance of the region, tagged or not (a resource may be protected by the config's
        list), with its read replicas: a same-region replica is listed by identifier, a
        cross-region one by ARN."""
        pages = self._rds(region).get_paginator("describe_db_instances").paginate()
        with translated(_RDS_ERRORS, f"listing DB instances in {region}"):
            for page in pages:
                for instance in page["DBInstances"]:
                    arn = instance["DBInstanceArn"]
                    replicas = tuple(
                        replica if replica.startswith("arn:") else f"{arn.rsplit(':', 1)[0]}:{replica}"
                        for replica in instance.get("ReadReplicaDBInstanceIdentifiers", [])
                    )
                    policy = tag_dict(instance.get("TagList")).get(tag_key) or None
                    retention = int(instance.get("BackupRetentionPeriod") or 0)
                    restorable = instance.get("LatestRestorableTime") if retention else None
                    yield Discovered(
                        arn,
                        policy,
                        replicas,
                        restorable,
                        retention,
                        automated_backups.replicated_to(instance),
                    )

    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        instance = self._instance(ref.region, ref.name, f"describing {ref.arn}")
        return SourceSpec(
            region=ref.region,
            status=instance["DBInstanceStatus"],
            engine=instance.get("Engine"),
            engine_version=instance.get("EngineVersion"),
            size_gib=instance.get("AllocatedStorage"),
            encrypted=bool(instance.get("StorageEncrypted")),
            kms_key_id=instance.get("KmsKeyId"),
            endpoint=(instance.get("Endpoint") or {}).get("Address"),
            port=(instance.get("Endpoint") or {}).get("Port"),
        )

    def ensure_continuous_protection(
        self, ref: ResourceRef, wanted: ContinuousProtection, replicate_to: DrTarget | None
    ) -> list[str]:
        """Automated backups kept ``wanted.retention_days``, replicated to ``replicate_to``.

        Raising a retention that is already on applies at once (no outage). Turning automated
        backups on from 0 restarts the instance on AWS, so that change waits for its maintenance
        window, and replication starts on the run after it took effect: Lifeboat never reboots a
        database on its own."""
        instance = self._instance(ref.region, ref.name, f"describing {ref.arn}")
        retention = int(instance.get("BackupRetentionPeriod") or 0)
        changes: list[str] = []
        if retention < wanted.retention_days:
            with translated(_RDS_ERRORS, f"setting the backup retention of {ref.arn}"):
                self._rds(ref.region).modify_db_instance(
                    DBInstanceIdentifier=ref.name,
                    BackupRetentionPeriod=wanted.retention_days,
                    ApplyImmediately=retention > 0,
                )
            when = "now" if retention > 0 else "in its next maintenance window (turning them on restarts it)"
            changes.append(f"automated backups retention {retention} -> {wanted.retention_days} days, {when}")
        if retention == 0 or replicate_to is None:
            return changes
        if replicate_to.region not in automated_backups.replicated_to(instance):
            automated_backups.start_replication(
                self.clients, ref.arn, replicate_to.region, wanted.retention_days, replicate_to.kms_key_id
            )
            changes.append(f"automated backups replicated to {replicate_to.region}")
        return changes

    # --- restores -----------------------------------------------------------------------
    def restore_defaults(self, ref: ResourceRef) -> tuple[RestoreNetwork, dict[str, str]]:
        instance = self._instance(ref.region, ref.name, f"describing {ref.arn}")
        groups = instance.get("DBParameterGroups") or [{}]
        network = RestoreNetwork(
            subnet_group=(instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
            security_group_ids=[g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups") or []],
            parameter_group=groups[0].get("DBParameterGroupName"),
        )
        return network, tag_dict(instance.get("TagList"))

    def _instance(self, region: str, identifier: str, context: str) -> dict[str, Any]:
        with translated(_RDS_ERRORS, context):
            found = self._rds(region).describe_db_instances(DBInstanceIdentifier=identifier)
        if not found["DBInstances"]:
            raise ResourceNotFound(f"{context}: no DB instance {identifier} in {region}")
        return dict(found["DBInstances"][0])

    @staticmethod
    def _restore_request(spec: RestoreSpec) -> dict[str, Any]:
        request: dict[str, Any] = {
            "DBInstanceIdentifier": spec.target_id,
            "PubliclyAccessible": False,
            "DeletionProtection": spec.deletion_protection,
            "Tags": tag_list(spec.tags),
        }
        optional = {
            "DBSubnetGroupName": spec.network.subnet_group,
            "VpcSecurityGroupIds": spec.network.security_group_ids or None,
            "DBParameterGroupName": spec.network.parameter_group,
            "AvailabilityZone": spec.network.availability_zone,
            "DBInstanceClass": spec.instance_class,
        }
        return request | {k: v for k, v in optional.items() if v}

    def _start(self, call: str, request: dict[str, Any], spec: RestoreSpec) -> None:
        with translated(_RESTORE_ERRORS, f"restoring {spec.target_id} in {spec.region}"):
            getattr(self._rds(spec.region), call)(**request)

    def _restore(self, recovery_point_id: str, spec: RestoreSpec) -> None:
        request = self._restore_request(spec) | {"DBSnapshotIdentifier": recovery_point_id}
        self._start("restore_db_instance_from_db_snapshot", request, spec)

    def _restore_to_time(self, ref: ResourceRef, at: datetime, spec: RestoreSpec) -> None:
        """In the source's region from its automated backups; in a DR region from the ones
        replicated there (nothing is asked of the source's region)."""
        request = self._restore_request(spec)
        request["TargetDBInstanceIdentifier"] = request.pop("DBInstanceIdentifier")
        request["RestoreTime"] = at
        if spec.region == ref.region:
            request["SourceDBInstanceIdentifier"] = ref.name
        else:
            replicated = automated_backups.replicated_backups(self.clients, ref.arn, spec.region)
            if replicated is None:
                raise InvalidInput(f"no automated backups of {ref.arn} are replicated to {spec.region}")
            request["SourceDBInstanceAutomatedBackupsArn"] = replicated.arn
        self._start("restore_db_instance_to_point_in_time", request, spec)

    def restore_window_in(self, ref: ResourceRef, region: str) -> RestoreWindow | None:
        if region == ref.region:
            return self.restore_window(ref)
        replicated = automated_backups.replicated_backups(self.clients, ref.arn, region)
        if replicated is None:
            return None
        return RestoreWindow(
            earliest=replicated.earliest,
            latest=replicated.latest,
            encrypted=replicated.encrypted,
            kms_key_id=replicated.kms_key_id,
            engine=replicated.engine,
        )

    def restore_window(self, ref: ResourceRef) -> RestoreWindow | None:
        instance = self._instance(ref.region, ref.name, f"describing {ref.arn}")
        days = int(instance.get("BackupRetentionPeriod") or 0)
        latest = instance.get("LatestRestorableTime")
        if days == 0 or latest is None:
            return None
        earliest = max(latest - timedelta(days=days), instance["InstanceCreateTime"])
        return RestoreWindow(earliest=earliest, latest=latest)

    def describe_restored(self, region: str, identifier: str) -> RestoredFacts:
        instance = self._instance(region, identifier, f"describing {identifier} in {region}")
        endpoint = instance.get("Endpoint") or {}
        return RestoredFacts(
            identifier=identifier,
            arn=instance["DBInstanceArn"],
            region=region,
            status=instance["DBInstanceStatus"],
            ready=instance["DBInstanceStatus"] == "available",
            failed=instance["DBInstanceStatus"] in _FAILED_STATUSES,
            endpoint=endpoint.get("Address"),
            port=endpoint.get("Port"),
            publicly_accessible=instance.get("PubliclyAccessible"),
            encrypted=bool(instance.get("StorageEncrypted")),
            kms_key_id=instance.get("KmsKeyId"),
            engine=instance.get("Engine"),
            engine_version=instance.get("EngineVersion"),
            deletion_protection=instance.get("DeletionProtection"),
            tags=tag_dict(instance.get("TagList")),
        )

    def _delete_restored(self, region: str, identifier: str) -> None:
        with translated(_RDS_ERRORS, f"deleting {identifier} in {region}"):
            self._rds(region).delete_db_instance(
                DBInstanceIdentifier=identifier, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
            )

    def tag_restored(self, restored: RestoredFacts, tags: dict[str, str]) -> None:
        with translated(_RDS_ERRORS, f"tagging {restored.arn}"):
            self._rds(restored.region).add_tags_to_resource(ResourceName=restored.arn, Tags=tag_list(tags))
