"""Failover: level-2 checks of a promoted primary before its DNS name moves (plan dataChecks)."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.failover import VerifyStep
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import failover
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    checks = failover.verify(parse(VerifyStep, event), deps_from_env())
    return {"checks": [c.model_dump(mode="json", by_alias=True) for c in checks]}
