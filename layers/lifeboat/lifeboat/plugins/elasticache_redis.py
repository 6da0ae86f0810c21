"""ElastiCache for Redis replication groups: manual snapshots, copied to DR regions through S3.

A recovery point is a manual snapshot named with the recovery point id (``CreateSnapshot``),
tagged at creation and found by name with one ``DescribeSnapshots``. ElastiCache copies no
snapshot across regions, so a DR copy takes the path AWS documents:

1. ``CopySnapshot`` with ``TargetBucket`` exports the snapshot into Lifeboat's bucket of the
   group's region (``lifeboat-elasticache-<account>-<region>``; AWS requires the snapshot's
   region), one ``<point>-0001.rdb`` file per shard. The export is asynchronous (the snapshot is
   ``exporting``): the copy step raises ResourceNotReady until the files are there, and the
   workflow retries it. One export serves every DR region.
2. Each ``.rdb`` file is copied by S3 into Lifeboat's bucket of the DR region, as
   ``<point>/<point>-0001.rdb``, encrypted (SSE-KMS) with that region's key, tagged with the
   point's Lifeboat tags and carrying what a restore needs (engine, version, node type, shard
   count, the export's size) as object metadata. A file above 256 MiB is copied in parts
   (``UploadPartCopy``): CopyObject stops at 5 GB.
3. A restore in the DR region creates a replication group seeded from the files' S3 ARNs
   (``SnapshotArns``).

Copies are idempotent: a point is found by its deterministic keys, a finished file is never
copied again, and a file interrupted mid-copy is started over (its unfinished upload aborted).
The export stays in the group's region as long as the snapshot and is deleted with it.

moto (on which Lifeboat's local mode and tests run) has no ``CopySnapshot``: the export call is
tested only against botocore's model of the request; everything after the export runs on moto.

Encryption at rest: ElastiCache names a snapshot's key (``KmsKeyId``) only for a customer
managed key, which Lifeboat passes explicitly (the source's key). A snapshot of a group under
ElastiCache's service-managed key, or of an unencrypted group, names none, and nothing else in
``DescribeSnapshots`` tells the two apart: Lifeboat records the source's encryption at rest on
the snapshot (``lifeboat:at-rest-encryption`` tag) so that a restore is encrypted like its source.
ElastiCache exports under S3-managed encryption only (no customer key); the DR copy is
re-encrypted with the DR region's key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlencode

from botocore.exceptions import ClientError

from lifeboat.aws.buckets import create_private_bucket
from lifeboat.aws.clients import ClientProvider
from lifeboat.aws.errors import error_code, translated
from lifeboat.aws.tags import tag_dict, tag_list
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.recovery import Check, RecoveryPointFacts, SourceSpec, is_ours, level1_checks
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
BUCKET_PREFIX = "lifeboat-elasticache"
# ElastiCache's canonical user in the regions enabled by default (AWS's "Exporting a backup" and
# "Seeding a new cluster" guides). GovCloud and China have their own; in an opt-in region
# ElastiCache needs a bucket policy instead, which an operator adds (README).
ELASTICACHE_CANONICAL_ID = "540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353"
# What a restore in a DR region needs from the snapshot, kept on each copied .rdb file.
META_ENGINE, META_VERSION, META_NODE_TYPE = "lifeboat-engine", "lifeboat-engine-version", "lifeboat-node-type"
META_SHARDS, META_BYTES, META_SNAPSHOT = "lifeboat-shards", "lifeboat-export-bytes", "lifeboat-snapshot-arn"
# Files above one part are copied in parts, in parallel (CopyObject stops at 5 GB; S3 allows
# 10,000 parts per object).
PART_BYTES = 256 * 1024 * 1024
MAX_PARTS = 10_000
COPY_THREADS = 8
# A copy step that died mid-file leaves an unfinished upload: S3 aborts it after this many days
# (a retried step aborts it at once).
ABANDONED_UPLOAD_DAYS = 7

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
_NO_BUCKET = frozenset({"NoSuchBucket", "404"})
# A snapshot in these states finishes what it does first; it is exported once it is available.
_BUSY_SNAPSHOT = frozenset({"creating", "exporting", "copying", "restoring"})
# Level-1 checks a snapshot cannot answer: it has no size of its own to match the source's
# (NodeSnapshots' CacheSize is the memory in use when each node was copied, which moves all the
# time; a node type is capacity, not data).
_NOT_FOR_SNAPSHOTS = frozenset({"size_gib"})


def bucket_name(account_id: str, region: str) -> str:
    """Lifeboat's bucket of a region: exports of the region's snapshots, DR copies of others."""
    return f"{BUCKET_PREFIX}-{account_id}-{region}"


def copy_prefix(recovery_point_id: str) -> str:
    """Where a DR copy's files are; an export's files are ``<point>-0001.rdb``... at the top."""
    return f"{recovery_point_id}/"


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


def _shards(snapshot: dict[str, Any]) -> int:
    """Shards in the snapshot: the export writes one .rdb file per shard."""
    return int(snapshot.get("NumNodeGroups") or len(snapshot.get("NodeSnapshots") or []) or 1)


def _sse(kms_key_id: str | None) -> dict[str, str]:
    if kms_key_id:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
    return {"ServerSideEncryption": "AES256"}


def _s3_arn(partition: str, bucket: str, key: str) -> str:
    return f"arn:{partition}:s3:::{bucket}/{key}"


class _DrCopy(NamedTuple):
    """A point's copy in a DR region: its .rdb files (HeadObject, with ``Key``) and tags."""

    bucket: str
    files: list[dict[str, Any]]
    tags: dict[str, str]

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.files[0].get("Metadata") or {})

    @property
    def shards(self) -> int:
        return int(self.metadata.get(META_SHARDS) or 0)

    @property
    def complete(self) -> bool:
        """Every shard's file is there, each as large as the export it was copied from."""
        whole = all(str(f["ContentLength"]) == (f.get("Metadata") or {}).get(META_BYTES) for f in self.files)
        return len(self.files) == self.shards and whole

    @property
    def partition(self) -> str:
        return self.metadata.get(META_SNAPSHOT, "arn:aws").split(":")[1]


class ElastiCacheRedisPlugin(ResourcePlugin):
    resource_type = "elasticache_redis"
    arn_service = "elasticache"
    arn_kind = "replicationgroup"
    # A copy is one export per point and S3 copies, with no per-region limit AWS documents that
    # Lifeboat knows of: the run's 20 resources at a time bound them.
    max_concurrent_copies = 20
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
        # A DR copy in Lifeboat's bucket of the region, else the snapshot.
        PluginOperation.DESCRIBE_RECOVERY_POINT: frozenset(
            {
                "elasticache:DescribeSnapshots",
                "elasticache:ListTagsForResource",
                "s3:ListBucket",
                "s3:GetObject",
                "s3:GetObjectTagging",
            }
        ),
        # The export (CopySnapshot also needs GetBucketLocation and ListAllMyBuckets, per AWS), the
        # buckets Lifeboat creates at first use, and the S3 copy under the DR key (through S3).
        PluginOperation.COPY: frozenset(
            {
                "elasticache:DescribeSnapshots",
                "elasticache:ListTagsForResource",
                "elasticache:CopySnapshot",
                "s3:GetBucketLocation",
                "s3:ListAllMyBuckets",
                "s3:ListBucket",
                "s3:CreateBucket",
                "s3:PutBucketPublicAccessBlock",
                "s3:GetBucketAcl",
                "s3:PutBucketAcl",
                "s3:PutLifecycleConfiguration",
                "s3:GetObject",
                "s3:GetObjectTagging",
                "s3:PutObject",
                "s3:PutObjectTagging",
                "s3:PutObjectAcl",
                "s3:ListBucketMultipartUploads",
                "s3:AbortMultipartUpload",
                "kms:GenerateDataKey",
                "kms:Decrypt",
            }
        ),
        # The snapshot and its export, or a DR copy's files.
        PluginOperation.DELETE: frozenset(
            {
                "elasticache:DescribeSnapshots",
                "elasticache:DeleteSnapshot",
                "s3:ListBucket",
                "s3:GetObject",
                "s3:GetObjectTagging",
                "s3:DeleteObject",
                "s3:ListBucketMultipartUploads",
                "s3:AbortMultipartUpload",
            }
        ),
        # From a DR copy, ElastiCache reads the files as the caller (s3:GetObject on each ARN).
        PluginOperation.RESTORE: frozenset(
            {
                "elasticache:DescribeSnapshots",
                "elasticache:ListTagsForResource",
                "elasticache:CreateReplicationGroup",
                "elasticache:AddTagsToResource",
                "s3:ListBucket",
                "s3:GetObject",
                "s3:GetObjectTagging",
                "kms:CreateGrant",
                "kms:DescribeKey",
                "kms:Decrypt",
            }
        ),
        PluginOperation.DESCRIBE_RESTORED: frozenset(
            {"elasticache:DescribeReplicationGroups", "elasticache:ListTagsForResource"}
        ),
        PluginOperation.DELETE_RESTORED: frozenset({"elasticache:DeleteReplicationGroup"}),
        PluginOperation.TAG_RESTORED: frozenset({"elasticache:AddTagsToResource"}),
    }
    unsupported: ClassVar[Mapping[PluginOperation, str]] = {
        PluginOperation.RESTORE_TO_TIME: (
            "ElastiCache for Redis has no point-in-time recovery; restore a recovery point (a "
            "snapshot) instead: the newest valid one by default, or --recovery-point"
        ),
    }

    def __init__(self, clients: ClientProvider) -> None:
        super().__init__(clients)
        # Lifeboat's buckets a listing of this step found: they need no set-up call.
        self._listed_buckets: set[str] = set()

    def _ec(self, region: str) -> Any:
        return self.clients("elasticache", region)

    def _s3(self, region: str) -> Any:
        return self.clients("s3", region)

    def _bucket(self, region: str) -> str:
        return bucket_name(self._account(region), region)

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

    def _copy_facts(self, region: str, recovery_point_id: str, copy: _DrCopy) -> RecoveryPointFacts:
        """A DR copy: encrypted when every file is under a KMS key (the copy of an unencrypted
        source is under S3's own key), ready when complete."""
        keys = {f.get("SSEKMSKeyId") for f in copy.files}
        encrypted = all(f.get("ServerSideEncryption") == "aws:kms" for f in copy.files)
        status = "available" if copy.complete else f"incomplete ({len(copy.files)} of {copy.shards} files)"
        return RecoveryPointFacts(
            recovery_point_id=recovery_point_id,
            arn=_s3_arn(copy.partition, copy.bucket, copy_prefix(recovery_point_id)),
            region=region,
            status=status,
            ready=copy.complete,
            encrypted=encrypted,
            kms_key_id=keys.pop() if encrypted and len(keys) == 1 else None,
            engine=copy.metadata.get(META_ENGINE),
            engine_version=copy.metadata.get(META_VERSION),
            tags=copy.tags,
            created_at=copy.files[0].get("LastModified"),
        )

    def describe_recovery_point(self, region: str, recovery_point_id: str) -> RecoveryPointFacts:
        """A copy in Lifeboat's bucket of ``region``, else the snapshot (the group's region)."""
        copy = self._dr_copy(region, recovery_point_id)
        if copy is not None:
            return self._copy_facts(region, recovery_point_id, copy)
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
        facts = self._facts(region, snapshot, tags)
        service_key = source.encrypted and not source.kms_key_id
        skipped = _NOT_FOR_SNAPSHOTS | ({"kms_key"} if service_key else set())
        generic = level1_checks(
            facts, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
        )
        node_type = snapshot.get("CacheNodeType")
        checks = [*(c for c in generic if c.name not in skipped), _node_type_check(node_type)]
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
        copy = self._dr_copy(region, recovery_point_id)
        if copy is None:
            raise RecoveryPointNotFound(
                f"no copy of {recovery_point_id} in s3://{self._bucket(region)}/{copy_prefix(recovery_point_id)}"
            )
        facts = self._copy_facts(region, recovery_point_id, copy)
        generic = level1_checks(
            facts, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
        )
        sizes = {f["Key"]: f["ContentLength"] for f in copy.files}
        checks = [
            *(c for c in generic if c.name not in _NOT_FOR_SNAPSHOTS),
            Check(
                name="rdb_files",
                expected=f"{copy.shards} file(s), each the size of its export",
                actual=sizes,
                passed=copy.complete,
            ),
            Check(
                name="size_bytes_recorded",
                expected="the size in bytes of the copied .rdb files",
                actual=sum(sizes.values()),
                passed=copy.complete,
            ),
            _node_type_check(copy.metadata.get(META_NODE_TYPE)),
        ]
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
        existing = self._dr_copy(target_region, recovery_point_id)
        if existing is not None and (existing.complete or not is_ours(existing.tags, recovery_point_id)):
            raise RecoveryPointExists(recovery_point_id)
        snapshot, tags = self._snapshot(ref.region, recovery_point_id)
        exported = self._exported(ref.region, snapshot)
        self._ensure_bucket(target_region)
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
                self._copy_file(
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
        bucket = self._bucket(region)
        if status in _BUSY_SNAPSHOT:
            raise ResourceNotReady(
                f"snapshot {point} in {region} is {status}; exporting it to s3://{bucket} waits"
            )
        if status != "available":
            raise RecoveryPointNotFound(f"snapshot {point} in {region} is {status}: nothing to export")
        files = [o for o in self._list(region, f"{point}-") if o["Key"].endswith(".rdb")]
        if len(files) >= _shards(snapshot):
            return sorted(files, key=lambda o: str(o["Key"]))
        self._ensure_bucket(region)
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

    def _copy_file(
        self,
        source_region: str,
        file: dict[str, Any],
        target_region: str,
        key: str,
        *,
        kms_key_id: str | None,
        tags: dict[str, str],
        metadata: dict[str, str],
    ) -> None:
        """One S3 copy across regions, tags and key set with the object (never an untagged copy).

        Above one part, a multipart copy: parts in parallel, the source pinned by its ETag; an
        unfinished upload of the key (a crashed attempt) is aborted first.
        """
        s3, bucket, account = (
            self._s3(target_region),
            self._bucket(target_region),
            self._account(target_region),
        )
        size, etag = int(file["Size"]), str(file["ETag"])
        source = {"Bucket": self._bucket(source_region), "Key": file["Key"]}
        owners = {"ExpectedBucketOwner": account, "ExpectedSourceBucketOwner": account}
        target = {
            "Bucket": bucket,
            "Key": key,
            "Metadata": metadata,
            "Tagging": urlencode(tags),
            # ElastiCache reads the file as its canonical user when it seeds a group from it.
            "GrantRead": f'id="{ELASTICACHE_CANONICAL_ID}"',
            "GrantReadACP": f'id="{ELASTICACHE_CANONICAL_ID}"',
            "ExpectedBucketOwner": account,
            **_sse(kms_key_id),
        }
        context = f"copying s3://{source['Bucket']}/{file['Key']} to s3://{bucket}/{key}"
        if size <= PART_BYTES:
            with translated({}, context):
                s3.copy_object(
                    CopySource=source,
                    CopySourceIfMatch=etag,
                    MetadataDirective="REPLACE",
                    TaggingDirective="REPLACE",
                    ExpectedSourceBucketOwner=account,
                    **target,
                )
            return
        self._abort_uploads(target_region, key)
        part = max(PART_BYTES, -(-size // MAX_PARTS))
        with translated({}, context):
            upload = s3.create_multipart_upload(**target)["UploadId"]

        def copy_part(number: int) -> dict[str, Any]:
            first = (number - 1) * part
            copied = s3.upload_part_copy(
                Bucket=bucket,
                Key=key,
                UploadId=upload,
                PartNumber=number,
                CopySource=source,
                CopySourceRange=f"bytes={first}-{min(first + part, size) - 1}",
                CopySourceIfMatch=etag,
                **owners,
            )
            return {"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]}

        try:
            with translated({}, context), ThreadPoolExecutor(COPY_THREADS) as pool:
                parts = list(pool.map(copy_part, range(1, -(-size // part) + 1)))
                s3.complete_multipart_upload(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload,
                    MultipartUpload={"Parts": parts},
                    ExpectedBucketOwner=account,
                )
        except BaseException:
            self._abort_uploads(target_region, key)
            raise

    def _dr_copy(self, region: str, recovery_point_id: str) -> _DrCopy | None:
        """The point's files in Lifeboat's bucket of ``region``, or None: one listing, then each
        file's HeadObject and the first file's tags."""
        listed = self._list(region, copy_prefix(recovery_point_id))
        if not listed:
            return None
        s3, bucket, owner = self._s3(region), self._bucket(region), self._account(region)
        with translated({}, f"copy of {recovery_point_id} in s3://{bucket}"):
            files = [
                s3.head_object(Bucket=bucket, Key=o["Key"], ExpectedBucketOwner=owner) | {"Key": o["Key"]}
                for o in listed
            ]
            tag_set = s3.get_object_tagging(Bucket=bucket, Key=listed[0]["Key"], ExpectedBucketOwner=owner)
        return _DrCopy(bucket, files, tag_dict(tag_set["TagSet"]))

    def _list(self, region: str, prefix: str) -> list[dict[str, Any]]:
        """Objects under ``prefix`` in Lifeboat's bucket of ``region`` ([] without the bucket)."""
        bucket = self._bucket(region)
        pages = (
            self._s3(region)
            .get_paginator("list_objects_v2")
            .paginate(Bucket=bucket, Prefix=prefix, ExpectedBucketOwner=self._account(region))
        )
        try:
            with translated({}, f"listing s3://{bucket}/{prefix}"):
                listed = [o for page in pages for o in page.get("Contents", [])]
        except ClientError as exc:
            if error_code(exc) in _NO_BUCKET:
                return []
            raise
        self._listed_buckets.add(bucket)
        return listed

    def _ensure_bucket(self, region: str) -> None:
        """Create Lifeboat's bucket of ``region`` unless this step's listing found it: private,
        ACLs on for ElastiCache (each caller lists the bucket first, so no extra call to ask).

        AWS requires an export's bucket to grant ElastiCache's canonical user READ (list objects),
        WRITE and READ_ACP; a seed's files grant it READ and READ_ACP (set per file on copy).
        """
        s3, bucket, account = self._s3(region), self._bucket(region), self._account(region)
        if bucket in self._listed_buckets:
            return
        create_private_bucket(s3, bucket, account=account, region=region, acls=True)
        owned = {"Bucket": bucket, "ExpectedBucketOwner": account}
        with translated({}, f"granting ElastiCache access to {bucket}"):
            owner = s3.get_bucket_acl(**owned)["Owner"]
            elasticache = {"Type": "CanonicalUser", "ID": ELASTICACHE_CANONICAL_ID}
            s3.put_bucket_acl(
                AccessControlPolicy={
                    "Owner": owner,
                    "Grants": [
                        {
                            "Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]},
                            "Permission": "FULL_CONTROL",
                        },
                        *({"Grantee": elasticache, "Permission": p} for p in ("READ", "WRITE", "READ_ACP")),
                    ],
                },
                **owned,
            )
            s3.put_bucket_lifecycle_configuration(
                LifecycleConfiguration={
                    "Rules": [
                        {
                            "ID": "abort-abandoned-copies",
                            "Status": "Enabled",
                            "Filter": {"Prefix": ""},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABANDONED_UPLOAD_DAYS},
                        }
                    ]
                },
                **owned,
            )

    def _abort_uploads(self, region: str, prefix: str) -> None:
        """Abort unfinished multipart copies under ``prefix`` (a crashed attempt's)."""
        s3, bucket, account = self._s3(region), self._bucket(region), self._account(region)
        with translated({}, f"unfinished uploads under s3://{bucket}/{prefix}"):
            pending = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix, ExpectedBucketOwner=account)
            for upload in pending.get("Uploads", []):
                s3.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"], ExpectedBucketOwner=account
                )

    def _delete_files(self, region: str, keys: list[str]) -> None:
        if not keys:
            return
        s3, bucket, account = self._s3(region), self._bucket(region), self._account(region)
        with translated({}, f"deleting {len(keys)} files from s3://{bucket}"):
            result = s3.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
                ExpectedBucketOwner=account,
            )
        if result.get("Errors"):
            first = result["Errors"][0].get("Code")
            raise ResourceNotReady(
                f"could not delete {len(result['Errors'])} files from s3://{bucket}: {first}"
            )

    def delete_recovery_point(self, region: str, recovery_point_id: str) -> None:
        """A DR copy's files; or the snapshot and its export (the intermediate files of the DR
        copies, kept as long as the snapshot so that a retried copy needs no second export)."""
        copy = self._dr_copy(region, recovery_point_id)
        if copy is not None:
            self._delete_files(region, [f["Key"] for f in copy.files])
            self._abort_uploads(region, copy_prefix(recovery_point_id))
            return
        self._described_snapshot(region, recovery_point_id)
        export = [o["Key"] for o in self._list(region, f"{recovery_point_id}-") if o["Key"].endswith(".rdb")]
        self._delete_files(region, export)
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
        copy = self._dr_copy(spec.region, recovery_point_id)
        if copy is None:
            snapshot, tags = self._snapshot(spec.region, recovery_point_id)
            point = self._facts(spec.region, snapshot, tags)
            seed: dict[str, Any] = {"SnapshotName": recovery_point_id}
            shape = {
                k: snapshot.get(k) for k in ("Engine", "EngineVersion", "CacheNodeType", "NumNodeGroups")
            }
        else:
            point = self._copy_facts(spec.region, recovery_point_id, copy)
            if not point.ready:
                raise RecoveryPointNotFound(
                    f"the copy of {recovery_point_id} in {spec.region} is {point.status}"
                )
            seed = {"SnapshotArns": [_s3_arn(copy.partition, copy.bucket, f["Key"]) for f in copy.files]}
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


def _node_type_check(node_type: str | None) -> Check:
    return Check(
        name="node_type_recorded",
        expected="the node type a restore uses",
        actual=node_type,
        passed=bool(node_type),
    )
