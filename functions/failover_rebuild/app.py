"""Failback of an instance: rename its stale old primary (kept) and create the new replica home."""

from __future__ import annotations

from typing import Any

from lifeboat.contracts.failover import ItemStep
from lifeboat.handler import lambda_handler, parse
from lifeboat.service import failover
from lifeboat.service.deps import deps_from_env


@lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse(ItemStep, event)
    failover.rebuild(step, deps_from_env())
    return step.model_dump(mode="json", by_alias=True)
