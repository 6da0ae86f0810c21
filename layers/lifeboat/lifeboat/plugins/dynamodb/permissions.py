"""What each operation of the DynamoDB plugin calls: the IAM actions the template grants."""

from __future__ import annotations

from collections.abc import Mapping

from lifeboat.plugins.base import PluginOperation

__all__ = ["IAM_ACTIONS"]

IAM_ACTIONS: Mapping[PluginOperation, frozenset[str]] = {
    PluginOperation.DISCOVER: frozenset({"tag:GetResources"}),
    PluginOperation.DESCRIBE_SOURCE: frozenset({"dynamodb:DescribeTable"}),
    PluginOperation.SNAPSHOT_QUOTA: frozenset(),
    PluginOperation.CREATE: frozenset(
        {
            "dynamodb:DescribeTable",
            "dynamodb:CreateBackup",
            "dynamodb:ListBackups",
            "s3:ListBucket",
            "s3:CreateBucket",
            "s3:PutBucketPublicAccessBlock",
            "s3:GetObject",
            "s3:GetObjectTagging",
            "s3:PutObject",
            "s3:PutObjectTagging",
        }
    ),
    PluginOperation.DESCRIBE_RECOVERY_POINT: frozenset(
        {
            "s3:ListBucket",
            "s3:GetObject",
            "s3:GetObjectTagging",
            "dynamodb:DescribeBackup",
            "dynamodb:ListBackups",
            "dynamodb:DescribeExport",
        }
    ),
    # The export writes into the bucket with the caller's permissions, under the DR key.
    PluginOperation.COPY: frozenset(
        {
            "dynamodb:ExportTableToPointInTime",
            "s3:ListBucket",
            "s3:CreateBucket",
            "s3:PutBucketPublicAccessBlock",
            "s3:GetObject",
            "s3:GetObjectTagging",
            "s3:PutObject",
            "s3:PutObjectTagging",
            "s3:PutObjectAcl",
            "s3:AbortMultipartUpload",
            "kms:GenerateDataKey",
            "kms:Decrypt",
        }
    ),
    PluginOperation.DELETE: frozenset(
        {
            "s3:ListBucket",
            "s3:GetObject",
            "s3:GetObjectTagging",
            "s3:DeleteObject",
            "dynamodb:DeleteBackup",
            "dynamodb:ListBackups",
        }
    ),
    # A restore writes the items with the caller's data-plane permissions, and an import
    # reads the export (under the DR key) and logs to CloudWatch Logs as the caller.
    PluginOperation.RESTORE: frozenset(
        {
            "s3:ListBucket",
            "s3:GetObject",
            "s3:GetObjectTagging",
            "dynamodb:RestoreTableFromBackup",
            "dynamodb:ListBackups",
            "dynamodb:ImportTable",
            "dynamodb:DescribeImport",
            "dynamodb:DescribeTable",
            "dynamodb:ListTagsOfResource",
            "dynamodb:TagResource",
            "dynamodb:UpdateTable",
            "dynamodb:BatchWriteItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "kms:CreateGrant",
            "kms:DescribeKey",
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogGroups",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
            "logs:PutRetentionPolicy",
        }
    ),
    PluginOperation.RESTORE_TO_TIME: frozenset(
        {
            "dynamodb:RestoreTableToPointInTime",
            "dynamodb:DescribeTable",
            "dynamodb:ListTagsOfResource",
            "dynamodb:TagResource",
            "dynamodb:UpdateTable",
            "dynamodb:BatchWriteItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:DescribeContinuousBackups",
            "kms:CreateGrant",
            "kms:DescribeKey",
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
        }
    ),
    PluginOperation.DESCRIBE_RESTORED: frozenset({"dynamodb:DescribeTable", "dynamodb:ListTagsOfResource"}),
    PluginOperation.DELETE_RESTORED: frozenset({"dynamodb:DeleteTable"}),
    PluginOperation.TAG_RESTORED: frozenset({"dynamodb:TagResource"}),
    PluginOperation.CONTINUOUS: frozenset(
        {"dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups"}
    ),
}
