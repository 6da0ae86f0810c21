"""Record a backup SUCCEEDED, PARTIAL or FAILED, or one region's copy FAILED, with error and cause."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.backup import OutcomeRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import backup_outcome
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(OutcomeRequest, event)
    return backup_outcome.record_outcome(request, deps_from_env()).model_dump(mode="json", by_alias=True)
