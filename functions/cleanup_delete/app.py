"""Delete one resource's expired recovery points, each re-checked against its snapshot's tags."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.cleanup import DeletionBatch
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import cleanup
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(DeletionBatch, event)
    return cleanup.delete_batch(request, deps_from_env()).model_dump(mode="json", by_alias=True)
