"""Failback of an RDS instance to its own region: replication re-created from the primary the
failover made, then the usual promotion.

The stale old primary still holds the instance's name: it is renamed
``<name>-pre-failover-<yyyymmddhhmm>`` and kept (never deleted; the operator decides), and a new
cross-region read replica of the current primary takes the name back, encrypted with the old
primary's key; once it is available and its lag is under the plan's limit, PromoteSecondary
promotes it and the DNS records move back.
"""

from __future__ import annotations

from lifeboat.aws import replicas
from lifeboat.aws.replica_lag import newest_replica_lags
from lifeboat.contracts.failover import ItemStep
from lifeboat.domain.arn import ResourceRef
from lifeboat.errors import InvalidInput, ResourceNotFound, ResourceNotReady
from lifeboat.observability import logger
from lifeboat.service.deps import Deps

RETAINED_SUFFIX = "-pre-failover-"


def rebuild(step: ItemStep, deps: Deps) -> None:
    """Rename the stale old primary out of the way and create the new replica under its name.
    Idempotent: each call moves one step further and says ResourceNotReady until the replica
    exists (a rename takes a while on AWS)."""
    item = step.item
    if item.current_primary_arn is None or item.replica_arn is None:
        raise InvalidInput(f"{item.resource_arn}: a failback needs currentPrimaryArn and replicaArn")
    home = ResourceRef.parse(item.replica_arn)
    primary = ResourceRef.parse(item.current_primary_arn)
    try:
        here = replicas.describe(deps.clients, home.region, home.name)
    except ResourceNotFound:
        here = None
    if here is not None and here.source_arn == item.current_primary_arn:
        return  # the new replica is there: a retried step
    operation = deps.store.get(item.operation_id)
    details = operation.details if operation else {}
    if here is not None:
        retained = f"{home.name}{RETAINED_SUFFIX}{deps.now():%Y%m%d%H%M}"[:63]
        replicas.rename(deps.clients, home.region, home.name, retained)
        deps.store.record_details(
            item.operation_id, {"retainedOldPrimary": retained, "oldPrimaryKmsKeyId": here.kms_key_id}
        )
        logger.info("stale old primary renamed and kept", extra={"instance": home.arn, "now": retained})
        raise ResourceNotReady(f"{home.arn} renamed to {retained}; the new replica comes next")
    replicas.create_cross_region_replica(
        deps.clients,
        name=home.name,
        region=home.region,
        source_arn=primary.arn,
        kms_key_id=details.get("oldPrimaryKmsKeyId"),
        tags={replicas.FAILOVER_PLAN_TAG: item.plan or ""},
    )
    raise ResourceNotReady(f"replica {home.arn} of {primary.arn} is being created")


def in_sync(step: ItemStep, deps: Deps) -> None:
    """The new replica available and its lag under the plan's limit: promoting it then loses
    nothing the old region's clients wrote. ResourceNotReady until then."""
    item = step.item
    if item.replica_arn is None:
        raise InvalidInput(f"{item.resource_arn}: a failback needs replicaArn")
    home = ResourceRef.parse(item.replica_arn)
    replica = replicas.describe(deps.clients, home.region, home.name)
    if replica.status != "available":
        raise ResourceNotReady(f"replica {home.arn} is {replica.status}")
    reading = newest_replica_lags(deps.clients, [home.arn], deps.now()).readings.get(home.arn)
    limit = item.max_replica_lag_seconds or 0
    if reading is None or reading.seconds < 0 or reading.seconds > limit:
        lag = "unknown" if reading is None else f"{reading.seconds:g} s"
        raise ResourceNotReady(f"replica {home.arn} lags {lag}; promoting it waits for {limit} s or less")
