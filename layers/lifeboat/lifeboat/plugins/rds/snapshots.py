"""Manual RDS snapshots, for both kinds RDS has: DB snapshots (instances) and DB cluster snapshots.

The two APIs differ only in their nouns (``CreateDBSnapshot`` / ``CreateDBClusterSnapshot``,
``DBSnapshotArn`` / ``DBClusterSnapshotArn``, ...), so one base class serves both plugins:
create tagged, describe by identifier, copy across regions under the DR key, delete, and read the
account's quota.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from lifeboat.aws.errors import translated
from lifeboat.aws.tags import tag_dict, tag_list
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.recovery import RecoveryPointFacts
from lifeboat.errors import RecoveryPointNotFound
from lifeboat.plugins.base import QuotaUsage, ResourcePlugin

__all__ = ["DB_CLUSTER_SNAPSHOT", "DB_SNAPSHOT", "RdsSnapshotPlugin", "SnapshotKind"]

# Identifiers per DescribeDB(Cluster)Snapshots filter: cleanup describes a Map item's snapshots
# of one region in one call.
IDS_PER_DESCRIBE = 50


@dataclass(frozen=True)
class SnapshotKind:
    """How the RDS API names one kind of manual snapshot."""

    noun: str  # DBSnapshot | DBClusterSnapshot: request fields and answer keys
    call: str  # db_snapshot | db_cluster_snapshot: the boto3 method suffix
    source: str  # DBInstance | DBCluster: the resource a snapshot is taken of
    arn_kind: str  # snapshot | cluster-snapshot: the ARN's resource type
    encrypted: str  # Encrypted | StorageEncrypted: the answer's encryption flag
    quota: str  # ManualSnapshots | ManualClusterSnapshots: DescribeAccountAttributes' name
    label: str  # for messages


DB_SNAPSHOT = SnapshotKind(
    "DBSnapshot", "db_snapshot", "DBInstance", "snapshot", "Encrypted", "ManualSnapshots", "snapshot"
)
DB_CLUSTER_SNAPSHOT = SnapshotKind(
    "DBClusterSnapshot",
    "db_cluster_snapshot",
    "DBCluster",
    "cluster-snapshot",
    "StorageEncrypted",
    "ManualClusterSnapshots",
    "cluster snapshot",
)

# Lifeboat errors, or a plugin's internal signal (an id already taken) as translated() accepts.
ErrorMap = Mapping[str, type[Exception]]


class RdsSnapshotPlugin(ResourcePlugin):
    """A plugin whose recovery points are manual RDS snapshots of one kind: the instance and
    cluster plugins declare the kind and their error maps, and implement the rest (restores).

    ``snapshot_errors`` translates RDS's error codes; ``snapshot_create_errors`` also maps
    "already exists" to RecoveryPointExists (the base class judges whether the point is ours).
    """

    snapshot_kind: ClassVar[SnapshotKind]
    snapshot_errors: ClassVar[ErrorMap]
    snapshot_create_errors: ClassVar[ErrorMap]

    def _rds(self, region: str) -> Any:
        return self.clients("rds", region)

    def _create(self, ref: ResourceRef, recovery_point_id: str, tags: dict[str, str]) -> None:
        kind = self.snapshot_kind
        with translated(self.snapshot_create_errors, f"{kind.label} {recovery_point_id} of {ref.arn}"):
            getattr(self._rds(ref.region), f"create_{kind.call}")(
                **{
                    f"{kind.noun}Identifier": recovery_point_id,
                    f"{kind.source}Identifier": ref.name,
                    "Tags": tag_list(tags),
                }
            )

    def describe_recovery_point(self, region: str, recovery_point_id: str) -> RecoveryPointFacts:
        kind = self.snapshot_kind
        with translated(self.snapshot_errors, f"{kind.label} {recovery_point_id} in {region}"):
            found = getattr(self._rds(region), f"describe_{kind.call}s")(
                **{f"{kind.noun}Identifier": recovery_point_id}
            )[f"{kind.noun}s"]
        if not found:
            raise RecoveryPointNotFound(f"{kind.label} {recovery_point_id} in {region}: not found")
        return self._facts(region, found[0])

    def describe_recovery_points(
        self, region: str, recovery_point_ids: Sequence[str]
    ) -> dict[str, RecoveryPointFacts]:
        """Many snapshots in one call: filtered by identifier, ``IDS_PER_DESCRIBE`` at a time."""
        kind = self.snapshot_kind
        wanted = sorted(set(recovery_point_ids))
        found: dict[str, RecoveryPointFacts] = {}
        for start in range(0, len(wanted), IDS_PER_DESCRIBE):
            ids = wanted[start : start + IDS_PER_DESCRIBE]
            pages = self._rds(region).get_paginator(f"describe_{kind.call}s")
            with translated(self.snapshot_errors, f"{len(ids)} {kind.label}s in {region}"):
                for page in pages.paginate(Filters=[{"Name": f"db-{kind.arn_kind}-id", "Values": ids}]):
                    for snapshot in page[f"{kind.noun}s"]:
                        found[snapshot[f"{kind.noun}Identifier"]] = self._facts(region, snapshot)
        return found

    def _facts(self, region: str, snapshot: dict[str, Any]) -> RecoveryPointFacts:
        kind = self.snapshot_kind
        return RecoveryPointFacts(
            recovery_point_id=snapshot[f"{kind.noun}Identifier"],
            arn=snapshot[f"{kind.noun}Arn"],
            region=region,
            status=snapshot["Status"],
            ready=snapshot["Status"] == "available",
            encrypted=bool(snapshot.get(kind.encrypted)),
            kms_key_id=snapshot.get("KmsKeyId"),
            engine=snapshot.get("Engine"),
            engine_version=snapshot.get("EngineVersion"),
            size_gib=snapshot.get("AllocatedStorage"),
            tags=tag_dict(snapshot.get("TagList")),
            created_at=snapshot.get("SnapshotCreateTime"),
        )

    def _copy(
        self, ref: ResourceRef, recovery_point_id: str, target_region: str, kms_key_id: str | None
    ) -> None:
        kind = self.snapshot_kind
        source_arn = (
            f"arn:{ref.partition}:rds:{ref.region}:{ref.account_id}:{kind.arn_kind}:{recovery_point_id}"
        )
        request: dict[str, Any] = {
            f"Source{kind.noun}Identifier": source_arn,
            f"Target{kind.noun}Identifier": recovery_point_id,
            "CopyTags": True,
            # SourceRegion makes botocore presign the request, which encrypted copies need.
            "SourceRegion": ref.region,
        }
        if kms_key_id:
            request["KmsKeyId"] = kms_key_id
        with translated(self.snapshot_create_errors, f"copy of {recovery_point_id} to {target_region}"):
            getattr(self._rds(target_region), f"copy_{kind.call}")(**request)

    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
        kind = self.snapshot_kind
        with translated(self.snapshot_errors, f"deleting {recovery_point_id} in {region}"):
            getattr(self._rds(region), f"delete_{kind.call}")(**{f"{kind.noun}Identifier": recovery_point_id})

    def snapshot_quota(self, region: str) -> QuotaUsage | None:
        """The account's manual-snapshot quota of this kind in ``region`` and its use."""
        with translated(self.snapshot_errors, f"account quotas in {region}"):
            quotas = self._rds(region).describe_account_attributes()["AccountQuotas"]
        for quota in quotas:
            if quota["AccountQuotaName"] == self.snapshot_kind.quota:
                return QuotaUsage(used=quota["Used"], max=quota["Max"])
        return None
