"""Which resources Lifeboat protects: listed in the config, or tagged with a policy."""

from __future__ import annotations

from lifeboat.domain.config import PolicyConfig
from lifeboat.plugins import REGISTRY
from lifeboat.service.deps import Deps


def protected_resources(config: PolicyConfig, deps: Deps) -> dict[str, str]:
    """ARN -> policy name: resources listed in the config, then those found by tag."""
    return protected_resources_and_replicas(config, deps)[0]


def protected_resources_and_replicas(
    config: PolicyConfig, deps: Deps
) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """``protected_resources``, and the read replicas of every resource discovery listed (ARN ->
    replica ARNs): the health check reads them from the same pages, at no extra call."""
    found = {listed.arn: listed.policy for listed in config.resources}
    replicas: dict[str, tuple[str, ...]] = {}
    for plugin_class in REGISTRY.values():
        for resource in plugin_class(deps.clients).inventory(deps.region, config.tag_key):
            if resource.policy:
                found.setdefault(resource.arn, resource.policy)
            if resource.replicas:
                replicas[resource.arn] = resource.replicas
    return found, replicas
