"""The cleanup workflow's two ends: the plan handed to its Distributed Map, and the run's report.

Neither carries the fleet in its payload. The plan writes its deletion batches to the stack's
bucket (the Map reads them with ``ItemReader``) and returns counts and that location; the Map
writes its children's results back (``ResultWriter``), and the report counts them from there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from lifeboat.contracts.cleanup import (
    BatchResult,
    ChunkResult,
    CleanupPlan,
    CleanupPlanRequest,
    CleanupReport,
    CleanupReportRequest,
    DeletionOutcome,
    RefusedDeletion,
)
from lifeboat.contracts.work_files import LISTED, S3Location
from lifeboat.domain.retention import Action
from lifeboat.errors import InvalidInput
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.service.cleanup import chunks, fleet_plan
from lifeboat.service.deps import Deps
from lifeboat.service.work_files import map_outputs, put_json, run_prefix, work_bucket


def plan(request: CleanupPlanRequest, deps: Deps) -> CleanupPlan:
    """Plan the run, write its batches to the stack's bucket, return the counts and where they are."""
    fleet = fleet_plan(request, deps)
    to_write = chunks(fleet)
    decisions = [d for p in fleet.resources for d in p.decisions]
    kept = Counter(d.rule.value for d in decisions if d.action is Action.KEEP)
    deferred = sum(1 for d in decisions if d.action is Action.DEFER)
    to_delete = sum(len(b.deletions) for chunk in to_write for b in chunk.batches)
    items = put_json(
        deps,
        run_prefix("cleanup", fleet.run_id, request.execution_name) + "batches.json",
        [b.model_dump(mode="json", by_alias=True) for b in to_write],
    )
    metrics.add_metric(name="RecoveryPointsExpired", unit=MetricUnit.Count, value=to_delete)
    metrics.add_metric(name="DeletionsDeferred", unit=MetricUnit.Count, value=deferred)
    logger.info(
        "cleanup planned",
        extra={
            "run_id": fleet.run_id,
            "to_delete": to_delete,
            "deferred": deferred,
            "budget": fleet.max_deletions,
            "daily_expiry": fleet.daily_expiry,
            "kept": dict(kept),
        },
    )
    return CleanupPlan(
        run_id=fleet.run_id,
        dry_run=request.request.dry_run,
        max_deletions=fleet.max_deletions,
        daily_expiry=fleet.daily_expiry,
        resources_planned=len(fleet.resources),
        kept_by_rule=dict(sorted(kept.items())),
        to_delete=to_delete,
        deferred=deferred,
        batch_count=len(to_write),
        items=items,
        skipped_count=len(fleet.skipped),
        skipped=fleet.skipped[:LISTED],
    )


def report(request: CleanupReportRequest, deps: Deps) -> CleanupReport:
    """Count every batch's results (from the Map's result files), list the first refusals."""
    plan, manifest = request.plan, request.written.result_writer_details
    if manifest.bucket != work_bucket() or not manifest.key.startswith("cleanup/"):
        raise InvalidInput(f"s3://{manifest.bucket}/{manifest.key}: not this stack's cleanup results")
    outcomes: Counter[DeletionOutcome] = Counter()
    refusals: list[RefusedDeletion] = []
    for batch in _batch_results(deps, manifest.bucket, manifest.key):
        for result in batch.results:
            outcomes[result.outcome] += 1
            if result.outcome is DeletionOutcome.REFUSED and len(refusals) < LISTED:
                refusals.append(RefusedDeletion(resource_arn=batch.resource_arn, **result.model_dump()))
    metrics.add_metric(name="CleanupBacklog", unit=MetricUnit.Count, value=plan.deferred)
    return CleanupReport(
        run_id=plan.run_id,
        max_deletions=plan.max_deletions,
        daily_expiry=plan.daily_expiry,
        to_delete=plan.to_delete,
        deferred=plan.deferred,
        kept_by_rule=plan.kept_by_rule,
        deleted=outcomes[DeletionOutcome.DELETED],
        already_deleted=outcomes[DeletionOutcome.ALREADY_DELETED],
        refused=outcomes[DeletionOutcome.REFUSED],
        refusals=refusals,
        results=S3Location(bucket=manifest.bucket, key=manifest.key),
    )


def _batch_results(deps: Deps, bucket: str, manifest_key: str) -> Iterator[BatchResult]:
    s3 = deps.clients("s3", deps.region)
    for output in map_outputs(s3, S3Location(bucket=bucket, key=manifest_key)):
        yield from ChunkResult.model_validate_json(output).batches
