"""The ElastiCache for Redis plugin: snapshots in the group's region, DR copies through S3
(the package docstring tells the path)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import error_code, translated
from lifeboat.aws.tags import tag_dict, tag_list
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.recovery import Check, RecoveryPointFacts, SourceSpec, is_ours
from lifeboat.domain.restore import RestoredFacts, RestoreSpec
from lifeboat.errors import (
    InvalidInput,
    LifeboatError,
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
    RestoreTargetExists,
    RestoreWindow,
)
from lifeboat.plugins.elasticache.facts import (
    ENCRYPTION_TAG,
    NO_SSE,
    copy_checks,
    copy_facts,
    encryption,
    endpoint,
    shards,
    snapshot_checks,
    snapshot_facts,
)
from lifeboat.plugins.elasticache.permissions import IAM_ACTIONS, UNSUPPORTED
from lifeboat.plugins.elasticache.s3_transfer import (
    META_BYTES,
    META_ENGINE,
    META_NODE_TYPE,
    META_SHARDS,
    META_SNAPSHOT,
    META_VERSION,
    RdbBuckets,
    copy_prefix,
    s3_arn,
)

__all__ = ["ENCRYPTION_TAG", "ElastiCacheRedisPlugin"]

# AWS's resource type of replication groups in the Resource Groups Tagging API.
TAGGING_TYPE = "elasticache:replicationgroup"

_ELASTICACHE_ERRORS: dict[str, type[LifeboatError]] = {
    "ReplicationGroupNotFoundFault": ResourceNotFound,
    "CacheClusterNotFound": ResourceNotFound,
    # One snapshot at a time per group; a group being created, modified or deleted: retry later.
    "InvalidReplicationGroupState": ResourceNotReady,
    "InvalidSnapshotState": ResourceNotReady,
    "SnapshotNotFoundFault": RecoveryPointNotFound,
    "SnapshotQuotaExceededFault": SnapshotQuotaExceeded,
}
_RESTORE_ERRORS = _ELASTICACHE_ERRORS | {
    # The restore network or node type asked for does not exist or does not fit: the request.
    "CacheSubnetGroupNotFoundFault": InvalidInput,
    "CacheParameterGroupNotFound": InvalidInput,
    "CacheSecurityGroupNotFound": InvalidInput,
    "InvalidVPCNetworkStateFault": InvalidInput,
    "InvalidParameterValue": InvalidInput,
    "InvalidParameterCombination": InvalidInput,
    "ReplicationGroupAlreadyExists": RestoreTargetExists,
}
_ALREADY_EXISTS = frozenset({"SnapshotAlreadyExistsFault"})
# An id already taken is the base class's to judge (ours: success; anyone else's: a conflict).
_CREATE_ERRORS = _ELASTICACHE_ERRORS | dict.fromkeys(_ALREADY_EXISTS, RecoveryPointExists)
# A snapshot in these states finishes what it does first; it is exported once it is available.
_BUSY_SNAPSHOT = frozenset({"creating", "exporting", "copying", "restoring"})


class ElastiCacheRedisPlugin(ResourcePlugin):
    resource_type = "elasticache_redis"
    arn_service = "elasticache"
    arn_kind = "replicationgroup"
    # A copy is one export per point and S3 copies, with no per-region limit AWS documents that
    # Lifeboat knows of: the run's 20 resources at a time bound them.
    max_concurrent_copies = 20
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]] = IAM_ACTIONS
    unsupported: ClassVar[Mapping[PluginOperation, str]] = UNSUPPORTED

    def __init__(self, clients: ClientProvider) -> None:
        super().__init__(clients)
        self._files = RdbBuckets(clients, self._account)

    def _ec(self, region: str) -> Any:
        return self.clients("elasticache", region)

    # --- the source -----------------------------------------------------------------------
    def discover(self, region: str, tag_key: str) -> Iterator[tuple[str, str]]:
        """Tagged replication groups from the Resource Groups Tagging API, a page per 100.

        ``DescribeReplicationGroups`` returns no tags: listing groups would cost a
        ``ListTagsForResource`` per group on every discovery (the RPO monitor discovers every 15
        minutes). GetResources may list a group deleted moments ago; its preflight then reports
        ResourceNotFound.
        """
        return self._tagged(region, tag_key, TAGGING_TYPE, "replication groups")

    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        group = self._group(ref.region, ref.name)
        member = self._member(ref.region, group)
        address = endpoint(group)
        return SourceSpec(
            region=ref.region,
            status=group["Status"],
            engine=group.get("Engine") or member.get("Engine"),
            engine_version=member.get("EngineVersion"),
            encrypted=encryption(group) != NO_SSE,
            kms_key_id=group.get("KmsKeyId"),
            endpoint=address.get("Address"),
            port=address.get("Port"),
        )

    def _group(self, region: str, identifier: str) -> dict[str, Any]:
        with translated(_ELASTICACHE_ERRORS, f"describing replication group {identifier} in {region}"):
            found = self._ec(region).describe_replication_groups(ReplicationGroupId=identifier)
        return dict(found["ReplicationGroups"][0])

    def _member(self, region: str, group: dict[str, Any]) -> dict[str, Any]:
        """One member cluster of the group ({} when it has none): all members share the engine
        version and network settings."""
        members = group.get("MemberClusters") or []
        if not members:
            return {}
        with translated(_ELASTICACHE_ERRORS, f"describing cache cluster {members[0]} in {region}"):
            found = self._ec(region).describe_cache_clusters(CacheClusterId=members[0])
        return dict(found["CacheClusters"][0])

    def _resource_tags(self, region: str, arn: str) -> dict[str, str]:
        with translated(_ELASTICACHE_ERRORS, f"tags of {arn}"):
            return tag_dict(self._ec(region).list_tags_for_resource(ResourceName=arn).get("TagList"))

    def snapshot_quota(self, region: str) -> QuotaUsage | None:
        """None: ElastiCache has no API that reports a manual snapshot quota and its use (RDS has
        DescribeAccountAttributes). A refused CreateSnapshot is SnapshotQuotaExceeded."""
        return None

    # --- recovery points ------------------------------------------------------------------
    def _create(self, ref: ResourceRef, recovery_point_id: str, tags: dict[str, str]) -> None:
        """Snapshot the group under its own customer managed key, recording its encryption."""
        group = self._group(ref.region, ref.name)
        request: dict[str, Any] = {
            "SnapshotName": recovery_point_id,
            "ReplicationGroupId": ref.name,
            "Tags": tag_list(tags | {ENCRYPTION_TAG: encryption(group)}),
        }
        if group.get("KmsKeyId"):
            request["KmsKeyId"] = group["KmsKeyId"]
        with translated(_CREATE_ERRORS, f"snapshot {recovery_point_id} of {ref.arn}"):
            self._ec(ref.region).create_snapshot(**request)

    def _described_snapshot(self, region: str, recovery_point_id: str) -> dict[str, Any]:
        """The snapshot named ``recovery_point_id``: found by name, never by listing."""
        context = f"snapshot {recovery_point_id} in {region}"
        with translated(_ELASTICACHE_ERRORS, context):
            found = self._ec(region).describe_snapshots(SnapshotName=recovery_point_id)["Snapshots"]
        if not found:
            raise RecoveryPointNotFound(f"{context}: not found")
        return dict(found[0])

    def _snapshot(self, region: str, recovery_point_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The snapshot and its tags."""
        snapshot = self._described_snapshot(region, recovery_point_id)
        return snapshot, self._resource_tags(region, snapshot["ARN"])

    def describe_recovery_point(self, region: str, recovery_point_id: str) -> RecoveryPointFacts:
        """A copy in Lifeboat's bucket of ``region``, else the snapshot (the group's region)."""
        copy = self._files.dr_copy(region, recovery_point_id)
        if copy is not None:
            return copy_facts(region, recovery_point_id, copy)
        return snapshot_facts(region, *self._snapshot(region, recovery_point_id))

    def validate(
        self,
        region: str,
        recovery_point_id: str,
        source: SourceSpec,
        *,
        expected_kms_key_id: str | None,
        expected_tags: dict[str, str],
    ) -> tuple[RecoveryPointFacts, list[Check]]:
        """Level 1 for a cache snapshot: available, encrypted like the source (and with its key when
        that is a customer managed key), engine and version, tags, and the node type a restore uses.
        For a DR copy, the same against the DR key, plus its files and their size.

        No key check for a snapshot of a source under the service-managed key: neither side names a
        key. A copy's key is always checked: it is the DR region's."""
        if region != source.region:
            return self._validate_copy(
                region,
                recovery_point_id,
                source,
                expected_kms_key_id=expected_kms_key_id,
                expected_tags=expected_tags,
            )
        snapshot, tags = self._snapshot(region, recovery_point_id)
        facts = snapshot_facts(region, snapshot, tags)
        checks = snapshot_checks(
            facts, snapshot, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
        )
        return facts, checks

    def _validate_copy(
        self,
        region: str,
        recovery_point_id: str,
        source: SourceSpec,
        *,
        expected_kms_key_id: str | None,
        expected_tags: dict[str, str],
    ) -> tuple[RecoveryPointFacts, list[Check]]:
        copy = self._files.dr_copy(region, recovery_point_id)
        if copy is None:
            raise RecoveryPointNotFound(
                f"no copy of {recovery_point_id} in s3://{self._files.bucket(region)}/{copy_prefix(recovery_point_id)}"
            )
        facts = copy_facts(region, recovery_point_id, copy)
        checks = copy_checks(
            facts, copy, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
        )
        return facts, checks

    # --- DR copies ------------------------------------------------------------------------
    def _copy(
        self,
        ref: ResourceRef,
        recovery_point_id: str,
        target_region: str,
        kms_key_id: str | None,
    ) -> None:
        """Export the snapshot to S3 in its region, then copy each file not yet in the DR region.

        Each call does what is left: a complete copy is RecoveryPointExists (the base class checks
        its tags); while ElastiCache exports, ResourceNotReady, which the workflow retries.
        """
        self._learn_account(ref)
        existing = self._files.dr_copy(target_region, recovery_point_id)
        if existing is not None and (existing.complete or not is_ours(existing.tags, recovery_point_id)):
            raise RecoveryPointExists(recovery_point_id)
        snapshot, tags = self._snapshot(ref.region, recovery_point_id)
        exported = self._exported(ref.region, snapshot)
        self._files.ensure_bucket(target_region)
        done = {f["Key"] for f in existing.files} if existing else set()
        metadata = {
            META_ENGINE: str(snapshot.get("Engine") or ""),
            META_VERSION: str(snapshot.get("EngineVersion") or ""),
            META_NODE_TYPE: str(snapshot.get("CacheNodeType") or ""),
            META_SHARDS: str(len(exported)),
            META_SNAPSHOT: snapshot["ARN"],
        }
        # The point's Lifeboat tags (and the source's encryption), which prove the copy is ours.
        lifeboat_tags = {k: v for k, v in tags.items() if k.startswith("lifeboat:")}
        for file in exported:
            key = copy_prefix(recovery_point_id) + file["Key"]
            if key not in done:
                self._files.copy_file(
                    ref.region,
                    file,
                    target_region,
                    key,
                    kms_key_id=kms_key_id,
                    tags=lifeboat_tags,
                    metadata=metadata | {META_BYTES: str(file["Size"])},
                )

    def _exported(self, region: str, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
        """The export's .rdb files (``ListObjectsV2`` entries), starting the export if needed.

        ResourceNotReady until ElastiCache has written one file per shard.
        """
        point, status = snapshot["SnapshotName"], snapshot["SnapshotStatus"]
        bucket = self._files.bucket(region)
        if status in _BUSY_SNAPSHOT:
            raise ResourceNotReady(
                f"snapshot {point} in {region} is {status}; exporting it to s3://{bucket} waits"
            )
        if status != "available":
            raise RecoveryPointNotFound(f"snapshot {point} in {region} is {status}: nothing to export")
        files = [o for o in self._files.objects(region, f"{point}-") if o["Key"].endswith(".rdb")]
        if len(files) >= shards(snapshot):
            return sorted(files, key=lambda o: str(o["Key"]))
        self._files.ensure_bucket(region)
        try:
            with translated(_ELASTICACHE_ERRORS, f"exporting snapshot {point} to s3://{bucket}"):
                self._ec(region).copy_snapshot(
                    SourceSnapshotName=point, TargetSnapshotName=point, TargetBucket=bucket
                )
        except ClientError as exc:
            # Another DR region's copy step started this export first: wait for it.
            if error_code(exc) not in _ALREADY_EXISTS:
                raise
        raise ResourceNotReady(f"snapshot {point} in {region} is being exported to s3://{bucket}")

    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
        """A DR copy's files; or the snapshot and its export (the intermediate files of the DR
        copies, kept as long as the snapshot so that a retried copy needs no second export)."""
        copy = self._files.dr_copy(region, recovery_point_id)
        if copy is not None:
            self._files.delete_files(region, [f["Key"] for f in copy.files])
            self._files.abort_uploads(region, copy_prefix(recovery_point_id))
            return
        self._described_snapshot(region, recovery_point_id)
        exported = self._files.objects(region, f"{recovery_point_id}-")
        export = [o["Key"] for o in exported if o["Key"].endswith(".rdb")]
        self._files.delete_files(region, export)
        with translated(_ELASTICACHE_ERRORS, f"deleting snapshot {recovery_point_id} in {region}"):
            self._ec(region).delete_snapshot(SnapshotName=recovery_point_id)

    # --- restores -------------------------------------------------------------------------
    def restore_defaults(self, ref: ResourceRef) -> tuple[RestoreNetwork, dict[str, str]]:
        """The source's subnet group, security groups and parameter group (reported per member
        cluster, not per group), and its tags."""
        group = self._group(ref.region, ref.name)
        member = self._member(ref.region, group)
        network = RestoreNetwork(
            subnet_group=member.get("CacheSubnetGroupName"),
            security_group_ids=[g["SecurityGroupId"] for g in member.get("SecurityGroups") or []],
            parameter_group=(member.get("CacheParameterGroup") or {}).get("CacheParameterGroupName"),
        )
        return network, self._resource_tags(ref.region, group["ARN"])

    def _restore(self, recovery_point_id: str, spec: RestoreSpec) -> None:
        """A new replication group seeded from the point: the snapshot in its region, or a DR copy's
        .rdb files (``SnapshotArns``). Shaped like the snapshot (engine, version, node type,
        shards; one node per shard: add replicas after), encrypted at rest like its source under
        the point's key, in transit always.

        ElastiCache has neither public access nor deletion protection: its nodes have private
        addresses in the subnet group's VPC only.
        """
        copy = self._files.dr_copy(spec.region, recovery_point_id)
        if copy is None:
            snapshot, tags = self._snapshot(spec.region, recovery_point_id)
            point = snapshot_facts(spec.region, snapshot, tags)
            seed: dict[str, Any] = {"SnapshotName": recovery_point_id}
            shape = {
                k: snapshot.get(k) for k in ("Engine", "EngineVersion", "CacheNodeType", "NumNodeGroups")
            }
        else:
            point = copy_facts(spec.region, recovery_point_id, copy)
            if not point.ready:
                raise RecoveryPointNotFound(
                    f"the copy of {recovery_point_id} in {spec.region} is {point.status}"
                )
            seed = {"SnapshotArns": [s3_arn(copy.partition, copy.bucket, f["Key"]) for f in copy.files]}
            meta = copy.metadata
            shape = {
                "Engine": meta.get(META_ENGINE),
                "EngineVersion": meta.get(META_VERSION),
                "CacheNodeType": meta.get(META_NODE_TYPE),
                "NumNodeGroups": copy.shards,
            }
        request: dict[str, Any] = {
            "ReplicationGroupId": spec.target_id,
            "ReplicationGroupDescription": f"Restored by Lifeboat from {recovery_point_id}",
            "AtRestEncryptionEnabled": point.encrypted,
            "TransitEncryptionEnabled": True,
            "Tags": tag_list(spec.tags),
            **seed,
        }
        optional = shape | {
            "CacheNodeType": spec.instance_class or shape["CacheNodeType"],
            "KmsKeyId": point.kms_key_id,
            "CacheSubnetGroupName": spec.network.subnet_group,
            "SecurityGroupIds": spec.network.security_group_ids or None,
            "CacheParameterGroupName": spec.network.parameter_group,
            "PreferredCacheClusterAZs": [spec.network.availability_zone]
            if spec.network.availability_zone
            else None,
        }
        request |= {k: v for k, v in optional.items() if v}
        with translated(_RESTORE_ERRORS, f"restoring {spec.target_id} in {spec.region}"):
            self._ec(spec.region).create_replication_group(**request)

    def _restore_to_time(self, ref: ResourceRef, at: datetime, spec: RestoreSpec) -> None:
        self._unsupported(PluginOperation.RESTORE_TO_TIME)

    def restore_window(self, ref: ResourceRef) -> RestoreWindow | None:
        self._unsupported(PluginOperation.RESTORE_TO_TIME)

    def describe_restored(self, region: str, identifier: str) -> RestoredFacts:
        """No public access (None: the setting does not exist) and no deletion protection."""
        group = self._group(region, identifier)
        status = str(group["Status"])
        address = endpoint(group)
        return RestoredFacts(
            identifier=identifier,
            arn=group["ARN"],
            region=region,
            status=status,
            ready=status == "available",
            failed=status == "create-failed",
            endpoint=address.get("Address"),
            port=address.get("Port"),
            encrypted=encryption(group) != NO_SSE,
            kms_key_id=group.get("KmsKeyId"),
            engine=group.get("Engine"),
            tags=self._resource_tags(region, group["ARN"]),
        )

    def _delete_restored(self, region: str, identifier: str) -> None:
        """The whole group, its replicas included, without a final snapshot."""
        with translated(_ELASTICACHE_ERRORS, f"deleting replication group {identifier} in {region}"):
            self._ec(region).delete_replication_group(ReplicationGroupId=identifier)

    def tag_restored(self, restored: RestoredFacts, tags: dict[str, str]) -> None:
        with translated(_ELASTICACHE_ERRORS, f"tagging {restored.arn}"):
            self._ec(restored.region).add_tags_to_resource(ResourceName=restored.arn, Tags=tag_list(tags))
