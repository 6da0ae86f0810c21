"""The plan step of restores and drills: a request or drill item, checked and turned into a
plan; nothing is mutated before the operation is opened, last.
"""

from __future__ import annotations

from datetime import datetime

from lifeboat.contracts.restore import (
    DrillItem,
    ExpectedRestore,
    PlanInput,
    RestoreMode,
    RestorePlan,
    RestoreRequest,
)
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.config import PolicyConfig
from lifeboat.domain.network import RestoreNetwork
from lifeboat.domain.operations import Operation, OperationType
from lifeboat.domain.points import ChosenPoint, choose
from lifeboat.domain.policy import Environment, Policy
from lifeboat.domain.restore import (
    Purpose,
    RestoreSpec,
    drill_identifier,
    restore_identifier,
    restore_tags,
)
from lifeboat.errors import (
    InvalidInput,
    ResourceNotFound,
    TargetExists,
    TransientAwsError,
)
from lifeboat.handler import parse
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.plugins import plugin_for
from lifeboat.plugins.base import ResourcePlugin
from lifeboat.service.deps import Deps

# Restore and drill records are compliance evidence ("restore-tested within the window").
EVIDENCE_DAYS = 400


def plan(request: PlanInput, deps: Deps) -> RestorePlan:
    """A restore request or one drill item, checked and turned into a plan; nothing is mutated
    before the last line, which opens the operation."""
    if request.drill is not None:
        return _plan_drill(request.drill, request, deps)
    restore = parse(RestoreRequest, request.request)
    return _plan_restore(restore, request, deps)


def _policy_of(
    config: PolicyConfig, operations: list[Operation], ref: ResourceRef, tags: dict[str, str]
) -> Policy | None:
    """The resource's policy: its config listing or tag, else the one its backups recorded (the
    source may be gone: that is when restores matter most)."""
    listed = next((r.policy for r in config.resources if r.arn == ref.arn), None)
    name = listed or tags.get(config.tag_key) or next((o.policy for o in operations if o.policy), None)
    return config.policies.get(name) if name else None


def _plan_restore(restore: RestoreRequest, request: PlanInput, deps: Deps) -> RestorePlan:
    ref = ResourceRef.parse(restore.resource_arn)
    config = deps.config()
    plugin = plugin_for(ref, deps.clients)
    operations = deps.store.history_of(ref.arn)
    region = restore.target_region or ref.region
    source_network, source_tags = _source_settings(plugin, ref, region)
    policy = _policy_of(config, operations, ref, source_tags)
    if region != ref.region and (policy is None or policy.target(region) is None):
        raise InvalidInput(
            f"{region} is not a DR region of {ref.arn}'s policy; restore into {ref.region} or a DR region"
        )
    requested_at = request.start_time
    target_id = restore.target_identifier or restore_identifier(ref.name, requested_at)
    operation_id = f"restore:{target_id}:{region}:{requested_at:%Y%m%d%H%M}"
    if restore.mode is RestoreMode.POINT_IN_TIME:
        point_id, data_time, reason, expected = _point_in_time(plugin, ref, region, restore, policy)
    else:
        chosen, expected = _recovery_point(
            plugin, operations, ref, region, recovery_point_id=restore.recovery_point_id, now=deps.now()
        )
        point_id, data_time, reason = chosen.recovery_point_id, chosen.taken_at, chosen.reason
    # Deletion protection on a prod restore: a restored production database is production.
    prod = policy is not None and policy.environment is Environment.PROD
    expected = expected.model_copy(update={"deletion_protection": prod})
    spec = RestoreSpec(
        target_id=target_id,
        region=region,
        deletion_protection=prod,
        network=_network(restore.network, source_network, policy, ref, region),
        instance_class=restore.instance_class,
        tags=restore_tags(
            source_tags,
            resource_arn=ref.arn,
            restored_from=point_id or f"{ref.name}@{restore.point_in_time:%Y-%m-%dT%H:%MZ}",
            operation_id=operation_id,
            purpose=Purpose.RESTORE,
        ),
    )
    result = RestorePlan(
        operation_id=operation_id,
        purpose=Purpose.RESTORE,
        resource_arn=ref.arn,
        policy=policy.name if policy else None,
        region=region,
        mode=restore.mode,
        recovery_point_id=point_id,
        point_in_time=restore.point_in_time,
        data_time=data_time,
        reason=reason,
        spec=spec,
        expected=expected,
        data_checks=restore.run_data_checks and ref.arn in config.data_checks,
        requested_at=requested_at,
        execution_id=request.execution_id,
    )
    plugin.ensure_target_free(region, target_id, operation_id)
    _open(deps, result, requested_by=restore.requested_by)
    return result


def _point_in_time(
    plugin: ResourcePlugin, ref: ResourceRef, region: str, restore: RestoreRequest, policy: Policy | None
) -> tuple[None, datetime, str, ExpectedRestore]:
    at = restore.point_in_time
    assert at is not None
    home = region == ref.region
    window = plugin.restore_window_in(ref, region)
    if window is None:
        raise InvalidInput(
            f"{ref.arn} has no point-in-time window (automated backups are off)"
            if home
            else f"no automated backups of {ref.arn} are replicated to {region} (policy "
            "continuousProtection replicates them); restore a recovery point to reach it"
        )
    if not window.earliest <= at <= window.latest:
        raise InvalidInput(
            f"{at:%Y-%m-%dT%H:%M:%SZ} is outside the point-in-time window of {ref.arn} in {region}: "
            f"{window.earliest:%Y-%m-%dT%H:%M:%SZ} to {window.latest:%Y-%m-%dT%H:%M:%SZ}"
        )
    reason = (
        f"point-in-time restore to {at:%Y-%m-%dT%H:%M:%SZ} "
        f"(window {window.earliest:%Y-%m-%d %H:%M}Z to {window.latest:%Y-%m-%d %H:%M}Z"
        f"{'' if home else f', automated backups replicated to {region}'})"
    )
    if home:
        source = plugin.describe_source(ref)
        encrypted, key, engine = source.encrypted, source.kms_key_id, source.engine
    else:  # nothing asked of the source's region, which may be the one that is down
        encrypted, key, engine = bool(window.encrypted), window.kms_key_id, window.engine
    expected = ExpectedRestore(encrypted=encrypted, kms_key_id=key, engine=engine, deletion_protection=False)
    return None, at, reason, expected


def _source_settings(
    plugin: ResourcePlugin, ref: ResourceRef, region: str
) -> tuple[RestoreNetwork, dict[str, str]]:
    """The source's network and tags, or nothing when the source is gone, or when its region does
    not answer and the restore is elsewhere: a DR restore must not wait on the region that is down
    (its network comes from the policy's DR settings; only the source's tags are missed)."""
    try:
        return plugin.restore_defaults(ref)
    except ResourceNotFound:
        return RestoreNetwork(), {}
    except TransientAwsError as exc:
        if region == ref.region:
            raise
        logger.warning(
            "source region not answering: restoring without the source's tags",
            extra={"resource": ref.arn, "region": region, "error": str(exc)},
        )
        return RestoreNetwork(), {}


def _recovery_point(
    plugin: ResourcePlugin,
    operations: list[Operation],
    ref: ResourceRef,
    region: str,
    *,
    recovery_point_id: str | None,
    now: datetime,
) -> tuple[ChosenPoint, ExpectedRestore]:
    """The point to restore (asked for, or the newest valid) and what its restore must show."""
    chosen = choose(
        operations, region=region, source_region=ref.region, recovery_point_id=recovery_point_id, now=now
    )
    facts = plugin.describe_recovery_point(region, chosen.recovery_point_id)
    expected = ExpectedRestore(
        encrypted=facts.encrypted, kms_key_id=facts.kms_key_id, engine=facts.engine, deletion_protection=False
    )
    return chosen, expected


def _network(
    requested: RestoreNetwork | None,
    source: RestoreNetwork,
    policy: Policy | None,
    ref: ResourceRef,
    region: str,
) -> RestoreNetwork:
    """The requested settings over the region's defaults: the source's own in its region, the
    policy's restore network in a DR region (the source's names mean nothing there)."""
    if region == ref.region:
        defaults = source
    else:
        target = policy.target(region) if policy else None
        defaults = target.restore_network if target and target.restore_network else RestoreNetwork()
    return (requested or RestoreNetwork()).over(defaults)


def _plan_drill(item: DrillItem, request: PlanInput, deps: Deps) -> RestorePlan:
    ref = ResourceRef.parse(item.resource_arn)
    config = deps.config()
    policy = config.policy(item.policy)
    plugin = plugin_for(ref, deps.clients)
    operations = deps.store.history_of(ref.arn)
    region = policy.drill_region(ref.region)
    started_at = deps.now()
    target_id = drill_identifier(ref.arn, request.start_time, request.execution_id)
    operation_id = drill_operation_id(target_id, region)
    chosen, expected = _recovery_point(
        plugin, operations, ref, region, recovery_point_id=None, now=started_at
    )
    source_network, source_tags = _source_settings(plugin, ref, region)
    # A drill's temporary instance must never be discovered as a protected resource.
    source_tags.pop(config.tag_key, None)
    spec = RestoreSpec(
        target_id=target_id,
        region=region,
        deletion_protection=False,
        network=_network(policy.drill.network, source_network, policy, ref, region),
        instance_class=policy.drill.instance_class,
        tags=restore_tags(
            source_tags,
            resource_arn=ref.arn,
            restored_from=chosen.recovery_point_id,
            operation_id=operation_id,
            purpose=Purpose.DRILL,
        ),
    )
    result = RestorePlan(
        operation_id=operation_id,
        purpose=Purpose.DRILL,
        resource_arn=ref.arn,
        policy=policy.name,
        region=region,
        mode=RestoreMode.LATEST,
        recovery_point_id=chosen.recovery_point_id,
        data_time=chosen.taken_at,
        reason=chosen.reason,
        spec=spec,
        expected=expected,
        data_checks=ref.arn in config.data_checks,
        requested_at=started_at,
        execution_id=request.execution_id,
    )
    plugin.ensure_target_free(region, target_id, operation_id)
    _open(deps, result, run_id=request.run_id)
    return result


def drill_operation_id(target_id: str, region: str) -> str:
    return f"drill:{target_id}:{region}"


def _open(
    deps: Deps, plan: RestorePlan, *, requested_by: str | None = None, run_id: str | None = None
) -> None:
    kind = OperationType.DRILL if plan.purpose is Purpose.DRILL else OperationType.RESTORE
    operation, created = deps.store.open(
        operation_id=plan.operation_id,
        type=kind,
        resource_arn=plan.resource_arn,
        region=plan.region,
        retain_days=EVIDENCE_DAYS,
        recovery_point_id=plan.recovery_point_id,
        run_id=run_id,
        policy=plan.policy,
        detail=plan.reason,
        details={
            "plan": plan.model_dump(mode="json", by_alias=True),
            "requestedAt": plan.requested_at.isoformat(),
            "requestedBy": requested_by,
        },
    )
    if not created and operation.details.get("plan", {}).get("executionId") != plan.execution_id:
        raise TargetExists(
            f"{plan.spec.target_id} in {plan.region} is already the target of {plan.operation_id} "
            f"({operation.status.value}); choose another target identifier"
        )
    metrics.add_metric(name=f"{plan.purpose.value.capitalize()}sPlanned", unit=MetricUnit.Count, value=1)
    logger.info("restore planned", extra={"operation_id": plan.operation_id, "reason": plan.reason})
