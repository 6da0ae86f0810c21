"""The promoted replica as a standalone primary, or ResourceNotReady while it is promoting."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.failover import ItemStep
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import failover
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return failover.promoted(parse(ItemStep, event), deps_from_env()).model_dump(mode="json", by_alias=True)
