"""Expand a scheduled or on-demand run into the protected resources to back up."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.backup import PlanRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import backup, run_plan
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(PlanRequest, event)
    deps = deps_from_env()
    summary = run_plan.publish(backup.plan(request, deps), deps, request.execution_name)
    return summary.model_dump(mode="json", by_alias=True)
