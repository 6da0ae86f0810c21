"""The registry of resource plugins, keyed by type name and by ARN (service, kind).

A plugin module is imported only when a step needs its type: a handler that snapshots one RDS
instance does not pay for importing the DynamoDB or ElastiCache plugins on a cold start.
Discovery, which needs every type, imports them all. The contract test checks that each entry
below matches its plugin class.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from lifeboat.aws.clients import ClientProvider
from lifeboat.domain.arn import ResourceRef
from lifeboat.errors import UnsupportedOperation
from lifeboat.plugins.base import ResourcePlugin


@dataclass(frozen=True)
class Entry:
    module: str
    cls: str
    arn_service: str
    arn_kind: str


ENTRIES: dict[str, Entry] = {
    "rds_instance": Entry("lifeboat.plugins.rds.instance", "RdsInstancePlugin", "rds", "db"),
    "rds_cluster": Entry("lifeboat.plugins.rds.cluster", "RdsClusterPlugin", "rds", "cluster"),
    "ebs_volume": Entry("lifeboat.plugins.ebs_volume", "EbsVolumePlugin", "ec2", "volume"),
    "dynamodb_table": Entry("lifeboat.plugins.dynamodb.plugin", "DynamoDbTablePlugin", "dynamodb", "table"),
    "elasticache_redis": Entry(
        "lifeboat.plugins.elasticache.plugin", "ElastiCacheRedisPlugin", "elasticache", "replicationgroup"
    ),
}


class _Registry(Mapping[str, type[ResourcePlugin]]):
    """Type name -> plugin class, importing a plugin's module on first use."""

    def __getitem__(self, resource_type: str) -> type[ResourcePlugin]:
        entry = ENTRIES[resource_type]
        plugin: type[ResourcePlugin] = getattr(importlib.import_module(entry.module), entry.cls)
        return plugin

    def __iter__(self) -> Iterator[str]:
        return iter(ENTRIES)

    def __len__(self) -> int:
        return len(ENTRIES)


REGISTRY: Mapping[str, type[ResourcePlugin]] = _Registry()


def plugin_class_for(ref: ResourceRef) -> type[ResourcePlugin]:
    for resource_type, entry in ENTRIES.items():
        if (entry.arn_service, entry.arn_kind) == (ref.service, ref.kind):
            return REGISTRY[resource_type]
    raise UnsupportedOperation(
        f"no resource plugin for {ref.service}:{ref.kind} ({ref.arn}); "
        f"supported types: {', '.join(sorted(ENTRIES))}"
    )


def plugin_for(ref: ResourceRef, clients: ClientProvider) -> ResourcePlugin:
    return plugin_class_for(ref)(clients)
