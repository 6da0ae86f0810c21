"""Profile a source database at backup time: the baseline its restores are compared with.

A profile that cannot be taken never fails the backup (the snapshot is still a recovery point):
the problem is recorded on the backup operation, counted in a metric, and later drills of that
point report the missing baseline as a failed check.
"""

from __future__ import annotations

from lifeboat.contracts.backup import ProfileResult, StepRequest
from lifeboat.domain.datachecks import checksum_bounds
from lifeboat.errors import ConfigError, DatabaseUnreachable
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.service.deps import Deps


def profile_source(step: StepRequest, deps: Deps) -> ProfileResult:
    from lifeboat.sqlchecks.connection import connect, credentials
    from lifeboat.sqlchecks.postgres import profile

    config = deps.config().data_checks.get(step.resource.arn)
    operation_id = step.preflight.operation_id
    source = step.source
    if config is None:
        return ProfileResult(profiled=False, problem="no data checks configured for this resource")
    try:
        if source.endpoint is None or source.port is None:
            raise DatabaseUnreachable(f"{step.resource.arn} reports no endpoint")
        with connect(source.endpoint, source.port, config, credentials(deps.clients, config)) as conn:
            captured = profile(conn, config, checksum_bounds(config, None))
    except (DatabaseUnreachable, ConfigError) as exc:
        deps.store.record_details(operation_id, {"sourceProfileError": str(exc)})
        metrics.add_metric(name="SourceProfilesFailed", unit=MetricUnit.Count, value=1)
        logger.warning("source not profiled", extra={"operation_id": operation_id, "problem": str(exc)})
        return ProfileResult(profiled=False, problem=str(exc))
    deps.store.record_details(
        operation_id, {"sourceProfile": captured.model_dump(mode="json", by_alias=True)}
    )
    metrics.add_metric(name="SourcesProfiled", unit=MetricUnit.Count, value=1)
    return ProfileResult(profiled=True, schema_objects=captured.schema_objects, tables=len(captured.tables))
