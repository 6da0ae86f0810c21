"""Failover readiness: the verdict per resource in the target region; a dry run stops here."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.failover import ReadinessInput
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import failover
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = failover.readiness(parse(ReadinessInput, event), deps_from_env())
    return result.model_dump(mode="json", by_alias=True)
