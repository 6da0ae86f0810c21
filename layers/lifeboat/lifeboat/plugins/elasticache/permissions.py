"""What each operation of the ElastiCache plugin calls: the IAM actions the template grants."""

from __future__ import annotations

from collections.abc import Mapping

from lifeboat.plugins.base import PluginOperation

__all__ = ["IAM_ACTIONS", "UNSUPPORTED"]

IAM_ACTIONS: Mapping[PluginOperation, frozenset[str]] = {
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

UNSUPPORTED: Mapping[PluginOperation, str] = {
    PluginOperation.RESTORE_TO_TIME: (
        "ElastiCache for Redis has no point-in-time recovery; restore a recovery point (a "
        "snapshot) instead: the newest valid one by default, or --recovery-point"
    ),
    PluginOperation.CONTINUOUS: (
        "ElastiCache for Redis has no point-in-time recovery: its snapshots are its recovery "
        "points; add an hourly or every6h tier for a shorter RPO"
    ),
}
