"""A failover's mutating steps: promote a replica and see it stand alone; move the DNS records of
the resources that came up, and wait until Route 53 serves them everywhere."""

from __future__ import annotations

from collections import defaultdict

from lifeboat.aws import dns, global_clusters, replicas
from lifeboat.contracts.failover import (
    DnsChange,
    DnsResult,
    FailoverItem,
    ItemStep,
    PromotedPrimary,
    SwitchDnsRequest,
)
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.failover import DnsRecord, Mechanism
from lifeboat.domain.operations import OperationStatus
from lifeboat.errors import InvalidInput, ResourceNotReady, RestoreFailed
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.service.deps import Deps

_GLOBAL = frozenset({Mechanism.GLOBAL_SWITCHOVER, Mechanism.GLOBAL_FAILOVER})
# Promotion reboots the instance; these are the states it passes through on the way.
_PROMOTING = frozenset({"modifying", "rebooting", "backing-up", "configuring-enhanced-monitoring"})


def promote(step: ItemStep, deps: Deps) -> None:
    """Make the item's replica the primary: promote a read replica, or move an Aurora Global
    Database's writer to its secondary. Idempotent: what this failover already did is left."""
    item = step.item
    if item.replica_arn is None:
        raise InvalidInput(f"{item.resource_arn}: {item.mechanism} needs replicaArn")
    ref = ResourceRef.parse(item.replica_arn)
    if item.mechanism in _GLOBAL:
        secondary = _secondary(item, deps)
        global_clusters.move_writer(
            deps.clients, secondary, allow_data_loss=item.mechanism is Mechanism.GLOBAL_FAILOVER
        )
    else:
        replica = replicas.describe(deps.clients, ref.region, ref.name)
        replicas.promote(deps.clients, replica, item.resource_arn, item.operation_id)
    deps.store.record_details(item.operation_id, {"promotionRequestedAt": deps.now().isoformat()})
    logger.info("new primary requested", extra={"target": item.replica_arn, "mechanism": item.mechanism})


def promoted(step: ItemStep, deps: Deps) -> PromotedPrimary:
    """The new primary: the promoted replica available and no longer replicating, or the global
    secondary the writer and available. Until then ResourceNotReady (the workflow's Retry)."""
    item = step.item
    assert item.replica_arn is not None
    ref = ResourceRef.parse(item.replica_arn)
    if item.mechanism in _GLOBAL:
        secondary = _secondary(item, deps)
        if not secondary.is_writer or secondary.status != "available" or not secondary.endpoint:
            raise ResourceNotReady(f"{item.replica_arn} is {secondary.status}, writer: {secondary.is_writer}")
        return PromotedPrimary(target_id=ref.name, endpoint=secondary.endpoint, port=secondary.port)
    replica = replicas.describe(deps.clients, ref.region, ref.name)
    still_replica = replica.source_arn is not None
    if (
        still_replica
        or replica.status in _PROMOTING
        or (replica.status == "available" and not replica.endpoint)
    ):
        raise ResourceNotReady(f"{item.replica_arn} is {replica.status}, still promoting")
    if replica.status != "available":
        raise RestoreFailed(f"{item.replica_arn} is {replica.status} after its promotion, not available")
    assert replica.endpoint is not None
    return PromotedPrimary(target_id=replica.identifier, endpoint=replica.endpoint, port=replica.port)


def _secondary(item: FailoverItem, deps: Deps) -> global_clusters.Secondary:
    assert item.replica_arn is not None and item.global_cluster_id is not None
    region = ResourceRef.parse(item.replica_arn).region
    is_writer = global_clusters.writer_is(deps.clients, region, item.global_cluster_id, item.replica_arn)
    return global_clusters.describe(deps.clients, item.global_cluster_id, item.replica_arn, is_writer)


def switch_dns(request: SwitchDnsRequest, deps: Deps) -> DnsResult:
    """Point each record at its resource's new primary: one atomic batch per hosted zone. A record
    whose resource did not come up keeps its value (it names the old primary, which may recover)."""
    endpoints = {
        o.item.resource_arn: o.endpoint
        for o in request.outcomes
        if o.status is OperationStatus.SUCCEEDED and o.endpoint
    }
    by_zone: dict[str, list[tuple[DnsRecord, str]]] = defaultdict(list)
    unchanged = []
    for record in request.plan.dns_records:
        endpoint = endpoints.get(record.resource_arn)
        if endpoint is None:
            unchanged.append(record.fqdn)
        else:
            by_zone[record.zone].append((record, endpoint))
    why = f"Lifeboat failover of {request.plan.plan} to {request.plan.region} ({request.plan.execution_id})"
    changes = []
    for zone, records in sorted(by_zone.items()):
        change_id = dns.upsert_cnames(deps.clients, zone, records, why)
        changes += [DnsChange(record=r.fqdn, value=value, change_id=change_id) for r, value in records]
    metrics.add_metric(name="FailoverDnsRecordsChanged", unit=MetricUnit.Count, value=len(changes))
    return DnsResult(changes=changes, unchanged=unchanged)


def dns_in_sync(result: DnsResult, deps: Deps) -> DnsResult:
    """Every change INSYNC (Route 53's name servers all answer the new values); else
    ResourceNotReady, which the workflow's Retry waits out (about a minute on AWS)."""
    changes = sorted({c.change_id for c in result.changes})
    pending = [c for c in changes if not dns.change_in_sync(deps.clients, c)]
    if pending:
        raise ResourceNotReady(f"Route 53 changes not yet INSYNC: {', '.join(pending)}")
    return result
