"""ElastiCache in moto, made to answer as AWS does where Lifeboat depends on it.

- moto files replication groups under the Resource Groups Tagging API type
  ``elasticache:replication-group``; AWS's is ``elasticache:replicationgroup``, which discovery
  asks for: report AWS's.
- AWS creates a cache cluster per node of a replication group, and only those clusters report
  the engine version, subnet group, security groups and parameter group
  (``DescribeCacheClusters``); moto only names them: create them from the group's settings.
- moto keeps a deleted replication group ``deleting`` forever, so a drill's teardown (which
  waits until its group is gone) never ends: remove the group and its clusters once the delete
  is answered, as AWS does when it is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from unittest import mock

__all__ = ["patch_elasticache"]


def _tagging_type_of_replication_groups(original: Any) -> Any:
    def iter_tagged_resources(self: Any) -> Iterator[Any]:
        for resource in original(self):
            if resource.resource_type == "elasticache:replication-group":
                resource.resource_type = "elasticache:replicationgroup"
            yield resource

    return iter_tagged_resources


def _replication_group_members(original: Any) -> Any:
    def create_replication_group(self: Any, **kwargs: Any) -> Any:
        import inspect

        from moto.elasticache.models import CacheCluster

        group = original(self, **kwargs)
        unset = {name: None for name in inspect.signature(CacheCluster.__init__).parameters if name != "self"}
        for member in group.member_clusters:
            cluster = CacheCluster(
                **unset
                | {
                    "account_id": self.account_id,
                    "region_name": self.region_name,
                    "cache_cluster_id": member,
                    "replication_group_id": group.replication_group_id,
                    "cache_node_type": group.cache_node_type,
                    "engine": group.engine,
                    "engine_version": group.engine_version,
                    "cache_subnet_group_name": group.cache_subnet_group_name,
                    "transit_encryption_enabled": group.transit_encryption_enabled,
                    "log_delivery_configurations": [],
                }
            )
            cluster.security_groups = [
                {"SecurityGroupId": g, "Status": "active"} for g in group.security_group_ids or []
            ]
            if group.cache_parameter_group_name:
                cluster.cache_parameter_group = {
                    "CacheParameterGroupName": group.cache_parameter_group_name,
                    "ParameterApplyStatus": "in-sync",
                }
            self.cache_clusters[member] = cluster
        return group

    return create_replication_group


def _replication_group_deletion_completes(original: Any) -> Any:
    def delete_replication_group(
        self: Any, replication_group_id: str, retain_primary_cluster: bool | None
    ) -> Any:
        found = self.replication_groups.get(replication_group_id)
        members = list(found.member_clusters) if found else []
        group = original(self, replication_group_id, retain_primary_cluster)
        if not retain_primary_cluster:
            del self.replication_groups[replication_group_id]
            for member in members:
                self.cache_clusters.pop(member, None)
        return group

    return delete_replication_group


def patch_elasticache(stack: ExitStack) -> None:
    from moto.elasticache.models import ElastiCacheBackend

    for name, wrap in (
        ("iter_tagged_resources", _tagging_type_of_replication_groups),
        ("create_replication_group", _replication_group_members),
        ("delete_replication_group", _replication_group_deletion_completes),
    ):
        original = getattr(ElastiCacheBackend, name)
        stack.enter_context(mock.patch.object(ElastiCacheBackend, name, wrap(original)))
