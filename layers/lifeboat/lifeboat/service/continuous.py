"""Continuous protection, turned on and verified at each backup (policy ``continuousProtection``).

A backup's preflight asks the resource's plugin to make its point-in-time recovery what the
policy wants (RDS automated backups and their replication to the DR region, Aurora retention,
DynamoDB PITR). What it changed, or why it could not, goes on the backup operation and in the
log; a failure here never fails the snapshot, which is a recovery point either way. The health
check measures the RPO the mechanism gives.
"""

from __future__ import annotations

from datetime import datetime

from lifeboat.aws import automated_backups
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.continuous import ContinuousFacts, continuous_gaps
from lifeboat.domain.policy import Policy
from lifeboat.errors import LifeboatError, TransientAwsError
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import plugin_class_for, plugin_for
from lifeboat.plugins.base import PluginOperation, ResourcePlugin
from lifeboat.service.deps import Deps
from lifeboat.service.discovery import Inventory

DETAIL = "continuousProtection"


def ensure_continuous(
    plugin: ResourcePlugin, ref: ResourceRef, policy: Policy, deps: Deps, operation_id: str
) -> str | None:
    """Make the resource's continuous protection what ``policy`` asks; what was done, recorded
    on the operation (None when the policy asks for none)."""
    wanted = policy.continuous_protection
    if wanted is None:
        return None
    if PluginOperation.CONTINUOUS in plugin.unsupported:
        verdict = f"not available: {plugin.unsupported[PluginOperation.CONTINUOUS]}"
    else:
        try:
            changes = plugin.ensure_continuous_protection(ref, wanted, policy.automated_backups_region)
        except LifeboatError as exc:
            logger.warning(
                "continuous protection not ensured", extra={"resource": ref.arn, "error": str(exc)}
            )
            metrics.add_metric(name="ContinuousProtectionFailed", unit=MetricUnit.Count, value=1)
            verdict = f"FAILED ({type(exc).__name__}): {exc}"
        else:
            verdict = "; ".join(changes) if changes else "verified"
            if changes:
                logger.info("continuous protection changed", extra={"resource": ref.arn, "changes": changes})
    deps.store.record_details(operation_id, {DETAIL: verdict})
    return verdict


def measure_continuous(
    deps: Deps, monitored: dict[str, Policy], fleet: Inventory
) -> dict[str, tuple[ContinuousFacts, list[str]]]:
    """Per monitored resource: its point-in-time reach per region and the gaps against its
    policy. Discovery's pages give the source region's reach of RDS; one paginated describe per
    region holding replicated automated backups gives theirs; a DynamoDB table under a policy
    asking for continuous protection costs one call (its listing does not say)."""
    replicating = {region for arn in monitored for region in fleet.replicated_to.get(arn, ())}
    try:
        replicated = automated_backups.newest_restorable(deps.clients, replicating)
    except TransientAwsError as exc:
        logger.warning("replicated automated backups unknown", extra={"reason": str(exc)})
        replicated = {}
    measured: dict[str, tuple[ContinuousFacts, list[str]]] = {}
    for arn, policy in monitored.items():
        ref = ResourceRef.parse(arn)
        restorable = {region: at for (source, region), at in replicated.items() if source == arn}
        latest = fleet.latest_restorable.get(arn)
        unsupported = plugin_class_for(ref).unsupported.get(PluginOperation.CONTINUOUS)
        if (
            latest is None
            and policy.continuous_protection
            and not unsupported
            and arn not in fleet.retention_days
        ):
            latest = _asked(deps, ref)
        if latest is not None:
            restorable[ref.region] = latest
        facts = ContinuousFacts(fleet.retention_days.get(arn), fleet.replicated_to.get(arn, ()), restorable)
        measured[arn] = (facts, continuous_gaps(policy, arn, facts, unsupported))
    return measured


def _asked(deps: Deps, ref: ResourceRef) -> datetime | None:
    """The reach of a type whose discovery does not report it; unknown on a transient error."""
    try:
        return plugin_for(ref, deps.clients).latest_restorable(ref)
    except TransientAwsError as exc:
        logger.warning("point-in-time reach unknown", extra={"resource": ref.arn, "reason": str(exc)})
        return None


def table_replicas(deps: Deps, monitored: dict[str, Policy]) -> dict[str, tuple[str, ...]]:
    """The global table replicas of the monitored DynamoDB tables whose policy asks for
    continuous protection (one DescribeTable each); unknown on a transient error."""
    found: dict[str, tuple[str, ...]] = {}
    for arn, policy in monitored.items():
        ref = ResourceRef.parse(arn)
        if ref.service != "dynamodb" or policy.continuous_protection is None:
            continue
        try:
            replicas = plugin_for(ref, deps.clients).global_replicas(ref)
        except TransientAwsError as exc:
            logger.warning("global table replicas unknown", extra={"resource": arn, "reason": str(exc)})
            continue
        if replicas:
            found[arn] = replicas
    return found
