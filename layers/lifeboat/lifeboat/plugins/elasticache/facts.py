"""What ElastiCache's answers say: a group's encryption and endpoint, a snapshot's or DR copy's
facts, and the level-1 checks a cache snapshot can answer."""

from __future__ import annotations

from typing import Any

from lifeboat.domain.recovery import Check, RecoveryPointFacts, SourceSpec, level1_checks
from lifeboat.plugins.elasticache.s3_transfer import (
    META_ENGINE,
    META_NODE_TYPE,
    META_VERSION,
    DrCopy,
    copy_prefix,
    s3_arn,
)

__all__ = [
    "ENCRYPTION_TAG",
    "NO_SSE",
    "copy_checks",
    "copy_facts",
    "encryption",
    "endpoint",
    "shards",
    "snapshot_checks",
    "snapshot_facts",
]

# The source's encryption at rest when the snapshot was made (AWS's StorageEncryptionType values).
ENCRYPTION_TAG = "lifeboat:at-rest-encryption"
SSE_KMS, SSE_SERVICE, NO_SSE = "sse-kms", "sse-elasticache", "none"
# Level-1 checks a snapshot cannot answer: it has no size of its own to match the source's
# (NodeSnapshots' CacheSize is the memory in use when each node was copied, which moves all the
# time; a node type is capacity, not data).
_NOT_FOR_SNAPSHOTS = frozenset({"size_gib"})


def encryption(group: dict[str, Any]) -> str:
    """The group's encryption at rest; older API answers lack StorageEncryptionType."""
    if group.get("StorageEncryptionType"):
        return str(group["StorageEncryptionType"])
    if not group.get("AtRestEncryptionEnabled"):
        return NO_SSE
    return SSE_KMS if group.get("KmsKeyId") else SSE_SERVICE


def endpoint(group: dict[str, Any]) -> dict[str, Any]:
    """The configuration endpoint (cluster mode) or the primary endpoint of the first shard."""
    if group.get("ConfigurationEndpoint"):
        return dict(group["ConfigurationEndpoint"])
    node_groups = group.get("NodeGroups") or [{}]
    return dict(node_groups[0].get("PrimaryEndpoint") or {})


def shards(snapshot: dict[str, Any]) -> int:
    """Shards in the snapshot: the export writes one .rdb file per shard."""
    return int(snapshot.get("NumNodeGroups") or len(snapshot.get("NodeSnapshots") or []) or 1)


def snapshot_facts(region: str, snapshot: dict[str, Any], tags: dict[str, str]) -> RecoveryPointFacts:
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


def copy_facts(region: str, recovery_point_id: str, copy: DrCopy) -> RecoveryPointFacts:
    """A DR copy: encrypted when every file is under a KMS key (the copy of an unencrypted
    source is under S3's own key), ready when complete."""
    keys = {f.get("SSEKMSKeyId") for f in copy.files}
    encrypted = all(f.get("ServerSideEncryption") == "aws:kms" for f in copy.files)
    status = "available" if copy.complete else f"incomplete ({len(copy.files)} of {copy.shards} files)"
    return RecoveryPointFacts(
        recovery_point_id=recovery_point_id,
        arn=s3_arn(copy.partition, copy.bucket, copy_prefix(recovery_point_id)),
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


def snapshot_checks(
    facts: RecoveryPointFacts,
    snapshot: dict[str, Any],
    source: SourceSpec,
    *,
    expected_kms_key_id: str | None,
    expected_tags: dict[str, str],
) -> list[Check]:
    """Level 1 of a snapshot in the group's region. No key check for a source under the
    service-managed key: neither side names a key."""
    service_key = source.encrypted and not source.kms_key_id
    skipped = _NOT_FOR_SNAPSHOTS | ({"kms_key"} if service_key else set())
    generic = level1_checks(
        facts, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
    )
    return [*(c for c in generic if c.name not in skipped), _node_type_check(snapshot.get("CacheNodeType"))]


def copy_checks(
    facts: RecoveryPointFacts,
    copy: DrCopy,
    source: SourceSpec,
    *,
    expected_kms_key_id: str | None,
    expected_tags: dict[str, str],
) -> list[Check]:
    """Level 1 of a DR copy: the same against the DR key (always checked), plus its files."""
    generic = level1_checks(
        facts, source, expected_kms_key_id=expected_kms_key_id, expected_tags=expected_tags
    )
    sizes = {f["Key"]: f["ContentLength"] for f in copy.files}
    return [
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


def _node_type_check(node_type: str | None) -> Check:
    return Check(
        name="node_type_recorded",
        expected="the node type a restore uses",
        actual=node_type,
        passed=bool(node_type),
    )
