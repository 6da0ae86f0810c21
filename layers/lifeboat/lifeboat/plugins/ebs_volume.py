"""EBS volumes: snapshots tagged at creation, copied across regions with ``CopySnapshot``.

EBS snapshot ids are chosen by AWS, so a recovery point is found by its
``lifeboat:recovery-point-id`` tag with one filtered ``DescribeSnapshots`` of our own
snapshots, in the source region and in each DR region: never by listing the account's
snapshots. Create and copy look for the tagged snapshot first, which makes a retried step find
the snapshot the first attempt started instead of starting a second one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from lifeboat.aws.errors import translated
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.recovery import RECOVERY_POINT_TAG, RecoveryPointFacts, SourceSpec
from lifeboat.domain.restore import RestoredFacts, RestoreSpec
from lifeboat.errors import (
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

_EC2_ERRORS = {
    "InvalidVolume.NotFound": ResourceNotFound,
    "InvalidSnapshot.NotFound": RecoveryPointNotFound,
    "IncorrectState": ResourceNotReady,
    "IncorrectInstanceState": ResourceNotReady,
    # Concurrent snapshot copies per destination region (20) and snapshots per region.
    "ResourceLimitExceeded": SnapshotQuotaExceeded,
    "SnapshotLimitExceeded": SnapshotQuotaExceeded,
}
# A volume can be snapshotted while attached (in-use) or detached (available).
_SNAPSHOTTABLE = frozenset({"available", "in-use"})


def _tags(tag_list: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list or []}


def _tag_spec(tags: dict[str, str]) -> list[dict[str, Any]]:
    return [{"ResourceType": "snapshot", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class EbsVolumePlugin(ResourcePlugin):
    resource_type = "ebs_volume"
    arn_service = "ec2"
    arn_kind = "volume"
    max_concurrent_copies = 20
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]] = {
        PluginOperation.DISCOVER: frozenset({"ec2:DescribeVolumes"}),
        PluginOperation.DESCRIBE_SOURCE: frozenset({"ec2:DescribeVolumes"}),
        PluginOperation.SNAPSHOT_QUOTA: frozenset(),
        PluginOperation.CREATE: frozenset({"ec2:CreateSnapshot", "ec2:CreateTags", "ec2:DescribeSnapshots"}),
        PluginOperation.DESCRIBE_RECOVERY_POINT: frozenset({"ec2:DescribeSnapshots"}),
        PluginOperation.COPY: frozenset({"ec2:CopySnapshot", "ec2:CreateTags", "ec2:DescribeSnapshots"}),
        PluginOperation.DELETE: frozenset({"ec2:DeleteSnapshot", "ec2:DescribeSnapshots"}),
    }
    unsupported: ClassVar[Mapping[PluginOperation, str]] = {
        PluginOperation.RESTORE: (
            "EBS volume restores are not built yet; restore by hand with CreateVolume "
            "--snapshot-id <the snapshot tagged lifeboat:recovery-point-id>"
        ),
        PluginOperation.RESTORE_TO_TIME: (
            "point-in-time restore of this type is not built yet; EBS volumes have no "
            "point-in-time window, restore a recovery point instead"
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

    def _ec2(self, region: str) -> Any:
        return self.clients("ec2", region)

    def discover(self, region: str, tag_key: str) -> Iterator[tuple[str, str]]:
        # Volumes carry no ARN: build it from the account the call runs in (STS needs no grant).
        account = self.clients("sts", region).get_caller_identity()["Account"]
        pages = (
            self._ec2(region)
            .get_paginator("describe_volumes")
            .paginate(Filters=[{"Name": "tag-key", "Values": [tag_key]}])
        )
        with translated(_EC2_ERRORS, f"listing EBS volumes in {region}"):
            for page in pages:
                for volume in page["Volumes"]:
                    policy = _tags(volume.get("Tags")).get(tag_key)
                    if policy:
                        arn = f"arn:{_partition(region)}:ec2:{region}:{account}:volume/{volume['VolumeId']}"
                        yield arn, policy

    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        with translated(_EC2_ERRORS, f"describing {ref.arn}"):
            volume = self._ec2(ref.region).describe_volumes(VolumeIds=[ref.name])["Volumes"][0]
        state = volume["State"]
        return SourceSpec(
            region=ref.region,
            # The workflow backs up sources that are "available": for EBS that means
            # snapshottable, which an attached (in-use) volume is.
            status="available" if state in _SNAPSHOTTABLE else state,
            size_gib=volume["Size"],
            encrypted=bool(volume.get("Encrypted")),
            kms_key_id=volume.get("KmsKeyId"),
        )

    def _find(self, region: str, recovery_point_id: str) -> dict[str, Any] | None:
        """Our snapshot with that recovery point id in ``region``: one filtered call."""
        with translated(_EC2_ERRORS, f"snapshot {recovery_point_id} in {region}"):
            found = self._ec2(region).describe_snapshots(
                OwnerIds=["self"],
                Filters=[{"Name": f"tag:{RECOVERY_POINT_TAG}", "Values": [recovery_point_id]}],
            )["Snapshots"]
        # Two only if two writers raced past the lookup: the first one started is the point.
        return min(found, key=lambda s: (s["StartTime"], s["SnapshotId"])) if found else None

    def _create(self, ref: ResourceRef, recovery_point_id: str, tags: dict[str, str]) -> None:
        if self._find(ref.region, recovery_point_id) is not None:
            raise RecoveryPointExists(recovery_point_id)
        with translated(_EC2_ERRORS, f"snapshot {recovery_point_id} of {ref.arn}"):
            self._ec2(ref.region).create_snapshot(
                VolumeId=ref.name,
                Description=f"Lifeboat recovery point {recovery_point_id}",
                TagSpecifications=_tag_spec(tags),
            )

    def describe_recovery_point(self, region: str, recovery_point_id: str) -> RecoveryPointFacts:
        snapshot = self._find(region, recovery_point_id)
        if snapshot is None:
            raise RecoveryPointNotFound(f"EBS snapshot {recovery_point_id} in {region}: not found")
        state = snapshot["State"]
        return RecoveryPointFacts(
            recovery_point_id=recovery_point_id,
            arn=f"arn:{_partition(region)}:ec2:{region}::snapshot/{snapshot['SnapshotId']}",
            region=region,
            status=state,
            ready=state == "completed",
            encrypted=bool(snapshot.get("Encrypted")),
            kms_key_id=snapshot.get("KmsKeyId"),
            size_gib=snapshot.get("VolumeSize"),
            tags=_tags(snapshot.get("Tags")),
            created_at=snapshot.get("StartTime"),
        )

    def _copy(
        self,
        ref: ResourceRef,
        recovery_point_id: str,
        target_region: str,
        kms_key_id: str | None,
    ) -> None:
        if self._find(target_region, recovery_point_id) is not None:
            raise RecoveryPointExists(recovery_point_id)
        source = self._find(ref.region, recovery_point_id)
        if source is None:
            raise RecoveryPointNotFound(f"EBS snapshot {recovery_point_id} in {ref.region}: not found")
        request: dict[str, Any] = {
            "SourceRegion": ref.region,
            "SourceSnapshotId": source["SnapshotId"],
            "Description": f"Lifeboat recovery point {recovery_point_id} (copy from {ref.region})",
            # CopySnapshot has no CopyTags: the copy gets the source's tags at creation.
            "TagSpecifications": _tag_spec(_tags(source.get("Tags"))),
        }
        if kms_key_id:
            request |= {"Encrypted": True, "KmsKeyId": kms_key_id}
        with translated(_EC2_ERRORS, f"copy of {recovery_point_id} to {target_region}"):
            self._ec2(target_region).copy_snapshot(**request)

    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
        snapshot = self._find(region, recovery_point_id)
        if snapshot is None:
            raise RecoveryPointNotFound(f"EBS snapshot {recovery_point_id} in {region}: not found")
        with translated(_EC2_ERRORS, f"deleting {recovery_point_id} in {region}"):
            self._ec2(region).delete_snapshot(SnapshotId=snapshot["SnapshotId"])

    def snapshot_quota(self, region: str) -> QuotaUsage | None:
        """None: EBS allows 100,000 snapshots per region, far from what Lifeboat keeps."""
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
