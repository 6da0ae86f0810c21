"""Start the copy of a recovery point into one DR region under that region's KMS key."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.backup import StepRequest
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import backup
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(StepRequest, event)
    return backup.replicate(request, deps_from_env()).model_dump(mode="json", by_alias=True)
