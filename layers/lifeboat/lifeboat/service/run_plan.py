"""A backup run's plan, handed to its Distributed Map through the stack's bucket.

Inline, a plan costs about 80 bytes per resource and failed a run of about 3,200 resources at
its first step (Step Functions' 256 KiB payload limit). The planned resources are written as the
Map's items, the whole plan beside them for the CLI, and the payload carries counts only.
"""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.backup import Plan, PlanSummary
from lifeboat.contracts.work_files import LISTED
from lifeboat.service.deps import Deps
from lifeboat.service.work_files import get_json, put_plan, run_prefix


def publish(plan: Plan, deps: Deps, execution_name: str | None) -> PlanSummary:
    """Write the plan's files (none for an empty plan); return what the workflow carries."""
    summary = PlanSummary(
        run_id=plan.run_id,
        tier=plan.tier,
        scheduled_at=plan.scheduled_at,
        resource_count=len(plan.resources),
        skipped_count=len(plan.skipped),
        skipped=plan.skipped[:LISTED],
        items=None,
        plan=None,
        max_concurrency=deps.config().backup_concurrency,
        keys=plan.keys,
        quota_room=plan.quota_room,
    )
    if not plan.resources and not plan.skipped:
        return summary  # an hourly run that no policy keeps calls nothing
    folder = run_prefix("backup", plan.run_id, execution_name)
    document = plan.model_dump(mode="json", by_alias=True, exclude_none=True)
    summary.items, summary.plan = put_plan(deps, folder, document, "resources")
    return summary


def read(summary: PlanSummary, s3: Any) -> Plan:
    """The whole plan of a run, from the run's output (the CLI's and the tests' view)."""
    if summary.plan is None:
        return Plan(
            run_id=summary.run_id,
            tier=summary.tier,
            scheduled_at=summary.scheduled_at,
            resources=[],
            skipped=[],
        )
    return Plan.model_validate(get_json(s3, summary.plan))
