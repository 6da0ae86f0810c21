"""RDS in moto, made to answer as AWS does where Lifeboat depends on it.

- moto lacks ``DescribeAccountAttributes``: answer it from moto's own snapshot store, so the
  preflight's quota check runs the same code as on AWS.
- moto finishes a cross-region Aurora cluster snapshot copy at once and has no concurrent-copy
  limit: keep each such copy ``copying`` for its first ``COPY_POLLS`` describes and refuse a
  copy beyond ``AURORA_COPY_LIMIT`` in flight to one region with ``SnapshotQuotaExceeded``, as
  AWS does, so the workflow's Retry is what gets a large fleet's copies through.
- Aurora restores: moto's ``CreateDBCluster`` and both cluster restores silently replace a
  cluster of the same identifier; refuse it with ``DBClusterAlreadyExistsFault`` as AWS does, so
  "never restore over an existing cluster" is tested against the API's answer.
  ``RestoreDBClusterFromSnapshot`` applies only truthy overrides, so ``DeletionProtection=False``
  kept the source's protection; apply it, as AWS does (a drill of a protected cluster must be
  deletable). Both instance restores have the same flaw for ``DeletionProtection=False`` and
  ``PubliclyAccessible=False``: apply those too (a drill of a protected or public instance must
  come up private and deletable).
- ``PromoteReadReplica``: moto keeps the promoted instance's ``ReadReplicaSourceDBInstanceIdentifier``
  and its place in the source's replica list; AWS clears both, which is how a failover sees the
  replica stand alone.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Any
from unittest import mock

__all__ = ["AURORA_COPY_LIMIT", "COPY_POLLS", "patch_rds"]


# AWS: at most 5 concurrent cross-region DB cluster snapshot copies per destination region.
AURORA_COPY_LIMIT = 5
# Describes during which an emulated cross-region cluster copy still reports ``copying``.
COPY_POLLS = 2
_POLLS_LEFT = "_lifeboat_polls_left"
_copy_lock = threading.Lock()


def _describe_account_attributes(self: Any) -> Any:
    from moto.core.responses import ActionResult

    backend = self.backend
    manual = [s for s in backend.database_snapshots.values() if s.snapshot_type == "manual"]
    manual_cluster = [s for s in backend.cluster_snapshots.values() if s.snapshot_type == "manual"]
    return ActionResult(
        {
            "AccountQuotas": [
                {"AccountQuotaName": "ManualSnapshots", "Used": len(manual), "Max": backend.SNAPSHOT_QUOTA},
                {
                    "AccountQuotaName": "ManualClusterSnapshots",
                    "Used": len(manual_cluster),
                    "Max": backend.SNAPSHOT_QUOTA,
                },
            ]
        }
    )


def _limited_cluster_copy(original: Any) -> Any:
    def copy_db_cluster_snapshot(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.rds.exceptions import RDSClientError

        source = str(kwargs.get("source_db_cluster_snapshot_identifier", args[0] if args else ""))
        if not source.startswith("arn:") or f":{self.region_name}:" in source:
            return original(self, *args, **kwargs)
        with _copy_lock:
            copying = [s for s in self.cluster_snapshots.values() if s.status == "copying"]
            if len(copying) >= AURORA_COPY_LIMIT:
                raise RDSClientError(
                    "SnapshotQuotaExceeded",
                    f"{len(copying)} cross-region DB cluster snapshot copies to {self.region_name} "
                    f"are in progress (limit {AURORA_COPY_LIMIT})",
                )
            snapshot = original(self, *args, **kwargs)
            snapshot.status = "copying"
            setattr(snapshot, _POLLS_LEFT, COPY_POLLS)
            return snapshot

    return copy_db_cluster_snapshot


def _unique_cluster_ids(original: Any) -> Any:
    def create_db_cluster(self: Any, kwargs: dict[str, Any]) -> Any:
        from moto.rds.exceptions import RDSClientError

        identifier = str(kwargs["db_cluster_identifier"]).lower()
        if any(existing.lower() == identifier for existing in self.clusters):
            raise RDSClientError("DBClusterAlreadyExistsFault", f"DB cluster {identifier} already exists")
        return original(self, kwargs)

    return create_db_cluster


def _restore_keeps_deletion_protection_off(original: Any) -> Any:
    def restore_db_cluster_from_snapshot(self: Any, from_snapshot_id: str, overrides: dict[str, Any]) -> Any:
        cluster = original(self, from_snapshot_id, overrides)
        if "deletion_protection" in overrides:
            cluster.deletion_protection = bool(overrides["deletion_protection"])
        return cluster

    return restore_db_cluster_from_snapshot


def _instance_restore_keeps_false_overrides(original: Any) -> Any:
    """moto applies only truthy overrides to a restored instance: apply explicit False too."""

    def restore(self: Any, *args: Any) -> Any:
        overrides: dict[str, Any] = args[-1]
        instance = original(self, *args)
        for name in ("deletion_protection", "publicly_accessible"):
            if overrides.get(name) is False:
                setattr(instance, name, False)
        return instance

    return restore


def _progressing_cluster_describe(original: Any) -> Any:
    def describe_db_cluster_snapshots(self: Any, *args: Any, **kwargs: Any) -> Any:
        snapshots = original(self, *args, **kwargs)
        with _copy_lock:
            for snapshot in snapshots:
                left = getattr(snapshot, _POLLS_LEFT, None)
                if left == 0:
                    snapshot.status = "available"
                    delattr(snapshot, _POLLS_LEFT)
                elif left is not None:
                    setattr(snapshot, _POLLS_LEFT, left - 1)
        return snapshots

    return describe_db_cluster_snapshots


def _promotion_detaches(original: Any) -> Any:
    def promote_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
        from moto.rds.models import rds_backends

        database = self.databases[db_kwargs["db_instance_identifier"]]
        source = database.source_db_instance_identifier
        promoted = original(self, db_kwargs)
        if source:
            region = source.split(":")[3] if source.startswith("arn:") else self.region_name
            primary = rds_backends[self.account_id][region].databases.get(source.rsplit(":", 1)[-1])
            name = database.db_instance_arn if region != self.region_name else database.db_instance_identifier
            if primary is not None and name in primary.replicas:
                primary.replicas.remove(name)
            database.source_db_instance_identifier = None
        return promoted

    return promote_read_replica


def patch_rds(stack: ExitStack) -> None:
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse

    for name, wrap in (
        ("copy_db_cluster_snapshot", _limited_cluster_copy),
        ("describe_db_cluster_snapshots", _progressing_cluster_describe),
        ("create_db_cluster", _unique_cluster_ids),
        ("restore_db_cluster_from_snapshot", _restore_keeps_deletion_protection_off),
        ("restore_db_instance_from_db_snapshot", _instance_restore_keeps_false_overrides),
        ("restore_db_instance_to_point_in_time", _instance_restore_keeps_false_overrides),
        ("promote_read_replica", _promotion_detaches),
    ):
        stack.enter_context(mock.patch.object(RDSBackend, name, wrap(getattr(RDSBackend, name))))
    if not hasattr(RDSResponse, "describe_account_attributes"):
        stack.enter_context(
            mock.patch.object(
                RDSResponse, "describe_account_attributes", _describe_account_attributes, create=True
            )
        )
