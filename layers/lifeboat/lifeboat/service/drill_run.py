"""A drill run's plan and results through the stack's bucket, as the backup run's are.

The plan step writes the drills (the Distributed Map's items) and the whole plan; the Map writes
each drill's outcome with ``ResultWriter``. The run's output names both files, so neither the
weekly drill of a large fleet (inline, its plan reached Step Functions' 256 KiB at about 2,300
resources) nor its results ever ride in a payload.
"""

from __future__ import annotations

import json
from typing import Any

from lifeboat.contracts.restore import DrillPlanSummary, DrillRunPlan, DrillRunSummary, SkippedDrill
from lifeboat.contracts.work_files import LISTED, S3Location
from lifeboat.service.deps import Deps
from lifeboat.service.work_files import get_json, map_outputs, put_plan, run_prefix


def publish(plan: DrillRunPlan, deps: Deps, execution_name: str | None) -> DrillPlanSummary:
    """Write the plan's files (none when there is nothing to drill or skip)."""
    summary = DrillPlanSummary(
        run_id=plan.run_id,
        item_count=len(plan.items),
        skipped_count=len(plan.skipped),
        skipped=plan.skipped[:LISTED],
        items=None,
        plan=None,
    )
    if not plan.items and not plan.skipped:
        return summary
    folder = run_prefix("drill", plan.run_id, execution_name)
    document = plan.model_dump(mode="json", by_alias=True)
    summary.items, summary.plan = put_plan(deps, folder, document, "items")
    return summary


def results(summary: DrillRunSummary, s3: Any) -> list[dict[str, Any]]:
    """Every drill's outcome (as RecordDrill returned it), in the order the Map wrote them."""
    if summary.results is None:
        return []
    manifest = S3Location(bucket=summary.results.bucket, key=summary.results.key)
    return [json.loads(output) for output in map_outputs(s3, manifest)]


def skipped(summary: DrillRunSummary, s3: Any) -> list[SkippedDrill]:
    """Every resource the run left out, with why (the output lists the first few)."""
    if summary.plan is None or summary.skipped_count <= len(summary.skipped):
        return summary.skipped
    return DrillRunPlan.model_validate(get_json(s3, summary.plan)).skipped
