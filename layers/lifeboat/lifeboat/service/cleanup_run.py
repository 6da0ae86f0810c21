"""The cleanup workflow's two ends: the plan handed to its Distributed Map, and the run's report.

Neither carries the fleet in its payload. The plan writes its deletion batches to the stack's
bucket (the Map reads them with ``ItemReader``) and returns counts and that location; the Map
writes its children's results back (``ResultWriter``), and the report counts them from there.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

from lifeboat.aws.errors import translated
from lifeboat.contracts.cleanup import (
    LISTED,
    BatchResult,
    CleanupPlan,
    CleanupPlanRequest,
    CleanupReport,
    CleanupReportRequest,
    DeletionOutcome,
    RefusedDeletion,
    S3Location,
)
from lifeboat.domain.retention import Action
from lifeboat.errors import ConfigError, InvalidInput
from lifeboat.observability import MetricUnit, logger, metrics
from lifeboat.service.cleanup import batches, fleet_plan
from lifeboat.service.deps import Deps

BUCKET_ENV = "LIFEBOAT_BUCKET"
# A results file that is not there was named wrong: the Map writes its manifest before this step.
_MISSING: dict[str, type[Exception]] = {"NoSuchKey": InvalidInput, "NoSuchBucket": InvalidInput}


def work_bucket() -> str:
    bucket = os.environ.get(BUCKET_ENV)
    if not bucket:
        raise ConfigError(f"{BUCKET_ENV} is not set: the stack's bucket holds each cleanup run's plan")
    return bucket


def plan(request: CleanupPlanRequest, deps: Deps) -> CleanupPlan:
    """Plan the run, write its batches to the stack's bucket, return the counts and where they are."""
    fleet = fleet_plan(request, deps)
    to_write = batches(fleet)
    decisions = [d for p in fleet.resources for d in p.decisions]
    kept = Counter(d.rule.value for d in decisions if d.action is Action.KEEP)
    deferred = sum(1 for d in decisions if d.action is Action.DEFER)
    to_delete = sum(len(b.deletions) for b in to_write)
    items = S3Location(bucket=work_bucket(), key=f"cleanup/{fleet.run_id}/batches.json")
    body = json.dumps([b.model_dump(mode="json", by_alias=True) for b in to_write]).encode()
    with translated({}, f"writing the cleanup plan to s3://{items.bucket}/{items.key}"):
        deps.clients("s3", deps.region).put_object(
            Bucket=items.bucket, Key=items.key, Body=body, ContentType="application/json"
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
    """Each succeeded child's result, one result file at a time (a failed child fails the Map)."""
    s3 = deps.clients("s3", deps.region)
    manifest = _json(s3, bucket, manifest_key)
    for result_file in manifest.get("ResultFiles", {}).get("SUCCEEDED", []):
        for child in _json(s3, manifest.get("DestinationBucket", bucket), result_file["Key"]):
            yield BatchResult.model_validate_json(child["Output"])


def _json(s3: Any, bucket: str, key: str) -> Any:
    with translated(_MISSING, f"reading s3://{bucket}/{key}"):
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
