"""The registry of resource plugins, keyed by type name and by ARN (service, kind)."""

from __future__ import annotations

from lifeboat.aws.clients import ClientProvider
from lifeboat.domain.arn import ResourceRef
from lifeboat.errors import UnsupportedOperation
from lifeboat.plugins.base import ResourcePlugin
from lifeboat.plugins.dynamodb_table import DynamoDbTablePlugin
from lifeboat.plugins.ebs_volume import EbsVolumePlugin
from lifeboat.plugins.elasticache_redis import ElastiCacheRedisPlugin
from lifeboat.plugins.rds_cluster import RdsClusterPlugin
from lifeboat.plugins.rds_instance import RdsInstancePlugin

REGISTRY: dict[str, type[ResourcePlugin]] = {
    plugin.resource_type: plugin
    for plugin in (
        RdsInstancePlugin,
        RdsClusterPlugin,
        EbsVolumePlugin,
        DynamoDbTablePlugin,
        ElastiCacheRedisPlugin,
    )
}


def plugin_class_for(ref: ResourceRef) -> type[ResourcePlugin]:
    for plugin in REGISTRY.values():
        if (plugin.arn_service, plugin.arn_kind) == (ref.service, ref.kind):
            return plugin
    raise UnsupportedOperation(
        f"no resource plugin for {ref.service}:{ref.kind} ({ref.arn}); "
        f"supported types: {', '.join(sorted(REGISTRY))}"
    )


def plugin_for(ref: ResourceRef, clients: ClientProvider) -> ResourcePlugin:
    return plugin_class_for(ref)(clients)
