"""Create (or find) the deterministic recovery point of one resource; the workflow's task resumes
when the point is finished (its completion event, or at once where none will come)."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.backup import AwaitedStep
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import completion
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(AwaitedStep, event)
    return completion.take_snapshot(request, deps_from_env()).model_dump(mode="json", by_alias=True)
