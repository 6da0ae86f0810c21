"""Aurora (and Multi-AZ) DB clusters: manual cluster snapshots, copied with ``CopyDBClusterSnapshot``.

AWS allows only 5 concurrent cross-region cluster snapshot copies per destination region
(20 for DB instance snapshots). A copy beyond the limit fails with ``SnapshotQuotaExceeded``;
the workflow's ``CopyToRegion`` retries that error with jittered back-off for about 3 hours,
so a large fleet copies in waves instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from lifeboat.aws.errors import error_code, translated
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.recovery import RecoveryPointFacts, SourceSpec
from lifeboat.domain.restore import RestoredFacts, RestoreSpec
from lifeboat.errors import (
    KmsKeyNotUsable,
    RecoveryPointNotFound,
    ResourceNotFound,
    ResourceNotReady,
    SnapshotQuotaExceeded,
)
from lifeboat.plugins.base import (
    PluginOperation,
    QuotaUsage,
    RecoveryPointExists,
    ResourcePlugin,
    RestoreWindow,
)

_CLUSTER_ERRORS = {
    "DBClusterNotFoundFault": ResourceNotFound,
    "DBClusterSnapshotNotFoundFault": RecoveryPointNotFound,
    "InvalidDBClusterStateFault": ResourceNotReady,
    "InvalidDBClusterSnapshotStateFault": ResourceNotReady,
    "SnapshotQuotaExceeded": SnapshotQuotaExceeded,
    "SnapshotQuotaExceededFault": SnapshotQuotaExceeded,
    "KMSKeyNotAccessibleFault": KmsKeyNotUsable,
}
_ALREADY_EXISTS = frozenset({"DBClusterSnapshotAlreadyExistsFault"})
_CLUSTER_SNAPSHOT_QUOTA = "ManualClusterSnapshots"


def _tags(tag_list: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list or []}


class RdsClusterPlugin(ResourcePlugin):
    resource_type = "rds_cluster"
    arn_service = "rds"
    arn_kind = "cluster"
    max_concurrent_copies = 5
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]] = {
        PluginOperation.DISCOVER: frozenset({"rds:DescribeDBClusters"}),
        PluginOperation.DESCRIBE_SOURCE: frozenset({"rds:DescribeDBClusters"}),
        PluginOperation.SNAPSHOT_QUOTA: frozenset({"rds:DescribeAccountAttributes"}),
        PluginOperation.CREATE: frozenset({"rds:CreateDBClusterSnapshot", "rds:AddTagsToResource"}),
        PluginOperation.DESCRIBE_RECOVERY_POINT: frozenset({"rds:DescribeDBClusterSnapshots"}),
        PluginOperation.COPY: frozenset({"rds:CopyDBClusterSnapshot", "rds:AddTagsToResource"}),
        PluginOperation.DELETE: frozenset({"rds:DeleteDBClusterSnapshot"}),
    }
    unsupported: ClassVar[Mapping[PluginOperation, str]] = {
        PluginOperation.RESTORE: (
            "Aurora cluster restores are not built yet; restore by hand with "
            "RestoreDBClusterFromSnapshot from the lb- cluster snapshot, then "
            "CreateDBInstance in the new cluster"
        ),
        PluginOperation.RESTORE_TO_TIME: (
            "point-in-time restore of this type is not built yet; use RestoreDBClusterToPointInTime by hand"
        ),
        PluginOperation.DESCRIBE_RESTORED: (
            "restores of this type are not built yet, so there is no restored resource to describe"
        ),
        PluginOperation.DELETE_RESTORED: (
            "restores of this type are not built yet, so there is no restored resource to delete"
        ),
        PluginOperation.TAG_RESTORED: (
            "restores of this type are not built yet, so there is no restored resource to tag"
        ),
    }

    def _rds(self, region: str) -> Any:
        return self.clients("rds", region)

    def discover(self, region: str, tag_key: str) -> Iterator[tuple[str, str]]:
        pages = self._rds(region).get_paginator("describe_db_clusters").paginate()
        with translated(_CLUSTER_ERRORS, f"listing DB clusters in {region}"):
            for page in pages:
                for cluster in page["DBClusters"]:
                    policy = _tags(cluster.get("TagList")).get(tag_key)
                    if policy:
                        yield cluster["DBClusterArn"], policy

    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        with translated(_CLUSTER_ERRORS, f"describing {ref.arn}"):
            found = self._rds(ref.region).describe_db_clusters(DBClusterIdentifier=ref.name)
        cluster = found["DBClusters"][0]
        return SourceSpec(
            region=ref.region,
            status=cluster["Status"],
            engine=cluster.get("Engine"),
            engine_version=cluster.get("EngineVersion"),
            # Aurora storage grows on its own; AWS reports the same figure for the snapshot.
            size_gib=cluster.get("AllocatedStorage"),
            encrypted=bool(cluster.get("StorageEncrypted")),
            kms_key_id=cluster.get("KmsKeyId"),
        )

    def _create(self, ref: ResourceRef, recovery_point_id: str, tags: dict[str, str]) -> None:
        try:
            with translated(_CLUSTER_ERRORS, f"cluster snapshot {recovery_point_id} of {ref.arn}"):
                self._rds(ref.region).create_db_cluster_snapshot(
                    DBClusterSnapshotIdentifier=recovery_point_id,
                    DBClusterIdentifier=ref.name,
                    Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
                )
        except ClientError as exc:
            if error_code(exc) in _ALREADY_EXISTS:
                raise RecoveryPointExists(recovery_point_id) from exc
            raise

    def describe_recovery_point(self, region: str, recovery_point_id: str) -> RecoveryPointFacts:
        with translated(_CLUSTER_ERRORS, f"cluster snapshot {recovery_point_id} in {region}"):
            found = self._rds(region).describe_db_cluster_snapshots(
                DBClusterSnapshotIdentifier=recovery_point_id
            )
        if not found["DBClusterSnapshots"]:
            raise RecoveryPointNotFound(f"cluster snapshot {recovery_point_id} in {region}: not found")
        snapshot = found["DBClusterSnapshots"][0]
        return RecoveryPointFacts(
            recovery_point_id=recovery_point_id,
            arn=snapshot["DBClusterSnapshotArn"],
            region=region,
            status=snapshot["Status"],
            ready=snapshot["Status"] == "available",
            encrypted=bool(snapshot.get("StorageEncrypted")),
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
        source_arn = (
            f"arn:{ref.partition}:rds:{ref.region}:{ref.account_id}:cluster-snapshot:{recovery_point_id}"
        )
        request: dict[str, Any] = {
            "SourceDBClusterSnapshotIdentifier": source_arn,
            "TargetDBClusterSnapshotIdentifier": recovery_point_id,
            "CopyTags": True,
            # SourceRegion makes botocore presign the request, which encrypted copies need.
            "SourceRegion": ref.region,
        }
        if kms_key_id:
            request["KmsKeyId"] = kms_key_id
        try:
            with translated(_CLUSTER_ERRORS, f"copy of {recovery_point_id} to {target_region}"):
                self._rds(target_region).copy_db_cluster_snapshot(**request)
        except ClientError as exc:
            if error_code(exc) in _ALREADY_EXISTS:
                raise RecoveryPointExists(recovery_point_id) from exc
            raise

    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
        with translated(_CLUSTER_ERRORS, f"deleting {recovery_point_id} in {region}"):
            self._rds(region).delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=recovery_point_id)

    def snapshot_quota(self, region: str) -> QuotaUsage | None:
        with translated(_CLUSTER_ERRORS, f"account quotas in {region}"):
            quotas = self._rds(region).describe_account_attributes()["AccountQuotas"]
        for quota in quotas:
            if quota["AccountQuotaName"] == _CLUSTER_SNAPSHOT_QUOTA:
                return QuotaUsage(used=quota["Used"], max=quota["Max"])
        return None

    # --- restores (not built yet for this type: each raises its declared reason) ---------
    def _restore(self, recovery_point_id: str, spec: RestoreSpec) -> None:
        self._unsupported(PluginOperation.RESTORE)

    def _restore_to_time(self, ref: ResourceRef, at: datetime, spec: RestoreSpec) -> None:
        self._unsupported(PluginOperation.RESTORE_TO_TIME)

    def restore_window(self, ref: ResourceRef) -> RestoreWindow | None:
        self._unsupported(PluginOperation.RESTORE_TO_TIME)

    def describe_restored(self, region: str, identifier: str) -> RestoredFacts:
        self._unsupported(PluginOperation.DESCRIBE_RESTORED)

    def _delete_restored(self, region: str, identifier: str) -> None:
        self._unsupported(PluginOperation.DELETE_RESTORED)

    def tag_restored(self, restored: RestoredFacts, tags: dict[str, str]) -> None:
        self._unsupported(PluginOperation.TAG_RESTORED)
