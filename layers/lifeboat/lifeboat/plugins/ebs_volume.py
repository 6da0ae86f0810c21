"""EBS volumes: snapshots tagged at creation, copied across regions with ``CopySnapshot``.

EBS snapshot ids are chosen by AWS, so a recovery point is found by its
``lifeboat:recovery-point-id`` tag with one filtered ``DescribeSnapshots`` of our own
snapshots, in the source region and in each DR region: never by listing the account's
snapshots. Create and copy look for the tagged snapshot first, which makes a retried step find
the snapshot the first attempt started instead of starting a second one.

A restore creates a *new* volume from the recovery point's snapshot (``CreateVolume``), in the
availability zone asked for (the request's or the policy's restore network), else the source's
own zone (same region), else the region's first zone. Volume ids are AWS's too, so a restore
target is the volume whose ``Name`` tag is the target identifier, found with one filtered
``DescribeVolumes``; the volume carries it from creation, with the restore's tags (EBS takes tags
at creation), encrypted with the snapshot's key, with the source's volume type and performance
where the source can still be read. EBS has no point-in-time restore.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from lifeboat.aws.clients import mutation_client
from lifeboat.aws.errors import translated
from lifeboat.aws.tags import tag_dict, tag_list
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.recovery import RECOVERY_POINT_TAG, RESOURCE_TAG, RecoveryPointFacts, SourceSpec
from lifeboat.domain.restore import RESTORE_OPERATION_TAG, RestoredFacts, RestoreSpec
from lifeboat.errors import (
    InvalidInput,
    RecoveryPointNotFound,
    ResourceNotFound,
    ResourceNotReady,
    SnapshotQuotaExceeded,
    TransientAwsError,
)
from lifeboat.plugins.base import (
    PluginOperation,
    QuotaUsage,
    RecoveryPointExists,
    ResourcePlugin,
    RestoreTargetExists,
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
    # Restores: an attached volume cannot be deleted yet; a zone that does not exist is the request.
    "VolumeInUse": ResourceNotReady,
    "InvalidZone.NotFound": InvalidInput,
}
# A volume can be snapshotted while attached (in-use) or detached (available); a restored volume
# in either state has been created.
_SNAPSHOTTABLE = frozenset({"available", "in-use"})
# A restore target is the volume carrying this tag = the target identifier.
NAME_TAG = "Name"
# Every state but "deleted": a volume deleted a moment ago no longer holds its name.
_LIVE_STATES = ["creating", "available", "in-use", "deleting", "error"]
# Volume types whose IOPS / throughput are set on creation (others derive them from the size).
_PROVISIONED_IOPS = frozenset({"io1", "io2", "gp3"})
_PROVISIONED_THROUGHPUT = frozenset({"gp3"})


def _tag_spec(tags: dict[str, str], resource_type: str = "snapshot") -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": tag_list(tags)}]


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
    # EBS Snapshot Notification: createSnapshot and copySnapshot, succeeded or failed.
    completion_events = frozenset({"snapshot", "copy"})
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]] = {
        PluginOperation.DISCOVER: frozenset({"ec2:DescribeVolumes"}),
        PluginOperation.DESCRIBE_SOURCE: frozenset({"ec2:DescribeVolumes"}),
        PluginOperation.SNAPSHOT_QUOTA: frozenset(),
        # DeleteSnapshot: the second snapshot of a point that two racing executions both made.
        PluginOperation.CREATE: frozenset(
            {"ec2:CreateSnapshot", "ec2:CreateTags", "ec2:DescribeSnapshots", "ec2:DeleteSnapshot"}
        ),
        PluginOperation.DESCRIBE_RECOVERY_POINT: frozenset({"ec2:DescribeSnapshots"}),
        PluginOperation.COPY: frozenset(
            {"ec2:CopySnapshot", "ec2:CreateTags", "ec2:DescribeSnapshots", "ec2:DeleteSnapshot"}
        ),
        PluginOperation.DELETE: frozenset({"ec2:DeleteSnapshot", "ec2:DescribeSnapshots"}),
        # The target is looked up by name first (a retried step), the snapshot by its tag, the
        # source for its zone and performance. EBS uses the snapshot's KMS key for the caller.
        PluginOperation.RESTORE: frozenset(
            {
                "ec2:DescribeVolumes",
                "ec2:DescribeSnapshots",
                "ec2:DescribeAvailabilityZones",
                "ec2:CreateVolume",
                "ec2:CreateTags",
                "kms:CreateGrant",
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            }
        ),
        PluginOperation.DESCRIBE_RESTORED: frozenset({"ec2:DescribeVolumes"}),
        PluginOperation.DELETE_RESTORED: frozenset({"ec2:DescribeVolumes", "ec2:DeleteVolume"}),
        PluginOperation.TAG_RESTORED: frozenset({"ec2:CreateTags"}),
    }
    unsupported: ClassVar[Mapping[PluginOperation, str]] = {
        PluginOperation.RESTORE_TO_TIME: (
            "EBS volumes have no point-in-time window: AWS restores a volume only from a snapshot; "
            "restore a recovery point instead (the newest valid one by default, or --recovery-point)"
        ),
        PluginOperation.CONTINUOUS: (
            "EBS volumes have no continuous protection: their snapshots are their recovery points; "
            "add an hourly or every6h tier for a shorter RPO"
        ),
    }

    def _ec2(self, region: str) -> Any:
        return self.clients("ec2", region)

    def _volume_arn(self, region: str, volume_id: str) -> str:
        return f"arn:{_partition(region)}:ec2:{region}:{self._account(region)}:volume/{volume_id}"

    def discover(self, region: str, tag_key: str) -> Iterator[tuple[str, str]]:
        pages = (
            self._ec2(region)
            .get_paginator("describe_volumes")
            .paginate(Filters=[{"Name": "tag-key", "Values": [tag_key]}])
        )
        with translated(_EC2_ERRORS, f"listing EBS volumes in {region}"):
            for page in pages:
                for volume in page["Volumes"]:
                    policy = tag_dict(volume.get("Tags")).get(tag_key)
                    if policy:
                        yield self._volume_arn(region, volume["VolumeId"]), policy

    def _volume(self, ref: ResourceRef) -> dict[str, Any]:
        with translated(_EC2_ERRORS, f"describing {ref.arn}"):
            volumes = self._ec2(ref.region).describe_volumes(VolumeIds=[ref.name])["Volumes"]
        if not volumes:
            raise ResourceNotFound(f"describing {ref.arn}: no such volume")
        return dict(volumes[0])

    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        volume = self._volume(ref)
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

    def _found(self, region: str, recovery_point_id: str) -> list[dict[str, Any]]:
        """Our snapshots with that recovery point id in ``region``, first started first: one
        filtered call. More than one only if two writers raced past the lookup."""
        with translated(_EC2_ERRORS, f"snapshot {recovery_point_id} in {region}"):
            found = self._ec2(region).describe_snapshots(
                OwnerIds=["self"],
                Filters=[{"Name": f"tag:{RECOVERY_POINT_TAG}", "Values": [recovery_point_id]}],
            )["Snapshots"]
        return sorted(found, key=lambda s: (s["StartTime"], s["SnapshotId"]))

    def _find(self, region: str, recovery_point_id: str) -> dict[str, Any] | None:
        """The recovery point's snapshot in ``region``: the first one started."""
        found = self._found(region, recovery_point_id)
        return found[0] if found else None

    def _settle(self, region: str, recovery_point_id: str) -> dict[str, Any] | None:
        """The first snapshot started is the point; any later one is a racing writer's second
        and is deleted (deleting a pending snapshot or copy cancels it). Every writer settles
        whenever it looks, so a second whose maker lost its answer, or failed to delete it, is
        removed by whichever step looks next: a snapshot that is later than another in one
        listing is never the first, so no two writers disagree on what to keep."""
        found = self._found(region, recovery_point_id)
        for second in found[1:]:
            try:
                with translated(_EC2_ERRORS, f"deleting a second {recovery_point_id} in {region}"):
                    self._ec2(region).delete_snapshot(SnapshotId=second["SnapshotId"])
            except RecoveryPointNotFound:
                pass  # another writer deleted it, or a resent delete whose first answer was lost
        return found[0] if found else None

    def _create(self, ref: ResourceRef, recovery_point_id: str, tags: dict[str, str]) -> None:
        if self._settle(ref.region, recovery_point_id) is not None:
            raise RecoveryPointExists(recovery_point_id)
        request = {
            "VolumeId": ref.name,
            "Description": f"Lifeboat recovery point {recovery_point_id}",
            "TagSpecifications": _tag_spec(tags),
        }
        self._send_once(ref.region, recovery_point_id, "create_snapshot", request)

    def _send_once(self, region: str, recovery_point_id: str, call: str, request: dict[str, Any]) -> None:
        """CreateSnapshot and CopySnapshot take no client token: each is sent once, and when its
        answer is lost (a timeout, a throttle, a 5xx) Lifeboat looks for the snapshot, tagged
        at creation, before anything sends it again. Found: the call happened. Not found: the
        error stands and the workflow retries the step, which looks first.

        Two executions of one run (a schedule delivered twice) can both look, find nothing and
        send: both settle afterwards (and on any retry), keeping the first snapshot started."""
        context = f"{call.replace('_', ' ')} {recovery_point_id} in {region}"
        try:
            with translated(_EC2_ERRORS, context):
                getattr(mutation_client(self.clients, "ec2", region), call)(**request)
        except TransientAwsError:
            if self._settle(region, recovery_point_id) is None:
                raise
            return
        self._settle(region, recovery_point_id)

    def point_identifier(self, region: str, recovery_point_id: str) -> str:
        """EBS names snapshots itself (``snap-...``): the point's, found by its tag."""
        snapshot = self._find(region, recovery_point_id)
        if snapshot is None:
            raise RecoveryPointNotFound(f"EBS snapshot {recovery_point_id} in {region}: not found")
        return str(snapshot["SnapshotId"])

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
            tags=tag_dict(snapshot.get("Tags")),
            created_at=snapshot.get("StartTime"),
        )

    def _copy(
        self,
        ref: ResourceRef,
        recovery_point_id: str,
        target_region: str,
        kms_key_id: str | None,
    ) -> None:
        if self._settle(target_region, recovery_point_id) is not None:
            raise RecoveryPointExists(recovery_point_id)
        source = self._find(ref.region, recovery_point_id)
        if source is None:
            raise RecoveryPointNotFound(f"EBS snapshot {recovery_point_id} in {ref.region}: not found")
        request: dict[str, Any] = {
            "SourceRegion": ref.region,
            "SourceSnapshotId": source["SnapshotId"],
            "Description": f"Lifeboat recovery point {recovery_point_id} (copy from {ref.region})",
            # CopySnapshot has no CopyTags: the copy gets the source's tags at creation.
            "TagSpecifications": _tag_spec(tag_dict(source.get("Tags"))),
        }
        if kms_key_id:
            request |= {"Encrypted": True, "KmsKeyId": kms_key_id}
        self._send_once(target_region, recovery_point_id, "copy_snapshot", request)

    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
        """Every snapshot of the point: a racing writer's second goes with the first."""
        found = self._found(region, recovery_point_id)
        if not found:
            raise RecoveryPointNotFound(f"EBS snapshot {recovery_point_id} in {region}: not found")
        for snapshot in found:
            try:
                with translated(_EC2_ERRORS, f"deleting {recovery_point_id} in {region}"):
                    self._ec2(region).delete_snapshot(SnapshotId=snapshot["SnapshotId"])
            except RecoveryPointNotFound:
                pass  # gone since the listing: a racing delete

    def snapshot_quota(self, region: str) -> QuotaUsage | None:
        """None: EBS allows 100,000 snapshots per region, far from what Lifeboat keeps."""
        return None

    # --- restores --------------------------------------------------------------------------
    def restore_defaults(self, ref: ResourceRef) -> tuple[RestoreNetwork, dict[str, str]]:
        """The source's availability zone, and its tags but its Name: a restore is named after
        its target identifier."""
        volume = self._volume(ref)
        tags = {k: v for k, v in tag_dict(volume.get("Tags")).items() if k != NAME_TAG}
        return RestoreNetwork(availability_zone=volume["AvailabilityZone"]), tags

    def _targets(self, region: str, name: str) -> list[dict[str, Any]]:
        """The volumes named ``name`` in ``region``, oldest first: one filtered call, never a
        listing of the account's volumes."""
        with translated(_EC2_ERRORS, f"volumes named {name} in {region}"):
            found = self._ec2(region).describe_volumes(
                Filters=[
                    {"Name": f"tag:{NAME_TAG}", "Values": [name]},
                    {"Name": "status", "Values": _LIVE_STATES},
                ]
            )["Volumes"]
        return sorted(found, key=lambda v: (v["CreateTime"], v["VolumeId"]))

    def _target(self, region: str, name: str) -> dict[str, Any]:
        """The restore target ``name``: the oldest volume of that name (two exist only if someone
        else named one alike; the first one holds the name)."""
        found = self._targets(region, name)
        if not found:
            raise ResourceNotFound(f"no EBS volume named {name} in {region}")
        return found[0]

    def _restore(self, recovery_point_id: str, spec: RestoreSpec) -> None:
        if self._targets(spec.region, spec.target_id):
            raise RestoreTargetExists(spec.target_id)
        snapshot = self._find(spec.region, recovery_point_id)
        if snapshot is None:
            raise RecoveryPointNotFound(f"EBS snapshot {recovery_point_id} in {spec.region}: not found")
        operation = spec.tags.get(RESTORE_OPERATION_TAG, "")
        request: dict[str, Any] = {
            "SnapshotId": snapshot["SnapshotId"],
            "AvailabilityZone": spec.network.availability_zone or self._first_zone(spec.region),
            "TagSpecifications": _tag_spec(spec.tags | {NAME_TAG: spec.target_id}, "volume"),
            # A retried request gets back the volume it created (moto ignores the token; the
            # lookup by name above is what a retried step relies on locally).
            "ClientToken": hashlib.sha256(f"{operation}|{spec.region}|{spec.target_id}".encode()).hexdigest(),
        }
        if snapshot.get("Encrypted"):
            request["Encrypted"] = True
            if snapshot.get("KmsKeyId"):
                request["KmsKeyId"] = snapshot["KmsKeyId"]
        request |= self._source_performance(spec)
        with translated(_EC2_ERRORS, f"restoring {spec.target_id} in {spec.region}"):
            self._ec2(spec.region).create_volume(**request)

    def _first_zone(self, region: str) -> str:
        with translated(_EC2_ERRORS, f"availability zones of {region}"):
            zones = self._ec2(region).describe_availability_zones(
                Filters=[
                    {"Name": "state", "Values": ["available"]},
                    {"Name": "zone-type", "Values": ["availability-zone"]},
                ]
            )["AvailabilityZones"]
        if not zones:
            raise InvalidInput(f"{region} has no available availability zone to restore a volume in")
        return str(min(z["ZoneName"] for z in zones))

    def _source_performance(self, spec: RestoreSpec) -> dict[str, Any]:
        """The source's volume type, IOPS and throughput, so the restore performs like it; nothing
        (EBS's default type) when the source, named by the ``lifeboat:resource-arn`` tag, is gone."""
        try:
            source = ResourceRef.parse(spec.tags.get(RESOURCE_TAG, ""))
        except ValueError:
            return {}
        if (source.service, source.kind) != (self.arn_service, self.arn_kind):
            return {}
        try:
            volume = self._volume(source)
        except ResourceNotFound:
            return {}
        kind = volume.get("VolumeType")
        request: dict[str, Any] = {"VolumeType": kind} if kind else {}
        if kind in _PROVISIONED_IOPS and volume.get("Iops"):
            request["Iops"] = volume["Iops"]
        if kind in _PROVISIONED_THROUGHPUT and volume.get("Throughput"):
            request["Throughput"] = volume["Throughput"]
        return request

    def _restore_to_time(self, ref: ResourceRef, at: datetime, spec: RestoreSpec) -> None:
        self._unsupported(PluginOperation.RESTORE_TO_TIME)

    def restore_window(self, ref: ResourceRef) -> RestoreWindow | None:
        self._unsupported(PluginOperation.RESTORE_TO_TIME)

    def describe_restored(self, region: str, identifier: str) -> RestoredFacts:
        """A volume has no endpoint, engine or deletion protection, and cannot be public."""
        volume = self._target(region, identifier)
        state = str(volume["State"])
        return RestoredFacts(
            identifier=identifier,
            arn=self._volume_arn(region, volume["VolumeId"]),
            region=region,
            status=state,
            ready=state in _SNAPSHOTTABLE,
            failed=state == "error",
            encrypted=bool(volume.get("Encrypted")),
            kms_key_id=volume.get("KmsKeyId"),
            tags=tag_dict(volume.get("Tags")),
        )

    def _delete_restored(self, region: str, identifier: str) -> None:
        volume_id = self._target(region, identifier)["VolumeId"]
        with translated(_EC2_ERRORS, f"deleting {identifier} ({volume_id}) in {region}"):
            self._ec2(region).delete_volume(VolumeId=volume_id)

    def tag_restored(self, restored: RestoredFacts, tags: dict[str, str]) -> None:
        with translated(_EC2_ERRORS, f"tagging {restored.arn}"):
            self._ec2(restored.region).create_tags(
                Resources=[restored.arn.rsplit("/", 1)[-1]], Tags=tag_list(tags)
            )
