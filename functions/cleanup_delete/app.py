"""Delete the expired recovery points of a Map item's resources, each re-checked against the
state table and its snapshot's tags immediately before."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.cleanup import DeletionChunk
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import cleanup
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(DeletionChunk, event)
    return cleanup.delete_chunk(request, deps_from_env()).model_dump(mode="json", by_alias=True)
