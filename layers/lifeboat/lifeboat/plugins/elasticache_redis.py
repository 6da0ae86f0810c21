"""ElastiCache for Redis replication groups: manual snapshots in the group's region.

A recovery point is a manual snapshot named with the recovery point id (``CreateSnapshot``),
tagged at creation and found by name with one ``DescribeSnapshots``. It is validated and
restored in the group's region only: ElastiCache has no cross-region snapshot copy. On AWS a
Redis snapshot leaves its region by ``CopySnapshot`` into an S3 bucket of that region
(``TargetBucket``), a cross-region S3 copy and a new replication group seeded from the ``.rdb``
file in the DR region, or continuously through ElastiCache Global Datastore. moto (on which
Lifeboat's local mode and tests run) has no ``CopySnapshot``, so that path could not be tested
and is not built: copies are declared unsupported, and the preflight refuses a Redis group under
a policy with DR regions before anything is created.

Encryption at rest: ElastiCache names a snapshot's key (``KmsKeyId``) only for a customer
managed key, which Lifeboat passes explicitly (the source's key). A snapshot of a group under
ElastiCache's service-managed key, or of an unencrypted group, names none, and nothing else in
``DescribeSnapshots`` tells the two apart: Lifeboat records the source's encryption at rest on
the snapshot (``lifeboat:at-rest-encryption`` tag) so that a restore is encrypted like its source.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from lifeboat.aws.errors import error_code, translated
from lifeboat.aws.tags import tag_dict, tag_list
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.recovery import Check, RecoveryPointFacts, SourceSpec, level1_checks
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

# The source's encryption at rest when the snapshot was made (AWS's StorageEncryptionType values).
ENCRYPTION_TAG = "lifeboat:at-rest-encryption"
SSE_KMS, SSE_SERVICE, NO_SSE = "sse-kms", "sse-elasticache", "none"
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
}
_ALREADY_EXISTS = frozenset({"SnapshotAlreadyExistsFault"})
_GROUP_EXISTS = frozenset({"ReplicationGroupAlreadyExists"})
# Level-1 checks a snapshot cannot answer: it has no size of its own to match the source's
# (NodeSnapshots' CacheSize is the memory in use when each node was copied, which moves all the
# time; a node type is capacity, not data).
_NOT_FOR_SNAPSHOTS = frozenset({"size_gib"})


def _encryption(group: dict[str, Any]) -> str:
    """The group's encryption at rest; older API answers lack StorageEncryptionType."""
    if group.get("StorageEncryptionType"):
        return str(group["StorageEncryptionType"])
    if not group.get("AtRestEncryptionEnabled"):
        return NO_SSE
    return SSE_KMS if group.get("KmsKeyId") else SSE_SERVICE


def _endpoint(group: dict[str, Any]) -> dict[str, Any]:
    """The configuration endpoint (cluster mode) or the primary endpoint of the first shard."""
    if group.get("ConfigurationEndpoint"):
        return dict(group["ConfigurationEndpoint"])
    shards = group.get("NodeGroups") or [{}]
    return dict(shards[0].get("PrimaryEndpoint") or {})


class ElastiCacheRedisPlugin(ResourcePlugin):
    resource_type = "elasticache_redis"
    arn_service = "elasticache"
    arn_kind = "replicationgroup"
    # ElastiCache copies no snapshot across regions (COPY is unsupported); the Map never runs.
    max_concurrent_copies = 1
    iam_actions: ClassVar[Mapping[PluginOperation, frozenset[str]]] = {
        PluginOperation.DISCOVER: frozenset({"tag:GetResources"}),
        # The group, then one member cluster: only a cluster reports the engine version and network.
        PluginOperation.DESCRIBE_SOURCE: frozenset(
            {
                "elasticache:DescribeReplicationGroups",
                "elasticache:DescribeCacheClusters",
                "elasticache:ListTagsForResource",
            }
        ),
        PluginOperation.SNAPSHOT_QUOTA: frozenset(),
        # The snapshot is encrypted with the group's customer managed key, named explicitly.
        PluginOperation.CREATE: frozenset(
            {
                "elasticache:DescribeReplicationGroups",
                "elasticache:CreateSnapshot",
                "elasticache:AddTagsToResource",
                "kms:CreateGrant",
                "kms:DescribeKey",
            }
        ),
        PluginOperation.DESCRIBE_RECOVERY_POINT: frozenset(
            {"elasticache:DescribeSnapshots", "elasticache:ListTagsForResource"}
        ),
        PluginOperation.DELETE: frozenset({"elasticache:DeleteSnapshot"}),
        PluginOperation.RESTORE: frozenset(
            {
                "elasticache:DescribeSnapshots",
                "elasticache:ListTagsForResource",
                "elasticache:CreateReplicationGroup",
                "elasticache:AddTagsToResource",
                "kms:CreateGrant",
                "kms:DescribeKey",
            }
        ),
        PluginOperation.DESCRIBE_RESTORED: frozenset(
            {"elasticache:DescribeReplicationGroups", "elasticache:ListTagsForResource"}
        ),
        PluginOperation.DELETE_RESTORED: frozenset({"elasticache:DeleteReplicationGroup"}),
        PluginOperation.TAG_RESTORED: frozenset({"elasticache:AddTagsToResource"}),
    }
    unsupported: ClassVar[Mapping[PluginOperation, str]] = {
        PluginOperation.COPY: (
            "ElastiCache has no cross-region snapshot copy; on AWS a Redis snapshot reaches another "
            "region only by CopySnapshot into an S3 bucket (TargetBucket), a cross-region S3 copy and "
            "a replication group seeded from the .rdb file there, which Lifeboat does not build (its "
            "test emulator has no CopySnapshot). Protect the group with a policy without drRegions, "
            "and use ElastiCache Global Datastore for cross-region recovery"
        ),
        PluginOperation.RESTORE_TO_TIME: (
            "ElastiCache for Redis has no point-in-time recovery; restore a recovery point (a "
            "snapshot) instead: the newest valid one by default, or --recovery-point"
        ),
    }

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
        pages = (
            self.clients("resourcegroupstaggingapi", region)
            .get_paginator("get_resources")
            .paginate(ResourceTypeFilters=[TAGGING_TYPE], TagFilters=[{"Key": tag_key}])
        )
        with translated({}, f"listing replication groups tagged {tag_key} in {region}"):
            for page in pages:
                for mapping in page["ResourceTagMappingList"]:
                    policy = tag_dict(mapping.get("Tags")).get(tag_key)
                    if policy:
                        yield mapping["ResourceARN"], policy

    def describe_source(self, ref: ResourceRef) -> SourceSpec:
        group = self._group(ref.region, ref.name)
        member = self._member(ref.region, group)
        endpoint = _endpoint(group)
        return SourceSpec(
            region=ref.region,
            status=group["Status"],
            engine=group.get("Engine") or member.get("Engine"),
            engine_version=member.get("EngineVersion"),
            encrypted=_encryption(group) != NO_SSE,
            kms_key_id=group.get("KmsKeyId"),
            endpoint=endpoint.get("Address"),
            port=endpoint.get("Port"),
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
            "Tags": tag_list(tags | {ENCRYPTION_TAG: _encryption(group)}),
        }
        if group.get("KmsKeyId"):
            request["KmsKeyId"] = group["KmsKeyId"]
        try:
            with translated(_ELASTICACHE_ERRORS, f"snapshot {recovery_point_id} of {ref.arn}"):
                self._ec(ref.region).create_snapshot(**request)
        except ClientError as exc:
            if error_code(exc) in _ALREADY_EXISTS:
                raise RecoveryPointExists(recovery_point_id) from exc
            raise

    def _snapshot(self, region: str, recovery_point_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The snapshot named ``recovery_point_id`` and its tags: found by name, never by listing."""
        context = f"snapshot {recovery_point_id} in {region}"
        with translated(_ELASTICACHE_ERRORS, context):
            found = self._ec(region).describe_snapshots(SnapshotName=recovery_point_id)["Snapshots"]
        if not found:
            raise RecoveryPointNotFound(f"{context}: not found")
        snapshot = dict(found[0])
        return snapshot, self._resource_tags(region, snapshot["ARN"])

    @staticmethod
    def _facts(region: str, snapshot: dict[str, Any], tags: dict[str, str]) -> RecoveryPointFacts:
        key = snapshot.get("KmsKeyId")
        nodes = snapshot.get("NodeSnapshots") or [{}]
        return RecoveryPointFacts(
            recovery_point_id=snapshot["SnapshotName"],
            arn=snapshot["ARN"],
            region=region,
            status=snapshot["SnapshotStatus"],
            ready=snapshot["SnapshotStatus"] == "available",
            # A key named by ElastiCache, or the service-managed key Lifeboat recorded at creation.
            encrypted=key is not None or tags.get(ENCRYPTION_TAG) == SSE_SERVICE,
            kms_key_id=key,
            engine=snapshot.get("Engine"),
            engine_version=snapshot.get("EngineVersion"),
            tags=tags,
            created_at=nodes[0].get("SnapshotCreateTime"),
        )

    def describe_recovery_point(self, region: str, recovery_point_id: str) -> RecoveryPointFacts:
        return self._facts(region, *self._snapshot(region, recovery_point_id))

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

        No key check for a source under the service-managed key: neither side names a key."""
        snapshot, tags = self._snapshot(region, recovery_point_id)
        facts = self._facts(region, snapshot, tags)
        service_key = source.encrypted and not source.kms_key_id
        skipped = _NOT_FOR_SNAPSHOTS | ({"kms_key"} if service_key else set())
        generic = level1_checks(
            facts, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
        )
        node_type = snapshot.get("CacheNodeType")
        checks = [
            *(c for c in generic if c.name not in skipped),
            Check(
                name="node_type_recorded",
                expected="the node type a restore uses",
                actual=node_type,
                passed=bool(node_type),
            ),
        ]
        return facts, checks

    def _copy(
        self,
        ref: ResourceRef,
        recovery_point_id: str,
        target_region: str,
        kms_key_id: str | None,
    ) -> None:
        self._unsupported(PluginOperation.COPY)

    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
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
        """A new replication group seeded from the snapshot, shaped like it (engine, version, node
        type, shards; one node per shard: add replicas after), encrypted at rest like its source,
        in transit always.

        ElastiCache has neither public access nor deletion protection: its nodes have private
        addresses in the subnet group's VPC only.
        """
        snapshot, tags = self._snapshot(spec.region, recovery_point_id)
        point = self._facts(spec.region, snapshot, tags)
        request: dict[str, Any] = {
            "ReplicationGroupId": spec.target_id,
            "ReplicationGroupDescription": f"Restored by Lifeboat from {recovery_point_id}",
            "SnapshotName": recovery_point_id,
            "AtRestEncryptionEnabled": point.encrypted,
            "TransitEncryptionEnabled": True,
            "Tags": tag_list(spec.tags),
        }
        optional = {
            "Engine": snapshot.get("Engine"),
            "EngineVersion": snapshot.get("EngineVersion"),
            "CacheNodeType": spec.instance_class or snapshot.get("CacheNodeType"),
            "NumNodeGroups": snapshot.get("NumNodeGroups"),
            "KmsKeyId": point.kms_key_id,
            "CacheSubnetGroupName": spec.network.subnet_group,
            "SecurityGroupIds": spec.network.security_group_ids or None,
            "CacheParameterGroupName": spec.network.parameter_group,
            "PreferredCacheClusterAZs": [spec.network.availability_zone]
            if spec.network.availability_zone
            else None,
        }
        request |= {k: v for k, v in optional.items() if v}
        try:
            with translated(_RESTORE_ERRORS, f"restoring {spec.target_id} in {spec.region}"):
                self._ec(spec.region).create_replication_group(**request)
        except ClientError as exc:
            if error_code(exc) in _GROUP_EXISTS:
                raise RestoreTargetExists(spec.target_id) from exc
            raise

    def _restore_to_time(self, ref: ResourceRef, at: datetime, spec: RestoreSpec) -> None:
        self._unsupported(PluginOperation.RESTORE_TO_TIME)

    def restore_window(self, ref: ResourceRef) -> RestoreWindow | None:
        self._unsupported(PluginOperation.RESTORE_TO_TIME)

    def describe_restored(self, region: str, identifier: str) -> RestoredFacts:
        """No public access (None: the setting does not exist) and no deletion protection."""
        group = self._group(region, identifier)
        status = str(group["Status"])
        endpoint = _endpoint(group)
        return RestoredFacts(
            identifier=identifier,
            arn=group["ARN"],
            region=region,
            status=status,
            ready=status == "available",
            failed=status == "create-failed",
            endpoint=endpoint.get("Address"),
            port=endpoint.get("Port"),
            encrypted=_encryption(group) != NO_SSE,
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
