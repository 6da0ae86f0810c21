"""RDS DB instances: manual DB snapshots, copied across regions with ``CopyDBSnapshot``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from lifeboat.aws.errors import error_code, translated
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.recovery import RecoveryPointFacts, SourceSpec
from lifeboat.errors import (
    KmsKeyNotUsable,
    RecoveryPointNotFound,
    ResourceNotFound,
    ResourceNotReady,
    SnapshotQuotaExceeded,
)
from lifeboat.plugins.base import PluginOperation, QuotaUsage, RecoveryPointExists, ResourcePlugin

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
}
_ALREADY_EXISTS = frozenset({"DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault"})


def _tags(tag_list: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list or []}


class RdsInstancePlugin(ResourcePlugin):
    resource_type = "rds_instance"
    arn_service = "rds"
    arn_kind = "db"
    max_concurrent_copies = 20
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]] = {
        PluginOperation.DISCOVER: frozenset({"rds:DescribeDBInstances"}),
        PluginOperation.DESCRIBE_SOURCE: frozenset({"rds:DescribeDBInstances"}),
        PluginOperation.SNAPSHOT_QUOTA: frozenset({"rds:DescribeAccountAttributes"}),
        PluginOperation.CREATE: frozenset({"rds:CreateDBSnapshot", "rds:AddTagsToResource"}),
        PluginOperation.DESCRIBE_RECOVERY_POINT: frozenset({"rds:DescribeDBSnapshots"}),
        PluginOperation.COPY: frozenset({"rds:CopyDBSnapshot", "rds:AddTagsToResource"}),
        PluginOperation.DELETE: frozenset({"rds:DeleteDBSnapshot"}),
    }

    def _rds(self, region: str) -> Any:
        return self.clients("rds", region)

    def discover(self, region: str, tag_key: str) -> Iterator[tuple[str, str]]:
        pages = self._rds(region).get_paginator("describe_db_instances").paginate()
        with translated(_RDS_ERRORS, f"listing DB instances in {region}"):
            for page in pages:
                for instance in page["DBInstances"]:
                    policy = _tags(instance.get("TagList")).get(tag_key)
                    if policy:
                        yield instance["DBInstanceArn"], policy

    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        with translated(_RDS_ERRORS, f"describing {ref.arn}"):
            found = self._rds(ref.region).describe_db_instances(DBInstanceIdentifier=ref.name)
        instance = found["DBInstances"][0]
        return SourceSpec(
            region=ref.region,
            status=instance["DBInstanceStatus"],
            engine=instance.get("Engine"),
            engine_version=instance.get("EngineVersion"),
            size_gib=instance.get("AllocatedStorage"),
            encrypted=bool(instance.get("StorageEncrypted")),
            kms_key_id=instance.get("KmsKeyId"),
        )

    def _create(self, ref: ResourceRef, recovery_point_id: str, tags: dict[str, str]) -> None:
        try:
            with translated(_RDS_ERRORS, f"snapshot {recovery_point_id} of {ref.arn}"):
                self._rds(ref.region).create_db_snapshot(
                    DBSnapshotIdentifier=recovery_point_id,
                    DBInstanceIdentifier=ref.name,
                    Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
                )
        except ClientError as exc:
            if error_code(exc) in _ALREADY_EXISTS:
                raise RecoveryPointExists(recovery_point_id) from exc
            raise

    def describe_recovery_point(self, region: str, recovery_point_id: str) -> RecoveryPointFacts:
        with translated(_RDS_ERRORS, f"snapshot {recovery_point_id} in {region}"):
            found = self._rds(region).describe_db_snapshots(DBSnapshotIdentifier=recovery_point_id)
        if not found["DBSnapshots"]:
            raise RecoveryPointNotFound(f"snapshot {recovery_point_id} in {region}: not found")
        snapshot = found["DBSnapshots"][0]
        return RecoveryPointFacts(
            recovery_point_id=recovery_point_id,
            arn=snapshot["DBSnapshotArn"],
            region=region,
            status=snapshot["Status"],
            ready=snapshot["Status"] == "available",
            encrypted=bool(snapshot.get("Encrypted")),
            kms_key_id=snapshot.get("KmsKeyId"),
            engine=snapshot.get("Engine"),
            engine_version=snapshot.get("EngineVersion"),
            size_gib=snapshot.get("AllocatedStorage"),
            tags=_tags(snapshot.get("TagList")),
            created_at=snapshot.get("SnapshotCreateTime"),
        )

    def _copy(
        self,
        ref: ResourceRef,
        recovery_point_id: str,
        target_region: str,
        kms_key_id: str | None,
    ) -> None:
        source_arn = f"arn:{ref.partition}:rds:{ref.region}:{ref.account_id}:snapshot:{recovery_point_id}"
        request: dict[str, Any] = {
            "SourceDBSnapshotIdentifier": source_arn,
            "TargetDBSnapshotIdentifier": recovery_point_id,
            "CopyTags": True,
            # SourceRegion makes botocore presign the request, which encrypted copies need.
            "SourceRegion": ref.region,
        }
        if kms_key_id:
            request["KmsKeyId"] = kms_key_id
        try:
            with translated(_RDS_ERRORS, f"copy of {recovery_point_id} to {target_region}"):
                self._rds(target_region).copy_db_snapshot(**request)
        except ClientError as exc:
            if error_code(exc) in _ALREADY_EXISTS:
                raise RecoveryPointExists(recovery_point_id) from exc
            raise

    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
        with translated(_RDS_ERRORS, f"deleting {recovery_point_id} in {region}"):
            self._rds(region).delete_db_snapshot(DBSnapshotIdentifier=recovery_point_id)

    def snapshot_quota(self, region: str) -> QuotaUsage | None:
        with translated(_RDS_ERRORS, f"account quotas in {region}"):
            quotas = self._rds(region).describe_account_attributes()["AccountQuotas"]
        for quota in quotas:
            if quota["AccountQuotaName"] == "ManualSnapshots":
                return QuotaUsage(used=quota["Used"], max=quota["Max"])
        return None
