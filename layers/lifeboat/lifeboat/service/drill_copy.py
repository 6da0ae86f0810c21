"""The replica-promotion drill of failover experiments: a temporary read replica of an instance
in a DR region (the drill copy), promoted as a failover would promote the standing replica.

Steps progress by what AWS reports, each mutation asked once: inject creates the copy;
observing waits until it is available, then promotes it (``promotedAt`` on the operation) and
waits until it stands alone; the recovery time is the promotion's. The rollback deletes the
copy, and only that copy (tagged as this experiment's drill resource), through the teardown
function: production and its standing replicas are never touched.
"""

from __future__ import annotations

from datetime import datetime

from lifeboat.aws import replicas
from lifeboat.contracts.experiments import ExperimentRun, Observed
from lifeboat.contracts.restore import DrillCopyTeardown
from lifeboat.domain.arn import ResourceRef
from lifeboat.domain.experiments import TargetState
from lifeboat.domain.operations import OperationType
from lifeboat.domain.restore import Purpose, restore_tags
from lifeboat.errors import InvalidInput, ResourceNotFound, ResourceNotReady
from lifeboat.plugins import plugin_for
from lifeboat.service.deps import Deps


def create(run: ExperimentRun, deps: Deps) -> str:
    if run.drill_copy is None or run.spec.region is None:
        raise InvalidInput(f"experiment {run.operation_id} names no drill copy and region")
    tags = restore_tags(
        {},
        resource_arn=run.spec.resource_arn,
        restored_from=run.spec.resource_arn,
        operation_id=run.operation_id,
        purpose=Purpose.DRILL,
    )
    # Recorded first: the rollback deletes only the copy its experiment recorded.
    deps.store.record_details(
        run.operation_id, {"drillCopy": {"identifier": run.drill_copy, "region": run.spec.region}}
    )
    replicas.create_cross_region_replica(
        deps.clients,
        name=run.drill_copy,
        region=run.spec.region,
        source_arn=run.spec.resource_arn,
        kms_key_id=run.drill_kms_key_id,
        tags=tags,
    )
    return f"CreateDBInstanceReadReplica {run.drill_copy} in {run.spec.region} (the drill copy)"


def observe(run: ExperimentRun, deps: Deps, injected_at: datetime) -> Observed:
    """Available, then promoted, then standing alone: ResourceNotReady until the last."""
    if run.drill_copy is None or run.spec.region is None:
        raise InvalidInput(f"experiment {run.operation_id} names no drill copy and region")
    try:
        copy = replicas.describe(deps.clients, run.spec.region, run.drill_copy)
    except ResourceNotFound:
        raise ResourceNotReady(f"drill copy {run.drill_copy} is being created") from None
    operation = deps.store.get(run.operation_id)
    promoted_at = (operation.details if operation else {}).get("promotedAt")
    if promoted_at is None:
        if copy.status != "available":
            raise ResourceNotReady(f"drill copy {run.drill_copy} is {copy.status}")
        replicas.promote(deps.clients, copy, run.spec.resource_arn, run.operation_id)
        deps.store.record_details(
            run.operation_id,
            {"promotedAt": deps.now().isoformat(), "copyReadySeconds": _since(injected_at, deps)},
        )
        raise ResourceNotReady(f"drill copy {run.drill_copy} is being promoted")
    if copy.source_arn is not None or copy.status != "available" or not copy.endpoint:
        raise ResourceNotReady(f"drill copy {run.drill_copy} is {copy.status}, still promoting")
    took = _since(datetime.fromisoformat(promoted_at), deps)
    ready = (operation.details if operation else {}).get("copyReadySeconds")
    return Observed(
        after=TargetState(status=copy.status, endpoint=copy.endpoint, opted_in=True),
        recovery_seconds=took,
        seen=f"drill copy {run.drill_copy} in {run.spec.region} promoted in {took:.1f} s "
        f"(created and in sync in {ready:.1f} s)",
    )


def delete(request: DrillCopyTeardown, deps: Deps) -> dict[str, str]:
    """The drill copy deleted (only it: its tags must name this experiment), by the teardown
    function, the one function allowed to delete a DB instance."""
    operation = deps.store.get(request.operation_id)
    if operation is None or operation.type is not OperationType.EXPERIMENT:
        raise InvalidInput(f"no experiment {request.operation_id}: nothing of it to delete")
    recorded = operation.details.get("drillCopy")
    if recorded is None:
        return {"rollback": "none (no drill copy was made)"}
    if recorded != {"identifier": request.identifier, "region": request.region}:
        raise InvalidInput(
            f"experiment {request.operation_id} made {recorded}, not {request.identifier} in {request.region}"
        )
    plugin = plugin_for(ResourceRef.parse(operation.resource_arn), deps.clients)
    state = plugin.teardown(request.region, request.identifier, request.operation_id)
    return {"rollback": f"drill copy {request.identifier} deleted ({state.value})"}


def _since(at: datetime, deps: Deps) -> float:
    return round((deps.now() - at).total_seconds(), 3)
