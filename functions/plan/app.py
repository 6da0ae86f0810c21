"""Expand a scheduled or on-demand run into the protected resources to back up."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.backup import PlanRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import backup
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(PlanRequest, event)
    # Absent fields stay absent: every byte of a planned resource counts in the run's payload.
    return backup.plan(request, deps_from_env()).model_dump(mode="json", by_alias=True, exclude_none=True)
