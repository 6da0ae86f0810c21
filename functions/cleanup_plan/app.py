"""Plan a cleanup run: which expired recovery points to delete (written to the stack's bucket)."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.cleanup import CleanupPlanRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import cleanup_run
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(CleanupPlanRequest, event)
    return cleanup_run.plan(request, deps_from_env()).model_dump(mode="json", by_alias=True)
