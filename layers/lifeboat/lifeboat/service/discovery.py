"""Which resources Lifeboat protects: listed in the config, or tagged with a policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lifeboat.domain.config import PolicyConfig
from lifeboat.plugins import REGISTRY
from lifeboat.service.deps import Deps


@dataclass
class Inventory:
    """What discovery's pages say of the protected fleet, beside which resources it holds: the
    health check reads it from the same pages, at no extra call."""

    protected: dict[str, str] = field(default_factory=dict)  # ARN -> policy name
    replicas: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ARN -> replica ARNs
    latest_restorable: dict[str, datetime] = field(default_factory=dict)  # ARN -> PITR reaches
    retention_days: dict[str, int] = field(default_factory=dict)  # ARN -> automated backup days
    replicated_to: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ARN -> regions


def protected_resources(config: PolicyConfig, deps: Deps) -> dict[str, str]:
    """ARN -> policy name: resources listed in the config, then those found by tag."""
    return inventory(config, deps).protected


def inventory(config: PolicyConfig, deps: Deps) -> Inventory:
    """``protected_resources``, with the read replicas and the point-in-time restore reach of
    every resource discovery listed."""
    found = Inventory(protected={listed.arn: listed.policy for listed in config.resources})
    for plugin_class in REGISTRY.values():
        for resource in plugin_class(deps.clients).inventory(deps.region, config.tag_key):
            if resource.policy:
                found.protected.setdefault(resource.arn, resource.policy)
            if resource.replicas:
                found.replicas[resource.arn] = resource.replicas
            if resource.latest_restorable is not None:
                found.latest_restorable[resource.arn] = resource.latest_restorable
            if resource.retention_days is not None:
                found.retention_days[resource.arn] = resource.retention_days
            if resource.replicated_to:
                found.replicated_to[resource.arn] = resource.replicated_to
    return found
