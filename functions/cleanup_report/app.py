"""Report a cleanup run: count every deletion batch's results from the bucket the Map wrote them to."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.cleanup import CleanupReportRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import cleanup_run
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(CleanupReportRequest, event)
    return cleanup_run.report(request, deps_from_env()).model_dump(mode="json", by_alias=True)
