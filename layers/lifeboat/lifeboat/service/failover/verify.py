"""Level-2 checks of a failover's new primary (a plan's ``dataChecks``): the data the resource's
newest backup held is there, unchanged, before its DNS name moves to it.

Against the newest backup-time profile of the resource (its source region's last SUCCEEDED or
PARTIAL backup): the same schema, the same checksum over the rows that backup held (keys up to
its bound: rows written since do not count), at least as many rows as it had (less its
tolerance), and the canary. A promoted replica is newer than any backup, so equality of row
counts is not asked. A failed check raises ChecksFailed: the resource is FAILED and its DNS name
stays on the old primary; the operator decides.
"""

from __future__ import annotations

from lifeboat.contracts.failover import VerifyStep
from lifeboat.domain.datachecks import DatabaseProfile, checksum_bounds, compare
from lifeboat.domain.operations import OperationStatus, OperationType
from lifeboat.domain.recovery import Check
from lifeboat.errors import ChecksFailed, ConfigError
from lifeboat.observability import MetricUnit, metrics
from lifeboat.service.deps import Deps


def verify(step: VerifyStep, deps: Deps) -> list[Check]:
    """Run the checks, record them on the FAILOVER operation, raise ChecksFailed on a failure."""
    from lifeboat.sqlchecks.connection import connect, credentials
    from lifeboat.sqlchecks.postgres import profile

    item, primary = step.item, step.primary
    config = deps.config().data_checks.get(item.resource_arn)
    if config is None:
        raise ConfigError(
            f"the failover asks for data checks of {item.resource_arn}, which the config has none of"
        )
    baseline = newest_profile(deps, item.resource_arn)
    port = primary.port or 5432
    with connect(primary.endpoint, port, config, credentials(deps.clients, config)) as conn:
        now = profile(conn, config, checksum_bounds(config, baseline))
    checks = [
        _at_least(c, config, baseline, now) if c.name.startswith("row_count:") else c
        for c in compare(config, baseline, now)
    ]
    failed = [c.name for c in checks if not c.passed]
    deps.store.record_details(
        item.operation_id,
        {"checks": [c.model_dump(mode="json", by_alias=True) for c in checks], "failedChecks": failed},
    )
    metrics.add_metric(name="FailoverChecksFailed", unit=MetricUnit.Count, value=len(failed))
    if failed:
        raise ChecksFailed(f"{primary.target_id}: {len(failed)} data check(s) failed: {', '.join(failed)}")
    return checks


def newest_profile(deps: Deps, resource_arn: str) -> DatabaseProfile | None:
    """The backup-time profile of the resource's newest backup with a valid source point."""
    backups = [
        op
        for op in deps.store.history_of(resource_arn)
        if op.type is OperationType.BACKUP
        and op.status in (OperationStatus.SUCCEEDED, OperationStatus.PARTIAL)
        and op.details.get("sourceProfile")
    ]
    newest = max(backups, key=lambda op: op.created_at, default=None)
    return DatabaseProfile.model_validate(newest.details["sourceProfile"]) if newest else None


def _at_least(check: Check, config: object, baseline: DatabaseProfile | None, now: DatabaseProfile) -> Check:
    """A row count no lower than the backup's (less its tolerance): a newer copy may hold more."""
    table = check.name.split(":", 1)[1]
    before = baseline.table(table) if baseline else None
    after = now.table(table)
    if before is None or before.row_count is None or after is None or after.row_count is None:
        return check
    tolerance = next(
        (t.row_count_tolerance_percent for t in getattr(config, "tables", []) if t.name == table), 0.0
    )
    floor = before.row_count * (1 - tolerance / 100)
    return Check(
        name=check.name,
        expected=f">= {before.row_count} (the newest backup's, -{tolerance:g}%)",
        actual=after.row_count,
        passed=after.row_count >= floor,
    )
