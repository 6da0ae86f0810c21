"""What each operation of the RDS plugins calls: the IAM actions the template grants."""

from __future__ import annotations

from collections.abc import Mapping

from lifeboat.plugins.base import PluginOperation

__all__ = ["CLUSTER_IAM_ACTIONS", "INSTANCE_IAM_ACTIONS"]

INSTANCE_IAM_ACTIONS: Mapping[PluginOperation, frozenset[str]] = {
    PluginOperation.DISCOVER: frozenset({"rds:DescribeDBInstances"}),
    PluginOperation.DESCRIBE_SOURCE: frozenset({"rds:DescribeDBInstances"}),
    PluginOperation.SNAPSHOT_QUOTA: frozenset({"rds:DescribeAccountAttributes"}),
    PluginOperation.CREATE: frozenset({"rds:CreateDBSnapshot", "rds:AddTagsToResource"}),
    PluginOperation.DESCRIBE_RECOVERY_POINT: frozenset({"rds:DescribeDBSnapshots"}),
    PluginOperation.COPY: frozenset({"rds:CopyDBSnapshot", "rds:AddTagsToResource"}),
    PluginOperation.DELETE: frozenset({"rds:DeleteDBSnapshot"}),
    # Restoring an encrypted snapshot makes RDS use its KMS key on the caller's behalf.
    PluginOperation.RESTORE: frozenset(
        {
            "rds:RestoreDBInstanceFromDBSnapshot",
            "rds:AddTagsToResource",
            "kms:CreateGrant",
            "kms:DescribeKey",
        }
    ),
    PluginOperation.RESTORE_TO_TIME: frozenset(
        {
            "rds:RestoreDBInstanceToPointInTime",
            "rds:DescribeDBInstanceAutomatedBackups",  # in a DR region: the replicated backups
            "rds:AddTagsToResource",
            "kms:CreateGrant",
            "kms:DescribeKey",
        }
    ),
    PluginOperation.DESCRIBE_RESTORED: frozenset({"rds:DescribeDBInstances"}),
    PluginOperation.DELETE_RESTORED: frozenset({"rds:DeleteDBInstance"}),
    PluginOperation.TAG_RESTORED: frozenset({"rds:AddTagsToResource"}),
    # Replication is started in the DR region with the DR key, which RDS uses for us.
    PluginOperation.CONTINUOUS: frozenset(
        {
            "rds:DescribeDBInstances",
            "rds:ModifyDBInstance",
            "rds:StartDBInstanceAutomatedBackupsReplication",
            "kms:CreateGrant",
            "kms:DescribeKey",
        }
    ),
}

CLUSTER_IAM_ACTIONS: Mapping[PluginOperation, frozenset[str]] = {
    PluginOperation.DISCOVER: frozenset({"rds:DescribeDBClusters"}),
    PluginOperation.DESCRIBE_SOURCE: frozenset({"rds:DescribeDBClusters"}),
    PluginOperation.SNAPSHOT_QUOTA: frozenset({"rds:DescribeAccountAttributes"}),
    PluginOperation.CREATE: frozenset({"rds:CreateDBClusterSnapshot", "rds:AddTagsToResource"}),
    PluginOperation.DESCRIBE_RECOVERY_POINT: frozenset({"rds:DescribeDBClusterSnapshots"}),
    PluginOperation.COPY: frozenset({"rds:CopyDBClusterSnapshot", "rds:AddTagsToResource"}),
    PluginOperation.DELETE: frozenset({"rds:DeleteDBClusterSnapshot"}),
    # The snapshot names the engine; the source's writer names the instance class; the
    # target is described to resume a retried start. RDS uses the point's KMS key for us.
    PluginOperation.RESTORE: frozenset(
        {
            "rds:DescribeDBClusterSnapshots",
            "rds:DescribeDBClusters",
            "rds:DescribeDBInstances",
            "rds:RestoreDBClusterFromSnapshot",
            "rds:CreateDBInstance",
            "rds:AddTagsToResource",
            "kms:CreateGrant",
            "kms:DescribeKey",
        }
    ),
    PluginOperation.RESTORE_TO_TIME: frozenset(
        {
            "rds:DescribeDBClusters",
            "rds:DescribeDBInstances",
            "rds:RestoreDBClusterToPointInTime",
            "rds:CreateDBInstance",
            "rds:AddTagsToResource",
            "kms:CreateGrant",
            "kms:DescribeKey",
        }
    ),
    PluginOperation.DESCRIBE_RESTORED: frozenset({"rds:DescribeDBClusters", "rds:DescribeDBInstances"}),
    PluginOperation.DELETE_RESTORED: frozenset(
        {"rds:DescribeDBInstances", "rds:DeleteDBInstance", "rds:DeleteDBCluster"}
    ),
    PluginOperation.TAG_RESTORED: frozenset({"rds:AddTagsToResource"}),
    PluginOperation.CONTINUOUS: frozenset({"rds:DescribeDBClusters", "rds:ModifyDBCluster"}),
}
